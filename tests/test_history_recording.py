"""Recording a run: regression flags on the report's rows (one per metric, status and gate
recomputed), the digests that make runs comparable, and [regressions] in the policy."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.errors import PolicyError
from nj_audit.history import Regression, RegressionRules
from nj_audit.history.recording import (
    entity_key,
    inputs_digest,
    policy_digest,
    with_regressions,
)
from nj_audit.policy import Policy, Threshold, load_policy, policy_from_mapping
from nj_audit.results import AuditResult, Flag, InstitutionResult

from builders import CLI_ENV, assert_one_line_error


def row(org_code: str | None, name: str | None, status: str = "ok") -> InstitutionResult:
    flags = () if status == "ok" else (Flag("validity", status, "valid ratio is low"),)
    return InstitutionResult(
        org_code, name, None, 10, 10, 10, 1.0, 1, 1, 1.0, 11, 11, 0.95, 0.95, status, flags
    )


def regression(kind: str, code: str, metric: str, rule: str, severity: str) -> Regression:
    return Regression(kind, code, None, None, metric, 0.9, 0.7, -0.2, rule, severity,
                      f"{metric} broke {rule}", "previous")  # fmt: skip


RESULT = AuditResult(
    None,
    86400,
    True,
    "fail",
    (row("O1", "甲"), row("O2", "乙", "warn"), row(None, "丙卫生院")),
    (),
)


def test_regressions_become_one_flag_per_metric_and_fail_the_gate() -> None:
    found = [
        regression("org_code", "O1", "outpatient_rate", "max_drop_points", "warn"),
        regression("org_code", "O1", "outpatient_rate", "consecutive_declines", "fail"),
        regression("org_code", "O1", "valid_ratio", "max_drop_points", "warn"),
        regression("name", "丙卫生院", "rows_uploaded", "max_relative_drop", "warn"),
    ]
    flagged = with_regressions(RESULT, found, "institution")
    first, second, third = flagged.institutions
    assert [(f.flag, f.severity) for f in first.flags] == [
        ("regression:outpatient_rate", "fail"),  # the worse of its two rules
        ("regression:valid_ratio", "warn"),
    ]
    assert first.flags[0].message == (
        "outpatient_rate broke max_drop_points; outpatient_rate broke consecutive_declines"
    )
    assert (first.status, second, third.status) == ("fail", RESULT.institutions[1], "warn")
    assert flagged.passed is False


def test_warn_regressions_pass_a_fail_gate_and_nothing_found_changes_nothing() -> None:
    found = [regression("org_code", "O2", "rows_uploaded", "max_relative_drop", "warn")]
    flagged = with_regressions(RESULT, found, "institution")
    assert flagged.passed is True
    assert flagged.institutions[1].status == "warn"
    assert with_regressions(replace(RESULT, fail_on="warn"), found, "institution").passed is False
    assert with_regressions(RESULT, [], "institution") is RESULT
    # a failed gate stays failed, whatever the statuses (an empty audit, an unreadable file)
    failed = replace(RESULT, passed=False)
    assert with_regressions(failed, found, "institution").passed is False


def test_rows_are_keyed_as_the_history_keys_them() -> None:
    assert entity_key(row("O1", "甲"), "institution") == ("org_code", "O1")
    assert entity_key(row(None, "丙卫生院"), "institution") == ("name", "丙卫生院")
    assert entity_key(row(None, "玄武区"), "district") == ("district", "玄武区")
    assert entity_key(row(None, None), "institution") is None


def test_the_policy_digest_follows_what_changes_findings() -> None:
    base = policy_digest(Policy())
    rules = RegressionRules.from_mapping({"outpatient_rate": {"max_drop_points": 5}})
    same = (
        Policy(fail_on="never"),
        Policy(regressions=rules),
        Policy(history=Path("elsewhere.sqlite")),
        Policy(window_seconds=3600),  # the window is a setting of its own
    )
    assert {policy_digest(p) for p in same} == {base}
    other = (
        Policy(validity=Threshold(0.98, 0.95)),
        Policy(coverage_min_records=2),
        Policy(form_windows={"lab_report": 7200}),
    )
    assert len({base, *(policy_digest(p) for p in other)}) == 4


def test_the_inputs_digest_follows_names_sizes_and_times(tmp_path: Path) -> None:
    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "lab_report.csv").write_text("a\n", encoding="utf-8")
    first = inputs_digest([folder])
    assert inputs_digest([folder]) == first
    (folder / "lab_report.csv").write_text("ab\n", encoding="utf-8")
    assert inputs_digest([folder]) != first


def test_regressions_in_a_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        '[regressions]\nbaseline = "median:7"\nseverity = "fail"\n'
        "[regressions.outpatient_rate]\nmax_drop_points = 5\n"
        '[regressions.rows_uploaded]\nmax_relative_drop = 0.5\nseverity = "warn"\n',
        encoding="utf-8",
    )
    rules = load_policy(path).regressions
    assert rules is not None and rules.baseline == "median:7"
    assert [(r.metric, r.severity) for r in rules.rules] == [
        ("outpatient_rate", "fail"),  # the table's severity
        ("rows_uploaded", "warn"),  # its own
    ]
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[tool.nj-audit]\nhistory = "audits/h.sqlite"\n'
        "[tool.nj-audit.regressions.valid_ratio]\nconsecutive_declines = 3\n",
        encoding="utf-8",
    )
    policy = load_policy(None, cwd=tmp_path)
    assert policy.history == tmp_path / "audits" / "h.sqlite"
    assert policy.regressions is not None and policy.regressions.rules[0].consecutive_declines == 3
    assert Policy().regressions is None and Policy().history is None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"regressions": {"outpatient_rat": {"max_drop_points": 5}}}, "unknown regression metric"),
        ({"regressions": {"valid_ratio": {"max_drop_points": -1}}}, "must not be negative"),
        ({"regressions": {"severity": "error"}}, "severity must be warn or fail"),
        ({"regressions": {"baseline": "last"}}, "baseline must be"),
        ({"regressions": 5}, "must be a table"),
        ({"history": ""}, "history must be a file name"),
        ({"history": 3}, "history must be a file name"),
    ],
)
def test_bad_regressions_are_policy_errors(table: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        policy_from_mapping(table, Path("policy.toml"))


def test_a_bad_regressions_table_stops_the_audit_with_one_line(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("[regressions.outpatient_rate]\nmax_drop = 5\n", encoding="utf-8")
    result = CliRunner(env=CLI_ENV).invoke(
        app, ["audit", str(tmp_path), "--policy", str(policy), "--history", str(tmp_path / "h")]
    )
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, str(policy), "[regressions]", "unknown keys 'max_drop'")
    assert not (tmp_path / "h").exists()
