"""Issue 14: --help, `schemas list` and a wrong argument start without the data stack."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
packages = sys.argv[2].split(",")
sys.argv = ["nj-audit", *json.loads(sys.argv[1])]
from nj_audit.__main__ import main
try:
    main()
except SystemExit:
    pass
print(json.dumps([m for m in sys.modules if m.split(".")[0] in packages]),
      file=sys.stderr)
"""


DATA_STACK = "pandas,pyarrow,pandera,numpy"


def _imported(*args: str, of: str = DATA_STACK) -> list[str]:
    """The modules of the packages `of` that the command line given `args` imported."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(args)), of],
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


@pytest.mark.parametrize("args", [["--help"], ["audit", "--help"], ["history", "--help"]])
def test_help_is_plain_and_needs_no_rich(args: list[str]) -> None:
    # typer's rich panels imported rich's console, markdown and traceback modules: 2.8x the
    # start-up of `import typer, rich` for `--help`; click's plain help costs nothing more
    assert _imported(*args, of="rich") == []


def test_an_audit_loads_only_the_renderers_it_writes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from builders import valid_row, write_csv

    upload = tmp_path / "outpatient_visit.csv"
    write_csv(upload, [valid_row("outpatient_visit")])
    loaded = _imported("audit", str(upload), "--format", "json", of="jinja2,nj_audit")
    assert "nj_audit.render.json" in loaded and "jinja2" not in loaded
    # no --history: none of the history's modules
    assert not [m for m in loaded if m.startswith(("nj_audit.history", "nj_audit.render.html"))]
