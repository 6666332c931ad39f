"""The pre-commit hooks (.pre-commit-hooks.yaml), run by `pre-commit try-repo` as a hospital's
repository would run them: pre-commit builds the hooks' environment from this repository
(`pip install .`, from the package index the machine is configured with), then runs each hook on
a temporary git repository holding a valid and an invalid upload.

One try-repo pass per hook (each builds its own environment: about a minute, the two run side by
side); skipped only when git is not installed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from builders import VISIT_ORG2, timed_visit, write_rows

ROOT = Path(__file__).resolve().parent.parent
GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="git is not installed")
# what `pip install .` needs of the repository (plus the manifest)
SOURCES = (
    "pyproject.toml",
    "README.md",
    "LICENSE",
    ".pre-commit-hooks.yaml",
    "nj_audit",
    "schemas",
)


def git(cwd: Path, *args: str) -> None:
    identity = ["-c", "user.name=nj-audit", "-c", "user.email=dev@nj-audit.invalid"]
    subprocess.run([GIT, *identity, *args], cwd=cwd, check=True, capture_output=True)  # type: ignore[list-item]


def test_the_manifest_is_one_pre_commit_accepts() -> None:
    from pre_commit.clientlib import load_manifest

    hooks = {hook["id"]: hook for hook in load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))}
    assert set(hooks) == {"nj-audit-validate", "nj-audit-audit"}
    for pattern in ("a/outpatient_visit.csv", "b/lab_report.csv.gz", "c/exam_report.parquet"):
        assert re.search(hooks["nj-audit-validate"]["files"], pattern), pattern
    assert not re.search(hooks["nj-audit-validate"]["files"], "notes.txt")
    assert hooks["nj-audit-audit"]["pass_filenames"] is False


def hooks_repository(folder: Path) -> Path:
    """This repository's working tree (as it is now, uncommitted changes too), committed."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=ignore)
        else:
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, folder / name)
    git(folder, "init", "-q")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "nj-audit")
    return folder


def hospital_repository(folder: Path) -> Path:
    """A valid upload (institution A), an invalid one (B: a diagnosis code of the wrong shape),
    and the hospital's policy in its pyproject.toml: one form is enough coverage here."""
    write_rows(
        folder / "exports" / "a" / "outpatient_visit.csv",
        [
            timed_visit("a1", "2022-03-01 10:00:00", "2022-03-01 11:00:00"),
            timed_visit("a2", "2022-03-01 12:00:00", "2022-03-01 13:00:00"),
        ],
    )
    write_rows(
        folder / "exports" / "b" / "outpatient_visit.csv",
        [timed_visit("b1", "2022-03-01 10:00:00", "2022-03-01 11:00:00",
                     org=VISIT_ORG2, diagnosis_code="j06")],
    )  # fmt: skip
    (folder / "pyproject.toml").write_text(
        "[tool.nj-audit]\n[tool.nj-audit.coverage]\nwarn = 1\nfail = 0\n", encoding="utf-8"
    )
    git(folder, "init", "-q")
    git(folder, "add", "-A")
    return folder


def try_repo(hospital: Path, hooks: Path, hook: str, *files: str) -> subprocess.Popen[str]:
    selection = ["--files", *files] if files else ["--all-files"]
    return subprocess.Popen(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hooks), hook, *selection],
        cwd=hospital,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={
            **_environment(),
            "PRE_COMMIT_HOME": str(hospital.parent / f"{hospital.name}-home"),
            "COLUMNS": "200",
        },  # fmt: skip
    )


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}


def test_try_repo_passes_a_valid_upload_and_fails_an_invalid_one(tmp_path: Path) -> None:
    hooks = hooks_repository(tmp_path / "nj-audit")
    first = hospital_repository(tmp_path / "hospital-1")
    second = hospital_repository(tmp_path / "hospital-2")
    started = time.monotonic()
    validate = try_repo(first, hooks, "nj-audit-validate", "exports/a/outpatient_visit.csv")
    audit = try_repo(second, hooks, "nj-audit-audit")
    validated, validate_out = validate.wait(timeout=900), validate.stdout.read()  # type: ignore[union-attr]
    audited, audit_out = audit.wait(timeout=900), audit.stdout.read()  # type: ignore[union-attr]
    print(f"two try-repo passes, side by side: {time.monotonic() - started:.0f} s")
    # the valid upload passes the validate hook
    assert validated == 0, validate_out
    assert "nj-audit validate (the upload contract)" in validate_out and "Passed" in validate_out
    # the folder holding the invalid upload fails the audit hook, on B only, with the
    # hospital's policy (found in its pyproject.toml: A's 1/11 forms are no failure)
    assert audited == 1, audit_out
    assert "nj-audit audit (the gate)" in audit_out and "Failed" in audit_out
    assert "gate FAILED (--fail-on fail, policy: pyproject.toml)" in audit_out
    assert "2 institutions, 0 ok, 1 warn, 1 fail" in audit_out
