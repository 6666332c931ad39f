"""Files -> chunks of text frames: discovery, encodings, compression, CSV quirks, Parquet.

Every value comes out as text (pandas `str` dtype), trimmed, with empty cells as missing. Each row
carries the physical line of the (decompressed) file where it starts (header = line 1; Parquet: row
number + 1). CSV is split into blocks at row boundaries and each block parsed by pyarrow; a block
with rows of the wrong shape is parsed again with Python's csv module, which knows every row's line,
so a damaged row is reported where it is and the rest of the file is still judged.

What stops a file from being read at all (an `InputError`, exit 2): a missing or unreadable file, an
empty file, binary data, a truncated or corrupt compressed or Parquet file, bytes the encoding cannot
decode, a header with duplicate names or with no column of its form. What does not (a *damaged row*,
judged invalid at its line): a row with too many or too few fields, an unterminated quote, a NUL byte,
a value longer than `MAX_FIELD_CHARS`. Inputs are only ever opened for reading.
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

from .errors import InputError, one_line
from .forms import FORM_IDS, form_from_filename, stem_of

DEFAULT_CHUNK_ROWS = 1_000_000
BLOCK_BYTES = 32 * 1024 * 1024
SAMPLE_BYTES = 1024 * 1024
MAX_FIELD_CHARS = 1024 * 1024  # a longer value is a damaged row, not a value
BINARY_SHARE = 0.05  # more control bytes than this in the first 64 KiB: not text
csv.field_size_limit(1 << 30)

# Damaged-row checks (the `check` of the `(row)` failures validation reports).
FIELD_COUNT = "field_count"
UNTERMINATED_QUOTE = "unterminated_quote"
UNPARSEABLE_ROW = "unparseable_row"
VALUE_TOO_LONG = "value_too_long"
NUL_BYTE = "nul_byte"
SHAPE_DAMAGE = (FIELD_COUNT, UNTERMINATED_QUOTE, UNPARSEABLE_ROW)

_MAGIC = (
    (b"\x1f\x8b", "gzip-compressed data in a file not named .gz (name it .csv.gz)"),
    (b"PAR1", "a Parquet file not named .parquet"),
    (b"PK\x03\x04", "a zip archive or an Excel workbook, not CSV (export it as CSV)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or Office file, not CSV (export it as CSV)"),
    (b"\xff\xfe", "UTF-16 text, not supported (save it as UTF-8 or GB18030)"),
    (b"\xfe\xff", "UTF-16 text, not supported (save it as UTF-8 or GB18030)"),
)


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
            try:
                found.extend(
                    p for p in path.rglob("*") if stem_of(p.name) is not None and p.is_file()
                )
            except OSError as exc:
                raise InputError(f"cannot list folder: {exc.strerror or exc}", path) from None
        else:
            found.append(path)
    files, skipped = by_form(found, form)
    if not files:
        where = paths[0] if len(paths) == 1 else None
        what = "no input file" if not found else f"none of the {len(found)} files found"
        raise InputError(
            f"{what} matches a form (*.csv, *.csv.gz or *.parquet named like outpatient_visit.csv, or pass --form)",
            where,
        )
    return Discovery(files, skipped)


def by_form(paths: list[Path], form: str | None) -> tuple[list[InputFile], list[Path]]:
    """The paths sorted, each with its form (`form`, else the one its name names), and apart the
    paths whose name names no form."""
    files, skipped = [], []
    for path in sorted(set(paths)):
        form_id = form or form_from_filename(path)
        if form_id is None:
            skipped.append(path)
        else:
            files.append(InputFile(path, form_id))
    return files, skipped


@dataclass
class Chunk:
    """Rows of one file: text values, the line each row starts on, and damaged rows' problems."""

    frame: pd.DataFrame
    lines: np.ndarray
    damage: dict[int, tuple[str, str]] = field(
        default_factory=dict
    )  # row -> (check, what is wrong)
    consumed: int = 0  # bytes of the file as stored (compressed, for .gz) read so far: for progress


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
        raise InputError(
            f"cannot read (truncated or corrupt compressed file?): {exc}", path
        ) from None


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


