"""`nj-audit schemas list|show`: the upload contract (docs/contract.md § 3), read from the schema
files."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import DebugOption, LangOption, chosen_lang, errors_handled, known_form


def schemas_list(lang: LangOption = None) -> None:
    """The 14 forms (id, Chinese name, real-time or archive, columns, rules), then the bundled
    schemas of the published tables (bookings, summary, online_bookings, hotline).

    The contract's § 3 lists the same forms with their columns and rules, § 8 the tables; a
    table's schema is named by `validate FILE --schema NAME`.

    Example:

    \b
      nj-audit schemas list
    """
    from ..forms import FORMS
    from ..render.console import stdout_console
    from ..render.terminal import render_forms, render_tables
    from ..schema_documents import TABLE_SCHEMAS, outline

    language = chosen_lang(lang)
    rows = []
    for form in FORMS:
        size = outline(form.id)
        rows.append((form.id, form.label, form.realtime, size.columns, size.rules))
    tables = []
    for name in TABLE_SCHEMAS:
        size = outline(name)
        tables.append((name, size.title or name, size.columns, size.rules))
    console = stdout_console()
    render_forms(console, rows, language)
    render_tables(console, tables, language)


def schemas_show(
    form: Annotated[
        str,
        typer.Argument(
            metavar="FORM", help="A form id, e.g. outpatient_visit, or a table's schema: bookings."
        ),
    ],
    lang: LangOption = None,
    debug: DebugOption = False,
) -> None:
    """One form's (or published table's) columns, labels and rules, as the schema file states
    them.

    PII columns are marked (PII); cross-field rules follow the table.

    Examples:

    \b
      nj-audit schemas show outpatient_visit
      nj-audit schemas show hotline
    """
    from ..forms import FORM_BY_ID
    from ..render.console import stdout_console
    from ..render.terminal import render_form
    from ..rules import check_message
    from ..schemas import TABLE_SCHEMAS, load_schema, load_schema_file, schema_path
    from ..texts import text

    with errors_handled(debug):
        language = chosen_lang(lang)
        is_table = form in TABLE_SCHEMAS
        if not is_table:
            form = known_form(form) or form
        spec = load_schema_file(schema_path(form)) if is_table else load_schema(form)
    rows = [
        (
            column.name,
            column.label,
            column.description + (" (PII)" if column.pii else ""),
            column.kind,
            text("required.yes" if column.required else "required.no", language),
            "\n".join(check_message(c) for c in spec.schema.columns[column.name].checks),
        )
        for column in spec.columns
    ]
    cross = [check_message(check) for check in spec.schema.checks]
    title = f"{form} ({spec.schema.title}) - {schema_path(form).name}"
    notes = []
    if not is_table:
        label = FORM_BY_ID[form].label
        notes = [
            text("schemas.headers", language),
            text("schemas.files", language, form=form, upper=form.upper(), label=label),
        ]
    render_form(stdout_console(), title, rows, cross, language, notes)
