"""Defects: each invalid row gets exactly one, of the kinds that fit its form (`defect_names`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..codes import gb11643_check_char
from .rows import Rows
from .text import DAY, HOUR, MISSING, format_times
from .vocabulary import COLUMNS, DATE_COLUMNS, PATIENT_FORMS, REQUIRED

_BAD_CODES = {
    "sex_code": "3",
    "visit_type": "3",
    "channel": "6",
    "payment_method": "8",
    "admission_route": "4",
    "discharge_method": "6",
    "order_type": "3",
    "exam_type": "XR",
}
_PATTERNS = (
    "diagnosis_code",
    "admission_diagnosis",
    "primary_diagnosis",
    "procedure_code",
    "residence_code",
)
_NUMBERS = ("quantity", "amount", "total_fee", "self_pay", "sbp", "dbp", "fasting_glucose")
_DERIVED_TIMES = ("sample_time", "exam_time", "admission_time", "start_time", "stop_time")
_ID_CHARS = "0123456789X"


def _required(form: str) -> list[str]:
    return [c for c in COLUMNS[form] if c in REQUIRED[form] and c != "org_code"]


def _with_id(r: Rows, idx: np.ndarray) -> list[str]:
    """The rows' full ID numbers, made present where the row left the optional number out."""
    full = pc.take(r.pool.id_card, pa.array(r.patient[idx])).to_pylist()
    r.override("id_card", idx, full)
    return full


