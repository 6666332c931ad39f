"""docs/contract.md § 5: thresholds, flags, status, policy files and the gate's exit codes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.errors import PolicyError
from nj_audit.policy import (
    FAIL,
    OK,
    WARN,
    Policy,
    evaluate_flags,
    gate_passes,
    load_policy,
    status_of,
)

from builders import VISIT_ORG as ORG
from builders import timed_visit as visit
from builders import write_rows as write

GOOD = dict(
    forms_covered=11,
    forms_required=11,
    outpatient_rate=0.95,
    discharge_rate=0.95,
    upload_day_ratio=1.0,
    valid_ratio=1.0,
)


def flags_of(**changes: object) -> dict[str, str]:
    values = {**GOOD, **changes}
    return {f.flag: f.severity for f in evaluate_flags(Policy(), **values)}  # type: ignore[arg-type]


def test_no_flag_is_ok() -> None:
    assert flags_of() == {}
    assert status_of(evaluate_flags(Policy(), **GOOD)) == OK  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("metric", "value", "expected"),
    [
        ("forms_covered", 11, None),
        ("forms_covered", 10, WARN),
        ("forms_covered", 6, WARN),
        ("forms_covered", 5, FAIL),
        ("outpatient_rate", 0.90, None),
        ("outpatient_rate", 0.8999, WARN),
        ("outpatient_rate", 0.60, WARN),
        ("outpatient_rate", 0.5999, FAIL),
        ("discharge_rate", 0.89, WARN),
        ("discharge_rate", 0.2, FAIL),
        ("upload_day_ratio", 0.95, None),
        ("upload_day_ratio", 0.94, WARN),
        ("upload_day_ratio", 0.79, FAIL),
        ("valid_ratio", 0.99, None),
        ("valid_ratio", 0.985, WARN),
        ("valid_ratio", 0.94, FAIL),
    ],
)
def test_thresholds(metric: str, value: float, expected: str | None) -> None:
    flag = {
        "forms_covered": "coverage",
        "upload_day_ratio": "upload_days",
        "valid_ratio": "validity",
    }.get(metric, metric)
    assert flags_of(**{metric: value}).get(flag) == expected


def test_null_rate_raises_only_no_data() -> None:
    assert flags_of(outpatient_rate=None) == {"no_data": WARN}
    assert flags_of(outpatient_rate=None, discharge_rate=None) == {"no_data": WARN}


def test_status_is_the_worst_flag_and_the_gate() -> None:
    assert (
        status_of(evaluate_flags(Policy(), **{**GOOD, "forms_covered": 10, "valid_ratio": 0.5}))
        == FAIL
    )  # type: ignore[arg-type]
    assert gate_passes([OK, WARN], "fail") and not gate_passes([OK, FAIL], "fail")
    assert not gate_passes([OK, WARN], "warn") and gate_passes([OK], "warn")
    assert gate_passes([FAIL], "never")


def test_policy_file_and_pyproject(tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(
        'window = "2h"\ncoverage_min_records = 5\nfail_on = "warn"\n'
        "[outpatient_rate]\nwarn = 0.8\nfail = 0.5\n"
        '[windows]\nlab_report = "48h"\n',
        encoding="utf-8",
    )
    policy = load_policy(policy_file)
    assert (
        policy.window_seconds == 7200
        and policy.coverage_min_records == 5
        and policy.fail_on == "warn"
    )
    assert policy.outpatient_rate.warn == 0.8 and policy.outpatient_rate.fail == 0.5
    assert (
        policy.window_for("lab_report") == 48 * 3600
        and policy.window_for("outpatient_visit") == 7200
    )
    assert policy.source == str(policy_file)
    (tmp_path / "pyproject.toml").write_text(
        "[tool.nj-audit]\n[tool.nj-audit.validity]\nwarn = 0.5\nfail = 0.4\n", encoding="utf-8"
    )
    found = load_policy(None, cwd=tmp_path)
    assert found.validity.warn == 0.5 and found.source == "pyproject.toml"
    # the nearest pyproject.toml at or above the working directory (contract § 5.3)
    below = tmp_path / "a" / "b"
    below.mkdir(parents=True)
    assert load_policy(None, cwd=below) == replace(found, source="../../pyproject.toml")
    # the search stops at the first pyproject.toml, even one without [tool.nj-audit]
    (tmp_path / "a" / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    assert load_policy(None, cwd=below) == Policy() and Policy().source == "defaults"


@pytest.mark.parametrize(
    "text",
    [
        'colour = "red"\n',
        '[coverage]\nwarn = "many"\n',
        "[coverage]\nsoft = 3\n",
        'window = "soon"\n',
        '[windows]\nnot_a_form = "1h"\n',
        'fail_on = "sometimes"\n',
        "coverage_min_records = -1\n",
        "this is not toml",
    ],
)
def test_bad_policies_are_refused(tmp_path: Path, text: str) -> None:
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError):
        load_policy(policy_file)
    data = write(
        tmp_path / "outpatient_visit.csv",
        [visit("a", "2022-03-01 10:00:00", "2022-03-01 11:00:00")],
    )
    result = CliRunner().invoke(app, ["audit", str(data), "--policy", str(policy_file)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and str(policy_file) in result.stderr
    assert "Traceback" not in result.stderr


def test_gate_exit_codes_follow_fail_on(tmp_path: Path) -> None:
    # one outpatient form only: coverage 1/11 fails, discharge rate is null -> no_data
    data = write(
        tmp_path / "outpatient_visit.csv",
        [visit("a", "2022-03-01 10:00:00", "2022-03-01 11:00:00")],
    )
    runner = CliRunner()
    assert runner.invoke(app, ["audit", str(data)]).exit_code == 1
    assert runner.invoke(app, ["audit", str(data), "--fail-on", "never"]).exit_code == 0
    lenient = tmp_path / "lenient.toml"
    lenient.write_text("[coverage]\nwarn = 1\nfail = 0\n", encoding="utf-8")
    assert (
        runner.invoke(app, ["audit", str(data), "--policy", str(lenient)]).exit_code == 0
    )  # only no_data: warn
    assert (
        runner.invoke(
            app, ["audit", str(data), "--policy", str(lenient), "--fail-on", "warn"]
        ).exit_code
        == 1
    )
    doc = json.loads(
        runner.invoke(
            app, ["audit", str(data), "--policy", str(lenient), "--format", "json"]
        ).stdout
    )
    assert doc["passed"] is True
    inst = doc["institutions"][0]
    assert inst["org_code"] == ORG and inst["status"] == "warn"
    assert [f["flag"] for f in inst["flags"]] == ["no_data"]
