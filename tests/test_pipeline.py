"""In a pipeline: several reports from one run (`--output` repeated, the format from the name or
a `FORMAT:` prefix), GitHub annotations and the step summary, GitLab Code Quality, where the
policy comes from (the nearest pyproject.toml), `--version`, completion and readable help."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

import nj_audit
from nj_audit.cli import app

from builders import CLI_ENV, assert_one_line_error, display_width, timed_visit, write_rows

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def uploads(tmp_path: Path) -> Path:
    """Two institutions' outpatient visits: one invalid row (a bad diagnosis code), one late."""
    folder = tmp_path / "uploads"
    write_rows(
        folder / "a" / "outpatient_visit.csv",
        [
            timed_visit("a1", "2022-03-01 10:00:00", "2022-03-01 11:00:00"),
            timed_visit("a2", "2022-03-01 10:00:00", "2022-03-03 11:00:00"),
            timed_visit("a3", "2022-03-02 10:00:00", "2022-03-02 11:00:00", diagnosis_code="j06"),
        ],
    )
    return folder


def run(runner: CliRunner, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env=env)


def test_one_audit_run_writes_json_junit_and_markdown(
    runner: CliRunner, uploads: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nj_audit.audit

    calls = []
    real = nj_audit.audit.run_audit
    monkeypatch.setattr(
        nj_audit.audit, "run_audit", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    out = {name: tmp_path / name for name in ("audit.json", "audit.xml", "summary.md", "t.txt")}
    result = run(
        runner, "audit", str(uploads), *(f"--output={path}" for path in out.values()),
        "-o", f"codequality:{tmp_path / 'cq.json'}", "-o", f"csv:{tmp_path / 'table.dat'}",
    )  # fmt: skip
    assert result.exit_code == 1 and calls == [1]  # the audit ran once
    assert result.stdout == ""  # the table went to t.txt; stdout got nothing twice
    assert "gate FAILED" in result.stderr
    monkeypatch.setattr(nj_audit.audit, "run_audit", real)
    alone = {fmt: run(runner, "audit", str(uploads), "--format", fmt).stdout
             for fmt in ("json", "junit", "markdown", "table", "codequality", "csv")}  # fmt: skip
    assert out["audit.json"].read_text(encoding="utf-8") == alone["json"]
    assert out["audit.xml"].read_text(encoding="utf-8") == alone["junit"]
    assert out["summary.md"].read_text(encoding="utf-8") == alone["markdown"]
    assert (tmp_path / "cq.json").read_text(encoding="utf-8") == alone["codequality"]
    assert (tmp_path / "table.dat").read_text(encoding="utf-8") == alone["csv"]
    assert "gate FAILED" in out["t.txt"].read_text(encoding="utf-8")
    ET.fromstring(out["audit.xml"].read_text(encoding="utf-8"))


def test_format_chooses_stdout_beside_the_files(
    runner: CliRunner, uploads: Path, tmp_path: Path
) -> None:
    result = run(runner, "audit", str(uploads), "-o", str(tmp_path / "a.json"), "--format", "junit")
    assert result.stdout.startswith("<?xml") and (tmp_path / "a.json").exists()
    # as before: --format json --output FILE.json writes the file only
    same = run(runner, "audit", str(uploads), "--format", "json", "-o", str(tmp_path / "b.json"))
    assert same.stdout == "" and json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))


def test_a_name_no_extension_tells_gets_the_format_option(
    runner: CliRunner, uploads: Path, tmp_path: Path
) -> None:
    # as 0.1.0 did for every --output: the file gets --format's report, stdout nothing
    result = run(runner, "audit", str(uploads), "--format", "junit", "-o", str(tmp_path / "a.out"))
    assert result.stdout == "" and (tmp_path / "a.out").read_text("utf-8").startswith("<?xml")
    # a prefix that names no format is part of the file's name
    named = run(runner, "audit", str(uploads), "-o", str(tmp_path / "nonsense:report.json"))
    assert named.exit_code == 1 and json.loads((tmp_path / "nonsense:report.json").read_text())


