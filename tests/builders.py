"""What the tests share, in one helper module (test modules never import each other):

- rows: one valid row for each of the 14 forms (docs/contract.md § 3), valid codes computed with the
  library's own check-character functions, writers for CSV / gz / Parquet. The column lists are
  transcribed from the contract (not read from the schemas), so the schemas are tested against it;
- uploads of a record over time (the metrics, policy and report tests);
- the rule cases: one failing and one passing case per rule (test_rules, test_validate_cli);
- judging a file, golden files and the one-line-error assertion.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from nj_audit.codes import gb11643_check_char, gb32100_check_char
from nj_audit.reading import read_chunks
from nj_audit.rules import judge
from nj_audit.schemas import load_schema

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
GOLDEN = TESTS / "golden"
# A fixed-width, colourless terminal for rendered output.
CLI_ENV = {"COLUMNS": "120", "LINES": "50", "NO_COLOR": "1", "TERM": "dumb", "CI": "1"}

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def display_width(text: str) -> int:
    """The terminal columns `text` takes: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


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

# docs/contract.md § 3, column by column, in the contract's order.
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

# Optional columns per the contract: id_card and name of the patient block, stop_time,
# anesthesia_code.
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
    """A row of `form` that passes every rule, with `changes` applied (unknown columns are
    added)."""
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


# -- uploads of a record over time (the metrics, policy and report tests) ------------------------

VISIT_ORG = "9132010066600000" + "1"
VISIT_ORG = VISIT_ORG + gb32100_check_char(VISIT_ORG)
VISIT_ORG2 = "1232010046600000" + "2"
VISIT_ORG2 = VISIT_ORG2 + gb32100_check_char(VISIT_ORG2)
VISIT_ID17 = "32010219900307123"
VISIT_ID_CARD = VISIT_ID17 + gb11643_check_char(VISIT_ID17)  # born 1990-03-07, 17th digit 3: male

VISIT_COLUMNS = [
    "org_code", "record_id", "event_time", "upload_time", "patient_id", "id_card", "name",
    "sex_code", "birth_date", "visit_type", "dept_code", "diagnosis_code", "doctor_id",
]  # fmt: skip


def timed_visit(
    record_id: str | None, event: str, upload: str, org: str = VISIT_ORG, **changes: str
) -> dict[str, str]:
    row = {
        "org_code": org, "record_id": record_id or "", "event_time": event, "upload_time": upload,
        "patient_id": "P1", "id_card": VISIT_ID_CARD, "name": "张三", "sex_code": "1",
        "birth_date": "1990-03-07", "visit_type": "1", "dept_code": "0101",
        "diagnosis_code": "J06.900", "doctor_id": "D1",
    }  # fmt: skip
    row.update(changes)
    return row


