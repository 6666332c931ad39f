"""Shared helpers: judging a file, running the real CLI, golden files (UPDATE_GOLDEN=1 rewrites them)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:  # `import rows` from any test module, whatever pytest's import mode
    sys.path.insert(0, str(TESTS))

from nj_audit.reading import read_chunks  # noqa: E402
from nj_audit.schemas import load_schema  # noqa: E402
from nj_audit.validation import judge  # noqa: E402

FIXTURES = TESTS / "fixtures"
GOLDEN = TESTS / "golden"
# A fixed-width, colourless terminal for rendered output.
CLI_ENV = {"COLUMNS": "120", "LINES": "50", "NO_COLOR": "1", "TERM": "dumb", "CI": "1"}


@dataclass
class Judged:
    """Every row of one file judged: per row (0-based, file order) validity, line, failures."""

    valid: list[bool]
    lines: list[int]
    failures: set[tuple[str, str, int]]  # (column, check, row)
    frames: list  # the chunks' text frames
    typed: list  # the verdicts' typed frames

    def of_row(self, row: int) -> set[tuple[str, str]]:
        return {(column, check) for column, check, r in self.failures if r == row}


def judge_file(
    path: Path, form: str, encoding: str | None = None, chunk_rows: int | None = None
) -> Judged:
    spec = load_schema(form)
    valid: list[bool] = []
    lines: list[int] = []
    failures: set[tuple[str, str, int]] = set()
    frames, typed = [], []
    offset = 0
    kwargs = {"chunk_rows": chunk_rows} if chunk_rows else {}
    for chunk in read_chunks(path, encoding, **kwargs):
        verdict = judge(chunk, spec)
        for failure in verdict.failures:
            for row in np.asarray(failure.rows).tolist():
                failures.add((failure.column, failure.check, offset + int(row)))
        valid.extend(bool(v) for v in verdict.valid)
        lines.extend(int(x) for x in chunk.lines)
        frames.append(chunk.frame)
        typed.append(verdict.typed)
        offset += len(chunk.frame)
    return Judged(valid, lines, failures, frames, typed)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env=CLI_ENV)


def check_golden(name: str, text: str) -> None:
    """Compare with tests/golden/NAME; with UPDATE_GOLDEN=1 in the environment, rewrite it."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run the tests once with UPDATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, (
        f"{name} differs from the golden file (UPDATE_GOLDEN=1 to accept the new output)"
    )


def assert_one_line_error(stderr: str, *needles: str) -> None:
    """SPEC section 5: a one-line message on stderr naming the file, never a traceback."""
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
