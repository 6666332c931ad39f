"""Hashing text columns in numpy: a 64-bit hash of each value's bytes, the same wherever it is
read (the record keys of the corrections rule)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .arrays import fixed_width_bytes, one_array, text_buffers

# murmur3's 64-bit finaliser: a bijection that spreads every input bit over the whole word
_MIX_1, _MIX_2, _SHIFT = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53), np.uint64(33)


def _mix(h: np.ndarray) -> np.ndarray:
    """In place (fresh temporaries would cost more than the arithmetic)."""
    h ^= h >> _SHIFT
    h *= _MIX_1
    h ^= h >> _SHIFT
    h *= _MIX_2
    h ^= h >> _SHIFT
    return h


def text_hashes(text: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A 64-bit hash of each value's UTF-8 bytes (missing values hash as ""), the same for the same
    text wherever it is read: the length, then each 8-byte word of the zero-padded bytes, are folded
    in through murmur3's finaliser. Values are hashed in groups of equal length, so the work is a
    few numpy passes over the bytes instead of one Python object per value."""
    text = one_array(text)
    lengths = np.diff(text_buffers(text)[0])

    def seeded(
        length: int, count: int
    ) -> np.ndarray:  # the hash of the length alone, `count` times
        return np.full(
            count, _mix(np.array([length], dtype=np.uint64) ^ np.uint64(0x9E3779B97F4A7C15))[0]
        )

    hashes = seeded(0, len(text))
    if len(lengths) == 0 or lengths.min() == lengths.max():
        distinct = lengths[:1]
    else:  # counting is cheaper than sorting or hashing; the rare very long values apart
        short = np.flatnonzero(np.bincount(np.minimum(lengths, 1024)))
        distinct = np.concatenate([short[short < 1024], np.unique(lengths[lengths >= 1024])])
    for length in distinct[distinct > 0].tolist():
        rows, chars = fixed_width_bytes(text, length)
        padded = np.zeros((len(rows), -(-length // 8) * 8), dtype=np.uint8)
        padded[:, :length] = chars
        words = padded.view(np.dtype("<u8"))
        h = seeded(length, len(rows))
        for column in range(words.shape[1]):
            h ^= words[:, column]
            _mix(h)
        hashes[rows] = h
    return hashes
