"""The 14 pandera YAML schemas against docs/contract.md § 3, `schemas list/show`, and the installed
package."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.errors import SchemaFileError
from nj_audit.forms import FORM_BY_ID, FORM_IDS, REALTIME_FORM_IDS
from nj_audit.schemas import DATE, NUMBER, TEXT, TIME, load_schema, load_schema_file, schema_path

from builders import (
    ARCHIVE_FORMS,
    FORMS,
    NUMBER_COLUMNS,
    REALTIME_FORMS,
    SPEC_COLUMNS,
    TIME_COLUMNS,
    assert_one_line_error,
    is_required,
    rows_of,
    write_csv,
)

REPO = Path(__file__).resolve().parent.parent
SCHEMA_DIR = REPO / "schemas"

LABELS = {
    "outpatient_registration": ("门急诊挂号", "挂号时间"),
    "outpatient_visit": ("门急诊就诊", "就诊时间"),
    "outpatient_prescription": ("门急诊处方", "开方时间"),
    "outpatient_settlement": ("门急诊结算", "结算时间"),
    "lab_report": ("检验报告", "报告时间"),
    "exam_report": ("检查报告", "报告时间"),
    "inpatient_admission": ("入院登记", "入院时间"),
    "inpatient_order": ("住院医嘱", "开立时间"),
    "inpatient_discharge": ("出院记录", "出院时间"),
    "inpatient_settlement": ("住院结算", "结算时间"),
    "surgery_record": ("手术记录", "手术结束时间"),
    "health_record": ("居民健康档案", "建档日期"),
    "hypertension_followup": ("高血压随访", "随访日期"),
    "diabetes_followup": ("糖尿病随访", "随访日期"),
}
COLUMN_LABELS = {
    "org_code": "机构代码",
    "record_id": "记录流水号",
    "upload_time": "上传时间",
    "patient_id": "患者ID",
    "id_card": "身份证号",
    "name": "姓名",
    "sex_code": "性别代码",
    "birth_date": "出生日期",
}
CLI_ENV = {"COLUMNS": "250", "NO_COLOR": "1", "TERM": "dumb", "CI": "1"}


def expected_kind(column: str) -> str:
    if column == "birth_date":
        return DATE
    if column in TIME_COLUMNS:
        return TIME
    if column in NUMBER_COLUMNS:
        return NUMBER
    return TEXT


def test_the_catalogue() -> None:
    assert FORM_IDS == FORMS
    assert REALTIME_FORM_IDS == REALTIME_FORMS
    assert len(REALTIME_FORM_IDS) == 11
    assert {f for f in FORM_IDS if not FORM_BY_ID[f].realtime} == set(ARCHIVE_FORMS)
    for form, (label, _) in LABELS.items():
        assert FORM_BY_ID[form].label == label


def test_one_schema_file_per_form() -> None:
    assert set(FORMS) <= {p.stem for p in SCHEMA_DIR.glob("*.yaml")}


@pytest.mark.parametrize("path", sorted(SCHEMA_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_every_schema_file_loads(path: Path) -> None:
    spec = load_schema_file(path)
    assert spec.name == path.stem
    assert spec.columns
    if path.stem in LABELS:
        assert spec.schema.title == LABELS[path.stem][0]


@pytest.mark.parametrize("form", FORMS)
def test_schema_matches_spec(form: str) -> None:
    spec = load_schema(form)
    assert [c.name for c in spec.columns] == list(SPEC_COLUMNS[form])
    for column in spec.columns:
        assert column.required == is_required(form, column.name), column.name
        assert column.kind == expected_kind(column.name), column.name
        assert column.pii == (column.name in ("id_card", "name")), column.name
        if column.name in COLUMN_LABELS:
            assert column.label == COLUMN_LABELS[column.name]
    assert spec.column("event_time").label == LABELS[form][1]
    assert set(spec.pii_columns) == {"id_card", "name"} & set(SPEC_COLUMNS[form])


@pytest.mark.parametrize("form", FORMS)
def test_installed_schema_is_the_repo_schema(form: str) -> None:
    installed = schema_path(form)
    assert installed.is_file()
    assert installed.read_bytes() == (SCHEMA_DIR / f"{form}.yaml").read_bytes()


def test_unknown_form() -> None:
    with pytest.raises(SchemaFileError):
        load_schema("outpatient_visitor")


def test_bad_schema_file(tmp_path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("schema_type: dataframe\ncolumns: [1, 2\n", encoding="utf-8")
    with pytest.raises(SchemaFileError) as info:
        load_schema_file(path)
    assert "broken.yaml" in str(info.value)


# -- schemas list / show ---------------------------------------------------------------------------


def test_schemas_list() -> None:
    result = CliRunner(env=CLI_ENV).invoke(app, ["schemas", "list"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    for form, (label, _) in LABELS.items():
        line = next(line for line in result.stdout.splitlines() if f" {form} " in line)
        assert label in line
        assert ("real-time" if form in REALTIME_FORMS else "archive") in line
        assert f" {len(SPEC_COLUMNS[form])} " in line


@pytest.mark.parametrize("form", FORMS)
def test_schemas_show(form: str) -> None:
    result = CliRunner(env=CLI_ENV).invoke(app, ["schemas", "show", form])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert form in result.stdout and LABELS[form][0] in result.stdout
    for column in SPEC_COLUMNS[form]:
        assert f" {column} " in result.stdout
    assert "not_after(column=event_time, other=upload_time)" in result.stdout


def test_schemas_show_unknown_form() -> None:
    result = CliRunner(env=CLI_ENV).invoke(app, ["schemas", "show", "outpatient_visitor"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert_one_line_error(result.stderr, "outpatient_visitor")


# -- the installed command, in a subprocess, outside the repository --------------------------------


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    return {**env, **CLI_ENV}


def test_python_m_help(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nj_audit", "--help"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    for command in ("validate", "audit", "schemas"):
        assert command in done.stdout
    assert "Traceback" not in done.stderr


def test_console_script_outside_the_repo(tmp_path) -> None:
    script = Path(sys.executable).parent / "nj-audit"
    assert script.exists()
    done = subprocess.run(
        [str(script), "schemas", "list"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    for form in FORMS:
        assert form in done.stdout


def test_validate_outside_the_repo(tmp_path) -> None:
    write_csv(
        tmp_path / "outpatient_visit.csv", rows_of("outpatient_visit", {}, {"visit_type": "3"})
    )
    write_csv(tmp_path / "good" / "lab_report.csv", rows_of("lab_report", {}))
    command = [sys.executable, "-m", "nj_audit", "validate"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*command, *args], cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=60
        )

    bad = run("outpatient_visit.csv", "--format", "json")
    assert bad.returncode == 1, bad.stderr
    assert '"invalid_rows": 1' in bad.stdout
    good = run("good")
    assert good.returncode == 0, good.stderr
    missing = run("nope.csv")
    assert missing.returncode == 2
    assert missing.stdout == ""
    assert_one_line_error(missing.stderr, "nope.csv")
