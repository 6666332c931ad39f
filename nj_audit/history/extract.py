"""What the store keeps of one audit document: entities, their observations and their findings.

Pure functions of the parsed document, so that a document not yet stored (the audit being gated)
can be compared exactly like a stored run. Everything kept is a value printed in the document;
nothing is derived except the pairing of existing counts as numerator and denominator."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from .metrics import CHECK_METRIC, CHECK_PREFIX, FLAG_METRIC, REGRESSION_PREFIX, join_metric

KIND_ORG, KIND_NAME, KIND_DISTRICT = "org_code", "name", "district"
# The forms whose real-time share is the institution's outpatient and discharge rate (SPEC 4).
RATE_FORMS = {"outpatient_rate": "outpatient_visit", "discharge_rate": "inpatient_discharge"}


class Observation(NamedTuple):
    """One value of one series; a tuple because a run holds tens of thousands of them."""

    form: str  # "" for an institution metric
    check: str  # "COLUMN.CHECK" for a check's failures, else ""
    metric: str
    value: float
    numerator: int | None = None
    denominator: int | None = None

    @property
    def name(self) -> str:
        return join_metric(self.form, self.check, self.metric)


class Finding(NamedTuple):
    finding: str  # a flag name, or check:FORM.COLUMN.CHECK
    severity: str
    value: float | None  # the judged metric's value in the same document
    threshold: float | None  # from the document's policy block, when it states one
    message: str | None


@dataclass(frozen=True)
class EntityRecord:
    kind: str  # org_code | name | district
    code: str  # the org_code, else the name
    name: str | None
    district: str | None
    status: str | None
    observations: tuple[Observation, ...]
    findings: tuple[Finding, ...]

    @property
    def key(self) -> tuple[str, str]:
        return self.kind, self.code


@dataclass(frozen=True)
class Parsed:
    scope: str
    period_start: str | None
    period_end: str | None
    period_days: int | None
    window_seconds: int | None
    passed: bool | None
    tool_version: str | None
    entities: tuple[EntityRecord, ...]


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def number(value: Any) -> float | None:
    """A finite JSON number, else None (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def infer_scope(document: dict[str, Any]) -> str:
    """The `--by` of the run: stated by the document, else district when it lists districts."""
    for key in ("scope", "by"):
        if text(document.get(key)):
            return str(document[key])
    if document.get("districts") and not document.get("institutions"):
        return "district"
    return "institution"


def parse(document: dict[str, Any], scope: str | None = None) -> Parsed:
    if not isinstance(document, dict):
        raise ValueError("the audit document is not a JSON object")
    scope = scope or infer_scope(document)
    period, tool = mapping(document.get("period")), mapping(document.get("tool"))
    policy = mapping(document.get("policy"))
    passed = document.get("passed")
    entities: dict[tuple[str, str], EntityRecord] = {}
    for section, district_kind in (("institutions", scope == "district"), ("districts", True)):
        items = document.get(section)
        for item in items if isinstance(items, list) else ():
            record = entity(item, district_kind, policy) if isinstance(item, dict) else None
            if record is not None:
                entities.setdefault(record.key, record)  # a duplicate entry: the first one counts
    return Parsed(
        scope=scope,
        period_start=text(period.get("start")),
        period_end=text(period.get("end")),
        period_days=integer(period.get("days")),
        window_seconds=integer(document.get("window_seconds")),
        passed=passed if isinstance(passed, bool) else None,
        tool_version=text(tool.get("version")),
        entities=tuple(entities.values()),
    )


def entity(item: dict[str, Any], district: bool, policy: dict[str, Any]) -> EntityRecord | None:
    """One institution (or district) entry; None when it has neither org_code nor name."""
    org_code, name = text(item.get("org_code")), text(item.get("name"))
    if org_code is not None and not district:
        kind, code = KIND_ORG, org_code
    elif name is not None:
        kind, code = (KIND_DISTRICT if district else KIND_NAME), name
    else:
        return None
    checks = checks_of(item)
    observations = observations_of(item, checks)
    return EntityRecord(
        kind=kind,
        code=code,
        name=name,
        district=text(item.get("district")),
        status=text(item.get("status")),
        observations=observations,
        findings=findings_of(item, observations, checks, policy),
    )


def observations_of(
    item: dict[str, Any], checks: list[tuple[str, str, int]]
) -> tuple[Observation, ...]:
    forms = mapping(item.get("forms"))
    out: dict[tuple[str, str, str], Observation] = {}  # one observation per series

    def add(
        form: str, check: str, metric: str, value: Any, num: Any = None, den: Any = None
    ) -> None:
        v = number(value)
        if v is not None:
            key = (form, check, metric)
            out.setdefault(key, Observation(form, check, metric, v, integer(num), integer(den)))

    get = item.get
    for metric in ("rows_uploaded", "records", "valid_records", "upload_days"):
        add("", "", metric, get(metric))
    add("", "", "valid_ratio", get("valid_ratio"), get("valid_records"), get("records"))
    add("", "", "upload_day_ratio", get("upload_day_ratio"), get("upload_days"), get("period_days"))
    add("", "", "forms_covered", get("forms_covered"), None, get("forms_required"))
    for metric, form_id in RATE_FORMS.items():
        form = mapping(forms.get(form_id))
        add("", "", metric, get(metric), form.get("realtime_records"), form.get("records"))
    for form_id, counts in forms.items():
        if isinstance(form_id, str) and form_id and isinstance(counts, dict):
            records = counts.get("records")
            add(form_id, "", "rows", counts.get("rows"))
            add(form_id, "", "records", records)
            add(form_id, "", "rate", counts.get("rate"), counts.get("realtime_records"), records)
    for form_id, check, failures in checks:
        add(form_id, check, CHECK_METRIC, failures)
    return tuple(out.values())


def checks_of(item: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(form, "column.check", failures) for the institution's checks that failed at least once."""
    checks = item.get("checks")
    out = []
    for check in checks if isinstance(checks, list) else ():
        if not isinstance(check, dict):
            continue
        failures = integer(check.get("failures"))
        if not failures or failures < 0:
            continue
        form, column, name = (
            text(check.get("form")),
            text(check.get("column")),
            text(check.get("check")),
        )
        if form and column and name:
            out.append((form, f"{column}.{name}", failures))
    return out


SEVERITIES = ("ok", "warn", "fail")


def findings_of(
    item: dict[str, Any],
    observations: tuple[Observation, ...],
    checks: list[tuple[str, str, int]],
    policy: dict[str, Any],
) -> tuple[Finding, ...]:
    """The flags (value = the judged metric, threshold = the policy's), then failed checks."""
    found: dict[str, Finding] = {}
    values: dict[str, float] | None = None
    flags = item.get("flags")
    for flag in flags if isinstance(flags, list) else ():
        flag = mapping(flag)
        name, severity = text(flag.get("flag")), text(flag.get("severity"))
        if name is None or severity is None or severity not in SEVERITIES:
            continue
        metric = FLAG_METRIC.get(name)
        if name.startswith(REGRESSION_PREFIX):
            metric = name[len(REGRESSION_PREFIX) :]
        if metric and values is None:
            values = {o.name: o.value for o in observations if not o.check}
        value = values.get(metric) if metric and values is not None else None
        threshold = policy_threshold(policy, name, severity) if metric else None
        candidate = Finding(name, severity, value, threshold, text(flag.get("message")))
        previous = found.get(name)
        if previous is None or SEVERITIES.index(severity) > SEVERITIES.index(previous.severity):
            found[name] = candidate
    for form, check, failures in checks:
        name = f"{CHECK_PREFIX}{form}.{check}"
        found.setdefault(name, Finding(name, "fail", float(failures), None, None))
    return tuple(found.values())


def policy_threshold(policy: dict[str, Any], flag: str, severity: str) -> float | None:
    """`policy[flag][severity]` (or under `thresholds`), the limit the flag's value fell below."""
    for table in (policy, policy.get("thresholds")):
        entry = table.get(flag) if isinstance(table, dict) else None
        if isinstance(entry, dict):
            return number(entry.get(severity))
    return None
