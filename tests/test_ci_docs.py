"""docs/ci.md and action.yml run as written: the GitHub workflow's steps, the composite Action's
steps and the GitLab job's script are run in a shell, as the CI would run them (bash -eo
pipefail, its environment variables, `if: always()`), on a hospital's repository holding part of
the sample batch. Installing is left out (the tests' nj-audit is used): test_precommit.py
installs the package from the repository into a fresh environment."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CI_DOC = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="bash is not installed")


def documented(first_line: str) -> dict:  # type: ignore[type-arg]
    """The YAML block of docs/ci.md whose first line is `first_line`."""
    for block in re.findall(r"```yaml\n(.*?)```", CI_DOC, re.S):
        if block.splitlines()[0].strip() == first_line:
            return yaml.safe_load(block)
    raise AssertionError(f"no yaml block starting {first_line!r} in docs/ci.md")


@pytest.fixture()
def repository(tmp_path: Path) -> Path:
    """A hospital's repository: its exports (one institution of the sample batch: 156 rows, one
    of them invalid, 10 upload days) and the registry."""
    repo = tmp_path / "hospital"
    shutil.copytree(ROOT / "samples" / "batch" / "xuanwu" / "1232010215463319P8", repo / "exports")
    shutil.copy(ROOT / "samples" / "registry.csv", repo / "registry.csv")
    return repo


@dataclass
class Step:
    name: str
    code: int | None  # None: skipped
    stdout: str
    summary: str


def shell(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A `run:` step, as GitHub runs it: bash --noprofile --norc -eo pipefail."""
    path = cwd / ".step.sh"
    path.write_text(script, encoding="utf-8")
    try:
        return subprocess.run(
            [BASH, "--noprofile", "--norc", "-eo", "pipefail", str(path)],  # type: ignore[list-item]
            cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=300,
        )  # fmt: skip
    finally:
        path.unlink()


def ci_env(extra: dict[str, str]) -> dict[str, str]:
    """A clean environment: the tests' nj-audit first on PATH, no terminal, the CI's variables."""
    bin_dir = str(Path(sys.executable).parent)
    keep = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "LC_ALL", "TMPDIR")}
    return {**keep, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "CI": "true",
            **extra}  # fmt: skip


def github_steps(steps: list[dict], repo: Path, env: dict[str, str]) -> list[Step]:  # type: ignore[type-arg]
    """Run the `run:` steps; `uses:` steps and installing are not run, but their `if:` counts."""
    ran: list[Step] = []
    failed = False
    for number, step in enumerate(steps):
        name = step.get("name", step.get("uses", f"step {number}"))
        condition = str(step.get("if", ""))
        if failed and "always()" not in condition:
            ran.append(Step(name, None, "", ""))
            continue
        if "run" not in step or name.startswith("Install"):
            ran.append(Step(name, 0, "", ""))
            continue
        summary = repo.parent / f"summary-{number}.md"  # GitHub gives each step its own file
        summary.write_text("", encoding="utf-8")
        step_env = {**env, "GITHUB_STEP_SUMMARY": str(summary)}
        step_env.update({k: str(v) for k, v in (step.get("env") or {}).items() if "${{" not in v})
        done = shell(step["run"], repo, step_env)
        assert "Traceback" not in done.stderr, done.stderr
        ran.append(Step(name, done.returncode, done.stdout, summary.read_text(encoding="utf-8")))
        failed = failed or done.returncode != 0
    return ran


