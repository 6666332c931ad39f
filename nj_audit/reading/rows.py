"""A block parsed row by row with Python's csv module, for when some row has the wrong shape:
every row's line, and each damaged row kept (as empty values, its org_code only when it is one)
and named, so that it is reported at its line and the rest of the block is still judged."""

from __future__ import annotations

import csv

import numpy as np
import pyarrow as pa

from ..codes import is_org_code

csv.field_size_limit(1 << 30)

# Damage found in a row's shape (the `check` of the `(row)` failures validation reports).
FIELD_COUNT = "field_count"
UNTERMINATED_QUOTE = "unterminated_quote"
UNPARSEABLE_ROW = "unparseable_row"


class _Lines:
    """Physical lines fed to csv.reader from `start`; `position` is the next line to be read."""

    def __init__(self, lines: list[str], start: int):
        self.lines, self.position = lines, start

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.position >= len(self.lines):
            raise StopIteration
        self.position += 1
        return self.lines[self.position - 1]


def _fields(line: str) -> list[str]:
    try:
        return next(csv.reader([line], strict=False), [])
    except csv.Error:
        return [line]


def _left_open(lines: list[str]) -> bool:
    """Whether the row on `lines` ends inside a quoted value: then csv.reader reads on into
    another line when there is one."""
    feed = _Lines([*lines, "\n"], 0)
    try:
        next(csv.reader(feed, strict=False))
    except (StopIteration, csv.Error):
        return False
    return feed.position > len(lines)


def parse_rows(
    block: bytes, names: list[str], first_line: int
) -> tuple[pa.Table, np.ndarray, dict[int, tuple[str, str]]]:
    """Row by row with the csv module: every row's line, and the damaged ones kept and named.

    A row that has the wrong number of fields and spans several lines, or whose later lines are
    rows of their own, is an unterminated quote: it is reported at its first line alone, and
    parsing starts again on the next line, so one bad quote never swallows the rest of the file."""
    text = block.decode("utf-8", errors="replace")
    pieces = text.split("\n")
    physical = [piece + "\n" for piece in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
    width = len(names)
    rows: list[list[str]] = []
    lines: list[int] = []
    damage: dict[int, tuple[str, str]] = {}

    def damaged(fields: list[str], start: int, check: str, what: str) -> None:
        damage[len(rows)] = (check, what)
        fields = (fields + [""] * width)[:width]
        if (
            "org_code" in names
        ):  # a shifted row's org_code may be any other value: keep only a real one
            at = names.index("org_code")
            if not is_org_code(fields[at].strip()):
                fields[at] = ""
        rows.append(fields)
        lines.append(first_line + start)

    position = 0
    while position < len(physical):
        feed = _Lines(physical, position)
        reader = csv.reader(feed, strict=False)
        position = len(physical)
        while True:
            start = feed.position
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                damaged(
                    _fields(physical[start]), start, UNPARSEABLE_ROW, f"unparseable row ({exc})"
                )
                position = start + 1
                break
            used = feed.position - start
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                rows.append([""] * width)
                lines.append(first_line + start)
                continue
            misshapen = len(fields) != width
            odd_quotes = sum(physical[j].count('"') for j in range(start, feed.position)) % 2 == 1
            # A quote left open takes the next lines into its value, up to the next quote; that
            # leaves the quotes odd, and the lines taken are often rows of their own. A value
            # over several lines between two quotes (even) is data, whatever its lines hold.
            spanned = range(start + 1, feed.position)  # looked at only when the quotes are odd
            takes_rows = odd_quotes and any(len(_fields(physical[j])) >= width for j in spanned)
            swallowed = used > 1 and (misshapen or takes_rows)
            left_open = (
                odd_quotes
                and feed.position == len(physical)
                and _left_open(physical[start : feed.position])
            )  # the last row: the quote is open when the file ends (a quote inside a value is not)
            if swallowed or (odd_quotes and misshapen) or left_open:
                damaged(
                    _fields(physical[start]),
                    start,
                    UNTERMINATED_QUOTE,
                    "a quoted value is not closed (unterminated quote)",
                )
                position = start + 1
                break
            if misshapen:
                damaged(
                    fields,
                    start,
                    FIELD_COUNT,
                    f"row has {len(fields)} fields, the header has {width}",
                )
                continue
            rows.append(fields)
            lines.append(first_line + start)
    columns = list(zip(*rows)) if rows else [() for _ in names]
    table = pa.table(
        {name: pa.array(list(col), pa.large_string()) for name, col in zip(names, columns)}
    )
    return table, np.asarray(lines, dtype=np.int64), damage
