"""One form's rows being built: valid values for every column, and upload and event times."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .people import Patients
from .text import DAY, HOUR, MISSING, as_text, cents, join, pick
from .vocabulary import (
    COLUMNS,
    CONCLUSION_P,
    CONCLUSIONS,
    DEPTS,
    DRUGS,
    EXAM_TYPES,
    INPATIENT_DIAGNOSES,
    LAB_ITEMS,
    LAB_RESULTS,
    ORDER_ITEMS,
    OUTPATIENT_DIAGNOSES,
    PATIENT_FORMS,
    PAYMENT,
    PROCEDURES,
)


@dataclass
class Rows:
    """The rows of one form being built: text columns, times (seconds, MISSING), and what to
    override."""

    form: str
    text: dict[str, pa.Array]
    times: dict[str, np.ndarray]
    patient: np.ndarray  # index into the patient pool
    pool: Patients
    overrides: dict[str, list[tuple[np.ndarray, list[str | None]]]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.patient)

    def take(self, idx: np.ndarray) -> Rows:
        positions = pa.array(idx)
        return Rows(
            self.form,
            {c: pc.take(v, positions) for c, v in self.text.items()},
            {c: v[idx] for c, v in self.times.items()},
            self.patient[idx],
            self.pool,
        )

    def values(self, column: str, idx: np.ndarray) -> list[str]:
        """The values at `idx` (defects are only ever put into present values)."""
        return pc.take(self.text[column], pa.array(idx)).to_pylist()

    def override(self, column: str, idx: np.ndarray, values: Sequence[str | None]) -> None:
        self.overrides.setdefault(column, []).append((np.asarray(idx), list(values)))


# -- times -----------------------------------------------------------------------------------------


def upload_and_event_times(
    rng: np.random.Generator, n: int, realtime: np.ndarray, days: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Upload and event times (seconds): uploads on the given days; real-time rows within 24 h of
    their event (same-day pushes or the nightly batch), late rows 1-10 days after it."""
    day = rng.choice(days, n) * DAY
    upload = day + rng.integers(30 * 60, 23 * HOUR + 30 * 60, n)
    event = upload - rng.integers(DAY + 600, 10 * DAY, n)  # late
    nightly = rng.random(n) < 0.3
    same_tod = rng.integers(7 * HOUR + 30 * 60, 21 * HOUR + 30 * 60, n)
    lag = np.minimum(rng.exponential(1800, n).astype(np.int64) + 30, 23 * HOUR + 58 * 60 - same_tod)
    night_upload = day + rng.integers(30 * 60, 4 * HOUR, n)
    night_event = day - DAY + rng.integers(8 * HOUR, 22 * HOUR, n)
    rt_upload = np.where(nightly, night_upload, day + same_tod + lag)
    rt_event = np.where(nightly, night_event, day + same_tod)
    return np.where(realtime, rt_event, event), np.where(realtime, rt_upload, upload)