def _check_encoding(encoding: str, path: Path) -> str:
    """A known, ASCII-compatible encoding (newline, comma and quote are their ASCII bytes)."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r} (try utf-8 or gb18030)", path) from None
    if codecs.decode(b'\n,"a', name, errors="replace") != '\n,"a':
        raise InputError(
            f"encoding {encoding!r} is not supported (save the file as UTF-8 or GB18030)", path
        )
    return encoding


def _sniff(sample: bytes, path: Path) -> None:
    """Refuse what is plainly not CSV text, with what it looks like."""
    for magic, what in _MAGIC:
        if sample.startswith(magic):
            raise InputError(f"not a CSV file: {what}", path)
    head = np.frombuffer(sample[:65536], dtype=np.uint8)
    control = ((head < 32) & (head != 9) & (head != 10) & (head != 13)) | (head == 127)
    first_line = sample.split(b"\n", 1)[0]
    if control.mean() > BINARY_SHARE or b"\x00" in first_line:
        raise InputError("binary data, not a CSV file", path)


def _is_utf8(data: bytes | memoryview) -> bool:
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    try:
        pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)]).cast(
            pa.large_string()
        )
    except pa.ArrowInvalid:
        return False
    return True


def _decode_line(data: bytes, error: UnicodeDecodeError, first_line: int) -> int:
    return first_line + data[: max(error.start, 0)].count(b"\n")


def _unique_names(raw: list[str], path: Path) -> list[str]:
    names = [name.strip().lstrip("\ufeff").strip() for name in raw]
    named = [name for name in names if name]
    duplicates = sorted({name for name in named if named.count(name) > 1})
    if duplicates:
        raise InputError(f"duplicate column names in header: {', '.join(duplicates)}", path, 1)
    # Unnamed columns (trailing commas of a spreadsheet export) are extra columns, ignored.
    return [name or f"(unnamed column {n})" for n, name in enumerate(names, start=1)]


def _header(text: str, path: Path) -> list[str]:
    first_line = text.split("\n", 1)[0].rstrip("\r")
    if not first_line.strip() or not first_line.replace(",", "").strip():
        raise InputError("no header row (the first line is empty)", path, 1)
    if any(ord(char) < 32 and char != "\t" for char in first_line):
        raise InputError(
            "the header holds control characters (binary data, not a CSV file)", path, 1
        )
    return _unique_names(next(csv.reader([first_line])), path)


def expected_columns(form: str | None, path: Path) -> set[str] | None:
    """The columns a header should share at least one of: those of `form`, or of any form when the
    form comes from the file's name (it may be overridden), or None (no check: a custom schema)."""
    from .schemas import load_schema

    if form in FORM_IDS:
        return {c.name for c in load_schema(form).columns}
    if form is None and form_from_filename(path) is not None:
        return {c.name for f in FORM_IDS for c in load_schema(f).columns}
    return None


def _check_names(names: list[str], form: str | None, path: Path) -> None:
    expected = expected_columns(form, path)
    if expected is not None and names and not expected & set(names):
        whose = form if form in FORM_IDS else "any form"
        shown = ", ".join(n[:40] for n in names[:5]) + (", ..." if len(names) > 5 else "")
        raise InputError(
            f"the header ({shown}) names no column of {whose}: wrong file, or wrong --form?",
            path,
            1,
        )


