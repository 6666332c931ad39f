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


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("width", [80, 100, 150])
def test_table_at_each_width(width: int, lang: str) -> None:
    """Rank, name, status and flags in full at every width, no row taller than 3 lines."""
    shown = table_text(lambda console: render_table(RESULT, console, lang=lang), width=width)
    check_golden(f"render_audit_table_{lang}_{width}.txt", shown)
    assert max(len(line) for line in shown.splitlines()) <= width
    from nj_audit.texts import flag_name, status_word

    for inst in RESULT.institutions:
        assert status_word(inst.status, lang) in shown
        for flag in inst.flags:
            assert flag_name(flag.flag, lang) in shown
    body = [line for line in shown.splitlines() if line.startswith("│")]
    starts = [n for n, line in enumerate(body) if line[1:5].strip()]
    heights = [b - a for a, b in zip(starts, [*starts[1:], len(body)])]
    assert max(heights) <= 3


@pytest.mark.parametrize("render", ["table", "markdown", "junit", "csv"])
def test_zh_output_holds_no_english_flag_or_status(render: str) -> None:
    from nj_audit.catalogue import FLAGS

    outputs = {
        "table": lambda: printed(lambda r, c: render_table(r, c, lang="zh"), RESULT),
        "markdown": lambda: markdown.render_markdown(RESULT, lang="zh"),
        "junit": lambda: junit.render_junit(RESULT, "zh"),
        "csv": lambda: csv_report.render_csv(RESULT, "zh"),
    }
    shown = outputs[render]()
    check_golden(f"render_audit_zh_{render}.txt", shown)
    body = shown.replace('type="fail"', "").replace('type="warn"', "")  # JUnit's machine type
    body = body.replace('name="policy"', "").replace('name="policy_text"', "")
    for code in FLAGS:
        assert code.rstrip(":*") not in body, code
    for word in (" ok ", " warn ", " fail ", "PASSED", "FAILED", "policy"):
        assert word not in body, word
    assert "策略：默认" in shown or render == "csv"  # the CSV is the published table's columns


def test_every_text_exists_in_both_languages() -> None:
    from nj_audit import messages
    from nj_audit.catalogue import CHECKS, FLAGS, UNREADABLE
    from nj_audit.texts import EN, TABLES, ZH

    assert set(EN) == set(ZH)
    assert set(messages.EN) == set(messages.ZH)
    assert not set(EN) & set(messages.EN)  # one key, one place
    en, zh = TABLES["en"], TABLES["zh"]
    assert set(en) == set(zh)
    for key in en:
        fields = {f for f in __import__("re").findall(r"{(\w+)", en[key])}
        assert fields == set(__import__("re").findall(r"{(\w+)", zh[key])), key
    for code in FLAGS:
        assert f"flag.{code.removesuffix(':*')}" in EN, code
    for code in CHECKS:
        assert f"check.{code}" in en, code
    for code in UNREADABLE:
        assert f"reason.{code}" in en, code


def test_every_flag_message_is_told_in_chinese() -> None:
    from nj_audit.policy import evaluate_flags, no_uploads_flag, unreadable_flag
    from nj_audit.texts import flag_text

    flags = evaluate_flags(
        Policy(),
        forms_covered=3,
        forms_required=11,
        outpatient_rate=0.5,
        discharge_rate=None,
        upload_day_ratio=0.5,
        valid_ratio=0.5,
        registered=False,
    )
    flags += [no_uploads_flag(1, False), no_uploads_flag(3, True), unreadable_flag(2)]
    for flag in flags:
        told = flag_text(flag, "zh")
        assert told != flag.message and not __import__("re").search("[a-z]{3,}", told), told
    assert flag_text(flags[1], "zh") == "门急诊符合率 50.00% 低于不合格阈值 0.6"


@pytest.mark.parametrize(
    ("env", "configured", "expected"),
    [
        ({"LANG": "zh_CN.UTF-8"}, None, "zh"),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, None, "en"),
        ({"LANG": "C.UTF-8"}, None, "en"),
        ({"LANG": "C.UTF-8", "NJ_AUDIT_LANG": "zh"}, None, "zh"),
        ({"LANG": "zh_CN.UTF-8", "NJ_AUDIT_LANG": "en"}, None, "en"),
        ({"LANG": "C.UTF-8"}, "zh", "zh"),
        ({"LANG": "zh_TW.UTF-8"}, "en", "en"),
        ({}, None, "en"),
    ],
)
def test_the_default_language(
    monkeypatch, env: dict, configured: str | None, expected: str
) -> None:  # type: ignore[no-untyped-def]
    from nj_audit.texts import default_lang

    for variable in ("LC_ALL", "LC_MESSAGES", "LANG", "NJ_AUDIT_LANG"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    assert default_lang(configured) == expected