def write_rows(path: Path, rows: list[dict[str, str]], columns: list[str] = VISIT_COLUMNS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


# -- the rule cases -------------------------------------------------------------------------------

Edit = dict[str, str] | Callable[[str], dict[str, str]]


@dataclass(frozen=True)
class Case:
    id: str
    edit: Edit
    expected: frozenset[tuple[str, str]]  # empty: the row is valid
    needs: tuple[str, ...]  # it applies to forms that have all these columns (per the contract)
    forms: tuple[str, ...] | None = None  # further restricted to these forms

    def changes(self, form: str) -> dict[str, str]:
        return self.edit(form) if callable(self.edit) else dict(self.edit)

    def applies(self, form: str) -> bool:
        return set(self.needs) <= set(SPEC_COLUMNS[form]) and (
            self.forms is None or form in self.forms
        )


def bad(
    case_id: str,
    edit: Edit,
    *expected: tuple[str, str],
    needs: tuple[str, ...] | None = None,
    forms=None,
) -> Case:
    assert expected
    keys = tuple(edit) if isinstance(edit, dict) else ()
    return Case(case_id, edit, frozenset(expected), needs if needs is not None else keys, forms)


def ok(case_id: str, edit: Edit, needs: tuple[str, ...] | None = None, forms=None) -> Case:
    keys = tuple(edit) if isinstance(edit, dict) else ()
    return Case(case_id, edit, frozenset(), needs if needs is not None else keys, forms)


def at_event(new_event: str) -> Callable[[str], dict[str, str]]:
    """Move every time of the row by the same amount, so that event_time becomes `new_event`."""
    delta = datetime.strptime(new_event, TIME_FORMAT) - datetime.strptime(EVENT, TIME_FORMAT)

    def edit(form: str) -> dict[str, str]:
        row = valid_row(form)
        return {c: shift(row[c], seconds=delta.total_seconds()) for c in TIME_COLUMNS if c in row}

    return edit


def birth(born: str, sex: str = "1") -> dict[str, str]:
    """birth_date and a matching id_card."""
    return {"birth_date": born, "id_card": make_id_card(born, sex), "sex_code": sex}


def id_card_ending_in_x() -> str:
    for seq in range(100):
        card = make_id_card("1985-06-15", "1", seq=f"{seq:02d}")
        if card.endswith("X"):
            return card
    raise AssertionError("no check character X found")


ORG17 = ORG_CODE[:17]
ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
ID_WRONG_CHECK = wrong_check_char(ID_CARD, "0123456789X")
ID_BAD_DATE = make_id_card("1985-02-30")  # correct check character, 19850230 is not a date

REQUIRED = ("", "required")

CASES: list[Case] = [
    # -- envelope ---------------------------------------------------------------------------
    bad(
        "org_code-wrong-check",
        {"org_code": wrong_check_char(ORG_CODE, ORG_ALPHABET)},
        ("org_code", "gb32100"),
    ),
    bad("org_code-17-chars", {"org_code": ORG17}, ("org_code", "gb32100")),
    bad("org_code-19-chars", {"org_code": ORG_CODE + "1"}, ("org_code", "gb32100")),
    bad(
        "org_code-letter-I",
        {"org_code": "91320100MA123456I" + ORG_CODE[-1]},
        ("org_code", "gb32100"),
    ),
    ok("org_code-other-valid", {"org_code": make_org_code("12320100466000001")}),
    ok("org_code-published-example", {"org_code": "91350100M000100Y43"}),
    ok("record_id-1-char", {"record_id": "R"}),
    ok("record_id-64-chars", {"record_id": "R" * 64}),
    ok("record_id-outer-spaces-trimmed", {"record_id": "  R0002  "}),
    bad("record_id-65-chars", {"record_id": "R" * 65}, ("record_id", "str_length")),
    bad("record_id-inner-space", {"record_id": "R 0002"}, ("record_id", "no_whitespace")),
    bad("record_id-inner-tab", {"record_id": "R\t0002"}, ("record_id", "no_whitespace")),
    ok("event_time-2000-01-01", at_event("2000-01-01 00:00:00"), needs=("event_time",)),
    bad(
        "event_time-1999-12-31",
        at_event("1999-12-31 23:59:59"),
        ("event_time", "not_before_date"),
        needs=("event_time",),
    ),
    ok("event_time-equals-upload", {"upload_time": EVENT}),
    bad(
        "event_time-after-upload",
        {"upload_time": shift(EVENT, seconds=-1)},
        ("event_time", "not_after"),
    ),
    bad(
        "event_time-not-a-date",
        {"event_time": "2022-02-30 10:00:00"},
        ("event_time", "time_format"),
    ),
    bad("event_time-slashes", {"event_time": "2022/03/01 10:00:00"}, ("event_time", "time_format")),
    bad("event_time-hour-25", {"event_time": "2022-03-01 25:00:00"}, ("event_time", "time_format")),
    bad("event_time-text", {"event_time": "yesterday"}, ("event_time", "time_format")),
    bad(
        "upload_time-not-a-date",
        {"upload_time": "2022-13-01 12:00:00"},
        ("upload_time", "time_format"),
    ),
    ok("upload_time-T-separator", {"upload_time": "2022-03-01T12:00:00"}),
    ok("upload_time-offset-+08:00", {"upload_time": "2022-03-01T12:00:00+08:00"}),
    # -- patient block: id_card ---------------------------------------------------------------
    bad("id_card-17-chars", {"id_card": ID_CARD[:17]}, ("id_card", "id_card_format")),
    bad("id_card-19-chars", {"id_card": ID_CARD + "1"}, ("id_card", "id_card_format")),
    bad(
        "id_card-letter-inside",
        {"id_card": ID_CARD[:5] + "A" + ID_CARD[6:]},
        ("id_card", "id_card_format"),
    ),
    bad("id_card-wrong-check", {"id_card": ID_WRONG_CHECK}, ("id_card", "id_card_checksum")),
    bad("id_card-not-a-date", {"id_card": ID_BAD_DATE}, ("id_card", "id_card_birth_date")),
    ok("id_card-check-X", {"id_card": id_card_ending_in_x()}),
    ok(
        "id_card-published-example",
        birth("1949-12-31", "2") | {"id_card": "11010519491231002X"},
        needs=("birth_date",),
    ),
    ok(
        "hypertension-id_card-published-example",
        {"id_card": "11010519491231002X"},
        forms=("hypertension_followup",),
    ),
    # -- patient block: name, sex_code, birth_date ---------------------------------------------
    ok("name-1-char", {"name": "张"}),
    ok("name-30-chars", {"name": "张" * 30}),
    bad("name-31-chars", {"name": "张" * 31}, ("name", "str_length")),
    bad("sex_code-3", {"sex_code": "3"}, ("sex_code", "isin")),
    bad("sex_code-01", {"sex_code": "01"}, ("sex_code", "isin")),
    bad("sex_code-chinese", {"sex_code": "男"}, ("sex_code", "isin")),
    ok("sex_code-0-any-id", {"sex_code": "0"}),
    ok("sex_code-9-any-id", {"sex_code": "9"}),
    ok("sex_code-2-female-id", {"sex_code": "2", "id_card": FEMALE_ID_CARD}),
    ok("birth_date-1900-01-01", birth("1900-01-01")),
    bad("birth_date-1899-12-31", birth("1899-12-31"), ("birth_date", "not_before_date")),
    ok("birth_date-day-of-event", birth("2022-03-01")),
    bad("birth_date-after-event-date", birth("2022-03-02"), ("birth_date", "not_after")),
    bad("birth_date-not-a-date", {"birth_date": "1985-02-30"}, ("birth_date", "time_format")),
    bad("birth_date-dmy", {"birth_date": "15/06/1985"}, ("birth_date", "time_format")),
    # -- patient block: cross-field rules --------------------------------------------------------
    bad(
        "id_card-birth-date-differs",
        {"birth_date": "1985-06-16"},
        ("id_card", "id_card_birth_date_matches"),
    ),
    bad(
        "id_card-invalid-birth-date-differs",
        {"id_card": ID_WRONG_CHECK, "birth_date": "1985-06-16"},
        ("id_card", "id_card_checksum"),
    ),
    bad(
        "id_card-male-sex-2",
        {"sex_code": "2"},
        ("id_card", "id_card_sex_matches"),
        needs=("sex_code", "id_card"),
    ),
    bad(
        "id_card-female-sex-1",
        {"sex_code": "1", "id_card": FEMALE_ID_CARD},
        ("id_card", "id_card_sex_matches"),
    ),
    ok(
        "no-id_card-no-cross-check",
        {"id_card": "", "birth_date": "1970-01-01", "sex_code": "2"},
        forms=P_FORMS,
    ),
    # -- code sets are in the parametrised list below -------------------------------------------
    # -- numbers ----------------------------------------------------------------------------------
    ok("quantity-0.5", {"quantity": "0.5"}),
    ok("quantity-12", {"quantity": "12"}),
    bad("quantity-0", {"quantity": "0"}, ("quantity", "greater_than")),
    bad("quantity-negative", {"quantity": "-1"}, ("quantity", "greater_than")),
    bad("quantity-1e3", {"quantity": "1e3"}, ("quantity", "number_format")),
    bad("quantity-abc", {"quantity": "abc"}, ("quantity", "number_format")),
    bad("quantity-nan", {"quantity": "nan"}, ("quantity", "number_format")),
    bad("quantity-inf", {"quantity": "inf"}, ("quantity", "number_format")),
    bad("quantity-comma", {"quantity": "1,5"}, ("quantity", "number_format")),
    bad("quantity-unit", {"quantity": "2盒"}, ("quantity", "number_format")),
    ok("amount-0", {"amount": "0"}),
    ok("amount-1000000", {"amount": "1000000"}),
    bad("amount-minus-3.5", {"amount": "-3.5"}, ("amount", "in_range")),
    bad("amount-over-1000000", {"amount": "1000000.01"}, ("amount", "in_range")),
    ok("total_fee-0", {"total_fee": "0"}, forms=("inpatient_discharge",)),
    ok("total_fee-0-self_pay-0", {"total_fee": "0", "self_pay": "0"}),
    bad(
        "total_fee-negative",
        {"total_fee": "-0.01"},
        ("total_fee", "greater_than_or_equal_to"),
        forms=("inpatient_discharge",),
    ),
    # a negative total_fee breaks self_pay <= total_fee too, whatever self_pay (>= 0) is
    bad(
        "total_fee-negative-self_pay-0",
        {"total_fee": "-0.01", "self_pay": "0"},
        ("total_fee", "greater_than_or_equal_to"),
        ("self_pay", "not_after"),
    ),
    bad("total_fee-abc", {"total_fee": "abc"}, ("total_fee", "number_format")),
    ok("self_pay-equals-total_fee", {"total_fee": "120", "self_pay": "120.00"}),
    bad("self_pay-negative", {"self_pay": "-1"}, ("self_pay", "greater_than_or_equal_to")),
    bad(
        "self_pay-over-total_fee",
        {"total_fee": "120", "self_pay": "120.01"},
        ("self_pay", "not_after"),
    ),
    bad("self_pay-abc", {"self_pay": "abc"}, ("self_pay", "number_format")),
    # -- report, order, discharge, surgery times -------------------------------------------------
    bad("result-whitespace-only", {"result": "   "}, ("result", "required")),
    ok("result-0", {"result": "0"}),
    ok("sample_time-equals-event", {"sample_time": EVENT}),
    bad(
        "sample_time-after-event",
        {"sample_time": shift(EVENT, seconds=1)},
        ("sample_time", "not_after"),
    ),
    bad(
        "sample_time-not-a-time", {"sample_time": "2022-03-01 8:00"}, ("sample_time", "time_format")
    ),
    ok("exam_time-equals-event", {"exam_time": EVENT}),
    bad(
        "exam_time-after-event", {"exam_time": shift(EVENT, seconds=1)}, ("exam_time", "not_after")
    ),
    ok("stop_time-equals-event", {"stop_time": EVENT}),
    ok("stop_time-missing", {"stop_time": ""}),
    bad(
        "stop_time-before-event",
        {"stop_time": shift(EVENT, seconds=-1)},
        ("stop_time", "not_before"),
    ),
    bad("stop_time-not-a-time", {"stop_time": "soon"}, ("stop_time", "time_format")),
    ok("admission_time-equals-event", {"admission_time": EVENT}),
    bad(
        "admission_time-after-event",
        {"admission_time": shift(EVENT, seconds=1)},
        ("admission_time", "not_after"),
    ),
    ok("stay-3650-days", {"admission_time": shift(EVENT, days=-3650)}),
    bad(
        "stay-over-3650-days",
        {"admission_time": shift(EVENT, days=-3650, seconds=-1)},
        ("admission_time", "at_most_before"),
    ),
    ok("start_time-equals-event", {"start_time": EVENT}),
    ok("start_time-48h-before", {"start_time": shift(EVENT, hours=-48)}),
    bad(
        "start_time-after-event",
        {"start_time": shift(EVENT, seconds=1)},
        ("start_time", "not_after"),
    ),
    bad(
        "start_time-over-48h-before",
        {"start_time": shift(EVENT, hours=-48, seconds=-1)},
        ("start_time", "at_most_before"),
    ),
    ok("anesthesia_code-missing", {"anesthesia_code": ""}),
    # -- dept_code ---------------------------------------------------------------------------------
    ok("dept_code-1-char", {"dept_code": "D"}),
    ok("dept_code-20-chars", {"dept_code": "D" * 20}),
    bad("dept_code-21-chars", {"dept_code": "D" * 21}, ("dept_code", "str_length")),
    # -- archive forms -----------------------------------------------------------------------------
    ok("residence_code-leading-zero", {"residence_code": "010101"}),
    bad("residence_code-5-digits", {"residence_code": "32010"}, ("residence_code", "str_matches")),
    bad(
        "residence_code-7-digits", {"residence_code": "3201020"}, ("residence_code", "str_matches")
    ),
    bad("residence_code-letter", {"residence_code": "32010A"}, ("residence_code", "str_matches")),
    ok("sbp-60-dbp-30", {"sbp": "60", "dbp": "30"}),
    ok("sbp-300-dbp-200", {"sbp": "300", "dbp": "200"}),
    ok("sbp-decimal", {"sbp": "135.5", "dbp": "85.5"}),
    bad("sbp-59", {"sbp": "59", "dbp": "40"}, ("sbp", "in_range")),
    bad("sbp-301", {"sbp": "301"}, ("sbp", "in_range")),
    bad("dbp-29", {"dbp": "29"}, ("dbp", "in_range")),
    bad("dbp-201", {"sbp": "250", "dbp": "201"}, ("dbp", "in_range")),
    bad("sbp-equals-dbp", {"sbp": "120", "dbp": "120"}, ("sbp", "greater_than_column")),
    bad("sbp-below-dbp", {"sbp": "90", "dbp": "100"}, ("sbp", "greater_than_column")),
    bad("sbp-1e2", {"sbp": "1e2"}, ("sbp", "number_format")),
    ok("fasting_glucose-1.0", {"fasting_glucose": "1.0"}),
    ok("fasting_glucose-35.0", {"fasting_glucose": "35.0"}),
    ok("fasting_glucose-35", {"fasting_glucose": "35"}),
    bad("fasting_glucose-0.9", {"fasting_glucose": "0.9"}, ("fasting_glucose", "in_range")),
    bad("fasting_glucose-35.1", {"fasting_glucose": "35.1"}, ("fasting_glucose", "in_range")),
    bad(
        "fasting_glucose-unit",
        {"fasting_glucose": "6.1mmol/L"},
        ("fasting_glucose", "number_format"),
    ),
]

CODE_SETS: dict[str, tuple[list[str], list[str]]] = {
    "visit_type": (["1", "2"], ["0", "3", "01", "门诊"]),
    "channel": (["1", "2", "3", "4", "5", "9"], ["0", "6", "01"]),
    "payment_method": (
        ["01", "02", "03", "04", "05", "06", "07", "08", "99"],
        ["1", "9", "09", "00", "001", "100"],
    ),
    "admission_route": (["1", "2", "3", "9"], ["0", "4", "01"]),
    "discharge_method": (["1", "2", "3", "4", "5", "9"], ["0", "6", "01"]),
    "order_type": (["1", "2"], ["0", "3", "01"]),
    "exam_type": (
        ["CT", "MR", "DR", "CR", "US", "ES", "NM", "XA", "MG", "OT"],
        ["ct", "XR", "C T", "MRI"],
    ),
}
for column, (good, wrong) in CODE_SETS.items():
    CASES += [ok(f"{column}-{value}", {column: value}) for value in good]
    CASES += [bad(f"{column}-{value}", {column: value}, (column, "isin")) for value in wrong]

ICD10_GOOD = ["J06.900", "I10.x00x002", "I10", "A01.1", "K35.8x01", "E11.9"]
ICD10_BAD = [
    "j06.900",
    "J06.",
    "J6.9",
    "J06.90001",
    "J06-900",
    "I10.x00x02",
    "1J06.9",
    "J06.9 00",
    "J06.9000x01",
]
ICD9_GOOD = ["36.1001", "36.10x001", "36", "01.2", "47.0x00"]
ICD9_BAD = ["361", "A6.1", "36.", "36-10", "36.10001", "J06.900"]
for column in ("diagnosis_code", "admission_diagnosis", "primary_diagnosis"):
    CASES += [ok(f"{column}-{value}", {column: value}) for value in ICD10_GOOD]
    CASES += [
        bad(f"{column}-{value}", {column: value}, (column, "str_matches")) for value in ICD10_BAD
    ]
CASES += [ok(f"procedure_code-{value}", {"procedure_code": value}) for value in ICD9_GOOD]
CASES += [
    bad(f"procedure_code-{value}", {"procedure_code": value}, ("procedure_code", "str_matches"))
    for value in ICD9_BAD
]


# -- judging, golden files, errors -----------------------------------------------------------------


@dataclass
class Judged:
    """Every row of one file judged: per row (0-based, file order) validity, line, failures."""

    valid: list[bool]
    lines: list[int]
    failures: set[tuple[str, str, int]]  # (column, check, row)
    frames: list  # the chunks' text frames
    typed: list  # the verdicts' typed frames

    def of_row(self, row: int) -> set[tuple[str, str]]:
        return {(column, check) for column, check, r in self.failures if r == row}


def judge_file(
    path: Path, form: str, encoding: str | None = None, chunk_rows: int | None = None
) -> Judged:
    spec = load_schema(form)
    valid: list[bool] = []
    lines: list[int] = []
    failures: set[tuple[str, str, int]] = set()
    frames, typed = [], []
    offset = 0
    kwargs = {"chunk_rows": chunk_rows} if chunk_rows else {}
    for chunk in read_chunks(path, encoding, **kwargs):
        verdict = judge(chunk, spec)
        for failure in verdict.failures:
            for row in np.asarray(failure.rows).tolist():
                failures.add((failure.column, failure.check, offset + int(row)))
        valid.extend(bool(v) for v in verdict.valid)
        lines.extend(int(x) for x in chunk.lines)
        frames.append(chunk.frame)
        typed.append(verdict.typed)
        offset += len(chunk.frame)
    return Judged(valid, lines, failures, frames, typed)


def check_golden(name: str, text: str) -> None:
    """Compare with tests/golden/NAME; with UPDATE_GOLDEN=1 in the environment, rewrite it."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run the tests once with UPDATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, (
        f"{name} differs from the golden file (UPDATE_GOLDEN=1 to accept the new output)"
    )


def assert_one_line_error(stderr: str, *needles: str) -> None:
    """docs/contract.md § 6: a one-line message on stderr naming the file, never a traceback."""
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def check_golden_json(name: str, text: str) -> None:
    """A JSON golden file, compared as data (key order and spacing aside); with UPDATE_GOLDEN=1,
    rewritten."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run the tests once with UPDATE_GOLDEN=1"
    assert json.loads(text) == json.loads(path.read_text(encoding="utf-8")), (
        f"{name} differs from the golden file (UPDATE_GOLDEN=1 to accept the new output)"
    )


def random_states(rng: np.random.Generator, count: int, keys: int, start: int = 0):  # type: ignore[no-untyped-def]
    """`count` per-record states of 3 institutions and 3 forms (a real-time one and two archive
    forms), record keys drawn from `keys` values (so that many records have several states:
    corrections), uploads from a few days and sometimes missing, rows in order from `start`;
    residents drawn from `keys` values too (0, none, sometimes), so that one resident has several
    records and a correction may change a record's resident."""
    from nj_audit.metrics import EARLIEST_NEVER, NAT, RecordState

    day = 19_000 * 86_400 * 10**9
    upload = day + rng.integers(0, 4, count) * 86_400 * 10**9  # ties are common
    upload[rng.random(count) < 0.05] = NAT
    order = np.arange(start, start + count, dtype=np.int64)
    return RecordState(
        org=rng.integers(0, 3, count).astype(np.int32),
        form=rng.choice(np.array([0, 11, 12], dtype=np.int16), count),
        key=rng.integers(0, keys, count).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15),
        first_upload=np.where(upload == NAT, EARLIEST_NEVER, upload),
        first_order=order,
        first_realtime=(rng.random(count) < 0.7) & (upload != NAT),
        last_upload=upload,
        last_order=order,
        last_valid=rng.random(count) < 0.8,
        first_delay=np.where(upload == NAT, -1, rng.integers(-1, 7, count)).astype(np.int8),
        resident=rng.integers(0, keys, count).astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F),
    )


