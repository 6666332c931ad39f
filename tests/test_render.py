"""Every output format rendered from hand-built results (no files, no CLI run), against golden
files: what a renderer prints depends on the result and nothing else. UPDATE_GOLDEN=1 rewrites
them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from nj_audit.period import Period
from nj_audit.policy import Policy
from nj_audit.render import csv as csv_report
from nj_audit.render import json as json_report
from nj_audit.render import junit, markdown
from nj_audit.render.console import table_text
from nj_audit.render.terminal import render_table, render_validate_table
from nj_audit.results import (
    AuditResult,
    CheckCount,
    CheckSummary,
    Example,
    Flag,
    FormResult,
    FormSummary,
    InstitutionResult,
    ValidateResult,
)

from builders import check_golden, check_golden_json

WIDTH = 120


def institution(
    org_code: str | None, name: str | None, district: str | None, rows: int, **changes: object
) -> InstitutionResult:
    values: dict[str, object] = {
        "org_code": org_code,
        "name": name,
        "district": district,
        "rows_uploaded": rows,
        "records": rows - 10,
        "valid_records": rows - 12,
        "valid_ratio": (rows - 12) / (rows - 10),
        "upload_days": 31,
        "period_days": 31,
        "upload_day_ratio": 1.0,
        "forms_covered": 11,
        "forms_required": 11,
        "outpatient_rate": 0.95,
        "discharge_rate": 0.91,
        "status": "ok",
        "flags": (),
        "forms": {
            "outpatient_visit": FormResult(
                rows, rows - 10, rows - 12, rows - 40, 0.95, (0, rows - 60, 10, 5, 3, 2, 0)
            )
        },
        "outpatient_visits": rows - 10,
        "discharges": 0,
        "day_rows": ((date(2022, 3, 1), rows // 2), (date(2022, 3, 2), rows - rows // 2)),
        "checks": (),
    }
    values.update(changes)
    return InstitutionResult(**values)  # type: ignore[arg-type]


LOW = Flag("outpatient_rate", "fail", "outpatient rate 55.00% is below the fail threshold 0.6")
NO_DATA = Flag("no_data", "warn", "no discharge real-time data (rate is /)")
RESULT = AuditResult(
    period=Period(date(2022, 3, 1), date(2022, 3, 31)),
    window_seconds=86_400,
    passed=False,
    fail_on="fail",
    institutions=(
        institution("12320100466000002F", "甲医院", "玄武区", 5000),
        institution(
            "91320100666000001X",
            "乙医院",
            "鼓楼区",
            9000,
            outpatient_rate=0.55,
            discharge_rate=None,
            status="fail",
            flags=(LOW, NO_DATA),
            checks=(CheckCount("outpatient_visit", "id_card", "id_card_checksum", 3),),
        ),
        institution(
            "(missing)",
            None,
            None,
            120,
            forms_covered=0,
            outpatient_rate=None,
            discharge_rate=None,
            status="warn",
            flags=(NO_DATA,),
        ),
    ),
    checks=(CheckCount("outpatient_visit", "id_card", "id_card_checksum", 3),),
    skipped=(Path("uploads/notes.csv"),),
    policy=Policy(),
)
VALIDATE = ValidateResult(
    forms=(
        FormSummary(
            "outpatient_visit",
            ("uploads/outpatient_visit.csv",),
            400,
            2,
            (
                CheckSummary(
                    "id_card",
                    "id_card_checksum",
                    "a resident ID number's check character",
                    2,
                    (
                        Example("uploads/outpatient_visit.csv", 7, "3201************16"),
                        Example("uploads/outpatient_visit.csv", 9, "3201************12"),
                    ),
                ),
            ),
        ),
        FormSummary("lab_report", ("uploads/lab_report.csv",), 50, 0, ()),
    ),
)


def printed(render, *args) -> str:  # type: ignore[no-untyped-def]
    """What `render(*args, console)` prints on a terminal WIDTH columns wide, without colour."""
    return table_text(lambda console: render(*args, console), width=WIDTH)


def test_table() -> None:
    check_golden("render_audit_table.txt", printed(render_table, RESULT))


def test_table_sorted_by_outpatient_rate() -> None:
    text = printed(lambda result, console: render_table(result, console, "outpatient_rate"), RESULT)
    rows = [line for line in text.splitlines() if "医院" in line]
    assert "甲医院" in rows[0] and "乙医院" in rows[1]


@pytest.mark.parametrize(
    ("name", "render"),
    [
        ("render_audit.csv", lambda: csv_report.render_csv(RESULT)),
        ("render_audit_zh.csv", lambda: csv_report.render_csv(RESULT, "zh")),
        ("render_audit.md", lambda: markdown.render_markdown(RESULT)),
        ("render_audit.xml", lambda: junit.render_junit(RESULT)),
    ],
)
def test_text_formats(name: str, render) -> None:  # type: ignore[no-untyped-def]
    check_golden(name, render())


def test_json() -> None:
    check_golden_json("render_audit.json", json_report.render_json(RESULT))


def test_validate_table() -> None:
    check_golden("render_validate_table.txt", printed(render_validate_table, VALIDATE))


def test_validate_json() -> None:
    check_golden_json("render_validate.json", json_report.render_validate_json(VALIDATE))
