"""docs/contract.md § 2: encodings, line ends, quoting, text values, times, compression, Parquet,
discovery.

Static fixtures (tests/fixtures/):
- utf8_bom.csv: two valid outpatient_visit rows, UTF-8 with a BOM.
- gb18030.csv: two valid outpatient_visit rows with Chinese names and an extra column 备注, GB18030.
- bad_encoding.csv: one valid exam_report row whose conclusion is Latin-1 text (neither UTF-8 nor
  GB18030).
- quoted_newline_then_failing_row.csv: exam_report, CRLF; row 1 (lines 2-3) and row 3 (lines 5-7)
  hold quoted commas, quotes and line breaks; row 2 (line 4, exam_type XX) and row 4 (line 8,
  record_id with a space) fail.
- missing_column.csv: three outpatient_visit rows without the diagnosis_code column.
- empty.csv, binary.csv: not CSV at all.
"""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from nj_audit.conversion import parse_numbers, parse_times
from nj_audit.errors import InputError
from nj_audit.forms import form_from_filename
from nj_audit.reading import discover, read_chunks

from builders import (
    FEMALE_ID_CARD,
    FIXTURES,
    ID_CARD,
    SPEC_COLUMNS,
    judge_file,
    rows_of,
    valid_row,
    write_csv,
    write_parquet,
)

# -- encodings ------------------------------------------------------------------------------------


def test_utf8(tmp_path) -> None:
    path = write_csv(tmp_path / "v.csv", rows_of("outpatient_visit", {"name": "王小明"}))
    judged = judge_file(path, "outpatient_visit")
    assert judged.valid == [True]
    assert judged.frames[0]["name"].tolist() == ["王小明"]


def test_utf8_with_bom() -> None:
    judged = judge_file(FIXTURES / "utf8_bom.csv", "outpatient_visit")
    assert judged.valid == [True, True]
    frame = judged.frames[0]
    assert list(frame.columns)[0] == "org_code"
    assert frame["name"].tolist() == ["张三", "李四"]


def test_gb18030_detected() -> None:
    judged = judge_file(FIXTURES / "gb18030.csv", "outpatient_visit")
    assert judged.failures == set()
    assert judged.valid == [True, True]
    frame = judged.frames[0]
    assert frame["name"].tolist() == ["张三", "欧阳娜娜"]
    assert frame["备注"].tolist() == ["复诊", "初诊"]


def test_gbk_is_read_as_gb18030(tmp_path) -> None:
    path = tmp_path / "v.csv"
    from builders import csv_text

    path.write_bytes(csv_text(rows_of("outpatient_visit", {"name": "赵钱孙"})).encode("gbk"))
    judged = judge_file(path, "outpatient_visit")
    assert judged.valid == [True]
    assert judged.frames[0]["name"].tolist() == ["赵钱孙"]


def test_gb18030_bytes_after_the_first_megabyte(tmp_path) -> None:
    """Detection must not be fooled by a long ASCII start: Chinese text later in the file is read
    right."""
    from builders import csv_text

    rows = rows_of("outpatient_visit", *([{"name": "Zhang"}] * 9000))
    rows.append(valid_row("outpatient_visit", record_id="LAST", name="欧阳娜娜"))
    data = csv_text(rows).encode("gb18030")
    assert len(data) > 1024 * 1024 and data[: 1024 * 1024].isascii()
    path = tmp_path / "outpatient_visit.csv"
    path.write_bytes(data)
    judged = judge_file(path, "outpatient_visit")
    assert judged.failures == set()
    assert pd.concat(judged.frames)["name"].iloc[-1] == "欧阳娜娜"
    assert judged.lines[-1] == 9002


def test_undetectable_encoding_is_an_input_error_naming_the_file() -> None:
    path = FIXTURES / "bad_encoding.csv"
    with pytest.raises(InputError) as info:
        list(read_chunks(path))
    assert str(path) in str(info.value)
    assert "--encoding" in str(info.value)


