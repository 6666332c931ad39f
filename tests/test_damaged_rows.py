"""Damaged rows are judged, not fatal: each is an invalid row reported at its line with what is
wrong, and every other row of the file is judged as usual."""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.codes import gb32100_check_char
from nj_audit.reading import MAX_FIELD_CHARS, read_chunks

from builders import SPEC_COLUMNS
from builders import visit as visit_row

DAMAGED = Path(__file__).parent / "fixtures" / "damaged"
COLUMNS = list(SPEC_COLUMNS["outpatient_visit"])
ORG = "12320100466000000" + gb32100_check_char("12320100466000000")
runner = CliRunner()

# tests/fixtures/damaged/outpatient_visit_damaged.csv: 13 rows on lines 2-15 (one spans 12-13).
EXPECTED_DAMAGE = {
    3: "field_count",  # one field too many
    5: "field_count",  # four fields too few
    7: "unterminated_quote",  # a quote opened in `name`, closed only by line 9's quoted name
    10: "nul_byte",  # a NUL byte in doctor_id
    15: "unterminated_quote",  # a quote opened on the last line
}
ROWS, VALID_ROWS = 13, 8
FIXTURES = [
    "outpatient_visit_damaged.csv",
    "outpatient_visit_damaged_crlf.csv",
]  # the second: GB18030, CRLF


def visit(n: int, **changes: str) -> list[str]:
    return list(visit_row(n, org_code=ORG, **changes).values())


def csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return out.getvalue()


def validate_json(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["validate", *args, "--format", "json", "--quiet"])
    assert "Traceback" not in result.stderr
    assert result.exit_code in (0, 1), (result.exit_code, result.stderr)
    return result.exit_code, json.loads(result.stdout)


def damage_by_line(document: dict) -> dict[int, str]:
    """line -> check of every `(row)` failure, from the examples and the failures file."""
    found: dict[int, str] = {}
    for form in document["forms"]:
        for check in form["checks"]:
            if check["column"] == "(row)":
                for example in check["examples"]:
                    found[example["line"]] = check["check"]
    return found


def failures_by_line(path: Path) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            found.setdefault(int(row["line"]), set()).add(f"{row['column']}/{row['check']}")
    return found


@pytest.mark.parametrize("name", FIXTURES)
def test_damaged_corpus_validate(name: str, tmp_path: Path) -> None:
    failures = tmp_path / "failures.csv"
    code, document = validate_json(str(DAMAGED / name), "--failures", str(failures))
    assert code == 1
    assert (document["rows"], document["invalid_rows"]) == (ROWS, ROWS - VALID_ROWS)
    lines = failures_by_line(failures)
    assert {line: {f"(row)/{check}"} for line, check in EXPECTED_DAMAGE.items()} == lines
    checks = {c["check"]: c for f in document["forms"] for c in f["checks"]}
    assert checks["field_count"]["rows"] == 2 and checks["unterminated_quote"]["rows"] == 2
    details = " ".join(e["value"] for c in checks.values() for e in c["examples"])
    assert (
        "14 fields" in details and "9 fields" in details and "NUL" in details and "quote" in details
    )


@pytest.mark.parametrize("name", FIXTURES)
def test_damaged_corpus_audit(name: str) -> None:
    result = runner.invoke(app, ["audit", str(DAMAGED / name), "--format", "json", "--quiet"])
    assert result.exit_code == 1, result.stderr
    document = json.loads(result.stdout)
    [institution] = document["institutions"]
    assert institution["org_code"] == ORG
    assert institution["rows_uploaded"] == ROWS
    assert institution["records"] == ROWS
    assert institution["valid_records"] == VALID_ROWS
    checks = {(c["column"], c["check"]): c["failures"] for c in document["checks"]}
    assert checks == {
        ("(row)", "field_count"): 2,
        ("(row)", "nul_byte"): 1,
        ("(row)", "unterminated_quote"): 2,
    }


