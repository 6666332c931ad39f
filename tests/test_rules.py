"""SPEC section 3, rule by rule and form by form.

Each case writes a two-row CSV (a valid row, then the row under test), reads it with
`read_chunks` and judges it with `judge`: the valid row passes, and the row under test fails with
exactly the expected (column, check) pairs and nothing else (or passes, for the valid edge cases).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import pytest
from conftest import judge_file

from nj_audit.checks import gb11643_check_char, gb32100_check_char, gb32100_ok, id_card_parts

from rows import (
    ARCHIVE_FORMS,
    EVENT,
    FEMALE_ID_CARD,
    FORMS,
    ID_CARD,
    ORG_CODE,
    P_FORMS,
    SPEC_COLUMNS,
    TIME_COLUMNS,
    TIME_FORMAT,
    UPLOAD,
    is_required,
    make_id_card,
    make_org_code,
    shift,
    valid_row,
    write_csv,
    wrong_check_char,
)

Edit = dict[str, str] | Callable[[str], dict[str, str]]


@dataclass(frozen=True)
class Case:
    id: str
    edit: Edit
    expected: frozenset[tuple[str, str]]  # empty: the row is valid
    needs: tuple[str, ...]  # the case applies to forms that have all these columns (per SPEC)
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
    # -- dept_code ----------------------------------------------------------------------------------
    ok("dept_code-1-char", {"dept_code": "D"}),
    ok("dept_code-20-chars", {"dept_code": "D" * 20}),
    bad("dept_code-21-chars", {"dept_code": "D" * 21}, ("dept_code", "str_length")),
    # -- archive forms ------------------------------------------------------------------------------
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

PARAMS = [
    pytest.param(form, case, id=f"{form}:{case.id}")
    for case in CASES
    for form in FORMS
    if case.applies(form)
]


def judge_two(tmp_path, form: str, changes: dict[str, str], columns=None):
    good = valid_row(form, record_id="R0001")
    other = valid_row(form, record_id="R0002")
    other.update(changes)
    path = write_csv(tmp_path / f"{form}.csv", [good, other], columns or SPEC_COLUMNS[form])
    return judge_file(path, form)


class Batches:
    """One file per form and kind of test: a valid row first, then one row per case; judged once,
    so that the hundreds of parametrised cases stay fast. Rows are independent of each other."""

    def __init__(self, factory: pytest.TempPathFactory):
        self.factory = factory
        self.cache: dict[tuple[str, str], tuple[dict[str, int], object]] = {}

    def judged(self, kind: str, form: str, rows_by_key: Callable[[], dict[str, dict[str, str]]]):
        if (kind, form) not in self.cache:
            rows = [valid_row(form, record_id="VALID")]
            index: dict[str, int] = {}
            for i, (key, changes) in enumerate(rows_by_key().items()):
                index[key] = len(rows)
                rows.append({**valid_row(form, record_id=f"R{i:04d}"), **changes})
            path = write_csv(self.factory.mktemp(kind) / f"{form}.csv", rows, SPEC_COLUMNS[form])
            self.cache[kind, form] = (index, judge_file(path, form))
        return self.cache[kind, form]


@pytest.fixture(scope="session")
def batches(tmp_path_factory) -> Batches:
    return Batches(tmp_path_factory)


@pytest.mark.parametrize(("form", "case"), PARAMS)
def test_rule(batches: Batches, form: str, case: Case) -> None:
    index, judged = batches.judged(
        "rules", form, lambda: {c.id: c.changes(form) for c in CASES if c.applies(form)}
    )
    row = index[case.id]
    assert judged.of_row(0) == set(), "the valid row fails"
    assert judged.of_row(row) == set(case.expected)
    assert judged.valid[row] is (not case.expected)


def test_every_case_applies_somewhere() -> None:
    for case in CASES:
        assert any(case.applies(form) for form in FORMS), case.id


def test_rules_reach_every_form_and_column() -> None:
    """Every column of every form is exercised by at least one failing case or the matrix below."""
    for form in FORMS:
        assert sum(1 for case in CASES if case.applies(form) and case.expected) >= 10, form


@pytest.mark.parametrize("form", FORMS)
def test_valid_row_is_valid(tmp_path, form: str) -> None:
    path = write_csv(tmp_path / f"{form}.csv", [valid_row(form)], SPEC_COLUMNS[form])
    judged = judge_file(path, form)
    assert judged.failures == set()
    assert judged.valid == [True]


REQUIRED_PARAMS = [
    pytest.param(form, column, blank, id=f"{form}:{column}:{'blank' if not blank else 'spaces'}")
    for form in FORMS
    for column in SPEC_COLUMNS[form]
    for blank in ("", "   ")
]


@pytest.mark.parametrize(("form", "column", "blank"), REQUIRED_PARAMS)
def test_required_or_optional(batches: Batches, form: str, column: str, blank: str) -> None:
    """An empty or whitespace-only cell is missing: `required` for a required column, else valid."""
    index, judged = batches.judged(
        "blanks",
        form,
        lambda: {f"{c}:{b!r}": {c: b} for c in SPEC_COLUMNS[form] for b in ("", "   ")},
    )
    row = index[f"{column}:{blank!r}"]
    assert judged.of_row(0) == set()
    expected = {(column, "required")} if is_required(form, column) else set()
    assert judged.of_row(row) == expected
    assert judged.valid[row] is (not expected)


MISSING_COLUMN_PARAMS = [
    pytest.param(form, column, id=f"{form}:{column}")
    for form in FORMS
    for column in SPEC_COLUMNS[form]
]


@pytest.mark.parametrize(("form", "column"), MISSING_COLUMN_PARAMS)
def test_missing_column(tmp_path, form: str, column: str) -> None:
    """A missing required column makes every row invalid, for that column alone; an optional one may be left out."""
    columns = [c for c in SPEC_COLUMNS[form] if c != column]
    judged = judge_two(tmp_path, form, {}, columns)
    if is_required(form, column):
        assert judged.failures == {(column, "missing_column", 0), (column, "missing_column", 1)}
        assert judged.valid == [False, False]
    else:
        assert judged.failures == set()
        assert judged.valid == [True, True]


@pytest.mark.parametrize("form", FORMS)
def test_extra_columns_ignored(tmp_path, form: str) -> None:
    extra = {"remark": "=not checked", "org_code_2": "garbage", "event_time_2": "not a time"}
    judged = judge_two(tmp_path, form, extra, [*SPEC_COLUMNS[form], *extra])
    assert judged.failures == set()
    assert "remark" not in judged.typed[0].columns


@pytest.mark.parametrize("form", ARCHIVE_FORMS)
def test_archive_forms_require_every_column(form: str) -> None:
    assert all(is_required(form, c) for c in SPEC_COLUMNS[form])


def test_one_row_breaking_several_rules_reports_each(tmp_path) -> None:
    judged = judge_two(
        tmp_path,
        "outpatient_visit",
        {"org_code": ORG17, "visit_type": "3", "diagnosis_code": "j06", "name": "张" * 31},
    )
    assert judged.of_row(1) == {
        ("org_code", "gb32100"),
        ("visit_type", "isin"),
        ("diagnosis_code", "str_matches"),
        ("name", "str_length"),
    }


# -- the check characters themselves, against published examples ---------------------------------


def test_gb32100_check_char_published_examples() -> None:
    assert gb32100_check_char("91350100M000100Y4") == "3"
    assert gb32100_check_char("91110000600037341") == "L"
    codes = pd.Series(
        ["91350100M000100Y43", "91110000600037341L", "91350100M000100Y44", ORG_CODE], dtype="str"
    )
    assert gb32100_ok(codes).tolist() == [True, True, False, True]


def test_gb11643_check_char_published_example() -> None:
    assert gb11643_check_char("11010519491231002") == "X"
    shape, checksum, born, _ = id_card_parts(
        pd.Series(["11010519491231002X", "110105194912310021"], dtype="str")
    )
    assert shape.tolist() == [True, True]
    assert checksum.tolist() == [True, False]
    assert str(born[0])[:10] == "1949-12-31"


def test_fixture_constants_are_consistent() -> None:
    assert ID_CARD[6:14] == "19850615" and int(ID_CARD[16]) % 2 == 1
    assert FEMALE_ID_CARD[6:14] == "19850615" and int(FEMALE_ID_CARD[16]) % 2 == 0
    assert UPLOAD > EVENT
