"""Masking patient identifiers (docs/contract.md § 7.3): an ID number keeps its first 4 and last 2
characters (`3201************12`), a name its first character (`张*`). Any other column a schema
marks as PII is masked like an ID number. A value too short to keep anything is all stars; a very
long one is shortened, so a masked value never carries more than those 6 (or 1) characters.

Beyond PII columns: anything shaped like an ID number is masked wherever it is shown (examples,
`--failures`, messages, file names), and an org_code that is a person's ID number or name is
masked in the audit's outputs (while rows are still grouped by its raw value)."""

from __future__ import annotations

import re
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


# -- values shaped like a patient identifier, whatever their column -------------------------------

# 17 digits and a check character, not inside a longer run of digits, with a birth date
# (characters 7-14) in 1900-2099: the shape of a resident ID number. The date keeps the rule off
# the institutions' own all-digit unified social credit codes, whose characters 7-14 are a
# district and the start of an organisation code. Letters around it do not hide it: a record id
# or a file name built from an ID number (`MZ320102196501280013`) is masked too.
_ID_SHAPED = re.compile(
    r"(?<![0-9])[0-9]{6}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
    r"[0-9]{3}[0-9Xx](?![0-9])",
    re.ASCII,
)


def mask_id_numbers(text: str, show_pii: bool = False) -> str:
    """`text` with every ID-number-shaped part masked (`3201************16`), unless --show-pii.
    For messages, file names and values shown whatever their column."""
    if show_pii or not text or not _DIGITS.search(text):
        return text
    return _ID_SHAPED.sub(lambda match: mask(match.group(), "id_card"), text)


_DIGITS = re.compile(r"[0-9]{17}", re.ASCII)


def shown_label(text: str | None, show_pii: bool) -> str | None:
    """An institution's name or district as shown: an ID number typed into it masked (a
    registry's or a summary table's names are no patient's, but they may hold one)."""
    return text if text is None else mask_id_numbers(text, show_pii)


def looks_like_a_person(org_code: str) -> bool:
    """An org_code value that is a patient identifier, not an institution's code: anything
    ID-number-shaped (a birth date from 1900 to 2099), or a text holding letters beyond ASCII (a
    name, as a
    column-swapping export puts there). A mistyped code that is neither stays visible: the centre
    needs it to chase the typo."""
    if _ID_SHAPED.fullmatch(org_code):  # a valid code whose check also fits GB 11643 is not
        return True  # masked unless characters 7-14 read as a birth date from 1900 to 2099
    return not org_code.isascii() and any(
        char.isalpha() and not char.isascii() for char in org_code
    )


def looks_like_a_name(value: str) -> bool:
    """A value made of letters only, some beyond ASCII (`张三`, `欧阳娜娜`, `阿依古丽·买买提`): a
    name, where a code, a time or a number was expected."""
    letters = value.replace("·", "")
    return len(letters) >= 2 and letters.isalpha() and not letters.isascii()


def shown_org_code(org_code: str, show_pii: bool) -> str:
    """The org_code as the audit's outputs show it: masked (first 4 and last 2 characters) when it
    looks like a person, unless --show-pii."""
    if show_pii or not looks_like_a_person(org_code):
        return org_code
    return mask(org_code, "org_code")
