"""`--by district` (docs/contract.md § 4.8): the published district table from the uploads, its
members, the `members` flag, the JSON's `districts` beside the real institutions, the same from a
store and on Dask, and the district CSV read back by `rank`."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.hashing import text_hashes

from builders import (
    CLI_ENV,
    display_width,
    make_org_code,
    numbered_id_card,
    valid_row,
    visit,
    write_csv,
)

RUNNER = CliRunner(env=CLI_ENV)
ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
PUBLISHED = (  # the published district table's columns (2022年度...数据采集情况（区）)
    "接入单位", "数据上传量", "数据上传天数", "实时数据表单上传情况", "门急诊人次",
    "门急诊实时数据符合率", "出院人次", "出院实时数据符合率", "基本信息", "高血压", "糖尿病",
)  # fmt: skip
ARCHIVES = {
    "health_record": "基本信息",
    "hypertension_followup": "高血压",
    "diabetes_followup": "糖尿病",
}
ORG_A = make_org_code("12320100466000021")  # 甲, 乙: 玄武区; 丙: 秦淮区
ORG_B = make_org_code("12320100466000022")
ORG_C = make_org_code("12320100466000023")


def _run(*args: str) -> str:
    result = RUNNER.invoke(app, [*args, "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    return result.stdout


def _invalid_lines() -> set[tuple[str, int]]:
    """(file, line) of every invalid row of the samples, as `validate` finds them."""
    done = RUNNER.invoke(app, ["validate", "samples/batch", "--format", "csv"])
    assert done.exit_code in (0, 1), done.output
    text = done.stdout
    return {(row["file"], int(row["line"])) for row in csv.DictReader(text.splitlines())}


def _upload(text: str) -> datetime:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return datetime.min  # unreadable: never the latest upload


def test_the_district_csv_is_the_published_table_with_archives_counted_by_hand(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)  # validate and audit name the files relative to here
    batch, registry = "samples/batch", "samples/registry.csv"
    text = _run("audit", batch, "--registry", registry, "--by", "district", "--format", "csv",
                "--lang", "zh")  # fmt: skip
    rows = list(csv.reader(text.lstrip("\ufeff").splitlines()))
    assert tuple(rows[0][: len(PUBLISHED)]) == PUBLISHED
    assert rows[0][len(PUBLISHED) : len(PUBLISHED) + 3] == [
        "成员机构数",
        "不合格成员数",
        "成员最差状态",
    ]
    assert len(rows[0]) == len(set(rows[0]))  # no column twice
    table = {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}
    # by hand: each record's latest upload (greatest upload_time, ties: the later row, files in
    # path order); its id_card counted once per district when that row is valid
    districts = {
        row["org_code"]: row["district"]
        for row in csv.DictReader(Path(registry).read_text(encoding="utf-8").splitlines())
    }
    invalid = _invalid_lines()
    latest: dict[tuple[str, str, str], tuple[datetime, int, bool, str]] = {}
    order = 0
    for path in sorted(Path(batch).rglob("*.csv")):
        form = next((f for f in ARCHIVES if path.name.startswith(f)), None)
        if form is None:
            continue
        raw = path.read_bytes()
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            content = raw.decode("gb18030")  # a GB18030 upload (contract § 2.4)
        reader = csv.DictReader(io.StringIO(content, newline=""))
        for found in reader:
            row = {k: (v or "").strip() for k, v in found.items() if k}
            order += 1
            if not row["record_id"]:  # a record of its own: invalid (record_id is required)
                continue
            key = (row["org_code"], form, row["record_id"])
            seen = (_upload(row["upload_time"]), order)
            valid = (str(path), reader.line_num) not in invalid
            if key not in latest or seen > latest[key][:2]:
                latest[key] = (*seen, valid, row["id_card"])
    expected: dict[str, dict[str, set[str]]] = {}
    for (org, form, _), (_, _, valid, card) in latest.items():
        district = districts.get(org, "(unknown district)")
        sets = expected.setdefault(district, {f: set() for f in ARCHIVES})
        if valid and card:
            sets[form].add(card)
    assert set(table) == set(expected) | {"(unknown district)"}
    for district, row in table.items():
        counted = {form: len(ids) for form, ids in expected.get(district, {}).items()}
        assert {form: int(row[label]) for form, label in ARCHIVES.items()} == {
            form: counted.get(form, 0) for form in ARCHIVES
        }, district
    assert sum(int(row["基本信息"]) for row in table.values()) > 0


@pytest.fixture
def small(tmp_path: Path) -> tuple[Path, Path]:
    """甲 and 乙 in 玄武区, 丙 in 秦淮区: visits and health records with known outcomes."""
    folder = tmp_path / "batch"
    on_time = {"event_time": "2022-03-01 08:00:00", "upload_time": "2022-03-01 09:00:00"}
    late = {"event_time": "2022-03-01 08:00:00", "upload_time": "2022-03-03 09:00:00"}
    write_csv(
        folder / "visits" / "outpatient_visit.csv",
        [
            visit(1, org_code=ORG_A, **on_time),
            visit(2, org_code=ORG_A, **on_time),
            visit(3, org_code=ORG_B, **on_time),
            visit(4, org_code=ORG_B, **late),
            visit(5, org_code=ORG_C, event_time="2022-03-02 08:00:00",
                  upload_time="2022-03-02 09:00:00"),
        ],
    )  # fmt: skip

    def record(org: str, record_id: str, n: int) -> dict[str, str]:
        return valid_row(
            "health_record", org_code=org, record_id=record_id, id_card=numbered_id_card(n),
            birth_date="1990-03-07", sex_code="1", **on_time,
        )  # fmt: skip

    write_csv(
        folder / "archives" / "health_record.csv",
        [record(ORG_A, "H1", 1), record(ORG_B, "H1", 1), record(ORG_B, "H2", 2),
         record(ORG_C, "H1", 1)],
    )  # fmt: skip
    registry = tmp_path / "registry.csv"
    registry.write_text(
        f"org_code,name,district\n{ORG_A},甲,玄武区\n{ORG_B},乙,玄武区\n{ORG_C},丙,秦淮区\n",
        encoding="utf-8",
    )
    return folder, registry


def test_the_district_table_equals_one_computed_by_hand(small: tuple[Path, Path]) -> None:
    folder, registry = small
    text = _run("audit", str(folder), "--registry", str(registry), "--by", "district",
                "--format", "csv")  # fmt: skip
    header, *rows = list(csv.reader(text.splitlines()))
    got = [dict(zip(header, row)) for row in rows]
    # 玄武区: 4 visits + 3 records; days 03-01, 03-03 (乙's late visit); 3 of 4 visits on time;
    # residents 1 (甲 and 乙: once) and 2. 丙: 1 visit + 1 record on 03-01/03-02, resident 1.
    # Every member covers 1 of 11 forms: all fail coverage, so each district has failing members.
    assert [{k: r[k] for k in header[:17]} for r in got] == [
        {"district": "玄武区", "rows_uploaded": "7", "upload_days": "2", "forms": "1/11",
         "outpatient_visits": "4", "outpatient_rate": "75.00%", "discharges": "0",
         "discharge_rate": "/", "records_basic": "2", "records_hypertension": "0",
         "records_diabetes": "0", "members": "2", "members_failing": "2",
         "worst_member_status": "fail", "valid_ratio": "100.00%", "period_days": "3",
         "status": "fail"},
        {"district": "秦淮区", "rows_uploaded": "2", "upload_days": "2", "forms": "1/11",
         "outpatient_visits": "1", "outpatient_rate": "100.00%", "discharges": "0",
         "discharge_rate": "/", "records_basic": "1", "records_hypertension": "0",
         "records_diabetes": "0", "members": "1", "members_failing": "1",
         "worst_member_status": "fail", "valid_ratio": "100.00%", "period_days": "3",
         "status": "fail"},
    ]  # fmt: skip
    # 1 < 6 forms, 75% < 90%, 2 of 3 days < 80%, no discharge, failing members
    assert got[0]["flags"].split() == [
        "coverage", "outpatient_rate", "upload_days", "no_data", "members"]  # fmt: skip


def test_json_keeps_the_institutions_and_lists_the_districts(small: tuple[Path, Path]) -> None:
    folder, registry = small
    document = json.loads(_run("audit", str(folder), "--registry", str(registry), "--by",
                               "district", "--format", "json"))  # fmt: skip
    assert [i["org_code"] for i in document["institutions"]] == sorted([ORG_A, ORG_B, ORG_C])
    assert [i["district"] for i in document["institutions"]] == ["玄武区", "玄武区", "秦淮区"]
    xuanwu, qinhuai = document["districts"]
    assert (xuanwu["name"], qinhuai["name"]) == ("玄武区", "秦淮区")
    assert xuanwu["members"] == sorted(["甲", "乙"]) and xuanwu["members_by_status"] == {
        "ok": 0, "warn": 0, "fail": 2}  # fmt: skip
    assert xuanwu["residents"] == {"health_record": 2, "hypertension_followup": 0,
                                   "diabetes_followup": 0}  # fmt: skip
    assert xuanwu["upload_days"] == 2 and xuanwu["outpatient_rate"] == 0.75
    members = [f for f in xuanwu["flags"] if f["flag"] == "members"]
    assert members == [{"flag": "members", "severity": "warn", "label": "members",
                        "message": "2 of 2 member institutions fail"}]  # fmt: skip


def test_a_failing_member_warns_its_district_or_fails_it_as_the_policy_says(
    tmp_path: Path,
) -> None:
    lines = (SAMPLES / "registry.csv").read_text(encoding="utf-8").splitlines()
    registry = tmp_path / "xuanwu.csv"  # 玄武区 alone: its two institutions, one failing
    registry.write_text("\n".join([lines[0], *(x for x in lines if "玄武区" in x)]) + "\n", "utf-8")
    args = ["audit", str(SAMPLES / "batch" / "xuanwu"), "--registry", str(registry),
            "--by", "district"]  # fmt: skip
    document = json.loads(_run(*args, "--format", "json"))
    (xuanwu,) = document["districts"]
    assert xuanwu["members_by_status"]["fail"] == 1 and xuanwu["worst_status"] == "fail"
    assert [f["flag"] for f in xuanwu["flags"]] == ["members"] and xuanwu["status"] == "warn"
    # the gate follows the districts: a warn passes --fail-on fail, fails --fail-on warn
    assert RUNNER.invoke(app, [*args, "--fail-on", "fail"]).exit_code == 0
    failed = RUNNER.invoke(app, [*args, "--fail-on", "warn"])
    assert failed.exit_code == 1 and "1 districts, 0 ok, 1 warn, 0 fail" in failed.stdout
    policy = tmp_path / "policy.toml"
    policy.write_text('members = "fail"\n', encoding="utf-8")
    strict = RUNNER.invoke(app, [*args, "--policy", str(policy), "--format", "json"])
    assert strict.exit_code == 1 and json.loads(strict.stdout)["districts"][0]["status"] == "fail"
    policy.write_text('members = "sometimes"\n', encoding="utf-8")
    refused = RUNNER.invoke(app, [*args, "--policy", str(policy)])
    assert refused.exit_code == 2 and "members must be warn or fail" in refused.stderr


def test_the_terminal_and_markdown_name_the_failing_members() -> None:
    args = ["audit", str(SAMPLES / "batch"), "--registry", str(SAMPLES / "registry.csv"),
            "--by", "district"]  # fmt: skip
    table = _run(*args)
    assert "5 districts" in table and "institutions" not in table
    assert "南京同仁医院" in table  # 江宁区's one member, failing
    markdown = _run(*args, "--format", "markdown", "--lang", "zh")
    assert "不合格成员: 南京同仁医院" in markdown and "5 个区" in markdown


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_rank_reads_the_district_csv_back_with_the_same_statuses(tmp_path: Path, lang: str) -> None:
    args = ["audit", str(SAMPLES / "batch"), "--registry", str(SAMPLES / "registry.csv"),
            "--by", "district"]  # fmt: skip
    table = tmp_path / f"districts_{lang}.csv"
    document = json.loads(_run(*args, "--format", "json", "--output", f"csv:{table}"))
    ranked = json.loads(_run("rank", str(table), "--format", "json"))
    statuses = {d["name"]: (d["status"], [f["flag"] for f in d["flags"]])
                for d in document["districts"]}  # fmt: skip
    assert {i["name"]: (i["status"], [f["flag"] for f in i["flags"]])
            for i in ranked["institutions"]} == statuses  # fmt: skip


@pytest.mark.parametrize("how", ["state", "dask"])
def test_the_district_view_is_the_same_from_a_store_and_on_dask(
    small: tuple[Path, Path], tmp_path: Path, how: str
) -> None:
    folder, registry = small
    options = ["--registry", str(registry), "--by", "district", "--format", "json"]
    whole = json.loads(_run("audit", str(folder), *options))
    if how == "state":
        store = tmp_path / "store"
        assert RUNNER.invoke(app, ["state", "add", str(store), str(folder)]).exit_code == 0
        other = json.loads(_run("audit", "--state", str(store), *options))
    else:
        other = json.loads(_run("audit", str(folder), "--engine", "dask", *options))
    assert other == whole


def test_no_id_card_nor_its_hash_in_any_output(small: tuple[Path, Path], tmp_path: Path) -> None:
    folder, registry = small
    cards = [numbered_id_card(n) for n in (1, 2, 3, 4, 5)]
    hashes = text_hashes(pa.array(cards, type=pa.large_string()))
    needles = [*cards, *(str(h) for h in hashes.tolist()), *(f"{h:x}" for h in hashes.tolist())]
    needles += [str(np.int64(h)) for h in hashes.view(np.int64).tolist()]
    for by in ("institution", "district"):
        for output in ("table", "json", "csv", "markdown", "junit", "html", "xlsx"):
            target = tmp_path / f"{by}.{output}"
            _run("audit", str(folder), "--registry", str(registry), "--by", by,
                 "--output", f"{output}:{target}")  # fmt: skip
            data = target.read_bytes()
            if output == "xlsx":
                import zipfile

                with zipfile.ZipFile(target) as book:
                    data = b"".join(book.read(name) for name in book.namelist())
            for needle in needles:
                assert needle.encode() not in data, (by, output)


def test_junit_and_xlsx_list_the_districts(small: tuple[Path, Path], tmp_path: Path) -> None:
    import openpyxl

    folder, registry = small
    args = ["audit", str(folder), "--registry", str(registry), "--by", "district"]
    junit = _run(*args, "--format", "junit")
    assert 'tests="2"' in junit and 'name="玄武区"' in junit and 'name="秦淮区"' in junit
    book = tmp_path / "districts.xlsx"
    _run(*args, "--output", str(book))
    verdict, _policy, _blank, header, *rows = openpyxl.load_workbook(book).active.iter_rows(
        values_only=True
    )
    assert verdict[0].startswith("gate ")  # above the table: rank reads the sheet back
    assert header[:12] == (
        "district", "rows_uploaded", "upload_days", "forms", "outpatient_visits",
        "outpatient_rate", "discharges", "discharge_rate", "records_basic",
        "records_hypertension", "records_diabetes", "members",
    )  # fmt: skip
    assert [row[:3] for row in rows[:2]] == [("玄武区", 7, 2), ("秦淮区", 2, 2)]
    assert rows[0][8] == 2 and rows[0][11] == 2  # residents 1 and 2; two members


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_district_table_at_80_columns_names_the_failing_members_under_it(lang: str) -> None:
    """Every district's name, status and flags in full within 80 columns, no row taller than 3
    lines, and each district's failing members on a line of their own under the table."""
    runner = CliRunner(env={**CLI_ENV, "COLUMNS": "80"})
    args = ["audit", str(SAMPLES / "batch"), "--registry", str(SAMPLES / "registry.csv")]
    result = runner.invoke(app, [*args, "--by", "district", "--lang", lang])
    lines = result.stdout.splitlines()
    assert all(display_width(line.rstrip()) <= 80 for line in lines)
    body = [line for line in lines if line.startswith("│")]
    starts = [n for n, line in enumerate(body) if line.split("│")[1].strip().isdigit()]
    assert len(starts) == 5  # five districts, each row numbered
    heights = [b - a for a, b in zip(starts, [*starts[1:], len(body)])]
    assert max(heights) <= 3
    failing = "failing members" if lang == "en" else "不合格成员"
    listed = [line for line in lines if f" - {failing}: " in line]
    assert len(listed) == 5 and any("南京鼓楼医院" in line for line in listed)
    assert listed[0].startswith("秦淮区")  # in the table's order (rows uploaded, largest first)