def test_encoding_override() -> None:
    judged = judge_file(FIXTURES / "bad_encoding.csv", "exam_report", encoding="latin-1")
    assert judged.valid == [True]
    assert judged.frames[0]["conclusion"].tolist() == ["Négatif, été"]


def test_encoding_override_beats_detection() -> None:
    """GB18030 bytes read as the encoding given, not the one detected."""
    judged = judge_file(FIXTURES / "gb18030.csv", "outpatient_visit", encoding="gb18030")
    assert judged.frames[0]["name"].tolist() == ["张三", "欧阳娜娜"]


# -- line ends and quoting -------------------------------------------------------------------------


def test_crlf(tmp_path) -> None:
    rows = rows_of("outpatient_visit", {}, {"visit_type": "3"}, {})
    path = write_csv(tmp_path / "v.csv", rows, newline="\r\n")
    assert b"\r\n" in path.read_bytes()
    judged = judge_file(path, "outpatient_visit")
    assert judged.lines == [2, 3, 4]
    assert judged.failures == {("visit_type", "isin", 1)}
    assert judged.frames[0]["doctor_id"].tolist() == ["D001"] * 3


def test_quoted_fields_with_commas_quotes_and_newlines() -> None:
    judged = judge_file(FIXTURES / "quoted_newline_then_failing_row.csv", "exam_report")
    frame = judged.frames[0]
    assert len(frame) == 4
    assert frame["conclusion"].tolist() == [
        '见附件, "复查"\r\n建议随访',
        "未见异常",
        '第一行\r\n第二行, 逗号\r\n"第三行"',
        "未见异常",
    ]
    assert judged.lines == [2, 4, 5, 8]
    assert judged.failures == {("exam_type", "isin", 1), ("record_id", "no_whitespace", 3)}
    assert judged.valid == [True, False, True, False]


def test_quoted_newline_lf(tmp_path) -> None:
    rows = rows_of(
        "exam_report",
        {"conclusion": "a\nb\nc"},
        {"exam_type": "XX"},
        {"conclusion": 'say "hi", then\nbye'},
        {},
    )
    rows[3]["exam_type"] = "ct"
    path = write_csv(tmp_path / "exam_report.csv", rows)
    judged = judge_file(path, "exam_report")
    assert judged.lines == [2, 5, 6, 8]
    assert judged.failures == {("exam_type", "isin", 1), ("exam_type", "isin", 3)}
    assert judged.frames[0]["conclusion"][2] == 'say "hi", then\nbye'


def test_lines_survive_small_chunks() -> None:
    path = FIXTURES / "quoted_newline_then_failing_row.csv"
    whole = judge_file(path, "exam_report")
    pieces = judge_file(path, "exam_report", chunk_rows=1)
    assert pieces.lines == whole.lines
    assert pieces.failures == whole.failures


def test_row_after_a_damaged_row_keeps_its_line(tmp_path) -> None:
    """A row with too many fields is reported alone, at its line; the rows after it are still
    judged."""
    columns = SPEC_COLUMNS["exam_report"]
    good = valid_row("exam_report")
    lines = [",".join(columns)]
    lines.append(",".join(good[c] for c in columns[:-1]) + ',"two\nlines"')  # line 2-3
    lines.append(",".join(good[c] for c in columns) + ",extra")  # line 4: 10 fields
    lines.append(",".join({**good, "exam_type": "XX"}[c] for c in columns))  # line 5: fails
    path = tmp_path / "exam_report.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    judged = judge_file(path, "exam_report")
    assert judged.lines == [2, 4, 5]
    assert judged.valid == [True, False, False]
    assert judged.of_row(2) == {("exam_type", "isin")}
    assert judged.of_row(1) and all(column == "(row)" for column, _ in judged.of_row(1))