def archive_times(
    form: str, rng: np.random.Generator, days: np.ndarray, birth: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Archive forms: 建档日期 years back (never before birth), follow-ups days to weeks back."""
    n = len(birth)
    upload = rng.choice(days, n) * DAY + rng.integers(HOUR, 23 * HOUR, n)
    upload_day = upload // DAY
    if form == "health_record":
        lowest = np.maximum(birth, np.datetime64("2005-01-01", "D").astype(np.int64))
        event_day = lowest + (rng.random(n) * (upload_day - lowest)).astype(np.int64)
        return event_day * DAY, upload
    event_day = upload_day - rng.integers(0, 60, n)
    return np.where(
        event_day == upload_day, upload - rng.integers(10 * 60, HOUR, n), event_day * DAY
    ), upload


# -- values ----------------------------------------------------------------------------------------


def build_rows(
    form: str,
    rng: np.random.Generator,
    who: np.ndarray,
    event: np.ndarray,
    upload: np.ndarray,
    pool: Patients,
    region: str,
) -> Rows:
    """Valid values of every column of `form` for rows of the given patients and times."""
    n = len(who)
    text: dict[str, pa.Array] = {}
    times: dict[str, np.ndarray] = {"event_time": event, "upload_time": upload}
    take = pa.array(who)
    if form in ("health_record", "hypertension_followup", "diabetes_followup"):
        text["id_card"] = pc.take(pool.id_card, take)
    if form in PATIENT_FORMS or form == "health_record":
        if form in PATIENT_FORMS:
            text["id_card"] = pc.if_else(
                pa.array(pool.has_id[who]), pc.take(pool.id_card, take), None
            )
            text["name"] = pc.if_else(pa.array(pool.has_name[who]), pc.take(pool.name, take), None)
        else:
            text["name"] = pc.take(pool.name, take)
        text["sex_code"] = pc.take(pool.sex_code, take)
        times["birth_date"] = pool.birth[who] * DAY
    if "patient_id" in COLUMNS[form]:
        text["patient_id"] = pc.take(pool.patient_id, take)
    visit_no = join("V", as_text(rng.integers(10**10, 10**11, n)))
    admission_no = join("ZY", as_text(rng.integers(10**7, 10**8, n)))
    if form == "outpatient_registration":
        text |= {
            "dept_code": pick(rng, DEPTS, n),
            "visit_type": pick(rng, "12", n, (0.88, 0.12)),
            "channel": pick(rng, "123459", n, (0.45, 0.2, 0.08, 0.12, 0.13, 0.02)),
        }
    elif form == "outpatient_visit":
        text |= {
            "visit_type": pick(rng, "12", n, (0.88, 0.12)),
            "dept_code": pick(rng, DEPTS, n),
            "diagnosis_code": pick(rng, OUTPATIENT_DIAGNOSES, n),
            "doctor_id": join("D", as_text(rng.integers(1, 3000, n), 5)),
        }
    elif form == "outpatient_prescription":
        quantity = np.where(
            rng.random(n) < 0.1, rng.integers(1, 4, n) * 50, rng.integers(1, 10, n) * 100
        )
        text |= {
            "visit_no": visit_no,
            "drug_code": pick(rng, DRUGS, n),
            "quantity": cents(quantity),
            "amount": cents((rng.lognormal(3.5, 1.1, n) * 100).astype(np.int64)),
        }
    elif form in ("outpatient_settlement", "inpatient_settlement"):
        median = 5.0 if form == "outpatient_settlement" else 9.3
        total = (rng.lognormal(median, 0.9, n) * 100).astype(np.int64)
        self_pay = (total * np.where(rng.random(n) < 0.15, 1.0, rng.uniform(0.05, 0.6, n))).astype(
            np.int64
        )
        if form == "outpatient_settlement":
            text["visit_no"] = visit_no
        else:
            text["admission_no"] = admission_no
        text |= {
            "total_fee": cents(total),
            "self_pay": cents(self_pay),
            "payment_method": pick(rng, PAYMENT, n),
        }
    elif form == "lab_report":
        times["sample_time"] = event - rng.integers(20 * 60, 3 * DAY, n)
        text |= {
            "visit_no": visit_no,
            "item_code": pick(rng, LAB_ITEMS, n),
            "result": pick(rng, LAB_RESULTS, n),
        }
    elif form == "exam_report":
        times["exam_time"] = event - rng.integers(10 * 60, 2 * DAY, n)
        text |= {
            "visit_no": visit_no,
            "exam_type": pick(rng, EXAM_TYPES, n),
            "conclusion": pick(rng, CONCLUSIONS, n, CONCLUSION_P),
        }
    elif form == "inpatient_admission":
        text |= {
            "dept_code": pick(rng, DEPTS, n),
            "admission_route": pick(rng, "1239", n, (0.35, 0.55, 0.08, 0.02)),
            "admission_diagnosis": pick(rng, INPATIENT_DIAGNOSES, n),
        }
    elif form == "inpatient_order":
        times["stop_time"] = np.where(
            rng.random(n) < 0.4, event + rng.integers(HOUR, 10 * DAY, n), MISSING
        )
        text |= {
            "admission_no": admission_no,
            "order_type": pick(rng, "12", n, (0.55, 0.45)),
            "order_item": pick(rng, ORDER_ITEMS, n),
        }
    elif form == "inpatient_discharge":
        stay = np.clip(rng.lognormal(np.log(7 * DAY), 0.8, n), 2 * HOUR, 365 * DAY).astype(np.int64)
        stay = np.where(
            rng.random(n) < 0.002, rng.integers(400, 3000, n) * DAY, stay
        )  # long psychiatric stays
        times["admission_time"] = event - stay
        text |= {
            "admission_no": admission_no,
            "dept_code": pick(rng, DEPTS, n),
            "primary_diagnosis": pick(rng, INPATIENT_DIAGNOSES, n),
            "discharge_method": pick(rng, "123459", n, (0.86, 0.04, 0.03, 0.04, 0.01, 0.02)),
            "total_fee": cents((rng.lognormal(9.3, 0.9, n) * 100).astype(np.int64)),
        }
    elif form == "surgery_record":
        times["start_time"] = event - rng.integers(20 * 60, 8 * HOUR, n)
        text |= {
            "admission_no": admission_no,
            "procedure_code": pick(rng, PROCEDURES, n),
            "surgeon_id": join("D", as_text(rng.integers(1, 3000, n), 5)),
            "anesthesia_code": pc.if_else(
                pa.array(rng.random(n) < 0.85), pick(rng, "1234", n), None
            ),
        }
    elif form == "health_record":
        text["residence_code"] = pa.array([region] * n, pa.string())
    elif form == "hypertension_followup":
        sbp = rng.integers(95, 200, n)
        text |= {
            "sbp": as_text(sbp),
            "dbp": as_text(np.minimum(rng.integers(60, 121, n), sbp - 15)),
        }
    elif form == "diabetes_followup":
        text["fasting_glucose"] = cents(rng.integers(38, 160, n) * 10)
    return Rows(form, text, times, who, pool)
