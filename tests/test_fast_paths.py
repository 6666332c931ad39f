"""The speed paths (issue 5) give exactly the answers of the plain ones they stand in for.

Each fast path has a slower, simpler twin that is the reference here: the record-id hash and the
repeated-key search, times parsed by arrow in one pass against value by value, checks run on a
column's distinct values against every row, blocks cut without a quote scan against blocks cut
with one, and the reading thread typing a chunk or leaving it to the judging thread.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nj_audit import conversion, rules
from nj_audit.checks.calling import PANDERA_CHECKS, Calling
from nj_audit.checks.upload import no_whitespace
from nj_audit.conversion import parse_times
from nj_audit.engines.pandas_engine import Collector
from nj_audit.hashing import text_hashes
from nj_audit.metrics import repeated_keys
from nj_audit.policy import Policy
from nj_audit.readahead import prefetched
from nj_audit.reading import MAX_FIELD_CHARS, Chunk, InputFile, blocks, read_chunks
from nj_audit.results import MISSING_ORG
from nj_audit.rules import TypedChunk, judge, type_frame
from nj_audit.schemas import expected_columns, load_schema

from builders import ID_CARD, ORG_CODE, SPEC_COLUMNS, valid_row, write_csv

# -- record-id hashes ------------------------------------------------------------------------------


def test_same_text_same_hash_wherever_it_is() -> None:
    texts = [
        "MZ1",
        "",
        None,
        "MZ1",
        "长字符串😀",
        "x" * 100,
        "abcdefgh",
        "abcdefgh\x00",
        "MZ10",
        "MZ1 ",
    ]
    hashes = text_hashes(pa.array(texts))
    assert hashes[0] == hashes[3] and hashes[1] == hashes[2]  # missing hashes as ""
    assert len(set(hashes.tolist())) == len(texts) - 2
    assert (
        text_hashes(pa.array(texts).slice(3)) == hashes[3:]
    ).all()  # a slice (offset into buffers)
    assert (text_hashes(pa.chunked_array([texts[:4], texts[4:]])) == hashes).all()
    assert (text_hashes(pa.array(texts, pa.large_string())) == hashes).all()
    assert len(text_hashes(pa.array([], pa.string()))) == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=60))
def test_hash_depends_on_the_text_alone(texts: list[str]) -> None:
    hashes = text_hashes(pa.array(texts)).tolist()
    alone = [
        int(text_hashes(pa.array([t]))[0]) for t in texts
    ]  # one length per call: the other grouping
    assert hashes == alone
    assert len(set(hashes)) == len(set(texts))


def test_a_million_record_ids_do_not_collide() -> None:
    ids = pa.array(
        [f"MZ2022{n:012d}" for n in range(1_000_000)] + [f"R{n}" for n in range(100_000)]
    )
    assert len(np.unique(text_hashes(ids))) == len(ids)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=30), max_size=200))
def test_repeated_keys_is_duplicated_keep_false(keys: list[int]) -> None:
    array = np.asarray(keys, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    expected = pd.Series(array).duplicated(keep=False).to_numpy()
    assert (repeated_keys(array) == expected).all()


# -- times -----------------------------------------------------------------------------------------


def _value_by_value(
    series: pd.Series, date_only: bool, monkeypatch: pytest.MonkeyPatch
) -> tuple[pd.Series, np.ndarray]:
    with monkeypatch.context() as patch:
        patch.setattr(conversion, "_parse_uniform", lambda text, width: None)
        return parse_times(series, date_only)


TIMES = st.builds(
    "{:04d}-{:02d}-{:02d}{}{:02d}:{:02d}:{:02d}".format,
    st.sampled_from([1677, 1678, 1999, 2000, 2022, 2024, 2261, 2262, 9999]),
    st.integers(0, 13),
    st.integers(0, 32),
    st.sampled_from([" ", "T"]),
    st.integers(0, 24),
    st.integers(0, 60),
    st.integers(0, 60),
)
ODD_TIMES = st.sampled_from(
    [
        "2022-01-01 00:00",
        "2022-01-01 000000.1",
        "2022-01-01 00+08:00",
        "+022-01-01 00:00:00",
        "2022/01/01 00:00:00",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(TIMES, st.none(), ODD_TIMES), min_size=1, max_size=40))
def test_times_in_one_pass_equal_value_by_value(texts: list[str | None]) -> None:
    series = pd.Series(texts, dtype="str")
    with pytest.MonkeyPatch.context() as monkeypatch:
        expected, expected_unreadable = _value_by_value(series, False, monkeypatch)
    parsed, unreadable = parse_times(series)
    assert parsed.equals(expected) and (unreadable == expected_unreadable).all()


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(TIMES.map(lambda t: t[:10]), st.none()), min_size=1, max_size=40))
def test_dates_in_one_pass_equal_value_by_value(texts: list[str | None]) -> None:
    series = pd.Series(texts, dtype="str")
    with pytest.MonkeyPatch.context() as monkeypatch:
        expected, expected_unreadable = _value_by_value(series, True, monkeypatch)
    parsed, unreadable = parse_times(series, date_only=True)
    assert parsed.equals(expected) and (unreadable == expected_unreadable).all()


def test_the_one_pass_is_taken_for_the_common_layout() -> None:
    text = pa.array(["2022-03-01 10:00:00", None, "2024-02-29T23:59:59"])
    assert conversion._parse_uniform(text, 19) is not None
    for odd in (
        "2022-02-29 00:00:00",
        "2022-03-01 10:00",
        "1600-01-01 00:00:00",
        "2022-03-01 10:00:00+08:00",
    ):
        assert conversion._parse_uniform(pa.array(["2022-03-01 10:00:00", odd]), 19) is None


# -- checks on distinct values ---------------------------------------------------------------------


def _outpatient_chunk(rows: int) -> Chunk:
    """`rows` outpatient_visit rows cycling through a few good and bad values per column (the first
    of each list is good)."""
    base = valid_row("outpatient_visit")
    variants = {
        "org_code": [ORG_CODE, ORG_CODE[:-1] + "0", None, "SHORT"],
        "sex_code": ["1", "2", "3", None, "1 "],
        "visit_type": ["1", "2", "9"],
        "dept_code": ["0101", "X" * 21, None],
        "diagnosis_code": ["J06.900", "j06", "I10.x00x002", None],
        "record_id": [
            "R1",
            "R 1",
            None,
            "R" * 65,
        ],  # encoded for no_whitespace; str_length runs on the distinct values too
        "id_card": [ID_CARD, ID_CARD[:-1] + "0", None, "123"],
    }
    columns = {}
    for name in SPEC_COLUMNS["outpatient_visit"]:
        options = variants.get(name, [base[name]])
        pick = [
            0 if n % 4 == 0 else (n * 7 + len(name)) % len(options) for n in range(rows)
        ]  # every 4th row valid
        columns[name] = pd.Series([options[k] for k in pick], dtype="str")
    return Chunk(pd.DataFrame(columns), np.arange(rows, dtype=np.int64) + 2)


def test_checks_on_distinct_values_equal_checks_on_every_row() -> None:
    spec = load_schema("outpatient_visit")
    chunk = _outpatient_chunk(20_000)
    typed = type_frame(chunk.frame, spec)
    assert set(typed.distinct) == {
        "org_code",
        "diagnosis_code",
        "record_id",
    }  # repeating, with costly checks
    fast = judge(chunk, spec, typed)
    plain = judge(chunk, spec, TypedChunk(typed.frame, typed.failures))  # no encodings: every row

    def failing(verdict) -> dict[tuple[str, str], list[int]]:
        return {(f.column, f.check): sorted(f.rows.tolist()) for f in verdict.failures}

    assert failing(fast) == failing(plain) and len(failing(fast)) >= 8
    assert (fast.valid == plain.valid).all() and 0 < fast.valid.sum() < len(chunk.frame)


def test_distinct_values_of_columns_in_several_arrow_chunks() -> None:
    """Read columns come in pieces (pyarrow parses a block's pieces in parallel); each piece is
    encoded with its own dictionary, and the codes must still point into one list of values."""
    spec = load_schema("outpatient_visit")
    frame = _outpatient_chunk(30_000).frame
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pieces = pa.Table.from_batches(
        [b for k in range(3) for b in table.slice(k * 10_000, 10_000).to_batches()]
    )
    chunked = pieces.to_pandas().astype(dict.fromkeys(frame.columns, "str"))
    assert chunked["org_code"].array._pa_array.num_chunks == 3
    chunk = Chunk(chunked, np.arange(len(chunked)) + 2)
    typed = type_frame(chunked, spec)
    assert "org_code" in typed.distinct
    fast, plain = (
        judge(chunk, spec, typed),
        judge(chunk, spec, TypedChunk(typed.frame, typed.failures)),
    )
    assert {(f.column, f.check): f.rows.tolist() for f in fast.failures} == {
        (f.column, f.check): f.rows.tolist() for f in plain.failures
    }


def test_builtin_checks_on_whole_columns_equal_checks_on_present_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = load_schema("outpatient_visit")
    chunk = _outpatient_chunk(2_000)
    chunk.frame["name"] = pd.Series(
        [None, "王芳", "X" * 31, ""] * 500, dtype="str"
    )  # str_length, missing values
    chunk.frame["visit_type"] = pd.Series([None, "1", "7", "2"] * 500, dtype="str")  # isin
    whole = judge(chunk, spec)
    builtin = rules.calling_of

    def present_only(check):  # type: ignore[no-untyped-def]  # pandera's checks on present values
        calling = builtin(check)
        if check.name not in PANDERA_CHECKS:
            return calling
        return Calling(calling.per_value, False, calling.encode)

    monkeypatch.setattr(rules, "calling_of", present_only)
    filtered = judge(chunk, spec)
    assert {(f.column, f.check): f.rows.tolist() for f in whole.failures} == {
        (f.column, f.check): f.rows.tolist() for f in filtered.failures
    }
    assert any(f.column == "name" and f.check == "str_length" for f in whole.failures)


@pytest.mark.parametrize("with_missing", [True, False])
def test_institutions_from_the_encoding_equal_institutions_counted_plainly(
    with_missing: bool,
) -> None:
    spec = load_schema("outpatient_visit")
    chunk = _outpatient_chunk(20_000)
    if not with_missing:
        chunk.frame["org_code"] = chunk.frame["org_code"].fillna(ORG_CODE)
    typed = type_frame(chunk.frame, spec)
    assert "org_code" in typed.distinct
    file = InputFile(Path("outpatient_visit.csv"), "outpatient_visit")
    encoded, plain = Collector(Policy(), None), Collector(Policy(), None)
    encoded.add(file, chunk, typed)
    plain.add(file, chunk, TypedChunk(typed.frame, typed.failures))
    assert sorted(encoded.org_index) == sorted(plain.org_index)
    assert (MISSING_ORG in encoded.org_index) is with_missing
    names = {index: code for code, index in encoded.org_index.items()}
    plain_names = {index: code for code, index in plain.org_index.items()}
    assert {(names[o], f): n for (o, f), n in encoded.partial.counts.items()} == {
        (plain_names[o], f): n for (o, f), n in plain.partial.counts.items()
    }


def test_a_column_of_ids_is_not_encoded() -> None:
    spec = load_schema("outpatient_visit")
    chunk = _outpatient_chunk(20_000)
    chunk.frame["record_id"] = pd.Series([f"R{n}" for n in range(20_000)], dtype="str")
    assert "record_id" not in type_frame(chunk.frame, spec).distinct


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(
                alphabet="aZ9_-王\t\n\x0b\x0c\r \x85\u3000\u00a0\u2003\u200b\u2028é", max_size=6
            ),
        )
    )
)
def test_whitespace_check_equals_the_regex(texts: list[str | None]) -> None:
    series = pd.Series(texts, dtype="str")
    present = series.notna().to_numpy()
    # Unicode's White_Space, VT and NEL (U+0085) included
    regex = ~series.str.contains(
        r"[\t\n\x0b\f\r \x85\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]", regex=True
    )
    assert (
        no_whitespace(series).to_numpy()[present]
        == regex.to_numpy(dtype=bool, na_value=True)[present]
    ).all()


def _id_card_plainly(value: str | None) -> tuple[bool, bool, str | None, bool]:
    """Shape, check character, birth date and odd 17th digit of one ID number, value by value."""
    import datetime
    import re

    from nj_audit.codes import GB11643_WEIGHTS

    if value is None or not re.fullmatch(r"[0-9]{17}[0-9X]", value):
        return False, False, None, False
    total = sum(int(d) * w for d, w in zip(value[:17], GB11643_WEIGHTS))
    check = "0123456789X"[(12 - total % 11) % 11]
    try:
        year, month, day = int(value[6:10]), int(value[10:12]), int(value[12:14])
        born: str | None = datetime.date(year, month, day).isoformat()
    except ValueError:
        born = None
    if born is not None and not 1678 <= int(value[6:10]) <= 2261:
        born = None
    return True, value[17] == check, born, int(value[16]) % 2 == 1


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(alphabet="0123456789X", min_size=17, max_size=19),
            st.builds(
                lambda place, day, tail: place + day + tail,
                st.text(alphabet="0123456789", min_size=6, max_size=6),
                st.dates().map(lambda d: d.strftime("%Y%m%d")).filter(lambda t: len(t) == 8),
                st.text(alphabet="0123456789X", min_size=4, max_size=4),
            ),
            st.text(alphabet="0123456789Xx 王", min_size=18, max_size=18),
        ),
        max_size=12,
    )
)
def test_id_card_parts_equal_reading_each_number_plainly(values: list[str | None]) -> None:
    """The ID number's shape, check character and birth date read eight bytes at a time equal
    a regex, the MOD 11-2 sum and the calendar, value by value."""
    from nj_audit.checks.upload import id_card_parts

    parts = id_card_parts(pd.Series(values, dtype="str"))
    for n, value in enumerate(values):
        shape, checksum, born, odd = _id_card_plainly(value)
        assert bool(parts.shape[n]) == shape, value
        assert bool(parts.checksum[n]) == (shape and checksum), value
        found = None if np.isnat(parts.birth[n]) else str(parts.birth[n])[:10]
        assert found == born, value
        if shape:
            assert bool(parts.odd[n]) == odd, value


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_control_bytes_counted_with_numpy_equal_a_translate(head: bytes) -> None:
    """The binary-data sniff counts control bytes (but for tab, LF, CR; and DEL) with numpy."""
    from nj_audit.reading.sniffing import _control_bytes

    control = bytes(b for b in range(256) if (b < 32 and b not in (9, 10, 13)) or b == 127)
    assert _control_bytes(head) == len(head) - len(head.translate(None, control))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40) | st.text(max_size=20).map(lambda t: t.encode("utf-8")))
def test_encoding_detected_by_arrow_equals_the_codec(sample: bytes) -> None:
    """UTF-8 is recognised by arrow's check first; the answer is the codec's."""
    import codecs

    from nj_audit.errors import UnreadableFile
    from nj_audit.reading.sniffing import detect_encoding

    def by_codec() -> str | None:
        if sample.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        for encoding in ("utf-8", "gb18030"):
            try:
                codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
                return encoding
            except UnicodeDecodeError:
                continue
        return None

    try:
        found: str | None = detect_encoding(sample, Path("x.csv"))
    except UnreadableFile:
        found = None
    assert found == by_codec()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.sampled_from(["", "abc", "abcd", "wxyz", "王b", "ab"]))),
    st.integers(0, 3),
)
def test_fixed_width_values_equal_filtering_them(values: list[str | None], cut: int) -> None:
    """The values of one width come as a view of arrow's buffer when the others take no bytes,
    else from a filtered copy; either way, the bytes of exactly those values."""
    from nj_audit.arrays import fixed_width_bytes

    array = pa.array(values, pa.large_string())
    for text in (array, array.slice(min(cut, len(values)))):
        positions, chars = fixed_width_bytes(text, 4)
        plain = [
            n for n, v in enumerate(text.to_pylist()) if v is not None and len(v.encode()) == 4
        ]
        assert positions.tolist() == plain
        assert [bytes(row) for row in chars] == [text[n].as_py().encode() for n in plain]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(-30, 400)), max_size=60),
    st.booleans(),
)
def test_upload_days_counted_in_a_table_equal_hashing_them(
    pairs: list[tuple[int, int]], spread: bool
) -> None:
    """(institution, day) pairs counted into a table (a chunk's year) or hashed (days too far
    apart): the same distinct pairs and rows as the plain hash."""
    from nj_audit.days import counted_days, day_codes, summed_codes

    org = np.array([o for o, _ in pairs], dtype=np.int32)
    day = np.array([d * (1000 if spread else 1) for _, d in pairs], dtype=np.int64)
    codes, rows = counted_days(org, day)
    plain_codes, plain_rows = summed_codes(day_codes(org, day), np.ones(len(day), dtype=np.int64))
    assert dict(zip(codes.tolist(), rows.tolist())) == dict(
        zip(plain_codes.tolist(), plain_rows.tolist())
    )
    assert len(codes) == len(set(codes.tolist()))


# -- cutting blocks --------------------------------------------------------------------------------


def _read_all(path: Path) -> tuple[pd.DataFrame, list[int], dict[int, tuple[str, str]]]:
    frames, lines, damage, offset = [], [], {}, 0
    for chunk in read_chunks(path, expected=expected_columns("outpatient_visit", path)):
        frames.append(chunk.frame)
        lines.extend(chunk.lines.tolist())
        damage.update({offset + row: problem for row, problem in chunk.damage.items()})
        offset += len(chunk.frame)
    return pd.concat(frames, ignore_index=True), lines, damage


def test_small_blocks_with_and_without_quotes_read_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [valid_row("outpatient_visit", record_id=f"R{n}") for n in range(400)]
    rows[150]["name"] = "王\n芳"  # a quoted newline well after the first blocks
    rows[151]["dept_code"] = '01,"02"'
    rows[300]["doctor_id"] = "D 1 "  # trimmed
    path = tmp_path / "outpatient_visit.csv"
    write_csv(path, rows)
    whole = _read_all(path)
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 1000)  # about 5 rows a block
    cut = _read_all(path)
    pd.testing.assert_frame_equal(cut[0], whole[0])
    assert cut[1] == whole[1] and cut[2] == whole[2] == {}
    assert whole[0]["name"][150] == "王\n芳" and whole[0]["doctor_id"][300] == "D 1"
    assert whole[1][150:153] == [152, 154, 155]  # the quoted newline takes a line


@pytest.mark.parametrize("damage", ["stray_quote", "long_quoted_value"])
def test_blocks_cut_inside_quotes_read_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    rows = [valid_row("outpatient_visit", record_id=f"R{n}") for n in range(300)]
    if damage == "long_quoted_value":
        rows[120]["name"] = "\n".join(
            ["王"] * 150
        )  # more lines inside quotes than the cut steps back over
    path = tmp_path / "outpatient_visit.csv"
    write_csv(path, rows)
    if damage == "stray_quote":
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        lines[3] = lines[3].replace(
            "张三", '"张三'
        )  # never closed: every later newline counts as quoted
        path.write_text("".join(lines), encoding="utf-8")
    whole = _read_all(path)
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 1000)
    cut = _read_all(path)
    pd.testing.assert_frame_equal(cut[0], whole[0])
    assert cut[1] == whole[1] and cut[2] == whole[2]
    assert (damage == "stray_quote") == bool(whole[2])


def test_long_line_check() -> None:
    short = (b"x" * 100 + b"\n") * 30_000
    assert not blocks.may_hold_long_line(short)
    long = short + b"y" * (MAX_FIELD_CHARS + 1) + b"\n" + short
    assert blocks.may_hold_long_line(long)


def test_a_long_value_made_of_short_lines_is_still_too_long(tmp_path: Path) -> None:
    rows = [valid_row("outpatient_visit", record_id=f"R{n}") for n in range(5)]
    rows[2]["doctor_id"] = ("z" * 99 + "\n") * (MAX_FIELD_CHARS // 100 + 10)
    path = tmp_path / "outpatient_visit.csv"
    write_csv(path, rows)
    _, _, damage = _read_all(path)
    assert [(row, check) for row, (check, _) in damage.items()] == [(2, "value_too_long")]


# -- sharing the typing between the two threads ----------------------------------------------------


def test_chunks_judged_by_the_reading_thread_equal_chunks_judged_by_the_consumer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the consumer is busy, the reading thread types and judges the next chunks; their
    verdicts are the ones the consumer would have reached."""
    from nj_audit.readahead import typed_chunks
    from nj_audit.reading import blocks as reading_blocks

    monkeypatch.setattr(reading_blocks, "BLOCK_BYTES", 4096)  # many small chunks
    rows = [valid_row("outpatient_visit", record_id=f"MZ{n}") for n in range(400)]
    for n in range(0, 400, 7):
        rows[n]["id_card"] = "123"  # some rows fail
    path = tmp_path / "outpatient_visit.csv"
    write_csv(path, rows)
    spec = load_schema("outpatient_visit")
    ahead = 0
    for chunk, typed in typed_chunks(path, spec, None, 1000, "outpatient_visit"):
        time.sleep(0.02)  # a busy consumer
        plain = judge(chunk, spec, type_frame(chunk.frame, spec))
        verdict = judge(chunk, spec, typed)
        ahead += typed.verdict is not None
        assert (verdict.valid == plain.valid).all()
        assert [(f.column, f.check, f.rows.tolist()) for f in verdict.failures] == [
            (f.column, f.check, f.rows.tolist()) for f in plain.failures
        ]
    assert ahead > 0


def test_the_reading_thread_types_ahead_while_the_consumer_is_busy() -> None:
    prepared = threading.Event()

    def prepare(item: int) -> int:
        prepared.set()
        return item * 10

    seen = []
    for item, typed in prefetched(iter(range(6)), prepare):
        seen.append((item, typed))
        if item == 0:  # a slow consumer: the queue fills and the reader prepares the next items
            assert prepared.wait(timeout=10)
    assert [item for item, _ in seen] == list(range(6))
    assert all(typed in (None, item * 10) for item, typed in seen)
    assert seen[0][1] is None and any(typed is not None for _, typed in seen)


def test_a_fast_consumer_gets_items_unprepared() -> None:
    calls = []

    def slow_items():
        for n in range(4):
            time.sleep(0.05)  # the reader is the slow side: the consumer always waits
            yield n

    out = list(prefetched(slow_items(), lambda item: calls.append(item)))
    assert [item for item, _ in out] == [0, 1, 2, 3] and calls == []


def test_schemas_list_counts_from_the_yaml_as_pandera_does() -> None:
    """`schemas list` reads the YAML alone (no pandera): the same counts as the loaded schema."""
    from nj_audit.forms import FORM_IDS
    from nj_audit.schema_documents import TABLE_SCHEMAS, outline, schema_path
    from nj_audit.schemas import load_schema_file

    for form in FORM_IDS:
        schema = load_schema(form).schema
        rules = sum(len(c.checks) for c in schema.columns.values()) + len(schema.checks)
        assert (outline(form).columns, outline(form).rules) == (len(schema.columns), rules)
    for table in TABLE_SCHEMAS:
        schema = load_schema_file(schema_path(table)).schema
        rules = sum(len(c.checks) for c in schema.columns.values()) + len(schema.checks)
        size = outline(table)
        assert (size.columns, size.rules, size.title) == (len(schema.columns), rules, schema.title)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=8)), max_size=20), st.booleans())
