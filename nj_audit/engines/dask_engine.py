"""The audit on a Dask cluster: the pandas engine's reader, rules, corrections and metrics, on
the workers.

The batch is cut into *pieces*: one per file, or with `partitions=N` up to N byte ranges per
uncompressed CSV file (cut at line ends; a .csv.gz or Parquet file is one piece). A worker reads
its piece with `reading.read_chunks` (a remote file or a byte range is first copied to a scratch
file of the same name, a range behind the file's header line), judges it through the pandas
engine's `Collector`, and returns the piece's institution codes and `metrics.Partial`. Partials are
merged in a tree on the workers (institution indexes remapped to one dictionary, corrections folded
at every level); the client folds the result into a `Tally`.

Row order breaks ties between uploads of one record at the same upload_time. Here it is
`piece number << 32 | row within the piece`, pieces numbered in file order (files sorted by path
like `reading.discover`) then byte order: not the pandas engine's numbers, but the same rows in
the same order, which is all the folding of corrections compares.
"""

from __future__ import annotations

import logging
import math
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np

from ..allocator import keep_memory_on_the_heap
from ..errors import AuditError, InputError, UsageError
from ..forms import stem_of
from ..metrics import Partial, Tally, fold_records
from ..period import Period
from ..policy import Policy
from ..reading import InputFile, by_form, discover, read_chunks
from ..requests import AuditRequest, ProgressHook
from ..schemas import expected_columns
from .pandas_engine import Collector

if TYPE_CHECKING:
    from distributed import Client

INSTALL_HINT = "install the dask extra: pip install 'nj-audit[dask]'"
PIECE_BITS = 32  # a piece holds fewer than 2^32 rows
MIN_PIECE_BYTES = 1 << 20  # a CSV byte range is never cut smaller than this
SPLIT_EVERY = 8  # partials merged per task of the tree reduction
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):/+")  # two letters at least: C:/ is a Windows path


@dataclass(frozen=True)
class Piece:
    """The part of one input file that one task audits."""

    url: str
    form: str
    number: int  # position among all pieces, in file order then byte order
    start: int | None = None  # a byte range of an uncompressed CSV; None: the whole file
    length: int | None = None


class DaskEngine:
    name = "dask"

    def tally(self, request: AuditRequest, progress: ProgressHook | None = None) -> Tally:
        """The request's inputs audited on the cluster at `request.scheduler`, or on a local one
        of worker processes. No progress is told: the cluster's dashboard shows it."""
        try:
            import dask.bag as db
        except ImportError:
            raise UsageError(f"the dask engine needs Dask: {INSTALL_HINT}") from None
        files, skipped = discover_sources([_as_url(p) for p in request.paths], request.form)
        pieces = plan_pieces(files, request.partitions or 1)
        with _client(request.scheduler) as client:
            bag = db.from_sequence(pieces, npartitions=len(pieces))
            partials = bag.map(
                _piece_partial,
                policy=request.policy,
                period=request.period,
                encoding=request.encoding,
                chunk_rows=request.chunk_rows,
            )
            merged = partials.reduction(_merge, _merge, split_every=SPLIT_EVERY)
            codes, partial = client.compute(merged).result()
        return Tally.of(codes, partial, fold_records(partial.states), skipped)


# -- inputs -----------------------------------------------------------------------------------


def _as_url(path: str | Path) -> str:
    """A path or URL as text; `Path("s3://b/k")` has lost a slash (`s3:/b/k`), which is put back."""
    text = str(path)
    match = _URL.match(text)
    if match is None:
        return text
    if match.group(1).lower() == "file":
        return "/" + text[match.end() :]
    return f"{match.group(1)}://{text[match.end() :]}"


def _is_url(text: str) -> bool:
    return _URL.match(text) is not None


def _filesystem(url: str) -> tuple[Any, str]:
    from fsspec.core import url_to_fs

    try:
        return url_to_fs(url)
    except (
        ImportError,
        ValueError,
    ) as exc:  # e.g. s3fs for s3://, pyarrow's HDFS support for hdfs://
        raise UsageError(f"cannot open {url}: {exc}") from None