def annotations(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith("::"):
            level = line[2:].split(" ", 1)[0].split("::", 1)[0]
            counts[level] = counts.get(level, 0) + 1
    return counts


def github_env(repo: Path) -> dict[str, str]:
    output = repo.parent / "github_output"
    output.write_text("", encoding="utf-8")
    return ci_env({"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(repo),
                   "GITHUB_OUTPUT": str(output), "RUNNER_TEMP": str(repo.parent)})  # fmt: skip


def test_the_github_workflow_runs_as_documented(repository: Path) -> None:
    workflow = documented("# .github/workflows/uploads.yml")
    steps = workflow["jobs"]["nj-audit"]["steps"]
    ran = {s.name: s for s in github_steps(steps, repository, github_env(repository))}
    validate, audit = ran["Validate"], ran["Audit"]
    assert validate.code == 1  # the sample batch has invalid rows: the gate step fails ...
    assert audit.code == 1  # ... and the audit still runs (if: always()), and fails its gate
    assert ran["Keep the reports"].code == 0  # the upload step runs too
    for report in ("failures.csv", "audit.json", "audit.xml", "audit.md"):
        assert (repository / "reports" / report).stat().st_size > 0, report
    assert json.loads((repository / "reports" / "audit.json").read_text("utf-8"))["passed"] is False
    ET.fromstring((repository / "reports" / "audit.xml").read_text("utf-8"))
    for step in (validate, audit):
        counts = annotations(step.stdout)
        assert counts.get("error", 0) <= 10 and counts.get("warning", 0) <= 10
        assert counts["notice"] == 1
        assert step.stdout.splitlines()[-1].startswith("::notice title=nj-audit::")
    assert validate.stdout.startswith("::error file=exports/")  # relative to the workspace
    assert "reports/failures.csv" in validate.stdout.splitlines()[-1]
    assert validate.summary.startswith("## nj-audit validate: invalid")
    assert audit.summary.startswith("## nj-audit: failed")


def test_the_composite_action_runs_as_documented(repository: Path) -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    inputs = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    inputs.update(paths="exports/", registry="registry.csv", reports="reports")
    env = github_env(repository)
    env["GITHUB_ACTION_PATH"] = str(ROOT)
    outputs: dict[str, str] = {}
    codes = []
    for step in action["runs"]["steps"]:
        if step["name"].startswith("Install"):
            continue
        step_env = dict(env)
        for key, value in (step.get("env") or {}).items():
            value = re.sub(r"\$\{\{ inputs\.([\w-]+) \}\}", lambda m: inputs[m.group(1)], value)
            value = re.sub(
                r"\$\{\{ steps\.(\w+)\.outputs\.code \}\}", lambda m: outputs[m.group(1)], value
            )
            step_env[key] = value
        Path(env["GITHUB_OUTPUT"]).write_text("", encoding="utf-8")
        done = shell(step["run"], repository, step_env)
        assert "Traceback" not in done.stderr, done.stderr
        written = Path(env["GITHUB_OUTPUT"]).read_text(encoding="utf-8")
        if "id" in step:
            outputs[step["id"]] = dict(line.split("=", 1) for line in written.splitlines())["code"]
        codes.append(done.returncode)
    assert outputs == {"validate": "1", "audit": "1"}
    assert codes == [0, 0, 1]  # validate and audit record their codes; the gate step fails
    for report in ("failures.csv", "audit.json", "audit.xml", "audit.md"):
        assert (repository / "reports" / report).exists(), report


def test_the_gitlab_job_runs_as_documented(repository: Path) -> None:
    job = documented("# .gitlab-ci.yml")["nj-audit"]
    script = "\n".join(line for line in job["script"] if not line.startswith("pip install"))
    env = ci_env({"GITLAB_CI": "true", "CI_PROJECT_DIR": str(repository)})
    done = shell(script, repository, env)
    assert done.returncode == 1, done.stderr  # the job fails ...
    assert job["artifacts"]["when"] == "always"  # ... and its reports are uploaded all the same
    reports = job["artifacts"]["reports"]
    suite = ET.fromstring((repository / reports["junit"]).read_text("utf-8")).find("testsuite")
    assert suite is not None and int(suite.get("failures", "0")) > 0
    issues = json.loads((repository / reports["codequality"]).read_text("utf-8"))
    assert issues and len({i["fingerprint"] for i in issues}) == len(issues)
    assert all(i["location"]["path"].startswith("exports/") for i in issues)
    assert {i["severity"] for i in issues} <= {"info", "minor", "major", "critical", "blocker"}
    for path in job["artifacts"]["paths"]:
        assert (repository / path).is_dir()
    assert (repository / "reports" / "audit.json").exists()
