"""`nj-audit validate --schema schemas/bookings.yaml`: the published 2022 bookings table passes; an
altered cell is caught on its row, with the expected and the found value."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.schemas import load_schema_file

from builders import altered_table
from builders import validate_failures as failures

ROOT = Path(__file__).resolve().parents[1]
BOOKINGS = ROOT / "samples" / "bookings_2022.csv"
SCHEMA = ROOT / "schemas" / "bookings.yaml"
ENV = {"COLUMNS": "200", "NO_COLOR": "1"}
TOTAL_LINE = 56  # the 合计 row (header = line 1, 54 institutions)


def run(*args: object):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, [str(a) for a in args], env=ENV)


def rows() -> list[list[str]]:
    with open(BOOKINGS, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def altered(tmp_path: Path, line: int, column: str, value: str) -> Path:
    return altered_table(BOOKINGS, tmp_path, line, column, value)


def test_schema_loads_with_its_rules() -> None:
    spec = load_schema_file(SCHEMA)
    assert spec.name == "bookings"
    assert [c.name for c in spec.schema.checks] == ["row_sum"] + ["column_total"] * 4


def test_published_table_passes() -> None:
    result = run("validate", BOOKINGS, "--schema", SCHEMA)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "valid: all 55 rows pass every rule" in result.stdout
    assert result.stderr == ""


def test_altered_subtotal_fails_on_exactly_its_row(tmp_path: Path) -> None:
    result = run(
        "validate", altered(tmp_path, 2, "小计", "1922698"), "--schema", SCHEMA, "--format", "json"
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["invalid_rows"] == 1
    assert failures(result.stdout) == {
        ("小计", "row_sum"): [(2, "expected 1922697, found 1922698")]
    }


@pytest.mark.parametrize("line", [3, 20, 31, 55])
def test_any_altered_subtotal_is_found_on_its_line(tmp_path: Path, line: int) -> None:
    found = rows()[line - 1][-1]
    path = altered(tmp_path, line, "小计", str(int(found) + 7))
    result = run("validate", path, "--schema", SCHEMA, "--format", "json")
    assert result.exit_code == 1
    assert failures(result.stdout) == {
        ("小计", "row_sum"): [(line, f"expected {found}, found {int(found) + 7}")]
    }


def test_total_as_the_report_text_states_it_fails_on_the_total_row(tmp_path: Path) -> None:
    # The report's text says 3,115,831 bookings; its table's 合计 says 4,139,140.
    result = run(
        "validate",
        altered(tmp_path, TOTAL_LINE, "小计", "3115831"),
        "--schema",
        SCHEMA,
        "--format",
        "json",
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["invalid_rows"] == 1
    assert failures(result.stdout) == {
        ("小计", "row_sum"): [(TOTAL_LINE, "expected 4139140, found 3115831")]
    }


def test_altered_total_cell_fails_on_the_total_row(tmp_path: Path) -> None:
    result = run(
        "validate",
        altered(tmp_path, TOTAL_LINE, "电话预约", "1379554"),
        "--schema",
        SCHEMA,
        "--format",
        "json",
    )
    assert result.exit_code == 1
    assert failures(result.stdout) == {
        ("电话预约", "column_total"): [(TOTAL_LINE, "expected 1379553, found 1379554")],
        ("小计", "row_sum"): [(TOTAL_LINE, "expected 4139141, found 4139140")],
    }


def test_altered_channel_cell_fails_on_its_row_and_the_total(tmp_path: Path) -> None:
    # Its row no longer adds up, nor does its column: both are reported, each with what it expected.
    result = run(
        "validate",
        altered(tmp_path, 2, "12320在线预约", "77231"),
        "--schema",
        SCHEMA,
        "--format",
        "json",
    )
    assert result.exit_code == 1
    assert failures(result.stdout) == {
        ("小计", "row_sum"): [(2, "expected 1922698, found 1922697")],
        ("12320在线预约", "column_total"): [(TOTAL_LINE, "expected 505273, found 505272")],
    }


@pytest.mark.parametrize(
    ("value", "check"),
    [
        ("-5", "greater_than_or_equal_to"),
        ("2.5", "whole_number"),
        ("", "required"),
        ("12,000", "number_format"),
    ],
)
def test_counts_are_whole_and_not_negative(tmp_path: Path, value: str, check: str) -> None:
    result = run(
        "validate", altered(tmp_path, 10, "诊间预约", value), "--schema", SCHEMA, "--format", "json"
    )
    assert result.exit_code == 1
    assert ("诊间预约", check) in failures(result.stdout)


def test_failures_file_and_table_name_the_line(tmp_path: Path) -> None:
    path = altered(tmp_path, 2, "小计", "1922698")
    out = tmp_path / "failures.csv"
    result = run("validate", path, "--schema", SCHEMA, "--failures", out)
    assert result.exit_code == 1
    assert f"{path}:2" in result.stdout and "expected 1922697, found 1922698" in result.stdout
    assert "invalid: 1 of 55 rows" in result.stdout
    with open(out, encoding="utf-8", newline="") as f:
        written = list(csv.DictReader(f))
    (only,) = written
    assert only == {
        "file": str(path),
        "line": "2",
        "form": "bookings",
        "column": "小计",
        "check": "row_sum",
    } | {"value": "expected 1922697, found 1922698"}
