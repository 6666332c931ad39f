"""A small factory of rows: one valid row for each of the 14 forms (SPEC section 3), valid codes
computed with the library's own check-character functions, and a writer for CSV / gz / Parquet.

The column lists below are transcribed from SPEC section 3 (not read from the schemas), so the
schemas are tested against the contract.
"""

from __future__ import annotations

import csv
import gzip
import io
from datetime import date, datetime, timedelta
from pathlib import Path

from nj_audit.checks import gb11643_check_char, gb32100_check_char

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def make_org_code(first17: str = "91320100MA1234567") -> str:
    """A unified social credit code (GB 32100) with a correct check character."""
    assert len(first17) == 17
    return first17 + gb32100_check_char(first17)


def make_id_card(
    birth: str | date = "1985-06-15", sex: str = "1", region: str = "320102", seq: str = "12"
) -> str:
    """A resident ID number (GB 11643): region, YYYYMMDD, sequence, sex digit (odd male), check."""
    born = birth if isinstance(birth, str) else birth.isoformat()
    digit = {"1": "3", "2": "4"}.get(sex, sex)
    first17 = region + born.replace("-", "") + seq + digit
    assert len(first17) == 17 and first17.isdigit(), first17
    return first17 + gb11643_check_char(first17)


def wrong_check_char(code: str, alphabet: str) -> str:
    """The same code with another (wrong) check character."""
    return code[:-1] + next(c for c in alphabet if c != code[-1])


def shift(text: str, **delta: float) -> str:
    """A `YYYY-MM-DD HH:MM:SS` time moved by a timedelta (shift(EVENT, hours=-48))."""
    return (datetime.strptime(text, TIME_FORMAT) + timedelta(**delta)).strftime(TIME_FORMAT)


ORG_CODE = make_org_code()
OTHER_ORG_CODE = make_org_code("12320100466000001")
EVENT = "2022-03-01 10:00:00"
UPLOAD = "2022-03-01 12:00:00"
BIRTH = "1985-06-15"
ID_CARD = make_id_card(BIRTH, "1")  # male: 17th digit odd
FEMALE_ID_CARD = make_id_card(BIRTH, "2")
NAME = "张三"

ENVELOPE = ("org_code", "record_id", "event_time", "upload_time")
PATIENT = ("patient_id", "id_card", "name", "sex_code", "birth_date")

# SPEC section 3, column by column, in the SPEC's order.
SPEC_COLUMNS: dict[str, tuple[str, ...]] = {
    "outpatient_registration": ENVELOPE + PATIENT + ("dept_code", "visit_type", "channel"),
    "outpatient_visit": ENVELOPE
    + PATIENT
    + ("visit_type", "dept_code", "diagnosis_code", "doctor_id"),
    "outpatient_prescription": ENVELOPE
    + ("patient_id", "visit_no", "drug_code", "quantity", "amount"),
    "outpatient_settlement": ENVELOPE
    + ("patient_id", "visit_no", "total_fee", "self_pay", "payment_method"),
    "lab_report": ENVELOPE + ("patient_id", "visit_no", "item_code", "result", "sample_time"),
    "exam_report": ENVELOPE + ("patient_id", "visit_no", "exam_type", "exam_time", "conclusion"),
    "inpatient_admission": ENVELOPE
    + PATIENT
    + ("dept_code", "admission_route", "admission_diagnosis"),
    "inpatient_order": ENVELOPE
    + ("patient_id", "admission_no", "order_type", "order_item", "stop_time"),
    "inpatient_discharge": ENVELOPE
    + PATIENT
    + (
        "admission_no",
        "admission_time",
        "dept_code",
        "primary_diagnosis",
        "discharge_method",
        "total_fee",
    ),
    "inpatient_settlement": ENVELOPE
    + ("patient_id", "admission_no", "total_fee", "self_pay", "payment_method"),
    "surgery_record": ENVELOPE
    + (
        "patient_id",
        "admission_no",
        "procedure_code",
        "start_time",
        "surgeon_id",
        "anesthesia_code",
    ),
    "health_record": ENVELOPE + ("id_card", "name", "sex_code", "birth_date", "residence_code"),
    "hypertension_followup": ENVELOPE + ("id_card", "sbp", "dbp"),
    "diabetes_followup": ENVELOPE + ("id_card", "fasting_glucose"),
}
FORMS: tuple[str, ...] = tuple(SPEC_COLUMNS)
REALTIME_FORMS: tuple[str, ...] = FORMS[:11]
ARCHIVE_FORMS: tuple[str, ...] = FORMS[11:]
P_FORMS = (
    "outpatient_registration",
    "outpatient_visit",
    "inpatient_admission",
    "inpatient_discharge",
)

# Optional columns per SPEC: id_card and name of the patient block, stop_time, anesthesia_code.
# Every column of an archive form is required.
_OPTIONAL_REALTIME = {"id_card", "name", "stop_time", "anesthesia_code"}


