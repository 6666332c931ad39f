"""docs/contract.md § 3, rule by rule and form by form.

Each case writes a two-row CSV (a valid row, then the row under test), reads it with
`read_chunks` and judges it with `judge`: the valid row passes, and the row under test fails with
exactly the expected (column, check) pairs and nothing else (or passes, for the valid edge cases).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from nj_audit.checks.upload import gb32100_ok, id_card_parts
from nj_audit.codes import gb11643_check_char, gb32100_check_char

from builders import (
    ARCHIVE_FORMS,
    CASES,
    EVENT,
    FEMALE_ID_CARD,
    FORMS,
    ID_CARD,
    ORG17,
    ORG_CODE,
    SPEC_COLUMNS,
    UPLOAD,
    Case,
    is_required,
    judge_file,
    valid_row,
    write_csv,
)

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
    """A missing required column makes every row invalid, for that column alone; an optional one
    may be left out."""
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
