"""`state compact`: each upload day's partition files folded into one.

A day gets a partition file from every add that had rows uploaded on it (and one more whenever an
add's states passed its memory limit). Compaction reads a day's files bucket by bucket, folds the
states of each record within the day (earliest and latest upload, ties by path rank, as always)
and writes one file; the manifest then names it instead of the old ones in one transaction, and the
old files are deleted (or, while an audit is reading them, by the next writer). Folding within a
day never mixes days, so every period still selects whole partitions and audits to the same
document. A year of daily adds then stays at one file per day, and states a record corrected on
the same day twice only once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..metrics import RecordState
from .manifest import Store
from .parts import PartWriter, file_ranks, ranked, read_buckets


@dataclass(frozen=True)
class CompactResult:
    store: Path
    days: int  # partitions compacted
    files_before: int  # their partition files, before and after
    files_after: int
    states_before: int
    states_after: int


def compact_store(folder: Path, on_wait: Callable[[], None] | None = None) -> CompactResult:
    store = Store(folder)
    with store.writing(None, on_wait) as db:
        store.remove_unlisted(db)
        settings = Store.settings(db)
        assert settings is not None
        buckets = settings.buckets
        rank_of_file, file_of_rank = file_ranks(dict(db.execute("SELECT id, path FROM files")))
        by_day: dict[int, list[tuple[str, int]]] = {}
        for name, day, states in db.execute("SELECT name, day, states FROM parts ORDER BY name"):
            by_day.setdefault(day, []).append((name, states))
        crowded = {day: parts for day, parts in sorted(by_day.items()) if len(parts) > 1}
        if not crowded:
            return CompactResult(store.folder, 0, 0, 0, 0, 0)
        compact_id = (db.execute("SELECT MAX(id) FROM adds").fetchone()[0] or 0) + 1
        written: list[tuple[str, int, int, int]] = []
        for day, parts in crowded.items():
            name = f"{compact_id:06d}-{len(written) + 1:03d}"
            path = store.part_path(day, name)
            with PartWriter(path) as writer:
                for bucket in range(buckets):
                    states = [
                        ranked(
                            read_buckets(store.part_path(day, old), bucket, bucket + 1, buckets),
                            rank_of_file,
                        )
                        for old, _ in parts
                    ]
                    writer.write(ranked(RecordState.concat(states).reduce(), file_of_rank))
            written.append((name, day, writer.states, path.stat().st_size))
        before = sum(states for parts in crowded.values() for _, states in parts)
        after = sum(w[2] for w in written)
        at = datetime.now(UTC).isoformat(timespec="seconds")
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "DELETE FROM parts WHERE name = ?",
                [(old,) for parts in crowded.values() for old, _ in parts],
            )
            db.executemany(
                "INSERT INTO parts VALUES (?, ?, ?, ?, ?)",
                [(name, day, states, size, compact_id) for name, day, states, size in written],
            )
            db.execute(
                "INSERT INTO adds VALUES (?, 'compact', ?, 0, 0, ?)", (compact_id, at, after)
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        store.remove_unlisted(db)
    files_before = sum(len(parts) for parts in crowded.values())
    return CompactResult(store.folder, len(crowded), files_before, len(written), before, after)
