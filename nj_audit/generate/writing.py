"""Writing rows out: times in an institution's style, overrides applied, then CSV bytes (quoting
only where needed, CRLF line ends, GB18030) as the institution's system would write them."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from .rows import Rows
from .text import DAY, HOUR, MISSING, format_times, join
from .vocabulary import ARCHIVE_FORM_IDS, COLUMNS, DATE_COLUMNS


@dataclass(frozen=True)
class Style:
    """How one institution's system writes times."""

    sep: str = " "  # between date and clock: " " or "T"
    offset_share: float = 0.0  # share of event/upload times written with +08:00 (or in UTC with Z)


def finish_table(r: Rows, rng: np.random.Generator, style: Style) -> pa.Table:
    """The rows as a table of text: times written in `style`, then the overrides (the last one
    wins)."""
    n = len(r)
    columns: dict[str, pa.Array] = {}
    for name in COLUMNS[r.form]:
        if name not in r.times:
            columns[name] = r.text[name]
            continue
        secs = r.times[name]
        if name in DATE_COLUMNS:
            columns[name] = format_times(secs, date_only=True)
            continue
        text = format_times(secs, style.sep)
        if name == "event_time" and r.form in ARCHIVE_FORM_IDS:
            midnight = (secs % DAY == 0) & (secs != MISSING)
            text = pc.if_else(pa.array(midnight), format_times(secs, date_only=True), text)
        elif name in ("event_time", "upload_time") and style.offset_share > 0:
            marked = (rng.random(n) < style.offset_share) & (secs != MISSING)
            zulu = marked & (rng.random(n) < 0.3)
            text = pc.if_else(pa.array(marked & ~zulu), join(text, "+08:00"), text)
            utc = format_times(np.where(secs == MISSING, MISSING, secs - 8 * HOUR), style.sep)
            text = pc.if_else(pa.array(zulu), join(utc, "Z"), text)
        columns[name] = text
    for name, items in r.overrides.items():
        idx = np.concatenate([i for i, _ in items])
        if not len(idx):
            continue
        values = [v for _, vs in items for v in vs]
        positions, first_from_end = np.unique(
            idx[::-1], return_index=True
        )  # the last override wins
        chosen = len(idx) - 1 - first_from_end
        mask = np.zeros(n, dtype=bool)
        mask[positions] = True
        replacement = pa.array([values[k] for k in chosen], pa.string())
        columns[name] = pc.replace_with_mask(columns[name], pa.array(mask), replacement)
    return pa.table(columns)


_STRUCTURAL = '[,"\r\n]'
_TOKEN = re.compile(rb"\x1a(\d+)\x1a")


def csv_bytes(
    table: pa.Table, header: bool = True, crlf: bool = False, encoding: str = "utf-8"
) -> bytes:
    """The table as CSV (quotes only where needed, empty cells for nulls) in the given encoding."""
    quoted: list[bytes] = []
    columns = []
    for chunked in table.columns:
        column = chunked.combine_chunks()
        needs = pc.fill_null(pc.match_substring_regex(column, _STRUCTURAL), False)
        if pc.any(needs).as_py():
            values = pc.filter(column, needs).to_pylist()
            tokens = [f"\x1a{len(quoted) + k}\x1a" for k in range(len(values))]
            quoted.extend(('"' + v.replace('"', '""') + '"').encode() for v in values)
            column = pc.replace_with_mask(column, needs, pa.array(tokens, pa.string()))
        columns.append(column)
    sink = pa.BufferOutputStream()
    options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
    pa_csv.write_csv(pa.table(columns, names=table.column_names), sink, options)
    data = sink.getvalue().to_pybytes()
    if header:  # pyarrow quotes header names; the names never need it
        data = (",".join(table.column_names) + "\n").encode() + data
    if quoted:
        data = _TOKEN.sub(lambda m: quoted[int(m.group(1))], data)
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    return data if encoding == "utf-8" else data.decode("utf-8").encode(encoding)