def test_blank_lines_skipped_lines_kept(tmp_path) -> None:
    from builders import csv_text

    lines = csv_text(rows_of("exam_report", {}, {}, {"exam_type": "XX"})).split("\n")
    path = tmp_path / "exam_report.csv"
    path.write_text("\n".join([*lines[:2], "", *lines[2:]]), encoding="utf-8")
    judged = judge_file(path, "exam_report")
    assert judged.lines == [2, 4, 5]
    assert judged.failures == {("exam_type", "isin", 2)}


# -- text values -----------------------------------------------------------------------------------


def test_leading_zeros_kept(tmp_path) -> None:
    rows = rows_of(
        "outpatient_settlement",
        {"payment_method": "01"},
        {"payment_method": "1"},
        {"payment_method": "099"},
    )
    path = write_csv(tmp_path / "s.csv", rows)
    judged = judge_file(path, "outpatient_settlement")
    assert judged.frames[0]["payment_method"].tolist() == ["01", "1", "099"]
    assert judged.failures == {("payment_method", "isin", 1), ("payment_method", "isin", 2)}


def test_leading_zeros_kept_everywhere(tmp_path) -> None:
    rows = rows_of(
        "outpatient_visit", {"patient_id": "000123", "dept_code": "0101", "doctor_id": "007"}
    )
    judged = judge_file(write_csv(tmp_path / "v.csv", rows), "outpatient_visit")
    frame = judged.frames[0]
    assert (frame["patient_id"][0], frame["dept_code"][0], frame["doctor_id"][0]) == (
        "000123",
        "0101",
        "007",
    )


def test_whitespace_trimmed_and_blank_is_missing(tmp_path) -> None:
    rows = rows_of(
        "outpatient_settlement",
        {"payment_method": " 01 ", "total_fee": " 120 ", "visit_no": "\tV1\t"},
        {"payment_method": "   "},
        {"visit_no": "\t"},
    )
    judged = judge_file(write_csv(tmp_path / "s.csv", rows), "outpatient_settlement")
    frame = judged.frames[0]
    assert frame["payment_method"][0] == "01"
    assert frame["visit_no"][0] == "V1"
    assert pd.isna(frame["payment_method"][1])
    assert judged.failures == {("payment_method", "required", 1), ("visit_no", "required", 2)}


def test_values_are_text(tmp_path) -> None:
    rows = rows_of("outpatient_prescription", {"drug_code": "1.50", "quantity": "1.50"})
    judged = judge_file(write_csv(tmp_path / "p.csv", rows), "outpatient_prescription")
    assert judged.frames[0]["drug_code"][0] == "1.50"
    assert judged.typed[0]["quantity"][0] == 1.5


@pytest.mark.parametrize(
    ("text", "value"),
    [("12", 12.0), ("-3.5", -3.5), ("0.5", 0.5), ("0", 0.0), ("1000000", 1e6), ("007", 7.0)],
)
def test_plain_decimals(text: str, value: float) -> None:
    parsed, bad = parse_numbers(pd.Series([text], dtype="str"))
    assert parsed.tolist() == [value]
    assert bad.tolist() == [False]


@pytest.mark.parametrize(
    "text", ["1e3", "1E3", "abc", "nan", "inf", "-inf", "1,000", "12abc", "0x10", "1.2.3", "--1"]
)
def test_not_plain_decimals(text: str) -> None:
    parsed, bad = parse_numbers(pd.Series([text], dtype="str"))
    assert pd.isna(parsed[0])
    assert bad.tolist() == [True]


# -- times -----------------------------------------------------------------------------------------

