"""The docs are tested: every registered command is in the README and has help with examples; the
README's set-up commands are what CI runs; the README's headline output is what the tool prints."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from nj_audit.cli import app

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def registered_commands() -> list[list[str]]:
    """Every command the CLI registers, as the words that call it (`["schemas", "list"]`)."""

    def walk(command: object, words: list[str]) -> list[list[str]]:
        subcommands = getattr(command, "commands", None)  # a group (typer's own click, or click)
        if subcommands:
            return [c for name, sub in subcommands.items() for c in walk(sub, [*words, name])]
        return [words]

    return walk(get_command(app), [])


def test_the_commands_are_found() -> None:
    commands = registered_commands()
    assert ["audit"] in commands and ["schemas", "show"] in commands and len(commands) >= 6


@pytest.mark.parametrize("command", registered_commands(), ids=" ".join)
def test_every_command_is_documented_and_has_help(command: list[str]) -> None:
    assert f"nj-audit {' '.join(command)}" in README
    result = CliRunner(env={"COLUMNS": "120", "NO_COLOR": "1"}).invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.stdout


def test_readme_states_both_setup_commands_and_ci_runs_the_test_one() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = "pip install '.[test,dask]' && python -m pytest"
    assert test_command in README and test_command in ci
    assert "pip install . && nj-audit audit samples/batch --registry samples/registry.csv" in README


def _block_after(marker: str) -> str:
    """The first fenced block after `marker` in the README."""
    start = README.index(marker)
    match = re.search(r"```\n(.*?)```", README[start:], re.S)
    assert match is not None
    return match.group(1)


def test_the_readme_headline_output_is_what_the_tool_prints(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(ROOT)
    env = {"COLUMNS": "150", "NO_COLOR": "1", "TERM": "dumb", "CI": "1"}
    args = ["audit", "samples/batch", "--registry", "samples/registry.csv"]
    result = CliRunner(env=env).invoke(app, args)
    assert result.exit_code == 1
    shown = _block_after("## What it prints")
    assert [line.rstrip() for line in result.stdout.splitlines()] == shown.splitlines()


def test_typer_is_the_command_line() -> None:
    assert isinstance(app, typer.Typer)
