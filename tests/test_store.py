"""Issue 13, the state store: daily folders added in any order audit to the document one audit of
all their files gives (corrections across days and months, ties by path), with any period, bucket
count and memory limit, before and after compaction; adds are idempotent, atomic and one at a time;
a store made with other settings is refused."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.generate import generate_batch, split_by_upload_day
from nj_audit.period import parse_period

from builders import CLI_ENV

RUNNER = CliRunner(env=CLI_ENV)


def run(*args: str, code: int | tuple[int, ...] = (0, 1)) -> str:
    result = RUNNER.invoke(app, list(args))
    codes = code if isinstance(code, tuple) else (code,)
    assert result.exit_code in codes, result.output
    return result.stdout


def audit(*args: str) -> dict:
    return json.loads(run("audit", *args, "--format", "json", "--fail-on", "never"))


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Daily folders of a week across a month's end (and one of rows without an upload date):
    corrections uploaded days after the first upload, in other files, across the months."""
    root = tmp_path_factory.mktemp("store-batch")
    generate_batch(
        root / "batch",
        institutions=2,
        rows=700,
        period=parse_period("2022-02-26:2022-03-03"),
        seed=11,
        correction_share=0.3,
        invalid_share=0.1,
        missing_form_share=0.8,
    )
    folders = split_by_upload_day(root / "batch", root / "days")
    assert folders[-1].name == "undated" and len(folders) >= 6
    return folders


PERIODS = ("2022-03", "2022-02-27:2022-03-01")


@pytest.fixture(scope="module")
def by_period(days: list[Path]) -> dict[str, dict]:
    return {period: audit(*map(str, days), "--period", period) for period in PERIODS}


@pytest.fixture(scope="module")
def whole(days: list[Path]) -> dict:
    document = audit(*map(str, days))
    assert any(
        f["records"] < f["rows"] for i in document["institutions"] for f in i["forms"].values()
    )
    return document


def add(store: Path, *paths: Path, extra: tuple[str, ...] = ()) -> str:
    return run("state", "add", str(store), *map(str, paths), "--quiet", *extra, code=0)


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(order=st.randoms(use_true_random=False), buckets=st.sampled_from([1, 2, 7, 64]))
def test_daily_adds_in_any_order_audit_like_one_run(
    tmp_path_factory: pytest.TempPathFactory,
    days: list[Path],
    whole: dict,
    by_period: dict[str, dict],
    order: random.Random,
    buckets: int,
) -> None:
    store = tmp_path_factory.mktemp("store") / "store"
    shuffled = list(days)
    order.shuffle(shuffled)
    first, rest = shuffled[:2], shuffled[2:]
    add(store, *first, extra=("--buckets", str(buckets)))  # several days in one add
    for day in rest:
        add(store, day, extra=("--memory-limit", "64KiB"))  # spilling: several files a day
    assert audit("--state", str(store)) == whole
    for period, expected in by_period.items():
        assert audit("--state", str(store), "--period", period) == expected
    assert audit("--state", str(store), "--memory-limit", "32KiB") == whole  # the fold spills
    run("state", "compact", str(store), code=0)
    assert audit("--state", str(store)) == whole
    assert audit("--state", str(store), "--period", PERIODS[1]) == by_period[PERIODS[1]]


def test_options_of_the_report_apply_to_a_store(tmp_path: Path, days: list[Path]) -> None:
    store = tmp_path / "store"
    add(store, *days)
    registry = tmp_path / "registry.csv"
    codes = sorted({p.parent.name for d in days for p in d.rglob("*.csv")})
    registry.write_text(
        "org_code,name,district\n" + "".join(f"{c},x{i},玄武区\n" for i, c in enumerate(codes[:2])),
        encoding="utf-8",
    )
    for options in (
        ["--registry", str(registry)],
        ["--registry", str(registry), "--by", "district"],
    ):
        assert audit("--state", str(store), *options) == audit(*map(str, days), *options)
    table = run("audit", "--state", str(store), "--fail-on", "never")
    assert table == run("audit", *map(str, days), "--fail-on", "never")


