"""The frozen values the history library hands out: runs, their settings, and run snapshots."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .extract import KIND_ORG, Finding, Parsed

EntityKey = tuple[str, str]  # (kind, code)

COMMANDS = ("audit", "rank", "import")


@dataclass(frozen=True)
class RunSettings:
    """What must be equal for two runs' numbers to be compared (the period need not be)."""

    command: str
    scope: str
    window_seconds: int | None
    schema_digest: str | None
    policy_digest: str | None

    def differences(self, other: RunSettings) -> tuple[str, ...]:
        """Human names of the settings that differ, empty when comparable."""
        names = (
            ("command", "command"),
            ("scope", "scope (--by)"),
            ("window_seconds", "window"),
            ("schema_digest", "schemas"),
            ("policy_digest", "rules/policy"),
        )
        return tuple(label for attr, label in names if getattr(self, attr) != getattr(other, attr))


@dataclass(frozen=True)
class RunInfo:
    id: int
    uuid: str
    started_at: str
    finished_at: str | None
    command: str
    scope: str
    label: str | None
    period_start: str | None
    period_end: str | None
    period_days: int | None
    window_seconds: int | None
    tool_version: str | None
    schema_digest: str | None
    policy_digest: str | None
    inputs_digest: str | None
    document_digest: str | None
    rows_read: int | None
    exit_code: int | None
    passed: bool | None
    accepted: bool

    @property
    def settings(self) -> RunSettings:
        return RunSettings(
            self.command, self.scope, self.window_seconds, self.schema_digest, self.policy_digest
        )

    @property
    def period(self) -> dict[str, Any] | None:
        if self.period_start is None and self.period_end is None:
            return None
        return {"start": self.period_start, "end": self.period_end, "days": self.period_days}

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "uuid": self.uuid,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "command": self.command,
            "scope": self.scope,
            "label": self.label,
            "period": self.period,
            "window_seconds": self.window_seconds,
            "tool_version": self.tool_version,
            "exit_code": self.exit_code,
            "passed": self.passed,
            "accepted": self.accepted,
        }


@dataclass(frozen=True)
class EntityRef:
    id: int
    kind: str
    code: str
    name: str | None
    district: str | None

    @property
    def key(self) -> EntityKey:
        return self.kind, self.code


@dataclass(frozen=True)
class Label:
    name: str | None
    district: str | None


@dataclass(frozen=True)
class Snapshot:
    """One run's findings and metric values by entity, whether stored or about to be."""

    labels: dict[EntityKey, Label] = field(default_factory=dict)
    values: dict[tuple[EntityKey, str], float] = field(default_factory=dict)
    findings: dict[tuple[EntityKey, str], Finding] = field(default_factory=dict)

    @classmethod
    def of(cls, parsed: Parsed, metrics: frozenset[str] | None = None) -> Snapshot:
        """The snapshot of a parsed document; `metrics` keeps only those stored metric kinds."""
        labels, values, findings = {}, {}, {}
        for record in parsed.entities:
            labels[record.key] = Label(record.name, record.district)
            for obs in record.observations:
                if metrics is None or obs.metric in metrics:
                    values[record.key, obs.name] = obs.value
            for finding in record.findings:
                findings[record.key, finding.finding] = finding
        return cls(labels, values, findings)


def entity_json(key: EntityKey, label: Label | None) -> dict[str, Any]:
    """How an entity appears in machine output: org_code when it has one, and its name."""
    kind, code = key
    name = label.name if label is not None else None
    return {
        "org_code": code if kind == KIND_ORG else None,
        "name": name if kind == KIND_ORG else (name or code),
        "kind": kind,
    }
