"""PII never leaves the tool: id_card, name and any column a schema marks as PII appear in no output
(table, JSON, CSV, Markdown, JUnit, the --failures file, error messages, --debug) unless
--show-pii."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.codes import gb11643_check_char, gb32100_check_char
from nj_audit.pii import mask, shown
from nj_audit.schemas import schema_path

from builders import SPEC_COLUMNS
from builders import visit as visit_row

runner = CliRunner()
VISIT = list(SPEC_COLUMNS["outpatient_visit"])
HEALTH = [
    "org_code",
    "record_id",
    "event_time",
    "upload_time",
    "id_card",
    "name",
    "sex_code",
    "birth_date",
    "residence_code",
]
ORG_A = "12320100466000000" + gb32100_check_char("12320100466000000")
ORG_B = "12320100466000001" + gb32100_check_char("12320100466000001")


def id_number(birth: str, sequence: str) -> str:
    first17 = "320102" + birth + sequence
    return first17 + gb11643_check_char(first17)


def wrong_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


# Every ID number and name below is a secret: none may appear in any output.
IDS = {
    "valid_male": id_number("19850412", "571"),
    "bad_checksum": wrong_check(id_number("19760923", "333")),
    "birth_mismatch": id_number("19680101", "215"),  # valid, but birth_date says otherwise
    "sex_mismatch": id_number(
        "19910230".replace("0230", "0228"), "442"
    ),  # even: a woman, sex_code 1
    "too_short": id_number("19990505", "117")[:17],
    "in_damaged_row": id_number("20010615", "739"),
    "health_bad": wrong_check(id_number("19550707", "191")),
    "health_ok": id_number("19550707", "191"),
}
NAMES = {
    "valid": "诸葛明亮",
    "bad_checksum": "欧阳娜娜",
    "birth_mismatch": "司马相如",
    "sex_mismatch": "上官婉儿",
    "too_long": "长孙" + "无忌" * 15,  # 32 characters
    "in_damaged_row": "慕容复生",
    "health": "东方不败",
}
PATIENT_IDS = ["PATIENT-SECRET-0001", "PATIENT-SECRET-0002"]


def visit(n: int, id_card: str, name: str, **changes: str) -> dict[str, str]:
    birth = (
        f"{id_card[6:10]}-{id_card[10:12]}-{id_card[12:14]}" if len(id_card) >= 14 else "1990-01-01"
    )
    own = dict(
        org_code=ORG_A if n % 2 else ORG_B, record_id=f"R{n:04d}", patient_id=PATIENT_IDS[n % 2]
    )
    return visit_row(n, **{**own, "id_card": id_card, "name": name, "birth_date": birth, **changes})


def write(
    path: Path, columns: list[str], rows: list[dict[str, str]], extra_lines: list[str] = ()
) -> Path:  # type: ignore[assignment]
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue() + "".join(line + "\n" for line in extra_lines), encoding="utf-8")
    return path


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    batch = tmp_path / "batch"
    batch.mkdir()
    visits = [
        visit(1, IDS["valid_male"], NAMES["valid"]),
        visit(2, IDS["bad_checksum"], NAMES["bad_checksum"]),
        visit(3, IDS["birth_mismatch"], NAMES["birth_mismatch"], birth_date="1968-01-02"),
        visit(4, IDS["sex_mismatch"], NAMES["sex_mismatch"]),
        visit(5, IDS["too_short"], NAMES["too_long"]),
    ]
    damaged = visit(6, IDS["in_damaged_row"], NAMES["in_damaged_row"])
    write(
        batch / "outpatient_visit.csv",
        VISIT,
        visits,
        [",".join(damaged[c] for c in VISIT) + ",extra,fields"],
    )
    # name before org_code: a damaged row shifts the name into org_code's place
    shifted = [
        "name",
        "id_card",
        "org_code",
        *[c for c in VISIT if c not in ("name", "id_card", "org_code")],
    ]
    row = visit(7, IDS["in_damaged_row"], NAMES["in_damaged_row"])
    line = ",".join([row["name"], row["id_card"], "x", *[row[c] for c in shifted[2:]]])
    write(
        batch / "outpatient_visit_shifted.csv",
        shifted,
        [visit(8, IDS["valid_male"], NAMES["valid"])],
        [line],
    )
    times = [ORG_A, "H1", "2022-03-02", "2022-03-02 10:00:00"]
    health = [
        dict(
            zip(HEALTH, [*times, IDS["health_bad"], NAMES["health"], "2", "1955-07-07", "320102"])
        ),
        dict(
            zip(
                HEALTH,
                [
                    *times[:1],
                    "H2",
                    *times[2:],
                    IDS["health_ok"],
                    NAMES["health"],
                    "1",
                    "1955-07-08",
                    "32010",
                ],
            )
        ),
    ]
    write(batch / "health_record.csv", HEALTH, health)
    (tmp_path / "registry.csv").write_text(
        f"org_code,name,district\n{ORG_A},市第一医院,玄武区\n", encoding="utf-8"
    )
    return tmp_path


def secrets() -> list[str]:
    found = [*IDS.values(), *NAMES.values(), *PATIENT_IDS]
    found += [number[4:16] for number in IDS.values()]  # the hidden middle: birth date and sequence
    found += [name[1:] for name in NAMES.values()]  # everything after the first character
    return found


def assert_clean(text: str, where: str) -> None:
    leaked = [s for s in secrets() if s in text]
    assert not leaked, f"{where} shows {leaked}"


def run(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    result = runner.invoke(app, list(args), env={"COLUMNS": "400", **(env or {})})
    assert "Traceback" not in result.stderr or "--debug" in args, result.stderr
    return result


def test_no_pii_in_any_output(sample: Path) -> None:
    batch, registry, out = sample / "batch", sample / "registry.csv", sample / "out"
    out.mkdir()
    texts: dict[str, str] = {}

    for fmt in ("table", "json"):
        for chunk in ("1000", "2"):
            failures = out / f"failures-{fmt}-{chunk}.csv"
            result = run(
                "validate",
                str(batch),
                "--format",
                fmt,
                "--chunk-size",
                chunk,
                "--failures",
                str(failures),
                "--debug",
            )
            assert result.exit_code == 1, result.stderr
            texts[f"validate {fmt} stdout"] = result.stdout
            texts[f"validate {fmt} stderr"] = result.stderr
            texts[f"failures {fmt}"] = failures.read_text(encoding="utf-8")
    for fmt in ("table", "json", "csv", "markdown", "junit"):
        for by in ("institution", "district"):
            args = [
                "audit",
                str(batch),
                "--registry",
                str(registry),
                "--by",
                by,
                "--format",
                fmt,
                "--debug",
            ]
            result = run(*args)
            assert result.exit_code in (0, 1), result.stderr
            texts[f"audit {fmt} {by}"] = result.stdout + result.stderr
            target = out / f"audit-{by}.{fmt}"
            result = run(*args, "--output", str(target))
            assert result.exit_code in (0, 1), result.stderr
            texts[f"audit {fmt} {by} file"] = (
                target.read_text(encoding="utf-8") + result.stdout + result.stderr
            )

    # the masked values are there, so the scan looks where PII would be
    assert (
        IDS["bad_checksum"][:4] + "*" * 12 + IDS["bad_checksum"][-2:]
        in texts["validate json stdout"]
    )
    assert NAMES["too_long"][0] + "*" in texts["failures json"]
    for where, text in texts.items():
        assert_clean(text, where)


def test_no_pii_in_error_messages(sample: Path) -> None:
    batch = sample / "batch"
    rows = (batch / "outpatient_visit.csv").read_text(encoding="utf-8").splitlines()
    broken = sample / "broken"
    broken.mkdir()
    header = rows[0].replace("doctor_id", "name")  # duplicate header names
    (broken / "outpatient_visit_dup.csv").write_text(
        "\n".join([header, *rows[1:]]) + "\n", encoding="utf-8"
    )
    (broken / "outpatient_visit_gbk.csv").write_bytes(("\n".join(rows) + "\n").encode("gb18030"))
    registry = sample / "registry_broken.csv"
    registry.write_text(
        f"org_code,name,district\n{ORG_A},{NAMES['valid']},{IDS['valid_male']},extra\n",
        encoding="utf-8",
    )
    runs = [
        run("validate", str(broken / "outpatient_visit_dup.csv"), "--debug"),
        run("audit", str(broken / "outpatient_visit_gbk.csv"), "--encoding", "utf-8", "--debug"),
        run("audit", str(broken / "outpatient_visit_gbk.csv"), "--encoding", "utf-8"),
        run("audit", str(batch), "--registry", str(registry)),
        run("audit", str(batch), "--registry", str(registry), "--debug"),
    ]
    for result in runs:
        assert result.exit_code == 2, (result.exit_code, result.stderr)
        assert_clean(result.stdout + result.stderr, "an error message")


def test_show_pii_shows_them(sample: Path) -> None:
    result = run("validate", str(sample / "batch"), "--format", "json", "--show-pii")
    assert IDS["bad_checksum"] in result.stdout and NAMES["too_long"] in result.stdout


def test_custom_schema_pii_column_is_masked(sample: Path) -> None:
    document = yaml.safe_load(schema_path("outpatient_visit").read_text(encoding="utf-8"))
    document["name"] = "bookings"
    document["metadata"]["pii_columns"].append("patient_id")
    document["columns"]["patient_id"]["str_length"] = {
        "min_value": 1,
        "max_value": 5,
        "exact_value": None,
    }
    schema = sample / "bookings.yaml"
    schema.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    failures = sample / "failures.csv"
    result = run(
        "validate",
        str(sample / "batch" / "outpatient_visit.csv"),
        "--schema",
        str(schema),
        "--failures",
        str(failures),
    )
    assert result.exit_code == 1, result.stderr
    written = failures.read_text(encoding="utf-8")
    assert "PATI" in written and "patient_id" in written
    assert_clean(result.stdout + written, "a custom schema's validation")


def test_masking_rules() -> None:
    assert mask("320102198504125716", "id_card") == "3201************16"
    assert mask("张三", "name") == "张*"
    assert mask("诸葛明亮", "name") == "诸***"
    assert mask("张", "name") == "*"
    assert mask("12345", "id_card") == "*****"
    assert mask("PATIENT-SECRET-0001", "patient_id") == "PATI*************01"
    assert len(mask("x" * 10_000, "id_card")) < 40
    assert (
        shown("320102198504125716", "id_card", ("id_card", "name"), show_pii=True)
        == "320102198504125716"
    )
    assert (
        shown("320102198504125716", "patient_id", ("id_card", "name"), show_pii=False)
        == "320102198504125716"
    )
    assert shown(None, "name", ("name",), show_pii=False) == ""
