"""`nj-audit schemas list|show`: the upload contract (docs/contract.md § 3), read from the schema
files."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import DebugOption, LangOption, chosen_lang, errors_handled, known_form


def schemas_list(lang: LangOption = None) -> None:
    """The 14 forms: id, Chinese name, real-time or archive, number of columns.

    The contract's § 3 lists the same forms with their columns and rules.

    Example:

        nj-audit schemas list
    """
    from ..forms import FORMS
    from ..render.console import stdout_console
    from ..render.terminal import render_forms
    from ..schema_documents import outline

    rows = []
    for form in FORMS:
        size = outline(form.id)
        rows.append((form.id, form.label, form.realtime, size.columns, size.rules))
    render_forms(stdout_console(), rows, chosen_lang(lang))


def schemas_show(
    form: Annotated[str, typer.Argument(metavar="FORM", help="A form id, e.g. outpatient_visit.")],
    lang: LangOption = None,
    debug: DebugOption = False,
) -> None:
    """One form's columns, labels and rules, as the schema file states them.

    PII columns are marked (PII); cross-field rules follow the table.

    Example:

        nj-audit schemas show outpatient_visit
    """
    from ..forms import FORM_BY_ID
    from ..render.console import stdout_console
    from ..render.terminal import render_form
    from ..rules import check_message
    from ..schemas import load_schema, schema_path
    from ..texts import text

    with errors_handled(debug):
        language = chosen_lang(lang)
        known_form(form)
        spec = load_schema(form)
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
    label = FORM_BY_ID[form].label
    notes = [
        text("schemas.headers", language),
        text("schemas.files", language, form=form, upper=form.upper(), label=label),
    ]
    render_form(stdout_console(), title, rows, cross, language, notes)
