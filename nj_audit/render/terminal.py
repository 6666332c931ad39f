"""The terminal: rich tables of the audit, of validate's failures and of the contract's forms.
With `render/console.py`, the only modules that import rich.

Data reaches rich only as `Text` (never as markup: `[link=...]` or `[/x]` in a name is shown as it
is), with its control characters escaped (`printable`), so nothing in an upload or a registry can
move the cursor, colour the terminal, reorder a line or break the table."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..policy import FAIL, OK, WARN
from ..results import AuditResult, Unreadable, ValidateResult
from .text import metric_cells, period_text, printable, ranked, validate_verdict, verdict_line

SEVERITY_STYLE = {OK: "green", WARN: "yellow", FAIL: "bold red"}


def data(value: object, style: str = "") -> Text:
    """A data-derived string for rich: plain text, control characters escaped."""
    return Text(printable(value), style=style)


def _notes(
    console: Console,
    skipped: tuple,
    reports: tuple,
    unreadable: tuple[Unreadable, ...],
) -> None:
    """The files that were skipped or could not be read, one line each, under the table."""
    for path in skipped:
        console.print(
            Text.assemble(("skipped", "yellow"), " ", data(path), " (no form matches its name)")
        )
    for path in reports:
        console.print(
            Text.assemble(("skipped", "yellow"), " ", data(path), " (a report written by nj-audit)")
        )
    for item in unreadable:
        console.print(
            Text.assemble(
                ("unreadable", "bold red"),
                " ",
                data(item.where),
                f" ({item.reason}): ",
                data(item.message),
            )
        )


def render_table(
    result: AuditResult, console: Console, sort: str = "rows_uploaded", title: str | None = None
) -> None:
    institutions = ranked(result, sort)
    with_district = any(i.district for i in institutions)
    with_validity = any(i.valid_ratio is not None for i in institutions)
    table = Table(
        title=title or f"Real-time upload audit, {period_text(result)}", title_justify="left"
    )
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("institution", overflow="fold", min_width=10)
    if with_district:
        table.add_column("district", overflow="fold")
    for header in (
        "rows",
        "days",
        "forms",
        "outpatient",
        "discharge",
        *(("validity",) if with_validity else ()),
    ):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("flags", overflow="fold")
    for rank, inst in enumerate(institutions, start=1):
        flags = Text()
        for n, flag in enumerate(inst.flags):
            flags.append(("" if n == 0 else " ") + flag.flag, style=SEVERITY_STYLE[flag.severity])
        cells: list[str | Text] = [str(rank), data(inst.label)]
        if with_district:
            cells.append(data(inst.district or ""))
        cells += metric_cells(inst)[: None if with_validity else -1]
        cells += [Text(inst.status, style=SEVERITY_STYLE[inst.status]), flags]
        table.add_row(*cells)
    console.print(table)
    _notes(console, result.skipped, result.reports, result.unreadable)
    console.print(data(verdict_line(result)), style="green" if result.passed else "bold red")


def render_validate_table(result: ValidateResult, console: Console) -> None:
    for form in result.forms:
        if not form.checks:
            console.print(Text.assemble(data(form.form, "green"), f": {form.rows} rows, all valid"))
            continue
        table = Table(
            title=data(f"{form.form}: {form.invalid_rows} of {form.rows} rows invalid"),
            title_justify="left",
        )
        for header, justify in (
            ("check", "left"),
            ("column", "left"),
            ("rows", "right"),
            ("share", "right"),
            ("examples", "left"),
        ):
            table.add_column(header, justify=justify, overflow="fold")  # type: ignore[arg-type]
        for check in sorted(form.checks, key=lambda c: (-c.rows, c.column, c.check)):
            examples = "\n".join(
                printable(f"{e.file}:{e.line}") + (f" {e.value!r}" if e.value else "")
                for e in check.examples
            )
            share = check.rows / form.rows if form.rows else 0
            table.add_row(
                data(check.label),
                data(check.column),
                str(check.rows),
                f"{share:.2%}",
                Text(examples),  # each line escaped: the file by printable, the value by repr
            )
        console.print(table)
    _notes(console, result.skipped, result.reports, result.unreadable)
    console.print(data(validate_verdict(result)), style="green" if result.passed else "bold red")


# -- the contract ---------------------------------------------------------------------------------


def render_forms(console: Console, forms: list[tuple[str, str, bool, int, int]]) -> None:
    """`schemas list`: (form id, Chinese name, real-time?, columns, rules) per form."""
    table = Table(title="Forms (docs/contract.md § 3)", title_justify="left")
    for header in ("form", "名称", "kind", "columns", "rules"):
        table.add_column(header)
    for form_id, label, realtime, columns, rules in forms:
        kind = "real-time" if realtime else "archive"
        table.add_row(data(form_id), data(label), kind, str(columns), str(rules))
    console.print(table)


def render_form(
    console: Console, title: str, rows: Sequence[tuple[str, ...]], cross: list[str]
) -> None:
    """`schemas show`: one row per column (name, 中文, description, type, required, rules), then
    the cross-field rules."""
    table = Table(title=data(title), title_justify="left")
    for header in ("column", "中文", "description", "type", "required", "rules"):
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(Text(printable(cell).replace("\\x0a", "\n")) for cell in row))
    console.print(table)
    console.print("Cross-field rules:")
    for rule in cross:
        console.print(Text.assemble("  - ", data(rule)))
