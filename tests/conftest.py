"""Fixtures; the shared helpers are in builders.py (UPDATE_GOLDEN=1 rewrites golden files)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:  # `import builders` from any test module, whatever the import mode
    sys.path.insert(0, str(TESTS))

from builders import CLI_ENV  # noqa: E402


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env=CLI_ENV)
