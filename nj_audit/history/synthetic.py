"""Synthetic audit documents and quickly filled histories, for tests and benchmarks.

The documents have the audit's shape (SPEC section 6) with made-up codes, names and counts; the
numbers drift a little from run to run so that trends, comparisons and regressions have content."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..forms import FORM_IDS, REALTIME_FORM_IDS

if TYPE_CHECKING:
    from .model import RunInfo
    from .store import HistoryStore

DISTRICTS = ("玄武区", "秦淮区", "建邺区", "鼓楼区", "浦口区", "栖霞区", "雨花台区", "江宁区")
COLUMNS = ("id_card", "patient_name", "event_time", "upload_time", "diagnosis_code", "dept_code")
CHECKS = ("not_null", "id_card_checksum", "str_matches", "in_range", "isin")
THRESHOLDS = {
    "coverage": (11, 6),
    "outpatient_rate": (0.9, 0.6),
    "discharge_rate": (0.9, 0.6),
    "upload_days": (0.95, 0.8),
    "validity": (0.99, 0.95),
}
POLICY = {
    "source": "defaults",
    "fail_on": "fail",
    **{k: {"warn": w, "fail": f} for k, (w, f) in THRESHOLDS.items()},
}
START = datetime(2023, 1, 1, 8, 0, tzinfo=UTC)


def org_code(index: int) -> str:
    return f"1232{index:012d}0{'FX'[index % 2]}"


def _flag(name: str, value: float | None, shown: str) -> dict[str, str] | None:
    warn, fail = THRESHOLDS[name]
    if value is None:
        return None
    if value < fail:
        return {"flag": name, "severity": "fail", "message": f"{shown} is below {fail:g}"}
    if value < warn:
        return {"flag": name, "severity": "warn", "message": f"{shown} is below {warn:g}"}
    return None


def institution(
    index: int, run: int, checks: int, rng: random.Random, all_forms: bool = False
) -> dict[str, Any]:
    base = random.Random(index)  # what stays with the institution from run to run
    quality = base.uniform(0.5, 1.0)
    forms: dict[str, Any] = {}
    some = base.random() >= 0.8 and not all_forms  # a fifth upload only some of the forms
    for form in FORM_IDS[: base.randint(1, 13)] if some else FORM_IDS:
        records = max(0, int(base.randint(50, 5000) * rng.uniform(0.8, 1.2)))
        share = min(1.0, max(0.0, quality + rng.uniform(-0.05, 0.05) - 0.001 * run))
        realtime = int(records * share)
        valid = records - rng.randint(0, max(1, records // 50))
        forms[form] = {
            "rows": records + rng.randint(0, 3),
            "records": records,
            "valid_records": valid,
            "realtime_records": realtime,
            "rate": realtime / records if records else None,
        }
    records = sum(f["records"] for f in forms.values())
    valid = sum(f["valid_records"] for f in forms.values())
    upload_days = rng.randint(0, 1)
    covered = sum(1 for f in forms if f in REALTIME_FORM_IDS and forms[f]["records"])
    item: dict[str, Any] = {
        "org_code": org_code(index),
        "name": f"第{index + 1}人民医院",
        "district": DISTRICTS[index % len(DISTRICTS)],
        "rows_uploaded": sum(f["rows"] for f in forms.values()),
        "records": records,
        "valid_records": valid,
        "valid_ratio": valid / records if records else None,
        "upload_days": upload_days,
        "period_days": 1,
        "upload_day_ratio": float(upload_days),
        "forms_covered": covered,
        "forms_required": len(REALTIME_FORM_IDS),
        "outpatient_rate": (forms.get("outpatient_visit") or {}).get("rate"),
        "discharge_rate": (forms.get("inpatient_discharge") or {}).get("rate"),
    }
    flags = [
        _flag("coverage", covered, f"forms covered {covered}/{len(REALTIME_FORM_IDS)}"),
        _flag("outpatient_rate", item["outpatient_rate"], "outpatient rate"),
        _flag("discharge_rate", item["discharge_rate"], "discharge rate"),
        _flag("upload_days", item["upload_day_ratio"], "upload day ratio"),
        _flag("validity", item["valid_ratio"], "valid ratio"),
    ]
    if item["discharge_rate"] is None:
        flags.append({"flag": "no_data", "severity": "warn", "message": "no discharge data"})
    item["flags"] = [f for f in flags if f is not None]
    severities = [f["severity"] for f in item["flags"]]
    item["status"] = "fail" if "fail" in severities else "warn" if severities else "ok"
    item["forms"] = forms
    pool = [(f, c, k) for f in FORM_IDS for c in COLUMNS for k in CHECKS]
    chosen = base.sample(pool, min(checks, len(pool)))
    item["checks"] = [
        {
            "form": f,
            "column": c,
            "check": k,
            "failures": rng.randint(0, 40) if rng.random() < 0.8 else 0,
        }
        for f, c, k in chosen
    ]
    return item


def make_document(
    institutions: int = 20,
    checks: int = 5,
    *,
    run: int = 0,
    seed: int = 0,
    all_forms: bool = False,
) -> dict[str, Any]:
    """Run `run` of a synthetic history: one day's audit of `institutions` institutions, each
    with `checks` check counts (a fifth of them zero) and all 14 forms or, for a fifth of the
    institutions unless `all_forms`, only some."""
    rng = random.Random(seed * 1_000_003 + run)
    day = (date(2023, 1, 1) + timedelta(days=run)).isoformat()
    items = [institution(i, run, checks, rng, all_forms) for i in range(institutions)]
    totals: dict[tuple[str, str, str], int] = {}
    for item in items:
        for c in item["checks"]:
            key = (c["form"], c["column"], c["check"])
            totals[key] = totals.get(key, 0) + c["failures"]
    return {
        "tool": {"name": "nj-audit", "version": "0.2.0"},
        "period": {"start": day, "end": day, "days": 1},
        "window_seconds": 86400,
        "policy": POLICY,
        "passed": all(i["status"] != "fail" for i in items),
        "institutions": items,
        "checks": [
            {"form": f, "column": c, "check": k, "failures": n}
            for (f, c, k), n in sorted(totals.items())
        ],
    }


def render(document: dict[str, Any]) -> str:
    """The text the audit writes: UTF-8 JSON, CJK unescaped, indented."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def fill(
    store: HistoryStore,
    runs: int,
    institutions: int = 20,
    checks: int = 5,
    *,
    seed: int = 0,
    first: int = 0,
    documents: Sequence[dict[str, Any]] | None = None,
    **options: Any,
) -> list[RunInfo]:
    """Append `runs` daily runs (or the given documents), one day apart from 2023-01-01 08:00Z."""
    out = []
    docs = documents or [
        make_document(institutions, checks, run=first + n, seed=seed) for n in range(runs)
    ]
    for n, document in enumerate(docs):
        started = START + timedelta(days=first + n)
        out.append(store.append(render(document), started_at=started, **options))
    return out


