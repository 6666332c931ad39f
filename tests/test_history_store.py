"""The history store: exact documents, one transaction per run, concurrent writers, schema
versions and foreign files, resolving runs, pinning, pruning, importing, and what it keeps."""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import subprocess
import sys
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from nj_audit.history import SCHEMA_VERSION, HistoryError, HistoryStore
from nj_audit.history import synthetic as syn
from nj_audit.history.extract import parse

ROOT = Path(__file__).resolve().parents[1]


def text_of(document: dict[str, Any]) -> str:
    return syn.render(document)


def counts(path: Path) -> dict[str, int]:
    db = sqlite3.connect(path)
    try:
        tables = ("runs", "documents", "entities", "appearances", "series", "observations",
                  "finding_names", "findings")  # fmt: skip
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    finally:
        db.close()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite"


def test_document_round_trips_byte_for_byte(path: Path) -> None:
    doc = syn.document(syn.entry(name="南京市第一医院（本部）", district="秦淮区"))
    variants = [
        text_of(doc),  # CJK as is
        json.dumps(doc, ensure_ascii=True),  # CJK escaped, one line
        json.dumps(doc, ensure_ascii=False, indent=4) + "\n\n  ",  # odd trailing whitespace
        '{"institutions": [], "note": "\\u7532 and 甲, \\ud83d\\ude00 😀"}',
    ]
    with HistoryStore.open(path) as store:
        runs = [store.append(v) for v in variants]
    with HistoryStore.open(path) as store:  # and after reopening
        for run, variant in zip(runs, variants, strict=True):
            assert store.document(run) == variant
            assert store.document(run.id).encode("utf-8") == variant.encode("utf-8")


def test_append_records_the_run(path: Path) -> None:
    doc = syn.document(syn.entry(), start="2022-03-01", end="2022-03-31")
    with HistoryStore.open(path) as store:
        run = store.append(
            text_of(doc),
            command="audit",
            label="march",
            started_at="2022-04-01T08:00:00+08:00",
            finished_at=datetime(2022, 4, 1, 0, 5, tzinfo=UTC),
            exit_code=0,
            tool_version="0.2.0",
            schema_digest="s1",
            policy_digest="p1",
            inputs_digest="i1",
            rows_read=200,
        )
    assert run.started_at == "2022-04-01T00:00:00Z" and run.finished_at == "2022-04-01T00:05:00Z"
    assert (run.period_start, run.period_end, run.period_days) == ("2022-03-01", "2022-03-31", 31)
    assert (run.command, run.scope, run.label, run.window_seconds) == (
        "audit",
        "institution",
        "march",
        86400,
    )
    assert (run.schema_digest, run.policy_digest, run.inputs_digest) == ("s1", "p1", "i1")
    assert run.passed is True and run.accepted is False and run.rows_read == 200
    assert run.document_digest == hashlib.sha256(text_of(doc).encode()).hexdigest()
    assert run.to_json()["period"] == {"start": "2022-03-01", "end": "2022-03-31", "days": 31}


def test_append_refuses_bad_input(path: Path) -> None:
    with HistoryStore.open(path) as store:
        with pytest.raises(HistoryError, match="not valid JSON"):
            store.append("{nope")
        with pytest.raises(HistoryError, match="not a JSON object"):
            store.append("[1, 2]")
        with pytest.raises(ValueError, match="command"):
            store.append("{}", command="validate")
        with pytest.raises(ValueError, match="UTC offset"):
            store.append("{}", started_at="2022-04-01T08:00:00")
        assert store.runs() == []


