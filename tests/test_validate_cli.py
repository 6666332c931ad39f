"""`nj-audit validate` through the real CLI: exit codes, stdout and stderr apart, --failures CSV,
PII masking, CSV-injection guard, JSON, golden table output (UPDATE_GOLDEN=1 rewrites
tests/golden/)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nj_audit.cli import app

from builders import (
    CASES,
    FEMALE_ID_CARD,
    FIXTURES,
    FORMS,
    ID_CARD,
    SPEC_COLUMNS,
    assert_one_line_error,
    check_golden,
    check_golden_json,
    make_id_card,
    rows_of,
    valid_row,
    write_csv,
    write_parquet,
)

FAILURE_HEADER = ["file", "line", "form", "column", "check", "value"]


def run(runner: CliRunner, *args: str | Path):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


def failures_of(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as source:
        reader = csv.reader(source)
        header = next(reader)
        assert header == FAILURE_HEADER
        return [dict(zip(header, row)) for row in reader]


def validate_json(runner: CliRunner, *args: str | Path, code: int) -> dict:
    result = run(runner, "validate", *args, "--format", "json")
    assert result.exit_code == code, (result.stdout, result.stderr)
    document = json.loads(result.stdout)
    assert result.stderr == "".join(  # a warning per skipped file (contract § 2.2), nothing else
        f"warning: {path}: skipped (no form matches its name)\n" for path in document["skipped"]
    )
    return document


# -- exit codes ------------------------------------------------------------------------------------


def test_all_valid_exit_0(runner, tmp_path) -> None:
    path = write_csv(tmp_path / "outpatient_visit.csv", rows_of("outpatient_visit", {}, {}))
    result = run(runner, "validate", path)
    assert result.exit_code == 0
    assert result.stderr == ""
    assert "outpatient_visit" in result.stdout and "2 rows" in result.stdout


def test_invalid_rows_exit_1(runner, tmp_path) -> None:
    path = write_csv(
        tmp_path / "outpatient_visit.csv", rows_of("outpatient_visit", {}, {"visit_type": "3"})
    )
    result = run(runner, "validate", path)
    assert result.exit_code == 1
    assert result.stderr == ""
    assert "visit_type" in result.stdout and "isin" in result.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["validate", "{tmp}/nope.csv"], "nope.csv"),
        (
            ["validate", str(FIXTURES / "bad_encoding.csv"), "--form", "exam_report"],
            "bad_encoding.csv",
        ),
        (["validate", str(FIXTURES / "empty.csv"), "--form", "exam_report"], "empty.csv"),
        (["validate", str(FIXTURES / "binary.csv"), "--form", "exam_report"], "binary.csv"),
        (["validate", str(FIXTURES / "utf8_bom.csv")], "utf8_bom.csv"),  # no form in the name
        (
            ["validate", str(FIXTURES / "utf8_bom.csv"), "--form", "outpatient_vist"],
            "outpatient_vist",
        ),
        (
            [
                "validate",
                str(FIXTURES / "bad_encoding.csv"),
                "--form",
                "exam_report",
                "--encoding",
                "no-such-codec",
            ],
            "no-such",
        ),
    ],
    ids=[
        "missing-file",
        "bad-encoding",
        "empty",
        "binary",
        "no-form",
        "unknown-form",
        "unknown-encoding",
    ],
)
def test_cannot_run_exit_2(runner, tmp_path, args: list[str], needle: str) -> None:
    result = run(runner, *(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert_one_line_error(result.stderr, needle)


def test_encoding_option(runner) -> None:
    result = run(
        runner,
        "validate",
        FIXTURES / "bad_encoding.csv",
        "--form",
        "exam_report",
        "--encoding",
        "latin-1",
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize("name", ["utf8_bom.csv", "gb18030.csv"])
def test_encodings_detected(runner, name: str) -> None:
    document = validate_json(runner, FIXTURES / name, "--form", "outpatient_visit", code=0)
    assert document["rows"] == 2 and document["invalid_rows"] == 0


# -- JSON ------------------------------------------------------------------------------------------


def test_json_document(runner, tmp_path) -> None:
    rows = rows_of(
        "outpatient_visit", {}, {"visit_type": "3"}, {"visit_type": "0", "dept_code": "D" * 21}, {}
    )
    path = write_csv(tmp_path / "outpatient_visit.csv", rows)
    document = validate_json(runner, path, code=1)
    assert document["valid"] is False
    assert (document["rows"], document["invalid_rows"]) == (4, 2)
    assert document["skipped"] == []
    [form] = document["forms"]
    assert form["form"] == "outpatient_visit"
    assert form["files"] == [str(path)]
    checks = {(c["column"], c["check"]): c for c in form["checks"]}
    assert set(checks) == {("visit_type", "isin"), ("dept_code", "str_length")}
    assert checks["visit_type", "isin"]["rows"] == 2
    assert checks["visit_type", "isin"]["share"] == 0.5
    assert [(e["line"], e["value"]) for e in checks["visit_type", "isin"]["examples"]] == [
        (3, "3"),
        (4, "0"),
    ]
    assert [(e["file"], e["line"]) for e in checks["dept_code", "str_length"]["examples"]] == [
        (str(path), 4)
    ]


def test_json_valid(runner, tmp_path) -> None:
    path = write_csv(tmp_path / "lab_report.csv", rows_of("lab_report", {}))
    document = validate_json(runner, path, code=0)
    assert document["valid"] is True
    assert document["forms"][0]["checks"] == []


# -- --failures ------------------------------------------------------------------------------------


def test_failures_file_columns_and_lines(runner, tmp_path) -> None:
    path = tmp_path / "exam_report.csv"
    shutil.copy(FIXTURES / "quoted_newline_then_failing_row.csv", path)
    out = tmp_path / "failures.csv"
    result = run(runner, "validate", path, "--failures", out)
    assert result.exit_code == 1
    assert result.stderr == ""
    found = {
        (f["file"], f["line"], f["form"], f["column"], f["check"], f["value"])
        for f in failures_of(out)
    }
    assert found == {
        (str(path), "4", "exam_report", "exam_type", "isin", "XX"),
        (str(path), "8", "exam_report", "record_id", "no_whitespace", "R 0004"),
    }


def test_quoted_newline_lines_in_json(runner) -> None:
    document = validate_json(
        runner, FIXTURES / "quoted_newline_then_failing_row.csv", "--form", "exam_report", code=1
    )
    lines = {
        (c["column"], e["line"]) for c in document["forms"][0]["checks"] for e in c["examples"]
    }
    assert lines == {("exam_type", 4), ("record_id", 8)}


def test_failures_file_written_when_all_valid(runner, tmp_path) -> None:
    path = write_csv(tmp_path / "lab_report.csv", rows_of("lab_report", {}))
    out = tmp_path / "failures.csv"
    assert run(runner, "validate", path, "--failures", out).exit_code == 0
    assert failures_of(out) == []


def test_failures_lists_every_failing_row(runner, tmp_path) -> None:
    rows = rows_of("exam_report", *([{"exam_type": "XX"}] * 7))
    path = write_csv(tmp_path / "exam_report.csv", rows)
    out = tmp_path / "failures.csv"
    assert run(runner, "validate", path, "--failures", out).exit_code == 1
    assert sorted(int(f["line"]) for f in failures_of(out)) == list(range(2, 9))


def test_failures_refuses_to_overwrite_the_input(runner, tmp_path) -> None:
    path = write_csv(tmp_path / "lab_report.csv", rows_of("lab_report", {}))
    before = path.read_bytes()
    result = run(runner, "validate", path, "--failures", path)
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, "lab_report.csv")
    assert path.read_bytes() == before


def test_missing_column_reported_once_by_name(runner, tmp_path) -> None:
    out = tmp_path / "failures.csv"
    path = FIXTURES / "missing_column.csv"
    result = run(runner, "validate", path, "--form", "outpatient_visit", "--failures", out)
    assert result.exit_code == 1
    assert result.stdout.count("│ diagnosis_code") == 1  # one row; its examples below
    [failure] = failures_of(out)
    assert failure == {
        "file": str(path),
        "line": "1",
        "form": "outpatient_visit",
        "column": "diagnosis_code",
        "check": "missing_column",
        "value": "",
    }
    document = validate_json(runner, path, "--form", "outpatient_visit", code=1)
    assert (document["rows"], document["invalid_rows"]) == (3, 3)
    [check] = document["forms"][0]["checks"]
    assert (check["column"], check["check"], check["rows"]) == (
        "diagnosis_code",
        "missing_column",
        3,
    )


# -- PII -------------------------------------------------------------------------------------------

BAD_ID = ID_CARD[:-1] + ("0" if ID_CARD[-1] != "0" else "1")  # wrong check character
LONG_NAME = "王" + "李" * 30  # 31 characters


def pii_file(tmp_path: Path) -> Path:
    rows = rows_of(
        "outpatient_visit",
        {"id_card": BAD_ID},  # id_card_checksum
        {"name": LONG_NAME},  # name str_length
        {"sex_code": "2"},  # id_card_sex_matches: valid male id, sex 2
    )
    return write_csv(tmp_path / "outpatient_visit.csv", rows)


def test_pii_masked_in_failures(runner, tmp_path) -> None:
    out = tmp_path / "failures.csv"
    result = run(runner, "validate", pii_file(tmp_path), "--failures", out)
    assert result.exit_code == 1
    values = {(f["column"], f["check"]): f["value"] for f in failures_of(out)}
    assert values["id_card", "id_card_checksum"] == BAD_ID[:4] + "*" * 12 + BAD_ID[-2:]
    assert values["id_card", "id_card_sex_matches"] == ID_CARD[:4] + "*" * 12 + ID_CARD[-2:]
    name = values["name", "str_length"]
    assert name.startswith("王") and set(name[1:]) == {"*"}
    text = out.read_text(encoding="utf-8")
    assert BAD_ID not in text and ID_CARD not in text and "李" not in text


@pytest.mark.parametrize("output_format", ["table", "json"])
def test_pii_never_on_stdout(runner, tmp_path, output_format: str) -> None:
    result = run(runner, "validate", pii_file(tmp_path), "--format", output_format)
    assert result.exit_code == 1
    for secret in (BAD_ID, ID_CARD, BAD_ID[4:-2], ID_CARD[4:-2], "李"):
        assert secret not in result.stdout
        assert secret not in result.stderr
    assert BAD_ID[:4] + "*" * 12 + BAD_ID[-2:] in result.stdout


def test_show_pii(runner, tmp_path) -> None:
    out = tmp_path / "failures.csv"
    result = run(
        runner, "validate", pii_file(tmp_path), "--failures", out, "--show-pii", "--format", "json"
    )
    assert result.exit_code == 1
    values = {(f["column"], f["check"]): f["value"] for f in failures_of(out)}
    assert values["id_card", "id_card_checksum"] == BAD_ID
    assert values["id_card", "id_card_sex_matches"] == ID_CARD
    assert values["name", "str_length"] == LONG_NAME
    assert BAD_ID in result.stdout


def test_archive_id_card_masked(runner, tmp_path) -> None:
    bad = make_id_card("1985-02-30")
    path = write_csv(
        tmp_path / "hypertension_followup.csv", rows_of("hypertension_followup", {"id_card": bad})
    )
    out = tmp_path / "failures.csv"
    assert run(runner, "validate", path, "--failures", out).exit_code == 1
    [failure] = failures_of(out)
    assert (failure["column"], failure["check"]) == ("id_card", "id_card_birth_date")
    assert failure["value"] == bad[:4] + "*" * 12 + bad[-2:]


# -- CSV injection ---------------------------------------------------------------------------------


def test_failures_cells_neutralised(runner, tmp_path) -> None:
    folder = tmp_path / "batch"
    write_csv(
        folder / "outpatient_registration.csv",
        rows_of(
            "outpatient_registration",
            {"visit_type": "=1+1"},
            {"sex_code": "+1"},
            {"channel": "@SUM(A1)"},
        ),
    )
    write_csv(
        folder / "outpatient_prescription.csv",
        rows_of("outpatient_prescription", {"quantity": "-1"}),
    )
    out = tmp_path / "failures.csv"
    assert run(runner, "validate", folder, "--failures", out).exit_code == 1
    values = {(f["column"], f["check"]): f["value"] for f in failures_of(out)}
    assert values == {
        ("visit_type", "isin"): "'=1+1",
        ("sex_code", "isin"): "'+1",
        ("channel", "isin"): "'@SUM(A1)",
        ("quantity", "greater_than"): "'-1",
    }
    for row in csv.reader(io.StringIO(out.read_text(encoding="utf-8"))):
        assert all(cell[:1] not in ("=", "+", "-", "@") for cell in row)


# -- inputs through the CLI ------------------------------------------------------------------------


def test_gz_and_parquet_lines(runner, tmp_path) -> None:
    folder = tmp_path / "batch"
    write_csv(
        folder / "outpatient_visit_20220301.csv.gz",
        rows_of("outpatient_visit", {}, {"visit_type": "3"}),
    )
    write_parquet(
        folder / "lab_report-part2.parquet", rows_of("lab_report", {}, {}, {"result": " "})
    )
    out = tmp_path / "failures.csv"
    result = run(runner, "validate", folder, "--failures", out)
    assert result.exit_code == 1
    found = {
        (Path(f["file"]).name, f["line"], f["form"], f["column"], f["check"])
        for f in failures_of(out)
    }
    assert found == {
        ("outpatient_visit_20220301.csv.gz", "3", "outpatient_visit", "visit_type", "isin"),
        ("lab_report-part2.parquet", "4", "lab_report", "result", "required"),
    }


def test_folder_skipped_files_listed(runner, tmp_path) -> None:
    folder = tmp_path / "batch"
    write_csv(folder / "a" / "outpatient_visit.csv", rows_of("outpatient_visit", {}))
    write_csv(folder / "a" / "outpatient_visitor.csv", rows_of("outpatient_visit", {}))
    write_csv(folder / "notes.csv", rows_of("outpatient_visit", {}))
    document = validate_json(runner, folder, code=0)
    assert sorted(Path(p).name for p in document["skipped"]) == [
        "notes.csv",
        "outpatient_visitor.csv",
    ]
    assert document["rows"] == 1
    result = run(runner, "validate", folder)
    assert result.exit_code == 0  # skipped files are a warning, not an error
    shown = result.stdout + result.stderr
    assert "outpatient_visitor.csv" in shown and "notes.csv" in shown


def test_form_option(runner, tmp_path) -> None:
    path = write_csv(tmp_path / "export.csv", rows_of("exam_report", {}, {"exam_type": "XX"}))
    document = validate_json(runner, path, "--form", "exam_report", code=1)
    assert document["forms"][0]["form"] == "exam_report"


def test_extra_columns_ignored(runner, tmp_path) -> None:
    rows = rows_of("exam_report", {"备注": "=x", "extra": "  "})
    path = write_csv(tmp_path / "exam_report.csv", rows)
    validate_json(runner, path, code=0)


def test_small_chunks_same_answer(runner, tmp_path) -> None:
    rows = rows_of(
        "exam_report", {}, {"exam_type": "XX"}, {"conclusion": "a\nb"}, {"exam_type": "YY"}, {}
    )
    path = write_csv(tmp_path / "exam_report.csv", rows)
    whole = validate_json(runner, path, code=1)
    small = validate_json(runner, path, "--chunk-size", "2", code=1)
    assert small == whole
    examples = whole["forms"][0]["checks"][0]["examples"]
    assert [e["line"] for e in examples] == [3, 6]


# -- one defect per rule ---------------------------------------------------------------------------

UNREADABLE = {"time_format", "number_format"}


def defect_file(
    folder: Path, form: str, unreadable: bool
) -> tuple[Path, set[tuple[str, str, str]]]:
    """A file of `form`: valid rows with quoted line breaks, and one row per failing rule case;
    returns the expected (line, column, check) of every failure."""
    cases = [
        c
        for c in CASES
        if c.expected
        and c.applies(form)
        and bool(UNREADABLE & {k for _, k in c.expected}) == unreadable
    ]
    rows, expected, line = [], set(), 2
    for i, case in enumerate(cases):
        rows.append(
            valid_row(form, record_id=f"OK{i}", remark='two\n"lines", here')
        )  # an ignored column
        line += 2
        rows.append({**valid_row(form, record_id=f"BAD{i}", remark=""), **case.changes(form)})
        expected |= {(str(line), column, check) for column, check in case.expected}
        line += 1 + sum(str(v).count("\n") for v in rows[-1].values())
    path = write_csv(folder / f"{form}_defects.csv", rows, [*SPEC_COLUMNS[form], "remark"])
    return path, expected


@pytest.mark.parametrize("form", FORMS)
def test_one_defect_per_rule(runner, tmp_path, form: str) -> None:
    path, expected = defect_file(tmp_path, form, unreadable=False)
    out = tmp_path / "failures.csv"
    result = run(runner, "validate", path, "--failures", out)
    assert result.exit_code == 1
    assert result.stderr == ""
    failures = failures_of(out)
    assert {f["form"] for f in failures} == {form}
    assert {(f["line"], f["column"], f["check"]) for f in failures} == expected
    assert len(failures) == len(expected)  # nothing reported twice


@pytest.mark.parametrize("form", FORMS)
def test_one_defect_per_unreadable_value(runner, tmp_path, form: str) -> None:
    path, expected = defect_file(tmp_path, form, unreadable=True)
    out = tmp_path / "failures.csv"
    result = run(runner, "validate", path, "--failures", out)
    assert result.exit_code == 1
    assert {(f["line"], f["column"], f["check"]) for f in failures_of(out)} == expected


# -- golden table output ---------------------------------------------------------------------------


def golden_inputs(folder: Path) -> None:
    write_csv(
        folder / "outpatient_visit.csv",
        rows_of(
            "outpatient_visit",
            {
                "remark": 'quoted, "multi-line"\nremark'
            },  # an ignored column; the row spans lines 2-3
            {"visit_type": "3"},
            {"id_card": BAD_ID},
            {"diagnosis_code": "j06.900", "name": "欧阳"},
            {"sex_code": "2", "id_card": FEMALE_ID_CARD, "birth_date": "1985-06-16"},
            {"visit_type": "01"},
        ),
    )
    write_csv(folder / "lab_report-part1.csv", rows_of("lab_report", {}, {}))
    write_csv(folder / "notes.csv", rows_of("lab_report", {}))


def test_golden_validate_table(runner, tmp_path, monkeypatch) -> None:
    golden_inputs(tmp_path / "batch")
    monkeypatch.chdir(tmp_path)
    result = run(runner, "validate", "batch")
    assert result.exit_code == 1
    assert result.stderr == "warning: batch/notes.csv: skipped (no form matches its name)\n"
    assert "\x1b[" not in result.stdout
    check_golden("validate_table.txt", result.stdout)


def test_golden_validate_missing_column(runner, tmp_path, monkeypatch) -> None:
    shutil.copy(FIXTURES / "missing_column.csv", tmp_path / "outpatient_visit.csv")
    monkeypatch.chdir(tmp_path)
    result = run(runner, "validate", "outpatient_visit.csv")
    assert result.exit_code == 1
    check_golden("validate_missing_column.txt", result.stdout)


def test_golden_validate_valid(runner, tmp_path, monkeypatch) -> None:
    write_csv(tmp_path / "lab_report.csv", rows_of("lab_report", {}, {}, {}))
    monkeypatch.chdir(tmp_path)
    result = run(runner, "validate", "lab_report.csv")
    assert result.exit_code == 0
    check_golden("validate_valid.txt", result.stdout)


def test_golden_validate_json(runner, tmp_path, monkeypatch) -> None:
    golden_inputs(tmp_path / "batch")
    monkeypatch.chdir(tmp_path)
    result = run(runner, "validate", "batch", "--format", "json")
    assert result.exit_code == 1
    check_golden_json("validate.json", result.stdout)


@pytest.mark.parametrize("named", ["lab_report", "LAB_REPORT", " Lab_Report ", "检验报告"])
def test_form_option_names_a_form_as_a_file_name_does(runner, tmp_path, named) -> None:
    """--form takes the form id in any case or its Chinese name, as file names do (SPEC § 2)."""
    path = write_csv(tmp_path / "export.csv", rows_of("lab_report", {}, {"result": ""}))
    document = validate_json(runner, path, "--form", named, code=1)
    assert [f["form"] for f in document["forms"]] == ["lab_report"]
    assert document["invalid_rows"] == 1


def test_an_unknown_form_option_is_refused(runner, tmp_path) -> None:
    path = write_csv(tmp_path / "export.csv", rows_of("lab_report", {}))
    result = run(runner, "validate", path, "--form", "检验")
    assert result.exit_code == 2 and "unknown form" in result.stderr.lower()


def test_a_form_whose_only_file_is_unreadable_read_no_row(runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Not `0 rows, all valid`: nothing of it was read (contract § 5.2: 0 rows is not valid)."""
    write_csv(tmp_path / "outpatient_visit.csv", [valid_row("outpatient_visit")])
    (tmp_path / "exam_report.csv").write_bytes(b"\x00\x01\x02binary\xff\xfe")
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "exam_report: no row read" in result.stdout and "0 rows, all valid" not in result.stdout