LOCAL = [
    ("2022-03-01 10:00:00", "2022-03-01 10:00:00"),
    ("2022-03-01T10:00:00", "2022-03-01 10:00:00"),
    ("2022-03-01", "2022-03-01 00:00:00"),
    ("2022-03-01T10:00:00+08:00", "2022-03-01 10:00:00"),
    ("2022-03-01 10:00:00+08:00", "2022-03-01 10:00:00"),
    ("2022-03-01T02:00:00Z", "2022-03-01 10:00:00"),
    ("2022-03-01T02:00:00+00:00", "2022-03-01 10:00:00"),
    ("2022-02-28T20:30:00Z", "2022-03-01 04:30:00"),  # crosses midnight into the next local day
    ("2022-02-28T16:00:00+00:00", "2022-03-01 00:00:00"),  # exactly local midnight
    ("2021-12-31T23:00:00Z", "2022-01-01 07:00:00"),  # crosses into a new year
    ("2022-03-01T10:00:00-05:00", "2022-03-01 23:00:00"),
    ("2022-03-01T22:00:00+14:00", "2022-03-01 16:00:00"),  # the extreme offsets there are
    ("2022-03-01T10:00:00-12:00", "2022-03-02 06:00:00"),
]


@pytest.mark.parametrize(("text", "local"), LOCAL)
def test_time_formats_to_local(tmp_path, text: str, local: str) -> None:
    rows = rows_of(
        "outpatient_prescription", {"event_time": text, "upload_time": "2022-03-02 12:00:00"}
    )
    judged = judge_file(write_csv(tmp_path / "p.csv", rows), "outpatient_prescription")
    assert judged.failures == set()
    value = judged.typed[0]["event_time"][0]
    assert value == pd.Timestamp(local)
    assert value.tzinfo is None  # local (Asia/Shanghai) wall time


@pytest.mark.parametrize(("text", "local"), LOCAL)
def test_parse_times(text: str, local: str) -> None:
    values, bad = parse_times(pd.Series([text], dtype="str"))
    assert values[0] == pd.Timestamp(local)
    assert bad.tolist() == [False]


UNREADABLE_TIMES = [
    "2022-03-01 10:00",
    "2022/03/01",
    "20220301",
    "2022-3-1",
    "01-03-2022",
    "2022-03-01 10:00:00 PM",
    "2022-03-01Z",  # an offset belongs to a clock time
    "2022-03-01+08:00",
    "2022-03-01 09:00:00+99:00",  # no such offsets
    "2022-03-01 09:00:00+05:99",
    "2022-03-01 09:00:00-15:00",
]


@pytest.mark.parametrize("text", UNREADABLE_TIMES)
def test_unreadable_times(text: str) -> None:
    values, bad = parse_times(pd.Series([text], dtype="str"))
    assert pd.isna(values[0])
    assert bad.tolist() == [True]


def test_offsets_decide_the_rules(tmp_path) -> None:
    """event_time <= upload_time and birth_date <= the (local) date of event_time compare local
    times."""
    rows = rows_of(
        "outpatient_visit",
        {
            "event_time": "2022-03-01T02:00:00Z",
            "upload_time": "2022-03-01 10:30:00",
        },  # 10:00 local: ok
        {
            "event_time": "2022-03-01T03:00:00Z",
            "upload_time": "2022-03-01 10:30:00",
        },  # 11:00 local: after upload
        {
            "event_time": "2022-03-01 11:00:00",
            "upload_time": "2022-03-01T03:30:00Z",
        },  # upload 11:30 local: ok
        # local event date is 2022-03-01 (UTC date 2022-02-28): born that day is fine
        {"event_time": "2022-02-28T20:30:00Z", "birth_date": "2022-03-01", "id_card": ""},
        # ... born the day after is not
        {"event_time": "2022-02-28T20:30:00Z", "birth_date": "2022-03-02", "id_card": ""},
    )
    judged = judge_file(write_csv(tmp_path / "v.csv", rows), "outpatient_visit")
    assert judged.failures == {("event_time", "not_after", 1), ("birth_date", "not_after", 4)}


def test_offsets_at_the_2000_boundary(tmp_path) -> None:
    rows = rows_of(
        "outpatient_prescription",
        {
            "event_time": "1999-12-31T16:00:00Z",
            "upload_time": "2000-01-01 12:00:00",
        },  # 2000-01-01 00:00 local
        {
            "event_time": "2000-01-01T00:00:00+09:00",
            "upload_time": "2000-01-01 12:00:00",
        },  # 1999-12-31 23:00 local
    )
    judged = judge_file(write_csv(tmp_path / "p.csv", rows), "outpatient_prescription")
    assert judged.failures == {("event_time", "not_before_date", 1)}


