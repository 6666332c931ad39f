"""`nj-audit` and `python -m nj_audit`: tune the allocator, then run the command line."""

from __future__ import annotations

import sys

from .allocator import keep_memory_on_the_heap


def main() -> None:
    keep_memory_on_the_heap()
    # The command line never generates test data: keep pandera from loading hypothesis (a tenth
    # of a second) when the test extra happens to be installed.
    sys.modules.setdefault("hypothesis", None)  # type: ignore[arg-type]
    # Only the command line here: --help, `schemas list` and a wrong argument need neither pandas,
    # pyarrow nor pandera (a second of start-up); each command that does loads them
    # (cli/loading.py).
    from .cli import app

    app(prog_name="nj-audit")


if __name__ == "__main__":
    main()
