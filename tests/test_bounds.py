"""Bounded resources and every error a message: memory stays bounded by the block size whatever the
line length (a 1 GB line, gzip bombs), measured in processes of their own with an RSS ceiling;
and every foreseeable cause of an `internal error` is a one-line message naming what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.reading import limits

from builders import (
    CLI_ENV,
    HOSTILE,
    VISIT_HEADER,
    run_measured,
    snapshot,
    visit_lines,
    write_gzip_bomb,
    write_long_line,
)

runner = CliRunner(env=CLI_ENV)
RSS_CEILING_MIB = 700  # a small file's run takes about 150-250 MiB here


def test_a_1_gb_line_is_one_damaged_row_in_bounded_memory(tmp_path: Path) -> None:
    path = write_long_line(tmp_path / "outpatient_visit.csv", 1 << 30)  # today: 11.8 GB of RSS
    run = run_measured("validate", str(path), "--format", "json")
    assert run.returncode == 1, run.stderr
    assert run.max_rss_mib < RSS_CEILING_MIB, run
    report = json.loads(run.stdout)
    assert report["rows"] == 3 and report["invalid_rows"] == 1  # the rows around it are judged
    (check,) = [c for f in report["forms"] for c in f["checks"]]
    assert check["check"] == "line_too_long" and check["examples"][0]["line"] == 3


def test_a_line_just_over_the_limit_and_one_just_under(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The cut is exact, whatever the blocks: a line of MAX_LINE_BYTES is read, one byte more is
    not (blocks made small so that the line spans many)."""
    from nj_audit.reading import blocks

    monkeypatch.setattr(limits, "MAX_LINE_BYTES", 4096)
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 1000)
    columns = visit_lines(range(2, 3)).rsplit(",", 1)[0] + ","
    for extra, damaged in ((0, False), (1, True)):
        path = tmp_path / f"outpatient_visit_{extra}.csv"
        value = "x" * (4096 - len(columns.encode()) + extra)  # the line: 4096 bytes, then 4097
        path.write_text(VISIT_HEADER + visit_lines(range(1, 2)) + columns + value + "\n"
                        + visit_lines(range(3, 4)), encoding="utf-8")  # fmt: skip
        result = runner.invoke(app, ["validate", str(path), "--format", "json"])
        report = json.loads(result.stdout)
        checks = {c["check"] for f in report["forms"] for c in f["checks"]}
        assert report["rows"] == 3 and ("line_too_long" in checks) == damaged, (extra, checks)


def test_a_gzip_bomb_of_one_long_line_stops_early(tmp_path: Path) -> None:
    """4 MB that expand to one 4 GB line (today: 8.6 GB of RSS, then an internal error)."""
    path = write_gzip_bomb(tmp_path / "outpatient_visit.csv.gz", 256, b"x" * (1 << 24))
    assert path.stat().st_size < 5_000_000
    run = run_measured("audit", str(path), "--format", "json")
    assert run.returncode == 2, run.stderr
    assert run.max_rss_mib < RSS_CEILING_MIB, run
    assert run.stderr.startswith("error: ") and "100 times its size on disk" in run.stderr


def test_a_gzip_bomb_of_identical_rows_stops_early(tmp_path: Path) -> None:
    """Millions of identical rows from a few MB (today: 7.6 GB of RSS): the file stops as
    unreadable once it has expanded a hundredfold; the rows before it are audited."""
    rows = (VISIT_HEADER.split("\n", 1)[1] + visit_lines(range(1, 2)) * 10_000).encode()
    write_gzip_bomb(tmp_path / "outpatient_visit.csv.gz", 3000, rows)  # 4.4 GB of rows
    good = tmp_path / "lab_report.csv"
    good.write_text("org_code,record_id\n", encoding="utf-8")
    run = run_measured("audit", str(tmp_path), "--format", "json")
    assert run.returncode == 1, run.stderr
    assert run.max_rss_mib < RSS_CEILING_MIB, run
    document = json.loads(run.stdout)
    assert document["unreadable"][0]["reason"] == "too_large"


def test_max_bytes_is_a_limit_on_any_file(tmp_path: Path) -> None:
    path = tmp_path / "outpatient_visit.csv"
    path.write_text(VISIT_HEADER + visit_lines(range(2000)), encoding="utf-8")
    small = runner.invoke(app, ["validate", str(path), "--max-bytes", "64KiB"])
    assert small.exit_code == 2 and "--max-bytes (64 KiB)" in small.stderr, small.stderr
    assert runner.invoke(app, ["validate", str(path), "--max-bytes", "1MB"]).exit_code == 0
    bomb = write_gzip_bomb(tmp_path / "lab_report.csv.gz", 40, b"x" * (1 << 22))
    allowed = runner.invoke(app, ["audit", str(bomb), str(path), "--max-bytes", "1GiB"])
    assert allowed.exit_code == 1, allowed.stderr  # read to its end: the long line is damage
    assert "unreadable" not in allowed.stderr


def test_the_default_limit_is_a_hundredfold_for_compressed_files_only(tmp_path: Path) -> None:
    plain, packed = tmp_path / "a.csv", tmp_path / "a.csv.gz"
    plain.write_bytes(b"x" * 1000)
    packed.write_bytes(b"x" * 1000)
    assert limits.check_expansion(plain, 10**12, 1000, None) is None  # plain files: no limit
    limits.check_expansion(packed, limits.EXPANSION_FLOOR, 1000, None)  # under the floor
    with pytest.raises(limits.UnreadableFile):
        limits.check_expansion(packed, limits.EXPANSION_FLOOR + 1, 1000, None)
    limits.check_expansion(packed, 99 * (1 << 30), 1 << 30, None)  # a legit 20-fold stream
    with pytest.raises(limits.UnreadableFile):
        limits.check_expansion(plain, 2001, 2001, 2000)  # --max-bytes: any file


