"""The terminal: rich tables of the audit, of validate's failures and of the contract's forms.
With `render/console.py`, the only modules that import rich.

Data reaches rich only as `Text` (never as markup: `[link=...]` or `[/x]` in a name is shown as it
is), with its control characters escaped (`printable`), so nothing in an upload or a registry can
move the cursor, colour the terminal, reorder a line or break the table."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..policy import FAIL, OK, WARN
from ..results import AuditResult, InstitutionResult, Unreadable, ValidateResult
from ..texts import flag_name, status_word, text
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
    lang: str = "en",
) -> None:
    """The files that were skipped or could not be read, one line each, under the table."""
    skipped_word = (text("note.skipped", lang), "yellow")
    for path in skipped:
        console.print(
            Text.assemble(skipped_word, " ", data(path), " " + text("note.no_form", lang))
        )
    for path in reports:
        console.print(
            Text.assemble(skipped_word, " ", data(path), " " + text("note.own_report", lang))
        )
    for item in unreadable:
        console.print(
            Text.assemble(
                (text("note.unreadable", lang), "bold red"),
                " ",
                data(item.where),
                f" ({item.reason}): ",
                data(item.message),
            )
        )


# Secondary columns, the first dropped first when the table is wider than the console.
DROP_ORDER = ("validity", "days", "district", "rows", "forms", "discharge", "outpatient")
MAX_LINES = 3  # no row of the audit table is taller


def _wrapped_lines(words: list[str], width: int) -> int:
    """How many lines `words` take, wrapped as whole words at `width` cells."""
    lines, used = 1, 0
    for word in words:
        size = cell_len(word)
        if used and used + 1 + size > width:
            lines, used = lines + 1, size
        else:
            used = used + (1 if used else 0) + size
    return lines


def _fit(
    names: list[str], flags: list[list[str]], fixed: dict[str, int], width: int, header: int = 10
) -> tuple[list[str], int, int]:
    """The secondary columns kept, and the widths of the name and flags columns, so that the
    table fits `width` cells with every name and flag in full in at most MAX_LINES lines."""
    name_full = max([cell_len(n) for n in names] + [header])
    flags_full = max([cell_len(" ".join(f)) for f in flags] + [6])
    word = max([cell_len(w) for f in flags for w in f] + [6])
    kept = [c for c in fixed if c not in ("rank", "status")]
    # a name of several words wraps at its spaces: its longest word must fit (one without spaces,
    # Chinese, folds anywhere)
    spaced = [cell_len(w) for n in names if " " in n for w in n.split()]
    name_min = max([header, -(-name_full // MAX_LINES), *spaced])
    while True:
        used = sum(fixed[c] + 3 for c in ("rank", "status", *kept)) + 2 * 3 + 1
        room = width - used
        if room >= name_full + flags_full:
            return kept, name_full, flags_full
        beside = room - name_full  # the name in full on one line, if the flags still fit
        if beside >= word and all(_wrapped_lines(f, beside) <= MAX_LINES for f in flags):
            return kept, name_full, beside
        # the flags as wide as they can be beside a name of at most MAX_LINES lines
        for flags_width in range(min(flags_full, room - name_min), word - 1, -1):
            if all(_wrapped_lines(f, flags_width) <= MAX_LINES for f in flags):
                return kept, min(name_full, room - flags_width), flags_width
        if not kept:  # even alone the four columns do not fit: the narrowest they can be
            return kept, name_min, word
        kept.remove(next(c for c in DROP_ORDER if c in kept))


def render_table(
    result: AuditResult,
    console: Console,
    sort: str = "rows_uploaded",
    title: str | None = None,
    lang: str = "en",
) -> None:
    """The audit's table, fitted to the console: rank, name, status and flags always in full
    (no row taller than 3 lines), secondary columns dropped by priority when there is no room."""
    institutions = ranked(result, sort)
    headers = {
        "rank": "#",
        "district": text("col.district", lang),
        "rows": text("col.rows", lang),
        "days": text("col.days", lang),
        "forms": text("col.forms", lang),
        "outpatient": text("col.outpatient", lang),
        "discharge": text("col.discharge", lang),
        "validity": text("col.validity", lang),
        "status": text("col.status", lang),
    }
    failing = {d.name: d.failing for d in result.districts}  # --by district: its members
    rows = []
    for rank, inst in enumerate(institutions, start=1):
        metrics = dict(zip(METRIC_KEYS, metric_cells(inst)))
        cells = {"rank": str(rank), "district": printable(inst.district or ""), **metrics}
        cells["status"] = status_word(inst.status, lang)
        rows.append(cells)
    present = [
        c
        for c in headers
        if c != "district" or (not failing and any(i.district for i in institutions))
    ]
    if not any(i.valid_ratio is not None for i in institutions):
        present.remove("validity")
    fixed = {c: max([cell_len(headers[c])] + [cell_len(r[c]) for r in rows]) for c in present}
    names = [printable(i.label) for i in institutions]
    flags = [[flag_name(f.flag, lang) for f in i.flags] for i in institutions]
    name_header = text("col.district" if failing else "col.institution", lang)
    header = cell_len(name_header)
    kept, name_width, flags_width = _fit(names, flags, fixed, console.width, header)
    table = Table(
        title=title or text("audit.title", lang, period=period_text(result, lang)),
        title_justify="left",
    )
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column(name_header, overflow="fold", width=name_width)
    for column in kept:
        justify = "left" if column == "district" else "right"
        table.add_column(headers[column], justify=justify, no_wrap=True)  # type: ignore[arg-type]
    table.add_column(headers["status"], no_wrap=True)
    table.add_column(text("col.flags", lang), overflow="fold", width=flags_width)
    for inst, cells, name, names_of_flags in zip(institutions, rows, names, flags):
        shown = Text()
        for n, (flag, label) in enumerate(zip(inst.flags, names_of_flags)):
            shown.append(("" if n == 0 else " ") + label, style=SEVERITY_STYLE[flag.severity])
        row: list[str | Text] = [cells["rank"], Text(name)]
        row += [Text(cells[c]) for c in kept]
        row += [Text(cells["status"], style=SEVERITY_STYLE[inst.status]), shown]
        table.add_row(*row)
    console.print(table)
    _failing_members(console, institutions, failing, lang)
    _notes(console, result.skipped, result.reports, result.unreadable, lang)
    style = "green" if result.passed else "bold red"
    console.print(data(verdict_line(result, lang)), style=style)


METRIC_KEYS = ("rows", "days", "forms", "outpatient", "discharge", "validity")


def _failing_members(
    console: Console,
    districts: Sequence[InstitutionResult],
    failing: dict[str, tuple[str, ...]],
    lang: str,
) -> None:
    """--by district: each district's failing members under the table, one district a line, in
    the table's order (in the flags column the names would crowd out the table at 80 columns)."""
    separator = "、" if lang == "zh" else ", "
    for district in districts:
        names = failing.get(district.label, ())
        if names:
            heading = f"{district.label} - {text('col.members_failing', lang)}: "
            console.print(data(heading + separator.join(names)))


