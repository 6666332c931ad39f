"""The built wheel, installed outside the repository, holds every bundled schema: `--schema
bookings` (and the other tables' names) work from any folder (issue 19). Run alone with
`pytest -m wheel`; it builds the wheel once (~20 s)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `nj-audit` script of a fresh venv into which only the wheel was installed (its
    dependencies are the running venv's: nothing is downloaded)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"  # a copy: the build's own folders never land in the checkout
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("nj_audit", "schemas"):
        shutil.copytree(ROOT / folder, source / folder, ignore=skip)
    wheels = base / "dist"
    subprocess.run(  # setuptools of the test extras: no download, no isolated build env
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("nj_audit-*.whl")
    env = base / "venv"
    venv.create(env, with_pip=False)
    python = env / "bin" / "python"
    # the running venv's packages (pandas, pandera...) as plain paths: unlike
    # --system-site-packages, this does not run their .pth files, so an editable install of the
    # checkout cannot shadow the wheel
    own = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    paths = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    Path(own, "running-venv.pth").write_text("\n".join(sorted(paths)) + "\n", encoding="utf-8")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "-q",
            "--force-reinstall",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    return env / "bin" / "nj-audit"


def outside_environment() -> dict[str, str]:
    """The environment without what would lead Python back to the checkout (PYTHONPATH)."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NJ_AUDIT_LANG")}


def run_outside(script: Path, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = outside_environment()
    return subprocess.run(
        [str(script), *args],
        cwd=folder,
        capture_output=True,
        text=True,
        env=environment | {"LANG": "C.UTF-8", "COLUMNS": "200", "NO_COLOR": "1"},
        timeout=120,
    )


def test_bundled_schemas_by_name_from_an_installed_wheel(installed: Path, tmp_path: Path) -> None:
    samples = tmp_path / "samples"
    samples.mkdir()
    for name in ("bookings_2022.csv", "online_bookings_2022.csv", "hotline_2022.csv"):
        shutil.copy(ROOT / "samples" / name, samples / name)
    where = run_outside(installed, tmp_path, "--version")
    assert where.returncode == 0, where.stderr
    located = subprocess.run(
        [str(installed.parent / "python"), "-c", "import nj_audit; print(nj_audit.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, check=True, env=outside_environment(),
    )  # fmt: skip
    assert not located.stdout.startswith(str(ROOT)), located.stdout  # the wheel, not the checkout
    for schema, sample in [("bookings", "bookings_2022.csv"),
                           ("online_bookings", "online_bookings_2022.csv"),
                           ("hotline", "hotline_2022.csv")]:  # fmt: skip
        result = run_outside(
            installed, tmp_path, "validate", f"samples/{sample}", "--schema", schema
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "valid: all" in result.stdout
    listed = run_outside(installed, tmp_path, "schemas", "list")
    assert listed.returncode == 0, listed.stderr
    for name in ("bookings", "summary", "online_bookings", "hotline", "outpatient_visit"):
        assert name in listed.stdout
    (samples / "hotline_2022.csv").write_text(
        "地区,接听电话人次\n南京市,5356032\n苏州市,361219\n南通市,8569\n全省合计,5725819\n",
        encoding="utf-8",
    )
    broken = run_outside(
        installed, tmp_path, "validate", "samples/hotline_2022.csv", "--schema", "hotline"
    )
    assert broken.returncode == 1
    assert "samples/hotline_2022.csv:5" in broken.stdout
    assert "expected 5725820, found 5725819" in broken.stdout


def test_the_html_report_from_an_installed_wheel(installed: Path, tmp_path: Path) -> None:
    """The page's template, styles and script are package data of the wheel."""
    shutil.copytree(ROOT / "samples" / "batch", tmp_path / "batch")
    result = run_outside(installed, tmp_path, "audit", "batch", "-o", "report.html")
    assert result.returncode == 1, result.stderr  # the samples fail the gate
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<script>" in page and "<style>" in page