def _d_record_id(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    r.override("record_id", idx, [v[:2] + " " + v[2:] for v in r.values("record_id", idx)])


def _d_missing(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    columns = _required(r.form)
    chosen = rng.choice(len(columns), len(idx))
    for k, column in enumerate(columns):
        rows = idx[chosen == k]
        if column in r.times:
            r.times[column][rows] = MISSING
        else:
            r.override(column, rows, [None] * len(rows))


def _d_time_format(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    columns = [c for c in r.times if c != "stop_time"]
    chosen = rng.choice(len(columns), len(idx))
    for k, column in enumerate(columns):
        rows = idx[chosen == k]
        text = format_times(r.times[column][rows], date_only=column in DATE_COLUMNS).to_pylist()
        r.override(column, rows, [v.replace("-", "/") for v in text])


def _d_id_check(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    shifts = rng.integers(1, 11, len(idx))
    full = _with_id(r, idx)
    r.override(
        "id_card",
        idx,
        [v[:17] + _ID_CHARS[(_ID_CHARS.index(v[17]) + s) % 11] for v, s in zip(full, shifts)],
    )


def _d_id_date(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    bodies = [v[:10] + "13" + v[12:17] for v in _with_id(r, idx)]
    r.override("id_card", idx, [b + gb11643_check_char(b) for b in bodies])


def _d_id_short(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    r.override("id_card", idx, [v[:17] for v in _with_id(r, idx)])


def _d_sex_mismatch(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    r.override("sex_code", idx, ["2" if int(v[16]) % 2 else "1" for v in _with_id(r, idx)])


def _d_birth_mismatch(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    _with_id(r, idx)
    r.times["birth_date"][idx] -= DAY * rng.integers(1, 40, len(idx))


def _d_birth_after_event(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    r.times["birth_date"][idx] = (
        r.times["event_time"][idx] // DAY + rng.integers(1, 400, len(idx))
    ) * DAY
    r.override("id_card", idx, [None] * len(idx))


def _d_code(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    columns = [c for c in COLUMNS[r.form] if c in _BAD_CODES]
    chosen = rng.choice(len(columns), len(idx))
    for k, column in enumerate(columns):
        rows = idx[chosen == k]
        r.override(column, rows, [_BAD_CODES[column]] * len(rows))


def _d_pattern(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    column = next(c for c in COLUMNS[r.form] if c in _PATTERNS)
    values = r.values(column, idx)
    if column == "procedure_code":
        bad = [v + ".1" for v in values]
    elif column == "residence_code":
        bad = [v[:5] for v in values]
    else:
        bad = [v[0].lower() + v[1:] for v in values]
    r.override(column, idx, bad)


def _d_too_long(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    name = rng.random(len(idx)) < (0.5 if "name" in COLUMNS[r.form] else 0.0)
    names = pc.take(r.pool.name, pa.array(r.patient[idx[name]])).to_pylist()
    r.override("name", idx[name], [(v + "（家属代签）") * 5 for v in names])
    depts = r.values("dept_code", idx[~name])
    r.override("dept_code", idx[~name], [v + "-" + "普通内科专家门诊" * 3 for v in depts])


def _d_number_range(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    form = r.form
    if form == "outpatient_prescription":
        zero = rng.random(len(idx)) < 0.5
        r.override("quantity", idx[zero], ["0"] * int(zero.sum()))
        r.override("amount", idx[~zero], ["1250000.00"] * int((~zero).sum()))
    elif form in ("outpatient_settlement", "inpatient_settlement"):
        totals = r.values("total_fee", idx)
        r.override("self_pay", idx, [f"{float(t) + 10:.2f}" for t in totals])
    elif form == "inpatient_discharge":
        r.override("total_fee", idx, [f"-{float(t) + 1:.2f}" for t in r.values("total_fee", idx)])
    elif form == "diabetes_followup":
        r.override("fasting_glucose", idx, rng.choice(["0.60", "42.00", "0"], len(idx)).tolist())
    elif form == "hypertension_followup":
        swap = rng.random(len(idx)) < 0.6
        sbp, dbp = r.values("sbp", idx[swap]), r.values("dbp", idx[swap])
        r.override("sbp", idx[swap], dbp)
        r.override("dbp", idx[swap], sbp)
        r.override("sbp", idx[~swap], ["400"] * int((~swap).sum()))


def _d_number_format(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    column = next(c for c in COLUMNS[r.form] if c in _NUMBERS)
    r.override(column, idx, [v + "元" for v in r.values(column, idx)])


def _d_event_after_upload(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    shift = (
        r.times["upload_time"][idx]
        - r.times["event_time"][idx]
        + rng.integers(HOUR, 6 * HOUR, len(idx))
    )
    for column in ("event_time", *_DERIVED_TIMES):
        if column in r.times:
            values = r.times[column]
            values[idx] = np.where(values[idx] == MISSING, MISSING, values[idx] + shift)


def _d_event_before_2000(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    r.times["event_time"][idx] = int(np.datetime64("1900-01-01", "D").astype(np.int64)) * DAY


def _d_order(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    """The form's own cross-field time rule broken."""
    t, n = r.times, len(idx)
    event = t["event_time"][idx]
    if r.form == "lab_report":
        t["sample_time"][idx] = event + rng.integers(60, 2 * HOUR, n)
    elif r.form == "exam_report":
        t["exam_time"][idx] = event + rng.integers(60, 2 * HOUR, n)
    elif r.form == "inpatient_order":
        t["stop_time"][idx] = event - rng.integers(60, DAY, n)
    elif r.form == "inpatient_discharge":
        long_stay = rng.random(n) < 0.3
        t["admission_time"][idx] = np.where(
            long_stay,
            event - rng.integers(3651, 5000, n) * DAY,
            event + rng.integers(HOUR, 2 * DAY, n),
        )
    elif r.form == "surgery_record":
        too_long = rng.random(n) < 0.5
        t["start_time"][idx] = np.where(
            too_long,
            event - rng.integers(49 * HOUR, 96 * HOUR, n),
            event + rng.integers(60, HOUR, n),
        )


_Defect = Callable[[Rows, np.ndarray, np.random.Generator], None]


def _defects(form: str) -> list[_Defect]:
    columns = COLUMNS[form]
    kinds: list[_Defect] = [_d_record_id, _d_missing, _d_time_format, _d_event_after_upload]
    if "id_card" in columns:
        kinds += [_d_id_check, _d_id_date, _d_id_short]
    if "sex_code" in columns:
        kinds += [_d_sex_mismatch, _d_birth_mismatch]
    if form in PATIENT_FORMS:
        kinds.append(_d_birth_after_event)
    if any(c in _BAD_CODES for c in columns):
        kinds.append(_d_code)
    if any(c in _PATTERNS for c in columns):
        kinds.append(_d_pattern)
    if "dept_code" in columns:
        kinds.append(_d_too_long)
    if any(c in _NUMBERS for c in columns):
        kinds += [_d_number_range, _d_number_format]
    if any(c in _DERIVED_TIMES for c in columns):
        kinds.append(_d_order)
    if form in (
        "outpatient_prescription",
        "outpatient_settlement",
        "inpatient_settlement",
        "hypertension_followup",
        "diabetes_followup",
    ):
        kinds.append(_d_event_before_2000)
    return kinds


def defect_names(form: str) -> list[str]:
    """The kinds of defect the generator puts into rows of `form`."""
    return [kind.__name__.removeprefix("_d_") for kind in _defects(form)]


def spoil(
    r: Rows, idx: np.ndarray, rng: np.random.Generator, skip: frozenset[str] = frozenset()
) -> None:
    """Give each row of `idx` one defect, of a kind drawn from the form's kinds less `skip`."""
    kinds = [kind for kind in _defects(r.form) if kind.__name__.removeprefix("_d_") not in skip]
    chosen = rng.choice(len(kinds), len(idx))
    for k, kind in enumerate(kinds):
        rows = np.sort(idx[chosen == k])
        if len(rows):
            kind(r, rows, rng)
