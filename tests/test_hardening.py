"""Input the audit cannot run on: exit 2 and one clear line on stderr naming the file (and line),
never a traceback; and outputs that are safe to open (no formulas, no overwritten inputs). One file
given alone that cannot be read is "could not run"; the same file in a batch is a finding
(tests/test_hostile.py)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.codes import gb32100_check_char
from nj_audit.reading import encoding

from builders import SPEC_COLUMNS, visit

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
COLUMNS = list(SPEC_COLUMNS["outpatient_visit"])
runner = CliRunner()


def org_code(n: int = 466000000) -> str:
    first17 = f"12320100{n:09d}"
    return first17 + gb32100_check_char(first17)


def visit_row(n: int, org: str | None = None, **changes: str) -> dict[str, str]:
    return visit(n, org_code=org or org_code(), **changes)


def write_visits(path: Path, rows: list[dict[str, str]]) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def assert_one_error_line(result, *names: str) -> str:  # type: ignore[no-untyped-def]
    """Exit 2, nothing on stdout, one `error:` line on stderr naming each of `names`."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("error: "), line
    assert "Traceback" not in result.stderr and "internal error" not in line, line
    for name in names:
        assert name in line, (name, line)
    return line


# -- the could-not-run corpus -----------------------------------------------------------------

CORPUS = [
    # (id, arguments after the command, text the one line must hold)
    ("empty file", ["outpatient_visit_empty.csv"], ["outpatient_visit_empty.csv", "empty"]),
    (
        "binary junk",
        ["outpatient_visit_binary_junk.csv"],
        ["outpatient_visit_binary_junk.csv", "binary"],
    ),
    (
        "truncated gz",
        ["outpatient_visit_truncated.csv.gz"],
        ["outpatient_visit_truncated.csv.gz", "truncated"],
    ),
    (
        "corrupt parquet",
        ["outpatient_visit_corrupt.parquet"],
        ["outpatient_visit_corrupt.parquet", "Parquet"],
    ),
    (
        "undecodable under --encoding",
        ["outpatient_visit_gb18030.csv", "--encoding", "utf-8"],
        ["outpatient_visit_gb18030.csv:2:", "utf-8"],
    ),
    (
        "unknown --encoding",
        ["outpatient_visit_gb18030.csv", "--encoding", "klingon"],
        ["--encoding", "klingon"],
    ),
    (
        "duplicate header names",
        ["outpatient_visit_duplicate_header.csv"],
        ["outpatient_visit_duplicate_header.csv:1:", "duplicate", "record_id"],
    ),
    (
        "header of no column",
        ["outpatient_visit_foreign_header.csv"],
        ["outpatient_visit_foreign_header.csv:1:", "no column"],
    ),
    (
        "blank first line",
        ["outpatient_visit_blank_first_line.csv"],
        ["outpatient_visit_blank_first_line.csv:1:", "header"],
    ),
    ("folder with no matching file", ["no_form_folder"], ["no_form_folder", "matches a form"]),
    ("missing path", ["no_such_upload.csv"], ["no_such_upload.csv", "no such file"]),
]


