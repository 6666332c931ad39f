"""Nothing lost: every output is written atomically (a temporary file in the same folder, then
os.replace), so a full disk, a read-only folder, a closed or full stdout, an error or Ctrl-C leave
the previous file exactly as it was, with one clear line and exit 2; an output that is an input is
refused by identity before anything is written; the tool's own outputs lying among the uploads are
never read back."""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nj_audit import atomic
from nj_audit.cli import app

from builders import CLI_ENV, VISIT_HEADER, make_org_code, snapshot, visit_lines

runner = CliRunner(env=CLI_ENV)
ORG = make_org_code("12320100466000009")


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    folder = tmp_path / "uploads"
    folder.mkdir()
    rows = visit_lines(range(6), ORG) + visit_lines(range(6, 8), ORG, sex_code="7")
    (folder / "outpatient_visit.csv").write_text(VISIT_HEADER + rows, encoding="utf-8")
    return folder


def error_line(result, *needles: str) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def no_temporary_files(folder: Path) -> None:
    assert not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


# -- refused by identity ------------------------------------------------------------------------


def test_a_hard_link_or_symlink_to_an_upload_is_refused(uploads: Path, tmp_path: Path) -> None:
    upload = uploads / "outpatient_visit.csv"
    hard, soft = tmp_path / "report.csv", tmp_path / "report.json"
    os.link(upload, hard)
    soft.symlink_to(upload)
    before = snapshot(tmp_path)
    for target in (hard, soft):
        for inputs in ([str(upload)], [str(uploads)]):  # named, or found in a folder
            result = runner.invoke(
                app, ["audit", *inputs, "--format", "csv", "--output", str(target)]
            )
            error_line(result, target.name, "refusing to overwrite")
        result = runner.invoke(app, ["validate", str(uploads), "--failures", str(target)])
        error_line(result, target.name, "refusing to overwrite")
    assert snapshot(tmp_path) == before
    no_temporary_files(tmp_path)


@pytest.mark.parametrize("what", ["registry", "policy", "schema", "pyproject"])
def test_an_output_that_is_a_configuration_input_is_refused(
    what: str, uploads: Path, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from nj_audit.schemas import schema_path

    registry = tmp_path / "registry.csv"
    registry.write_text(f"org_code,name,district\n{ORG},甲医院,玄武区\n", encoding="utf-8")
    policy = tmp_path / "policy.toml"
    policy.write_text('fail_on = "never"\n', encoding="utf-8")
    schema = tmp_path / "visit.yaml"
    schema.write_text(schema_path("outpatient_visit").read_text(encoding="utf-8"), encoding="utf-8")
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.nj-audit]\nfail_on = "never"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    link = tmp_path / "out.csv"
    os.link(
        {"registry": registry, "policy": policy, "schema": schema, "pyproject": pyproject}[what],
        link,
    )
    before = snapshot(tmp_path)
    if what == "schema":
        args = ["validate", str(uploads), "--schema", str(schema), "--failures", str(link)]
    else:
        args = ["audit", str(uploads), "--format", "csv", "--output", str(link)]
        args += {
            "registry": ["--registry", str(registry)],
            "policy": ["--policy", str(policy)],
        }.get(what, [])
    error_line(runner.invoke(app, args), "out.csv", "refusing to overwrite")
    assert snapshot(tmp_path) == before
    no_temporary_files(tmp_path)


def test_the_tools_own_outputs_among_the_uploads_are_never_read_back(uploads: Path) -> None:
    report = uploads / "outpatient_visit_report.csv"  # named like a form, on purpose
    failures = uploads / "outpatient_visit_failures.csv"
    audit = ["audit", str(uploads), "--format", "csv", "--output", str(report)]
    validate = ["validate", str(uploads), "--failures", str(failures), "--format", "json"]
    first = runner.invoke(app, audit)
    assert first.exit_code in (0, 1), first.stderr
    checked = runner.invoke(app, validate)
    assert checked.exit_code == 1, checked.stderr
    written = report.read_text(encoding="utf-8"), failures.read_text(encoding="utf-8")
    again = runner.invoke(app, audit)  # both files are now in the input folder
    assert again.exit_code == first.exit_code and "warning" in again.stderr
    assert report.read_text(encoding="utf-8") == written[0]
    rechecked = runner.invoke(app, validate)
    assert json.loads(rechecked.stdout)["rows"] == json.loads(checked.stdout)["rows"] == 8
    assert failures.read_text(encoding="utf-8") == written[1]


