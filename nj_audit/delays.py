"""How late each upload is (contract § 4.4 and § 4.9): whether a row arrived within the real-time
window, and its delay bucket; the delay counts of records without record_id. Times are int64
nanoseconds of local time, NAT where a time is missing."""

from __future__ import annotations

import numpy as np

# NaT as int64: a missing upload time. For "latest" it sorts before every known one.
NAT = np.iinfo(np.int64).min

# Delay buckets of contract § 4.9: bucket i (after `negative`) starts at DELAY_EDGES[i - 1]
# seconds and ends before DELAY_EDGES[i]; half-open, the last unbounded.
DELAY_BUCKETS = ("negative", "under_1h", "1h_to_6h", "6h_to_24h", "1d_to_2d", "2d_to_7d", "over_7d")
DELAY_EDGES = (0, 3600, 21600, 86400, 172800, 604800)
NO_DELAY = -1  # a record whose earliest upload lacks a time: in no bucket


def delay_buckets(event: np.ndarray, upload: np.ndarray) -> np.ndarray:
    """Each row's delay bucket (an index into DELAY_BUCKETS, int8), NO_DELAY where a time is
    missing (int64 ns, NAT when missing)."""
    known = (event != NAT) & (upload != NAT)
    delay = upload - np.where(known, event, upload)
    edges = np.asarray(DELAY_EDGES, dtype=np.int64) * 10**9
    bucket = np.searchsorted(edges, delay, side="right")
    return np.where(known, bucket, NO_DELAY).astype(np.int8)


def realtime_rows(event: np.ndarray, upload: np.ndarray, window_seconds: int) -> np.ndarray:
    """0 <= upload - event <= window, where both times are known (int64 ns, NAT when missing)."""
    known = (event != NAT) & (upload != NAT)
    delay = upload - np.where(known, event, upload)
    return known & (delay >= 0) & (delay <= np.int64(window_seconds) * 10**9)


def lone_delays(
    code: np.ndarray, bucket: np.ndarray, lone: np.ndarray, size: int
) -> np.ndarray | None:
    """Records without record_id (each a record of its own, contract § 4.3) per `code` (an
    institution, or a (day, institution)) and delay bucket: a (size, buckets) array; None when
    there is no such record."""
    if not lone.any():
        return None
    slots = len(DELAY_BUCKETS)
    counted = lone & (bucket != NO_DELAY)
    flat = code[counted].astype(np.int64) * slots + bucket[counted]
    return np.bincount(flat, minlength=size * slots).reshape(size, slots)
