"""The hostile corpus (tests/fixtures/hostile, made by make_fixtures.py; large and file-system cases
made here): one test per case, each asserting the exit code, the shape of the message (one line,
naming the file, never a traceback or an `internal error`) and that no input changed.

A file that cannot be read, given alone, is "could not run" (exit 2, one `error:` line); in a batch
it is a finding (exit 1: its institution, or `(unknown)`, fails `unreadable_file`), listed in the
JSON's `unreadable` with its reason and one `warning:` line, and every other file is audited."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.reading import discovery

from builders import (
    CLI_ENV,
    HOSTILE,
    VISIT_HEADER,
    make_org_code,
    snapshot,
    visit_lines,
    write_gzip_bomb,
)

runner = CliRunner(env=CLI_ENV)
GOOD_ORG = make_org_code("12320100466000007")


def one_line(stderr: str, kind: str, *needles: str) -> str:
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"{kind}: "), lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


# -- files that cannot be read ----------------------------------------------------------------


def fifo(folder: Path) -> Path:
    path = folder / "outpatient_visit_pipe.csv"
    os.mkfifo(path)
    return path


def folder_named_like_a_form(folder: Path) -> Path:
    path = folder / "outpatient_visit_export.csv"
    path.mkdir()
    (path / "readme.txt").write_text("an unpacked archive", encoding="utf-8")
    return path


def broken_link(folder: Path) -> Path:
    path = folder / "outpatient_visit_link.csv"
    path.symlink_to(folder / "gone" / "outpatient_visit.csv")
    return path


def long_header(folder: Path) -> Path:
    path = folder / "outpatient_visit_wide.csv"
    path.write_bytes(b"org_code," + b"x" * (1 << 20) + b"\n")
    return path


def line_bomb(folder: Path) -> Path:
    return write_gzip_bomb(folder / "outpatient_visit_bomb.csv.gz", 32, b"x" * (1 << 22))


def copied(name: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        return Path(shutil.copy(HOSTILE / name, folder / name))

    return make


UNREADABLE = [
    # (case, how the file is made, reason, words of the message, extra options)
    ("empty file", copied("outpatient_visit_empty.csv"), "no_header", ["empty"], []),
    ("blank first line", copied("outpatient_visit_blank_first_line.csv"), "no_header", [], []),
    ("binary junk", copied("outpatient_visit_binary_junk.csv"), "binary", ["binary"], []),
    ("truncated gzip", copied("outpatient_visit_truncated.csv.gz"), "truncated", [], []),
    ("corrupt parquet", copied("outpatient_visit_corrupt.parquet"), "corrupt", ["Parquet"], []),
    (
        "duplicate header names",
        copied("outpatient_visit_duplicate_header.csv"),
        "duplicate_column",
        ["record_id"],
        [],
    ),
    (
        "header of no column",
        copied("outpatient_visit_foreign_header.csv"),
        "no_known_column",
        ["3 fields"],
        [],
    ),
    (
        "headerless upload",
        copied("outpatient_visit_headerless.csv"),
        "no_known_column",
        ["13 fields"],
        [],
    ),
    (
        "headerless archive",
        copied("health_record_headerless.csv"),
        "no_known_column",
        ["9 fields"],
        [],
    ),
    ("UTF-16 with BOM", copied("outpatient_visit_utf16_bom.csv"), "undecodable", ["UTF-16"], []),
    (
        "UTF-16 without BOM",
        copied("outpatient_visit_utf16_no_bom.csv"),
        "undecodable",
        ["UTF-16", "without a BOM"],
        [],
    ),
    (
        "UTF-16 big-endian without BOM",
        copied("outpatient_visit_utf16be_no_bom.csv"),
        "undecodable",
        ["UTF-16 (big-endian)"],
        [],
    ),
    ("UTF-32", copied("outpatient_visit_utf32.csv"), "undecodable", ["UTF-32"], []),
    (
        "UTF-32 without BOM",
        copied("outpatient_visit_utf32_no_bom.csv"),
        "undecodable",
        ["UTF-32"],
        [],
    ),
    (
        "CR-only line ends",
        copied("outpatient_visit_cr_only.csv"),
        "cr_line_ends",
        ["CR-only line ends"],
        [],
    ),
    (
        "GB18030 then UTF-8",
        copied("outpatient_visit_gb18030_then_utf8.csv"),
        "mixed_encoding",
        [":6:", "mixed encodings"],
        [],
    ),
    (
        "UTF-8 then GB18030",
        copied("outpatient_visit_utf8_then_gb18030.csv"),
        "mixed_encoding",
        [":6:", "mixed encodings"],
        [],
    ),
    (
        "undecodable under --encoding",
        copied("outpatient_visit_gb18030.csv"),
        "undecodable",
        [":2:", "utf-8"],
        ["--encoding", "utf-8"],
    ),
    ("header over 1 MiB", long_header, "header_too_long", ["1 MiB"], []),
    ("FIFO named like a form", fifo, "not_a_file", ["FIFO"], []),
    ("folder named like a form", folder_named_like_a_form, "not_a_file", ["folder"], []),
    ("broken link named like a form", broken_link, "not_a_file", ["broken"], []),
    ("gzip bomb", line_bomb, "too_large", ["100 times", "--max-bytes"], []),
]
IDS = [case[0] for case in UNREADABLE]


@pytest.mark.parametrize("command", ["audit", "validate"])
@pytest.mark.parametrize(("case", "make", "reason", "words", "extra"), UNREADABLE, ids=IDS)
def test_an_unreadable_file_alone_cannot_run(
    command: str, case: str, make, reason: str, words: list[str], extra: list[str], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path)
    before = snapshot(tmp_path)
    result = runner.invoke(app, [command, str(path), *extra, "--format", "json"])
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert result.stdout == ""
    one_line(result.stderr, "error", path.name, *words)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(("case", "make", "reason", "words", "extra"), UNREADABLE, ids=IDS)
def test_an_unreadable_file_in_a_batch_is_a_finding(
    case: str, make, reason: str, words: list[str], extra: list[str], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "good").mkdir()
    good = tmp_path / "good" / "outpatient_visit.csv"
    good.write_text(VISIT_HEADER + visit_lines(range(4), GOOD_ORG), encoding="utf-8")
    bad = make(tmp_path)
    before = snapshot(tmp_path)
    result = runner.invoke(app, ["audit", str(tmp_path), *extra, "--format", "json"])
    assert result.exit_code == 1, (result.exit_code, result.stderr)
    one_line(result.stderr, "warning", bad.name, reason, *words)
    document = json.loads(result.stdout)
    assert [(Path(u["file"]).name, u["reason"]) for u in document["unreadable"]] == [
        (bad.name, reason)
    ]
    by_code = {i["org_code"]: i for i in document["institutions"]}
    assert by_code[GOOD_ORG]["rows_uploaded"] == 4  # the rest of the batch is audited
    unknown = by_code["(unknown)"]  # no folder or file name tells whose file it was
    assert [f["flag"] for f in unknown["flags"]] == ["unreadable_file"]
    assert unknown["status"] == "fail" and document["passed"] is False
    validated = runner.invoke(app, ["validate", str(tmp_path), *extra, "--format", "json"])
    assert validated.exit_code == 1, validated.stderr
    assert [u["reason"] for u in json.loads(validated.stdout)["unreadable"]] == [reason]
    assert snapshot(tmp_path) == before


def test_strict_turns_an_unreadable_file_into_could_not_run(tmp_path: Path) -> None:
    (tmp_path / "outpatient_visit.csv").write_text(
        VISIT_HEADER + visit_lines(range(2), GOOD_ORG), encoding="utf-8"
    )
    shutil.copy(HOSTILE / "outpatient_visit_binary_junk.csv", tmp_path / "outpatient_visit_b.csv")
    for command in ("audit", "validate"):
        result = runner.invoke(app, [command, str(tmp_path), "--strict"])
        assert result.exit_code == 2, result.stderr
        one_line(result.stderr, "error", "outpatient_visit_b.csv", "--strict", "binary")


def test_every_file_unreadable_cannot_run_and_lists_them(tmp_path: Path) -> None:
    for name in ("outpatient_visit_binary_junk.csv", "outpatient_visit_cr_only.csv"):
        shutil.copy(HOSTILE / name, tmp_path / name)
    result = runner.invoke(app, ["audit", str(tmp_path), "--format", "json"])
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["warning", "warning", "error"]
    assert "none of the 2 inputs could be read" in lines[-1]


def test_the_institution_of_an_unreadable_file_comes_from_its_folder_or_name(
    tmp_path: Path,
) -> None:
    by_folder = tmp_path / GOOD_ORG / "lab_report.csv.gz"
    by_folder.parent.mkdir()
    shutil.copy(HOSTILE / "outpatient_visit_truncated.csv.gz", by_folder)
    other = make_org_code("12320100466000008")
    by_name = tmp_path / f"outpatient_visit_{other}.csv"
    shutil.copy(HOSTILE / "outpatient_visit_binary_junk.csv", by_name)
    (tmp_path / GOOD_ORG / "outpatient_visit.csv").write_text(
        VISIT_HEADER + visit_lines(range(2), GOOD_ORG), encoding="utf-8"
    )
    result = runner.invoke(app, ["audit", str(tmp_path), "--format", "json"])
    assert result.exit_code == 1, result.stderr
    document = json.loads(result.stdout)
    assert sorted(u["org_code"] for u in document["unreadable"]) == sorted([GOOD_ORG, other])
    flags = {i["org_code"]: [f["flag"] for f in i["flags"]] for i in document["institutions"]}
    assert "unreadable_file" in flags[GOOD_ORG] and "unreadable_file" in flags[other]
    assert "(unknown)" not in flags


def test_rows_before_a_failure_are_audited(tmp_path: Path) -> None:
    import gzip

    data = gzip.compress((VISIT_HEADER + visit_lines(range(20_000), GOOD_ORG)).encode(), mtime=0)
    path = tmp_path / "outpatient_visit.csv.gz"
    path.write_bytes(data[: len(data) * 3 // 4])  # cut: the gzip stream ends early
    result = runner.invoke(app, ["audit", str(path), "--format", "json", "--chunk-size", "1000"])
    assert result.exit_code == 1, result.stderr  # a finding, not "could not run": rows were read
    document = json.loads(result.stdout)
    assert document["unreadable"][0]["reason"] == "truncated"
    rows = {i["org_code"]: i["rows_uploaded"] for i in document["institutions"]}
    assert 0 < rows[GOOD_ORG] < 20_000 and rows["(unknown)"] == 0  # its path names no one


def test_an_unreadable_subfolder_is_an_unreadable_input(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "outpatient_visit.csv").write_text(
        VISIT_HEADER + visit_lines(range(2), GOOD_ORG), encoding="utf-8"
    )
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "lab_report.csv").write_text("never read", encoding="utf-8")
    listing = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return listing(path)

    monkeypatch.setattr(discovery.os, "scandir", scandir)
    result = runner.invoke(app, ["audit", str(tmp_path), "--format", "json"])
    assert result.exit_code == 1, result.stderr
    one_line(result.stderr, "warning", "locked", "permission_denied")
    (finding,) = json.loads(result.stdout)["unreadable"]
    assert finding["reason"] == "permission_denied" and finding["file"].endswith("locked")


# -- damaged rows, not unreadable files -------------------------------------------------------


def validated(path: Path, *extra: str) -> dict:
    before = snapshot(path.parent)
    result = runner.invoke(app, ["validate", str(path), "--format", "json", *extra])
    assert result.exit_code in (0, 1), result.stderr
    assert snapshot(path.parent) == before
    return json.loads(result.stdout)


def test_a_byte_order_mark_inside_the_file_is_damage() -> None:
    report = validated(HOSTILE / "outpatient_visit_bom_mid_file.csv")
    checks = {c["check"]: c for f in report["forms"] for c in f["checks"]}
    assert report["rows"] == 4 and checks["byte_order_mark"]["rows"] == 2
    assert [e["line"] for e in checks["byte_order_mark"]["examples"]] == [4, 5]


def test_a_bare_cr_inside_a_row_is_data_for_both_parsers(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Found by hypothesis (test_fuzz.test_valid_shaped_files): unquoted `\\r` and a quoted
    `"\\n0"` in one row read as two damaged rows. Both parsers now read one row."""
    from nj_audit.reading import csv as reader

    fast = validated(HOSTILE / "outpatient_visit_bare_cr.csv")

    def shape_error(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise reader._ShapeError

    monkeypatch.setattr(reader, "_parse_fast", shape_error)  # the row-by-row parser alone
    slow = validated(HOSTILE / "outpatient_visit_bare_cr.csv")
    assert fast == slow and fast["rows"] == 3
    (check,) = [c for f in fast["forms"] for c in f["checks"]]
    assert check["check"] == "str_matches" and check["examples"][0]["line"] == 2


def test_unused_nested_parquet_columns_are_ignored() -> None:
    report = validated(HOSTILE / "outpatient_visit_nested_extra.parquet")
    assert report["rows"] == 3 and report["invalid_rows"] == 0 and report["valid"] is True