def discover_sources(inputs: list[str], form: str | None) -> tuple[list[InputFile], list[Path]]:
    """`reading.discover` for local paths; the same for URLs (files sorted by path, the others
    skipped)."""
    if not any(_is_url(i) for i in inputs):
        found = discover([Path(i) for i in inputs], form)
        return found.files, found.skipped
    urls: list[str] = []
    for text in inputs:
        fs, root = _filesystem(text)
        if fs.isdir(root):
            urls.extend(
                fs.unstrip_protocol(p)
                for p in fs.find(root)
                if stem_of(PurePosixPath(p).name) is not None
            )
        elif any(c in root for c in "*?["):
            urls.extend(fs.unstrip_protocol(p) for p in fs.glob(root))
        elif fs.exists(root):
            urls.append(fs.unstrip_protocol(root))
        else:
            raise InputError("no such file or folder", text)
    files, skipped = by_form([Path(url) for url in urls], form)
    if not files:
        raise InputError(
            "no input file matches a form (name files like outpatient_visit.csv, or pass --form)"
        )
    return files, skipped


def plan_pieces(files: list[InputFile], partitions: int) -> list[Piece]:
    """Every file's pieces, numbered in file order then byte order."""
    pieces: list[Piece] = []
    for file in files:
        url = _as_url(file.path)
        size = 0
        if partitions > 1 and url.lower().endswith(".csv"):
            fs, root = _filesystem(url)
            try:
                size = fs.size(root)
            except OSError as exc:
                raise InputError(f"cannot open: {exc}", url) from None
        length = max(math.ceil(size / partitions), MIN_PIECE_BYTES)
        if size <= length:
            pieces.append(Piece(url, file.form, len(pieces)))
            continue
        for start in range(0, size, length):
            pieces.append(Piece(url, file.form, len(pieces), start, length))
    return pieces


# -- on the workers ---------------------------------------------------------------------------


def _piece_partial(
    piece: Piece, policy: Policy, period: Period | None, encoding: str | None, chunk_rows: int
) -> tuple[list[str], Partial]:
    """The piece read by `reading.read_chunks` and judged by the pandas engine's `Collector`: its
    institution codes (in index order) and its partial, corrections folded."""
    keep_memory_on_the_heap()  # a worker process did not start through the command line
    collector = Collector(policy, period)
    collector.order = piece.number << PIECE_BITS
    file = InputFile(Path(piece.url), piece.form)
    with tempfile.TemporaryDirectory(prefix="nj-audit-") as scratch:
        try:
            local = _local_copy(piece, Path(scratch))
            expected = expected_columns(piece.form, local)
            for chunk in read_chunks(local, encoding, chunk_rows, expected):
                collector.add(file, chunk)
        # name the input, not the scratch copy; lines are the file's up to the first cut
        except AuditError as exc:
            raise InputError(
                exc.message, piece.url, exc.line if not piece.start else None
            ) from None
        except (OSError, EOFError) as exc:
            raise InputError(f"cannot read: {exc}", piece.url) from None
    collector.partial.compact()
    return list(collector.org_index), collector.partial


def _local_copy(piece: Piece, scratch: Path) -> Path:
    """The piece as a local file `read_chunks` can read: the file itself when it is local and whole;
    else a copy in `scratch` under the same name (a byte range behind the file's header line)."""
    if piece.start is None and not _is_url(piece.url):
        return Path(piece.url)
    fs, root = _filesystem(piece.url)
    local = scratch / PurePosixPath(root).name
    if piece.start is None:
        fs.get_file(root, str(local))
        return local
    from fsspec.utils import read_block

    assert piece.length is not None
    with fs.open(root, "rb") as stream:
        header = stream.readline()
        data = read_block(stream, piece.start, piece.length, delimiter=b"\n")
    if piece.start == 0:
        data = data[len(header) :]
    if data.count(b'"') % 2:
        raise InputError(
            f"a quoted value spans the partition boundary near byte {piece.start}:"
            " audit it without --partitions",
            piece.url,
        )
    local.write_bytes(header + data)
    return local


def _merge(parts: Iterable[tuple[list[str], Partial]]) -> tuple[list[str], Partial]:
    """Partials of pieces -> one, over one institution dictionary; corrections folded."""
    index: dict[str, int] = {}
    merged = Partial()
    for codes, partial in parts:
        lookup = np.array([index.setdefault(code, len(index)) for code in codes], dtype=np.int32)
        merged.merge(partial.remapped(lookup))
    merged.compact()
    return list(index), merged


# -- the cluster ------------------------------------------------------------------------------


@contextmanager
def _client(scheduler: str | None) -> Iterator[Client]:
    """A client of the cluster at `scheduler`, or of a local cluster of one process per core."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise UsageError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
