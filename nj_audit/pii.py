"""Masking patient identifiers: first 4 and last 2 characters of an ID number, the first
character of a name (SPEC section 6). Unknown PII columns are masked like ID numbers."""

from __future__ import annotations


def mask(value: str, column: str) -> str:
    if column == "name":
        return value[:1] + "*" * (len(value) - 1) if len(value) > 1 else "*"
    if len(value) <= 6:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 6) + value[-2:]


def shown(value: object, column: str, pii_columns: tuple[str, ...] | set[str], show_pii: bool) -> str:
    text = "" if value is None else str(value)
    if show_pii or column not in pii_columns or not text:
        return text
    return mask(text, column)