# -- compressed and Parquet input ------------------------------------------------------------------


def test_csv_gz(tmp_path) -> None:
    rows = rows_of("outpatient_visit", {"name": "张三"}, {"visit_type": "3"}, {})
    plain = write_csv(tmp_path / "outpatient_visit.csv", rows)
    packed = write_csv(tmp_path / "outpatient_visit_20220301.csv.gz", rows)
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()
    a, b = judge_file(plain, "outpatient_visit"), judge_file(packed, "outpatient_visit")
    assert b.failures == a.failures == {("visit_type", "isin", 1)}
    assert b.lines == a.lines == [2, 3, 4]
    assert b.frames[0]["name"][0] == "张三"


def test_parquet_lines_are_row_numbers_plus_one(tmp_path) -> None:
    rows = rows_of(
        "outpatient_settlement", {}, {}, {"payment_method": "1"}, {"payment_method": "01"}
    )
    path = write_parquet(tmp_path / "outpatient_settlement.parquet", rows)
    judged = judge_file(path, "outpatient_settlement")
    assert judged.lines == [2, 3, 4, 5]
    assert judged.failures == {("payment_method", "isin", 2)}
    assert judged.frames[0]["payment_method"].tolist() == ["01", "01", "1", "01"]


def test_parquet_with_typed_columns(tmp_path) -> None:
    """Parquet columns that are not text are read as text, then typed by the schema."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    row = valid_row("outpatient_prescription")
    columns = {name: pa.array([value, value]) for name, value in row.items()}
    columns["quantity"] = pa.array([2, 0], pa.int64())
    columns["amount"] = pa.array([35.5, 1.0], pa.float64())
    path = tmp_path / "outpatient_prescription.parquet"
    pq.write_table(pa.table(columns), path)
    judged = judge_file(path, "outpatient_prescription")
    assert judged.failures == {("quantity", "greater_than", 1)}


def test_parquet_blank_and_missing(tmp_path) -> None:
    rows = rows_of("lab_report", {"result": "  "}, {"result": ""})
    judged = judge_file(write_parquet(tmp_path / "lab_report.parquet", rows), "lab_report")
    assert judged.failures == {("result", "required", 0), ("result", "required", 1)}


# -- discovery and form names ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "form"),
    [
        ("outpatient_visit.csv", "outpatient_visit"),
        ("outpatient_visit_20220301.csv.gz", "outpatient_visit"),
        ("lab_report-part2.parquet", "lab_report"),
        ("inpatient_order.2022-03.csv", "inpatient_order"),
        ("exam_report_part_1.csv", "exam_report"),
        ("outpatient_visitor.csv", None),
        ("outpatient_visits.csv", None),
        ("my_outpatient_visit.csv", None),
        ("outpatient.csv", None),
        ("notes.csv", None),
        ("health_record.parquet", "health_record"),
        ("hypertension_followup-2022.csv.gz", "hypertension_followup"),
        ("inpatient_settlement_x.csv", "inpatient_settlement"),
        ("LAB_REPORT.CSV", "lab_report"),
        ("Outpatient_Visit_20230301.Csv.Gz", "outpatient_visit"),
        ("检验报告.csv", "lab_report"),
        ("门急诊就诊_20230301.csv", "outpatient_visit"),
        ("门急诊就诊记录.csv", None),
        ("出院记录-2022.parquet", "inpatient_discharge"),
    ],
)
def test_form_from_file_name(name: str, form: str | None) -> None:
    assert form_from_filename(name) == form
    assert form_from_filename(f"/data/outpatient_visit/{name}") == form  # folders do not count


def test_folder_recursion_and_skipped_files(tmp_path) -> None:
    row = rows_of("outpatient_visit", {})
    write_csv(tmp_path / "batch" / "outpatient_visit.csv", row)
    write_csv(tmp_path / "batch" / "2022" / "03" / "outpatient_visit_20220301.csv.gz", row)
    write_parquet(
        tmp_path / "batch" / "2022" / "lab_report-part2.parquet", rows_of("lab_report", {})
    )
    write_csv(tmp_path / "batch" / "2022" / "outpatient_visitor.csv", row)
    write_csv(tmp_path / "batch" / "notes.csv", row)
    (tmp_path / "batch" / "README.txt").write_text("not an input")
    (tmp_path / "batch" / "outpatient_visit.json").write_text("{}")
    found = discover([tmp_path / "batch"])
    batch = tmp_path / "batch"
    assert [(f.path.relative_to(batch).as_posix(), f.form) for f in found.files] == [
        ("2022/03/outpatient_visit_20220301.csv.gz", "outpatient_visit"),
        ("2022/lab_report-part2.parquet", "lab_report"),
        ("outpatient_visit.csv", "outpatient_visit"),
    ]
    assert sorted(p.relative_to(batch).as_posix() for p in found.skipped) == [
        "2022/outpatient_visitor.csv",
        "notes.csv",
    ]


def test_form_option_overrides_the_name(tmp_path) -> None:
    path = write_csv(tmp_path / "export.csv", rows_of("outpatient_visit", {}))
    found = discover([path], "outpatient_visit")
    assert [(f.path, f.form) for f in found.files] == [(path, "outpatient_visit")]


def test_no_form_is_an_input_error(tmp_path) -> None:
    path = write_csv(tmp_path / "export.csv", rows_of("outpatient_visit", {}))
    with pytest.raises(InputError):
        discover([path])


def test_missing_path_is_an_input_error(tmp_path) -> None:
    with pytest.raises(InputError) as info:
        discover([tmp_path / "nope.csv"])
    assert "nope.csv" in str(info.value)


@pytest.mark.parametrize("name", ["empty.csv", "binary.csv"])
def test_not_csv_is_an_input_error(name: str) -> None:
    with pytest.raises(InputError) as info:
        list(read_chunks(FIXTURES / name))
    assert name in str(info.value)


def test_id_cards_read_as_text(tmp_path) -> None:
    rows = rows_of(
        "outpatient_visit", {"id_card": ID_CARD}, {"id_card": FEMALE_ID_CARD, "sex_code": "2"}
    )
    judged = judge_file(
        write_parquet(tmp_path / "outpatient_visit.parquet", rows), "outpatient_visit"
    )
    assert judged.frames[0]["id_card"].tolist() == [ID_CARD, FEMALE_ID_CARD]
    assert judged.failures == set()


def test_a_repeated_extra_column_is_ignored_like_any_extra_column(tmp_path) -> None:
    """Contract § 2.5: columns beyond the form's are ignored, repeated or not; a repeated column
    of the form is ambiguous, and the file unreadable (tests/test_hostile.py)."""
    import json

    from typer.testing import CliRunner

    from nj_audit.cli import app

    columns = [*SPEC_COLUMNS["lab_report"], "remark", "remark", "备注", "备注"]
    rows = [dict(valid_row("lab_report"), remark="a") for _ in range(2)]
    path = tmp_path / "lab_report.csv"
    body = [",".join(columns)] + [
        ",".join([*(r[c] for c in columns[:-4]), "a", "b", "c", "d"]) for r in rows
    ]
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["rows"], document["invalid_rows"], document["unreadable"]) == (2, 0, [])
    repeated = path.read_text(encoding="utf-8").replace("remark,remark", "record_id,remark", 1)
    path.write_text(repeated, encoding="utf-8")
    refused = CliRunner().invoke(app, ["validate", str(path), "--format", "json"])
    assert refused.exit_code == 2 and "repeats record_id" in refused.stderr  # its only file
