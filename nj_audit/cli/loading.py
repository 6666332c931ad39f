"""The data stack, imported when a command first needs it (never for --help, `schemas list` or a
wrong argument: tests/test_startup.py)."""

from __future__ import annotations

import gc
import sys


def load_data_stack() -> None:
    """Import pandas, pyarrow, pandera, the schemas' checks and rich. Importing them makes hundreds
    of thousands of objects and no garbage; the collector's passes over them were a fifth of the
    start-up: they are imported with it off, and what they made is frozen, so that later passes
    skip it too."""
    if "nj_audit.rules" in sys.modules:
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        from .. import rules  # noqa: F401
        from ..render import terminal  # noqa: F401
    finally:
        if was_enabled:
            gc.enable()
            gc.freeze()
