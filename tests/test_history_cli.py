"""The history end to end through the command line: nightly audits into one file, then compare,
trend, show, accept, prune and import; regressions in the gate; concurrent writers; runs that
cannot run; foreign and damaged files; and no patient identifier in the file."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.history import sparkline

from builders import (
    CLI_ENV,
    NIGHTLY_ORGS,
    NIGHTLY_POLICY,
    VISIT_ID_CARD,
    assert_one_line_error,
    nightly_batch,
)

A, B, C = NIGHTLY_ORGS  # 甲医院, 乙医院, 丙卫生院
ROOT = Path(__file__).resolve().parents[1]
RULES = """
[regressions.outpatient_rate]
max_drop_points = 10
severity = "fail"
"""


@pytest.fixture(autouse=True)
def no_history_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NJ_AUDIT_HISTORY", raising=False)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env=CLI_ENV)


class Nights:
    """Nightly batches in a folder and the commands that audit them into one history."""

    def __init__(self, root: Path, runner: CliRunner, rules: str = ""):
        self.root, self.runner = root, runner
        root.mkdir(parents=True, exist_ok=True)
        self.file = root / "history.sqlite"
        self.policy = root / "policy.toml"
        self.policy.write_text(NIGHTLY_POLICY + rules, encoding="utf-8")

    def batch(self, day: str, realtime: dict[str, float]) -> list[str]:
        uploads, registry = nightly_batch(self.root / day, day, realtime)
        return [str(uploads), "--registry", str(registry), "--policy", str(self.policy)]

    def audit(self, day: str, realtime: dict[str, float], *args: str) -> Any:
        return self.run("audit", *self.batch(day, realtime), "--history", str(self.file), *args)

    def run(self, *args: str) -> Any:
        return self.runner.invoke(app, list(args))

    def history(self, *args: str) -> Any:
        return self.run("history", *args, "--history", str(self.file))


def flat(text: str) -> str:
    """The text with its line breaks (a terminal's wrapping) folded into spaces."""
    return " ".join(text.split())


def findings(items: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {(i["org_code"], i["finding"], i["severity"]) for i in items}


def runs_in(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT count(*) FROM runs").fetchone()[0])
    finally:
        db.close()


def test_two_nightly_audits_then_compare_lists_exactly_what_changed(
    tmp_path: Path, runner: CliRunner
) -> None:
    nights = Nights(tmp_path, runner)
    first = nights.audit("2023-03-30", {A: 1.0, B: 0.3, C: 0.5}, "--label", "nightly")
    assert first.exit_code == 1, first.output  # B's outpatient rate 30% fails
    assert "no earlier comparable run in the history" in flat(first.stdout)
    second = nights.audit("2023-03-31", {A: 0.5, B: 1.0, C: 0.3}, "--label", "nightly")
    assert "since 20" in second.stdout
    assert "1 new, 1 resolved, 4 persisting findings; 0 regressions" in flat(second.stdout)

    compared = nights.history("compare", "--format", "json")
    assert compared.exit_code == 1  # a new finding, and C's got worse
    doc = json.loads(compared.stdout)
    assert (doc["base"]["id"], doc["head"]["id"]) == (1, 2)
    assert findings(doc["new"]) == {(A, "outpatient_rate", "warn")}
    assert findings(doc["resolved"]) == {(B, "outpatient_rate", "fail")}
    persisting = {(p["org_code"], p["finding"]): p["change"] for p in doc["persisting"]}
    assert persisting == {
        (A, "no_data"): "same",
        (B, "no_data"): "same",
        (C, "no_data"): "same",
        (C, "outpatient_rate"): "worse",
    }
    assert (doc["appeared"], doc["disappeared"]) == ([], [])
    assert {(r["org_code"], r["metric"]) for r in doc["regressions"]} == {
        (A, "outpatient_rate"),  # the default rules: more than 5 points down
        (C, "outpatient_rate"),
    }
    table = nights.history("compare")
    assert table.exit_code == 1
    assert "New findings (1)" in table.stdout and "Resolved findings (1)" in table.stdout
    summary = "1 new, 1 resolved, 4 persisting (1 worse, 3 same, 0 better) findings"
    assert summary in flat(table.stdout)

    same = nights.history("compare", "2", "2", "--format", "json")
    assert same.exit_code == 0  # nothing got worse
    assert json.loads(same.stdout)["new"] == []


def test_show_renders_a_stored_run_as_the_audit_printed_it(
    tmp_path: Path, runner: CliRunner
) -> None:
    nights = Nights(tmp_path, runner)
    recorded = nights.audit("2023-03-30", {A: 1.0, B: 0.3, C: 0.5}, "--format", "json")
    shown = nights.history("show", "latest", "--format", "json")
    assert shown.exit_code == 0
    assert shown.stdout_bytes == recorded.stdout_bytes  # the stored text, byte for byte
    batch = nights.batch("2023-03-30", {A: 1.0, B: 0.3, C: 0.5})
    for output_format in ("table", "csv", "markdown", "junit"):
        audited = nights.run("audit", *batch, "--format", output_format)
        again = nights.history("show", "1", "--format", output_format)
        assert again.exit_code == 0, again.output
        assert again.stdout == audited.stdout, output_format
    zh = nights.history("show", "--format", "csv", "--lang", "zh").stdout
    assert zh.splitlines()[0].startswith("\ufeff接入单位")
    missing = nights.history("show", "7")
    assert missing.exit_code == 2
    assert_one_line_error(missing.stderr, "no run '7'")


def test_trend_shows_an_institution_with_a_sparkline(tmp_path: Path, runner: CliRunner) -> None:
    nights = Nights(tmp_path, runner)
    for day, share in (("2023-03-29", 1.0), ("2023-03-30", 0.5), ("2023-03-31", 0.8)):
        nights.audit(day, {A: share, B: 1.0, C: 1.0})
    trend = nights.history("trend", "甲医院", "--metric", "outpatient_rate", "--format", "json")
    assert trend.exit_code == 0, trend.output
    (row,) = json.loads(trend.stdout)["rows"]
    assert row["values"] == [1.0, 0.5, 0.8]
    assert row["sparkline"] == sparkline([1.0, 0.5, 0.8]) == "█▁▅"
    assert (row["last"], row["change_previous"], row["change_baseline"]) == (0.8, 0.3, -0.2)
    assert (row["finding"], row["severity"], row["persisted"]) == ("outpatient_rate", "warn", 2)
    table = nights.history("trend", A)
    assert "█▁▅" in table.stdout and "outpatient_rate warn ×2" in table.stdout
    assert "-20.00pt" in table.stdout  # against the baseline: the first run
    markdown = nights.history("trend", "甲", "--format", "markdown", "--lang", "zh").stdout
    assert "| 指标 | 最新值 |" in markdown and "█▁▅" in markdown
    unknown = nights.history("trend", "丁医院")
    assert unknown.exit_code == 2
    assert_one_line_error(unknown.stderr, "丁医院")


def test_a_configured_regression_fails_the_gate(tmp_path: Path, runner: CliRunner) -> None:
    plain, gated = Nights(tmp_path / "plain", runner), Nights(tmp_path / "gated", runner, RULES)
    for nights in (plain, gated):
        assert nights.audit("2023-03-30", {A: 1.0, B: 1.0, C: 1.0}).exit_code == 0
    # A falls from 100% to 50%: a warn under the thresholds, a regression of 50 points
    assert plain.audit("2023-03-31", {A: 0.5, B: 1.0, C: 1.0}).exit_code == 0
    result = gated.audit("2023-03-31", {A: 0.5, B: 1.0, C: 1.0}, "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["passed"] is False
    (a,) = [i for i in doc["institutions"] if i["org_code"] == A]
    assert a["status"] == "fail"
    assert {"flag": "regression:outpatient_rate", "severity": "fail"}.items() <= a["flags"][
        -1
    ].items()
    assert "fell 50 points from 100.00% to 50.00% (limit 10)" in a["flags"][-1]["message"]
    assert all(i["status"] != "fail" for i in doc["institutions"] if i["org_code"] != A)
    stored = gated.history("show", "--format", "json").stdout
    assert stored == result.stdout  # the flag is in the stored document too
    table = gated.run("history", "show", "--format", "csv", "--history", str(gated.file))
    assert "regression:outpatient_rate" in table.stdout
    again = gated.audit("2023-03-31", {A: 0.5, B: 1.0, C: 1.0}, "--format", "markdown")
    assert "regression:" not in again.stdout  # against the previous run, now the same
    assert "0 new, 1 resolved, 4 persisting findings; 0 regressions" in again.stdout
    worse = gated.audit("2023-04-01", {A: 0.2, B: 1.0, C: 1.0}, "--format", "markdown")
    assert worse.exit_code == 1
    assert "since 20" in worse.stdout and "findings; 1 regression." in worse.stdout


def test_without_history_the_rules_change_nothing(tmp_path: Path, runner: CliRunner) -> None:
    plain, ruled = Nights(tmp_path / "plain", runner), Nights(tmp_path / "ruled", runner, RULES)
    outputs = []
    for nights in (plain, ruled):
        batch = nights.batch("2023-03-30", {A: 1.0, B: 0.3, C: 0.5})
        outputs.append(
            [
                nights.run("audit", *batch, "--format", f).stdout_bytes
                for f in ("json", "table", "markdown")
            ]
        )
        assert not nights.file.exists()
    plain_outputs, ruled_outputs = outputs
    normalised = [o.replace(b"plain", b"ruled") for o in plain_outputs]  # paths in the title
    assert ruled_outputs == normalised


def test_two_concurrent_audits_both_land(tmp_path: Path, runner: CliRunner) -> None:
    nights = Nights(tmp_path, runner)
    batches = [
        nights.batch(day, {A: share, B: 1.0, C: 1.0})
        for day, share in (("2023-03-30", 1.0), ("2023-03-31", 0.5))
    ]
    env = {**os.environ, **CLI_ENV, "NJ_AUDIT_HISTORY": str(nights.file)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "nj_audit", "audit", *batch, "--format", "json"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for batch in batches
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], [err for _, err in outputs]
    listed = json.loads(nights.history("list", "--format", "json").stdout)["runs"]
    assert len(listed) == 2
    stored = {nights.history("show", str(r["id"]), "--format", "json").stdout for r in listed}
    assert stored == {out.decode("utf-8") for out, _ in outputs}


def test_a_run_that_cannot_run_records_nothing(tmp_path: Path, runner: CliRunner) -> None:
    nights = Nights(tmp_path, runner)
    batch = nights.batch("2023-03-30", {A: 1.0, B: 1.0, C: 1.0})
    history = ["--history", str(nights.file)]
    bad_period = nights.run("audit", *batch, *history, "--period", "2023-13")
    assert bad_period.exit_code == 2
    missing = nights.run("audit", str(tmp_path / "nowhere"), *history)
    assert missing.exit_code == 2
    unwritable = nights.run(
        "audit", *batch, *history, "--format", "json", "--output", str(tmp_path / "no" / "x.json")
    )
    assert unwritable.exit_code == 2  # the report could not be written: the run is not recorded
    assert runs_in(nights.file) == 0
    assert nights.run("audit", *batch, *history).exit_code == 0
    assert runs_in(nights.file) == 1


def test_a_foreign_or_damaged_file_is_refused_with_one_line(
    tmp_path: Path, runner: CliRunner
) -> None:
    nights = Nights(tmp_path, runner)
    batch = nights.batch("2023-03-30", {A: 1.0, B: 1.0, C: 1.0})
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n", encoding="utf-8")
    foreign = tmp_path / "other.sqlite"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    newer = tmp_path / "newer.sqlite"
    assert runner.invoke(app, ["audit", *batch, "--history", str(newer)]).exit_code == 0
    db = sqlite3.connect(newer)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    cases = [(text, "not a SQLite database"), (foreign, "not an nj-audit history"),
             (newer, "newer than this nj-audit reads")]  # fmt: skip
    for path, message in cases:
        before = path.read_bytes()
        for args in (["audit", *batch], ["history", "list"], ["history", "compare"]):
            result = runner.invoke(app, [*args, "--history", str(path)])
            assert result.exit_code == 2, (args, result.output)
            assert_one_line_error(result.stderr, str(path), message)
        assert path.read_bytes() == before  # refused, never modified

    damaged = tmp_path / "damaged.sqlite"
    for day in ("2023-03-30", "2023-03-31"):
        batch = nights.batch(day, {A: 0.5, B: 1.0, C: 1.0})
        runner.invoke(app, ["audit", *batch, "--history", str(damaged)])
    db = sqlite3.connect(damaged)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    with damaged.open("r+b") as handle:  # the header stays; pages after the first ones do not
        handle.seek(4096 * 3)
        handle.write(b"\xff" * 4096 * 30)
    result = runner.invoke(app, ["history", "compare", "--history", str(damaged)])
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, str(damaged), "cannot use the history file")


def test_the_history_never_holds_a_patient_identifier(tmp_path: Path, runner: CliRunner) -> None:
    nights = Nights(tmp_path, runner)
    uploads, registry = nightly_batch(tmp_path / "n", "2023-03-30", {A: 1.0, B: 0.5})
    visits = uploads / "outpatient_visit.csv"
    bad_id = VISIT_ID_CARD[:-1] + ("0" if VISIT_ID_CARD[-1] != "0" else "1")  # wrong check digit
    lines = visits.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(VISIT_ID_CARD, bad_id).replace("张三", "欧阳娜娜")
    visits.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(
        app, ["audit", str(uploads), "--registry", str(registry), "--history", str(nights.file)]
    )
    assert result.exit_code in (0, 1), result.output
    db = sqlite3.connect(nights.file)
    texts = [
        zlib.decompress(b).decode("utf-8") for (b,) in db.execute("SELECT body FROM documents")
    ]
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        for row in db.execute(f"SELECT * FROM {table}"):
            texts += [str(v) for v in row if not isinstance(v, bytes)]
    db.close()
    stored = "\n".join(texts)
    assert "id_card_checksum" in stored  # the failure is counted ...
    for value in (VISIT_ID_CARD, bad_id, VISIT_ID_CARD[:14], "张三", "欧阳娜娜"):
        assert value not in stored  # ... but no value is kept


def test_the_file_comes_from_the_option_the_environment_or_the_policy(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    nights = Nights(tmp_path, runner)
    batch = nights.batch("2023-03-30", {A: 1.0, B: 1.0, C: 1.0})
    none = runner.invoke(app, ["history", "list"])
    assert none.exit_code == 2
    assert_one_line_error(none.stderr, "no history file", "NJ_AUDIT_HISTORY")
    label = runner.invoke(app, ["audit", *batch, "--label", "x"])
    assert label.exit_code == 2
    assert_one_line_error(label.stderr, "--label needs a history file")

    from_env = CliRunner(env={**CLI_ENV, "NJ_AUDIT_HISTORY": str(tmp_path / "env.sqlite")})
    assert from_env.invoke(app, ["audit", *batch]).exit_code == 0
    assert runs_in(tmp_path / "env.sqlite") == 1

    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[tool.nj-audit]\nhistory = "audits/history.sqlite"\n', encoding="utf-8"
    )
    (project / "audits").mkdir()
    monkeypatch.chdir(project)
    uploads, registry = batch[0], batch[2]  # without --policy: the project's pyproject is used
    assert runner.invoke(app, ["audit", uploads, "--registry", registry]).exit_code == 1
    listed = runner.invoke(app, ["history", "list", "--format", "json"])
    assert len(json.loads(listed.stdout)["runs"]) == 1
    assert runs_in(project / "audits" / "history.sqlite") == 1


def test_accept_prune_and_import(tmp_path: Path, runner: CliRunner) -> None:
    nights = Nights(tmp_path, runner)
    saved = []
    for n, share in enumerate((1.0, 0.9, 0.8, 0.7)):
        day = f"2023-03-{27 + n}"
        result = nights.run(
            "audit", *nights.batch(day, {A: share, B: 1.0, C: 1.0}), "--format", "json"
        )
        saved.append(tmp_path / f"audit-{day}.json")
        saved[-1].write_text(result.stdout, encoding="utf-8")
    imported = nights.history("import", *map(str, saved[:3]), "--format", "json")
    assert imported.exit_code == 0, imported.output
    assert len(json.loads(imported.stdout)["added"]) == 3
    assert (
        "imported 0 runs (3 already stored)"
        in nights.history("import", *map(str, saved[:3])).stdout
    )
    # imported without --as, they compare with each other but not with an audit's runs
    assert nights.history("compare", "--format", "json").exit_code == 1
    nights.audit("2023-03-31", {A: 0.6, B: 1.0, C: 1.0})
    refused = nights.history("compare", "3", "latest")
    assert refused.exit_code == 2
    assert_one_line_error(refused.stderr, "not comparable", "command")
    forced = nights.history("compare", "3", "latest", "--force", "--format", "json")
    assert forced.exit_code == 1 and "warning: the runs' command differ" in forced.stderr
    vouched = nights.history(
        "import", str(saved[3]), "--as", "audit", "--policy", str(nights.policy)
    )
    assert vouched.exit_code == 0
    listed = json.loads(nights.history("list", "--format", "json").stdout)["runs"]
    assert [(r["id"], r["command"]) for r in listed] == [
        (1, "import"),
        (2, "import"),
        (3, "import"),
        (5, "audit"),
        (4, "audit"),
    ]  # in time order: the import's run is dated by its period
    assert nights.history("compare", "5", "4", "--format", "json").exit_code == 1  # comparable

    accepted = nights.history("accept", "2")
    assert "accepted run 2" in accepted.stdout
    pruned = nights.history("prune", "--keep", "2", "--format", "json")
    assert json.loads(pruned.stdout) == {"deleted": 2, "remaining": 3}
    listed = json.loads(nights.history("list", "--format", "json").stdout)["runs"]
    assert [(r["id"], r["accepted"]) for r in listed] == [(2, True), (5, False), (4, False)]
    bad = nights.history("prune", "--keep", "two")
    assert bad.exit_code == 2
    assert_one_line_error(bad.stderr, "bad --keep 'two'")


def test_compare_refuses_runs_of_other_settings(tmp_path: Path, runner: CliRunner) -> None:
    nights = Nights(tmp_path, runner)
    nights.audit("2023-03-30", {A: 1.0, B: 1.0, C: 1.0})
    nights.audit("2023-03-31", {A: 1.0, B: 1.0, C: 1.0}, "--window", "2h")
    default = nights.history("compare")
    assert default.exit_code == 2  # nothing before run 2 is comparable with it
    assert_one_line_error(default.stderr, "no run before run 2 is comparable")
    named = nights.history("compare", "1", "2")
    assert named.exit_code == 2
    assert_one_line_error(named.stderr, "not comparable", "window")
    forced = nights.history("compare", "1", "2", "--force")
    assert forced.exit_code == 0
    assert "warning: the runs' window differ" in forced.stderr


def test_compare_formats(tmp_path: Path, runner: CliRunner) -> None:
    nights = Nights(tmp_path, runner)
    nights.audit("2023-03-30", {A: 1.0, B: 0.3, C: 1.0})
    nights.audit("2023-03-31", {A: 0.5, B: 1.0, C: 1.0})
    junit = nights.history("compare", "--format", "junit")
    assert junit.exit_code == 1
    suite = ElementTree.fromstring(junit.stdout).find("testsuite")
    assert suite is not None
    cases = {(c.get("classname"), c.get("name")): c.find("failure") is not None for c in suite}
    assert cases == {
        ("nj-audit.new", f"甲医院 ({A}): outpatient_rate"): True,
        ("nj-audit.regression", f"甲医院 ({A}): regression:outpatient_rate"): True,
        ("nj-audit.resolved", f"乙医院 ({B}): outpatient_rate"): False,
    }
    markdown = nights.history("compare", "--format", "markdown").stdout
    assert markdown.startswith("## nj-audit history compare: something got worse")
    assert "### New findings (1)" in markdown and f"| 甲医院 \\({A}\\)" not in markdown
    assert f"| 甲医院 ({A}) | outpatient\\_rate | warn | 50.00% |" in markdown


def test_rank_is_recorded_too(tmp_path: Path, runner: CliRunner) -> None:
    history = str(tmp_path / "rank.sqlite")
    table = str(ROOT / "samples" / "hospitals_2022.csv")
    first = runner.invoke(app, ["rank", table, "--history", history, "--format", "json"])
    runner.invoke(app, ["rank", table, "--history", history, "--label", "again"])
    listed = json.loads(runner.invoke(app, ["history", "list", "--history", history, "--format",
                                            "json"]).stdout)["runs"]  # fmt: skip
    assert [(r["command"], r["label"]) for r in listed] == [("rank", None), ("rank", "again")]
    compared = runner.invoke(app, ["history", "compare", "--history", history, "--format", "json"])
    assert compared.exit_code == 0  # the same table: nothing new
    assert json.loads(compared.stdout)["new"] == []
    shown = runner.invoke(app, ["history", "show", "1", "--history", history, "--format", "json"])
    assert shown.stdout == first.stdout
