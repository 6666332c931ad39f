"""The docs are tested: every command is in the README and has help with examples."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nj_audit.cli import app

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
COMMANDS = [
    ["validate"],
    ["audit"],
    ["rank"],
    ["schemas", "list"],
    ["schemas", "show"],
    ["samples", "generate"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_is_documented_and_has_help(command: list[str]) -> None:
    assert f"nj-audit {' '.join(command)}" in README
    result = CliRunner(env={"COLUMNS": "120", "NO_COLOR": "1"}).invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.stdout


def test_readme_states_both_setup_commands_and_ci_runs_the_test_one() -> None:
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    test_command = "pip install '.[test,dask]' && python -m pytest"
    assert test_command in README and test_command in ci
    assert "pip install . && nj-audit audit samples/batch --registry samples/registry.csv" in README
