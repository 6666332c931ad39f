"""Residents with archives: the distinct id_card values of an institution's (or a district's)
valid archive records, as sets of 64-bit hashes (never the ID numbers themselves).

A record's state carries the hash of its latest upload's id_card (`metrics.STATE_COLUMNS`,
`resident`; 0 when absent). Once its corrections are folded, a record of an archive form whose
latest upload is valid adds (institution, form, hash) to a `Residents` set. Sets of buckets, of
partitions or of workers are unions, so the count is exact however the states were cut; per
district, the union over the members (a resident archived at two members counts once).

Memory: a set holds 16 bytes per distinct (institution, form, resident), kept sorted and
without repeats; a union sorts the two sets together (docs/scale.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .arrays import arrow_text
from .forms import FORM_IDS
from .hashing import text_hashes

ARCHIVE_FORMS: tuple[str, ...] = ("health_record", "hypertension_followup", "diabetes_followup")
ARCHIVE_INDEXES = np.array([FORM_IDS.index(form) for form in ARCHIVE_FORMS], dtype=np.int16)
WIDTH = len(FORM_IDS)  # a slot is org * WIDTH + form


def resident_hashes(form: str, frame: pd.DataFrame) -> np.ndarray | None:
    """The 64-bit hash of each row's id_card for an archive form (0 where it is missing); None
    for the other forms, whose records name no resident."""
    if form not in ARCHIVE_FORMS:
        return None
    if "id_card" not in frame.columns:
        return np.zeros(len(frame), dtype=np.uint64)
    column = frame["id_card"]
    hashes = text_hashes(arrow_text(column))
    hashes[column.isna().to_numpy()] = 0
    return hashes


def distinct_pairs(slots: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (slot, id) pairs, sorted."""
    if len(slots) == 0:
        return slots.astype(np.int64), ids.astype(np.uint64)
    # by slot (a radix sort of few distinct values), then each slot's ids (np.sort, several times
    # faster than a lexsort of the pairs)
    narrow = slots.astype(np.uint16) if slots.min() >= 0 and slots.max() < 1 << 16 else slots
    order = np.argsort(narrow, kind="stable")
    slots, ids = slots[order], ids[order]
    bounds = np.flatnonzero(slots[1:] != slots[:-1]) + 1
    ids = np.concatenate([np.sort(part) for part in np.split(ids, bounds)])
    new = np.ones(len(slots), dtype=bool)
    new[1:] = (slots[1:] != slots[:-1]) | (ids[1:] != ids[:-1])
    return slots[new].astype(np.int64), ids[new].astype(np.uint64)


@dataclass(frozen=True, eq=False)
class Residents:
    """Distinct (slot, id) pairs: `slots` = institution index * WIDTH + form index (int64), `ids`
    the hashes of id_card (uint64), sorted, no pair twice."""

    slots: np.ndarray
    ids: np.ndarray

    @classmethod
    def empty(cls) -> Residents:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64))

    @classmethod
    def of(cls, org: np.ndarray, form: np.ndarray, ids: np.ndarray) -> Residents:
        """The residents of folded records (one entry per record) whose latest upload is valid:
        `org`, `form`, `ids` of those records; entries of other forms or without id are left out."""
        keep = np.isin(form, ARCHIVE_INDEXES) & (ids != 0)
        slots = org[keep].astype(np.int64) * WIDTH + form[keep]
        return cls(*distinct_pairs(slots, ids[keep]))

    def __len__(self) -> int:
        return len(self.slots)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Residents)
            and np.array_equal(self.slots, other.slots)
            and np.array_equal(self.ids, other.ids)
        )

    def union(self, *others: Residents) -> Residents:
        sets = [s for s in (self, *others) if len(s)]
        if len(sets) <= 1:
            return sets[0] if sets else self
        return Residents(
            *distinct_pairs(
                np.concatenate([s.slots for s in sets]), np.concatenate([s.ids for s in sets])
            )
        )

    def remapped(self, lookup: np.ndarray) -> Residents:
        """Institution index i renamed lookup[i]."""
        org, form = np.divmod(self.slots, WIDTH)
        return Residents(*distinct_pairs(lookup[org].astype(np.int64) * WIDTH + form, self.ids))

    def counts(self) -> dict[tuple[int, str], int]:
        """(institution index, form id) -> residents."""
        return self.grouped(None)

    def grouped(self, group_of_org: np.ndarray | None) -> dict[tuple[int, str], int]:
        """(group, form id) -> distinct residents of the group's institutions, where institution i
        belongs to group `group_of_org[i]` (None: each institution its own group; -1: none)."""
        org, form = np.divmod(self.slots, WIDTH)
        group = org if group_of_org is None else group_of_org[org]
        kept = group >= 0  # institutions of no group (-1) are left out
        slots, _ = distinct_pairs(group[kept].astype(np.int64) * WIDTH + form[kept], self.ids[kept])
        keys, counts = np.unique(slots, return_counts=True)
        return {
            (int(key) // WIDTH, FORM_IDS[int(key) % WIDTH]): int(n)
            for key, n in zip(keys.tolist(), counts.tolist())
        }
