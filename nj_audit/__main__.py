"""`nj-audit` and `python -m nj_audit`: tune the allocator, then run the command line."""

from __future__ import annotations

import contextlib
import gc
import os
import platform
import sys

# The audit allocates and frees large numpy and string temporaries for every chunk. With glibc's
# defaults each one is a fresh mmap, page-faulted in and unmapped again: a third of the run was
# kernel time. Keeping them on the heap makes a large audit about 15% faster for a few tens of MB
# of resident memory. glibc reads these only at start-up, so the process starts itself again once
# with them set; a user's own values are kept.
ALLOCATOR_SETTINGS = {"MALLOC_MMAP_THRESHOLD_": "4294967296", "MALLOC_TRIM_THRESHOLD_": "4294967296"}


def _glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (ValueError, OSError):
        return False


def main() -> None:
    if platform.system() == "Linux" and _glibc() and not any(k in os.environ for k in ALLOCATOR_SETTINGS):
        environment = {**os.environ, **ALLOCATOR_SETTINGS}
        with contextlib.suppress(OSError):  # run untuned rather than not at all
            os.execve(sys.executable, [sys.executable, "-m", "nj_audit", *sys.argv[1:]], environment)
    # The command line never generates test data: keep pandera from loading hypothesis (a tenth
    # of a second) when the test extra happens to be installed.
    sys.modules.setdefault("hypothesis", None)  # type: ignore[arg-type]
    # Importing pandas, pandera and the library makes hundreds of thousands of objects and no
    # garbage; the collector's passes over them were a fifth of the start-up. Import with it off,
    # then freeze what was made, so that later passes skip it too.
    gc.disable()
    from . import report  # noqa: F401 - pandas, pandera, the schemas' checks: every command but --help needs them
    from .cli import app

    gc.enable()
    gc.freeze()
    app(prog_name="nj-audit")


if __name__ == "__main__":
    main()
