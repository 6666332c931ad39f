"""Issue 14: --help, `schemas list` and a wrong argument start without the data stack."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
sys.argv = ["nj-audit", *json.loads(sys.argv[1])]
from nj_audit.__main__ import main
try:
    main()
except SystemExit:
    pass
print(json.dumps([m for m in ("pandas", "pyarrow", "pandera", "numpy") if m in sys.modules]),
      file=sys.stderr)
"""


def _imported(*args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(args))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["audit", "--help"],
        ["schemas", "list"],
        ["audit"],  # a missing argument
        ["audit", "--no-such-option", "x"],
        ["validate", "--format", "yaml", "x"],
    ],
)
def test_no_data_stack_for_help_listing_and_argument_errors(args: list[str]) -> None:
    assert _imported(*args) == []


def test_a_command_that_reads_loads_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert "pandas" in _imported("audit", str(tmp_path / "missing.csv"))