class _Utf8Blocks:
    """The rest of the file as UTF-8 blocks that end at row boundaries.

    Bytes the encoding cannot decode stop the run with the line they are on. A file detected as
    UTF-8 only because its first megabyte is ASCII switches to GB18030 when that decodes the rest.
    """

    def __init__(
        self,
        stream: BinaryIO,
        encoding: str,
        path: Path,
        block_bytes: int,
        *,
        forced: bool,
        ascii_so_far: bool,
    ):
        self.stream, self.path, self.block_bytes = stream, path, block_bytes
        self.encoding = codecs.lookup(encoding).name
        self.forced, self.ascii_so_far = forced, ascii_so_far
        self.decoder = (
            None
            if self.encoding in ("utf-8", "utf-8-sig")
            else codecs.getincrementaldecoder(encoding)()
        )
        self.utf8_carry = b""  # bytes after the last newline, checked with the next block
        self.lines_yielded = 0  # newlines in the blocks given out so far
        self.pending = b""  # read, not yet given out

    def _fail(self, data: bytes, error: UnicodeDecodeError) -> InputError:
        line = _decode_line(data, error, 2 + self.lines_yielded + self.pending.count(b"\n"))
        hint = "pass the right --encoding" if self.forced else "mixed encodings? pass --encoding"
        return InputError(
            f"bytes that are not valid {self.encoding} text ({error.reason}): {hint}",
            self.path,
            line,
        )

    def _check_utf8(self, data: bytes) -> None:
        """Raise UnicodeDecodeError (positions in `data`) unless the bytes read so far are UTF-8.
        Arrow's validator is fast; the codec only runs on bytes that fail, to say where. A newline
        never splits a character, so the text up to the last newline is checked, in two pieces
        that need no copy of the block: the carried bytes with `data`'s first line, then the rest."""
        if data.isascii() and not self.utf8_carry:
            return
        carry = self.utf8_carry
        first, last = data.find(b"\n") + 1, data.rfind(b"\n") + 1
        if not data:  # the end of the file: whatever was carried must be whole
            pieces, self.utf8_carry = [carry], b""
        elif not last:  # no newline yet: carry on
            pieces, self.utf8_carry = [], carry + data
        else:
            pieces, self.utf8_carry = (
                [carry + data[:first], memoryview(data)[first:last]],
                data[last:],
            )
        if all(_is_utf8(piece) for piece in pieces):
            return
        whole = carry + data
        end = len(whole) if not data else whole.rfind(b"\n") + 1
        try:
            codecs.utf_8_decode(whole[:end], "strict", True)
        except UnicodeDecodeError as exc:
            start, stop = max(exc.start - len(carry), 0), max(exc.end - len(carry), 1)
            raise UnicodeDecodeError("utf-8", data, start, stop, exc.reason) from None

    def _next_raw(self) -> bytes:
        data = _read(self.stream, self.block_bytes, self.path)
        try:
            if self.decoder is not None:
                return self.decoder.decode(data, final=not data).encode("utf-8")
            try:
                self._check_utf8(data)
            except UnicodeDecodeError:
                if self.forced or not self.ascii_so_far:
                    raise
                self.encoding, self.decoder = "gb18030", codecs.getincrementaldecoder("gb18030")()
                return self.decoder.decode(data, final=not data).encode("utf-8")
            self.ascii_so_far = self.ascii_so_far and data.isascii()
            return data
        except UnicodeDecodeError as exc:
            raise self._fail(data, exc) from None

    def __iter__(self) -> Iterator[tuple[bytes, int, bool]]:
        """Blocks, the number of newlines in each, and whether a line in it may be longer than
        MAX_FIELD_CHARS (if not, no value can be, and the values' lengths need no checking)."""
        while True:
            data = self._next_raw()
            if not data:
                if self.pending:
                    yield (
                        self.pending,
                        _count_newlines(self.pending),
                        _may_hold_long_line(self.pending),
                    )
                return
            cut = _last_row_boundary(self.pending, data)
            if cut is None:  # no row ends in this block yet (a huge field): read more
                self.pending += data
                continue
            block, self.pending = (
                b"".join((self.pending, memoryview(data)[: cut + 1])),
                data[cut + 1 :],
            )  # one copy
            newlines = _count_newlines(block)
            self.lines_yielded += newlines
            yield block, newlines, _may_hold_long_line(block)


