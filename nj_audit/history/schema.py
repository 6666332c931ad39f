"""The history file's schema, its version marker and migrations.

Long and narrow: one row per (run, series) observation, so that a new metric, form or check needs
no new column; finding names (`coverage`, `check:lab_report.id_card.not_null`) are stored once in
`finding_names`, since a city's run holds some ten thousand findings. `meta` holds `application`
(our marker) and `schema_version`.

Observations and findings are clustered by run (their primary keys start with it), so a new run
is written at the end of each table, and documents (~200 kB compressed for 200 institutions) are
in their own table, so that listing runs does not walk their overflow pages.

Version 1 kept the document in `runs.document` and also indexed observations by series and
findings by entity: each append then touched a page per series all over those indexes, and
appends slowed as the history grew (median 1.1 s, 2.5 s at worst over 365 daily runs of 200
institutions). Version 2 drops those indexes (a trend looks its values up run by run instead),
moves documents to `documents`, and adds `runs.document_digest` so that importing a saved
document twice stores it once. Opening a version 1 file migrates it in one transaction."""

from __future__ import annotations

import hashlib
import sqlite3
import zlib
from collections.abc import Callable
from pathlib import Path

from .errors import HistoryError

APPLICATION = "nj-audit-history"
SCHEMA_VERSION = 2
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_SECONDS = 30.0

TABLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    command TEXT NOT NULL,
    scope TEXT NOT NULL,
    label TEXT,
    period_start TEXT,
    period_end TEXT,
    period_days INTEGER,
    window_seconds INTEGER,
    tool_version TEXT,
    schema_digest TEXT,
    policy_digest TEXT,
    inputs_digest TEXT,
    rows_read INTEGER,
    exit_code INTEGER,
    passed INTEGER,
    accepted INTEGER NOT NULL DEFAULT 0,
    document_digest TEXT
);
CREATE INDEX runs_order ON runs (started_at, id);
CREATE INDEX runs_document_digest ON runs (document_digest);
CREATE TABLE documents (run INTEGER PRIMARY KEY REFERENCES runs (id), body BLOB NOT NULL);
CREATE TABLE entities (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    UNIQUE (kind, code)
);
CREATE TABLE appearances (
    run INTEGER NOT NULL REFERENCES runs (id),
    entity INTEGER NOT NULL REFERENCES entities (id),
    name TEXT,
    district TEXT,
    status TEXT,
    PRIMARY KEY (run, entity)
) WITHOUT ROWID;
CREATE INDEX appearances_entity ON appearances (entity, run);
CREATE TABLE series (
    id INTEGER PRIMARY KEY,
    entity INTEGER NOT NULL REFERENCES entities (id),
    form TEXT NOT NULL,
    "check" TEXT NOT NULL,
    metric TEXT NOT NULL,
    UNIQUE (entity, form, "check", metric)
);
CREATE TABLE observations (
    run INTEGER NOT NULL REFERENCES runs (id),
    series INTEGER NOT NULL REFERENCES series (id),
    value REAL,
    numerator INTEGER,
    denominator INTEGER,
    PRIMARY KEY (run, series)
) WITHOUT ROWID;
CREATE TABLE finding_names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE findings (
    run INTEGER NOT NULL REFERENCES runs (id),
    entity INTEGER NOT NULL REFERENCES entities (id),
    finding INTEGER NOT NULL REFERENCES finding_names (id),
    severity TEXT NOT NULL,
    value REAL,
    threshold REAL,
    message TEXT,
    PRIMARY KEY (run, entity, finding)
) WITHOUT ROWID;
"""


def document_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _migrate_1_to_2(db: sqlite3.Connection) -> None:
    """Drop the per-series and per-entity indexes, move documents out of `runs`, and add
    runs.document_digest (filled from each document) with its index."""
    db.execute("DROP INDEX IF EXISTS observations_series")
    db.execute("DROP INDEX IF EXISTS findings_entity")
    db.execute(
        "CREATE TABLE documents (run INTEGER PRIMARY KEY REFERENCES runs (id), body BLOB NOT NULL)"
    )
    db.execute("INSERT INTO documents (run, body) SELECT id, document FROM runs")
    db.execute("ALTER TABLE runs DROP COLUMN document")  # SQLite 3.35 (2021) or newer
    db.execute("ALTER TABLE runs ADD COLUMN document_digest TEXT")
    for run_id, blob in db.execute("SELECT run, body FROM documents").fetchall():
        digest = document_digest(zlib.decompress(blob).decode("utf-8"))
        db.execute("UPDATE runs SET document_digest = ? WHERE id = ?", (digest, run_id))
    db.execute("CREATE INDEX runs_document_digest ON runs (document_digest)")


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _migrate_1_to_2}


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (we BEGIN ourselves), WAL, ready for concurrent writers."""
    _check_header(path)
    try:
        db = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    except sqlite3.Error as exc:
        raise HistoryError(f"{path}: cannot open the history file: {exc}") from None
    try:
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        _version(db, path)  # refuse a foreign or newer file before anything changes it
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        _prepare(db, path)
    except sqlite3.DatabaseError as exc:
        db.close()
        raise HistoryError(f"{path}: not a usable history file: {exc}") from None
    except BaseException:
        db.close()
        raise
    return db


def _check_header(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise HistoryError(f"{path}: cannot read the history file: {exc.strerror or exc}") from None
    if head and head != SQLITE_HEADER:
        raise HistoryError(f"{path}: not an nj-audit history file (not a SQLite database)")


def _prepare(db: sqlite3.Connection, path: Path) -> None:
    """Create the schema in an empty file, migrate an older one, refuse a foreign or newer one."""
    version = _version(db, path)
    if version == SCHEMA_VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        version = _version(db, path)  # another process may have created or migrated it meanwhile
        if version is None:
            for statement in TABLES.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [("application", APPLICATION), ("schema_version", str(SCHEMA_VERSION))],
            )
        while version is not None and version < SCHEMA_VERSION:
            MIGRATIONS[version](db)
            version += 1
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _version(db: sqlite3.Connection, path: Path) -> int | None:
    """The file's schema version, None for an empty database."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return None
    marker = None
    if "meta" in tables:
        marker = dict(db.execute("SELECT key, value FROM meta").fetchall())
    if not marker or marker.get("application") != APPLICATION:
        raise HistoryError(f"{path}: a SQLite database but not an nj-audit history (no marker)")
    try:
        version = int(marker.get("schema_version", ""))
    except ValueError:
        raise HistoryError(f"{path}: unreadable history schema version") from None
    if version > SCHEMA_VERSION:
        raise HistoryError(
            f"{path}: history schema version {version} is newer than this nj-audit reads "
            f"({SCHEMA_VERSION}); upgrade nj-audit"
        )
    if version not in MIGRATIONS and version != SCHEMA_VERSION:
        raise HistoryError(f"{path}: history schema version {version} cannot be migrated")
    return version
