"""Loading the pandera YAML schemas (shipped in `schemas/`, installed as
`nj_audit.schema_files`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandera.backends.pandas.builtin_checks  # noqa: F401 - registers pandera's pandas checks
import pandera.pandas as pa
import yaml
from pandera.io.pandas_io import deserialize_schema

from . import checks as _checks  # noqa: F401 - registers the custom checks before any schema loads
from .errors import SchemaFileError
from .forms import FORM_IDS, form_from_filename
from .messages import said
from .reading import Expected
from .schema_documents import _YAML_LOADER, TABLE_SCHEMAS, schema_path
from .schema_documents import schema_dir as schema_dir  # where callers have looked for it

TEXT, TIME, DATE, NUMBER = "text", "time", "date", "number"


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: str  # text | time | date | number
    required: bool
    label: str  # Chinese label (pandera `title`)
    description: str  # English label (pandera `description`)
    pii: bool


@dataclass(frozen=True)
class FormSchema:
    """A pandera schema and what the audit needs to know about its columns."""

    name: str
    schema: pa.DataFrameSchema
    columns: tuple[ColumnSpec, ...]
    source: str

    @property
    def pii_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.pii)

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)


def _kind(column: pa.Column, date_columns: list[str]) -> str:
    if column.name in date_columns:
        return DATE
    dtype = str(column.dtype)
    if dtype.startswith("datetime64"):
        return TIME
    if dtype.startswith(("float", "int")):
        return NUMBER
    return TEXT


def build_form_schema(schema: pa.DataFrameSchema, source: str) -> FormSchema:
    metadata = schema.metadata or {}
    date_columns = list(metadata.get("date_columns", []))
    pii = set(metadata.get("pii_columns", []))
    columns = tuple(
        ColumnSpec(
            name=name,
            kind=_kind(column, date_columns),
            required=not column.nullable,
            label=column.title or name,
            description=column.description or name,
            pii=name in pii,
        )
        for name, column in schema.columns.items()
    )
    return FormSchema(schema.name or source, schema, columns, source)


def load_schema_file(path: Path) -> FormSchema:
    """Any pandera YAML schema file (the `validate --schema` path)."""
    if path.exists() and not path.is_file():  # a folder, or a FIFO that would block the run
        raise SchemaFileError(said("error.schema_not_file"), path)
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
        schema = deserialize_schema(
            document
        )  # what DataFrameSchema.from_yaml does after its own (slower) parse
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise SchemaFileError(said("error.schema_unreadable", reason=reason), path) from None
    except Exception as exc:  # pandera raises many kinds for a bad schema document
        detail = str(exc).splitlines()[0] if str(exc) else repr(exc)
        raise SchemaFileError(said("error.schema_invalid", detail=detail), path) from None
    if not schema.columns:
        raise SchemaFileError(said("error.schema_no_columns"), path)
    return build_form_schema(schema, str(path))


def named_schema(value: Path) -> Path:
    """`validate --schema`'s value as a file: a bare name of a bundled table schema (no folder,
    no suffix: `bookings`) is that schema's file wherever the package is installed; anything else
    is a path (a file named exactly `bookings` is given with its folder: `$PWD/bookings`)."""
    text = str(value)
    if text in TABLE_SCHEMAS and value.parent == Path(".") and value.suffix == "":
        return schema_path(text)
    if not value.exists() and value.parent == Path(".") and value.suffix == "":
        raise SchemaFileError(
            said("error.unknown_schema", name=text, names=", ".join(TABLE_SCHEMAS))
        )
    return value


@cache
def load_schema(form: str) -> FormSchema:
    """The shipped schema of one of the 14 forms."""
    if form not in FORM_IDS:
        raise SchemaFileError(said("error.unknown_form", form=form, forms=", ".join(FORM_IDS)))
    return load_schema_file(schema_path(form))


@cache
def _all_columns() -> frozenset[str]:
    return frozenset(c.name for f in FORM_IDS for c in load_schema(f).columns)


EVENT_TIME_LABEL = "业务发生时间"  # the envelope's name of event_time, in every form (§ 2.6)


@cache
def header_aliases(form: str) -> frozenset[tuple[str, str]]:
    """The other names a header may give `form`'s columns: each column's Chinese label (its
    `title`), 业务发生时间 for event_time, and each id in any case (contract § 2.6)."""
    return _aliases(load_schema(form).columns)


def _aliases(columns: tuple[ColumnSpec, ...]) -> frozenset[tuple[str, str]]:
    pairs = {(c.label, c.name) for c in columns if c.label and c.label != c.name}
    pairs |= {(c.name.lower(), c.name) for c in columns}
    if any(c.name == "event_time" for c in columns):
        pairs.add((EVENT_TIME_LABEL, "event_time"))
    return frozenset(pairs)


def expected_columns(
    form: str | None, path: Path, schema: FormSchema | None = None
) -> Expected | None:
    """What a file's header should name at least one of: a column of `form`, or of any form when
    the form comes from the file's name (it may be overridden), with the other names of that
    form's columns; for another schema (`validate --schema`), a column of it, by its id or its
    label (a published table's Chinese headers)."""
    if form is None and schema is not None and schema.name not in FORM_IDS:
        columns = frozenset(c.name for c in schema.columns)
        return Expected(columns, schema.name, columns, _aliases(schema.columns), uploads=False)
    if form in FORM_IDS:
        columns = frozenset(c.name for c in load_schema(form).columns)
        return Expected(columns, form, _all_columns(), header_aliases(form))
    named = form_from_filename(path) if form is None else None
    if named is not None:
        return Expected(_all_columns(), "any form", _all_columns(), header_aliases(named))
    return None
