"""No patient identifier leaks, whatever column it is in: an exporter that swaps columns puts ID
numbers and names in org_code, record_id, sex_code or birth_date, a headerless archive file's
first row is patient data, a file may be named after a patient. Every output format and stderr is
scanned for the identifiers; they appear only masked, unless --show-pii."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.pii import mask_id_numbers, shown_org_code

from builders import (
    CLI_ENV,
    HOSTILE,
    VISIT_HEADER,
    make_id_card,
    make_org_code,
    visit_lines,
)

runner = CliRunner(env=CLI_ENV)
ORG = make_org_code("12320100466000021")
IN_ORG = make_id_card("1978-11-02", "2", seq="55")  # an ID number where the org_code goes
IN_RECORD = make_id_card("1980-01-15", "1", seq="31")
IN_SEX = make_id_card("1991-07-20", "1", seq="77")
IN_BIRTH = make_id_card("1966-03-09", "2", seq="18")
IN_FILE_NAME = make_id_card("2001-12-24", "1", seq="90")
NAME_IN_ORG = "欧阳娜娜"
NAME_IN_BIRTH = "慕容复"  # a name where birth_date goes
TYPO = "1232010046600002"  # a mistyped org code, neither an ID number nor a name: stays visible
SECRETS = [IN_ORG, IN_RECORD, IN_SEX, IN_BIRTH, IN_FILE_NAME, NAME_IN_ORG, NAME_IN_BIRTH]


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    rows = visit_lines(range(3), ORG)
    rows += visit_lines(range(3, 4), IN_ORG)
    rows += visit_lines(range(4, 5), NAME_IN_ORG)
    rows += visit_lines(range(5, 6), TYPO)
    rows += visit_lines(range(6, 7), ORG, record_id=f"MZ {IN_RECORD}")  # fails: shown
    rows += visit_lines(range(7, 8), ORG, sex_code=IN_SEX)
    rows += visit_lines(range(8, 9), ORG, birth_date=IN_BIRTH)
    rows += visit_lines(range(9, 10), ORG, birth_date=NAME_IN_BIRTH)
    rows += visit_lines(range(10, 11), ORG, birth_date="1990年3月7日")  # a defect to see as it is
    (tmp_path / "outpatient_visit.csv").write_text(VISIT_HEADER + rows, encoding="utf-8")
    (tmp_path / "health_record.csv").write_bytes(
        (HOSTILE / "health_record_headerless.csv").read_bytes()
    )
    named = tmp_path / f"lab_report_{IN_FILE_NAME}.csv"
    named.write_bytes((HOSTILE / "outpatient_visit_binary_junk.csv").read_bytes())
    (tmp_path / f"{IN_FILE_NAME}.csv").write_text("x\n", encoding="utf-8")  # names no form
    return tmp_path


def everything(batch: Path, tmp_path: Path, *extra: str) -> str:
    """stdout and stderr of audit in every format and of validate (table, JSON, --failures)."""
    seen = []
    for output_format in ("table", "json", "csv", "markdown", "junit"):
        result = runner.invoke(app, ["audit", str(batch), "--format", output_format, *extra])
        assert result.exit_code == 1, (output_format, result.stderr)
        seen += [result.stdout, result.stderr]
    failures = tmp_path.parent / f"{tmp_path.name}-failures.csv"
    for output_format in ("table", "json"):
        result = runner.invoke(
            app,
            [
                "validate",
                str(batch),
                "--format",
                output_format,
                "--failures",
                str(failures),
                *extra,
            ],
        )
        assert result.exit_code == 1, result.stderr
        seen += [result.stdout, result.stderr, failures.read_text(encoding="utf-8")]
    missing = runner.invoke(app, ["audit", str(batch / f"outpatient_visit_{IN_ORG}.csv"), *extra])
    seen.append(missing.stderr)  # an error line naming a file named after a patient
    return "\n".join(seen)


def test_no_identifier_appears_in_any_output(batch: Path, tmp_path: Path) -> None:
    text = everything(batch, tmp_path)
    leaked = [secret for secret in SECRETS if secret in text]
    assert leaked == []
    assert shown_org_code(IN_ORG, False) in text and "3201" in shown_org_code(IN_ORG, False)
    assert mask_id_numbers(IN_FILE_NAME) in text  # the file is listed, its name masked
    assert TYPO in text  # the centre needs the typo to chase it
    assert "1990年3月7日" in text  # a date written in words is a defect, not a name


def test_show_pii_shows_them(batch: Path, tmp_path: Path) -> None:
    text = everything(batch, tmp_path, "--show-pii")
    assert IN_ORG in text and NAME_IN_ORG in text and IN_FILE_NAME in text and IN_RECORD in text


def test_grouping_stays_by_the_raw_value(tmp_path: Path) -> None:
    """Two ID numbers with the same first 4 and last 2 characters are two rows, masked alike."""
    first = make_id_card("1978-11-02", "2", seq="55")
    second = next(
        card
        for seq in range(100)
        if (card := make_id_card("1979-01-01", "2", seq=f"{seq:02d}"))[-2:] == first[-2:]
    )
    rows = visit_lines(range(2), first) + visit_lines(range(2, 5), second)
    path = tmp_path / "outpatient_visit.csv"
    path.write_text(VISIT_HEADER + rows, encoding="utf-8")
    result = runner.invoke(app, ["audit", str(path), "--format", "csv"])
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert sorted(r["rows_uploaded"] for r in table) == ["2", "3"]
    assert {r["org_code"] for r in table} == {shown_org_code(first, False)}


def test_the_shapes() -> None:
    from nj_audit.pii import looks_like_a_name

    assert looks_like_a_name("张三") and looks_like_a_name("阿依古丽·买买提")
    assert not any(map(looks_like_a_name, ["5.00元", "2022年3月1日", "男", "Zhang", "J06.9"]))
    assert (
        mask_id_numbers(f"a/{IN_FILE_NAME}_x.csv")
        == f"a/{IN_FILE_NAME[:4]}{'*' * 12}{IN_FILE_NAME[-2:]}_x.csv"
    )
    assert (
        mask_id_numbers(ORG) == ORG
        and mask_id_numbers("123201004660000009") == "123201004660000009"
    )
    assert mask_id_numbers(IN_FILE_NAME, show_pii=True) == IN_FILE_NAME
    assert (
        shown_org_code("王芳", False) == "**"
        and shown_org_code("Müller-Klinik", False) != "Müller-Klinik"
    )
    assert shown_org_code(ORG, False) == ORG and shown_org_code(TYPO, False) == TYPO


def test_an_id_number_glued_to_letters_is_masked_one_inside_more_digits_is_not() -> None:
    for text in (f"MZ{IN_RECORD}", f"dept{IN_RECORD}", f"x_{IN_RECORD}x.csv", f"id{IN_RECORD}/a"):
        assert IN_RECORD not in mask_id_numbers(text), text
        assert mask_id_numbers(text, show_pii=True) == text
    assert mask_id_numbers(f"9{IN_RECORD}") == f"9{IN_RECORD}"  # 19 digits: not an ID number


def test_id_numbers_in_a_registry_or_a_summary_table_are_masked(tmp_path: Path) -> None:
    """An institution's name is no patient's, but an ID number typed into it (or into the
    district, or a summary table's org_code that is an ID number) is masked in every format."""
    (tmp_path / "outpatient_visit.csv").write_text(VISIT_HEADER + visit_lines(range(3), ORG))
    registry = tmp_path / "registry.csv"
    registry.write_text(f"org_code,name,district\n{ORG},医院 {IN_RECORD},区{IN_SEX}\n")
    table = tmp_path / f"summary_{IN_FILE_NAME}.csv"
    table.write_text(
        "institution,org_code,rows_uploaded,upload_days,forms,outpatient_rate,discharge_rate\n"
        f"院{IN_RECORD},{IN_ORG},10,365,11/11,95.00%,95.00%\n"
    )
    seen = []
    for output_format in ("table", "json", "csv", "markdown", "junit", "github", "codequality"):
        for args in (
            ["audit", str(tmp_path / "outpatient_visit.csv"), "--registry", str(registry)],
            ["audit", str(tmp_path / "outpatient_visit.csv"), "--registry", str(registry)]
            + ["--by", "district"],
            ["rank", str(table)],
        ):
            result = runner.invoke(app, [*args, "--format", output_format])
            assert result.exit_code in (0, 1), result.stderr
            seen += [result.stdout, result.stderr]
    text = "\n".join(seen)
    assert [s for s in (IN_RECORD, IN_SEX, IN_ORG, IN_FILE_NAME) if s in text] == []
    assert mask_id_numbers(IN_RECORD) in text and shown_org_code(IN_ORG, False) in text
    shown = runner.invoke(app, ["rank", str(table), "--format", "json", "--show-pii"]).stdout
    assert IN_RECORD in shown and IN_ORG in shown


def test_a_valid_org_code_whose_check_fits_gb11643_stays_visible() -> None:
    """123201026905039747 is a valid unified social credit code whose check character also fits
    GB 11643; its characters 7-14 (0269-05-03) are no birth date, so it is no person's."""
    from nj_audit.codes import gb11643_check_char, gb32100_check_char

    code = "123201026905039747"
    assert gb32100_check_char(code[:17]) == code[17] == gb11643_check_char(code[:17])
    assert shown_org_code(code, False) == code