def test_a_report_named_like_a_form_is_skipped_by_its_header(uploads: Path, tmp_path: Path) -> None:
    stray = uploads / "outpatient_visit_last_week.csv"
    result = runner.invoke(app, ["audit", str(uploads), "--format", "csv", "--output", str(stray)])
    assert result.exit_code in (0, 1)
    json_report = uploads / "lab_report_summary.csv"  # a JSON report under a CSV name
    json_report.write_text(runner.invoke(app, ["audit", str(uploads), "--format", "json"]).stdout)
    audited = runner.invoke(app, ["audit", str(uploads), "--format", "json"])
    assert audited.exit_code == result.exit_code, audited.stderr
    warnings = audited.stderr.splitlines()
    assert len(warnings) == 2 and all("a report written by nj-audit" in w for w in warnings)
    document = json.loads(audited.stdout)
    assert document["unreadable"] == [] and document["institutions"][0]["rows_uploaded"] == 8


def test_an_output_that_is_an_upload_found_in_a_folder_is_refused(uploads: Path) -> None:
    upload = uploads / "outpatient_visit.csv"
    before = snapshot(uploads)
    result = runner.invoke(app, ["audit", str(uploads), "--format", "csv", "--output", str(upload)])
    error_line(result, "refusing to overwrite")
    assert snapshot(uploads) == before


# -- failing writes leave the previous file ------------------------------------------------------


def full_disk(after: int):  # type: ignore[no-untyped-def]
    """A write that fails with ENOSPC once `after` characters have been written."""
    written = [0]
    real = atomic.AtomicText.write

    def write(self, text):  # type: ignore[no-untyped-def]
        written[0] += len(text)
        if written[0] > after:
            self._open()
            self.discard()
            raise atomic._failure(
                OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), self.path, False
            )
        return real(self, text)

    return write