def test_adding_twice_changes_nothing(tmp_path: Path, days: list[Path]) -> None:
    store = tmp_path / "store"
    add(store, days[0], days[1])
    before = (audit("--state", str(store)), _manifest(store))
    result = RUNNER.invoke(app, ["state", "add", str(store), str(days[1]), "--quiet"])
    assert result.exit_code == 0
    assert "added 0 files" in result.stdout and "already in the store" in result.stdout
    assert "nothing new: the store is unchanged" in result.stderr
    assert (audit("--state", str(store)), _manifest(store)) == before
    files = sqlite3.connect(store / "store.sqlite").execute(
        "SELECT path, size, digest, rows, added_at FROM files"
    )
    for path, size, digest, rows, added_at in files:
        assert Path(path).is_absolute() and Path(path).stat().st_size == size
        assert len(digest) == 64 and rows > 0 and added_at.endswith("+00:00")


def test_other_content_under_a_known_path_is_refused(tmp_path: Path, days: list[Path]) -> None:
    day = tmp_path / "day"
    day.mkdir()
    source = next(days[0].rglob("*.csv"))
    target = day / source.name
    target.write_bytes(source.read_bytes())
    store = tmp_path / "store"
    add(store, day)
    target.write_bytes(source.read_bytes() + source.read_bytes().splitlines(True)[-1])
    result = RUNNER.invoke(app, ["state", "add", str(store), str(day)])
    assert result.exit_code == 2
    assert f"{target}: already in the store with other content" in result.stderr


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--window", "2h"], "made with the window 86400s; this run's window is 7200s"),
        (["--policy", "POLICY"], "made with the per-form windows {}; this run's are"),
    ],
)
def test_a_store_with_other_windows_is_refused(
    tmp_path: Path, days: list[Path], option: list[str], message: str
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[windows]\nlab_report = "2h"\n', encoding="utf-8")
    option = [str(policy) if o == "POLICY" else o for o in option]
    store = tmp_path / "store"
    add(store, days[0])
    for command in (["state", "add", str(store), str(days[1])], ["audit", "--state", str(store)]):
        result = RUNNER.invoke(app, [*command, *option])
        assert result.exit_code == 2
        assert message in result.stderr, result.stderr


def test_a_store_of_other_schemas_or_columns_is_refused(tmp_path: Path, days: list[Path]) -> None:
    store = tmp_path / "store"
    add(store, days[0])
    db = sqlite3.connect(store / "store.sqlite")
    db.execute("UPDATE settings SET value = 'x' WHERE key = 'schemas'")
    db.commit()
    result = RUNNER.invoke(app, ["audit", "--state", str(store)])
    assert result.exit_code == 2 and "made with other schemas (rules)" in result.stderr
    db.execute("UPDATE settings SET value = value || ',delay_bucket:int8' WHERE key = 'columns'")
    db.commit()
    result = RUNNER.invoke(app, ["state", "add", str(store), str(days[1])])
    assert result.exit_code == 2
    assert "made with states of the columns org:int32," in result.stderr
    assert "delay_bucket:int8; this nj-audit's states have org:int32" in result.stderr


def test_what_is_not_a_store_is_refused(tmp_path: Path, days: list[Path]) -> None:
    result = RUNNER.invoke(app, ["audit", "--state", str(days[0])])
    assert result.exit_code == 2 and "not a state store (no store.sqlite in it)" in result.stderr
    result = RUNNER.invoke(app, ["state", "add", str(days[0]), str(days[1])])
    assert (
        result.exit_code == 2
        and "not a state store (no store.sqlite) and not empty" in result.stderr
    )
    for args in (["audit"], ["audit", str(days[0]), "--state", str(tmp_path)]):
        result = RUNNER.invoke(app, args)
        assert result.exit_code == 2 and "give upload files or folders, or --state" in result.stderr


def test_info_tells_what_the_store_holds(tmp_path: Path, days: list[Path], whole: dict) -> None:
    store = tmp_path / "store"
    add(store, *days[:4])
    add(store, *days[4:], extra=("--memory-limit", "64KiB"))
    info = json.loads(run("state", "info", str(store), "--records", "--json", code=0))
    raw = audit(*map(str, days))
    assert (
        info["rows"]
        == sum(i["rows_uploaded"] for i in raw["institutions"])
        == sum(i["rows_uploaded"] for i in whole["institutions"])
    )
    assert info["records"] == sum(i["records"] for i in raw["institutions"])
    assert info["institutions"] == len(raw["institutions"])
    assert info["files"] == sum(1 for d in days for _ in d.rglob("*.csv"))
    assert info["first_day"] == "2022-02-26" and info["adds"] == 2
    assert info["states"] >= info["records"] and info["bytes_on_disk"] > 0
    text = run("state", "info", str(store), code=0)
    assert "upload dates:     2022-02-26 to 2022-03-03" in text and "buckets:          64" in text
    before = info["partition_files"]
    compacted = run("state", "compact", str(store), code=0)
    assert "days compacted" in compacted
    after = json.loads(run("state", "info", str(store), "--json", code=0))
    assert (
        after["partition_files"]
        == len({p.parent for p in (store / "days").glob("*/*.arrow")})
        < before
    )
    assert run("state", "compact", str(store), code=0).endswith(
        "nothing to compact (one partition file a day)\n"
    )


def _manifest(store: Path) -> tuple[list, list]:
    db = sqlite3.connect(store / "store.sqlite")
    tables = ["files", "parts", "counts", "checks", "orgs", "adds", "skipped"]
    return (
        [db.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in tables],
        sorted(str(p.relative_to(store)) for p in store.rglob("*") if p.is_file()),
    )


GATED_ADD = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from nj_audit.store import parts
    write, gate = parts.PartWriter.write, Path(sys.argv[1])
    def gated(self, state):  # the first partition file is written, then the add waits at a gate
        write(self, state)
        while not gate.exists():
            time.sleep(0.01)
    parts.PartWriter.write = gated
    from nj_audit.__main__ import main
    sys.argv = ["nj-audit", *sys.argv[2:]]
    main()
    """
)


def _gated_add(gate: Path, store: Path, *paths: Path) -> subprocess.Popen[str]:
    """`state add` in a process of its own that stops after writing its first partition file,
    until `gate` exists."""
    return subprocess.Popen(
        [sys.executable, "-c", GATED_ADD, str(gate), "state", "add", str(store), *map(str, paths),
         "--quiet", "--memory-limit", "64KiB"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def _wait_for(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)


def _parts(store: Path) -> int:
    return len(list((store / "days").glob("*/*")))


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["kill", "ctrl-c"])
def test_an_interrupted_add_leaves_the_store_as_it_was(
    tmp_path: Path, days: list[Path], how: signal.Signals
) -> None:
    store = tmp_path / "store"
    add(store, days[0], extra=("--buckets", "4"))
    before = audit("--state", str(store))
    manifest = _manifest(store)[0]
    listed = set(_manifest(store)[1])
    first_parts = _parts(store)
    process = _gated_add(tmp_path / "gate", store, *days[1:])
    _wait_for(lambda: _parts(store) > first_parts, "the add wrote a partition file")
    process.send_signal(how)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == (-9 if how == signal.SIGKILL else 2), stderr
    assert audit("--state", str(store)) == before
    assert _manifest(store)[0] == manifest
    if how == signal.SIGINT:  # cleaned up at once: nothing but the store's own files
        assert set(_manifest(store)[1]) == listed
        assert not list(store.rglob(".tmp-*"))
    add(store, *days[1:])  # the next add removes what the killed one left
    assert set(_manifest(store)[1]) >= listed and not list(store.rglob(".tmp-*"))
    assert audit("--state", str(store)) == audit(*map(str, days))


def test_two_adds_at_once_both_land(tmp_path: Path, days: list[Path], whole: dict) -> None:
    store = tmp_path / "store"
    add(store, days[0], extra=("--buckets", "4"))
    half = len(days) // 2
    gate = tmp_path / "gate"
    first = _gated_add(gate, store, *days[1:half])
    _wait_for(lambda: _parts(store) > 1, "the first add is under way")
    second = _gated_add(gate, store, *days[half:])
    assert second.stderr is not None
    notice = ""
    while "finish" not in notice and (line := second.stderr.readline()):  # it waits, says so
        notice += line  # one line or wrapped in two, as the console's width has it
    assert "waiting for another nj-audit state command to finish" in " ".join(notice.split())
    gate.touch()
    _, err_first = first.communicate(timeout=120)
    _, err_second = second.communicate(timeout=120)
    assert first.returncode == second.returncode == 0, err_first + err_second
    assert audit("--state", str(store)) == whole


def test_the_store_holds_no_cell_value(tmp_path: Path, days: list[Path]) -> None:
    store = tmp_path / "store"
    add(store, *days)
    text = b"".join(p.read_bytes() for p in store.rglob("*") if p.is_file())
    for path in sorted(d for day in days for d in day.rglob("*.csv")):
        header, row = path.read_bytes().splitlines()[:2]
        values = dict(zip(header.decode().split(","), row.split(b",")))
        if {"record_id", "id_card", "name", "patient_id"} <= set(values):
            break
    for column in ("record_id", "id_card", "name", "patient_id"):
        assert values[column] not in text, column


def test_unreadable_files_are_findings_of_the_store_as_of_the_audit(
    tmp_path: Path, days: list[Path]
) -> None:
    """SPEC § 2 and § 8: an unreadable file is a finding, not the end of an add, and
    `audit --state` lists it (and flags its institution) as the audit of the files does; the rows
    of a truncated file before the damage count in both. Adding it again changes nothing."""
    import shutil

    hostile = Path(__file__).parent / "fixtures" / "hostile"
    batch = tmp_path / "batch"
    shutil.copytree(days[1], batch)
    org = next(p.name for p in batch.iterdir() if p.is_dir())
    shutil.copy(hostile / "outpatient_visit_binary_junk.csv", batch / org / "lab_report_x.csv")
    shutil.copy(hostile / "outpatient_visit_truncated.csv.gz", batch / "outpatient_visit_t.csv.gz")
    shutil.copy(hostile / "outpatient_visit_empty.csv", batch / "exam_report.csv")
    (batch / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    direct = audit(str(batch))
    assert {u["reason"] for u in direct["unreadable"]} == {"binary", "truncated", "no_header"}
    store = tmp_path / "store"
    added = RUNNER.invoke(app, ["state", "add", str(store), str(batch), "--quiet"])
    assert added.exit_code == 0, added.output
    assert sum("warning: " in line for line in added.stderr.splitlines()) == 3
    assert audit("--state", str(store)) == direct
    again = RUNNER.invoke(app, ["state", "add", str(store), str(batch), "--quiet"])
    assert again.exit_code == 0 and audit("--state", str(store)) == direct


def test_one_file_named_two_ways_counts_once(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A relative and an absolute spelling, a folder and a file in it, a link to a folder: the
    audit reads the file once, and the store (in one add or in two) holds it once."""
    from builders import valid_row, write_csv

    day = tmp_path / "uploads" / "day1"
    rows = [valid_row("outpatient_visit", record_id=f"R{n}") for n in range(3)]
    write_csv(day / "outpatient_visit.csv", rows)
    (tmp_path / "link").symlink_to(tmp_path / "uploads", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    once = json.loads(run("audit", "uploads/day1", "--format", "json"))
    assert once["institutions"][0]["rows_uploaded"] == 3
    spellings = ("uploads/day1/outpatient_visit.csv", str(day / "outpatient_visit.csv"))
    for paths in (spellings, ("uploads/day1", spellings[0]), ("uploads/day1", "link/day1")):
        assert json.loads(run("audit", *paths, "--format", "json")) == once, paths
    run("state", "add", "store", *spellings, code=0)
    run("state", "add", "store2", "uploads/day1", code=0)
    again = run("state", "add", "store2", "link/day1", code=0)
    assert "added 0 files" in again and "already in the store with the same content" in again
    for store in ("store", "store2"):
        assert json.loads(run("audit", "--state", store, "--format", "json")) == once
