"""Contract § 4 on hand-made rows: corrections, window edges, offsets, period, missing ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nj_audit.audit import run_audit
from nj_audit.cli import app
from nj_audit.period import parse_period
from nj_audit.policy import Policy
from nj_audit.requests import AuditRequest

from builders import VISIT_ORG as ORG
from builders import VISIT_ORG2 as ORG2
from builders import timed_visit as visit
from builders import write_rows as write


def audit_forms(paths: list[Path], **kwargs: object) -> dict:
    result = run_audit(AuditRequest(paths=paths, **kwargs))  # type: ignore[arg-type]
    return {i.org_code: i for i in result.institutions}


def test_window_edges_are_inclusive(tmp_path: Path) -> None:
    rows = [
        visit("a", "2022-03-01 10:00:00", "2022-03-02 10:00:00"),  # exactly 24:00:00 -> real-time
        visit("b", "2022-03-01 10:00:00", "2022-03-02 10:00:01"),  # 24:00:01 -> late
        visit("c", "2022-03-01 10:00:00", "2022-03-01 10:00:00"),  # 0 s -> real-time
    ]
    inst = audit_forms([write(tmp_path / "outpatient_visit.csv", rows)])[ORG]
    form = inst.forms["outpatient_visit"]
    assert (form.records, form.valid_records, form.realtime_records) == (3, 3, 2)
    assert form.rate == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("window", "expected"), [("2h", 1), ("90m", 0), ("1d", 2), ("3600s", 0), ("7200s", 1)]
)
def test_window_option(tmp_path: Path, window: str, expected: int) -> None:
    rows = [
        visit("a", "2022-03-01 10:00:00", "2022-03-01 12:00:00"),  # 2 h
        visit("b", "2022-03-01 10:00:00", "2022-03-02 09:00:00"),  # 23 h
    ]
    path = write(tmp_path / "outpatient_visit.csv", rows)
    result = CliRunner().invoke(app, ["audit", str(path), "--window", window, "--format", "json"])
    assert result.exit_code in (0, 1), result.stderr
    doc = json.loads(result.stdout)
    assert doc["institutions"][0]["forms"]["outpatient_visit"]["realtime_records"] == expected


def test_correction_across_files_earliest_decides_realtime_latest_decides_valid(
    tmp_path: Path,
) -> None:
    first = write(
        tmp_path / "a" / "outpatient_visit.csv",
        [
            visit(
                "r1", "2022-03-01 10:00:00", "2022-03-01 11:00:00", diagnosis_code="bad"
            ),  # on time, invalid
            visit("r2", "2022-03-01 10:00:00", "2022-03-01 11:00:00"),  # on time, valid
        ],
    )
    second = write(
        tmp_path / "b" / "outpatient_visit_fix.csv",
        [
            visit("r1", "2022-03-01 10:00:00", "2022-03-05 11:00:00"),  # late correction, valid
            visit(
                "r2", "2022-03-01 10:00:00", "2022-03-05 11:00:00", diagnosis_code="bad"
            ),  # late, invalid
        ],
    )
    form = audit_forms([first, second])[ORG].forms["outpatient_visit"]
    assert form.rows == 4
    assert form.records == 2
    assert form.valid_records == 1  # r1's latest is valid, r2's latest is not
    assert form.realtime_records == 1  # r1: earliest on time and latest valid


def test_upload_time_tie_takes_the_later_row_in_path_order(tmp_path: Path) -> None:
    same = "2022-03-01 11:00:00"
    a = write(tmp_path / "a" / "outpatient_visit.csv", [visit("r1", "2022-03-01 10:00:00", same)])
    b = write(
        tmp_path / "b" / "outpatient_visit.csv",
        [visit("r1", "2022-03-01 10:00:00", same, sex_code="7")],
    )
    form = audit_forms([b, a])[ORG].forms["outpatient_visit"]  # order of arguments does not matter
    assert (form.records, form.valid_records, form.realtime_records) == (1, 0, 0)
    # within one file: the later row wins
    c = write(tmp_path / "c" / "outpatient_visit.csv",
              [visit("r1", "2022-03-01 10:00:00", same, sex_code="7"),
               visit("r1", "2022-03-01 10:00:00", same)])  # fmt: skip
    form = audit_forms([c])[ORG].forms["outpatient_visit"]
    assert (form.records, form.valid_records, form.realtime_records) == (1, 1, 1)


def test_corrections_spread_over_chunks_give_the_same_counts(tmp_path: Path) -> None:
    rows = [
        visit(f"r{i % 7}", "2022-03-01 10:00:00", f"2022-03-0{1 + i % 5} 1{i % 10}:00:00")
        for i in range(40)
    ]
    path = write(tmp_path / "outpatient_visit.csv", rows)
    whole = audit_forms([path])[ORG].forms
    for chunk_rows in (1, 3, 7, 1000):
        assert audit_forms([path], chunk_rows=chunk_rows)[ORG].forms == whole


def test_missing_record_id_is_a_record_of_its_own(tmp_path: Path) -> None:
    rows = [visit(None, "2022-03-01 10:00:00", "2022-03-01 11:00:00") for _ in range(3)]
    form = audit_forms([write(tmp_path / "outpatient_visit.csv", rows)])[ORG].forms[
        "outpatient_visit"
    ]
    assert (form.rows, form.records, form.valid_records, form.realtime_records) == (3, 3, 0, 0)


def test_invalid_and_missing_org_codes_are_institutions_of_their_own(tmp_path: Path) -> None:
    rows = [
        visit("a", "2022-03-01 10:00:00", "2022-03-01 11:00:00", org="123"),
        visit("b", "2022-03-01 10:00:00", "2022-03-01 11:00:00", org=""),
        visit("c", "2022-03-01 10:00:00", "2022-03-01 11:00:00"),
    ]
    by_org = audit_forms([write(tmp_path / "outpatient_visit.csv", rows)])
    assert set(by_org) == {"123", "(missing)", ORG}
    assert by_org["123"].forms["outpatient_visit"].valid_records == 0
    assert by_org["(missing)"].rows_uploaded == 1


def test_offsets_convert_to_local_time_across_midnight(tmp_path: Path) -> None:
    rows = [
        # 16:30Z is 00:30 the next day in Shanghai: upload day 2022-03-02, 1 h after the event
        visit("a", "2022-03-01T23:30:00+08:00", "2022-03-01T16:30:00Z"),
        visit("b", "2022-03-01 23:00:00", "2022-03-01T15:30:00+00:00"),  # 23:30 local
    ]
    inst = audit_forms([write(tmp_path / "outpatient_visit.csv", rows)])[ORG]
    assert inst.forms["outpatient_visit"].realtime_records == 2
    assert inst.upload_days == 2


def test_period_edges_and_rows_without_upload_time(tmp_path: Path) -> None:
    rows = [
        visit("a", "2022-02-28 10:00:00", "2022-02-28 23:59:59"),  # before March: left out
        visit("b", "2022-03-01 00:00:00", "2022-03-01 00:00:00"),  # first second of March: in
        visit("c", "2022-03-31 10:00:00", "2022-03-31 23:59:59"),  # last second: in
        visit("d", "2022-03-31 10:00:00", "2022-04-01 00:00:00"),  # April: out
        visit("e", "2022-03-15 10:00:00", "not a time"),  # unreadable upload: kept, never real-time
    ]
    inst = audit_forms(
        [write(tmp_path / "outpatient_visit.csv", rows)], period=parse_period("2022-03")
    )[ORG]
    form = inst.forms["outpatient_visit"]
    assert (form.rows, form.records, form.valid_records, form.realtime_records) == (3, 3, 2, 2)
    assert inst.upload_days == 2
    assert inst.period_days == 31
    assert inst.upload_day_ratio == pytest.approx(2 / 31)


def test_period_without_option_spans_the_upload_dates(tmp_path: Path) -> None:
    rows = [
        visit("a", "2022-03-01 10:00:00", "2022-03-01 11:00:00"),
        visit("b", "2022-03-09 10:00:00", "2022-03-10 09:00:00"),
    ]
    path = write(tmp_path / "outpatient_visit.csv", rows)
    doc = json.loads(CliRunner().invoke(app, ["audit", str(path), "--format", "json"]).stdout)
    assert doc["period"] == {"start": "2022-03-01", "end": "2022-03-10", "days": 10}
    assert doc["institutions"][0]["upload_days"] == 2
    assert doc["institutions"][0]["upload_day_ratio"] == pytest.approx(0.2)


def test_event_after_upload_is_invalid_and_not_realtime(tmp_path: Path) -> None:
    rows = [visit("a", "2022-03-01 12:00:00", "2022-03-01 11:00:00")]
    form = audit_forms([write(tmp_path / "outpatient_visit.csv", rows)])[ORG].forms[
        "outpatient_visit"
    ]
    assert (form.valid_records, form.realtime_records) == (0, 0)


def test_coverage_counts_realtime_forms_with_enough_realtime_records(tmp_path: Path) -> None:
    path = write(
        tmp_path / "outpatient_visit.csv",
        [visit("a", "2022-03-01 10:00:00", "2022-03-01 11:00:00")],
    )
    late = write(
        tmp_path / "x" / "outpatient_visit.csv",
        [visit("z", "2022-03-01 10:00:00", "2022-03-09 11:00:00", org=ORG2)],
    )
    by_org = audit_forms([path, late])
    assert by_org[ORG].forms_covered == 1
    assert by_org[ORG2].forms_covered == 0
    strict = Policy(coverage_min_records=2)
    assert audit_forms([path], policy=strict)[ORG].forms_covered == 0


def test_registry_district_rollup(tmp_path: Path) -> None:
    a = write(
        tmp_path / "a" / "outpatient_visit.csv",
        [visit("a", "2022-03-01 10:00:00", "2022-03-01 11:00:00")],
    )
    b = write(
        tmp_path / "b" / "outpatient_visit.csv",
        [visit("b", "2022-03-01 10:00:00", "2022-03-04 11:00:00", org=ORG2)],
    )
    registry = tmp_path / "registry.csv"
    registry.write_text(
        f"org_code,name,district\n{ORG},甲医院,玄武区\n{ORG2},乙医院,玄武区\n", encoding="utf-8"
    )
    runner = CliRunner()
    per_org = json.loads(
        runner.invoke(
            app, ["audit", str(a), str(b), "--registry", str(registry), "--format", "json"]
        ).stdout
    )
    assert {i["name"] for i in per_org["institutions"]} == {"甲医院", "乙医院"}
    out = runner.invoke(
        app,
        [
            "audit",
            str(a),
            str(b),
            "--registry",
            str(registry),
            "--by",
            "district",
            "--format",
            "json",
        ],
    )
    document = json.loads(out.stdout)
    assert [i["org_code"] for i in document["institutions"]] == sorted([ORG, ORG2])  # as they are
    district = document["districts"]
    assert len(district) == 1
    row = district[0]
    assert row["name"] == "玄武区" and row["members"] == sorted(["甲医院", "乙医院"])
    assert row["rows_uploaded"] == 2 and row["records"] == 2
    assert row["outpatient_rate"] == pytest.approx(0.5)  # recomputed from the sums
    assert row["upload_days"] == 2  # 03-01 and 03-04: distinct dates of any member
    assert row["forms_covered"] == 1  # covered when any member covers it


def test_unregistered_and_missing_org_with_registry(tmp_path: Path) -> None:
    rows = [
        visit("a", "2022-03-01 10:00:00", "2022-03-01 11:00:00"),
        visit("b", "2022-03-01 10:00:00", "2022-03-01 11:00:00", org=""),
    ]
    path = write(tmp_path / "outpatient_visit.csv", rows)
    registry = tmp_path / "registry.csv"
    registry.write_text("org_code,name,district\n123,x,y\n", encoding="utf-8")
    doc = json.loads(
        CliRunner()
        .invoke(app, ["audit", str(path), "--registry", str(registry), "--format", "json"])
        .stdout
    )
    flags = {inst["org_code"]: [f["flag"] for f in inst["flags"]] for inst in doc["institutions"]}
    assert "unregistered" in flags[ORG] and "unregistered" in flags["(missing)"]
    assert "no_uploads" in flags["123"] and "unregistered" not in flags["123"]  # listed, failing


def test_a_blank_registry_name_or_district_is_none(tmp_path: Path) -> None:
    path = write(
        tmp_path / "outpatient_visit.csv",
        [visit("a", "2022-03-01 10:00:00", "2022-03-01 11:00:00")],
    )
    registry = tmp_path / "registry.csv"
    registry.write_text(f"org_code,name,district\n{ORG},,\n", encoding="utf-8")
    args = ["audit", str(path), "--registry", str(registry), "--format", "json"]
    [inst] = json.loads(CliRunner().invoke(app, args).stdout)["institutions"]
    assert inst["org_code"] == ORG and inst["name"] is None and inst["district"] is None