def test_a_failing_append_leaves_no_partial_run(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with HistoryStore.open(path) as store:
        syn.fill(store, 1, institutions=3, checks=4)
    before = counts(path)

    def explode(*args: object) -> None:
        raise RuntimeError("disk on fire")

    # The run row, entities, series and observations are written by now; findings come last.
    monkeypatch.setattr(HistoryStore, "_insert_findings", explode)
    with HistoryStore.open(path) as store:
        new = syn.make_document(5, 4, run=1)  # two institutions more: new entities and series
        with pytest.raises(RuntimeError, match="disk on fire"):
            store.append(text_of(new))
        assert counts(path) == before
        monkeypatch.undo()
        store.append(text_of(new))  # the store is still usable, and the run lands whole
    after = counts(path)
    assert after["runs"] == 2 and after["observations"] > before["observations"]


CONCURRENT_WRITER = """
import sys
from nj_audit.history import HistoryStore
from nj_audit.history import synthetic as syn
from nj_audit.history.extract import parse
path, seed = sys.argv[1], int(sys.argv[2])
with HistoryStore.open(path) as store:
    for n in range(20):
        store.append(syn.render(syn.make_document(4, 3, run=n, seed=seed)), label=f"w{seed}")
"""


def test_two_processes_appending_at_once_both_land(path: Path) -> None:
    HistoryStore.open(path).close()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_WRITER, str(path), str(seed)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2)
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
    with HistoryStore.open(path) as store:
        assert len(store.runs(label="w1")) == 20 and len(store.runs(label="w2")) == 20
        runs = store.runs()
        assert len({r.uuid for r in runs}) == 40
        for run in runs:  # every run whole: its observations match its own document
            doc = json.loads(store.document(run))
            stored = store.db.execute(
                "SELECT count(*) FROM observations WHERE run = ?", (run.id,)
            ).fetchone()[0]
            assert stored == sum(len(e.observations) for e in parse(doc).entities)


def test_open_sets_wal_and_marks_the_file(path: Path) -> None:
    with HistoryStore.open(path) as store:
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] >= 10_000
        meta = dict(store.db.execute("SELECT key, value FROM meta"))
    assert meta == {"application": "nj-audit-history", "schema_version": str(SCHEMA_VERSION)}


V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE runs (
    id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, started_at TEXT NOT NULL, finished_at TEXT,
    command TEXT NOT NULL, scope TEXT NOT NULL, label TEXT, period_start TEXT, period_end TEXT,
    period_days INTEGER, window_seconds INTEGER, tool_version TEXT, schema_digest TEXT,
    policy_digest TEXT, inputs_digest TEXT, rows_read INTEGER, exit_code INTEGER, passed INTEGER,
    accepted INTEGER NOT NULL DEFAULT 0, document BLOB NOT NULL
);
CREATE INDEX runs_order ON runs (started_at, id);
CREATE TABLE entities (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, code TEXT NOT NULL,
    UNIQUE (kind, code));
CREATE TABLE appearances (run INTEGER NOT NULL, entity INTEGER NOT NULL, name TEXT,
    district TEXT, status TEXT, PRIMARY KEY (run, entity)) WITHOUT ROWID;
CREATE INDEX appearances_entity ON appearances (entity, run);
CREATE TABLE series (id INTEGER PRIMARY KEY, entity INTEGER NOT NULL, form TEXT NOT NULL,
    "check" TEXT NOT NULL, metric TEXT NOT NULL, UNIQUE (entity, form, "check", metric));
CREATE TABLE observations (run INTEGER NOT NULL, series INTEGER NOT NULL, value REAL,
    numerator INTEGER, denominator INTEGER, PRIMARY KEY (run, series)) WITHOUT ROWID;
CREATE INDEX observations_series ON observations (series, run);
CREATE TABLE finding_names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE findings (run INTEGER NOT NULL, entity INTEGER NOT NULL, finding INTEGER NOT NULL,
    severity TEXT NOT NULL, value REAL, threshold REAL, message TEXT,
    PRIMARY KEY (run, entity, finding)) WITHOUT ROWID;
