"""`nj-audit` and `python -m nj_audit`: tune the allocator, then run the command line."""

from __future__ import annotations

import gc
import sys

from .allocator import keep_memory_on_the_heap


def main() -> None:
    keep_memory_on_the_heap()
    # The command line never generates test data: keep pandera from loading hypothesis (a tenth
    # of a second) when the test extra happens to be installed.
    sys.modules.setdefault("hypothesis", None)  # type: ignore[arg-type]
    # Importing pandas, pandera and the library makes hundreds of thousands of objects and no
    # garbage; the collector's passes over them were a fifth of the start-up. Import with it off,
    # then freeze what was made, so that later passes skip it too.
    gc.disable()
    # pandas, pandera, the schemas' checks and rich: every command but --help needs them
    from . import rules  # noqa: F401
    from .cli import app
    from .render import terminal  # noqa: F401

    gc.enable()
    gc.freeze()
    app(prog_name="nj-audit")


if __name__ == "__main__":
    main()
