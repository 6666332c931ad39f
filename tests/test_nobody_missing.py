"""Nobody missing, nothing silently passed: a registered institution without a row in the period is
listed in every output with zero counts and fails `no_uploads`; an audit (or a validation) that
read no data row at all fails whatever --fail-on says, unless --allow-empty."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nj_audit.cli import app

from builders import CLI_ENV, VISIT_HEADER, make_org_code, visit_lines

runner = CliRunner(env=CLI_ENV)
UPLOADING = make_org_code("12320100466000011")
SILENT = make_org_code("12320100466000012")  # registered, uploads nothing
LATE = make_org_code("12320100466000013")  # uploads, but only outside the period


@pytest.fixture
def batch(tmp_path: Path) -> list[str]:
    rows = visit_lines(range(4), UPLOADING)
    rows += visit_lines(range(4, 6), LATE, upload_time="2022-05-01 09:00:00")
    (tmp_path / "outpatient_visit.csv").write_text(VISIT_HEADER + rows, encoding="utf-8")
    registry = tmp_path / "registry.csv"
    registry.write_text(
        f"org_code,name,district\n{UPLOADING},甲医院,玄武区\n{SILENT},沉默医院,鼓楼区\n",
        encoding="utf-8",
    )
    return [str(tmp_path / "outpatient_visit.csv"), "--registry", str(registry)]


def audited(args: list[str], *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", *args, *extra])
    assert result.exit_code in (0, 1), (result.exit_code, result.stderr)
    return result.exit_code, result.stdout


def test_a_registered_institution_without_uploads_is_listed_and_fails(batch: list[str]) -> None:
    code, text = audited(batch, "--format", "json", "--period", "2022-03")
    assert code == 1
    by_code = {i["org_code"]: i for i in json.loads(text)["institutions"]}
    silent = by_code[SILENT]
    assert (silent["name"], silent["district"]) == ("沉默医院", "鼓楼区")
    assert silent["rows_uploaded"] == silent["records"] == silent["upload_days"] == 0
    assert silent["forms_covered"] == 0 and silent["forms"] == {} and silent["period_days"] == 31
    flags = {f["flag"]: f["severity"] for f in silent["flags"]}
    assert flags["no_uploads"] == "fail" and silent["status"] == "fail"
    assert "no_uploads" not in {f["flag"] for f in by_code[UPLOADING]["flags"]}
    assert LATE not in by_code  # not registered, no row in the period: not an institution here


def test_rows_outside_the_period_do_not_count_as_uploads(batch: list[str]) -> None:
    registry = Path(batch[2])
    registry.write_text(registry.read_text(encoding="utf-8") + f"{LATE},迟到医院,秦淮区\n")
    _, text = audited(batch, "--format", "json", "--period", "2022-03")
    late = {i["org_code"]: i for i in json.loads(text)["institutions"]}[LATE]
    assert late["rows_uploaded"] == 0 and "no_uploads" in [f["flag"] for f in late["flags"]]
    _, everything = audited(batch, "--format", "json")  # no period: the May rows count
    late = {i["org_code"]: i for i in json.loads(everything)["institutions"]}[LATE]
    assert late["rows_uploaded"] == 2 and "no_uploads" not in [f["flag"] for f in late["flags"]]


def test_it_is_listed_in_every_output(batch: list[str]) -> None:
    for output_format in ("table", "csv", "markdown", "junit"):
        _, text = audited(batch, "--format", output_format, "--period", "2022-03")
        assert "沉默医院" in text, output_format
    _, text = audited(batch, "--format", "csv", "--period", "2022-03", "--sort", "name")
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["institution"] == "沉默医院")
    assert row["rows_uploaded"] == "0" and row["status"] == "fail" and "no_uploads" in row["flags"]
    _, xml_text = audited(batch, "--format", "junit", "--period", "2022-03")
    case = next(
        c for c in ET.fromstring(xml_text).iter("testcase") if "沉默医院" in c.get("name", "")
    )
    assert case.find("failure") is not None


def test_by_district_counts_silent_members(batch: list[str]) -> None:
    _, text = audited(batch, "--format", "json", "--period", "2022-03", "--by", "district")
    districts = {d["name"]: d for d in json.loads(text)["districts"]}
    assert set(districts) == {"玄武区", "鼓楼区"}  # LATE has no row in the period
    gulou = districts["鼓楼区"]  # its only member uploads nothing: still listed
    (flag,) = [f for f in gulou["flags"] if f["flag"] == "no_uploads"]
    assert flag["severity"] == "fail" and flag["message"].startswith("1 registered institution")
    assert gulou["rows_uploaded"] == 0
    assert "no_uploads" not in [f["flag"] for f in districts["玄武区"]["flags"]]


def test_without_a_registry_nobody_is_invented(batch: list[str]) -> None:
    _, text = audited(batch[:1], "--format", "json")
    assert {i["org_code"] for i in json.loads(text)["institutions"]} == {UPLOADING, LATE}


# -- the empty audit ----------------------------------------------------------------------------


@pytest.mark.parametrize("fail_on", ["fail", "warn", "never"])
def test_an_audit_that_read_no_row_fails_whatever_fail_on_says(
    tmp_path: Path, fail_on: str
) -> None:
    (tmp_path / "outpatient_visit.csv").write_text(VISIT_HEADER, encoding="utf-8")
    for output_format in ("json", "table", "markdown", "junit", "csv"):
        result = runner.invoke(
            app, ["audit", str(tmp_path / "outpatient_visit.csv"), "--fail-on", fail_on,
                  "--format", output_format],
        )  # fmt: skip
        assert result.exit_code == 1, (output_format, result.stderr)
        assert "no data rows were read" in result.stdout + result.stderr, output_format
        if output_format == "junit":
            (case,) = ET.fromstring(result.stdout).iter("testcase")
            assert case.find("failure") is not None  # CI sees a failing test, not zero tests
    allowed = runner.invoke(
        app, ["audit", str(tmp_path / "outpatient_visit.csv"), "--fail-on", fail_on,
              "--allow-empty", "--format", "json"],
    )  # fmt: skip
    assert allowed.exit_code == 0 and json.loads(allowed.stdout)["passed"] is True


def test_an_empty_period_is_an_empty_audit(batch: list[str]) -> None:
    result = runner.invoke(app, ["audit", batch[0], "--period", "2021", "--format", "json"])
    assert result.exit_code == 1 and json.loads(result.stdout)["passed"] is False
    assert "no data rows were read" in result.stderr


def test_a_validation_of_no_row_is_not_valid(tmp_path: Path) -> None:
    path = tmp_path / "outpatient_visit.csv"
    path.write_text(VISIT_HEADER + "\n\n", encoding="utf-8")  # blank lines are not rows
    table = runner.invoke(app, ["validate", str(path)])
    assert table.exit_code == 1 and "invalid: no data rows were read" in table.stdout
    document = runner.invoke(app, ["validate", str(path), "--format", "json"])
    assert document.exit_code == 1 and json.loads(document.stdout)["valid"] is False
    allowed = runner.invoke(app, ["validate", str(path), "--allow-empty"])
    assert (
        allowed.exit_code == 0 and "valid: no data rows were read (--allow-empty)" in allowed.stdout
    )
