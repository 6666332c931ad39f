"""The audit on a Dask cluster: the pandas engine's reader, rules, corrections and metrics, on
the workers, and no process holding every record.

The batch is cut into *pieces*: one per file, or with `partitions=N` up to N byte ranges per
uncompressed CSV file (cut at line ends; a .csv.gz or Parquet file is one piece). A worker reads
its piece with `reading.read_chunks` (a remote file or a byte range is first copied to a scratch
file of the same name, a range behind the file's header line) and judges it through the pandas
engine's `Collector` (dask_tasks.py). Each piece gives two things:

- its small tallies (rows, upload days, check failures per institution and form), merged in a tree
  on the workers and sent to the client;
- its per-record states, as a frame: these are shuffled by record key into `buckets` partitions
  (Dask's p2p shuffle, which spills to the workers' disks), so that every state of a record meets
  in one partition, and each partition is folded on its worker under `--memory-limit` (spilling to
  `--temp-dir` past it). Only counts per (institution, form) come back.

The client never holds a per-record state: its memory does not grow with the records. With
`--state`, the store's bucket groups are folded on the workers instead (they read its files, which
must be on a filesystem they share with the client) and the small tallies come from its manifest.

Row order breaks ties between uploads of one record at the same upload_time. Here it is
`piece number << 32 | row within the piece`, pieces numbered in file order (files sorted by path
like `reading.discover`) then byte order: not the pandas engine's numbers, but the same rows in
the same order, which is all the folding of corrections compares.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import AuditError, InputError, UsageError
from ..folds import Folded
from ..forms import FORM_IDS, stem_of
from ..metrics import FormCounts, Partial, Tally, add_counts
from ..reading import Discovery, Findings, InputFile, by_form, discover
from ..requests import AuditRequest, ProgressHook
from ..residents import Residents, distinct_pairs
from .dask_tasks import (
    COUNTS_META,
    STATES_META,
    URL,
    Piece,
    code_hashes,
    filesystem,
    fold_frame,
    fold_store_group,
    is_url,
    judge_piece,
    merge_small,
)

if TYPE_CHECKING:
    from distributed import Client

INSTALL_HINT = "install the dask extra: pip install 'nj-audit[dask]'"
MIN_PIECE_BYTES = 1 << 20  # a CSV byte range is never cut smaller than this
SPLIT_EVERY = 8  # small partials merged per task of the tree reduction
MAX_SHUFFLE_PARTITIONS = 512  # default buckets: one per piece, at most this many


class DaskEngine:
    name = "dask"

    def tally(self, request: AuditRequest, progress: ProgressHook | None = None) -> Tally:
        """The request's inputs audited on the cluster at `request.scheduler`, or on a local one
        of worker processes. No progress is told: the cluster's dashboard shows it."""
        try:
            import dask
            import dask.dataframe  # noqa: F401 - the shuffle
        except ImportError:
            raise UsageError(f"the dask engine needs Dask: {INSTALL_HINT}") from None
        if request.state is not None:
            with _client(request.scheduler):
                return _store_tally(request)
        inputs = [_as_url(p) for p in request.paths]
        files, skipped, found = discover_sources(
            inputs, request.form, request.outputs, request.allow_empty
        )
        findings = Findings(found, request.strict)
        pieces = plan_pieces(files, request.partitions or 1)
        if not pieces:
            return replace(Tally.of([], Partial(), {}, skipped), findings=findings.frozen())
        with _client(request.scheduler), warnings.catch_warnings():
            # the small tallies are a delayed tree, the states a dataframe: one graph, on purpose
            warnings.filterwarnings("ignore", "Computing mixed collections", UserWarning)
            small, counts = dask.compute(*_graph(pieces, request))
        codes, partial, lost = small
        # a file is read when none of its pieces failed
        failed = {str(u.path) for u in lost.unreadable} | {str(p) for p in lost.reports}
        findings.unreadable += {str(u.path): u for u in reversed(lost.unreadable)}.values()
        findings.reports += sorted(set(lost.reports))
        findings.files_read = len({p.url for p in pieces} - failed)
        records = _records(codes, counts)
        tally = Tally.of(codes, partial, records.counts, skipped, records.residents)
        return replace(tally, findings=findings.frozen())


