"""Keeping glibc's allocator from handing large temporaries back to the kernel.

The audit allocates and frees large numpy and string temporaries for every chunk. With glibc's
defaults each one is a fresh mmap, page-faulted in and unmapped again: a third of a run was kernel
time (2.1 million page faults for 5 million rows, 250,000 with this). Raising the mmap and trim
thresholds keeps them on the heap, for some tens of MB of resident memory. Elsewhere than glibc,
or when the user set these thresholds themselves, nothing is changed.
"""

from __future__ import annotations

import ctypes
import os
from functools import cache

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)
_LARGEST = 2**31 - 1  # mallopt takes an int


@cache
def keep_memory_on_the_heap() -> bool:
    """Once per process; whether the thresholds were set."""
    if any(name in os.environ for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _LARGEST)) and bool(mallopt(_M_TRIM_THRESHOLD, _LARGEST))
