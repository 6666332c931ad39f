"""Recording a run of `audit` or `rank` in the history: the settings that make two runs
comparable, the regression flags judged against the stored runs, and the append.

    recorder = Recorder.begin(path, "audit", policy, scope="institution")  # refuses a bad file now
    result = recorder.judge(result, to_document)   # + regression:* flags, status, gate, `since`
    ...render the report...
    recorder.record(result, render_json(result), inputs=paths)

Nothing is written before `record`, which is one transaction: a run that stops earlier (exit 2)
leaves no trace."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..policy import SEVERITY_RANK, Policy, gate_passes, status_of
from ..results import AuditResult, Flag, InstitutionResult
from .extract import KIND_DISTRICT, KIND_NAME, KIND_ORG
from .model import EntityKey, RunInfo, RunSettings
from .regress import Regression, regressions
from .store import HistoryStore
from .summary import since_previous

DocumentOf = Callable[[AuditResult], dict[str, Any]]
# The policy keys that change what is found (not fail_on, which only changes the verdict; not the
# regression rules, so that adding one still compares with the runs before it).
FINDING_KEYS = (
    "coverage",
    "outpatient_rate",
    "discharge_rate",
    "upload_days",
    "validity",
    "coverage_min_records",
    "form_windows",
)


def _sha256(data: object) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def policy_digest(policy: Policy) -> str:
    """The thresholds, coverage rule and per-form windows (the default window is a setting of
    its own, `window_seconds`)."""
    fields = asdict(policy)
    return _sha256({key: fields[key] for key in FINDING_KEYS})


def schema_digest() -> str:
    """The bytes of every schema file the tool judges rows with."""
    from ..schemas import schema_dir

    files = sorted(schema_dir().glob("*.yaml"))
    return _sha256({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files})


def inputs_digest(paths: Sequence[Path | str]) -> str:
    """Names, sizes and modification times of the input files (not their contents: reading a
    city's year twice to hash it would double the audit)."""
    seen: list[tuple[str, int, int]] = []
    for given in paths:
        path = Path(given)
        if "://" in str(given) or not path.exists():
            seen.append((str(given), -1, -1))
            continue
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file():
                stat = file.stat()
                seen.append((str(file.resolve()), stat.st_size, stat.st_mtime_ns))
    return _sha256(seen)


def entity_key(inst: InstitutionResult, scope: str) -> EntityKey | None:
    """How the history keys a row of the report (as `extract.entity` does for its document)."""
    if inst.org_code and scope != "district":
        return KIND_ORG, inst.org_code
    if inst.name:
        return (KIND_DISTRICT if scope == "district" else KIND_NAME), inst.name
    return None


def with_regressions(result: AuditResult, found: Sequence[Regression], scope: str) -> AuditResult:
    """`result` with one `regression:METRIC` flag per institution and metric (the worst severity
    of its rules, their messages joined), status and gate recomputed. Extra flags can only fail
    the gate, so the new verdict is the old one and the gate on the new statuses."""
    if not found:
        return result
    by_entity: dict[EntityKey, dict[str, list[Regression]]] = {}
    for regression in found:
        metrics = by_entity.setdefault((regression.kind, regression.code), {})
        metrics.setdefault(regression.metric, []).append(regression)
    institutions = []
    for inst in result.institutions:
        key = entity_key(inst, scope)
        found_here = by_entity.get(key) if key is not None else None
        if not found_here:
            institutions.append(inst)
            continue
        added = [
            Flag(
                rules[0].finding,
                max((r.severity for r in rules), key=SEVERITY_RANK.__getitem__),
                "; ".join(r.message for r in rules),
            )
            for rules in found_here.values()
        ]
        flags = [*inst.flags, *added]
        institutions.append(replace(inst, flags=tuple(flags), status=status_of(flags)))
    passed = result.passed and gate_passes([i.status for i in institutions], result.fail_on)
    return replace(result, institutions=tuple(institutions), passed=passed)


@dataclass(frozen=True)
class Recorder:
    """One run on its way into the history file at `path`."""

    path: Path
    command: str  # audit | rank
    settings: RunSettings
    policy: Policy
    label: str | None
    started_at: datetime

    @classmethod
    def begin(
        cls, path: Path, command: str, policy: Policy, scope: str, label: str | None = None
    ) -> Recorder:
        """Open the file once (created, or migrated, or refused with one line) before the run
        spends its time on the inputs."""
        HistoryStore.open(path).close()
        settings = RunSettings(
            command, scope, policy.window_seconds, schema_digest(), policy_digest(policy)
        )
        return cls(path, command, settings, policy, label, datetime.now(UTC))

    def judge(self, result: AuditResult, document_of: DocumentOf) -> AuditResult:
        """The policy's regression rules against the stored comparable runs, then what changed
        since the previous comparable run, as `result.since`."""
        rules = self.policy.regressions
        with HistoryStore.open(self.path) as store:
            if rules is not None and rules.rules:
                found = regressions(store, document_of(result), rules, settings=self.settings)
                result = with_regressions(result, found, self.settings.scope)
            summary = since_previous(store, document_of(result), settings=self.settings)
        return replace(result, since=summary.text())

    def record(
        self,
        result: AuditResult,
        document_text: str,
        exit_code: int | None = None,
        inputs: Sequence[Path | str] = (),
    ) -> RunInfo:
        """Append the run (its JSON document, exactly as `--format json` prints it). The exit
        code defaults to the gate's: a run that could not run (exit 2) is never recorded."""
        from .. import __version__

        if self.command == "rank":
            rows = len(result.institutions)
        else:
            rows = sum(i.rows_uploaded or 0 for i in result.institutions)
        with HistoryStore.open(self.path) as store:
            return store.append(
                document_text,
                command=self.command,
                scope=self.settings.scope,
                label=self.label,
                started_at=self.started_at,
                finished_at=datetime.now(UTC),
                exit_code=(0 if result.passed else 1) if exit_code is None else exit_code,
                tool_version=__version__,
                schema_digest=self.settings.schema_digest,
                policy_digest=self.settings.policy_digest,
                inputs_digest=inputs_digest(inputs),
                rows_read=rows,
            )
