"""Files -> chunks of text frames: discovery, encodings, compression, CSV quirks, Parquet.

Every value comes out as text (pandas `str` dtype), trimmed, with empty cells as missing. Each row
carries the physical line of the (decompressed) file where it starts (header = line 1; Parquet: row
number + 1). CSV is split into blocks at row boundaries and each block parsed by pyarrow; a block
with rows of the wrong shape is parsed again with Python's csv module, which knows every row's line,
so a damaged row is reported where it is and the rest of the file is still judged.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from .errors import InputError
from .forms import form_from_filename, stem_of

DEFAULT_CHUNK_ROWS = 1_000_000
BLOCK_BYTES = 32 * 1024 * 1024
SAMPLE_BYTES = 1024 * 1024
MAX_FIELD_CHARS = 1024 * 1024  # a longer value is a damaged row, not a value
csv.field_size_limit(1 << 31 - 1)


@dataclass(frozen=True)
class InputFile:
    path: Path
    form: str


@dataclass(frozen=True)
class Discovery:
    files: list[InputFile]
    skipped: list[Path]


def discover(paths: list[Path], form: str | None = None) -> Discovery:
    """Input files (sorted by path) and the files skipped because their name names no form."""
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise InputError("no such file or folder", path)
        if path.is_dir():
            found.extend(p for p in path.rglob("*") if p.is_file() and stem_of(p.name) is not None)
        else:
            found.append(path)
    files, skipped = [], []
    for path in sorted(set(found)):
        form_id = form or form_from_filename(path)
        if form_id is None:
            skipped.append(path)
        else:
            files.append(InputFile(path, form_id))
    if not files:
        where = paths[0] if len(paths) == 1 else None
        raise InputError("no input file matches a form (name files like outpatient_visit.csv, or pass --form)", where)
    return Discovery(files, skipped)


@dataclass
class Chunk:
    """Rows of one file: text values, the line each row starts on, and damaged rows' problems."""

    frame: pd.DataFrame
    lines: np.ndarray
    damage: dict[int, tuple[str, str]] = field(default_factory=dict)  # row -> (check, what is wrong)


# -- opening and decoding -------------------------------------------------------------------


def _open_binary(path: Path) -> BinaryIO:
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror or exc}", path) from None
    if path.name.lower().endswith(".gz"):
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw


def _read(stream: BinaryIO, size: int, path: Path) -> bytes:
    try:
        return stream.read(size)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"cannot read (truncated or corrupt compressed file?): {exc}", path) from None


def detect_encoding(sample: bytes, path: Path) -> str:
    """UTF-8 (with or without BOM) or GB18030; anything else is refused with a guess."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(sample[:65536]).best()
    guess = f" (it looks like {best.encoding})" if best is not None else ""
    raise InputError(f"not UTF-8 or GB18030 text{guess}: pass --encoding", path)


def _header(text: str, path: Path) -> list[str]:
    first_line = text.split("\n", 1)[0]
    if "\x00" in first_line or not first_line.strip():
        raise InputError("no header row (binary or empty first line)", path, 1)
    names = [name.strip().lstrip("\ufeff") for name in next(csv.reader([first_line]))]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InputError(f"duplicate column names in header: {', '.join(duplicates)}", path, 1)
    return names


class _Utf8Blocks:
    """The file as UTF-8 blocks that end at row boundaries, each with the line it starts on."""

    def __init__(self, stream: BinaryIO, encoding: str, path: Path, block_bytes: int):
        self.stream, self.path, self.block_bytes = stream, path, block_bytes
        self.decoder = None if encoding in ("utf-8", "utf-8-sig") else codecs.getincrementaldecoder(encoding)()
        self.encoding = encoding

    def _next_raw(self) -> bytes:
        data = _read(self.stream, self.block_bytes, self.path)
        if self.decoder is None:
            return data
        try:
            return self.decoder.decode(data, final=not data).encode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"not valid {self.encoding} text ({exc.reason}): pass the right --encoding", self.path) from None

    def __iter__(self) -> Iterator[bytes]:
        pending = b""
        while True:
            data = self._next_raw()
            pending += data
            if not data:
                if pending:
                    yield pending
                return
            cut = _last_row_boundary(pending)
            if cut is None:  # no row ends in this block yet (a huge field): read more
                continue
            yield pending[: cut + 1]
            pending = pending[cut + 1 :]


def _last_row_boundary(block: bytes) -> int | None:
    """Position of the last newline outside quotes, counting quotes from the block's start (a row
    boundary). With a stray quote the count goes wrong; the block is then cut at its last newline
    once it grows too large, and the rows around the cut are judged as damaged if they are."""
    buffer = np.frombuffer(block, dtype=np.uint8)
    newlines = np.flatnonzero(buffer == 10)
    if len(newlines) == 0:
        return None
    quotes = np.flatnonzero(buffer == 34)
    outside = newlines[np.searchsorted(quotes, newlines) % 2 == 0]
    if len(outside):
        return int(outside[-1])
    if len(block) > 4 * BLOCK_BYTES:
        return int(newlines[-1])
    return None


# -- parsing CSV blocks ---------------------------------------------------------------------


class _ShapeError(Exception):
    pass


def _parse_fast(block: bytes, names: list[str]) -> pa.Table:
    """pyarrow's parser; _ShapeError when some row has the wrong number of fields."""
    misshapen: list[int] = []

    def note(row: object) -> str:
        misshapen.append(1)
        return "skip"

    try:
        table = pa_csv.read_csv(
            io.BytesIO(block),
            read_options=pa_csv.ReadOptions(column_names=names, block_size=max(len(block), 1 << 20) + 1),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=note),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        raise _ShapeError from None
    if misshapen:
        raise _ShapeError
    return table