def test_damaged_corpus_table_names_file_and_line(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(DAMAGED)
    result = runner.invoke(app, ["validate", FIXTURES[0], "--quiet"], env={"COLUMNS": "250"})
    assert result.exit_code == 1
    for line in EXPECTED_DAMAGE:
        assert f"outpatient_visit_damaged.csv:{line}" in result.stdout


def test_damaged_rows_read_directly() -> None:
    [chunk] = list(read_chunks(DAMAGED / FIXTURES[0]))
    damaged = {int(chunk.lines[p]): check for p, (check, _what) in chunk.damage.items()}
    assert damaged == EXPECTED_DAMAGE
    assert list(chunk.lines) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15]
    assert chunk.frame["doctor_id"].tolist()[10] == "DOC\n1"


@pytest.mark.parametrize("chunk_size", [1, 2, 5])
def test_damaged_corpus_chunked(chunk_size: int, tmp_path: Path) -> None:
    _, whole = validate_json(str(DAMAGED / FIXTURES[0]), "--failures", str(tmp_path / "a.csv"))
    _, chunked = validate_json(
        str(DAMAGED / FIXTURES[0]),
        "--chunk-size",
        str(chunk_size),
        "--failures",
        str(tmp_path / "b.csv"),
    )
    assert (chunked["rows"], chunked["invalid_rows"]) == (whole["rows"], whole["invalid_rows"])
    assert failures_by_line(tmp_path / "a.csv") == failures_by_line(tmp_path / "b.csv")


def test_damaged_gzip(tmp_path: Path) -> None:
    path = tmp_path / "outpatient_visit_damaged.csv.gz"
    path.write_bytes(gzip.compress((DAMAGED / FIXTURES[0]).read_bytes()))
    code, document = validate_json(str(path), "--failures", str(tmp_path / "f.csv"))
    assert code == 1 and (document["rows"], document["invalid_rows"]) == (ROWS, ROWS - VALID_ROWS)
    assert set(failures_by_line(tmp_path / "f.csv")) == set(EXPECTED_DAMAGE)


def test_ten_megabyte_field(tmp_path: Path) -> None:
    huge = "X" * (10 * 1024 * 1024)
    rows = [visit(n) for n in range(20)]
    rows[7] = visit(7, doctor_id=huge)
    path = tmp_path / "outpatient_visit_huge.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    failures = tmp_path / "failures.csv"
    result = runner.invoke(
        app, ["validate", str(path), "--format", "json", "--failures", str(failures)]
    )
    assert result.exit_code == 1, result.stderr
    assert (
        len(result.stdout) < 100_000 and failures.stat().st_size < 100_000
    )  # the value is never echoed
    document = json.loads(result.stdout)
    assert (document["rows"], document["invalid_rows"]) == (20, 1)
    assert failures_by_line(failures) == {9: {"(row)/value_too_long"}}
    assert str(MAX_FIELD_CHARS) in result.stdout
    audited = runner.invoke(app, ["audit", str(path), "--format", "json"])
    institution = json.loads(audited.stdout)["institutions"][0]
    assert (institution["rows_uploaded"], institution["valid_records"]) == (20, 19)


def test_ten_megabyte_unquoted_line_without_newline(tmp_path: Path) -> None:
    rows = [visit(n) for n in range(3)]
    path = tmp_path / "outpatient_visit.csv"
    path.write_text(
        csv_text(rows) + ",".join(visit(3)) + "Y" * (10 * 1024 * 1024), encoding="utf-8"
    )
    code, document = validate_json(str(path), "--failures", str(tmp_path / "f.csv"))
    assert code == 1 and (document["rows"], document["invalid_rows"]) == (4, 1)
    assert failures_by_line(tmp_path / "f.csv") == {5: {"(row)/value_too_long"}}


def test_unterminated_quote_on_the_first_row_hides_nothing(tmp_path: Path) -> None:
    rows = [visit(n) for n in range(50)]
    text = csv_text(rows).splitlines(keepends=True)
    text[1] = text[1].replace("王芳", '"王芳')
    path = tmp_path / "outpatient_visit.csv"
    path.write_text("".join(text), encoding="utf-8")
    code, document = validate_json(str(path), "--failures", str(tmp_path / "f.csv"))
    assert code == 1 and (document["rows"], document["invalid_rows"]) == (50, 1)
    assert failures_by_line(tmp_path / "f.csv") == {2: {"(row)/unterminated_quote"}}


