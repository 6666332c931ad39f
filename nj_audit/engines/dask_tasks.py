"""What the dask engine's tasks do on the workers: judge a piece, merge the small tallies, fold a
shuffled partition of states, fold a group of a store's buckets.

A piece's states leave its task as a frame whose `org` column holds a 64-bit hash of the
institution *code* instead of the piece's own index: every piece numbers its institutions its own
way, and a shuffled partition gathers states of many pieces, so only something the same everywhere
can name an institution there. The fold task counts per (hash, form); the client maps hashes back
to codes (all of which it knows from the small tallies, and refuses to run, should two of them ever
share a hash).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..allocator import keep_memory_on_the_heap
from ..errors import AuditError, InputError, UsageError
from ..folds import Folded
from ..forms import FORM_IDS
from ..hashing import text_hashes
from ..metrics import DELAY_BUCKETS, STATE_COLUMNS, Partial, RecordState
from ..period import Period
from ..policy import Policy
from ..reading import Findings, InputFile, ReadFindings, Unreadable, read_chunks
from ..schemas import expected_columns
from .memory import state_budget
from .pandas_engine import Collector
from .spill import StateFolder

Small = tuple[list[str], Partial, ReadFindings]  # a piece's codes, small partial, read findings
PIECE_BITS = 32  # a piece holds fewer than 2^32 rows
URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):/+")  # two letters at least: C:/ is a Windows path
DELAY_COLUMNS = tuple(f"delay_{name}" for name in DELAY_BUCKETS)  # records per delay bucket
NO_DELAYS = (0,) * len(DELAY_BUCKETS)
# a row of counts has resident 0; a row of a resident (its hash) has every count 0
COUNT_COLUMNS = ("org", "form", "records", "valid", "realtime", *DELAY_COLUMNS, "resident")

STATES_META = pd.DataFrame(
    {
        name: np.zeros(0, dtype=np.uint64 if name == "org" else dtype)
        for name, dtype, _ in STATE_COLUMNS
    }
)
COUNTS_META = pd.DataFrame(
    {
        name: np.zeros(0, dtype=np.uint64 if name in ("org", "resident") else np.int64)
        for name in COUNT_COLUMNS
    }
)


@dataclass(frozen=True)
class Piece:
    """The part of one input file that one task audits."""

    url: str
    form: str
    number: int  # position among all pieces, in file order then byte order
    start: int | None = None  # a byte range of an uncompressed CSV; None: the whole file
    length: int | None = None


def local_copy(piece: Piece, scratch: Path) -> Path:
    """The piece as a local file `read_chunks` can read: the file itself when it is local and whole;
    else a copy in `scratch` under the same name (a byte range behind the file's header line)."""
    if piece.start is None and not is_url(piece.url):
        return Path(piece.url)
    fs, root = filesystem(piece.url)
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


def is_url(text: str) -> bool:
    return URL.match(text) is not None


def filesystem(url: str) -> tuple[Any, str]:
    from fsspec.core import url_to_fs

    try:
        return url_to_fs(url)
    except (ImportError, ValueError) as exc:  # e.g. s3fs for s3://, pyarrow's HDFS for hdfs://
        raise UsageError(f"cannot open {url}: {exc}") from None


def code_hashes(codes: list[str]) -> np.ndarray:
    return text_hashes(pa.array(codes, type=pa.large_string()))


def judge_piece(
    piece: Piece,
    policy: Policy,
    period: Period | None,
    encoding: str | None,
    chunk_rows: int,
    max_bytes: int | None = None,
    strict: bool = False,
) -> tuple[Small, pd.DataFrame]:
    """A piece read by `reading.read_chunks` and judged by the pandas engine's `Collector`: its
    institution codes, small partial (rows, days, checks) and, when the piece could not be read,
    that finding (the rows before the failure are kept, as the pandas engine does); and its states
    (corrections within the piece folded) as a frame, institutions hashed."""
    keep_memory_on_the_heap()  # a worker process did not start through the command line
    collector = Collector(policy, period)
    collector.order = piece.number << PIECE_BITS
    file = InputFile(Path(piece.url), piece.form)
    findings = Findings()
    with tempfile.TemporaryDirectory(prefix="nj-audit-") as scratch:
        try:
            with findings.reading(Path(piece.url), strict):
                local = local_copy(piece, Path(scratch))
                expected = expected_columns(piece.form, local)
                for chunk in read_chunks(local, encoding, chunk_rows, expected, max_bytes):
                    collector.add(file, chunk)
        # name the input, not the scratch copy; lines are the file's up to the first cut
        except AuditError as exc:
            raise InputError(
                exc.message, piece.url, exc.line if not piece.start else None
            ) from None
        except (OSError, EOFError) as exc:
            raise InputError(f"cannot read: {exc}", piece.url) from None
    partial = collector.partial
    states = RecordState.concat(partial.states).reduce()
    partial.states = []
    codes = list(collector.org_index)
    columns = dict(states.columns)
    columns["org"] = code_hashes(codes)[states.org] if len(states) else np.zeros(0, np.uint64)
    return (codes, partial, findings.frozen()), pd.DataFrame(columns)


def merge_small(parts: Iterable[Small]) -> Small:
    """Small partials of pieces -> one, over one institution dictionary; the pieces' read
    findings put together."""
    index: dict[str, int] = {}
    merged = Partial()
    unreadable: list[Unreadable] = []
    reports: list[Path] = []
    for codes, partial, findings in parts:
        lookup = np.array([index.setdefault(code, len(index)) for code in codes], dtype=np.int32)
        merged.merge(partial.remapped(lookup))
        unreadable += findings.unreadable
        reports += findings.reports
    return list(index), merged, ReadFindings(tuple(unreadable), tuple(reports))


def fold_frame(frame: pd.DataFrame, memory_limit: int, temp_dir: Path | None) -> pd.DataFrame:
    """A shuffled partition's states (every state of its records) folded under the worker's
    memory limit: records, valid and real-time records per (institution hash, form), then the
    residents of its valid archive records."""
    keep_memory_on_the_heap()
    if not len(frame):
        return COUNTS_META
    hashes, uniques = pd.factorize(frame["org"].to_numpy(), sort=False)
    columns = {name: frame[name].to_numpy() for name, _, _ in STATE_COLUMNS}
    columns["org"] = hashes.astype(np.int32)
    state = RecordState(**columns)
    del frame, columns
    with StateFolder(state_budget(memory_limit, reading=False), temp_dir, level=1) as folder:
        for start in range(0, len(state), 1 << 20):  # in pieces, so that a spill holds less
            folder.add(state.take(slice(start, start + (1 << 20))))
        del state
        counts = folder.counts()
    return counts_frame(counts, np.asarray(uniques, dtype=np.uint64))


def counts_frame(folded: Folded, org_names: np.ndarray) -> pd.DataFrame:
    """Counts keyed by (org index, form index) as a frame naming each org by `org_names`, then
    one row per resident (org, form, hash)."""
    counts = folded.counts
    keys = sorted(counts)
    org, form = np.divmod(folded.residents.slots, len(FORM_IDS))
    residents = pd.DataFrame(
        {
            name: np.zeros(len(org), dtype=np.int64)
            for name in COUNT_COLUMNS
            if name not in ("org", "form", "resident")
        }
    )
    residents.insert(0, "org", org_names[org] if len(org) else np.zeros(0, np.uint64))
    residents.insert(1, "form", form.astype(np.int64))
    residents["resident"] = folded.residents.ids
    frame = pd.DataFrame(
        {
            "org": org_names[[k[0] for k in keys]] if keys else np.zeros(0, np.uint64),
            "form": np.array([k[1] for k in keys], dtype=np.int64),
            "records": np.array([counts[k].records for k in keys], dtype=np.int64),
            "valid": np.array([counts[k].valid_records for k in keys], dtype=np.int64),
            "realtime": np.array([counts[k].realtime_records for k in keys], dtype=np.int64),
            **{
                column: np.array([(counts[k].delays or NO_DELAYS)[n] for k in keys], dtype=np.int64)
                for n, column in enumerate(DELAY_COLUMNS)
            },
            "resident": np.zeros(len(keys), dtype=np.uint64),
        }
    )
    return pd.concat([frame, residents[list(COUNT_COLUMNS)]], ignore_index=True)


def fold_store_group(
    parts: list[object],
    start: int,
    stop: int,
    buckets: int,
    rank_of_file: np.ndarray,
    memory_limit: int,
    temp_dir: Path | None,
) -> Folded:
    """`store.folding.fold_group` on a worker, under its memory limit."""
    from ..store.folding import PartFile, fold_group

    keep_memory_on_the_heap()
    files = [p for p in parts if isinstance(p, PartFile)]
    budget = state_budget(memory_limit, reading=False)
    return fold_group(files, start, stop, buckets, rank_of_file, budget, temp_dir)