def _fast_lines(table: pa.Table, first_line: int) -> np.ndarray:
    """Start line of each row: rows take one line plus the newlines inside their values."""
    n = table.num_rows
    extra = np.zeros(n, dtype=np.int64)
    for column in table.columns:
        extra += np.asarray(pc.count_substring(column, "\n").to_numpy(zero_copy_only=False), dtype=np.int64)
    starts = np.arange(n, dtype=np.int64) + first_line
    starts[1:] += np.cumsum(extra)[:-1]
    return starts


def _parse_slow(block: bytes, names: list[str], first_line: int) -> tuple[pa.Table, np.ndarray, dict[int, tuple[str, str]]]:
    """Row by row with the csv module: every row's line, and the damaged ones kept and named."""
    text = block.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    rows: list[list[str]] = []
    lines: list[int] = []
    damage: dict[int, tuple[str, str]] = {}
    width = len(names)
    consumed = 0
    while True:
        start = first_line + consumed
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            damage[len(rows)] = ("unparseable_row", f"unparseable row ({exc})")
            rows.append([""] * width)
            lines.append(start)
            break
        consumed = reader.line_num
        if len(fields) != width and not (fields == [] or fields == [""]):
            damage[len(rows)] = ("field_count", f"row has {len(fields)} fields, the header has {width}")
        fields = (fields + [""] * width)[:width]
        rows.append(fields)
        lines.append(start)
    columns = list(zip(*rows)) if rows else [() for _ in names]
    table = pa.table({name: pa.array(list(col), pa.string()) for name, col in zip(names, columns)})
    return table, np.asarray(lines, dtype=np.int64), damage


def _count_lines(block: bytes) -> int:
    return block.count(b"\n") + (0 if block.endswith(b"\n") or not block else 1)


def _clean(table: pa.Table) -> pd.DataFrame:
    """Trim every value; empty -> missing; as a pandas frame of `str` columns."""
    columns = {}
    for name, column in zip(table.column_names, table.columns):
        text = column if column.type in (pa.string(), pa.large_string()) else pc.cast(column, pa.string())
        trimmed = pc.utf8_trim_whitespace(text)
        columns[name] = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, trimmed.type), trimmed)
    frame = pa.table(columns).to_pandas()
    return frame.astype({name: "str" for name in frame.columns}) if len(frame.columns) else frame


def _blank_rows(frame: pd.DataFrame) -> np.ndarray:
    return frame.isna().all(axis=1).to_numpy() if len(frame.columns) else np.zeros(len(frame), dtype=bool)


def _long_or_nul(table: pa.Table) -> dict[int, tuple[str, str]]:
    damage: dict[int, tuple[str, str]] = {}
    for name, column in zip(table.column_names, table.columns):
        too_long = pc.greater(pc.binary_length(column), MAX_FIELD_CHARS)
        nul = pc.match_substring(column, "\x00")
        for position in np.flatnonzero(too_long.to_numpy(zero_copy_only=False)):
            damage.setdefault(int(position), ("value_too_long", f"{name} is longer than {MAX_FIELD_CHARS} characters"))
        for position in np.flatnonzero(nul.to_numpy(zero_copy_only=False)):
            damage.setdefault(int(position), ("nul_byte", f"{name} holds a NUL byte"))
    return damage