def test_text_frame_straight_from_arrow_equals_the_astype(
    values: list[str | None], chunked: bool
) -> None:
    """Frames are made with to_pandas' types_mapper, not an astype of every column after."""
    from nj_audit.reading.frames import clean_table, text_frame

    array = pa.array(values, pa.large_string())
    half = len(values) // 2
    pieces = pa.chunked_array([array[:half], array[half:]], pa.large_string())
    table = pa.table({"a": pieces if chunked else array, "b": array})
    cleaned = clean_table(table)
    plain = cleaned.to_pandas().astype({name: "str" for name in cleaned.column_names})
    fast = text_frame(cleaned)
    pd.testing.assert_frame_equal(fast, plain)
    assert list(fast.dtypes) == list(plain.dtypes)


@settings(max_examples=120, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.text(alphabet="aZ9 \t\r\x1f\x7f\u3000\u00a0\u2003é王", max_size=5)),
        max_size=20,
    ),
    st.integers(0, 3),
)
def test_trimming_only_columns_that_may_need_it_equals_trimming_all(
    values: list[str | None], cut: int
) -> None:
    """Columns whose values neither start nor end with a space or a non-ASCII byte are not
    trimmed (a copy of every value saved); the answer is arrow's trim of every value."""
    from nj_audit.reading import frames

    array = pa.array(values, pa.large_string())
    column = pa.chunked_array([array[:cut], array[cut:]], pa.large_string())
    trimmed = pc.utf8_trim_whitespace(column)
    lengths = pc.binary_length(trimmed)
    plain = pc.if_else(pc.equal(lengths, 0), pa.scalar(None, pa.large_string()), trimmed)
    fast = frames._clean_values(column, long_values=True)
    assert fast.to_pylist() == plain.to_pylist()