# -- nightly batches for the history --------------------------------------------------------------

NIGHTLY_ORGS = {  # org_code -> (name, district)
    VISIT_ORG: ("甲医院", "玄武区"),
    VISIT_ORG2: ("乙医院", "秦淮区"),
    make_org_code("12320100466000003"): ("丙卫生院", "鼓楼区"),
}
NIGHTLY_VISITS = 10  # per institution and night
# A policy under which one form and one rate of 50% pass: only the outpatient rate can fail.
NIGHTLY_POLICY = """window = "1h"
[coverage]
warn = 1
fail = 0
[outpatient_rate]
warn = 0.9
fail = 0.4
"""


def nightly_batch(folder: Path, day: str, realtime: dict[str, float]) -> tuple[Path, Path]:
    """One night's uploads: NIGHTLY_VISITS outpatient visits per institution of `realtime`
    (org_code -> the share uploaded 30 minutes after the visit; the others 3 hours after: late
    for NIGHTLY_POLICY's 1 h window, and on the same day), all on `day` (YYYY-MM-DD), and the
    registry of NIGHTLY_ORGS. Returns (uploads folder, registry)."""
    rows = []
    for org, share in realtime.items():
        for n in range(NIGHTLY_VISITS):
            event = f"{day} 08:00:00"
            upload = shift(event, hours=0.5 if n < round(share * NIGHTLY_VISITS) else 3)
            rows.append(timed_visit(f"{org[-4:]}-{n}", event, upload, org=org))
    uploads = folder / "uploads"
    write_rows(uploads / "outpatient_visit.csv", rows)
    registry = folder / "registry.csv"
    lines = ["org_code,name,district"] + [f"{c},{n},{d}" for c, (n, d) in NIGHTLY_ORGS.items()]
    registry.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return uploads, registry