def _read_csv(path: Path, encoding: str | None, chunk_rows: int) -> Iterator[Chunk]:
    stream = _open_binary(path)
    try:
        sample = _read(stream, SAMPLE_BYTES, path)
        if not sample:
            raise InputError("empty file (no header row)", path)
        if b"\x00" in sample[:4096] and not sample[:4096].rstrip(b"\x00").isascii():
            raise InputError("binary data, not a CSV file", path, 1)
        chosen = encoding or detect_encoding(sample, path)
        try:
            decoded_sample = codecs.getincrementaldecoder(chosen)(errors="strict").decode(sample, final=False)
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputError(f"cannot decode as {chosen}: {exc}", path, 1) from None
        names = _header(decoded_sample.lstrip("\ufeff"), path)
        rest = _skip_header(stream, sample)
        blocks = _Utf8Blocks(rest, chosen, path, BLOCK_BYTES)
        line = 2
        for block in blocks:
            try:
                table = _parse_fast(block, names)
                lines = _fast_lines(table, line)
                damage: dict[int, tuple[str, str]] = {}
            except _ShapeError:
                table, lines, damage = _parse_slow(block, names, line)
            line += _count_lines(block)
            damage = {**_long_or_nul(table), **damage}
            yield from _chunks(table, lines, damage, chunk_rows)
    finally:
        stream.close()


def _skip_header(stream: BinaryIO, sample: bytes) -> BinaryIO:
    """A stream positioned after the header line (the header is never quoted across lines)."""
    newline = sample.find(b"\n")
    if newline < 0:
        return io.BytesIO(b"")
    return _Concat(sample[newline + 1 :], stream)  # type: ignore[return-value]


class _Concat(io.RawIOBase):
    def __init__(self, head: bytes, tail: BinaryIO):
        self.head, self.tail = head, tail

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        if self.head:
            out, self.head = (self.head, b"") if size < 0 or size >= len(self.head) else (self.head[:size], self.head[size:])
            return out
        return self.tail.read(size)


def _chunks(table: pa.Table, lines: np.ndarray, damage: dict[int, tuple[str, str]], chunk_rows: int) -> Iterator[Chunk]:
    frame = _clean(table)
    keep = ~_blank_rows(frame)
    for position in damage:
        keep[position] = True
    if not keep.all():
        positions = np.flatnonzero(keep)
        renumber = {int(old): new for new, old in enumerate(positions)}
        damage = {renumber[p]: problem for p, problem in damage.items()}
        frame, lines = frame.iloc[positions].reset_index(drop=True), lines[positions]
    for start in range(0, max(len(frame), 1), chunk_rows):
        stop = start + chunk_rows
        part = {p - start: problem for p, problem in damage.items() if start <= p < stop}
        piece = frame.iloc[start:stop].reset_index(drop=True)
        if len(piece) or start == 0:
            yield Chunk(piece, lines[start:stop], part)


def _read_parquet(path: Path, chunk_rows: int) -> Iterator[Chunk]:
    try:
        source = pq.ParquetFile(path)
        row = 0
        for batch in source.iter_batches(batch_size=chunk_rows):
            table = pa.Table.from_batches([batch])
            lines = np.arange(row, row + table.num_rows, dtype=np.int64) + 2
            row += table.num_rows
            yield Chunk(_clean(table), lines, _long_or_nul(table))
        if row == 0:
            names = source.schema_arrow.names
            yield Chunk(pd.DataFrame({n: pd.Series([], dtype="str") for n in names}), np.zeros(0, dtype=np.int64))
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"cannot read Parquet file: {exc}", path) from None


def read_chunks(path: Path, encoding: str | None = None, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[Chunk]:
    """The rows of one file, in order, as chunks of at most `chunk_rows` rows."""
    if not path.is_file():
        raise InputError("not a readable file", path)
    if path.name.lower().endswith(".parquet"):
        yield from _read_parquet(path, chunk_rows)
    else:
        yield from _read_csv(path, encoding, chunk_rows)
