"""The audit's one-line "since last time" verdict, computed before the new run is appended."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .compare import partition
from .extract import parse
from .metrics import REGRESSION_PREFIX
from .model import RunInfo, RunSettings, Snapshot
from .regress import RegressionRules, regressions

if TYPE_CHECKING:
    from .store import HistoryStore


@dataclass(frozen=True)
class SinceSummary:
    """The counts behind the line, so that it can be worded in another language."""

    base: RunInfo | None  # None: no comparable run in the history yet
    new: int = 0
    resolved: int = 0
    persisting: int = 0
    regressions: int = 0

    @property
    def since(self) -> str | None:
        return None if self.base is None else self.base.started_at[:10]

    def text(self) -> str:
        if self.base is None:
            return "no earlier comparable run in the history"
        regressions = "1 regression" if self.regressions == 1 else f"{self.regressions} regressions"
        return (
            f"since {self.since}: {self.new} new, {self.resolved} resolved, "
            f"{self.persisting} persisting findings; {regressions}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "base": None if self.base is None else self.base.to_json(),
            "new": self.new,
            "resolved": self.resolved,
            "persisting": self.persisting,
            "regressions": self.regressions,
        }


def since_previous(
    store: HistoryStore,
    document: dict[str, Any],
    *,
    settings: RunSettings | None = None,
    rules: RegressionRules | None = None,
) -> SinceSummary:
    """Findings against the previous comparable run. Regressions are evaluated with `rules` when
    given; without them, the document's own `regression:*` flags are counted."""
    parsed = parse(document, settings.scope if settings else None)
    settings = settings or RunSettings("audit", parsed.scope, parsed.window_seconds, None, None)
    earlier = store.comparable(settings)
    if not earlier:
        return SinceSummary(None)
    base = earlier[-1]
    head = Snapshot.of(parsed, frozenset())
    parts = partition(store.snapshot(base, frozenset(), findings="brief"), head)
    if rules is not None:
        count = len(regressions(store, document, rules, settings=settings))
    else:
        count = sum(1 for _, name in head.findings if name.startswith(REGRESSION_PREFIX))
    return SinceSummary(base, len(parts.new), len(parts.resolved), len(parts.persisting), count)


def summary_since_previous(
    store: HistoryStore,
    document: dict[str, Any],
    *,
    settings: RunSettings | None = None,
    rules: RegressionRules | None = None,
) -> str:
    """E.g. "since 2023-03-30: 3 new, 5 resolved, 12 persisting findings; 2 regressions"."""
    return since_previous(store, document, settings=settings, rules=rules).text()