def test_codes_and_times_are_not_copied_to_be_trimmed() -> None:
    from nj_audit.reading import frames

    assert not frames._may_need_trimming(pa.array(["MZ1", "2022-01-01 08:00:00", ""]))
    assert frames._may_need_trimming(pa.array(["MZ1", " MZ2"]))
    assert frames._may_need_trimming(pa.array(["MZ1\u3000"]))


def test_small_bodies_parsed_together_equal_each_parsed_apart(tmp_path: Path) -> None:
    """join_bodies (one arrow parse for many small files) against each body's own parse."""
    from nj_audit.reading import WholeBody, body_chunks, join_bodies, read_pieces

    bodies = []
    for n in range(4):
        rows = [valid_row("outpatient_visit", record_id=f"R{n}-{k}") for k in range(n + 1)]
        path = write_csv(tmp_path / f"{n}" / "outpatient_visit.csv", rows)
        (body,) = read_pieces(path, whole=True)
        assert isinstance(body, WholeBody)
        bodies.append(body)
    joined = join_bodies(bodies, 1_000_000)
    assert joined is not None
    apart = [chunk for body in bodies for chunk in body_chunks(body, 1_000_000)]
    expected = pd.concat([c.frame for c in apart], ignore_index=True)
    pd.testing.assert_frame_equal(pd.concat([c.frame for c in joined], ignore_index=True), expected)
    assert np.concatenate([c.lines for c in joined]).tolist() == [
        line for c in apart for line in c.lines.tolist()
    ]
    damaged = WholeBody(
        bodies[0].path, bodies[0].names, bodies[0].body + b"a,b\n", bodies[0].rows + 1
    )
    assert join_bodies([bodies[1], damaged], 1_000_000) is None  # a row of the wrong shape


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),  # institution
            st.one_of(st.none(), st.sampled_from(["R1", "R2", "长号-3", ""])),  # record_id
            st.booleans(),  # valid
            st.integers(-2, 30),  # delay, hours
        ),
        min_size=1,
        max_size=40,
    )
)
def test_row_partial_counts_equal_counting_row_by_row(
    rows: list[tuple[int, str | None, bool, int]],
) -> None:
    """The per-institution counts skip the weighted bincounts when every row has a record_id;
    both ways equal counting the rows one by one (a row without record_id is a record of its
    own), and the stored keys are the hashes of the record_ids present."""
    from nj_audit.metrics import row_partial

    hour = 3600 * 10**9
    org = np.array([r[0] for r in rows], dtype=np.int32)
    ids = pd.Series([r[1] or None for r in rows], dtype="str")
    valid = np.array([r[2] for r in rows])
    upload = np.full(len(rows), 1_000 * hour, dtype=np.int64)
    event = upload - np.array([r[3] for r in rows], dtype=np.int64) * hour
    partial = row_partial(org, 3, ids, event, upload, valid, np.arange(len(rows)), 24 * 3600)
    for o in set(org.tolist()):
        mine = [r for r in rows if r[0] == o]
        lone = [r for r in mine if not r[1]]
        got = partial.counts[(o, 3)]
        assert (got.rows, got.records, got.valid_records, got.realtime_records) == (
            len(mine),
            len(lone),
            sum(r[2] for r in lone),
            sum(r[2] and 0 <= r[3] <= 24 for r in lone),
        )
    present = [r[1] for r in rows if r[1]]
    keys = np.concatenate([s.key for s in partial.states]) if partial.states else np.zeros(0)
    assert keys.tolist() == text_hashes(pa.array(present, pa.large_string())).tolist()