def _last_row_boundary(head: bytes, data: bytes) -> int | None:
    """Position in `data` of its last newline outside quotes, counting quotes from the start of
    `head` (the start of a row, carried from the block before): a row boundary. With a stray quote
    the count goes wrong; the block is then cut at the last newline once it grows too large, and
    the rows around the cut are judged as damaged if they are."""
    cut = data.rfind(b"\n")
    if cut < 0:
        return None
    if b'"' not in head and b'"' not in data:  # the common case, at memchr speed
        return cut
    odd = (head.count(b'"') + data.count(b'"', 0, cut)) % 2  # odd: the newline is inside a value
    for _ in range(64):  # step back a newline at a time (a value rarely spans more lines)
        if not odd:
            return cut
        previous = data.rfind(b"\n", 0, cut)
        if previous < 0:
            break
        odd ^= data.count(b'"', previous, cut) % 2
        cut = previous
    else:  # many lines inside quotes (or a stray quote): look at every newline at once
        buffer = np.frombuffer(data, dtype=np.uint8)
        newlines = np.flatnonzero(buffer == 10)
        quotes_before = np.searchsorted(np.flatnonzero(buffer == 34), newlines) + head.count(b'"')
        outside = np.flatnonzero(quotes_before % 2 == 0)
        if len(outside):
            return int(newlines[outside[-1]])
    return data.rfind(b"\n") if len(head) + len(data) > 2 * BLOCK_BYTES else None


def _count_newlines(block: bytes) -> int:
    """Twice as fast as bytes.count, counted 1 MB at a time so that the comparison's temporary
    stays in the CPU's cache (one the size of the block would be fresh memory each time)."""
    buffer = np.frombuffer(block, dtype=np.uint8)
    return sum(
        int(np.count_nonzero(buffer[start : start + (1 << 20)] == 10))
        for start in range(0, len(buffer), 1 << 20)
    )


def _may_hold_long_line(block: bytes) -> bool:
    """False when no line of the block is longer than MAX_FIELD_CHARS. A line that long covers a
    whole aligned window of half that size, so it is enough that every such window holds a newline
    (a few finds per block, each stopping at the first newline)."""
    half = MAX_FIELD_CHARS // 2
    return any(
        block.find(b"\n", start, start + half) < 0
        for start in range(0, len(block) - half + 1, half)
    )


# -- parsing CSV blocks ---------------------------------------------------------------------


class _ShapeError(Exception):
    pass


PARSE_BLOCK_BYTES = 4 * 1024 * 1024  # pyarrow parses a block's pieces of this size in parallel


