"""CSV text -> parsed tables: pyarrow's parser for clean blocks; Python's csv module, row by row,
for a block with rows of the wrong shape, so that each damaged row is reported at its line and the
rest of the file is still judged.

Lines end with LF or CRLF. A bare CR inside a row is data, for both parsers alike (each would
otherwise end a row there): such a block has its bare CRs swapped for a character it does not
hold before parsing, and back after."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from ..columns import is_report_header
from ..errors import ReportFile, UnreadableFile
from . import blocks, gb18030
from .bodies import WholeBody, plain_body
from .encoding import (
    SAMPLE_BYTES,
    LongRow,
    Utf8Blocks,
    decode_line,
    is_utf8,
    open_binary,
    position,
    skip_header,
)
from .frames import Chunk, Expected, check_names, long_or_nul, split_chunks, unique_names
from .quirks import (
    BARE_CR,
    bare_cr_stand_in,
    keep_real_org_codes,
    long_row,
    misplaced_boms,
    restore_cr,
)
from .rows import parse_rows
from .sniffing import detect_encoding, sniff

_CONTROL = re.compile("[\x00-\x08\x0a-\x1f]")  # below a space, but for a tab


def header_names(text: str, path: Path, expected: Expected | None = None) -> list[str]:
    """The names on the first line of `text` (a file's start, decoded), checked."""
    first_line = text.split("\n", 1)[0].rstrip("\r")
    if not first_line.strip() or not first_line.replace(",", "").strip():
        raise UnreadableFile("no header row (the first line is empty)", path, 1, reason="no_header")
    # a report is skipped where uploads are read, not where a table is (rank, --schema summary)
    if expected is not None and expected.uploads and is_report_header(first_line):
        raise ReportFile("a report written by nj-audit (by its first line), not an upload", path)
    if _CONTROL.search(first_line):
        raise UnreadableFile(
            "the header holds control characters (binary data, not a CSV file)",
            path,
            1,
            reason="binary",
        )
    return unique_names(next(csv.reader([first_line])), path, expected)


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
            check_utf8=False,  # Utf8Blocks has checked (or transcoded) every block
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _parse_fast(block: bytes, names: list[str], physical_rows: int = -1) -> pa.Table:
    """pyarrow's parser (on UTF-8 already checked); _ShapeError when some row has the wrong number
    of fields or holds a value that looks like rows swallowed by an unterminated quote. A table
    with as many rows as the block has lines (`physical_rows`) has no newline in any value, so
    nothing to look for."""
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


def _parse(block: bytes, names: list[str], line: int, physical_rows: int) -> tuple:
    """A block's table, the line of each row, and its damaged rows."""
    stand_in = bare_cr_stand_in(block)
    if stand_in is not None:
        block = BARE_CR.sub(stand_in.encode(), block)
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
        table, lines, damage = parse_rows(block, names, line)
    if stand_in is not None:
        table = restore_cr(table, stand_in)
    if b"\xef" in block and table.num_columns:  # memchr first: the BOM's bytes are EF BB BF
        damage = {**misplaced_boms(table, names), **damage}
    return table, lines, damage


def read_csv(
    path: Path,
    encoding: str | None,
    chunk_rows: int,
    expected: Expected | None,
    max_bytes: int | None = None,
    block_bytes: int | None = None,
    whole: bool = False,
) -> Iterator[Chunk | WholeBody]:
    """The file's chunks; with `whole`, a file that fits in its first MiB and has nothing
    unusual in it comes out as its `WholeBody` instead (for the caller to parse with others)."""
    stream = open_binary(path, max_bytes)
    try:
        sample = stream.read(SAMPLE_BYTES)
        if not sample.strip(b" \t\r\n"):
            raise UnreadableFile("empty file (no header row)", path, reason="no_header")
        sniff(sample, path)
        if b"\n" not in sample and len(sample) == SAMPLE_BYTES:
            raise UnreadableFile(
                "the header line is longer than 1 MiB", path, 1, reason="header_too_long"
            )
        # a file that fits in its sample and is UTF-8 throughout: its bytes are checked once
        small = len(sample) < SAMPLE_BYTES and not path.name.lower().endswith(".gz")
        known_utf8 = (
            encoding is None
            and small
            and not sample.startswith(codecs.BOM_UTF8)
            and is_utf8(sample)
        )
        chosen = "utf-8" if known_utf8 else encoding or detect_encoding(sample, path)
        # detect_encoding has decoded the sample (but for a BOM's UTF-8): the header line is enough
        checked = encoding is None and chosen != "utf-8-sig" and b"\n" in sample
        head = sample[: sample.find(b"\n") + 1] if checked else sample
        try:
            decoded_sample = codecs.getincrementaldecoder(chosen)(errors="strict").decode(
                head, final=False
            )
        except UnicodeDecodeError as exc:
            what = (
                f"bytes that are not valid {chosen} text ({exc.reason}): pass the right --encoding"
            )
            line = decode_line(sample, exc, 1)
            raise UnreadableFile(what, path, line, reason="undecodable") from None
        names = header_names(decoded_sample.lstrip("\ufeff"), path, expected)
        check_names(names, expected, path)
        rest = skip_header(stream, sample)
        utf8_blocks = Utf8Blocks(
            rest,
            chosen,
            path,
            block_bytes or blocks.BLOCK_BYTES,  # looked up here, so that a test may make it small
            forced=encoding is not None,
            ascii_so_far=sample.isascii(),
            checked=known_utf8,
            raw=not small or gb18030.small_file_known(sample, encoding, chosen),
        )
        items = iter(utf8_blocks)
        # the sample is the whole file (a compressed one may end in damage: its rows before count)
        if whole and small:
            items_read = list(items)  # one block at most: the file is smaller than a block
            body = plain_body(items_read)
            if body is not None:
                yield WholeBody(path, tuple(names), *body, raw=utf8_blocks.raw)
                return
            items = iter(items_read)
        line = 2
        for item in items:
            if isinstance(item, LongRow):
                table, lines, damage = long_row(item, names)
                line = item.line + 1
                yield from split_chunks(table, lines, damage, chunk_rows, True, position(stream))
                continue
            block, newlines, may_be_long = item
            if utf8_blocks.raw:
                yield from _gb18030_chunks(
                    block, newlines, names, line, chunk_rows, position(stream), utf8_blocks
                )
            else:
                yield from _block_chunks(
                    block, newlines, may_be_long, names, line, chunk_rows, position(stream)
                )
            line += newlines + (0 if block.endswith(b"\n") or not block else 1)
    finally:
        stream.close()


def _block_chunks(
    block: bytes, newlines: int, may_be_long: bool, names: list[str], line: int,
    chunk_rows: int, consumed: int,
) -> Iterator[Chunk]:  # fmt: skip
    """A block's rows (the first on `line`), parsed and cleaned, as chunks."""
    physical_rows = newlines + (0 if block.endswith(b"\n") else 1)
    table, lines, damage = _parse(block, names, line, physical_rows)
    # a value with newlines inside may be longer than any of its lines
    long_values = may_be_long or bool(damage) or table.num_rows != physical_rows
    damage = {**long_or_nul(table, nul=b"\x00" in block, long=long_values), **damage}
    table = keep_real_org_codes(table, damage)
    yield from split_chunks(table, lines, damage, chunk_rows, long_values, consumed)


def _gb18030_chunks(
    block: bytes, newlines: int, names: list[str], line: int, chunk_rows: int, consumed: int,
    utf8_blocks: Utf8Blocks,
) -> Iterator[Chunk]:  # fmt: skip
    """A raw GB18030 block's rows as `_block_chunks` gives them for its UTF-8: parsed as it is,
    only the columns with a non-ASCII byte transcoded; a block with anything unusual in it (a
    damaged row, a bare CR, a NUL, a byte order mark, bytes that do not decode) is transcoded
    whole and read the usual way."""
    physical_rows = newlines + (0 if block.endswith(b"\n") else 1)
    table = None
    if gb18030.plain(block):
        try:
            parsed = _arrow_parse(block, names, PARSE_BLOCK_BYTES)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            parsed = None
        if parsed is not None and parsed.num_rows == physical_rows:  # no newline in a value
            table = gb18030.utf8_table(parsed)
    if table is None:
        utf8 = utf8_blocks.transcode(block, line)
        long = blocks.may_hold_long_line(utf8)
        yield from _block_chunks(utf8, newlines, long, names, line, chunk_rows, consumed)
        return
    lines = np.arange(line, line + table.num_rows)
    damage = long_or_nul(table, nul=False, long=True)  # UTF-8 may be longer than the bytes read
    table = keep_real_org_codes(table, damage)
    yield from split_chunks(table, lines, damage, chunk_rows, True, consumed)