def render_validate_table(result: ValidateResult, console: Console, lang: str = "en") -> None:
    """Per form, a table of its failing checks, then each check's examples one per line,
    `file:line` never folded (it can be copied whatever the width)."""
    for form in result.forms:
        if not form.checks:
            if form.rows:
                shown = text("validate.all_valid", lang, rows=form.rows)
                console.print(Text.assemble(data(form.form, "green"), f": {shown}"))
            else:  # its files were unreadable, or held no row: nothing was valid
                console.print(Text.assemble(data(form.form), f": {text('validate.no_rows', lang)}"))
            continue
        title = text(
            "validate.title", lang, form=form.form, invalid=form.invalid_rows, rows=form.rows
        )
        table = Table(title=data(title), title_justify="left")
        for header, justify in (("check", "left"), ("column", "left"), ("rows", "right")):
            table.add_column(text(f"col.{header}", lang), justify=justify, overflow="fold")  # type: ignore[arg-type]
        table.add_column(text("col.share", lang), justify="right", no_wrap=True)
        checks = sorted(form.checks, key=lambda c: (-c.rows, c.column, c.check))
        for check in checks:
            share = check.rows / form.rows if form.rows else 0
            table.add_row(data(check.label), data(check.column), str(check.rows), f"{share:.2%}")
        console.print(table)
        for check in checks:
            if not check.examples:
                continue
            colon = "：" if lang == "zh" else ": "
            heading = f"{text('col.examples', lang)}{colon}{check.check} ({check.column})"
            console.print(data(heading), soft_wrap=True)
            for e in check.examples:  # each line escaped: the file by printable, the value by repr
                line = "  " + printable(f"{e.file}:{e.line}") + (f" {e.value!r}" if e.value else "")
                console.print(Text(line), soft_wrap=True)
    _notes(console, result.skipped, result.reports, result.unreadable, lang)
    style = "green" if result.passed else "bold red"
    console.print(data(validate_verdict(result, lang)), style=style)


# -- the contract ---------------------------------------------------------------------------------


def render_forms(
    console: Console, forms: list[tuple[str, str, bool, int, int]], lang: str = "en"
) -> None:
    """`schemas list`: (form id, Chinese name, real-time?, columns, rules) per form."""
    table = Table(title=text("schemas.title", lang), title_justify="left")
    for header in ("form", "label", "kind", "columns", "rules"):
        table.add_column(text(f"col.{header}", lang))
    for form_id, label, realtime, columns, rules in forms:
        kind = text("kind.realtime" if realtime else "kind.archive", lang)
        table.add_row(data(form_id), data(label), kind, str(columns), str(rules))
    console.print(table)


def render_tables(console: Console, tables: list[tuple[str, str, int, int]], lang: str) -> None:
    """`schemas list`, after the forms: (name, Chinese title, columns, rules) per bundled table
    schema, named by `validate --schema NAME`."""
    table = Table(title=text("schemas.tables", lang), title_justify="left")
    for header in ("schema", "label", "columns", "rules"):
        table.add_column(text(f"col.{header}", lang))
    for name, label, columns, rules in tables:
        table.add_row(data(name), data(label), str(columns), str(rules))
    console.print(table)


def render_form(
    console: Console,
    title: str,
    rows: Sequence[tuple[str, ...]],
    cross: list[str],
    lang: str = "en",
    notes: Sequence[str] = (),
) -> None:
    """`schemas show`: one row per column (name, 中文, description, type, required, rules), then
    the cross-field rules and how headers and file names are recognised (`notes`)."""
    table = Table(title=data(title), title_justify="left")
    for header in ("name", "chinese", "description", "type", "required", "rules"):
        table.add_column(text(f"col.{header}", lang), overflow="fold")
    for row in rows:
        table.add_row(*(Text(printable(cell).replace("\\x0a", "\n")) for cell in row))
    console.print(table)
    console.print(text("schemas.cross", lang))
    for rule in cross:
        console.print(Text.assemble("  - ", data(rule)))
    for note in notes:
        console.print(data(note))