def test_two_outputs_to_one_file_and_an_input_as_output_are_refused(
    runner: CliRunner, uploads: Path, tmp_path: Path
) -> None:
    twice = run(runner, "audit", str(uploads), "-o", str(tmp_path / "a.json"),
                "-o", f"json:{tmp_path / 'a.json'}")  # fmt: skip
    assert twice.exit_code == 2
    assert_one_line_error(twice.stderr, "same file")
    source = uploads / "a" / "outpatient_visit.csv"
    before = source.read_bytes()
    clobber = run(runner, "validate", str(uploads), "-o", f"csv:{source}")
    assert clobber.exit_code == 2 and source.read_bytes() == before
    assert_one_line_error(clobber.stderr, "refusing to overwrite an input")


def test_one_validate_run_writes_every_format(
    runner: CliRunner, uploads: Path, tmp_path: Path
) -> None:
    files = {"failures.csv": "", "v.json": "", "v.txt": "", "cq.json": "codequality:",
             "gh.txt": "github:"}  # fmt: skip
    args = [f"-o{prefix}{tmp_path / name}" for name, prefix in files.items()]
    result = run(runner, "validate", str(uploads), *args)
    assert result.exit_code == 1 and result.stdout == ""  # the table went to v.txt
    assert "invalid: 1 of 3 rows" in result.stderr
    alone = run(runner, "validate", str(uploads), "--format", "json").stdout
    assert (tmp_path / "v.json").read_text("utf-8") == alone
    legacy = run(runner, "validate", str(uploads), "--failures", str(tmp_path / "legacy.csv"))
    assert legacy.exit_code == 1 and "invalid: 1 of 3 rows" in legacy.stdout
    failures = (tmp_path / "failures.csv").read_text("utf-8")
    assert failures == (tmp_path / "legacy.csv").read_text("utf-8")
    assert failures.splitlines()[1].endswith(",str_matches,j06")
    assert run(runner, "validate", str(uploads), "--format", "csv").stdout == failures
    assert (
        (tmp_path / "v.txt")
        .read_text("utf-8")
        .endswith("invalid: 1 of 3 rows (33.33%) fail at least one rule\n")
    )
    issues = json.loads((tmp_path / "cq.json").read_text("utf-8"))
    assert [(i["check_name"], i["location"]["lines"]["begin"]) for i in issues] == [
        ("nj-audit/outpatient_visit/diagnosis_code/str_matches", 4)
    ]
    annotation = (tmp_path / "gh.txt").read_text("utf-8").splitlines()[0]
    assert annotation.startswith(f"::error file={uploads.as_posix().replace(':', '%3A')}/a/")


def test_rank_writes_several_reports(runner: CliRunner, tmp_path: Path) -> None:
    table = ROOT / "samples" / "hospitals_2022.csv"
    result = run(runner, "rank", str(table), "-o", str(tmp_path / "r.json"),
                 "-o", f"github:{tmp_path / 'r.txt'}", "--format", "csv")  # fmt: skip
    assert result.exit_code == 1 and result.stdout.startswith("institution,")
    assert json.loads((tmp_path / "r.json").read_text("utf-8"))["policy"]["source"] == "defaults"
    assert "::error title=nj-audit%3A" in (tmp_path / "r.txt").read_text("utf-8")


# -- GitHub Actions ---------------------------------------------------------------------------


def github_env(tmp_path: Path, summary: str = "") -> tuple[dict[str, str], Path]:
    path = tmp_path / "step_summary.md"
    path.write_text(summary, encoding="utf-8")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(path),
           "GITHUB_WORKSPACE": str(tmp_path)}  # fmt: skip
    return env, path


def test_github_annotations_and_the_step_summary(
    runner: CliRunner, uploads: Path, tmp_path: Path
) -> None:
    env, summary = github_env(tmp_path, "# earlier step output\n")
    result = run(runner, "validate", str(uploads), "--format", "github", env=env)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    # an absolute path inside the workspace is given relative to it, as GitHub wants
    assert lines[0].startswith("::error file=uploads/a/outpatient_visit.csv,line=4,title=")
    assert lines[-1].startswith("::notice title=nj-audit::invalid: 1 of 3 rows")
    assert lines[-1].endswith("the full report: the job summary")
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# earlier step output\n## nj-audit validate: invalid")
    audit = run(runner, "audit", str(uploads), "--format", "github", env=env)
    assert audit.exit_code == 1 and "::error title=nj-audit%3A" in audit.stdout
    assert summary.read_text(encoding="utf-8").startswith(text)  # appended, never replaced
    assert "## nj-audit: failed" in summary.read_text(encoding="utf-8")


