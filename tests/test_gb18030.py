"""GB18030 read as it is (reading/gb18030.py): a large file's blocks are parsed without decoding
them and only the columns with a non-ASCII byte are transcoded. The plain way it stands in for is
the same rows written in UTF-8: the chunks (values, lines, damage) must be the same, and a file
with bytes that do not decode must stop at the same line with the same message as when every
block is transcoded whole."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nj_audit.errors import UnreadableFile
from nj_audit.reading import blocks, gb18030, read_chunks
from nj_audit.reading import csv as reading_csv
from nj_audit.schemas import expected_columns

from builders import csv_text, valid_row

FORM = "outpatient_visit"
# names a GB18030 export holds: common characters, fullwidth punctuation, Latin letters with
# marks, characters written in four bytes (CJK extension A, beyond the BMP), quotes and commas
NAMES = st.text(alphabet="张王李赵丽华伟芳·（），é㐀𠀀😀\"', ab", min_size=0, max_size=6)


def _read_all(path: Path, encoding: str | None) -> tuple[pd.DataFrame, list[int], list]:
    frames, lines, damage, offset = [], [], [], 0
    for chunk in read_chunks(path, encoding, 1000, expected_columns(FORM, path)):
        frames.append(chunk.frame)
        lines.extend(chunk.lines.tolist())
        damage.extend((offset + row, problem) for row, problem in sorted(chunk.damage.items()))
        offset += len(chunk.frame)
    return pd.concat(frames, ignore_index=True), lines, damage


def _assert_read_as_in_utf8(folder: Path, rows: list[dict[str, str]], encoding: str | None) -> None:
    """The rows written in GB18030 read (with `encoding`) as the same rows written in UTF-8."""
    text = csv_text(rows, None, "\n")
    gb, utf8 = folder / "gb" / f"{FORM}.csv", folder / "u8" / f"{FORM}.csv"
    for path, codec in ((gb, "gb18030"), (utf8, "utf-8")):
        path.parent.mkdir()
        path.write_bytes(text.encode(codec))
    frame, lines, damage = _read_all(gb, encoding)
    plain_frame, plain_lines, plain_damage = _read_all(utf8, None)
    pd.testing.assert_frame_equal(frame, plain_frame)
    assert (lines, damage) == (plain_lines, plain_damage)


@pytest.fixture
def large_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files count as large past 512 bytes (a small file's body is parsed with others, as UTF-8),
    and are read 300 bytes at a time, so that a few rows make many blocks."""
    monkeypatch.setattr(reading_csv, "SAMPLE_BYTES", 512)
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 300)


def _rows(names: list[str]) -> list[dict[str, str]]:
    return [
        valid_row(FORM, record_id=f"MZ{n:04d}", name=name)
        for n, name in enumerate(["张三", *names])  # the first: GB18030 is detected from it
    ]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(NAMES, min_size=1, max_size=40), st.sampled_from([None, "gb18030"]))
def test_gb18030_read_as_it_is_equals_the_same_rows_in_utf8(
    tmp_path_factory: pytest.TempPathFactory,
    large_files: None,
    names: list[str],
    encoding: str | None,
) -> None:
    _assert_read_as_in_utf8(tmp_path_factory.mktemp("gb"), _rows(names), encoding)


@pytest.mark.parametrize(
    "trouble",
    [
        "a\ufeffb",  # a byte order mark inside a value: a damaged row, as in UTF-8
        "a\rb",  # a bare CR inside a row
        '"unclosed',  # a quote left open
        "a\x00b",  # a NUL byte
    ],
)
def test_a_block_with_a_quirk_is_read_the_usual_way(
    tmp_path: Path, large_files: None, trouble: str
) -> None:
    _assert_read_as_in_utf8(tmp_path, _rows(["李四"] * 20 + [trouble] + ["王五"] * 20), None)


@pytest.mark.parametrize("encoding", [None, "gb18030"])
@pytest.mark.parametrize("at", [5, 30])
def test_bytes_that_do_not_decode_stop_at_the_same_line_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoding: str | None, at: int
) -> None:
    """The same file read as it is and (the plain way) with every block transcoded whole."""
    rows = _rows(["李四"] * 40)
    data = csv_text(rows, None, "\n").encode("gb18030").split(b"\n")
    data[at] = data[at].replace("李四".encode("gb18030"), b"\x81\x20")  # a lead byte, then a space
    path = tmp_path / f"{FORM}.csv"
    path.write_bytes(b"\n".join(data))

    def outcome() -> tuple[str, int | None, str, int]:
        read = 0
        with pytest.raises(UnreadableFile) as failure:
            for chunk in read_chunks(path, encoding, 1000, expected_columns(FORM, path)):
                read += chunk.rows
        return failure.value.message, failure.value.line, failure.value.reason, read

    monkeypatch.setattr(reading_csv, "SAMPLE_BYTES", 512)
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 300)
    as_it_is = outcome()
    monkeypatch.setattr(gb18030, "plain", lambda block: False)  # every block transcoded whole
    assert as_it_is == outcome()
    assert as_it_is[1] == at + 1


