"""Nothing injected: data is never markup or a control sequence in any output. A property test per
format renders hand-built results whose institution names, districts, org_codes and file names are
arbitrary strings (hypothesis): the output parses in its own format (csv module, json,
xml.etree, a Markdown table), holds no control character, no formula cell, no markup effect; and
the command line is run on hostile names (rich markup, ESC sequences, bidi overrides, formulas)."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console  # noqa: TID251 - a real terminal, to look for links
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.period import Period
from nj_audit.render import csv as csv_report
from nj_audit.render import json as json_report
from nj_audit.render import junit, markdown
from nj_audit.render.terminal import render_table, render_validate_table
from nj_audit.render.text import CONTROL_CODES, printable
from nj_audit.results import (
    AuditResult,
    CheckSummary,
    Example,
    Flag,
    FormSummary,
    InstitutionResult,
    Unreadable,
    ValidateResult,
)

from builders import CLI_ENV, HOSTILE, VISIT_HEADER, make_org_code, visit_lines

runner = CliRunner(env=CLI_ENV)
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
CONTROLS = {chr(code) for code in CONTROL_CODES}
FORMULA = ("=", "+", "-", "@", "\t", "\r")
anything = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=24)
# the strings attackers try, mixed into arbitrary ones
hostile = st.sampled_from(
    [
        "[/x]",
        "[link=http://evil.example]点我[/link]",
        "\x1b[31mred\x1b[0m",
        "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\",
        "abc\u202efdp.exe",
        "\u2066isolate\u2069",
        '=HYPERLINK("http://x")',
        " \t=1+1",
        "H\r=1+1",
        "\r\n@SUM(A1)",
        "|pipe|",
        "`code`",
        "<img src=x onerror=alert(1)>",
        "&amp;",
        "*bold* _em_ ~~s~~ $x$",
        "\x00\x07\x7f\x85",
        "\ufffe\uffff",
    ]
)
text = st.one_of(anything, hostile, st.tuples(anything, hostile, anything).map("".join))


def institution(org_code: str, name: str | None, district: str | None) -> InstitutionResult:
    return InstitutionResult(
        org_code=org_code, name=name, district=district, rows_uploaded=10, records=9,
        valid_records=8, valid_ratio=8 / 9, upload_days=3, period_days=31, upload_day_ratio=3 / 31,
        forms_covered=2, forms_required=11, outpatient_rate=0.5, discharge_rate=None,
        status="fail", flags=(Flag("coverage", "fail", "forms covered 2/11 is below 6"),),
        outpatient_visits=9, discharges=0,
    )  # fmt: skip


@st.composite
def results(draw) -> AuditResult:  # type: ignore[no-untyped-def]
    rows = draw(st.lists(st.tuples(text, st.one_of(st.none(), text), st.one_of(st.none(), text)),
                         min_size=1, max_size=4))  # fmt: skip
    files = draw(st.lists(text, max_size=2))
    return AuditResult(
        period=Period(date(2022, 3, 1), date(2022, 3, 31)),
        window_seconds=86400,
        passed=False,
        fail_on="fail",
        institutions=tuple(institution(*row) for row in rows),
        checks=(),
        skipped=tuple(Path(f"uploads/{f}") for f in files),
        unreadable=tuple(
            Unreadable(f"uploads/{f}.csv", "binary", f"bad {f}", "(unknown)") for f in files
        ),
        reports=tuple(Path(f) for f in files),
    )


def no_controls(output: str, allowed: str = "\n") -> None:
    found = {c for c in output if c in CONTROLS and c not in allowed}
    found |= {c for c in output if c in "\ufffe\uffff"}
    assert not found, sorted(found)


@SETTINGS
@given(result=results())
def test_json(result: AuditResult) -> None:
    output = json_report.render_json(result)
    no_controls(output)
    document = json.loads(output)
    shown = [(i["org_code"], i["name"], i["district"]) for i in document["institutions"]]
    given_ = sorted(
        ((i.org_code, i.name, i.district) for i in result.institutions),
        key=lambda t: (t[0], t[1] or ""),
    )
    assert shown == given_  # the data survives exactly, escaped in the text only
    assert [u["file"] for u in document["unreadable"]] == [u.file for u in result.unreadable]


@SETTINGS
@given(result=results(), lang=st.sampled_from(["en", "zh"]))
def test_csv(result: AuditResult, lang: str) -> None:
    output = csv_report.render_csv(result, lang)
    assert output.startswith("\ufeff") == (lang == "zh")  # the BOM Excel needs, only in zh
    output = output.removeprefix("\ufeff")
    no_controls(output)
    rows = list(csv.reader(io.StringIO(output)))
    assert len(rows) == 1 + len(result.institutions) and {len(r) for r in rows} == {14}
    for row in rows[1:]:
        for cell in row:
            assert not cell.lstrip(" \u00a0\u3000").startswith(FORMULA), cell
    labels = sorted(printable(i.label) for i in result.institutions)
    assert sorted(r[0].removeprefix("'") for r in rows[1:]) == labels


def markdown_cells(line: str) -> list[str]:
    """A Markdown table row split on its unescaped pipes."""
    return re.split(r"(?<!\\)\|", line.strip())[1:-1]


@SETTINGS
@given(result=results())
def test_markdown(result: AuditResult) -> None:
    output = markdown.render_markdown(result)
    no_controls(output)
    rows = [line for line in output.splitlines() if line.startswith("| ")]
    table = rows[: 1 + len(result.institutions)]
    assert {len(markdown_cells(line)) for line in table} == {11}
    for line in rows:
        for cell in markdown_cells(line)[1:3] if line in table else markdown_cells(line):
            assert "<" not in cell and ">" not in cell  # no HTML from data
            assert not re.search(r"(?<!\\)[`*_\[\]~$]", cell.replace("\\\\", "")), cell


@SETTINGS
@given(result=results())
def test_junit(result: AuditResult) -> None:
    output = junit.render_junit(result)
    no_controls(output)
    root = ET.fromstring(output)
    cases = root.findall(".//testcase")
    assert len(cases) == len(result.institutions)
    names = {
        printable(i.label if i.name is None else f"{i.name} ({i.org_code})")
        for i in result.institutions
    }
    assert {case.get("name") for case in cases} == {
        n.replace("\ufffe", "\ufffd").replace("\uffff", "\ufffd") for n in names
    }


def rendered(render) -> str:  # type: ignore[no-untyped-def]
    """What `render(console)` prints on a colour terminal that supports links."""
    sink = io.StringIO()
    render(Console(file=sink, force_terminal=True, color_system="truecolor", width=100))
    return sink.getvalue()


@SETTINGS
@given(result=results())
def test_terminal_table(result: AuditResult) -> None:
    output = rendered(lambda console: render_table(result, console))
    assert "\x1b]8;" not in output  # no hyperlink
    plain = re.sub(r"\x1b\[[0-9;]*m", "", output)  # the table's own colours
    no_controls(plain)


@SETTINGS
@given(value=text, file=text)
def test_terminal_validate_table(value: str, file: str) -> None:
    result = ValidateResult(
        (FormSummary("outpatient_visit", (file,), 3, 1, (
            CheckSummary(value, "str_matches", "m", 1, (Example(file, 2, value),)),
        )),),
    )  # fmt: skip
    output = rendered(lambda console: render_validate_table(result, console))
    assert "\x1b]8;" not in output
    no_controls(re.sub(r"\x1b\[[0-9;]*m", "", output))


# -- through the command line -------------------------------------------------------------------


def hostile_batch(folder: Path) -> list[str]:
    names = ["[/x]", "[link=http://evil.example]点我[/link]", "\x1b[31mred", "abc\u202efdp", "=1+1"]
    rows = "".join(visit_lines(range(n, n + 1), code) for n, code in enumerate(names))
    org = make_org_code("12320100466000003")
    (folder / "outpatient_visit.csv").write_text(
        VISIT_HEADER + rows + visit_lines(range(9, 10), org)
    )
    return [str(folder), "--registry", str(HOSTILE / "registry_markup.csv")]


def test_markup_in_data_never_crashes_or_links(tmp_path: Path) -> None:
    args = hostile_batch(tmp_path)
    for output_format in ("table", "json", "csv", "markdown", "junit"):
        result = runner.invoke(app, ["audit", *args, "--format", output_format])
        assert result.exit_code == 1, (output_format, result.stderr, repr(result.exception))
        assert "[/x]" in result.stdout or output_format in ("json", "markdown", "junit")
        no_controls(result.stdout)
    validated = runner.invoke(app, ["validate", str(tmp_path)])
    assert validated.exit_code == 1 and "[/x]" in validated.stdout, validated.stderr
    ranked = runner.invoke(app, ["rank", str(HOSTILE / "summary_markup.csv")])
    assert ranked.exit_code in (0, 1) and "[/x]" in ranked.stdout, ranked.stderr


def test_error_lines_escape_control_characters(tmp_path: Path) -> None:
    name = "outpatient_visit_\x1b[2J\u202e[/x].csv"
    result = runner.invoke(app, ["audit", str(tmp_path / name)])
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert "\\x1b[2J\\u202e[/x].csv" in line and "\x1b" not in line and "\u202e" not in line


def test_csv_formula_guard_with_every_prefix() -> None:
    leads = ("", " ", "\t", "\r", "\x01", " \u00a0", "\u3000")
    cases = [(lead, start) for lead in leads for start in "=+-@"] + [("", "\t"), ("", "\r")]
    for lead, start in cases:
        cell = csv_report.safe_cell(f"{lead}{start}1+1")
        parsed = next(csv.reader(io.StringIO(csv_report.csv_line([cell, "x"]))))
        assert parsed[0].startswith("'") and parsed[1] == "x", (lead, start, parsed)
        assert not set(parsed[0]) & CONTROLS  # the tab or CR itself is shown as an escape
    assert csv_report.csv_line(["a\rb", "c"]) == '"a\rb",c\n'  # a bare CR is always quoted
    assert csv_report.safe_cell("-") == "'-" and csv_report.safe_cell("12") == "12"