def entry(
    org_code: str | None = "12320100466000002F",
    name: str | None = "甲医院",
    district: str | None = "玄武区",
    *,
    flags: Sequence[tuple[str, str]] = (),
    checks: Sequence[tuple[str, str, str, int]] = (),
    **metrics: Any,
) -> dict[str, Any]:
    """One hand-made institution entry; `metrics` override the healthy defaults, and the
    outpatient and discharge forms follow the rates (100 records each)."""
    item: dict[str, Any] = {
        "org_code": org_code,
        "name": name,
        "district": district,
        "rows_uploaded": 200,
        "records": 200,
        "valid_records": 200,
        "valid_ratio": 1.0,
        "upload_days": 31,
        "period_days": 31,
        "upload_day_ratio": 1.0,
        "forms_covered": 11,
        "forms_required": 11,
        "outpatient_rate": 0.95,
        "discharge_rate": 0.95,
    }
    item.update(metrics)
    forms = {}
    for metric, form in (
        ("outpatient_rate", "outpatient_visit"),
        ("discharge_rate", "inpatient_discharge"),
    ):
        rate = item[metric]
        if rate is not None:
            forms[form] = {
                "rows": 100,
                "records": 100,
                "valid_records": 100,
                "realtime_records": round(rate * 100),
                "rate": rate,
            }
    severities = [s for _, s in flags]
    item["status"] = "fail" if "fail" in severities else "warn" if severities else "ok"
    item["flags"] = [{"flag": f, "severity": s, "message": f"{f} is {s}"} for f, s in flags]
    item["forms"] = item.pop("forms", forms)
    item["checks"] = [{"form": f, "column": c, "check": k, "failures": n} for f, c, k, n in checks]
    return item


def document(
    *entries: dict[str, Any],
    start: str = "2022-03-01",
    end: str = "2022-03-31",
    window_seconds: int = 86400,
    **extra: Any,
) -> dict[str, Any]:
    """A hand-made audit document around the given institution entries."""
    days = (date.fromisoformat(end) - date.fromisoformat(start)).days + 1
    return {
        "tool": {"name": "nj-audit", "version": "0.2.0"},
        "period": {"start": start, "end": end, "days": days},
        "window_seconds": window_seconds,
        "policy": POLICY,
        "passed": all(e.get("status") != "fail" for e in entries),
        "institutions": list(entries),
        "checks": [],
        **extra,
    }