@pytest.mark.parametrize("command", ["validate", "audit"])
@pytest.mark.parametrize(("case", "args", "expected"), CORPUS, ids=[c[0] for c in CORPUS])
def test_could_not_run_corpus(
    command: str, case: str, args: list[str], expected: list[str], monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(HOSTILE)
    result = runner.invoke(app, [command, *args, "--quiet"])
    assert_one_error_line(result, *expected)


def test_header_matching_no_column_of_the_forced_form(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("称呼,年龄\n王芳,32\n", encoding="utf-8")  # 姓名 would be `name`'s label
    result = runner.invoke(app, ["validate", str(path), "--form", "outpatient_visit"])
    assert_one_error_line(result, "export.csv:1:", "no column")


def test_binary_junk_in_the_middle_of_a_folder_is_a_finding_naming_its_file(
    tmp_path: Path,
) -> None:
    write_visits(tmp_path / "outpatient_visit_a.csv", [visit_row(1)])
    shutil.copy(HOSTILE / "outpatient_visit_binary_junk.csv", tmp_path / "outpatient_visit_b.csv")
    result = runner.invoke(app, ["audit", str(tmp_path), "--quiet", "--format", "json"])
    assert result.exit_code == 1, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("warning: ") and "outpatient_visit_b.csv" in line and "binary" in line
    document = json.loads(result.stdout)
    assert [u["reason"] for u in document["unreadable"]] == ["binary"]
    assert sum(i["rows_uploaded"] for i in document["institutions"]) == 1  # file a audited


@pytest.mark.parametrize("command", ["validate", "audit"])
def test_unreadable_file(command: str, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = write_visits(tmp_path / "outpatient_visit.csv", [visit_row(1)])

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(encoding, "open", refuse, raising=False)
    result = runner.invoke(app, [command, str(path)])
    assert_one_error_line(result, "outpatient_visit.csv", "permission denied")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file_by_permissions(tmp_path: Path) -> None:
    path = write_visits(tmp_path / "outpatient_visit.csv", [visit_row(1)])
    path.chmod(0)
    try:
        result = runner.invoke(app, ["audit", str(path)])
    finally:
        path.chmod(0o644)
    assert_one_error_line(result, "outpatient_visit.csv", "cannot open")


def test_a_folder_named_like_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "outpatient_visit.csv"
    folder.mkdir()
    (folder / "inner.txt").write_text("x")
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert_one_error_line(result, str(tmp_path))


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--period", "2022-13", "period"),
        ("--period", "2022-06-30:2022-01-01", "period"),
        ("--period", "last year", "period"),
        ("--window", "soon", "window"),
        ("--window", "-5h", "window"),
        ("--window", "1.5s", "window"),
        ("--policy", str(HOSTILE / "no_such_policy.toml"), "no_such_policy.toml"),
        ("--policy", str(HOSTILE / "policy_unknown_key.toml"), "coverge"),
        ("--policy", str(HOSTILE / "policy_bad_type.toml"), "policy_bad_type.toml"),
        ("--policy", str(HOSTILE / "policy_bad_window.toml"), "policy_bad_window.toml"),
        ("--policy", str(HOSTILE / "policy_not_toml.toml"), "policy_not_toml.toml"),
        ("--sort", "nonsense", "sort"),
        ("--form", "outpatient_vist", "outpatient_vist"),
        ("--registry", str(HOSTILE / "no_such_registry.csv"), "no_such_registry.csv"),
    ],
)
def test_bad_arguments(option: str, value: str, expected: str, tmp_path: Path) -> None:
    path = write_visits(tmp_path / "outpatient_visit.csv", [visit_row(1)])
    result = runner.invoke(app, ["audit", str(path), option, value])
    assert_one_error_line(result, expected)


def test_ill_typed_policy_keys_in_pyproject(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = write_visits(tmp_path / "outpatient_visit.csv", [visit_row(1)])
    (tmp_path / "pyproject.toml").write_text(
        '[tool.nj-audit]\ncoverage_min_records = "many"\n', encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["audit", str(path)])
    assert_one_error_line(result, "pyproject.toml", "coverage_min_records")


def test_header_only_file_is_zero_rows_which_fails_unless_allowed(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """No data row at all is not a pass (exit 1, `no data rows were read`) whatever --fail-on says,
    unless --allow-empty; it is not an error either (exit 2 is for runs that cannot run)."""
    monkeypatch.chdir(HOSTILE)
    for command in ("validate", "audit"):
        args = [command, "outpatient_visit_header_only.csv", "--format", "json"]
        if command == "audit":
            args += ["--fail-on", "never"]
        empty = runner.invoke(app, args)
        assert empty.exit_code == 1, empty.stderr
        document = json.loads(empty.stdout)
        assert document.get("rows", 0) == 0 and document.get("institutions", []) == []
        assert document["valid" if command == "validate" else "passed"] is False
        allowed = runner.invoke(app, [*args, "--allow-empty"])
        assert allowed.exit_code == 0, allowed.stderr
        assert "no data rows were read" in empty.stderr


def test_file_names_with_markup_characters_are_shown_as_they_are(tmp_path: Path) -> None:
    """The error line is text, not rich markup: `[red]` stays and `[/x]` does not crash."""
    folder = tmp_path / "a[" / "x]"
    folder.mkdir(parents=True)
    missing = folder / "outpatient_visit_[red].csv"
    result = runner.invoke(app, ["audit", str(missing)])
    assert_one_error_line(result, "outpatient_visit_[red].csv", "a[/x]")


@pytest.mark.parametrize(
    "name",
    [
        "outpatient_visit_binary_junk.csv",
        "outpatient_visit_truncated.csv.gz",
        "outpatient_visit_duplicate_header.csv",
    ],
)
def test_no_traceback_for_real(name: str) -> None:
    """A real process: stderr is the one line, whatever the CliRunner does with exceptions."""
    result = subprocess.run(
        [sys.executable, "-m", "nj_audit", "audit", str(HOSTILE / name), "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and name in lines[0], result.stderr


def test_errors_are_one_line_even_when_the_message_is_not() -> None:
    from nj_audit.errors import InputError

    error = InputError("first\nsecond\r\n  third", Path("dir/outpatient\nvisit.csv"), 3)
    assert "\n" not in str(error) and "\r" not in str(error)
    assert str(error) == "dir/outpatient\\nvisit.csv:3: first second third"


# -- safe outputs -----------------------------------------------------------------------------


def snapshot(paths: list[Path]) -> dict[Path, tuple[bytes, int]]:
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}


def test_output_that_would_overwrite_an_input_is_refused(tmp_path: Path) -> None:
    path = write_visits(tmp_path / "outpatient_visit.csv", [visit_row(1)])
    registry = tmp_path / "registry.csv"
    registry.write_text(f"org_code,name,district\n{org_code()},某医院,玄武区\n", encoding="utf-8")
    before = snapshot([path, registry])
    for target in (path, registry, tmp_path / "." / "outpatient_visit.csv"):
        result = runner.invoke(
            app,
            [
                "audit",
                str(path),
                "--registry",
                str(registry),
                "--format",
                "csv",
                "--output",
                str(target),
            ],
        )
        assert_one_error_line(result, "overwrite")
    folder_run = runner.invoke(
        app, ["audit", str(tmp_path), "--format", "json", "--output", str(path)]
    )
    assert_one_error_line(folder_run, "overwrite")
    failures_run = runner.invoke(app, ["validate", str(path), "--failures", str(path)])
    assert_one_error_line(failures_run, "overwrite")
    assert snapshot([path, registry]) == before


def test_failures_file_that_would_overwrite_the_schema_is_refused(tmp_path: Path) -> None:
    from nj_audit.schemas import schema_path

    path = write_visits(tmp_path / "bookings.csv", [visit_row(1)])
    schema = tmp_path / "bookings.yaml"
    schema.write_text(schema_path("outpatient_visit").read_text(encoding="utf-8"), encoding="utf-8")
    before = snapshot([path, schema])
    result = runner.invoke(
        app, ["validate", str(path), "--schema", str(schema), "--failures", str(schema)]
    )
    assert_one_error_line(result, "overwrite")
    assert snapshot([path, schema]) == before


def test_inputs_are_never_written(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    rows = [visit_row(n, diagnosis_code="=1+1" if n == 2 else "J06.900") for n in range(6)]
    path = write_visits(uploads / "outpatient_visit.csv", rows)
    registry = tmp_path / "registry.csv"
    registry.write_text(f"org_code,name,district\n{org_code()},某医院,玄武区\n", encoding="utf-8")
    policy = tmp_path / "policy.toml"
    policy.write_text("[outpatient_rate]\nwarn = 0.5\nfail = 0.4\n", encoding="utf-8")
    inputs = [path, registry, policy]
    before = snapshot(inputs)
    out = tmp_path / "out"
    out.mkdir()
    for fmt in ("table", "json", "csv", "markdown", "junit"):
        args = [
            "audit",
            str(uploads),
            "--registry",
            str(registry),
            "--policy",
            str(policy),
            "--format",
            fmt,
        ]
        assert runner.invoke(app, [*args, "--output", str(out / f"audit.{fmt}")]).exit_code in (
            0,
            1,
        )
        assert runner.invoke(app, args).exit_code in (0, 1)
    result = runner.invoke(app, ["validate", str(uploads), "--failures", str(out / "failures.csv")])
    assert result.exit_code == 1, result.stderr
    assert snapshot(inputs) == before
    assert sorted(p.name for p in uploads.iterdir()) == ["outpatient_visit.csv"]


FORMULA_STARTS = ("=", "+", "-", "@")


def csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_csv_report_cells_are_neutralised(tmp_path: Path) -> None:
    codes = ['=HYPERLINK("http://x")', "+1-1", "-2+3", "@SUM(A1)"]
    rows = [visit_row(n, org=code) for n, code in enumerate(codes)]
    path = write_visits(tmp_path / "outpatient_visit.csv", rows)
    registry = tmp_path / "registry.csv"
    registry.write_text(
        "org_code,name,district\n"
        + "".join(f'"{c.replace(chr(34), chr(34) * 2)}",=cmd|calc,@district\n' for c in codes),
        encoding="utf-8",
    )
    for lang in ("en", "zh"):
        for extra in ([], ["--by", "district"]):
            result = runner.invoke(
                app,
                [
                    "audit",
                    str(path),
                    "--registry",
                    str(registry),
                    "--format",
                    "csv",
                    "--lang",
                    lang,
                    *extra,
                ],
            )
            assert result.exit_code in (0, 1), result.stderr
            cells = csv_cells(result.stdout)
            assert cells, result.stdout
            assert not [c for c in cells if c.startswith(FORMULA_STARTS)], result.stdout


def test_failures_csv_cells_are_neutralised(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rows = [
        visit_row(1, dept_code="=SUM(A1:A99)+cmd|calc!A0"),
        visit_row(2, diagnosis_code="@SUM(1)"),
        visit_row(3, visit_type="-1"),
        visit_row(4, sex_code="+1"),
    ]
    monkeypatch.chdir(tmp_path)
    write_visits(tmp_path / "=outpatient_visit.csv", rows)
    failures = tmp_path / "failures.csv"
    result = runner.invoke(
        app,
        [
            "validate",
            "=outpatient_visit.csv",
            "--form",
            "outpatient_visit",
            "--failures",
            "failures.csv",
        ],
    )
    assert result.exit_code == 1, result.stderr
    cells = csv_cells(failures.read_text(encoding="utf-8"))
    assert len(cells) > 6 * 4
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)], cells


def test_times_out_of_range_are_unreadable_not_a_crash(tmp_path: Path) -> None:
    rows = [
        visit_row(1, event_time="0022-03-01 08:00:00"),
        visit_row(2, upload_time="9999-12-31 23:59:59"),
        visit_row(3, birth_date="0001-01-01"),
        visit_row(4, event_time="022-03-01 08:00:00"),
    ]
    path = write_visits(tmp_path / "outpatient_visit.csv", rows)
    for command in ("validate", "audit"):
        result = runner.invoke(app, [command, str(path), "--format", "json", "--quiet"])
        assert result.exit_code == 1, (result.stderr, repr(result.exception))


def test_a_reader_that_stops_reading_ends_the_run_quietly(tmp_path: Path) -> None:
    """`nj-audit validate ... --failures /dev/stdout | head`: once head has its lines, the run stops
    with exit 1 and says nothing more (no 'internal error', no traceback)."""
    path = write_visits(
        tmp_path / "outpatient_visit.csv", [visit_row(n, sex_code="7") for n in range(20_000)]
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nj_audit",
            "validate",
            str(path),
            "--failures",
            "/dev/stdout",
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()  # like head after its lines
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 1
    assert stderr == ""


@pytest.mark.parametrize("command", ["validate", "audit"])
def test_a_folder_without_uploads_passes_with_allow_empty(command: str, tmp_path: Path) -> None:
    """A day without uploads: with --allow-empty, a folder holding no form's file (empty, or
    only other files) is an empty run that passes (exit 0); without it, nothing could be audited
    (exit 2, the corpus above). A file named on the command line that names no form is an error
    either way."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "others").mkdir()
    (tmp_path / "others" / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    for folder in ("empty", "others"):
        result = runner.invoke(app, [command, str(tmp_path / folder), "--allow-empty"])
        assert result.exit_code == 0, result.output
        assert "no data rows were read" in result.output
        assert runner.invoke(app, [command, str(tmp_path / folder)]).exit_code == 2
    named = runner.invoke(app, [command, str(tmp_path / "others" / "notes.csv"), "--allow-empty"])
    assert_one_error_line(named, "notes.csv", "matches a form")
