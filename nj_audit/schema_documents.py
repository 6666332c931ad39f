"""Where the shipped schema files are, and what `schemas list` says of them, read from the YAML
alone: listing the forms must not import pandas, pandera or pyarrow (a second of start-up)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

_YAML_LOADER = getattr(
    yaml, "CSafeLoader", yaml.SafeLoader
)  # libyaml's, when PyYAML has it: 10x faster


# The published tables' schemas (docs/contract.md § 8), shipped beside the forms' and named by
# `validate --schema NAME`, in the order `schemas list` shows them.
TABLE_SCHEMAS = ("bookings", "summary", "online_bookings", "hotline")


def schema_dir() -> Path:
    """The installed schema files, or the repository's `schemas/` when run from a checkout."""
    try:
        return Path(str(resources.files("nj_audit.schema_files")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "schemas"


def schema_path(form: str) -> Path:
    return schema_dir() / f"{form}.yaml"


def load_document(path: Path) -> dict:
    document = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    return document if isinstance(document, dict) else {}


@dataclass(frozen=True)
class SchemaOutline:
    """A shipped schema's size: its columns, and its rules (the columns' checks and the frame's),
    as pandera counts them once the schema is loaded (tests/test_fast_paths.py)."""

    columns: int
    rules: int
    title: str | None = None


@cache
def outline(form: str) -> SchemaOutline:
    document = load_document(schema_path(form))
    columns = document.get("columns") or {}
    rules = sum(_column_checks(column or {}) for column in columns.values())
    checks = len(document.get("checks") or [])
    return SchemaOutline(len(columns), rules + checks, document.get("title"))


# a column's keys that are not checks (pandera's io/_flat_checks.py)
_NOT_CHECKS = frozenset(
    {
        "title", "description", "dtype", "nullable", "checks", "name", "unique", "coerce",
        "required", "regex", "default", "report_duplicates", "drop_invalid_rows", "dims", "alias",
        "ordered_dims", "sizes", "shape", "coords", "schema_type", "version", "metadata",
    }
)  # fmt: skip


def _column_checks(column: dict) -> int:
    """A column's checks: its `checks` list, else its other keys (pandera's flat form, where
    `isin: [...]` stands for `checks: [{isin: ...}]`)."""
    if column.get("checks") is not None:
        return len(column["checks"])
    return sum(1 for key in column if key not in _NOT_CHECKS)