def test_only_columns_with_non_ascii_bytes_are_transcoded() -> None:
    import pyarrow as pa

    codes = pa.array(["MZ1", "MZ2"], pa.large_string())
    assert gb18030.utf8_values(codes) is codes  # ASCII: the same bytes, not copied
    names = ["张三", "", "é", "😀", "a,b"]
    raw = pa.array([n.encode("gb18030") for n in names], pa.large_binary()).view(pa.large_string())
    assert gb18030.utf8_values(raw).to_pylist() == names
    undecodable = pa.array([b"\x81 "], pa.large_binary()).view(pa.large_string())
    assert gb18030.utf8_values(undecodable) is None


def _audit(folder: Path) -> dict:
    import json

    from typer.testing import CliRunner

    from nj_audit.cli import app

    result = CliRunner().invoke(app, ["audit", str(folder), "--format", "json", "--quiet"])
    assert result.exit_code in (0, 1), result.stderr
    document = json.loads(result.stdout)
    for item in document["unreadable"]:  # the folders differ; the files' names do not
        item["file"] = Path(item["file"]).name
    return document


@pytest.mark.parametrize(
    "files",
    [
        {"a": ["张三", "李四", "é"], "b": ["㐀𠀀", "😀", ""], "c": ["（王五）", "赵·六"]},
        {"a": ["张三"], "b": ["王五", "a\ufeffb"]},  # a byte order mark inside a value
        {"a": ["张三"], "b": ["王五", "a,b"]},  # a row of the wrong shape: 14 fields
    ],
)
def test_small_gb18030_files_batched_raw_equal_the_same_files_in_utf8(
    tmp_path: Path, files: dict[str, list[str]]
) -> None:
    """Small GB18030 files are read raw and their bodies parsed together (joining.py); when one
    of them holds a byte order mark or a damaged row, each is read on its own; the rows and the
    audit are those of the same files in UTF-8."""
    for codec, folder in (("gb18030", tmp_path / "gb"), ("utf-8", tmp_path / "u8")):
        for number, (stem, names) in enumerate(files.items()):
            rows = [
                valid_row(FORM, record_id=f"MZ{number}{n:03d}", name=name)
                for n, name in enumerate(["张三", *names])
            ]
            path = folder / stem / f"{FORM}.csv"
            path.parent.mkdir(parents=True)
            path.write_bytes(csv_text(rows, None, "\n").encode(codec))
    assert _audit(tmp_path / "gb") == _audit(tmp_path / "u8")
    gb_frame, gb_lines = _batched(tmp_path / "gb")
    u8_frame, u8_lines = _batched(tmp_path / "u8")
    pd.testing.assert_frame_equal(gb_frame, u8_frame)
    assert gb_lines == u8_lines


def _batched(folder: Path) -> tuple[pd.DataFrame, list[int]]:
    """The rows of a folder's small files as the batching reader gives them."""
    from nj_audit.engines.batching import read_whole
    from nj_audit.reading import discover
    from nj_audit.requests import AuditRequest

    files = discover([folder], None, ()).files
    frames, lines = [], []
    for read in read_whole(list(enumerate(files)), AuditRequest(paths=[folder]), 1000):
        for chunk in read.parse().chunks:
            frames.append(chunk.frame)
            lines.extend(chunk.lines.tolist())
    return pd.concat(frames, ignore_index=True), lines


def test_a_small_file_is_read_raw_only_when_detection_decoded_all_of_it() -> None:
    whole = "org,名字\n1,张三\n".encode("gb18030")
    assert gb18030.small_file_known(whole, None, "gb18030")
    assert not gb18030.small_file_known(whole, "gb18030", "gb18030")  # --encoding: not decoded
    assert not gb18030.small_file_known(whole[:-2], None, "gb18030")  # ends inside a character
    assert not gb18030.small_file_known(whole, None, "utf-8")
