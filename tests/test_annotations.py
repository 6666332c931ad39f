"""The CI formats from hand-built results: GitHub workflow commands (escaping, limits per level,
the closing notice) and the GitLab Code Quality report (GitLab's documented fields, unique and
stable fingerprints), against golden files. UPDATE_GOLDEN=1 rewrites them."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import jsonschema
from hypothesis import given
from hypothesis import strategies as st

from nj_audit.period import Period
from nj_audit.policy import Policy
from nj_audit.render.codequality import render_audit_codequality, render_validate_codequality
from nj_audit.render.github import (
    PER_LEVEL,
    command,
    escape_data,
    render_audit_github,
    render_validate_github,
)
from nj_audit.render.text import CONTROL_CODES, printable
from nj_audit.results import (
    AuditResult,
    CheckSummary,
    Example,
    FileFailures,
    Flag,
    FormSummary,
    InstitutionResult,
    Unreadable,
    ValidateResult,
)

from builders import check_golden

# -- a parser of the workflow-command grammar, as the Actions runner reads a line ---------------


def unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(text: str) -> str:
    return (
        text.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
    )


def parse(line: str) -> tuple[str, dict[str, str], str]:
    """`::name k=v,k=v::message` -> (name, properties, message), as the runner parses it."""
    assert line.startswith("::") and "\n" not in line and "\r" not in line, line
    head, separator, data = line[2:].partition("::")
    assert separator, line
    name, _, shown = head.partition(" ")
    properties: dict[str, str] = {}
    for pair in shown.split(",") if shown else []:
        key, equals, value = pair.partition("=")
        assert equals, pair
        properties[key] = unescape_property(value)
    return name, properties, unescape_data(data)


# what data and names are made of: the characters that end or split a command, CJK, anything
PIECES = [*"%\r\n,:= aZ0医院\u2028", "::", "%0A", "%25", "%3A", "%2C", "%%0D"]
HOSTILE = st.lists(st.sampled_from(PIECES) | st.characters(), max_size=30).map("".join)


@given(message=HOSTILE, file=HOSTILE, title=HOSTILE, line=st.integers(1, 10**9))
def test_a_command_carries_any_message_and_properties(
    message: str, file: str, title: str, line: int
) -> None:
    text = command("error", message, [("file", file), ("line", line), ("title", title)])
    shown = {"file": shown_as(file), "line": str(line), "title": shown_as(title)}
    assert parse(text) == ("error", shown, shown_as(message))
    # nothing in the line acts on the log: no control character but those the runner reads
    assert not any(ord(c) in CONTROL_CODES for c in text)


def shown_as(text: str) -> str:
    """What the annotation shows of `text`: control characters other than CR and LF (which the
    runner turns back into line breaks) as escapes."""
    return printable(text, line_breaks=True)


def test_control_characters_are_shown_not_sent() -> None:
    line = command("error", "x\x1b[2Jy\x07\u202e", [("title", "a\x1b[31mb")])
    assert line == "::error title=a\\x1b[31mb::x\\x1b[2Jy\\x07\\u202e"


@given(message=HOSTILE)
def test_an_escaped_message_is_one_line_that_starts_no_command(message: str) -> None:
    escaped = escape_data(message)
    assert "\n" not in escaped and "\r" not in escaped
    assert parse(command("notice", message)) == ("notice", {}, shown_as(message))


def test_the_escapes_are_the_toolkits() -> None:
    assert command("warning", "50% done\r\nnext", [("title", "a,b:c")]) == (
        "::warning title=a%2Cb%3Ac::50%25 done%0D%0Anext"
    )


# -- hand-built results ---------------------------------------------------------------------------


def failing(file: str, rows: int, *lines_values: tuple[int, str]) -> FileFailures:
    return FileFailures(file, rows, tuple(Example(file, n, v) for n, v in lines_values))


def summary(column: str, check: str, *files: FileFailures, other: str | None = None):  # type: ignore[no-untyped-def]
    examples = tuple(e for f in files for e in f.examples)[:3]
    rows = sum(f.rows for f in files)
    return CheckSummary(column, check, f"{check}()", rows, examples, other, files)


HOSTILE_PATH = "uploads/50%,a:b/outpatient_visit.csv"  # a folder name GitHub must not misread
VALIDATE = ValidateResult(
    forms=(
        FormSummary(
            "outpatient_visit",
            ("uploads/a/outpatient_visit.csv", HOSTILE_PATH),
            400,
            7,
            (
                summary(
                    "id_card",
                    "id_card_checksum",
                    failing(
                        "uploads/a/outpatient_visit.csv",
                        3,
                        (7, "3201************16"),
                        (9, "3201************12"),
                        (30, "3201************19"),
                    ),
                    failing(HOSTILE_PATH, 1, (2, "3201************10")),
                ),
                summary(
                    "diagnosis_code",
                    "str_matches",
                    failing("uploads/a/outpatient_visit.csv", 2, (12, "::error::x\nJ06"), (13, "")),
                ),
                summary(
                    "event_time",
                    "not_after",
                    failing(HOSTILE_PATH, 1, (4, "2022-03-02 10:00:00")),
                    other="upload_time",
                ),
            ),
        ),
        FormSummary(
            "lab_report",
            ("uploads/a/lab_report.csv",),
            20,
            20,
            (
                summary(
                    "item_code", "missing_column", failing("uploads/a/lab_report.csv", 20, (1, ""))
                ),
            ),
        ),
    ),
    skipped=(Path("uploads/notes.csv"),),
)


def institution(code: str, name: str | None, status: str, *flags: Flag) -> InstitutionResult:
    return InstitutionResult(
        code, name, None, 100, 90, 89, 89 / 90, 31, 31, 1.0, 11, 11, 0.95, 0.95, status, flags
    )


LOW = Flag("outpatient_rate", "fail", "outpatient rate 55.00% is below the fail threshold 0.6")
WARN = Flag("no_data", "warn", "no discharge real-time data (rate is /)")
INSTITUTIONS = tuple(
    institution(f"12320100466{n:06d}X", f"医院{n},第{n}:分院", "fail", LOW) for n in range(12)
) + (
    institution("12320100466999999X", None, "warn", WARN),
    institution("12320100466999998X", "良好医院", "ok"),
)
AUDIT = AuditResult(
    period=Period(date(2022, 3, 1), date(2022, 3, 31)),
    window_seconds=86_400,
    passed=False,
    fail_on="fail",
    institutions=INSTITUTIONS,
    checks=(),
    policy=Policy(),
)


def lines(text: str) -> list[tuple[str, dict[str, str], str]]:
    return [parse(line) for line in text.splitlines()]


def test_validate_annotations_golden() -> None:
    text = render_validate_github(VALIDATE, "failures.csv")
    check_golden("validate_github.txt", text)
    parsed = lines(text)
    errors = [p for p in parsed if p[0] == "error"]
    # one per (file, column, check), the most rows first; at the first failing line
    assert [(p[1]["file"], p[1]["line"]) for p in errors] == [
        ("uploads/a/lab_report.csv", "1"),
        ("uploads/a/outpatient_visit.csv", "7"),
        ("uploads/a/outpatient_visit.csv", "12"),
        (HOSTILE_PATH, "2"),
        (HOSTILE_PATH, "4"),
    ]
    assert "3 rows fail id_card_checksum on id_card" in errors[1][2] and "7, 9, 30" in errors[1][2]
    assert "'3201************16'" in errors[1][2]
    assert "::error::x J06" in errors[2][2]  # a value is shown on one line, inside the message
    warnings = [p for p in parsed if p[0] == "warning"]
    assert [p[1]["file"] for p in warnings] == ["uploads/notes.csv"]
    assert parsed[-1][0] == "notice" and "the full report: failures.csv" in parsed[-1][2]


def test_audit_annotations_golden_and_the_limits() -> None:
    text = render_audit_github(AUDIT, "audit.json")
    check_golden("audit_github.txt", text)
    parsed = lines(text)
    errors = [p for p in parsed if p[0] == "error"]
    warnings = [p for p in parsed if p[0] == "warning"]
    assert len(errors) == PER_LEVEL == 10 and len(warnings) == 1
    assert all("file" not in p[1] for p in errors + warnings)  # institutions have no file
    assert errors[0][1]["title"] == "nj-audit: 医院0,第0:分院 (12320100466000000X)"
    assert parsed[-1] == (
        "notice",
        {"title": "nj-audit"},
        "gate FAILED (--fail-on fail, policy: defaults): 14 institutions, 1 ok, 1 warn, 12 fail;"
        " 2 more error(s) and 0 more warning(s) are not shown as annotations"
        " (GitHub shows 10 of each per step);"
        " the full report: audit.json",
    )
    assert sum(1 for p in parsed if p[0] == "notice") == 1


# -- GitLab Code Quality ------------------------------------------------------------------------

# GitLab's documented fields of a Code Quality issue (docs.gitlab.com, "Code Quality report
# format"): all required; severity one of the five.
CODE_QUALITY = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "minLength": 1},
                    "lines": {
                        "type": "object",
                        "required": ["begin"],
                        "properties": {"begin": {"type": "integer", "minimum": 1}},
                    },
                },
            },
        },
    },
}


def checked_report(text: str) -> list[dict]:  # type: ignore[type-arg]
    report = json.loads(text)
    jsonschema.validate(report, CODE_QUALITY)
    prints = [issue["fingerprint"] for issue in report]
    assert len(prints) == len(set(prints)), "GitLab shows only the first issue of a fingerprint"
    return report


def test_validate_code_quality_golden() -> None:
    text = render_validate_codequality(VALIDATE)
    check_golden("validate_codequality.json", text)
    report = checked_report(text)
    assert [(i["location"]["path"], i["location"]["lines"]["begin"]) for i in report][:2] == [
        ("uploads/a/lab_report.csv", 1),
        ("uploads/a/outpatient_visit.csv", 7),
    ]
    assert {i["severity"] for i in report} == {"major", "minor"}  # minor: the skipped file
    assert report[1]["check_name"] == "nj-audit/outpatient_visit/id_card/id_card_checksum"


def test_audit_code_quality_golden() -> None:
    text = render_audit_codequality(AUDIT, "uploads")
    check_golden("audit_codequality.json", text)
    report = checked_report(text)
    assert len(report) == 13  # one per flag
    assert {i["location"]["path"] for i in report} == {"uploads"}
    assert {i["severity"] for i in report} == {"major", "minor"}


def test_fingerprints_are_stable_and_name_the_finding_not_its_counts() -> None:
    before = {i["description"][:40]: i["fingerprint"] for i in checked_report(
        render_validate_codequality(VALIDATE)
    )}  # fmt: skip
    grown = ValidateResult(
        (
            FormSummary(
                "outpatient_visit",
                VALIDATE.forms[0].files,
                500,
                9,
                (
                    summary(
                        "id_card",
                        "id_card_checksum",
                        failing("uploads/a/outpatient_visit.csv", 5, (3, "3201************16")),
                    ),
                ),
            ),
        )
    )
    after = checked_report(render_validate_codequality(grown))[0]
    # more rows and another first line: still the same finding
    assert after["fingerprint"] in before.values()
    assert render_validate_codequality(VALIDATE) == render_validate_codequality(VALIDATE)


def test_two_findings_with_one_key_get_two_fingerprints() -> None:
    twins = AuditResult(
        None, 86_400, False, "fail", (institution("X", "甲", "fail", LOW, LOW),), (), ()
    )
    report = checked_report(render_audit_codequality(twins, "table.csv"))
    assert len(report) == 2


def test_an_unreadable_file_is_the_first_error_and_a_code_quality_issue() -> None:
    """A file that could not be read is a finding in the CI formats too: first (nothing of it was
    judged), at its file and line, with its reason; a result without one has none."""
    gone = Unreadable("uploads/b/lab_report.csv.gz", "truncated", "the stream ends early", None, 7)
    result = replace(VALIDATE, unreadable=(gone,))
    first = render_validate_github(result).splitlines()[0]
    assert first.startswith("::error file=uploads/b/lab_report.csv.gz,line=7,")
    assert "unreadable (truncated)" in first and "line 7: the stream ends early" in first
    assert "unreadable" not in render_validate_github(VALIDATE)
    issues = json.loads(render_audit_codequality(replace(AUDIT, unreadable=(gone,)), "uploads"))
    assert issues[0]["check_name"] == "nj-audit/unreadable/truncated"
    assert issues[0]["location"] == {"path": "uploads/b/lab_report.csv.gz", "lines": {"begin": 7}}
    assert not any("unreadable" in i["check_name"] for i in json.loads(
        render_audit_codequality(AUDIT, "uploads")))  # fmt: skip