def _graph(pieces: list[Piece], request: AuditRequest) -> tuple[Any, Any]:
    """The small tallies (a delayed tree) and the folded counts (a dataframe) of the pieces."""
    import dask
    import dask.dataframe as dd

    judged = [
        dask.delayed(judge_piece, nout=2, pure=True)(
            piece,
            request.policy,
            request.period,
            request.encoding,
            request.chunk_rows,
            request.max_bytes,
            request.strict,
        )
        for piece in pieces
    ]
    small = [piece[0] for piece in judged]
    while len(small) > 1:
        small = [
            dask.delayed(merge_small)(small[i : i + SPLIT_EVERY])
            for i in range(0, len(small), SPLIT_EVERY)
        ]
    merged = small[0] if len(judged) > 1 else dask.delayed(merge_small)(small)
    states = dd.from_delayed([piece[1] for piece in judged], meta=STATES_META, verify_meta=False)
    buckets = request.buckets or min(max(len(pieces), 1), MAX_SHUFFLE_PARTITIONS)
    counts = states.shuffle(on="key", npartitions=buckets).map_partitions(
        fold_frame, request.memory_limit, request.temp_dir, meta=COUNTS_META
    )
    return merged, counts


def _records(codes: list[str], counts: pd.DataFrame) -> Folded:
    """The fold's counts per (institution hash, form) keyed by the client's institution index,
    and its residents (the rows with a resident hash)."""
    hashes = code_hashes(codes)
    if len(np.unique(hashes)) != len(codes):
        raise AuditError("two institution codes share a 64-bit hash: audit with the pandas engine")
    index = {int(h): i for i, h in enumerate(hashes.tolist())}
    is_resident = counts["resident"].to_numpy() != 0
    records = Folded()
    for org, form, total, valid, realtime, *delays in counts[~is_resident].itertuples(index=False):
        folded = FormCounts(0, total, valid, realtime, tuple(int(n) for n in delays[:-1]))
        add_counts(records.counts, {(index[int(org)], int(form)): folded})
    residents = counts[is_resident]
    if len(residents):
        org = np.array([index[int(h)] for h in residents["org"].tolist()], dtype=np.int64)
        slots = org * len(FORM_IDS) + residents["form"].to_numpy(np.int64)
        ids = residents["resident"].to_numpy(np.uint64)
        records.residents = Residents(*distinct_pairs(slots, ids))
    return records


def _store_tally(request: AuditRequest) -> Tally:
    """`--state` on the cluster: the store's bucket groups folded on the workers."""
    import dask

    from ..store.folding import bucket_groups, read_contents
    from ..store.manifest import Store

    assert request.state is not None
    store = Store(request.state)
    with store.reading() as db:  # the files stay while the workers read them
        contents = read_contents(store, db, request)
        states = sum(p.states for p in contents.parts)
        groups = bucket_groups(contents.buckets, states, request.memory_limit // 4)
        folded = dask.compute(
            *(
                dask.delayed(fold_store_group)(
                    contents.parts,
                    start,
                    stop,
                    contents.buckets,
                    contents.rank_of_file,
                    request.memory_limit,
                    request.temp_dir,
                )
                for start, stop in groups
            )
        )
    records = Folded()
    for group in folded:
        records.add(group)
    return contents.tally(records)


# -- inputs -----------------------------------------------------------------------------------


def _as_url(path: str | Path) -> str:
    """A path or URL as text; `Path("s3://b/k")` has lost a slash (`s3:/b/k`), which is put back."""
    text = str(path)
    match = URL.match(text)
    if match is None:
        return text
    if match.group(1).lower() == "file":
        return "/" + text[match.end() :]
    return f"{match.group(1)}://{text[match.end() :]}"


def discover_sources(
    inputs: list[str], form: str | None, outputs: Sequence[Path] = (), allow_empty: bool = False
) -> tuple[list[InputFile], list[Path], Discovery | None]:
    """`reading.discover` for local paths; the same for URLs (files sorted by path, the others
    skipped)."""
    if not any(is_url(i) for i in inputs):
        found = discover([Path(i) for i in inputs], form, outputs, allow_empty)
        return found.files, found.skipped, found
    urls: list[str] = []
    for text in inputs:
        fs, root = filesystem(text)
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
    return files, skipped, None


def plan_pieces(files: list[InputFile], partitions: int) -> list[Piece]:
    """Every file's pieces, numbered in file order then byte order."""
    pieces: list[Piece] = []
    for file in files:
        url = _as_url(file.path)
        size = 0
        if partitions > 1 and url.lower().endswith(".csv"):
            fs, root = filesystem(url)
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
