"""Small files judged together. A day's batch is thousands of files of a few hundred rows; typing
a chunk, asking each of its checks and folding it has a fixed cost of milliseconds, so consecutive
chunks of one form (with the same columns) are joined into one chunk of up to `chunk_rows` rows
before they are typed and judged. Each row keeps its line, its damage and its place in path order
(the order that breaks ties between uploads of a record), so the result is the same as judging
every file apart (tests/test_fast_paths.py, tests/test_chunked.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa

from ..errors import InputError, ReportFile, UnreadableFile
from ..metrics import ROW_BITS
from ..reading import Chunk, InputFile, WholeBody, body_chunks, join_bodies, read_pieces
from ..requests import AuditRequest
from ..schemas import expected_columns

# A file stored in fewer bytes than this is read whole and its rows batched with its neighbours'.
SMALL_FILE_BYTES = 8 * 1024 * 1024


def join_chunks(chunks: Sequence[Chunk]) -> Chunk:
    """One chunk holding the rows of `chunks` in order (their columns are the same): their arrow
    tables joined (the frame is made once, for all of them), else their frames."""
    if len(chunks) == 1:
        return chunks[0]
    damage: dict[int, tuple[str, str]] = {}
    offset = 0
    for chunk in chunks:
        damage.update({offset + row: problem for row, problem in chunk.damage.items()})
        offset += chunk.rows
    lines = np.concatenate([chunk.lines for chunk in chunks])
    keys = [chunk.order for chunk in chunks if chunk.order is not None]
    order = np.concatenate(keys) if len(keys) == len(chunks) else None
    consumed = chunks[-1].consumed
    tables = [chunk.table for chunk in chunks]
    if all(table is not None for table in tables):
        table = pa.concat_tables(tables)
        return Chunk(lines=lines, damage=damage, consumed=consumed, table=table, order=order)
    frame = pd.concat([chunk.frame for chunk in chunks], ignore_index=True)
    return Chunk(frame, lines, damage, consumed, order=order)


class Batches:
    """Chunks waiting to be judged, per form: `judge(form, chunk)` is called on a joined chunk
    once the form has `rows` rows waiting, when a chunk with other columns comes, or on `flush`.
    Each call returns the number of rows judged."""

    def __init__(self, judge: Callable[[str, Chunk], int], rows: int):
        self.judge, self.limit = judge, max(rows, 1)
        self.pending: dict[str, list[Chunk]] = {}
        self.rows: dict[str, int] = {}

    def add(self, form: str, chunk: Chunk) -> int:
        if not chunk.rows:  # a header alone: no row to judge
            return 0
        judged = 0
        waiting = self.pending.get(form)
        if waiting and waiting[0].columns != chunk.columns:
            judged += self.flush(form)
        self.pending.setdefault(form, []).append(chunk)
        self.rows[form] = self.rows.get(form, 0) + chunk.rows
        if self.rows[form] >= self.limit:
            judged += self.flush(form)
        return judged

    def flush(self, form: str) -> int:
        chunks = self.pending.pop(form, [])
        self.rows.pop(form, None)
        return self.judge(form, join_chunks(chunks)) if chunks else 0

    def flush_all(self) -> int:
        return sum(self.flush(form) for form in list(self.pending))


def runs(sizes: Sequence[int]) -> Iterator[list[int]]:
    """The files' numbers in order, grouped: each large file alone, consecutive small ones
    together."""
    run: list[int] = []
    for number, size in enumerate(sizes):
        if size < SMALL_FILE_BYTES:
            run.append(number)
            continue
        if run:
            yield run
            run = []
        yield [number]
    if run:
        yield run


# Bodies of small files waiting to be parsed together, per form: at most this many bytes.
JOINED_BYTES = 16 * 1024 * 1024
# Rows of small files judged together: about a large file's block (32 MiB, ~200,000 rows), so
# that the judging thread starts on a batch while the reading thread reads the next files (with
# a whole --chunk-size of rows, the two would take turns instead of working side by side).
BATCH_ROWS = 200_000


@dataclass
class ReadFile:
    """A small file read (`file`, with what stopped it from being read: the caller raises it
    inside `Findings.reading`, and the chunks before it are judged, as for a large file), or
    (`file` None) the rows of several files of `form`, to be parsed together by `parse`. Either
    says which files were read to their end since the item before (`finished`, their ranks):
    files whose rows all wait in bodies are not handed on one by one."""

    file: InputFile | None
    form: str
    chunks: list[Chunk]
    error: InputError | None = None
    rank: int = -1  # the file's, in path order
    bodies: list[tuple[int, WholeBody]] = field(default_factory=list)  # (rank, body), unparsed
    chunk_rows: int = 0
    finished: list[int] = field(default_factory=list)

    def parse(self) -> ReadFile:
        """The waiting bodies parsed together into `chunks` (by whichever thread is free: the
        reading one while the judging one is busy, else the judging one)."""
        if self.bodies:
            bodies, self.bodies = self.bodies, []
            keys = [rank << ROW_BITS for rank, _ in bodies]
            chunks = join_bodies([body for _, body in bodies], self.chunk_rows, keys)
            if chunks is None:  # some row is not plain: each body on its own names its damage
                chunks = [
                    c
                    for rank, body in bodies
                    for c in numbered(body_chunks(body, self.chunk_rows), rank)
                ]
            self.chunks = chunks
        return self


def read_whole(
    files: Sequence[tuple[int, InputFile]],
    request: AuditRequest,
    chunk_rows: int,
    block_bytes: int | None = None,
) -> Iterator[ReadFile]:
    """The small files (each with its rank in path order) read in path order, each chunk's rows
    with their order keys (`rank << ROW_BITS | row in the file`). A plain CSV body
    (`reading.WholeBody`) waits with the others of its form and header, and they are parsed
    together; the rows of a form keep their path order: its waiting bodies are parsed before any
    other chunk of the form is handed on. Those come unparsed: `ReadFile.parse` parses them."""
    waiting: dict[str, list[tuple[int, WholeBody]]] = {}
    sizes: dict[str, int] = {}
    finished: list[int] = []  # files read whole since the last item handed on

    def handed(read: ReadFile) -> ReadFile:
        read.finished, finished[:] = list(finished), []
        return read

    def parsed(form: str) -> Iterator[ReadFile]:
        bodies = waiting.pop(form, [])
        sizes.pop(form, None)
        if bodies:
            yield handed(ReadFile(None, form, [], bodies=bodies, chunk_rows=chunk_rows))

    for rank, file in files:
        chunks: list[Chunk] = []
        error: InputError | None = None
        expected = expected_columns(file.form, file.path)
        pieces = read_pieces(
            file.path, request.encoding, chunk_rows, expected, request.max_bytes, block_bytes, True
        )
        try:
            for piece in numbered(pieces, rank):
                if isinstance(piece, WholeBody):
                    same = waiting.get(file.form)
                    if same and (same[0][1].names, same[0][1].raw) != (piece.names, piece.raw):
                        yield from parsed(file.form)
                    waiting.setdefault(file.form, []).append((rank, piece))
                    sizes[file.form] = sizes.get(file.form, 0) + len(piece.body)
                else:
                    chunks.append(piece)
        except (UnreadableFile, ReportFile) as exc:
            error = exc
        if chunks:
            yield from parsed(file.form)
        if chunks or error is not None:
            yield handed(ReadFile(file, file.form, chunks, error, rank))
        else:  # its rows (if any) wait in a body
            finished.append(rank)
        if sizes.get(file.form, 0) >= JOINED_BYTES:
            yield from parsed(file.form)
    for form in list(waiting):
        yield from parsed(form)
    if finished:
        yield handed(ReadFile(None, "", []))


P = TypeVar("P", bound=Chunk | WholeBody)


def numbered(pieces: Iterable[P], rank: int) -> Iterator[P]:
    """A file's pieces, each chunk given its rows' order keys: `rank << ROW_BITS | row`, the rows
    numbered from 0 in the file."""
    row = rank << ROW_BITS
    for piece in pieces:
        if isinstance(piece, Chunk):
            piece.order = np.arange(row, row + piece.rows, dtype=np.int64)
            row += piece.rows
        yield piece
