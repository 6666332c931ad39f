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
        "skipped", "delays", "checks",
    ]  # fmt: skip
    assert doc["tool"] == {"name": "nj-audit", "version": nj_audit.__version__}
    assert doc["policy"]["source"] == "defaults" and doc["policy"]["fail_on"] == "fail"
    assert doc["policy"]["validity"] == {"warn": 0.99, "fail": 0.95}
    assert doc["unreadable"] == [] and doc["skipped"] == []
    assert doc["period"] == {"start": "2022-03-01", "end": "2022-03-03", "days": 3}
    assert doc["window_seconds"] == 86400 and doc["passed"] is False
    assert [i["org_code"] for i in doc["institutions"]] == sorted([ORG, ORG2])  # sorted by org_code
    expected_keys = [
        "org_code", "name", "district", "rows_uploaded", "records", "valid_records", "valid_ratio",
        "upload_days", "period_days", "upload_day_ratio", "forms_covered", "forms_required",
        "outpatient_visits", "outpatient_rate", "discharges", "discharge_rate", "rank", "status",
        "status_label", "flags", "forms",
        "residents", "days",
        "checks",
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
    label = {"label": "a text of the required pattern"}  # the check's name, in the run's language
    assert a["checks"] == [{**a_check, "failures": 1, **label}] and by_org[ORG2]["checks"] == []
    assert a["upload_days"] == 3 and a["period_days"] == 3 and a["upload_day_ratio"] == 1.0
    assert (a["forms_covered"], a["forms_required"], a["discharge_rate"]) == (1, 11, None)
    b = by_org[ORG2]
    assert b["name"] is None and "unregistered" in [f["flag"] for f in b["flags"]]
    assert b["outpatient_rate"] == 1.0 and b["upload_day_ratio"] == pytest.approx(1 / 3)
    assert set(b["flags"][0]) == {"flag", "severity", "message", "label"}
    assert {**a_check, "failures": 1, **label} in doc["checks"]
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
    assert zh.startswith("\ufeff")  # Excel on Windows reads a CSV without a BOM as ANSI
    assert (
        zh.splitlines()[0]
        .removeprefix("\ufeff")
        .startswith(
            "接入单位,数据上传量,数据上传天数,实时数据表单上传情况,门急诊人次,门急诊实时数据符合率,出院人次,出院实时数据符合率"
        )
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


def test_a_registry_with_chinese_headers_or_in_xlsx_gives_the_same_audit(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """机构代码/机构名称/所属区 in a GB18030 CSV and in an xlsx sheet: the same JSON as English."""
    import openpyxl

    root = Path(__file__).resolve().parent.parent
    english = (root / "samples" / "registry.csv").read_text(encoding="utf-8").splitlines()
    header, *rows = [line.split(",") for line in english]
    assert header[:3] == ["org_code", "name", "district"]
    chinese = tmp_path / "登记表.csv"
    chinese.write_bytes(
        "\n".join(",".join(r) for r in [["机构代码", "机构名称", "所属区"], *rows]).encode(
            "gb18030"
        )
    )
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["所属区", "名称", "机构代码"])  # another order: found by name
    for row in rows:
        sheet.append([row[2], row[1], row[0]])
    workbook = tmp_path / "registry.xlsx"
    book.save(workbook)
    batch = str(root / "samples" / "batch")
    documents = []
    for registry in (root / "samples" / "registry.csv", chinese, workbook):
        result = RUNNER.invoke(
            app, ["audit", batch, "--registry", str(registry), "--format", "json"]
        )
        assert result.exit_code == 1, result.output
        document = json.loads(result.stdout)
        document.pop("tool", None)
        documents.append(document["institutions"])
    assert documents[0] == documents[1] == documents[2]
    twice = tmp_path / "twice.csv"
    twice.write_text("org_code,机构代码,name,district\n1,1,a,b\n", encoding="utf-8")
    refused = RUNNER.invoke(app, ["audit", batch, "--registry", str(twice)])
    assert refused.exit_code == 2 and "names org_code twice" in refused.stderr
    repeated = tmp_path / "repeated.xlsx"
    sheet.append([rows[0][2], rows[0][1], rows[0][0]])
    book.save(repeated)
    refused = RUNNER.invoke(app, ["audit", batch, "--registry", str(repeated)])
    assert (
        refused.exit_code == 2
        and f"line {len(rows) + 2} repeats the org_code of line 2" in refused.stderr
    )


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_a_batch_with_chinese_headers_audits_as_with_english_ones(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Every file's header in its columns' Chinese labels (every other column: mixed with ids;
    event_time as 业务发生时间 in some files), under Chinese or upper-case file names."""
    import shutil

    from nj_audit.forms import FORM_BY_ID, form_from_filename
    from nj_audit.schemas import load_schema

    root = Path(__file__).resolve().parent.parent
    english = root / "samples" / "batch"
    chinese = tmp_path / "batch"
    shutil.copytree(english, chinese)
    changed = 0
    for n, path in enumerate(sorted(chinese.rglob("*.csv"))):
        form = form_from_filename(path)
        if form is None:
            continue
        labels = {c.name: c.label for c in load_schema(form).columns}
        labels["event_time"] = "业务发生时间" if n % 2 else labels["event_time"]
        data = path.read_bytes()
        header, rest = data.split(b"\n", 1)  # the header is ASCII whatever the encoding
        cells = header.decode("ascii").split(",")
        cells = [labels.get(c, c) if (i + n) % 2 == 0 else c for i, c in enumerate(cells)]
        encoding = "utf-8" if _is_utf8(rest) else "gb18030"
        path.write_bytes(",".join(cells).encode(encoding) + b"\n" + rest)
        name = FORM_BY_ID[form].label if n % 3 == 0 else form.upper()
        path.rename(path.with_name(path.name.replace(form, name)))
        changed += 1
    assert changed > 100

    def institutions(batch: Path) -> list:  # type: ignore[type-arg]
        result = RUNNER.invoke(app, ["audit", str(batch), "--format", "json"])
        assert result.exit_code == 1, result.output
        document = json.loads(result.stdout)
        return [document["institutions"], document["checks"]]

    assert institutions(chinese) == institutions(english)


def test_a_header_naming_one_column_twice_is_unreadable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    upload = tmp_path / "lab_report.csv"
    upload.write_text("org_code,机构代码,record_id\nA,A,1\n", encoding="utf-8")
    result = RUNNER.invoke(app, ["validate", str(upload)])
    assert result.exit_code == 2
    assert "repeats org_code (org_code, 机构代码)" in result.stderr


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_xlsx_holds_typed_cells(tmp_path, lang: str) -> None:  # type: ignore[no-untyped-def]
    import openpyxl

    root = Path(__file__).resolve().parent.parent
    out = tmp_path / "audit.xlsx"
    args = ["audit", str(root / "samples" / "batch"), "--registry"]
    args += [str(root / "samples" / "registry.csv"), "-o", str(out), "--lang", lang]
    result = RUNNER.invoke(app, args)
    assert result.exit_code == 1, result.output
    document = json.loads(RUNNER.invoke(app, [*args[:4], "--format", "json"]).stdout)
    by_code = {i["org_code"]: i for i in document["institutions"]}
    book = openpyxl.load_workbook(out)
    sheet = book.worksheets[0]
    # the verdict and the policy above the table (rank reads the sheet back: no row under it)
    assert sheet["A1"].value.startswith("gate FAILED" if lang == "en" else "门禁未通过")
    assert sheet["A2"].value == ("策略：默认" if lang == "zh" else "policy: defaults")
    header = [c.value for c in sheet[4]]
    assert header[0] == ("接入单位" if lang == "zh" else "institution")
    assert sheet.freeze_panes == "A5" and sheet.auto_filter.ref == f"A4:N{len(by_code) + 4}"
    assert sheet.max_row == len(by_code) + 4
    column = {name: n for n, name in enumerate(header)}
    code_at = column["机构代码" if lang == "zh" else "org_code"]
    rows = [r for r in sheet.iter_rows(min_row=5, max_row=len(by_code) + 4)]
    for row in rows:
        inst = by_code[row[code_at].value]
        rows_cell = row[column["数据上传量" if lang == "zh" else "rows_uploaded"]]
        assert rows_cell.value == inst["rows_uploaded"] and isinstance(rows_cell.value, int)
        rate = row[column["门急诊实时数据符合率" if lang == "zh" else "outpatient_rate"]]
        if inst["outpatient_rate"] is None:
            assert rate.value == "/"
        else:
            assert (
                rate.value == pytest.approx(inst["outpatient_rate"])
                and rate.number_format == "0.00%"
            )
        status = row[column["状态" if lang == "zh" else "status"]]
        words = {"ok": "正常", "warn": "预警", "fail": "不合格"} if lang == "zh" else {}
        assert status.value == words.get(inst["status"], inst["status"])
        assert status.fill.fgColor.rgb.endswith(
            {"ok": "C6EFCE", "warn": "FFEB9C", "fail": "FFC7CE"}[inst["status"]]
        )
    forms, checks = book.worksheets[1], book.worksheets[2]
    assert forms.max_row > len(by_code) and isinstance(forms.cell(2, 3).value, int)
    failures = {
        (r[0].value, r[1].value, r[2].value): r[3].value for r in checks.iter_rows(min_row=2)
    }
    assert failures == {
        (c["form"], c["column"], c["check"]): c["failures"] for c in document["checks"]
    }
    assert (
        sheet.column_dimensions["A"].width >= 2 * 8
    )  # the longest name: eight-plus Chinese characters
    refused = RUNNER.invoke(app, [*args[:4], "--format", "xlsx"])
    assert refused.exit_code == 2 and "--output" in refused.stderr


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_validate_never_folds_a_file_line_reference(lang: str) -> None:
    root = Path(__file__).resolve().parent.parent
    narrow = CliRunner(env={"COLUMNS": "60", "NO_COLOR": "1", "TERM": "dumb"})
    result = narrow.invoke(app, ["validate", str(root / "samples/batch/xuanwu"), "--lang", lang])
    assert result.exit_code == 1
    references = [line.split()[0] for line in result.stdout.splitlines() if ".csv:" in line]
    assert len(references) >= 4
    for reference in references:
        path, _, line = reference.rpartition(":")
        assert Path(path).is_file() and line.isdigit(), reference
    assert ("无效：" in result.stdout) == (lang == "zh")