def test_the_step_summary_stays_under_githubs_limit(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "uploads"
    rows = [
        timed_visit(f"r{n}", "2022-03-01 10:00:00", "2022-03-01 11:00:00",
                    org=f"ORG{n:04d}", diagnosis_code="bad")
        for n in range(3000)
    ]  # fmt: skip
    write_rows(folder / "outpatient_visit.csv", rows)
    env, summary = github_env(tmp_path, "x" * (1024 * 1024 - 100_000))  # most of it already used
    result = run(runner, "audit", str(folder), "--format", "github", "--fail-on", "never",
                 "-o", str(tmp_path / "audit.json"), env=env)  # fmt: skip
    assert result.exit_code == 0
    size = summary.stat().st_size
    assert 1024 * 1024 - 100_000 < size <= 1024 * 1024
    tail = summary.read_text(encoding="utf-8").splitlines()[-1]
    assert "more lines left out" in tail and "audit.json" in tail
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 10  # 3000 failing institutions, 10 annotations, and a notice
    assert "2990 more error(s)" in result.stdout.splitlines()[-1]


def test_no_step_summary_without_github_format(
    runner: CliRunner, uploads: Path, tmp_path: Path
) -> None:
    env, summary = github_env(tmp_path)
    run(runner, "audit", str(uploads), "--format", "markdown", env=env)
    assert summary.read_text(encoding="utf-8") == ""


# -- where the policy comes from ------------------------------------------------------------------


def test_the_nearest_pyproject_sets_the_policy_and_every_report_names_it(
    runner: CliRunner, uploads: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.nj-audit]\nfail_on = "never"\n[tool.nj-audit.coverage]\nwarn = 1\nfail = 0\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(uploads / "a")  # two folders below it
    doc = json.loads(run(runner, "audit", ".", "--format", "json").stdout)
    assert doc["policy"]["source"] == "../../pyproject.toml"
    assert doc["policy"]["fail_on"] == "never" and doc["passed"] is True
    assert doc["policy"]["coverage"] == {"warn": 1, "fail": 0}
    table = run(runner, "audit", ".")
    assert table.exit_code == 0
    assert "(--fail-on never, policy: ../../pyproject.toml)" in table.stdout
    markdown = run(runner, "audit", ".", "--format", "markdown").stdout
    assert "policy: ../../pyproject.toml" in markdown
    junit = ET.fromstring(run(runner, "audit", ".", "--format", "junit").stdout)
    prop = junit.find("testsuite/properties/property")
    assert prop is not None and prop.get("value") == "../../pyproject.toml"
    notice = run(runner, "audit", ".", "--format", "github").stdout.splitlines()[-1]
    assert "policy: ../../pyproject.toml" in notice
    # a nearer pyproject.toml without [tool.nj-audit] stops the search: the defaults
    (uploads / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    doc = json.loads(run(runner, "audit", ".", "--format", "json").stdout)
    assert doc["policy"]["source"] == "defaults" and doc["policy"]["fail_on"] == "fail"
    assert "policy: defaults" in run(runner, "audit", ".").stdout


def test_a_policy_file_is_named_and_options_still_win(
    runner: CliRunner, uploads: Path, tmp_path: Path
) -> None:
    policy = tmp_path / "strict.toml"
    policy.write_text('window = "2h"\n[windows]\nlab_report = "48h"\n', encoding="utf-8")
    doc = json.loads(run(runner, "audit", str(uploads), "--policy", str(policy),
                         "--fail-on", "warn", "--format", "json").stdout)  # fmt: skip
    assert doc["policy"]["source"] == str(policy)
    assert doc["policy"]["fail_on"] == "warn" and doc["policy"]["window_seconds"] == 7200
    assert doc["policy"]["windows"] == {"lab_report": 172800}


# -- the command line's basics --------------------------------------------------------------------


def test_version(runner: CliRunner) -> None:
    result = run(runner, "--version")
    assert result.exit_code == 0
    assert result.stdout == f"nj-audit {version('nj-audit')}\n"
    assert version("nj-audit") == nj_audit.__version__


def test_completion_is_offered(runner: CliRunner) -> None:
    assert "--install-completion" in run(runner, "--help").stdout
    script = subprocess.run(
        [sys.executable, "-m", "nj_audit", "--show-completion", "bash"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert script.returncode == 0 and "_NJ_AUDIT_COMPLETE=complete_bash" in script.stdout


def every_help() -> list[list[str]]:
    def walk(command: object, words: list[str]) -> list[list[str]]:
        found = [words]
        for name, sub in (getattr(command, "commands", None) or {}).items():
            found += walk(sub, [*words, name])
        return found

    return walk(get_command(app), [])


@pytest.mark.parametrize("words", every_help(), ids=lambda w: " ".join(w) or "nj-audit")
def test_help_reads_like_a_manual(words: list[str]) -> None:
    text = CliRunner(env=CLI_ENV).invoke(app, [*words, "--help"]).stdout
    assert "Example" in text  # the top level and the groups too
    for python_type in ("<list[", "<bool>", "<path>", "<str>", "<int", "{paths}", "{path}"):
        assert python_type not in text, (words, python_type)


@pytest.mark.parametrize("words", every_help(), ids=lambda w: " ".join(w) or "nj-audit")
def test_help_fits_80_columns_and_keeps_its_examples_whole(words: list[str]) -> None:
    text = CliRunner(env={**CLI_ENV, "COLUMNS": "80"}).invoke(app, [*words, "--help"]).stdout
    wide = [line for line in text.splitlines() if display_width(line) > 80]
    assert not wide, wide
    examples = re.split("Examples?:", text, maxsplit=1)[1].split("\n\n")[1]  # the paragraph
    lines = examples.splitlines()
    # one command a line, none wrapped onto the next
    assert lines and all(line.startswith("    nj-audit ") or "=" in line for line in lines), lines


def test_usage_lines_name_their_arguments() -> None:
    runner = CliRunner(env=CLI_ENV)
    # PATH... is optional: `--state STORE` audits a store instead
    assert "Usage: root audit [OPTIONS] [PATH...]" in runner.invoke(app, ["audit", "--help"]).stdout
    assert "[OPTIONS] FILE" in runner.invoke(app, ["rank", "--help"]).stdout
    assert "--chunk-size" in (text := runner.invoke(app, ["validate", "--help"]).stdout)
    assert " N " in text and "[FORMAT:]FILE" in text


def test_an_unwritable_step_summary_is_a_warning_not_a_failure(
    runner: CliRunner, uploads: Path, tmp_path: Path
) -> None:
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path / "no" / "such.md")}
    result = run(runner, "validate", str(uploads), "--format", "github", env=env)
    assert result.exit_code == 1  # validate's verdict, not 2
    assert "::error file=" in result.stdout
    assert "the step summary was not written" in result.stderr


def test_lang_from_the_locale_and_from_pyproject(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """LANG=zh_CN.UTF-8 gives Chinese reports; `lang` in [tool.nj-audit] too; --lang wins."""
    runner = CliRunner(env={**CLI_ENV, "COLUMNS": "120"})
    monkeypatch.chdir(ROOT)
    args = ["audit", "samples/batch", "--registry", "samples/registry.csv"]
    for variable in ("LC_ALL", "LC_MESSAGES", "NJ_AUDIT_LANG"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    zh = runner.invoke(app, args)
    assert "门禁未通过" in zh.stdout and "不合格" in zh.stdout and "gate FAILED" not in zh.stdout
    en = runner.invoke(app, [*args, "--lang", "en"])
    assert "gate FAILED" in en.stdout
    bad = runner.invoke(app, ["audit", "samples/batch", "--registry", "missing.csv"])
    assert bad.exit_code == 2 and "错误：" in bad.stderr
    monkeypatch.setenv("LANG", "C.UTF-8")
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool.nj-audit]\nlang = "zh"\n', encoding="utf-8")
    monkeypatch.chdir(project)
    batch = str(ROOT / "samples" / "batch")
    assert "门禁未通过" in runner.invoke(app, ["audit", batch]).stdout
    (project / "pyproject.toml").write_text('[tool.nj-audit]\nlang = "fr"\n', encoding="utf-8")
    refused = runner.invoke(app, ["audit", batch])
    assert refused.exit_code == 2 and "lang must be en or zh" in refused.stderr
