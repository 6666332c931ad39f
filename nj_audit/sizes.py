"""Sizes on the command line (`--max-bytes`, `--memory-limit`): `8GiB`, `500MB`, `1.5GB`,
`1048576` -> bytes. One parser, so that both options read a size the same way."""

from __future__ import annotations

import re

UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
UNITS |= {"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}
_SIZE = re.compile(r"\s*([0-9]{1,15}(?:\.[0-9]{1,6})?)\s*([A-Za-z]{0,3})\s*", re.ASCII)


def parse_size(text: str, unit_required: bool = False) -> int | None:
    """The bytes `text` names, or None when it names no size: not a number and a unit (kB to
    TiB, decimal or binary, any case), zero, or (`unit_required`: a memory limit of `512` is more
    likely a slip than 512 bytes) a bare number."""
    match = _SIZE.fullmatch(text)
    if match is None:
        return None
    unit = match.group(2).lower()
    if unit not in UNITS and not (unit == "" and not unit_required):
        return None
    size = int(float(match.group(1)) * UNITS.get(unit, 1))
    return size if size > 0 else None
