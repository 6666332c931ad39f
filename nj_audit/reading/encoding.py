"""Opening and decoding: compression (within its limits, `limits.py`), and the rest of a file, once
`sniffing.py` has said what it is, as checked UTF-8 blocks that end at row boundaries, with the
lines too long to keep apart and mixed encodings refused."""

from __future__ import annotations

import codecs
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa

from ..errors import UnreadableFile
from .blocks import count_newlines, last_row_boundary, may_hold_long_line
from .limits import Limited, LongLine, guarded

SAMPLE_BYTES = 1024 * 1024
MIXED_LINES = 8  # UTF-8 lines with Chinese text in a block of a GB18030 file: mixed encodings

# Bytes as classes, to find three Chinese characters in a row as UTF-8 writes them (a lead byte
# E4-E9, two continuation bytes 80-BF, three times) at the speed of a substring search.
_CLASSES = bytes(
    ord("L") if 0xE4 <= b <= 0xE9 else ord("C") if 0x80 <= b <= 0xBF else ord(".")
    for b in range(256)
)


def open_binary(path: Path, max_bytes: int | None = None) -> Limited:
    """The file's bytes (decompressed for .gz), refusing to give more than its byte limit."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
    except PermissionError:
        raise UnreadableFile(
            "cannot open: permission denied", path, reason="permission_denied"
        ) from None
    except OSError as exc:
        raise UnreadableFile(
            f"cannot open: {exc.strerror or type(exc).__name__}", path, reason="read_error"
        ) from None
    stream: BinaryIO = raw
    if path.name.lower().endswith(".gz"):
        stream = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
    return Limited(stream, path, max_bytes)


def is_utf8(data: bytes | memoryview) -> bool:
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    try:
        pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)]).cast(
            pa.large_string()
        )
    except pa.ArrowInvalid:
        return False
    return True


def _line_is(data: bytes, error: UnicodeDecodeError, encoding: str) -> bool:
    """Whether the line of `data` where decoding failed is non-ASCII text in `encoding`."""
    at = min(max(error.start, 0), len(data))
    start, end = data.rfind(b"\n", 0, at) + 1, data.find(b"\n", at)
    line = data[start : len(data) if end < 0 else end]
    try:
        line.decode(encoding)
    except UnicodeDecodeError:
        return False
    return not line.isascii()


def decode_line(data: bytes, error: UnicodeDecodeError, first_line: int) -> int:
    return first_line + data[: max(error.start, 0)].count(b"\n")


def utf8_lines(raw: bytes, every: int = SAMPLE_BYTES, span: int = SAMPLE_BYTES // 8) -> list[int]:
    """Where lines of `raw` start that are UTF-8 holding three Chinese characters in a row (as a
    GB18030 file's lines never are, in practice), up to MIXED_LINES of them, looked for in the
    first `span` bytes of every `every` (an eighth: a UTF-8 part of a MiB cannot hide in it, and
    GB18030 decoding fails on most UTF-8 Chinese text anyway)."""
    found: list[int] = []
    for start in range(0, len(raw), every):
        stop = min(start + span, len(raw))
        classes = raw[start:stop].translate(_CLASSES)
        position = 0
        while len(found) < MIXED_LINES:
            at = classes.find(b"LCCLCCLCC", position)
            if at < 0:
                break
            at += start
            first, end = raw.rfind(b"\n", 0, at) + 1, raw.find(b"\n", at)
            end = len(raw) if end < 0 else end
            try:
                raw[first:end].decode("utf-8")
                found.append(first)
            except UnicodeDecodeError:
                pass
            position = end + 1 - start
    return found


@dataclass(frozen=True)
class LongRow:
    """A line longer than MAX_LINE_BYTES: its first bytes (as UTF-8) and the line it is on."""

    head: bytes
    line: int


class Utf8Blocks:
    """The rest of the file as UTF-8 blocks that end at row boundaries, and the lines too long to
    keep (`LongRow`).

    Bytes the encoding cannot decode stop the file with the line they are on. A file detected as
    UTF-8 only because its first megabyte is ASCII switches to GB18030 when that decodes the rest;
    a GB18030 file with lines of UTF-8 text, or a UTF-8 file with GB18030 lines, is refused as
    mixed encodings rather than misread.
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
        checked: bool = False,  # the whole stream is known to be UTF-8 (a small file's sample)
        raw: bool = False,  # GB18030 blocks handed out as read, for `transcode` (see below)
    ):
        self.pieces = guarded(stream, block_bytes)
        self.path = path
        self.encoding = codecs.lookup(encoding).name
        self.forced, self.ascii_so_far, self.checked = forced, ascii_so_far, checked
        self.decoder = None if self.encoding in ("utf-8", "utf-8-sig") else self._new_decoder()
        self.utf8_carry = b""  # bytes after the last newline, checked with the next block
        self.lines_yielded = 0  # newlines in the blocks given out so far
        self.pending = b""  # read, not yet given out
        # GB18030 handed out raw: no comma, quote, CR or LF is ever part of a GB18030 character,
        # so arrow cuts the rows as they are, and the reader transcodes only the columns that
        # hold a non-ASCII byte (csv.py); `transcode` is its way back to a whole UTF-8 block.
        self.raw = raw and self.encoding == "gb18030"

    def _new_decoder(self) -> codecs.IncrementalDecoder:
        return codecs.getincrementaldecoder(self.encoding)()

    def _line_of(self, data: bytes, at: int) -> int:
        return 2 + self.lines_yielded + self.pending.count(b"\n") + data[:at].count(b"\n")

    def _fail(self, data: bytes, error: UnicodeDecodeError) -> UnreadableFile:
        return self._failure(data, error, self._line_of(data, max(error.start, 0)))

    def transcode(self, block: bytes, first_line: int) -> bytes:
        """A raw GB18030 block (its first row on `first_line`) as UTF-8; undecodable bytes stop
        the file at their line, with the hint they would have had when read."""
        try:
            return block.decode(self.encoding).encode("utf-8")
        except UnicodeDecodeError as exc:
            raise self._failure(block, exc, decode_line(block, exc, first_line)) from None

    def _failure(self, data: bytes, error: UnicodeDecodeError, line: int) -> UnreadableFile:
        if self.forced:
            what, reason = f"pass the right --encoding ({error.reason})", "undecodable"
        elif self.decoder is None and not self.ascii_so_far and _line_is(data, error, "gb18030"):
            what = "mixed encodings: a GB18030 line after UTF-8 ones (pass --encoding)"
            reason = "mixed_encoding"
        elif self.decoder is not None and _line_is(data, error, "utf-8"):
            what = "mixed encodings: a UTF-8 line in a GB18030 file (pass --encoding)"
            reason = "mixed_encoding"
        else:
            what, reason = f"mixed encodings? pass --encoding ({error.reason})", "undecodable"
        return UnreadableFile(
            f"bytes that are not valid {self.encoding} text: {what}", self.path, line, reason=reason
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
                [carry + data[:first], memoryview(data)[first:last]]
                if carry
                else [memoryview(data)[:last]],  # one look: a small file's whole body
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

    def _transcoded(self, data: bytes) -> bytes:
        assert self.decoder is not None
        self._refuse_mixed(data)
        return self.decoder.decode(data, final=not data).encode("utf-8")

    def _refuse_mixed(self, data: bytes) -> None:
        if not self.forced and data:
            found = utf8_lines(data)
            if len(found) >= MIXED_LINES:
                raise UnreadableFile(
                    f"mixed encodings: line {self._line_of(data, found[0])} and"
                    f" {len(found) - 1} more lines are UTF-8 in a GB18030 file (pass --encoding)",
                    self.path,
                    self._line_of(data, found[0]),
                    reason="mixed_encoding",
                )

    def _utf8(self, data: bytes) -> bytes:
        try:
            if self.raw:
                self._refuse_mixed(data)
                return data
            if self.decoder is not None:
                return self._transcoded(data)
            try:
                if not self.checked:
                    self._check_utf8(data)
            except UnicodeDecodeError:
                if self.forced or not self.ascii_so_far:
                    raise
                self.encoding, self.decoder = "gb18030", codecs.getincrementaldecoder("gb18030")()
                return self._transcoded(data)
            self.ascii_so_far = self.ascii_so_far and data.isascii()
            return data
        except UnicodeDecodeError as exc:
            raise self._fail(data, exc) from None

    def _long_row(self, piece: LongLine) -> Iterator[tuple[bytes, int, bool] | LongRow]:
        """The rows before a line too long to keep, then the line itself (its first bytes)."""
        if self.raw:  # from here on, as any encoding: transcoded as read
            self.raw, self.pending = False, self._transcoded_pending()
        cut = self.pending.rfind(b"\n") + 1
        before, head = self.pending[:cut], self.pending[cut:]
        self.pending, self.utf8_carry = b"", b""
        if self.decoder is not None:  # a character cut in two at the line's cut
            self.decoder = self._new_decoder()
        if before:
            newlines = count_newlines(before)
            self.lines_yielded += newlines
            yield before, newlines, may_hold_long_line(before)
        yield LongRow(head, 2 + self.lines_yielded)
        self.lines_yielded += 1 if piece.ended else 0

    def _transcoded_pending(self) -> bytes:
        assert self.decoder is not None
        try:
            return self.decoder.decode(self.pending, final=False).encode("utf-8")
        except UnicodeDecodeError as exc:
            line = decode_line(self.pending, exc, 2 + self.lines_yielded)
            raise self._failure(self.pending, exc, line) from None

    def _check_tail(self, data: bytes, start: int) -> None:
        """Raise, as transcoding `data` would have, when its bytes from `start` (the start of a
        line) do not decode (a character cut at the end of `data` is for the next read)."""
        try:
            self._new_decoder().decode(data[start:], final=False)
        except UnicodeDecodeError as exc:
            shifted = UnicodeDecodeError(
                exc.encoding, data, start + exc.start, start + exc.end, exc.reason
            )
            raise self._fail(data, shifted) from None

    def __iter__(self) -> Iterator[tuple[bytes, int, bool] | LongRow]:
        """Blocks, the number of newlines in each, and whether a line in it may be longer than
        MAX_FIELD_CHARS (if not, no value can be, and the values' lengths need no checking)."""
        for piece in chain(self.pieces, [b""]):  # b"": the end, to flush what is carried
            if isinstance(piece, LongLine):
                yield from self._long_row(piece)
                continue
            data = self._utf8(piece)
            if not piece:
                if self.pending:
                    yield (
                        self.pending,
                        count_newlines(self.pending),
                        may_hold_long_line(self.pending),
                    )
                return
            cut = last_row_boundary(self.pending, data)
            if cut is None:  # no row ends in this block yet (a long field): read more
                self.pending += data
                continue
            if self.raw:  # the bytes kept for the next block must decode, as when transcoded
                self._check_tail(data, cut + 1)
            block, self.pending = (
                b"".join((self.pending, memoryview(data)[: cut + 1])),
                data[cut + 1 :],
            )  # one copy
            newlines = count_newlines(block)
            self.lines_yielded += newlines
            yield block, newlines, may_hold_long_line(block)


def skip_header(stream: Limited, sample: bytes) -> BinaryIO:
    """A stream positioned after the header line (the header is never quoted across lines)."""
    newline = sample.find(b"\n")
    if newline < 0:
        return io.BytesIO(b"")
    return _Concat(sample[newline + 1 :], stream)  # type: ignore[return-value]


class _Concat(io.RawIOBase):
    def __init__(self, head: bytes, tail: Limited):
        self.head, self.tail = head, tail

    def read(self, size: int | None = -1) -> bytes:
        if self.head:
            out, self.head = (
                (self.head, b"")
                if size is None or size < 0 or size >= len(self.head)
                else (self.head[:size], self.head[size:])
            )
            return out
        return self.tail.read(-1 if size is None else size)


def position(stream: Limited) -> int:
    """How far into the file on disk reading has got (through a gzip layer, if any)."""
    try:
        return stream.raw.tell()
    except (OSError, ValueError):
        return 0
