"""Resource bounds of reading one file, whatever it holds: how many bytes it may expand to
(`--max-bytes`; by default 100 times a compressed file's size, against gzip and Parquet bombs) and
how long a line may be before the reader stops keeping it (so that memory stays bounded by the
block size even on a file that is one 4 GB line)."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import UnreadableFile

MAX_LINE_BYTES = 16 * 1024 * 1024  # a longer line is kept only up to here: `line_too_long`
EXPANSION_LIMIT = 100  # without --max-bytes, a compressed file may expand 100 times its size ...
EXPANSION_FLOOR = 64 * 1024 * 1024  # ... once this much has come out of it
PIECE_BYTES = 1 << 16  # compressed files are read this much at a time


def is_compressed(path: Path) -> bool:
    return path.name.lower().endswith((".gz", ".parquet"))


def size_text(count: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size:
            return f"{count / size:g} {unit}"
    return f"{count} bytes"


def too_large(path: Path, max_bytes: int | None) -> UnreadableFile:
    if max_bytes is not None:
        message = f"expands to more than --max-bytes ({size_text(max_bytes)})"
    else:
        message = (
            f"expands more than {EXPANSION_LIMIT} times its size on disk (a compression bomb?):"
            " pass --max-bytes to read it"
        )
    return UnreadableFile(message, path, reason="too_large")


def check_expansion(path: Path, expanded: int, stored: int, max_bytes: int | None) -> None:
    """Refuse a file that has expanded to `expanded` bytes from `stored` bytes on disk: beyond
    `--max-bytes` when it is given; else, for a compressed file, beyond EXPANSION_LIMIT times its
    stored size once EXPANSION_FLOOR bytes have come out (an upload's CSV compresses 5 to 20
    times; a bomb hundreds or a thousand times). A plain file gives exactly its size."""
    if max_bytes is not None:
        if expanded > max_bytes:
            raise too_large(path, max_bytes)
    elif (
        is_compressed(path)
        and expanded > EXPANSION_FLOOR
        and expanded > EXPANSION_LIMIT * max(stored, 1)
    ):
        raise too_large(path, None)


def read_failure(exc: BaseException, path: Path) -> UnreadableFile:
    """What a failed read means, in words that never quote the file's bytes."""
    if isinstance(exc, EOFError):
        return UnreadableFile(
            "the compressed stream ends early (truncated)", path, reason="truncated"
        )
    if isinstance(exc, (zlib.error, gzip.BadGzipFile)):
        return UnreadableFile(
            "the compressed data cannot be decoded (corrupt)", path, reason="corrupt"
        )
    if isinstance(exc, PermissionError):
        return UnreadableFile("cannot read: permission denied", path, reason="permission_denied")
    reason = getattr(exc, "strerror", None) or type(exc).__name__
    return UnreadableFile(f"cannot read: {reason}", path, reason="read_error")


class Limited:
    """A binary stream that refuses to give more than its file may expand to (`check_expansion`,
    checked as it is read: a bomb is stopped within its first EXPANSION_FLOOR bytes)."""

    def __init__(self, stream: BinaryIO, path: Path, max_bytes: int | None):
        self.stream, self.path, self.max_bytes = stream, path, max_bytes
        self.compressed = is_compressed(path)
        self.given = 0
        self.failed: UnreadableFile | None = None  # after the bytes before it were given

    def read(self, size: int = -1) -> bytes:
        if self.failed is not None:
            raise self.failed
        if self.compressed and size > PIECE_BYTES:  # in pieces: what came out before a failure
            data = self._pieces(size)  # a truncated or corrupt stream's end is still read
        else:
            try:
                data = self.stream.read(size)
            except (OSError, EOFError, zlib.error) as exc:
                raise read_failure(exc, self.path) from None
        self.given += len(data)
        if self.max_bytes is not None or self.compressed:
            check_expansion(self.path, self.given, self.raw.tell(), self.max_bytes)
        return data

    def _pieces(self, size: int) -> bytes:
        pieces: list[bytes] = []
        while size > 0:
            try:
                piece = self._read1(min(size, PIECE_BYTES))
            except (OSError, EOFError, zlib.error) as exc:
                if not pieces:
                    raise read_failure(exc, self.path) from None
                self.failed = read_failure(exc, self.path)
                break
            if not piece:
                break
            pieces.append(piece)
            size -= len(piece)
        return b"".join(pieces)

    def _read1(self, size: int) -> bytes:
        """At most `size` bytes from one read of the stream on disk, where the stream allows it
        (gzip: the end of a member comes out before the next member's header is looked at)."""
        read1 = getattr(self.stream, "read1", None)
        return read1(size) if read1 is not None else self.stream.read(size)

    def close(self) -> None:
        self.stream.close()

    @property
    def raw(self) -> BinaryIO:
        """The stream on disk (under a gzip layer, if any): how far reading has got."""
        return getattr(self.stream, "fileobj", None) or self.stream


@dataclass(frozen=True)
class LongLine:
    """Stands for the rest of a line longer than MAX_LINE_BYTES: its first MAX_LINE_BYTES went
    out as usual; the rest was read and dropped, up to and including its newline (`ended`)."""

    ended: bool


def guarded(stream: Limited | BinaryIO, block_bytes: int) -> Iterator[bytes | LongLine]:
    """The stream in reads of `block_bytes`, except that a line longer than MAX_LINE_BYTES is
    cut there and the rest of it (never held in memory) becomes one LongLine."""
    line = 0  # bytes of the unfinished line handed out so far
    skipping = False
    while True:
        data = stream.read(block_bytes)
        if not data:
            if skipping:
                yield LongLine(ended=False)
            return
        while data:
            if skipping:
                newline = data.find(b"\n")
                if newline < 0:
                    break  # all of it dropped
                yield LongLine(ended=True)
                skipping, line, data = False, 0, data[newline + 1 :]
                continue
            cut = _over_long(data, line)
            if cut is None:
                last = data.rfind(b"\n")
                line = line + len(data) if last < 0 else len(data) - last - 1
                yield data
                break
            if cut:
                yield data[:cut]
            skipping, data = True, data[cut:]


def _over_long(data: bytes, line: int) -> int | None:
    """Where in `data` a line grows past MAX_LINE_BYTES (`line` bytes of it came before), or
    None. A line that long covers a whole aligned window of half that size, so the common case
    is a few finds per block, each stopping at the first newline."""
    first = data.find(b"\n")
    if line + (len(data) if first < 0 else first) > MAX_LINE_BYTES:
        return MAX_LINE_BYTES - line
    if first < 0:
        return None
    half = MAX_LINE_BYTES // 2
    if all(data.find(b"\n", start, start + half) >= 0 for start in range(first, len(data), half)):
        tail = len(data) - data.rfind(b"\n") - 1
        return None if tail <= half else _exact(data, first)
    return _exact(data, first)


def _exact(data: bytes, first: int) -> int | None:
    start = first + 1
    while start < len(data):
        newline = data.find(b"\n", start)
        end = len(data) if newline < 0 else newline
        if end - start > MAX_LINE_BYTES:
            return start + MAX_LINE_BYTES
        if newline < 0:
            return None
        start = newline + 1
    return None
