"""Contract § 7: the JSON document field for field, the ranked table, csv, Markdown, JUnit."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

import nj_audit
from nj_audit.cli import app

from builders import VISIT_ORG as ORG
from builders import VISIT_ORG2 as ORG2
from builders import check_golden, check_golden_json
from builders import timed_visit as visit
from builders import write_rows as write

RUNNER = CliRunner(env={"COLUMNS": "160", "NO_COLOR": "1", "TERM": "dumb"})


@pytest.fixture()
def batch(tmp_path: Path) -> list[str]:
    a = write(
        tmp_path / "uploads" / "a" / "outpatient_visit.csv",
        [
            visit("a1", "2022-03-01 10:00:00", "2022-03-01 11:00:00"),
            visit("a2", "2022-03-01 10:00:00", "2022-03-03 11:00:00"),  # late
            visit(
                "a3", "2022-03-02 10:00:00", "2022-03-02 11:00:00", diagnosis_code="=HYPERLINK()"
            ),  # invalid
        ],
    )
    b = write(
        tmp_path / "uploads" / "b" / "outpatient_visit.csv",
        [visit(f"b{i}", "2022-03-01 10:00:00", "2022-03-01 10:30:00", org=ORG2) for i in range(4)],
    )
    registry = tmp_path / "registry.csv"
    registry.write_text(f"org_code,name,district\n{ORG},甲医院,玄武区\n", encoding="utf-8")
    return [str(a), str(b), "--registry", str(registry)]


def test_json_document_matches_the_spec_field_for_field(batch: list[str]) -> None:
    result = RUNNER.invoke(app, ["audit", *batch, "--format", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert list(doc) == [
        "tool", "period", "window_seconds", "policy", "passed", "institutions", "unreadable",
        "delays", "checks",
    ]  # fmt: skip
    assert doc["tool"] == {"name": "nj-audit", "version": nj_audit.__version__}
    assert doc["policy"]["source"] == "defaults" and doc["policy"]["fail_on"] == "fail"
    assert doc["policy"]["validity"] == {"warn": 0.99, "fail": 0.95}
    assert doc["unreadable"] == []
    assert doc["period"] == {"start": "2022-03-01", "end": "2022-03-03", "days": 3}
    assert doc["window_seconds"] == 86400 and doc["passed"] is False
    assert [i["org_code"] for i in doc["institutions"]] == sorted([ORG, ORG2])  # sorted by org_code
    expected_keys = [
        "org_code", "name", "district", "rows_uploaded", "records", "valid_records", "valid_ratio",
        "upload_days", "period_days", "upload_day_ratio", "forms_covered", "forms_required",
        "outpatient_rate", "discharge_rate", "status", "flags", "forms", "days", "checks",
    ]  # fmt: skip
    by_org = {i["org_code"]: i for i in doc["institutions"]}
    for inst in doc["institutions"]:
        assert list(inst) == expected_keys
    a = by_org[ORG]
    assert (a["name"], a["district"], a["rows_uploaded"], a["records"], a["valid_records"]) == (
        "甲医院",
        "玄武区",
        3,
        3,
        2,
    )
    assert a["valid_ratio"] == pytest.approx(2 / 3)
    assert a["forms"]["outpatient_visit"] == {
        "rows": 3,
        "records": 3,
        "valid_records": 2,
        "realtime_records": 1,
        "rate": 1 / 3,
        # contract § 4.9, half-open: 1 h is in 1h_to_6h (a1, a3), 49 h in 2d_to_7d (a2)
        "delays": {
            "negative": 0,
            "under_1h": 0,
            "1h_to_6h": 2,
            "6h_to_24h": 0,
            "1d_to_2d": 0,
            "2d_to_7d": 1,
            "over_7d": 0,
        },  # fmt: skip
    }
    assert a["days"] == {"2022-03-01": 1, "2022-03-02": 1, "2022-03-03": 1}
    assert by_org[ORG2]["forms"]["outpatient_visit"]["delays"]["under_1h"] == 4
    assert by_org[ORG2]["days"] == {"2022-03-01": 4}
    a_check = {"form": "outpatient_visit", "column": "diagnosis_code", "check": "str_matches"}
    assert a["checks"] == [{**a_check, "failures": 1}] and by_org[ORG2]["checks"] == []
    assert a["upload_days"] == 3 and a["period_days"] == 3 and a["upload_day_ratio"] == 1.0
    assert (a["forms_covered"], a["forms_required"], a["discharge_rate"]) == (1, 11, None)
    b = by_org[ORG2]
    assert b["name"] is None and "unregistered" in [f["flag"] for f in b["flags"]]
    assert b["outpatient_rate"] == 1.0 and b["upload_day_ratio"] == pytest.approx(1 / 3)
    assert set(b["flags"][0]) == {"flag", "severity", "message"}
    assert {
        "form": "outpatient_visit",
        "column": "diagnosis_code",
        "check": "str_matches",
        "failures": 1,
    } in doc["checks"]
    check_golden_json("audit_small.json", result.stdout)


def test_table_is_ranked_and_golden(batch: list[str]) -> None:
    result = RUNNER.invoke(app, ["audit", *batch])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    first = next(line for line in lines if "│ 1 " in line or line.startswith("│ 1"))
    assert ORG2 in first  # 4 rows beats 3 rows: ranked by rows_uploaded descending
    assert "33.33%" in result.stdout and "/" in result.stdout and "1/11" in result.stdout
    check_golden("audit_small_table.txt", result.stdout)
    by_rate = RUNNER.invoke(app, ["audit", *batch, "--sort", "outpatient_rate"])
    assert by_rate.exit_code == 1
    assert RUNNER.invoke(app, ["audit", *batch, "--sort", "nonsense"]).exit_code == 2


def test_csv_has_the_published_columns_and_safe_cells(batch: list[str], tmp_path: Path) -> None:
    result = RUNNER.invoke(app, ["audit", *batch, "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    published = (
        "institution rows_uploaded upload_days forms outpatient_visits outpatient_rate discharges "
        "discharge_rate"
    )
    assert list(rows[0])[:8] == published.split()
    assert (
        rows[1]["institution"] == "甲医院"
        and rows[1]["outpatient_rate"] == "33.33%"
        and rows[1]["discharge_rate"] == "/"
    )
    assert rows[1]["forms"] == "1/11" and rows[1]["outpatient_visits"] == "3"
    zh = RUNNER.invoke(app, ["audit", *batch, "--format", "csv", "--lang", "zh"]).stdout
    assert zh.splitlines()[0].startswith(
        "接入单位,数据上传量,数据上传天数,实时数据表单上传情况,门急诊人次,门急诊实时数据符合率,出院人次,出院实时数据符合率"
    )
    out = tmp_path / "report.csv"
    written = RUNNER.invoke(app, ["audit", *batch, "--format", "csv", "--output", str(out)])
    assert written.stdout == "" and out.read_text(encoding="utf-8") == result.stdout


def test_markdown_and_junit(batch: list[str]) -> None:
    markdown = RUNNER.invoke(app, ["audit", *batch, "--format", "markdown"]).stdout
    assert markdown.startswith("## nj-audit: failed")
    assert "| 1 | " + ORG2 in markdown and "❌ fail" in markdown
    junit = RUNNER.invoke(app, ["audit", *batch, "--format", "junit"]).stdout
    suite = ET.fromstring(junit).find("testsuite")
    assert suite is not None and suite.get("tests") == "2" and suite.get("failures") == "2"
    never = RUNNER.invoke(app, ["audit", *batch, "--format", "junit", "--fail-on", "never"])
    assert never.exit_code == 0
    assert ET.fromstring(never.stdout).find("testsuite").get("failures") == "0"  # type: ignore[union-attr]
