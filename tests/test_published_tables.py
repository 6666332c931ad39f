"""The published tables' bundled schemas, named by `validate --schema NAME` (docs/contract.md
§ 8.6 - § 8.8): the 2022 online bookings and 12320 hotline tables pass; an altered cell is caught
on exactly its line, and on the total's line when the sum no longer holds."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nj_audit.cli import app

from builders import altered_table
from builders import validate_failures as failures

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
ENV = {"COLUMNS": "200", "NO_COLOR": "1", "NJ_AUDIT_LANG": "en"}
# name: (sample, count column, the total's line, the total)
TABLES = {
    "online_bookings": ("online_bookings_2022.csv", "预约数量", 9, 774196),
    "hotline": ("hotline_2022.csv", "接听电话人次", 5, 5725819),
}


def run(*args: object):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, [str(a) for a in args], env=ENV)


def altered(tmp_path: Path, name: str, line: int, value: str) -> Path:
    sample, column, _, _ = TABLES[name]
    return altered_table(SAMPLES / sample, tmp_path, line, column, value)


def count_at(name: str, line: int) -> int:
    sample, column, _, _ = TABLES[name]
    with open(SAMPLES / sample, encoding="utf-8", newline="") as f:
        table = list(csv.reader(f))
    return int(table[line - 1][table[0].index(column)])


@pytest.mark.parametrize("name", ["bookings", "online_bookings", "hotline"])
def test_the_published_table_passes_by_the_schema_name(name: str) -> None:
    sample = TABLES[name][0] if name in TABLES else "bookings_2022.csv"
    result = run("validate", SAMPLES / sample, "--schema", name)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "valid: all" in result.stdout and result.stderr == ""


@pytest.mark.parametrize("name", list(TABLES))
def test_schema_by_path_is_the_same_schema(name: str) -> None:
    by_path = run(
        "validate", SAMPLES / TABLES[name][0], "--schema", ROOT / "schemas" / f"{name}.yaml"
    )
    assert by_path.exit_code == 0, by_path.stdout + by_path.stderr


@pytest.mark.parametrize(("name", "line"), [("online_bookings", 2), ("online_bookings", 8),
                                            ("hotline", 2), ("hotline", 4)])  # fmt: skip
def test_an_altered_count_breaks_the_total_on_its_line(
    tmp_path: Path, name: str, line: int
) -> None:
    _, column, total_line, total = TABLES[name]
    found = count_at(name, line)
    result = run("validate", altered(tmp_path, name, line, str(found + 3)), "--schema", name,
                 "--format", "json")  # fmt: skip
    assert result.exit_code == 1
    assert json.loads(result.stdout)["invalid_rows"] == 1
    assert failures(result.stdout) == {
        (column, "column_total"): [(total_line, f"expected {total + 3}, found {total}")]
    }


@pytest.mark.parametrize("name", list(TABLES))
def test_a_negative_count_fails_on_its_line_and_on_the_total(tmp_path: Path, name: str) -> None:
    _, column, total_line, total = TABLES[name]
    found = count_at(name, 3)
    result = run("validate", altered(tmp_path, name, 3, "-5"), "--schema", name, "--format", "json")
    assert result.exit_code == 1
    assert failures(result.stdout) == {
        (column, "greater_than_or_equal_to"): [(3, "-5")],
        (column, "column_total"): [(total_line, f"expected {total - found - 5}, found {total}")],
    }


@pytest.mark.parametrize("name", list(TABLES))
def test_an_unreadable_count_fails_on_its_line_only(tmp_path: Path, name: str) -> None:
    # the sum cannot be computed: the total is not blamed for a defect reported on its own line
    column = TABLES[name][1]
    result = run(
        "validate", altered(tmp_path, name, 2, "12,000"), "--schema", name, "--format", "json"
    )
    assert result.exit_code == 1
    assert failures(result.stdout) == {(column, "number_format"): [(2, "12,000")]}


@pytest.mark.parametrize("name", list(TABLES))
def test_an_altered_total_fails_on_the_total_line(tmp_path: Path, name: str) -> None:
    _, column, total_line, total = TABLES[name]
    path = altered(tmp_path, name, total_line, str(total - 1))
    result = run("validate", path, "--schema", name)
    assert result.exit_code == 1
    assert f"{path}:{total_line}" in result.stdout
    assert f"expected {total}, found {total - 1}" in result.stdout


def test_the_online_total_row_is_named_in_its_number_column(tmp_path: Path) -> None:
    path = tmp_path / "online.csv"
    path.write_text("序号,名称,预约数量\n1,a,2\nx,b,3\n合计,,5\n", encoding="utf-8")
    result = run("validate", path, "--schema", "online_bookings", "--format", "json")
    assert failures(result.stdout) == {("序号", "str_matches"): [(3, "x")]}


def test_schemas_list_names_the_four_tables() -> None:
    result = run("schemas", "list")
    assert result.exit_code == 0, result.stdout
    tables = result.stdout.split("Published tables")[1]
    titles = {"bookings": "预约挂号情况", "summary": "实时数据采集情况汇总表",
              "online_bookings": "线上预约情况", "hotline": "12320接听电话"}  # fmt: skip
    for name, title in titles.items():
        assert name in tables and title in tables


def test_schemas_show_a_table() -> None:
    result = run("schemas", "show", "hotline")
    assert result.exit_code == 0, result.stdout
    assert "接听电话人次" in result.stdout and "hotline.yaml" in result.stdout


def test_an_unknown_schema_name_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["validate", str(SAMPLES / "hotline_2022.csv"), "--schema", "hotlines"], env=ENV
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert "unknown schema 'hotlines'" in line and "online_bookings" in line


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_summary_schema_takes_the_table_rank_reads(tmp_path: Path, lang: str) -> None:
    """`--schema summary` reads a summary table's Chinese headers (its columns' titles) as rank
    does, and the audit's own csv, which is no upload to skip here."""
    published = run("validate", SAMPLES / "hospitals_2022.csv", "--schema", "summary")
    assert published.exit_code == 0 and "valid: all 32 rows" in published.stdout
    table = tmp_path / "audit.csv"
    args = ["audit", SAMPLES / "batch", "-q", "-o", table, "--lang", lang]
    assert run(*args).exit_code == 1
    mine = run("validate", table, "--schema", "summary", "--format", "json")
    assert mine.exit_code == 0, mine.stderr
    [form] = json.loads(mine.stdout)["forms"]
    assert form["rows"] == 12 and form["invalid_rows"] == 0