def test_every_row_damaged_is_still_judged(tmp_path: Path) -> None:
    path = tmp_path / "outpatient_visit.csv"
    path.write_text(
        ",".join(COLUMNS) + "\n" + "".join(f"a,b,c{n}\n" for n in range(30)), encoding="utf-8"
    )
    code, document = validate_json(str(path), "--failures", str(tmp_path / "f.csv"))
    assert code == 1 and (document["rows"], document["invalid_rows"]) == (30, 30)
    assert set(failures_by_line(tmp_path / "f.csv")) == set(range(2, 32))


def test_blank_lines_are_not_rows(tmp_path: Path) -> None:
    text = csv_text([visit(1), visit(2)]).replace("\n", "\n\n   \n", 1)
    path = tmp_path / "outpatient_visit.csv"
    path.write_text(text, encoding="utf-8")
    code, document = validate_json(str(path))
    assert code == 0 and document["rows"] == 2


def test_damaged_rows_in_a_folder_with_good_files(tmp_path: Path) -> None:
    shutil.copy(DAMAGED / FIXTURES[0], tmp_path / "outpatient_visit_1.csv")
    (tmp_path / "outpatient_visit_2.csv").write_text(
        csv_text([visit(n + 100) for n in range(5)]), encoding="utf-8"
    )
    code, document = validate_json(str(tmp_path))
    assert code == 1 and (document["rows"], document["invalid_rows"]) == (
        ROWS + 5,
        ROWS - VALID_ROWS,
    )


def test_a_shifted_row_never_makes_up_an_institution(tmp_path: Path) -> None:
    """Too many fields before org_code: the value found there is not an org code, so the row is
    counted under (missing) rather than under a name or ID number that slid into the column."""
    header = ["name", "org_code", *[c for c in COLUMNS if c not in ("name", "org_code")]]
    good = visit(1)
    row = dict(zip(COLUMNS, good))
    line = ",".join(["王", "芳", *[row[c] for c in header[1:]]])
    path = tmp_path / "outpatient_visit.csv"
    path.write_text(
        ",".join(header) + "\n" + ",".join(row[c] for c in header) + "\n" + line + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["audit", str(path), "--format", "json"])
    codes = sorted(i["org_code"] for i in json.loads(result.stdout)["institutions"])
    assert codes == sorted([ORG, "(missing)"])


def test_a_quoted_value_over_lines_that_look_like_rows_is_data(tmp_path: Path) -> None:
    """A quoted value may hold newlines and commas (contract § 2.4): its later lines are part of
    it even when they split into as many fields as a row has; csv.reader reads the same rows."""
    note = "findings:\n" + ",".join(str(n) for n in range(20)) + " nodules"
    rows = [[*visit(1), note], [*visit(2), "none"], [*visit(3), note]]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([[*COLUMNS, "remark"], *rows])
    path = tmp_path / "outpatient_visit.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    assert len(list(csv.reader(io.StringIO(out.getvalue())))) == 4  # the plain way: 3 rows
    code, document = validate_json(str(path))
    assert code == 0 and (document["rows"], document["invalid_rows"]) == (3, 0)


@pytest.mark.parametrize("at", [0, 1, 2])
def test_a_quote_inside_a_value_reads_the_same_in_any_row(at: int, tmp_path: Path) -> None:
    """`DO"C1` holds a quote that opens nothing: the value as it is, in the last row as in the
    others (a quote that opens a value and is never closed is damage: the corpus's line 15)."""
    rows = [visit(n) for n in range(3)]
    rows[at][COLUMNS.index("doctor_id")] = 'DO"C1'
    text = "\n".join([",".join(COLUMNS), *(",".join(row) for row in rows)]) + "\n"
    path = tmp_path / "outpatient_visit.csv"
    path.write_text(text, encoding="utf-8")
    code, document = validate_json(str(path))
    assert code == 0 and (document["rows"], document["invalid_rows"]) == (3, 0)