def is_required(form: str, column: str) -> bool:
    return form in ARCHIVE_FORMS or column not in _OPTIONAL_REALTIME


PII_COLUMNS = ("id_card", "name")
TIME_COLUMNS = (
    "event_time",
    "upload_time",
    "sample_time",
    "exam_time",
    "admission_time",
    "stop_time",
    "start_time",
)
NUMBER_COLUMNS = ("quantity", "amount", "total_fee", "self_pay", "sbp", "dbp", "fasting_glucose")

_VALUES: dict[str, str] = {
    "org_code": ORG_CODE,
    "record_id": "R0001",
    "event_time": EVENT,
    "upload_time": UPLOAD,
    "patient_id": "P0001",
    "id_card": ID_CARD,
    "name": NAME,
    "sex_code": "1",
    "birth_date": BIRTH,
    "dept_code": "0101",
    "visit_type": "1",
    "channel": "2",
    "diagnosis_code": "J06.900",
    "doctor_id": "D001",
    "visit_no": "V0001",
    "drug_code": "X0001",
    "quantity": "2",
    "amount": "35.50",
    "total_fee": "120.00",
    "self_pay": "30.5",
    "payment_method": "01",
    "item_code": "GLU",
    "result": "5.6",
    "sample_time": "2022-03-01 08:00:00",
    "exam_type": "CT",
    "exam_time": "2022-03-01 09:00:00",
    "conclusion": "未见异常",
    "admission_route": "2",
    "admission_diagnosis": "I10.x00x002",
    "admission_no": "A0001",
    "order_type": "1",
    "order_item": "O0001",
    "stop_time": "2022-03-05 10:00:00",
    "admission_time": "2022-02-20 09:00:00",
    "primary_diagnosis": "J18.900",
    "discharge_method": "1",
    "procedure_code": "36.1001",
    "start_time": "2022-03-01 07:00:00",
    "surgeon_id": "S001",
    "anesthesia_code": "01",
    "residence_code": "320102",
    "sbp": "135",
    "dbp": "85",
    "fasting_glucose": "6.1",
}


def valid_row(form: str, **changes: str) -> dict[str, str]:
    """A row of `form` that passes every rule, with `changes` applied (unknown columns are added)."""
    row = {column: _VALUES[column] for column in SPEC_COLUMNS[form]}
    row.update(changes)
    return row


def numbered_id_card(n: int) -> str:
    """A valid resident ID number (a man born 1990-03-07) that differs with n (mod 50)."""
    first17 = f"320102199003070{(2 * n + 1) % 100:02d}"
    return first17 + gb11643_check_char(first17)


def visit(n: int, **changes: str) -> dict[str, str]:
    """Valid outpatient_visit row number n, with its own record_id, patient_id and id_card (the
    hardening, privacy and fuzz tests build their files from it), with `changes` applied."""
    row = {
        "org_code": ORG_CODE,
        "record_id": f"R{n:05d}",
        "event_time": "2022-03-01 08:00:00",
        "upload_time": "2022-03-01 09:00:00",
        "patient_id": f"P{n}",
        "id_card": numbered_id_card(n),
        "name": "王芳",
        "sex_code": "1",
        "birth_date": "1990-03-07",
        "visit_type": "1",
        "dept_code": "0301",
        "diagnosis_code": "J06.900",
        "doctor_id": "DOC1",
    }
    assert tuple(row) == SPEC_COLUMNS["outpatient_visit"]
    row.update(changes)
    return row


def rows_of(form: str, *changes: dict[str, str]) -> list[dict[str, str]]:
    """Valid rows of `form` with distinct record ids, each with its own changes."""
    return [
        valid_row(form, **{"record_id": f"R{i + 1:04d}", **change})
        for i, change in enumerate(changes)
    ]


def csv_text(
    rows: list[dict[str, str]],
    columns: list[str] | tuple[str, ...] | None = None,
    newline: str = "\n",
) -> str:
    names = list(columns) if columns is not None else list(rows[0])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names, lineterminator=newline, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: row.get(name, "") for name in names})
    return out.getvalue()


def write_csv(
    path: Path,
    rows: list[dict[str, str]],
    columns: list[str] | tuple[str, ...] | None = None,
    *,
    encoding: str = "utf-8",
    newline: str = "\n",
) -> Path:
    """Rows as CSV (`.csv`, or gzip-compressed when the name ends in `.gz`); header first."""
    data = csv_text(rows, columns, newline).encode(encoding)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".gz"):
        with gzip.open(path, "wb") as sink:
            sink.write(data)
    else:
        path.write_bytes(data)
    return path


def write_parquet(path: Path, rows: list[dict[str, str]]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = list(rows[0])
    table = pa.table(
        {name: pa.array([row.get(name) or None for row in rows], pa.string()) for name in names}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path