def _arrow_parse(block: bytes, names: list[str], piece_bytes: int) -> pa.Table:
    return pa_csv.read_csv(
        io.BytesIO(block),
        read_options=pa_csv.ReadOptions(column_names=names, block_size=piece_bytes),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
        convert_options=pa_csv.ConvertOptions(
            column_types={name: pa.large_string() for name in names},
            check_utf8=False,  # _Utf8Blocks has checked (or transcoded) every block
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _parse_fast(block: bytes, names: list[str], physical_rows: int = -1) -> pa.Table:
    """pyarrow's parser (on UTF-8 already checked); _ShapeError when some row has the wrong number
    of fields or holds a value that looks like rows swallowed by an unterminated quote. A table with as many rows
    as the block has lines (`physical_rows`) has no newline in any value, so nothing to look for."""
    try:
        try:
            table = _arrow_parse(block, names, PARSE_BLOCK_BYTES)
        except pa.ArrowInvalid:  # e.g. a row longer than a piece: parse the block whole
            table = _arrow_parse(block, names, max(len(block), 1 << 20) + 1)
    except (
        pa.ArrowInvalid,
        pa.ArrowNotImplementedError,
    ):  # the message quotes the row: never shown
        raise _ShapeError from None
    if b'"' in block and block.count(b'"') % 2:  # a quote left open somewhere
        raise _ShapeError
    if table.num_rows == physical_rows:
        return table
    for column in table.columns:
        newlines = pc.count_substring(column, "\n")
        if pc.max(newlines).as_py():
            commas = pc.count_substring(pc.filter(column, pc.greater(newlines, 0)), ",")
            if pc.max(commas).as_py() >= max(len(names) - 1, 1):
                raise _ShapeError
    return table


def _fast_lines(table: pa.Table, first_line: int) -> np.ndarray:
    """Start line of each row: rows take one line plus the newlines inside their values."""
    n = table.num_rows
    extra = np.zeros(n, dtype=np.int64)
    for column in table.columns:
        extra += np.asarray(
            pc.count_substring(column, "\n").to_numpy(zero_copy_only=False), dtype=np.int64
        )
    starts = np.arange(n, dtype=np.int64) + first_line
    starts[1:] += np.cumsum(extra)[:-1]
    return starts


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


def _org_code_plausible(value: str) -> bool:
    from .checks import gb32100_check_char

    try:
        return len(value) == 18 and gb32100_check_char(value[:17]) == value[17]
    except (ValueError, IndexError):
        return False


def _parse_slow(
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
            if not _org_code_plausible(fields[at].strip()):
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
            spanned = range(start + 1, feed.position)
            swallowed = used > 1 and (
                misshapen or any(len(_fields(physical[j])) >= width for j in spanned)
            )
            odd_quotes = sum(physical[j].count('"') for j in range(start, feed.position)) % 2 == 1
            if swallowed or (odd_quotes and (misshapen or feed.position == len(physical))):
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


def _clean(table: pa.Table, long_values: bool = True) -> pd.DataFrame:
    """Trim every value; empty (and over-long) -> missing; as a pandas frame of `str` columns."""
    columns = {}
    for name, column in zip(table.column_names, table.columns):
        text = (
            column
            if column.type in (pa.string(), pa.large_string())
            else pc.cast(column, pa.large_string())
        )
        columns[name] = _clean_values(text, long_values)
    frame = pa.table(columns).to_pandas()
    return frame.astype({name: "str" for name in frame.columns}) if len(frame.columns) else frame


def _clean_values(
    text: pa.Array | pa.ChunkedArray, long_values: bool
) -> pa.Array | pa.ChunkedArray:
    """One column of `_clean`. Most values are neither empty nor too long: then the trimmed array is
    the answer, without copying it again to mark missing values."""
    trimmed = pc.utf8_trim_whitespace(text)
    lengths = pc.binary_length(trimmed)
    drop = pc.equal(lengths, 0)
    if long_values:
        drop = pc.or_(drop, pc.greater(lengths, MAX_FIELD_CHARS))
    if not pc.any(drop).as_py():
        return trimmed
    return pc.if_else(drop, pa.scalar(None, trimmed.type), trimmed)


def _blank_rows(frame: pd.DataFrame) -> np.ndarray:
    if len(frame.columns) == 0 or any(not frame[name].hasnans for name in frame.columns):
        return np.zeros(len(frame), dtype=bool)  # a column without a missing value: no row is blank
    return frame.isna().all(axis=1).to_numpy()


def _long_or_nul(
    table: pa.Table, nul: bool = True, long: bool = True
) -> dict[int, tuple[str, str]]:
    """Rows with a value over MAX_FIELD_CHARS or a NUL byte (`nul`/`long`: whether to look)."""
    damage: dict[int, tuple[str, str]] = {}
    for name, column in zip(table.column_names, table.columns):
        if column.type not in (pa.string(), pa.large_string()) or not (nul or long):
            continue
        if long:
            too_long = pc.greater(pc.binary_length(column), MAX_FIELD_CHARS)
            for position in np.flatnonzero(too_long.to_numpy(zero_copy_only=False)):
                damage.setdefault(
                    int(position),
                    (VALUE_TOO_LONG, f"{name} is longer than {MAX_FIELD_CHARS} characters"),
                )
        if nul:
            for position in np.flatnonzero(
                pc.match_substring(column, "\x00").to_numpy(zero_copy_only=False)
            ):
                damage.setdefault(int(position), (NUL_BYTE, f"{name} holds a NUL byte"))
    return damage


def _read_csv(
    path: Path, encoding: str | None, chunk_rows: int, form: str | None
) -> Iterator[Chunk]:
    stream = _open_binary(path)
    try:
        sample = _read(stream, SAMPLE_BYTES, path)
        if not sample.strip(b" \t\r\n"):
            raise InputError("empty file (no header row)", path)
        if encoding is not None:
            _check_encoding(encoding, path)
        else:
            _sniff(sample, path)
        chosen = encoding or detect_encoding(sample, path)
        try:
            decoded_sample = codecs.getincrementaldecoder(chosen)(errors="strict").decode(
                sample, final=False
            )
        except UnicodeDecodeError as exc:
            what = (
                f"bytes that are not valid {chosen} text ({exc.reason}): pass the right --encoding"
            )
            raise InputError(what, path, _decode_line(sample, exc, 1)) from None
        names = _header(decoded_sample.lstrip("\ufeff"), path)
        _check_names(names, form, path)
        rest = _skip_header(stream, sample)
        blocks = _Utf8Blocks(
            rest,
            chosen,
            path,
            BLOCK_BYTES,
            forced=encoding is not None,
            ascii_so_far=sample.isascii(),
        )
        line = 2
        for block, newlines, may_be_long in blocks:
            physical_rows = newlines + (0 if block.endswith(b"\n") else 1)
            try:
                table = _parse_fast(block, names, physical_rows)
                # every row on one line (no newline inside a value): no need to count per value
                lines = (
                    np.arange(line, line + table.num_rows)
                    if table.num_rows == physical_rows
                    else _fast_lines(table, line)
                )
                damage: dict[int, tuple[str, str]] = {}
            except _ShapeError:
                table, lines, damage = _parse_slow(block, names, line)
            line += newlines + (0 if block.endswith(b"\n") or not block else 1)
            # a value with newlines inside may be longer than any of its lines
            long_values = may_be_long or bool(damage) or table.num_rows != physical_rows
            damage = {**_long_or_nul(table, nul=b"\x00" in block, long=long_values), **damage}
            yield from _chunks(
                table, lines, damage, chunk_rows, long_values, _stored_position(stream)
            )
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
            out, self.head = (
                (self.head, b"")
                if size < 0 or size >= len(self.head)
                else (self.head[:size], self.head[size:])
            )
            return out
        return self.tail.read(size)


def stored_size(path: Path) -> int:
    """The file's size on disk (0 when it cannot be told): the total for progress."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _stored_position(stream: BinaryIO) -> int:
    """How far into the file on disk reading has got (through a gzip layer, if any)."""
    raw = getattr(stream, "fileobj", None) or getattr(stream, "tail", None) or stream
    if raw is not stream:
        return _stored_position(raw)
    try:
        return stream.tell()
    except (OSError, ValueError):
        return 0


def _chunks(
    table: pa.Table,
    lines: np.ndarray,
    damage: dict[int, tuple[str, str]],
    chunk_rows: int,
    long_values: bool = True,
    consumed: int = 0,
) -> Iterator[Chunk]:
    frame = _clean(table, long_values)
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
            yield Chunk(piece, lines[start:stop], part, consumed)


def _read_parquet(path: Path, chunk_rows: int, form: str | None) -> Iterator[Chunk]:
    try:
        source = pq.ParquetFile(path)
        names = _unique_names(list(source.schema_arrow.names), path)
        _check_names(names, form, path)
        row = 0
        for batch in source.iter_batches(batch_size=chunk_rows):
            table = pa.Table.from_batches([batch]).rename_columns(names)
            lines = np.arange(row, row + table.num_rows, dtype=np.int64) + 2
            row += table.num_rows
            consumed = int(path.stat().st_size * row / max(source.metadata.num_rows, 1))
            yield Chunk(_clean(table), lines, _long_or_nul(table), consumed)
        if row == 0:
            yield Chunk(
                pd.DataFrame({n: pd.Series([], dtype="str") for n in names}),
                np.zeros(0, dtype=np.int64),
            )
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"cannot read Parquet file: {one_line(exc, 200)}", path) from None


def read_chunks(
    path: Path,
    encoding: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    form: str | None = None,
) -> Iterator[Chunk]:
    """The rows of one file, in order, as chunks of at most `chunk_rows` rows.

    With `form`, a header that names none of the form's columns is refused; without it, the same
    is done against every form's columns when the file's name names a form."""
    if not path.is_file():
        raise InputError("not a readable file" if path.exists() else "no such file", path)
    if path.name.lower().endswith(".parquet"):
        yield from _read_parquet(path, chunk_rows, form)
    else:
        yield from _read_csv(path, encoding, chunk_rows, form)
