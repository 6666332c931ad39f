"""Opening and decoding: compression, what is plainly not CSV text, the encoding (UTF-8, UTF-8 with
BOM or GB18030), and the rest of a file as checked UTF-8 blocks that end at row boundaries."""

from __future__ import annotations

import codecs
import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa

from ..errors import InputError
from .blocks import count_newlines, last_row_boundary, may_hold_long_line

SAMPLE_BYTES = 1024 * 1024
BINARY_SHARE = 0.05  # more control bytes than this in the first 64 KiB: not text

_MAGIC = (
    (b"\x1f\x8b", "gzip-compressed data in a file not named .gz (name it .csv.gz)"),
    (b"PAR1", "a Parquet file not named .parquet"),
    (b"PK\x03\x04", "a zip archive or an Excel workbook, not CSV (export it as CSV)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or Office file, not CSV (export it as CSV)"),
    (b"\xff\xfe", "UTF-16 text, not supported (save it as UTF-8 or GB18030)"),
    (b"\xfe\xff", "UTF-16 text, not supported (save it as UTF-8 or GB18030)"),
)


def open_binary(path: Path) -> BinaryIO:
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror or exc}", path) from None
    if path.name.lower().endswith(".gz"):
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw


def read_bytes(stream: BinaryIO, size: int, path: Path) -> bytes:
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


def check_encoding(encoding: str, path: Path) -> str:
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


def sniff(sample: bytes, path: Path) -> None:
    """Refuse what is plainly not CSV text, with what it looks like."""
    for magic, what in _MAGIC:
        if sample.startswith(magic):
            raise InputError(f"not a CSV file: {what}", path)
    head = np.frombuffer(sample[:65536], dtype=np.uint8)
    control = ((head < 32) & (head != 9) & (head != 10) & (head != 13)) | (head == 127)
    first_line = sample.split(b"\n", 1)[0]
    if control.mean() > BINARY_SHARE or b"\x00" in first_line:
        raise InputError("binary data, not a CSV file", path)


def is_utf8(data: bytes | memoryview) -> bool:
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    try:
        pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)]).cast(
            pa.large_string()
        )
    except pa.ArrowInvalid:
        return False
    return True


def decode_line(data: bytes, error: UnicodeDecodeError, first_line: int) -> int:
    return first_line + data[: max(error.start, 0)].count(b"\n")


class Utf8Blocks:
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
        line = decode_line(data, error, 2 + self.lines_yielded + self.pending.count(b"\n"))
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
        that need no copy of the block: the carried bytes with `data`'s first line, then the
        rest."""
        if data.isascii() and not self.utf8_carry:
            return
        carry = self.utf8_carry
        first, last = data.find(b"\n") + 1, data.rfind(b"\n") + 1
        if not data:  # the end of the file: whatever was carried must be whole
            pieces: list[bytes | memoryview] = [carry]
            self.utf8_carry = b""
        elif not last:  # no newline yet: carry on
            pieces, self.utf8_carry = [], carry + data
        else:
            pieces, self.utf8_carry = (
                [carry + data[:first], memoryview(data)[first:last]],
                data[last:],
            )
        if all(is_utf8(piece) for piece in pieces):
            return
        whole = carry + data
        end = len(whole) if not data else whole.rfind(b"\n") + 1
        try:
            codecs.utf_8_decode(whole[:end], "strict", True)
        except UnicodeDecodeError as exc:
            start, stop = max(exc.start - len(carry), 0), max(exc.end - len(carry), 1)
            raise UnicodeDecodeError("utf-8", data, start, stop, exc.reason) from None

    def _next_raw(self) -> bytes:
        data = read_bytes(self.stream, self.block_bytes, self.path)
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
                        count_newlines(self.pending),
                        may_hold_long_line(self.pending),
                    )
                return
            cut = last_row_boundary(self.pending, data)
            if cut is None:  # no row ends in this block yet (a huge field): read more
                self.pending += data
                continue
            block, self.pending = (
                b"".join((self.pending, memoryview(data)[: cut + 1])),
                data[cut + 1 :],
            )  # one copy
            newlines = count_newlines(block)
            self.lines_yielded += newlines
            yield block, newlines, may_hold_long_line(block)
