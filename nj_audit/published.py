"""Published summary tables (docs/contract.md § 8): their columns in English and Chinese, and
reading one (CSV in UTF-8 or GB18030, or an xlsx workbook whose header may sit below a title)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .columns import DISTRICT_COLUMNS, TABLE_COLUMNS
from .errors import InputError
from .messages import said
from .reading import Chunk, Expected, read_chunks
from .reading.csv import header_names
from .reading.frames import unique_names
from .reading.sniffing import detect_encoding

FIELDS = (
    "institution",
    "rows_uploaded",
    "upload_days",
    "forms",
    "outpatient_visits",
    "outpatient_rate",
    "discharges",
    "discharge_rate",
    "org_code",
    "district",
    "valid_ratio",
)
XLSX_SUFFIXES = (".xlsx", ".xlsm")
HEADER_SEARCH_ROWS = 20  # an xlsx sheet may have a title above its header row


def _key(header: str) -> str:
    """A header as matched: case, spaces, `_` and `-` aside (`Outpatient Rate`: outpatient_rate)."""
    return re.sub(r"[\s_-]+", "", header).lower()


ALIASES = {
    _key(name): en
    for en, zh in (*TABLE_COLUMNS, *DISTRICT_COLUMNS)
    for name in (en, zh)
    if en in (*FIELDS, "period_days", "members", "members_failing")
}
ALIASES[_key("接入单位")] = "institution"  # the district table's first column names the district
# A CSV table's header as its reader takes it: a column of the table repeated is refused (which
# one would count?), another column repeated is an extra column, ignored like any other.
_SPELLINGS = frozenset(name for pair in (*TABLE_COLUMNS, *DISTRICT_COLUMNS) for name in pair)
TABLE_HEADER = Expected(
    _SPELLINGS,
    "a summary table",
    _SPELLINGS,
    frozenset((name.lower(), name) for name in _SPELLINGS),  # `Institution` repeats institution
    uploads=False,
    required=False,
)


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text.strip() or None


def _read_xlsx(path: Path) -> Chunk:
    """The first sheet: header row (the first that names the institution column), then data rows."""
    from openpyxl import load_workbook

    if not path.is_file():  # missing, a folder, or a FIFO that would block the run
        raise InputError(
            said("error.no_such_file" if not path.exists() else "error.not_a_file"), path
        )
    try:
        book = load_workbook(path, read_only=True, data_only=True)
        rows = [
            (n, [_cell_text(v) for v in row])
            for n, row in enumerate(book.worksheets[0].iter_rows(values_only=True), 1)
        ]
        book.close()
    except Exception as exc:  # openpyxl raises zipfile, KeyError, XML errors... for a bad workbook
        raise InputError(f"cannot read xlsx workbook: {exc}", path) from None
    rows = [(n, cells) for n, cells in rows if any(cells)]
    if not rows:
        raise InputError("empty workbook (no header row)", path)
    start = next(
        (i for i, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]) if _names_institution(cells)),
        0,
    )
    line, names = rows[start]
    header = unique_names([c or "" for c in names], path, TABLE_HEADER, line)  # as a CSV's
    body = rows[start + 1 :]
    columns = {
        h: [cells[i] if i < len(cells) else None for _, cells in body] for i, h in enumerate(header)
    }
    frame = (
        pd.DataFrame(columns, dtype=object).astype("str")
        if body
        else pd.DataFrame({h: [] for h in header}).astype("str")
    )
    return Chunk(frame, np.array([n for n, _ in body], dtype=np.int64))


def _names_institution(cells: list[str | None]) -> bool:
    return any(c is not None and ALIASES.get(_key(c)) == "institution" for c in cells)


def _read_csv(path: Path, encoding: str | None) -> Chunk:
    chunks = list(read_chunks(path, encoding, expected=TABLE_HEADER))
    if not chunks:  # a header and no row: no chunk, but the columns are still checked
        return Chunk(pd.DataFrame({name: [] for name in _header(path, encoding)}).astype("str"))
    offsets = np.cumsum([0] + [len(c.frame) for c in chunks])
    damage = {
        int(o) + p: problem for c, o in zip(chunks, offsets) for p, problem in c.damage.items()
    }
    frame = pd.concat([c.frame for c in chunks], ignore_index=True)
    return Chunk(frame, np.concatenate([c.lines for c in chunks]), damage)


def _header(path: Path, encoding: str | None) -> list[str]:
    """The names of a file read_chunks has found readable (its header is on its first line)."""
    with path.open("rb") as source:
        sample = source.read(1 << 20)
    text = sample.decode(encoding or detect_encoding(sample, path), errors="replace")
    return header_names(text.lstrip("\ufeff"), path, TABLE_HEADER)


def read_table(path: Path, encoding: str | None = None) -> Chunk:
    """The table's rows as text, columns renamed to the schema's English names (others kept)."""
    chunk = _read_xlsx(path) if path.suffix.lower() in XLSX_SUFFIXES else _read_csv(path, encoding)
    names: dict[str, str] = {}
    for header in chunk.frame.columns:
        field = ALIASES.get(_key(str(header)))
        if field is None:
            continue
        if field in names.values():
            other = next(h for h, f in names.items() if f == field)
            raise InputError(f"columns {other!r} and {header!r} are both {field}", path, 1)
        names[header] = field
    if "institution" not in names.values() and "district" in names.values():
        # the district table (audit --by district --format csv): a district per row
        names = {h: "institution" if f == "district" else f for h, f in names.items()}
    if "institution" not in names.values():
        known = [str(c) for c in chunk.frame.columns if ALIASES.get(_key(str(c)))]
        named = f"; it names {', '.join(known)}" if known else ""
        raise InputError(
            f"no institution column (接入单位 or institution) among the header's"
            f" {len(chunk.frame.columns)} columns{named}",
            path,
            1,
        )
    frame = chunk.frame.rename(columns=names)
    blank = [
        c
        for c in frame.columns
        if c in names.values() and c != "institution" and frame[c].isna().all()
    ]
    return Chunk(
        frame.drop(columns=blank), chunk.lines, chunk.damage
    )  # an all-blank column counts as absent