# -- the hostile corpus: large files made at test time, runs measured, inputs snapshotted -------

HOSTILE = FIXTURES / "hostile"


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every regular file under `folder` (links not followed): its bytes and modification time,
    to assert that a run changed none of its inputs."""
    found: dict[str, tuple[bytes, int]] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            found[str(path.relative_to(folder))] = (path.read_bytes(), path.stat().st_mtime_ns)
    return found


def visit_lines(numbers: range, org: str = ORG_CODE, **changes: str) -> str:
    """outpatient_visit rows as CSV lines (no header)."""
    columns = SPEC_COLUMNS["outpatient_visit"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for n in numbers:
        row = visit(n, org_code=org, **changes)
        writer.writerow([row[c] for c in columns])
    return out.getvalue()


VISIT_HEADER = ",".join(SPEC_COLUMNS["outpatient_visit"]) + "\n"


def write_long_line(path: Path, line_bytes: int) -> Path:
    """outpatient_visit: a valid row, one whose last value is `line_bytes` of `x` (no newline
    inside), another valid row; written 16 MiB at a time."""
    columns = SPEC_COLUMNS["outpatient_visit"]
    row = visit(2)
    with open(path, "wb") as sink:
        sink.write((VISIT_HEADER + visit_lines(range(1, 2))).encode())
        sink.write((",".join(row[c] for c in columns[:-1]) + ",").encode())
        block = b"x" * (1 << 24)
        for _ in range(line_bytes // len(block)):
            sink.write(block)
        sink.write(b"x" * (line_bytes % len(block)) + b"\n" + visit_lines(range(3, 4)).encode())
    return path


def write_gzip_bomb(path: Path, members: int, payload: bytes) -> Path:
    """A .csv.gz of the outpatient_visit header, then `members` gzip members each holding
    `payload` (gzip readers concatenate members): a few MB on disk, gigabytes decompressed."""
    member = gzip.compress(payload, compresslevel=9, mtime=0)
    with open(path, "wb") as sink:
        sink.write(gzip.compress(VISIT_HEADER.encode(), mtime=0))
        for _ in range(members):
            sink.write(member)
    return path


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    stderr: str
    max_rss_mib: float
    seconds: float


_MEASURE = (
    "import resource, sys\n"
    "from nj_audit.__main__ import main\n"
    "sys.argv = ['nj-audit', *sys.argv[1:]]\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    sys.stderr.write('\\nmax-rss-kib %d\\n' % resource.getrusage(resource.RUSAGE_SELF)"
    ".ru_maxrss)\n"
)


def run_measured(*args: str, timeout: float = 120) -> Measured:
    """The command line in a process of its own: exit code, output, its peak RSS and time."""
    import subprocess
    import sys
    import time

    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **CLI_ENV},
    )
    seconds = time.monotonic() - started
    stderr, _, rss = done.stderr.rpartition("\nmax-rss-kib ")
    return Measured(done.returncode, done.stdout, stderr.strip(), int(rss) / 1024, seconds)


def altered_table(source: Path, folder: Path, line: int, column: str, value: str) -> Path:
    """A copy of the CSV table `source` in `folder` with the cell at (`line`, `column`) set to
    `value` (line 1 is the header)."""
    with open(source, encoding="utf-8", newline="") as f:
        table = list(csv.reader(f))
    table[line - 1][table[0].index(column)] = value
    path = folder / source.name
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(table)
    return path


def validate_failures(stdout: str) -> dict[tuple[str, str], list[tuple[int, str]]]:
    """`validate --format json` of one table: (column, check) -> its examples' (line, value)."""
    (form,) = json.loads(stdout)["forms"]
    return {
        (c["column"], c["check"]): [(e["line"], e["value"]) for e in c["examples"]]
        for c in form["checks"]
    }
