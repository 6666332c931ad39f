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


def test_the_readme_80_column_chinese_table_is_what_the_tool_prints(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(ROOT)
    env = {"COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb", "CI": "1", "NJ_AUDIT_LANG": "zh"}
    args = ["audit", "samples/batch", "--registry", "samples/registry.csv"]
    result = CliRunner(env=env).invoke(app, args)
    assert result.exit_code == 1
    shown = _block_after("In Chinese at 80 columns")
    assert [line.rstrip() for line in result.stdout.splitlines()] == shown.splitlines()


def test_typer_is_the_command_line() -> None:
    assert isinstance(app, typer.Typer)


# -- links ----------------------------------------------------------------------------------------

DOCUMENTS = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.M)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as `-`."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6}\s+(.*?)\s*#*\s*$", text, re.M):
        base, n = slug(heading), 0
        while (name := base if n == 0 else f"{base}-{n}") in found:
            n += 1
        found.add(name)
    return found


def link_problems(document: Path, root: Path = ROOT) -> list[str]:
    """Every link of `document` that does not resolve to a file (and heading) of the repository."""
    text = FENCE.sub("", document.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`]+`", "", text)  # code spans are not links
    problems = [f"a web address: {url}" for url in re.findall(r"\bhttps?://\S+", text)]
    for target in [*LINK.findall(text), *REFERENCE.findall(text)]:
        if re.match(r"^[a-z][a-z+.-]*:", target):
            problems.append(f"outside the repository: {target}")
            continue
        file_part, _, anchor = target.partition("#")
        path = (document.parent / file_part).resolve() if file_part else document
        if root.resolve() not in (path, *path.parents):
            problems.append(f"outside the repository: {target}")
        elif not path.exists():
            problems.append(f"no such file: {target}")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            problems.append(f"no such heading: {target}")
    return problems


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_link_resolves_inside_the_repository(document: Path) -> None:
    assert document.exists()
    assert link_problems(document) == []


def test_the_link_check_finds_broken_links(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "contract.md").write_text(
        (ROOT / "docs" / "contract.md").read_text(encoding="utf-8"), encoding="utf-8"
    )
    page = tmp_path / "docs" / "probe.md"
    page.write_text(
        "[a](../../shared/SPEC.md) [b](https://example.org) [c](nope.md) "
        "[d](contract.md#no-such-section) [e](contract.md#-53-where-thresholds-come-from) "
        "see http://example.org\n",
        encoding="utf-8",
    )
    problems = link_problems(page, tmp_path)
    assert sorted(problems) == [
        "a web address: http://example.org",
        "a web address: https://example.org)",
        "no such file: nope.md",
        "no such heading: contract.md#no-such-section",
        "outside the repository: ../../shared/SPEC.md",
        "outside the repository: https://example.org",
    ]  # and the link to an existing section is fine