@pytest.mark.parametrize("command", ["audit", "validate"])
def test_a_full_disk_leaves_the_previous_output(
    command: str, uploads: Path, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "out" / "previous.csv"
    target.parent.mkdir()
    target.write_text("the previous, complete report\n", encoding="utf-8")
    monkeypatch.setattr(atomic.AtomicText, "write", full_disk(after=40))
    if command == "audit":
        args = ["audit", str(uploads), "--format", "csv", "--output", str(target)]
    else:
        args = ["validate", str(uploads), "--failures", str(target)]
    error_line(runner.invoke(app, args), "previous.csv", "No space left on device", "unchanged")
    assert target.read_text(encoding="utf-8") == "the previous, complete report\n"
    no_temporary_files(target.parent)


def test_a_read_only_folder_leaves_the_previous_output(
    uploads: Path, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "audit.json"
    target.write_text("{}\n", encoding="utf-8")

    def read_only(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    result = runner.invoke(
        app, ["audit", str(uploads), "--format", "json", "--output", str(target)]
    )
    error_line(result, "audit.json", "Read-only file system")
    assert target.read_text(encoding="utf-8") == "{}\n"


def test_a_folder_the_system_will_not_write_is_one_line(uploads: Path) -> None:
    if os.access("/sys", os.W_OK) and Path("/sys/nj-audit-probe").parent.is_dir():
        try:
            Path("/sys/nj-audit-probe").write_text("")
        except OSError:
            pass
        else:  # pragma: no cover - a system that lets anyone write in /sys
            pytest.skip("/sys is writable here")
    result = runner.invoke(
        app, ["audit", str(uploads), "--format", "json", "--output", "/sys/a.json"]
    )
    error_line(result, "/sys/a.json", "cannot write")


def run_cli(*args: str, **options) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    return subprocess.run(
        [sys.executable, "-m", "nj_audit", *args],
        capture_output=options.pop("capture_output", True),
        text=True,
        timeout=120,
        env={**os.environ, **CLI_ENV},
        **options,
    )


def one_error(stderr: str, *needles: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.mark.parametrize("command", ["audit", "validate"])
def test_a_file_size_limit_of_the_system_leaves_the_previous_output(
    command: str, uploads: Path, tmp_path: Path
) -> None:
    """A real failure of write(2) (EFBIG past RLIMIT_FSIZE, what a full disk looks like to the
    process), in a process of its own."""
    target = tmp_path / ("previous.json" if command == "audit" else "previous.csv")
    target.write_text("previous\n", encoding="utf-8")
    big = uploads / "outpatient_visit.csv"
    orgs = [make_org_code(f"123201004660001{n:02d}") for n in range(12)]  # a report of 12 rows
    rows = "".join(
        visit_lines(range(n * 250, n * 250 + 250), org, sex_code="7") for n, org in enumerate(orgs)
    )
    big.write_text(VISIT_HEADER + rows, encoding="utf-8")

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    if command == "audit":
        args = ["audit", str(big), "--format", "json", "--output", str(target)]
    else:
        args = ["validate", str(big), "--failures", str(target), "--quiet"]
    done = run_cli(*args, preexec_fn=limit)
    assert done.returncode == 2, done.stderr
    one_error(done.stderr, target.name, "cannot write")
    assert target.read_text(encoding="utf-8") == "previous\n"
    no_temporary_files(tmp_path)


def test_dev_full_as_output_or_stdout_is_one_line(uploads: Path) -> None:
    for args in (
        ["audit", str(uploads), "--format", "json", "--output", "/dev/full"],
        ["validate", str(uploads), "--failures", "/dev/full"],
    ):
        error_line(runner.invoke(app, args), "/dev/full", "No space left on device")
    for output_format in ("json", "table"):  # stdout itself: a process of its own
        with open("/dev/full", "w") as full:
            done = run_cli(
                "audit",
                str(uploads),
                "--format",
                output_format,
                stdout=full,
                capture_output=False,
                stderr=subprocess.PIPE,
            )
        assert done.returncode == 2, done.stderr
        one_error(done.stderr, "<stdout>", "No space left on device")


def test_a_closed_stdout_is_one_line(uploads: Path) -> None:
    for output_format in ("json", "table"):
        done = run_cli(
            "audit",
            str(uploads),
            "--format",
            output_format,
            capture_output=False,
            stderr=subprocess.PIPE,
            preexec_fn=lambda: os.close(1),
        )
        assert done.returncode == 2, done.stderr
        one_error(done.stderr, "<stdout>", "closed")


def test_an_interrupt_leaves_the_previous_failures_file(tmp_path: Path) -> None:
    """Ctrl-C in the middle of a long validate: the previous --failures file is untouched and no
    partial file is left (today's failures file was truncated at the start)."""
    big = tmp_path / "outpatient_visit.csv"
    big.write_text(VISIT_HEADER + visit_lines(range(60_000), ORG, sex_code="7"), encoding="utf-8")
    failures = tmp_path / "failures.csv"
    failures.write_text("file,line,form,column,check,value\nprevious,1,,,,\n", encoding="utf-8")
    before = failures.read_bytes()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nj_audit",
            "validate",
            str(big),
            "--failures",
            str(failures),
            "--chunk-size",
            "2000",
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **CLI_ENV},
    )
    assert process.stderr is not None
    deadline = threading.Event()
    while not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]:  # writing has begun
        assert process.poll() is None, process.stderr.read()
        deadline.wait(0.02)
    process.send_signal(signal.SIGINT)
    stderr = process.stderr.read()
    assert process.wait(timeout=60) == 2, stderr
    one_error(stderr, "interrupted")
    assert failures.read_bytes() == before
    no_temporary_files(tmp_path)


def test_two_runs_writing_one_output_never_interleave(uploads: Path, tmp_path: Path) -> None:
    big = uploads / "outpatient_visit.csv"
    big.write_text(VISIT_HEADER + visit_lines(range(8000), ORG, sex_code="7"), encoding="utf-8")
    target = tmp_path / "failures.csv"
    command = [sys.executable, "-m", "nj_audit", "validate", str(big), "--failures", str(target)]
    processes = [
        subprocess.Popen(
            [*command, "--quiet", "--chunk-size", "500"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **CLI_ENV},
        )
        for _ in range(2)
    ]
    assert [p.wait(timeout=120) for p in processes] == [1, 1]
    alone = tmp_path / "alone.csv"
    assert runner.invoke(app, ["validate", str(big), "--failures", str(alone)]).exit_code == 1
    assert target.read_bytes() == alone.read_bytes()  # one complete file, not a mix of two
    no_temporary_files(tmp_path)


def test_nothing_is_created_before_the_first_write(tmp_path: Path) -> None:
    sink = atomic.AtomicText(tmp_path / "out.csv")
    assert list(tmp_path.iterdir()) == []
    sink.write("a")
    (temporary,) = tmp_path.iterdir()
    assert temporary.name.startswith(".out.csv.") and temporary.name.endswith(".tmp")
    sink.discard()
    assert list(tmp_path.iterdir()) == []
    with atomic.AtomicText(tmp_path / "out.csv") as sink:
        sink.write("done\n")
    assert (tmp_path / "out.csv").read_text() == "done\n"
    (tmp_path / "out.csv").chmod(0o640)
    atomic.write_text(tmp_path / "out.csv", "again\n")
    assert (tmp_path / "out.csv").stat().st_mode & 0o777 == 0o640  # the replaced file's mode


@pytest.mark.parametrize("output_format", ["json", "csv", "markdown", "junit", "table"])
def test_a_file_no_form_matches_is_a_warning_in_every_format(
    output_format: str, uploads: Path
) -> None:
    """Contract § 2.2: one warning line on stderr per skipped file, whatever the format; the
    JSON document lists it too. The exit code stays the gate's."""
    (uploads / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    plain = runner.invoke(app, ["audit", str(uploads), "--format", "json"])
    result = runner.invoke(app, ["audit", str(uploads), "--format", output_format])
    assert result.exit_code == plain.exit_code in (0, 1)
    warnings = [line for line in result.stderr.splitlines() if "notes.csv" in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning: ")
    assert "no form matches" in warnings[0]
    assert json.loads(plain.stdout)["skipped"] == [str(uploads / "notes.csv")]


def test_output_without_format_writes_there_instead_of_stdout(
    uploads: Path, tmp_path: Path
) -> None:
    """SPEC § 6: `--output FILE` writes there instead of stdout. With --format given too, stdout
    gets that format's report unless a file takes it; --failures is a file beside the report."""
    report = tmp_path / "audit.json"
    alone = runner.invoke(app, ["audit", str(uploads), "-o", str(report)])
    assert alone.exit_code in (0, 1) and alone.stdout == ""
    assert json.loads(report.read_text(encoding="utf-8"))["institutions"]
    both = runner.invoke(app, ["audit", str(uploads), "-o", str(report), "--format", "csv"])
    assert both.stdout.startswith("institution,")  # the csv report on stdout, the JSON in a file
    taken = runner.invoke(app, ["audit", str(uploads), "-o", str(report), "--format", "json"])
    assert taken.stdout == ""
    failures = tmp_path / "failures.csv"
    checked = runner.invoke(app, ["validate", str(uploads), "--failures", str(failures)])
    assert "outpatient_visit" in checked.stdout and failures.exists()
    table = runner.invoke(app, ["validate", str(uploads), "-o", str(tmp_path / "v.json")])
    assert table.stdout == "" and json.loads((tmp_path / "v.json").read_text(encoding="utf-8"))
