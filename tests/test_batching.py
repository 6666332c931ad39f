"""Issue 14: small files judged together give exactly what judging each file apart gives, and what
one file holding the same rows in path order gives (corrections across files, ties by path)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.engines import batching, pandas_engine

from builders import VISIT_COLUMNS, timed_visit, write_rows

UPLOADS = ["2022-03-01 10:00:00", "2022-03-01 12:00:00", "2022-03-03 09:00:00"]


def audit(folder: Path, *extra: str) -> dict:
    result = CliRunner().invoke(app, ["audit", str(folder), "--format", "json", "--quiet", *extra])
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)


def audit_plain(folder: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> dict:
    """The way before batching: every file read and judged on its own, chunk by chunk."""
    with monkeypatch.context() as patch:
        patch.setattr(batching, "SMALL_FILE_BYTES", 0)
        patch.setattr(pandas_engine, "SMALL_FILE_BYTES", 0)
        return audit(folder, *extra)


def _row(record: int, upload: int, valid: bool) -> dict[str, str]:
    row = timed_visit(f"R{record}", "2022-03-01 09:00:00", UPLOADS[upload])
    return row if valid else {**row, "sex_code": "7"}


# each file: its rows as (record, upload, valid)
FILES = st.lists(
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 2), st.booleans()), max_size=6),
    min_size=2,
    max_size=6,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(files=FILES, damaged=st.integers(-1, 5))
def test_small_files_batched_equal_each_apart_and_one_file(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    files: list,
    damaged: int,
) -> None:
    """Records corrected across the small files of one batch, ties decided by path order: the
    batch equals each file read apart, the same rows in one file, and the batch spilled under a
    tiny memory limit in chunks of 2 rows. With a damaged file (a row of 3 fields) the batch's
    bodies are parsed one by one; the rows keep their order keys all the same."""
    batch = tmp_path_factory.mktemp("batch")
    whole = tmp_path_factory.mktemp("whole")
    every_row = []
    for number, rows in enumerate(files):  # path order is the files' order
        visits = [_row(*row) for row in rows]
        path = write_rows(batch / f"{number:02d}" / "outpatient_visit.csv", visits)
        every_row += visits
        if number == damaged:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write("a,b,c\n")
    write_rows(whole / "outpatient_visit.csv", every_row)
    batched = audit(batch)
    assert batched == audit_plain(batch, monkeypatch)
    spill = tmp_path_factory.mktemp("spill")
    tiny = ("--memory-limit", "16KiB", "--temp-dir", str(spill), "--chunk-size", "2")
    assert audit(batch, *tiny) == batched
    if not 0 <= damaged < len(files):
        assert batched["institutions"] == audit(whole)["institutions"]


def test_a_record_corrected_in_two_small_files_ties_by_path(tmp_path: Path) -> None:
    """The same record uploaded at the same time in two files: the later path decides."""
    write_rows(tmp_path / "a" / "outpatient_visit.csv", [_row(1, 0, True)])
    write_rows(tmp_path / "b" / "outpatient_visit.csv", [_row(1, 0, False)])
    form = audit(tmp_path)["institutions"][0]["forms"]["outpatient_visit"]
    assert (form["rows"], form["records"], form["valid_records"]) == (2, 1, 0)
    (tmp_path / "b" / "outpatient_visit.csv").rename(tmp_path / "0.csv")
    write_rows(tmp_path / "0" / "outpatient_visit.csv", [_row(1, 0, False)])
    (tmp_path / "0.csv").unlink()
    form = audit(tmp_path)["institutions"][0]["forms"]["outpatient_visit"]
    assert (form["rows"], form["records"], form["valid_records"]) == (2, 1, 1)


def test_quirky_and_unreadable_small_files_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Damaged rows, other headers, CRLF, BOMs, quotes, GB18030, empty and truncated files
    among small files: the same JSON as reading each file apart."""
    good = [_row(n, n % 3, n % 4 != 0) for n in range(5)]
    write_rows(tmp_path / "01" / "outpatient_visit.csv", good)
    text = (tmp_path / "01" / "outpatient_visit.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    (tmp_path / "02").mkdir()
    (tmp_path / "02" / "outpatient_visit.csv").write_text(
        "\n".join([*lines[:3], lines[3] + ",extra", *lines[4:]]) + "\n", encoding="utf-8"
    )  # a row with a field too many
    (tmp_path / "03").mkdir()
    (tmp_path / "03" / "outpatient_visit.csv").write_bytes(text.replace("\n", "\r\n").encode())
    (tmp_path / "04").mkdir()
    (tmp_path / "04" / "outpatient_visit.csv").write_bytes(text.encode("gb18030"))
    (tmp_path / "05").mkdir()
    (tmp_path / "05" / "outpatient_visit.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    (tmp_path / "06").mkdir()
    (tmp_path / "06" / "outpatient_visit.csv").write_text(
        lines[0] + "\n" + lines[1].replace("张三", '"张,三"') + '\n"unclosed\n', encoding="utf-8"
    )
    write_rows(
        tmp_path / "07" / "outpatient_visit.csv",
        [{k: v for k, v in row.items() if k != "doctor_id"} for row in good],
        [c for c in VISIT_COLUMNS if c != "doctor_id"],  # another header
    )
    (tmp_path / "08").mkdir()
    (tmp_path / "08" / "outpatient_visit.csv").write_bytes(b"")  # unreadable: empty
    (tmp_path / "09").mkdir()
    (tmp_path / "09" / "outpatient_visit.csv").write_text(lines[0] + "\n", encoding="utf-8")
    write_rows(tmp_path / "10" / "outpatient_visit.csv", good)
    (tmp_path / "11").mkdir()
    packed = gzip.compress(text.encode() * 400, mtime=0)
    (tmp_path / "11" / "outpatient_visit.csv.gz").write_bytes(packed[: len(packed) // 2])
    batched = audit(tmp_path)
    assert [u["reason"] for u in batched["unreadable"]] == ["no_header", "truncated"]
    assert batched == audit_plain(tmp_path, monkeypatch)
    for size in ("1", "4"):
        assert audit(tmp_path, "--chunk-size", size) == batched
