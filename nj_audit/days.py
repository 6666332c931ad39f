"""Upload days: (institution, day) pairs packed in one int64 each, their rows summed, and each
institution's days (the upload calendar and the upload_days metric, contract § 4.5)."""

from __future__ import annotations

import numpy as np
import pandas as pd

_DAY_BITS = 24  # an upload-day code is org * 2^24 + (days since 1970 + _DAY_SHIFT)
_DAY_SHIFT = 1 << 23


def summed_codes(codes: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct codes (unsorted: a hash is cheaper than a sort) and each one's summed count."""
    if len(codes) == 0:
        return codes.astype(np.int64), counts.astype(np.int64)
    index, distinct = pd.factorize(codes)
    summed = np.bincount(index, weights=counts, minlength=len(distinct))  # exact below 2^53
    return np.asarray(distinct, dtype=np.int64), summed.astype(np.int64)


def counted_days(org: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (institution, upload day) codes of some rows and the rows of each (as
    `summed_codes(day_codes(org, day), 1 a row)`): counted into a table when the rows'
    institutions and days span a small one (a chunk holds ~190 institutions over a year), which is
    several times cheaper than hashing them."""
    if len(day) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    first = int(day.min())
    span = int(day.max()) - first + 1
    cells = (int(org.max()) + 1) * span
    if cells > max(4 * len(day), 1 << 16):  # a sparse table: hash them
        return summed_codes(day_codes(org, day), np.ones(len(day), dtype=np.int64))
    rows = np.bincount(org.astype(np.int64) * span + (day - first), minlength=cells)
    hit = np.flatnonzero(rows)
    return day_codes(hit // span, hit % span + first), rows[hit]


def upload_days_by_org(
    codes: np.ndarray, rows: np.ndarray
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Distinct upload-day codes and their rows -> org index -> its sorted upload days (days
    since 1970) and the rows of each."""
    order = np.argsort(codes, kind="stable")
    orgs, days = split_day_codes(codes[order])
    rows = rows[order]
    return {int(o): (days[orgs == o], rows[orgs == o]) for o in np.unique(orgs)}


def day_codes(org: np.ndarray, day: np.ndarray) -> np.ndarray:
    """(institution index, upload day) pairs as one int64 each (days since 1970)."""
    return (org.astype(np.int64) << _DAY_BITS) | (day + _DAY_SHIFT)


def split_day_codes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`day_codes` undone: the institution indexes and the days."""
    return codes >> _DAY_BITS, (codes & ((1 << _DAY_BITS) - 1)) - _DAY_SHIFT
