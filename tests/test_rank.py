"""`nj-audit rank`: the published 2022 hospitals table, its GB18030 and xlsx copies, English
headers, schema failures, and the csv output of `audit` read back with the same statuses."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.codes import gb32100_check_char

ROOT = Path(__file__).resolve().parents[1]
HOSPITALS = ROOT / "samples" / "hospitals_2022.csv"
ENV = {"COLUMNS": "200", "NO_COLOR": "1"}

# The status the default policy gives each hospital, worked out by hand from the published row
# (coverage warn < 11, fail < 6; rates warn < 90%, fail < 60%; upload days / 365 warn < 0.95,
# fail < 0.80; a `/` rate raises only no_data, a warning).
EXPECTED = {
    "江苏省中医院": "warn",  # 355/365 = 0.973, 11/11, 95.40%; discharge 85.40% < 90%
    "南京鼓楼医院": "warn",  # outpatient 78.20% < 90%
    "江苏省人民医院": "fail",  # outpatient 20.20% < 60%
    "南京市儿童医院": "fail",  # outpatient 48.00% < 60%
    "东部战区总医院": "fail",  # discharge 57.50% < 60%
    "江苏省肿瘤医院": "warn",  # 6/11 (warn, not < 6), outpatient 76.70%
    "东南大学附属中大医院": "ok",  # 365 days, 11/11, 92.20%, 94.00%
    "南京市第一医院": "warn",  # 6/11, 71.70%, 79.70%: all warnings
    "南京市第二医院": "ok",  # 356/365 = 0.975; outpatient exactly 90.00% is not below 90%
    "南京同仁医院": "ok",  # 360/365 = 0.986, 97.80%, 98.50%
    "南京医科大学第二附属医院": "warn",  # 342/365 = 0.937 < 0.95; 6/11
    "南京医科大学第四附属医院": "fail",  # 14.10%, 7.20%
    "中国医学科学院皮肤病研究所": "fail",  # 0/11
    "南京江北医院": "fail",  # 5/11 < 6
    "南京市中西医结合医院": "warn",  # outpatient 63.00%
    "泰康仙林鼓楼医院": "fail",  # 0/11 (the `/` rates add only no_data)
    "江苏省口腔医院": "fail",  # 0/11
    "南京医科大学附属眼科医院": "fail",  # discharge 57.90% < 60%; 10/11
    "东部战区空军医院": "fail",  # 40/365 = 0.11 upload days, 0/11
    "南京市职业病防治院": "warn",  # 358/365 = 0.981, 6/11, 90.60%, 96.00%
    "江苏民政康复医院": "fail",  # 115/365 = 0.32, 0/11
}
EXPECTED_FLAGS = {
    "江苏省中医院": ["discharge_rate"],
    "泰康仙林鼓楼医院": ["coverage", "no_data"],
    "东部战区空军医院": ["coverage", "upload_days", "no_data"],
    "南京市第二医院": [],
}


def run(*args: object):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, [str(a) for a in args], env=ENV)


def statuses(stdout: str) -> dict[str, str]:
    return {i["name"] or i["org_code"]: i["status"] for i in json.loads(stdout)["institutions"]}


def published_rows() -> list[list[str]]:
    with open(HOSPITALS, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return path


def test_published_table_gets_the_policy_statuses() -> None:
    result = run("rank", HOSPITALS, "--format", "json")
    assert result.exit_code == 1, result.stderr
    assert result.stderr == ""
    document = json.loads(result.stdout)
    got = statuses(result.stdout)
    assert len(got) == 32
    assert {name: got[name] for name in EXPECTED} == EXPECTED
    flags = {i["name"]: [f["flag"] for f in i["flags"]] for i in document["institutions"]}
    assert {name: flags[name] for name in EXPECTED_FLAGS} == EXPECTED_FLAGS
    first = next(i for i in document["institutions"] if i["name"] == "江苏省中医院")
    assert first["forms_covered"] == 11 and first["forms_required"] == 11
    assert first["outpatient_rate"] == 0.954 and first["upload_day_ratio"] == 355 / 365
    assert first["valid_ratio"] is None and first["records"] is None  # the table has no such column
    assert document["checks"] == [] and document["passed"] is False


def test_table_output_ranks_and_flags_the_weak() -> None:
    result = run("rank", HOSPITALS)
    assert result.exit_code == 1
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    first = next(n for n, line in enumerate(lines) if "江苏省中医院" in line)
    last = next(n for n, line in enumerate(lines) if "江苏民政康复医院" in line)
    assert first < last  # ranked by rows uploaded, descending
    assert "coverage upload_days no_data" in lines[last]
    assert (
        "gate FAILED (--fail-on fail, policy: defaults): 32 institutions, 3 ok, 11 warn, 18 fail"
        in result.stdout
    )


def test_gb18030_and_xlsx_copies_give_the_same_document(tmp_path: Path) -> None:
    rows = published_rows()
    gb = write_csv(tmp_path / "hospitals_gb18030.csv", rows, "gb18030")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["2022年度南京市卫生信息平台数据采集情况（医院）"])  # a title above the header
    sheet.append([*rows[0], "备注"])
    for row in rows[1:]:
        cells: list[object] = [row[0], int(row[1]), int(row[2]), row[3], int(row[4])]
        for count, rate in ((None, row[5]), (int(row[6]), row[7])):
            if count is not None:
                cells.append(count)
            cells.append(
                rate if rate == "/" else float(Decimal(rate.rstrip("%")) / 100)
            )  # as typed
        sheet.append([*cells, "extra column, ignored"])
        for column in (6, 8):
            sheet.cell(sheet.max_row, column).number_format = "0.00%"
    book.save(tmp_path / "hospitals.xlsx")
    expected = run("rank", HOSPITALS, "--format", "json")
    for copy in (gb, tmp_path / "hospitals.xlsx"):
        result = run("rank", copy, "--format", "json")
        assert result.exit_code == 1, result.stderr
        assert json.loads(result.stdout) == json.loads(expected.stdout)
    table = run("rank", tmp_path / "hospitals.xlsx")
    assert "泰康仙林鼓楼医院" in table.stdout and "18 fail" in table.stdout


def test_english_headers_ratios_and_extra_columns(tmp_path: Path) -> None:
    rows = published_rows()
    header = [
        "Institution",
        "rows_uploaded",
        "upload_days",
        "forms",
        "outpatient_visits",
        "outpatient_rate",
        "discharges",
    ]
    header += ["discharge_rate", "remark"]
    body = [
        [*r[:5], r[5] if r[5] == "/" else str(Decimal(r[5].rstrip("%")) / 100), *r[6:], "x"]
        for r in rows[1:]
    ]
    result = run("rank", write_csv(tmp_path / "english.csv", [header, *body]), "--format", "json")
    assert result.exit_code == 1, result.stderr
    assert statuses(result.stdout) == statuses(run("rank", HOSPITALS, "--format", "json").stdout)


def test_rank_csv_output_reads_back(tmp_path: Path) -> None:
    for lang in ("en", "zh"):
        out = tmp_path / f"ranked_{lang}.csv"
        assert (
            run("rank", HOSPITALS, "--format", "csv", "--lang", lang, "--output", out).exit_code
            == 1
        )
        again = run("rank", out, "--format", "json")
        assert again.exit_code == 1, again.stderr
        assert statuses(again.stdout) == statuses(run("rank", HOSPITALS, "--format", "json").stdout)


def test_a_slash_rate_raises_only_no_data(tmp_path: Path) -> None:
    rows = [published_rows()[0], ["甲医院", "100", "365", "11/11", "10", "/", "5", "95.00%"]]
    result = run("rank", write_csv(tmp_path / "t.csv", rows), "--format", "json")
    assert result.exit_code == 0, result.stderr  # a warning does not fail the default gate
    (inst,) = json.loads(result.stdout)["institutions"]
    assert inst["status"] == "warn"
    assert [f["flag"] for f in inst["flags"]] == ["no_data"]
    assert run("rank", tmp_path / "t.csv", "--fail-on", "warn", "--format", "json").exit_code == 1


def test_fail_on_never_and_period_days(tmp_path: Path) -> None:
    assert run("rank", HOSPITALS, "--fail-on", "never", "--format", "markdown").exit_code == 0
    longer = run("rank", HOSPITALS, "--period-days", "400", "--format", "json")
    assert statuses(longer.stdout)["东南大学附属中大医院"] == "warn"  # 365/400 = 0.91 < 0.95
    shorter = run("rank", HOSPITALS, "--period-days", "360", "--format", "json")
    assert shorter.exit_code == 1
    assert "within_period_days" in shorter.stderr  # 361-365 upload days do not fit in 360


def test_schema_failures_are_reported_and_the_valid_rows_still_ranked(tmp_path: Path) -> None:
    rows = published_rows()
    rows[1][3] = "12/11"  # 江苏省中医院, line 2: k > n
    rows[4][2] = "366"  # 南京市儿童医院, line 5: more upload days than the period
    rows[8][5] = "120%"  # 东南大学附属中大医院, line 9
    rows[12][7] = ""  # 南京同仁医院, line 13: a blank rate (not `/`)
    result = run("rank", write_csv(tmp_path / "bad.csv", rows), "--format", "json")
    assert result.exit_code == 1
    for text in (
        "fraction_not_above",
        "bad.csv:2 '12/11'",
        "within_period_days",
        "bad.csv:5 '366'",
    ):
        assert text in result.stderr
    assert "rate_in_range" in result.stderr and "not_blank" in result.stderr
    assert "invalid: 4 of 32 rows" in result.stderr
    document = json.loads(result.stdout)
    by_name = {i["name"]: i for i in document["institutions"]}
    broken = {
        name for name, i in by_name.items() if any(f["flag"] == "invalid_row" for f in i["flags"])
    }
    assert broken == {"江苏省中医院", "南京市儿童医院", "东南大学附属中大医院", "南京同仁医院"}
    assert (
        by_name["东南大学附属中大医院"]["status"] == "fail"
        and by_name["东南大学附属中大医院"]["outpatient_rate"] is None
    )
    assert by_name["南京市儿童医院"]["upload_days"] is None
    assert statuses(result.stdout)["南京鼓楼医院"] == "warn"  # the valid rows are ranked as before
    assert {(c["column"], c["check"]) for c in document["checks"]} >= {
        ("forms", "fraction_not_above")
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,rows\nA,1\n", "no institution column"),
        ("接入单位,institution\nA,B\n", "are both institution"),
        ("institution,rows_uploaded,note,rows_uploaded\nA,1,x,2\n", "repeats rows_uploaded"),
        ("接入单位,接入单位\nA,B\n", "repeats 接入单位"),
    ],
)
def test_unreadable_tables_exit_2(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(content, encoding="utf-8")
    result = run("rank", path)
    assert result.exit_code == 2
    assert message in result.stderr and str(path) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_repeated_extra_column_is_ignored(tmp_path: Path, suffix: str) -> None:
    """Columns other than the table's are ignored, repeated or not; one of the table's repeated
    is refused, named (which one would count?)."""
    rows = [["institution", "note", "note", "upload_days"], ["A", "x", "y", "365"]]
    path = tmp_path / f"t{suffix}"
    if suffix == ".xlsx":
        book = openpyxl.Workbook()
        for row in rows:
            book.active.append(row)
        book.save(path)
    else:
        path.write_text("".join(",".join(row) + "\n" for row in rows), encoding="utf-8")
    result = run("rank", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    [institution] = json.loads(result.stdout)["institutions"]
    assert institution["upload_days"] == 365 and institution["status"] == "ok"
    if suffix == ".xlsx":
        book.active.append(["B", "", "", "365"])
        book.active.cell(1, 2).value = "upload_days"
        book.save(path)
        refused = run("rank", path)
        assert refused.exit_code == 2 and "the header repeats upload_days" in refused.stderr


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    assert run("rank", tmp_path / "missing.csv").exit_code == 2
    assert run("rank", HOSPITALS, "--sort", "nonsense").exit_code == 2
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    result = run("rank", tmp_path / "broken.xlsx")
    assert result.exit_code == 2 and "cannot read xlsx" in result.stderr


# -- audit's csv output is a summary table ---------------------------------------------------------


def _org(n: int) -> str:
    first = f"12320100MB{n:07d}"
    return first + gb32100_check_char(first)


def _batch(folder: Path) -> None:
    """Three institutions, March 2022: on time every day (ok); a day late (rates 0%, fail); on
    time but on 29 days of 31 (upload days 0.935, warn)."""
    folder.mkdir()
    envelope = [
        "org_code",
        "record_id",
        "event_time",
        "upload_time",
        "patient_id",
        "sex_code",
        "birth_date",
    ]
    visits = [[*envelope, "visit_type", "dept_code", "diagnosis_code", "doctor_id"]]
    discharge = [
        "admission_no",
        "admission_time",
        "dept_code",
        "primary_diagnosis",
        "discharge_method",
        "total_fee",
    ]
    discharges = [[*envelope, *discharge]]
    for n, (late, days) in enumerate(((False, 31), (True, 30), (False, 29)), start=1):
        for day in range(1, days + 1):
            event = f"2022-03-{day:02d} 09:00:00"
            upload = f"2022-03-{day + 1:02d} 15:00:00" if late else f"2022-03-{day:02d} 10:00:00"
            head = [_org(n), f"{n}-{day}", event, upload, f"p{day}"]
            visits.append([*head, "1", "1980-01-01", "1", "D01", "J06.900", "d1"])
            discharges.append(
                [
                    *head,
                    "2",
                    "1970-05-05",
                    f"a{day}",
                    "2022-02-20 08:00:00",
                    "D02",
                    "I10.x00",
                    "1",
                    "1200.5",
                ]
            )
    write_csv(folder / "outpatient_visit.csv", visits)
    write_csv(folder / "inpatient_discharge.csv", discharges)
    (folder.parent / "policy.toml").write_text("[coverage]\nwarn = 2\nfail = 1\n", encoding="utf-8")


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_audit_csv_output_ranks_with_the_same_statuses(
    tmp_path: Path, lang: str, suffix: str
) -> None:
    """The csv (and the xlsx, the same table in a workbook) ranks back to the audit's flags."""
    _batch(tmp_path / "batch")
    policy = ("--policy", tmp_path / "policy.toml")
    audited = run(
        "audit", tmp_path / "batch", *policy, "--period", "2022-03", "--format", "json", "-q"
    )
    assert audited.exit_code in (0, 1), audited.stderr
    table = tmp_path / f"audit{suffix}"
    options = ("--period", "2022-03", "--lang", lang, "--output", table)
    written = run("audit", tmp_path / "batch", *policy, *options)
    assert written.exit_code == audited.exit_code
    ranked = run("rank", table, *policy, "--period-days", "31", "--format", "json")
    assert ranked.stderr == ""
    assert ranked.exit_code == audited.exit_code
    want = {
        i["org_code"]: (i["status"], [f["flag"] for f in i["flags"]])
        for i in json.loads(audited.stdout)["institutions"]
    }
    got = {
        i["org_code"]: (i["status"], [f["flag"] for f in i["flags"]])
        for i in json.loads(ranked.stdout)["institutions"]
    }
    assert got == want
    assert sorted(status for status, _ in want.values()) == ["fail", "ok", "warn"]


