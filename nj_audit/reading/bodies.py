"""Small files' bodies, kept whole to be parsed together with others of their form (`csv.py`:
`join_bodies`), so that a batch of thousands of small files costs about one parse, not thousands."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .encoding import LongRow


@dataclass(frozen=True)
class WholeBody:
    """A small file's rows, not parsed yet: its whole body (after the header) as checked UTF-8
    ending with a newline, one row a line, none of the quirks that need a look of their own (a
    bare CR, a byte order mark, a NUL byte, an odd number of quotes, a line that may be long).
    Bodies of one form with the same header are parsed together (`join_bodies`)."""

    path: Path
    names: tuple[str, ...]
    body: bytes
    rows: int  # physical lines of the body
    raw: bool = False  # GB18030 bytes, known to decode (reading/gb18030.py), not UTF-8


def plain_body(items: list) -> tuple[bytes, int] | None:
    """The body and its lines when it has nothing that needs a look of its own (WholeBody)."""
    if not items:
        return b"", 0
    if len(items) > 1 or isinstance(items[0], LongRow):
        return None
    block, newlines, may_be_long = items[0]
    if (
        may_be_long
        or (b"\r" in block and block.count(b"\r") != block.count(b"\r\n"))
        or b"\x00" in block
        or (b'"' in block and block.count(b'"') % 2)
    ):
        return None
    if not block.endswith(b"\n"):
        return block + b"\n", newlines + 1
    return block, newlines