CREATE INDEX findings_entity ON findings (entity, finding);
INSERT INTO meta VALUES ('application', 'nj-audit-history'), ('schema_version', '1');
"""


def test_a_version_1_file_is_migrated(path: Path, tmp_path: Path) -> None:
    doc = syn.document(syn.entry(outpatient_rate=0.5, flags=[("outpatient_rate", "fail")]))
    text = text_of(doc)
    db = sqlite3.connect(path)
    db.executescript(V1_SCHEMA)
    db.execute(
        "INSERT INTO runs (id, uuid, started_at, command, scope, window_seconds, document) "
        "VALUES (1, 'aaaa0000-0000-0000-0000-000000000001', '2022-04-01T00:00:00Z', 'audit', "
        "'institution', 86400, ?)",
        (zlib.compress(text.encode()),),
    )
    db.execute("INSERT INTO entities VALUES (1, 'org_code', '12320100466000002F')")
    db.execute("INSERT INTO appearances VALUES (1, 1, '甲医院', '玄武区', 'fail')")
    db.execute("INSERT INTO series VALUES (1, 1, '', '', 'outpatient_rate')")
    db.execute("INSERT INTO observations VALUES (1, 1, 0.5, 50, 100)")
    db.execute("INSERT INTO finding_names VALUES (1, 'outpatient_rate')")
    db.execute("INSERT INTO findings VALUES (1, 1, 1, 'fail', 0.5, 0.6, 'low')")
    db.commit()
    db.close()
    with HistoryStore.open(path) as store:
        meta = dict(store.db.execute("SELECT key, value FROM meta"))
        assert meta["schema_version"] == str(SCHEMA_VERSION) == "2"
        (run,) = store.runs()
        assert run.document_digest == hashlib.sha256(text.encode()).hexdigest()
        indexes = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master")}
        assert "runs_document_digest" in indexes
        assert not {"observations_series", "findings_entity"} & indexes
        columns = {r[1] for r in store.db.execute("PRAGMA table_info(runs)")}
        assert "document" not in columns and "document_digest" in columns
        assert store.document(run) == text
        (row,) = store.trend("甲医院", ["outpatient_rate"]).rows
        assert row.values == (0.5,) and (row.finding, row.persisted) == ("outpatient_rate", 1)
        # the migrated digest makes importing the same document a no-op
        saved = tmp_path / "saved.json"
        saved.write_text(text, encoding="utf-8")
        assert store.import_documents([saved]) == []
        store.append(text_of(syn.document(syn.entry())))
        assert len(store.runs()) == 2


def test_refuses_a_newer_schema(path: Path) -> None:
    HistoryStore.open(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(HistoryError) as caught:
        HistoryStore.open(path)
    message = str(caught.value)
    assert str(path) in message and "newer" in message and "\n" not in message


def test_refuses_a_file_that_is_not_sqlite(path: Path) -> None:
    path.write_text("org_code,name\n123,甲医院\n", encoding="utf-8")
    with pytest.raises(HistoryError, match="not a SQLite database") as caught:
        HistoryStore.open(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)
    assert path.read_text(encoding="utf-8").startswith("org_code")  # untouched


def test_refuses_a_foreign_sqlite_file(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    db.execute("INSERT INTO meta VALUES ('application', 'someone-else')")
    db.commit()
    db.close()
    with pytest.raises(HistoryError, match="not an nj-audit history") as caught:
        HistoryStore.open(path)
    assert str(path) in str(caught.value)
    other = path.with_name("other.sqlite")
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE patients (id INTEGER)")
    db.commit()
    db.close()
    with pytest.raises(HistoryError, match="not an nj-audit history"):
        HistoryStore.open(other)


def test_an_empty_file_becomes_a_history(path: Path) -> None:
    path.write_bytes(b"")
    with HistoryStore.open(path) as store:
        assert store.runs() == []


def test_runs_and_resolve(path: Path) -> None:
    with HistoryStore.open(path) as store:
        runs = syn.fill(store, 4, institutions=2, checks=1)
        store.append(
            text_of(syn.make_document(2, 1, run=9)),
            label="special",
            started_at="2022-12-31T00:00:00Z",
        )  # oldest by time, newest by id
        everything = store.runs()
        assert [r.label for r in everything][0] == "special"
        assert everything[1:] == runs
        assert store.runs(last=2) == runs[-2:]
        assert store.runs(last=0) == []
        assert [r.label for r in store.runs(label="special")] == ["special"]
        assert store.resolve("latest") == runs[-1]
        assert store.resolve("latest~1") == runs[-2]
        assert store.resolve(str(runs[1].id)) == runs[1]
        assert store.resolve(runs[2].uuid[:8]) == runs[2]
        assert store.resolve(runs[2].uuid.upper()[:8]) == runs[2]
        for bad in ("nope", "999", "latest~9", "ab"):
            with pytest.raises(HistoryError):
                store.resolve(bad)
        with pytest.raises(HistoryError, match="accepted"):
            store.resolve("accepted")
        store.accept(runs[1])
        assert store.resolve("accepted").id == runs[1].id


def test_accept_pins_one_run_per_command_and_scope(path: Path) -> None:
    with HistoryStore.open(path) as store:
        a, b = syn.fill(store, 2, institutions=2, checks=1)
        district = store.append(text_of(syn.make_document(2, 1)), scope="district")
        store.accept(a)
        store.accept(district)
        assert store.accepted("audit", "institution") == store.run(a.id)
        store.accept(b)
        assert [r.id for r in store.runs() if r.accepted] == [b.id, district.id]
        assert store.accepted("audit", "district").id == district.id
        assert store.accepted("rank", "institution") is None


def test_prune_keeps_the_accepted_run(path: Path) -> None:
    with HistoryStore.open(path) as store:
        runs = syn.fill(store, 6, institutions=3, checks=3)
        store.accept(runs[1])
        with pytest.raises(ValueError):
            store.prune()
        assert store.prune(keep_last=2) == 3
        kept = [r.id for r in store.runs()]
        assert kept == [runs[1].id, runs[4].id, runs[5].id]
        left = {r[0] for r in store.db.execute("SELECT DISTINCT run FROM observations")}
        left |= {r[0] for r in store.db.execute("SELECT DISTINCT run FROM findings")}
        left |= {r[0] for r in store.db.execute("SELECT DISTINCT run FROM appearances")}
        assert left == set(kept)
        orphans = store.db.execute(
            "SELECT count(*) FROM series s WHERE NOT EXISTS "
            "(SELECT 1 FROM observations o WHERE o.series = s.id)"
        ).fetchone()[0]
        assert orphans == 0
        # keep_days: runs are a day apart from 2023-01-01 08:00Z; a day counts from `now`
        now = datetime(2023, 1, 6, 9, 0, tzinfo=UTC)
        assert store.prune(keep_days=1, now=now, vacuum=True) == 1  # runs[4] goes
        assert [r.id for r in store.runs()] == [runs[1].id, runs[5].id]
        assert store.prune(keep_last=0) == 1
        assert [r.id for r in store.runs()] == [runs[1].id]
        assert store.trend(syn.org_code(0)).runs[0].id == runs[1].id


def test_import_is_idempotent(path: Path, tmp_path: Path) -> None:
    files = []
    for n, end in enumerate(("2022-03-31", "2022-02-28")):
        doc = syn.document(syn.entry(outpatient_rate=0.9 - n / 10), start=end[:8] + "01", end=end)
        files.append(tmp_path / f"audit-{n}.json")
        files[-1].write_text(text_of(doc), encoding="utf-8")
    ranked = syn.document(syn.entry(org_code=None), tool={"name": "nj-audit", "command": "rank"})
    ranked["period"] = None
    files.append(tmp_path / "rank.json")
    files[-1].write_text(text_of(ranked), encoding="utf-8")
    os.utime(files[-1], (1_650_000_000, 1_650_000_000))
    with HistoryStore.open(path) as store:
        added = store.import_documents([files[0], files[1], files[0], files[2]])
        assert len(added) == 3
        assert store.import_documents(files) == []
        runs = store.runs()
        assert len(runs) == 3
        by_file = {r.id: r for r in added}
        assert [by_file[added[0].id].started_at, by_file[added[1].id].started_at] == [
            "2022-03-31T00:00:00Z",
            "2022-02-28T00:00:00Z",
        ]
        assert runs[0].id == added[1].id  # ordered by time, not by import order
        assert [r.command for r in added] == ["import", "import", "rank"]
        assert added[2].started_at == "2022-04-15T05:20:00Z"  # the file's mtime
        for run, file in zip(added, (files[0], files[1], files[2]), strict=True):
            assert store.document(run) == file.read_text(encoding="utf-8")
        bad = tmp_path / "bad.json"
        bad.write_text("{", encoding="utf-8")
        with pytest.raises(HistoryError, match="bad.json"):
            store.import_documents([bad])


def _leaves(value: Any, numbers: set[float], strings: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            strings.add(key)
            _leaves(item, numbers, strings)
    elif isinstance(value, list):
        for item in value:
            _leaves(item, numbers, strings)
    elif isinstance(value, bool):
        pass
    elif isinstance(value, (int, float)):
        numbers.add(float(value))
    elif isinstance(value, str):
        strings.add(value)


def test_the_store_holds_nothing_the_document_does_not_say(path: Path) -> None:
    documents = [syn.make_document(6, 8, run=n) for n in range(3)]
    documents.append(
        syn.document(
            syn.entry(org_code=None, name="丙卫生院", district=None, discharge_rate=None),
            syn.entry(checks=[("lab_report", "id_card", "id_card_checksum", 3)]),
        )
    )
    numbers: set[float] = set()
    strings: set[str] = set()
    for doc in documents:
        _leaves(doc, numbers, strings)
    with HistoryStore.open(path) as store:
        syn.fill(store, 0, documents=documents)
        db = store.db
        for table, columns in (
            ("observations", ("value", "numerator", "denominator")),
            ("findings", ("value", "threshold")),
        ):
            for column in columns:
                for (value,) in db.execute(f"SELECT DISTINCT {column} FROM {table}"):
                    assert value is None or float(value) in numbers, (table, column, value)
        for sql in (
            "SELECT code FROM entities",
            "SELECT name FROM appearances UNION SELECT district FROM appearances",
            "SELECT status FROM appearances",
            "SELECT severity FROM findings UNION SELECT message FROM findings",
            "SELECT period_start FROM runs UNION SELECT period_end FROM runs",
        ):
            for (value,) in db.execute(sql):
                assert value is None or value in strings, (sql, value)
        for (finding,) in db.execute("SELECT name FROM finding_names"):
            parts = finding.removeprefix("check:").split(".") if "check:" in finding else [finding]
            assert all(p in strings for p in parts), finding
        for form, check, metric in db.execute('SELECT form, "check", metric FROM series'):
            assert form == "" or form in strings
            assert metric in strings or metric == "failures"  # a document key, or the check count
            assert all(p in strings for p in check.split(".")) if check else True
        # and every value a document prints is stored where it belongs
        values = {v for (v,) in db.execute("SELECT value FROM observations")}
        assert not any(isinstance(v, float) and math.isnan(v) for v in values)
        assert 0.95 in values and 3.0 in values


def test_findings_carry_the_judged_value_and_the_policy_threshold(path: Path) -> None:
    entry = syn.entry(
        forms_covered=4,
        outpatient_rate=0.7,
        flags=[
            ("coverage", "fail"),
            ("outpatient_rate", "warn"),
            ("no_data", "warn"),
            ("regression:rate:outpatient_visit", "warn"),
        ],  # fmt: skip
        checks=[("lab_report", "id_card", "id_card_checksum", 7), ("lab_report", "name", "x", 0)],
    )
    bare = syn.document(entry)
    del bare["policy"]
    with HistoryStore.open(path) as store:
        with_policy = store.snapshot(store.append(text_of(syn.document(entry))))
        without = store.snapshot(store.append(text_of(bare)))
    key = ("org_code", entry["org_code"])
    found = {
        name: (f.severity, f.value, f.threshold) for (k, name), f in with_policy.findings.items()
    }
    assert found == {
        "coverage": ("fail", 4.0, 6.0),
        "outpatient_rate": ("warn", 0.7, 0.9),
        "no_data": ("warn", None, None),
        "regression:rate:outpatient_visit": ("warn", 0.7, None),
        "check:lab_report.id_card.id_card_checksum": ("fail", 7.0, None),
    }
    assert without.findings[key, "coverage"].threshold is None
    assert without.findings[key, "coverage"].value == 4.0


def test_district_runs_key_districts_by_name(path: Path) -> None:
    grouped = syn.entry(org_code=None, name="玄武区", district="玄武区")  # today's --by district
    listed = syn.document(districts=[syn.entry(org_code=None, name="秦淮区", district="秦淮区")])
    with HistoryStore.open(path) as store:
        today = store.append(text_of(syn.document(grouped)), scope="district")
        coming = store.append(text_of(listed))
        assert (today.scope, coming.scope) == ("district", "district")
        assert list(store.snapshot(today).labels) == [("district", "玄武区")]
        assert list(store.snapshot(coming).labels) == [("district", "秦淮区")]
        assert store.trend("秦淮").entity.kind == "district"
