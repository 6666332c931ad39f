"""Masking patient identifiers (docs/contract.md § 7.3): an ID number keeps its first 4 and last 2
characters (`3201************12`), a name its first character (`张*`). Any other column a schema
marks as PII is masked like an ID number. A value too short to keep anything is all stars; a very
long one is shortened, so a masked value never carries more than those 6 (or 1) characters."""

from __future__ import annotations

from collections.abc import Collection

NAME_COLUMNS = frozenset({"name"})
MAX_STARS = 24


def _stars(count: int) -> str:
    return "*" * min(max(count, 1), MAX_STARS)


def mask(value: str, column: str) -> str:
    """`value` of PII column `column`, masked."""
    if column in NAME_COLUMNS:
        return value[:1] + _stars(len(value) - 1) if len(value) > 1 else "*"
    if len(value) <= 6:
        return "*" * len(value)
    return value[:4] + _stars(len(value) - 6) + value[-2:]


def shown(value: object, column: str, pii_columns: Collection[str], show_pii: bool) -> str:
    """The text to show for a cell: as it is, or masked when its column is PII (unless
    --show-pii)."""
    text = "" if value is None else str(value)
    if show_pii or column not in pii_columns or not text:
        return text
    return mask(text, column)