def test_a_period_days_column_sets_the_period(tmp_path: Path) -> None:
    header = ["接入单位", "数据上传天数", "实时数据表单上传情况", "统计天数"]
    path = write_csv(
        tmp_path / "march.csv", [header, ["甲", "31", "11/11", "31"], ["乙", "28", "11/11", "31"]]
    )
    result = run("rank", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    by_name = {i["name"]: i for i in json.loads(result.stdout)["institutions"]}
    assert by_name["甲"]["upload_day_ratio"] == 1.0 and by_name["甲"]["status"] == "ok"
    assert by_name["乙"]["status"] == "warn"  # 28/31 = 0.90 < 0.95
    assert (
        by_name["甲"]["outpatient_rate"] is None and by_name["甲"]["flags"] == []
    )  # no rate columns: no no_data
    assert (
        run("rank", path, "--period-days", "30", "--format", "json").exit_code == 1
    )  # 31 days do not fit in 30


@pytest.mark.parametrize("kind", ["utf-8", "gb18030", "xlsx"])
def test_a_table_without_a_row_fails_the_gate_unless_allowed(kind: str, tmp_path: Path) -> None:
    """As an audit that read no data row (contract § 5): exit 1, or 0 with --allow-empty; the
    document lists no institution."""
    header = published_rows()[0]
    if kind == "xlsx":
        book = openpyxl.Workbook()
        book.active.append(header)
        table = tmp_path / "hospitals.xlsx"
        book.save(table)
    else:
        table = write_csv(tmp_path / "hospitals.csv", [header], kind)
    result = run("rank", table, "--format", "json")
    assert result.exit_code == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["institutions"] == [] and document["passed"] is False
    assert "no data rows were read" in result.stderr
    allowed = run("rank", table, "--format", "json", "--allow-empty")
    assert allowed.exit_code == 0 and json.loads(allowed.stdout)["passed"] is True


def test_the_document_holds_the_tables_visits_and_discharges() -> None:
    """SPEC § 7: the document has the fields the table provides: 门急诊人次 and 出院人次 too."""
    document = json.loads(run("rank", HOSPITALS, "--format", "json").stdout)
    first = next(i for i in document["institutions"] if i["name"] == "江苏省中医院")
    assert (first["outpatient_visits"], first["discharges"]) == (6430599, 89923)
    assert first["forms"] == {}


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_audit_without_a_period_ranks_back_without_one(tmp_path: Path, suffix: str) -> None:
    """No upload_time readable: no period, so period_days and upload_day_ratio are null (no
    upload_days flag); the table writes `/` for the period and rank reads it back as none."""
    from builders import valid_row, write_csv

    batch = tmp_path / "batch"
    rows = [valid_row("outpatient_visit", record_id=f"R{n}", upload_time="") for n in range(2)]
    write_csv(batch / "outpatient_visit.csv", rows)
    audited = run("audit", batch, "--format", "json")
    document = json.loads(audited.stdout)
    [inst] = document["institutions"]
    assert document["period"] is None and inst["period_days"] is None
    flags = [f["flag"] for f in inst["flags"]]
    assert inst["upload_day_ratio"] is None and "upload_days" not in flags
    table = tmp_path / f"audit{suffix}"
    assert run("audit", batch, "-o", table).exit_code == audited.exit_code
    ranked = json.loads(run("rank", table, "--format", "json").stdout)
    [back] = ranked["institutions"]
    assert back["period_days"] is None and back["upload_day_ratio"] is None
    assert [f["flag"] for f in back["flags"]] == flags  # the table has valid_ratio too


def test_one_row_per_institution_by_org_code_where_the_table_has_it(tmp_path: Path) -> None:
    def invalid(*rows: list[str], header: tuple[str, ...] = ("institution", "org_code")) -> set:
        path = write_csv(tmp_path / "t.csv", [list(header), *rows])
        document = json.loads(run("rank", path, "--format", "json").stdout)
        return {
            (i["name"], i["org_code"])
            for i in document["institutions"]
            if "invalid_row" in [f["flag"] for f in i["flags"]]
        }

    assert invalid(["人民医院", "A1"], ["人民医院", "B2"]) == set()  # two institutions, one name
    assert invalid(["甲", "A1"], ["乙", "A1"]) == {("甲", "A1"), ("乙", "A1")}  # one code twice
    assert invalid(["甲", ""], ["甲", ""]) == {("甲", None)}
    assert invalid(["甲"], ["甲"], ["乙"], header=("institution",)) == {("甲", None)}


def test_headers_match_whatever_their_case_spaces_underscores_and_hyphens(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "Institution,Outpatient Rate,discharge-rate\nA,50.00%,95.00%\n", encoding="utf-8"
    )
    document = json.loads(run("rank", path, "--format", "json").stdout)
    [institution] = document["institutions"]
    assert institution["outpatient_rate"] == 0.5 and institution["discharge_rate"] == 0.95
    assert institution["status"] == "fail"  # not ignored: the rate's flag is raised
    markdown = run("rank", path, "--format", "markdown").stdout
    assert "Period not stated; real-time window" in markdown  # a table states no dates


def test_a_slash_in_a_count_column_is_no_number_but_not_blank(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("institution,discharges\nA,/\nB,\nC,3\n", "utf-8")
    document = json.loads(run("rank", path, "--format", "json").stdout)
    failing = {(c["column"], c["check"]): c["failures"] for c in document["checks"]}
    assert failing == {("discharges", "number_format"): 1, ("discharges", "not_blank"): 1}