# -- every error is a message -----------------------------------------------------------------

BAD_ARGUMENTS = [
    # (arguments after `audit FILE`, words of the one line)
    *[
        (["--encoding", codec], ["--encoding", codec])
        for codec in (
            "rot13",
            "base64",
            "hex",
            "zlib",
            "bz2",
            "uu",
            "idna",
            "klingon",
            "utf-16",
            "utf-32",
            "unicode_escape",
            "utf-7",
            "cp037",
        )
    ],  # fmt: skip
    (["--window", "106752d"], ["window", "3650 days"]),
    (["--window", "24"], ["window", "unit is required"]),
    (["--window", "0s"], ["window", "longer than 0"]),
    (["--window", "２４h"], ["window"]),
    (["--period", "9999"], ["period", "2261"]),
    (["--period", "2022-01-01:9999-12-31"], ["period", "2261"]),
    (["--period", "２０２２"], ["period"]),
    (["--max-bytes", "lots"], ["--max-bytes"]),
    (["--max-bytes", "0"], ["--max-bytes"]),
    *[
        (["--policy", str(HOSTILE / f"policy_{name}.toml")], [f"policy_{name}.toml", *words])
        for name, words in (
            ("nan_threshold", ["outpatient_rate.warn", "finite"]),
            ("inf_threshold", ["validity.warn", "finite"]),
            ("negative_threshold", ["upload_days.fail", "between 0 and 1"]),
            ("ratio_above_one", ["discharge_rate.warn", "between 0 and 1"]),
            ("fail_above_warn", ["[outpatient_rate]", "fail must be <= warn"]),
            ("coverage_fraction", ["coverage.warn", "whole number"]),
            ("tool_not_a_table", ["tool must be a table"]),
            ("deeply_nested", ["nested too deeply"]),
            ("bare_window", ["window", "duration"]),
        )
    ],
    (
        ["--registry", str(HOSTILE / "registry_duplicate.csv")],
        ["registry_duplicate.csv:4:", "line 2"],
    ),
]


@pytest.mark.parametrize(
    ("args", "words"), BAD_ARGUMENTS, ids=[" ".join(a[0]) for a in BAD_ARGUMENTS]
)
def test_a_bad_argument_is_one_line(args: list[str], words: list[str], tmp_path: Path) -> None:
    path = tmp_path / "outpatient_visit.csv"
    path.write_text(VISIT_HEADER + visit_lines(range(2)), encoding="utf-8")
    before = {**snapshot(tmp_path), **snapshot(HOSTILE)}
    result = runner.invoke(app, ["audit", str(path), *args])
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "internal error" not in lines[0] and "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert {**snapshot(tmp_path), **snapshot(HOSTILE)} == before


def test_the_registry_duplicate_message_quotes_no_data() -> None:
    result = runner.invoke(
        app, ["audit", str(HOSTILE), "--registry", str(HOSTILE / "registry_duplicate.csv")]
    )
    assert "12320100466000003" not in result.stderr and "甲医院" not in result.stderr


def test_a_schema_with_no_columns_is_refused() -> None:
    result = runner.invoke(
        app,
        ["validate", str(HOSTILE / "outpatient_visit_header_only.csv"), "--schema",
         str(HOSTILE / "schema_no_columns.yaml")],
    )  # fmt: skip
    assert (
        result.exit_code == 2
        and "schema_no_columns.yaml: the schema has no columns" in result.stderr
    )


@pytest.mark.parametrize("share", ["1.5", "-0.1", "nan", "inf"])
def test_samples_generate_refuses_shares_outside_0_to_1(share: str, tmp_path: Path) -> None:
    for option in ("--realtime-share", "--invalid-share", "--missed-day-share"):
        result = runner.invoke(app, ["samples", "generate", str(tmp_path / "batch"), option, share])
        assert result.exit_code == 2, result.stderr
        assert (
            result.stderr.startswith(f"error: {option} is a share")
            and result.stderr.count("\n") == 1
        )
    assert not (tmp_path / "batch").exists()


def test_rank_keeps_huge_counts_exact() -> None:
    result = runner.invoke(
        app, ["rank", str(HOSTILE / "summary_huge_counts.csv"), "--format", "json"]
    )
    assert result.exit_code in (0, 1), result.stderr
    (row,) = json.loads(result.stdout)["institutions"]
    assert row["rows_uploaded"] == 9007199254740993  # 2^53 + 1: a float would say ...992
    csv_out = runner.invoke(
        app, ["rank", str(HOSTILE / "summary_huge_counts.csv"), "--format", "csv"]
    )
    assert "123456789012345678" in csv_out.stdout


def test_a_window_far_beyond_any_delay_is_refused_not_overflowed() -> None:
    import numpy as np

    from nj_audit.metrics import realtime_rows
    from nj_audit.period import MAX_WINDOW_DAYS, parse_window

    window = parse_window(f"{MAX_WINDOW_DAYS}d")
    event = np.array([0], dtype=np.int64)
    upload = np.array([window * 10**9], dtype=np.int64)
    assert realtime_rows(event, upload, window).tolist() == [True]  # no int64 overflow
