"""The history file's schema, its version marker and migrations.

Long and narrow: one row per (run, series) observation, so that a new metric, form or check needs
no new column. `meta` holds `application` (our marker) and `schema_version`.

Version 1 had no `runs.document_digest`; version 2 adds it (and its index) so that importing a
saved document twice stores it once. Opening a version 1 file migrates it in one transaction."""

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
    document BLOB NOT NULL,
    document_digest TEXT
);
CREATE INDEX runs_order ON runs (started_at, id);
CREATE INDEX runs_document_digest ON runs (document_digest);
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
CREATE INDEX observations_series ON observations (series, run);
CREATE TABLE findings (
    run INTEGER NOT NULL REFERENCES runs (id),
    entity INTEGER NOT NULL REFERENCES entities (id),
    finding TEXT NOT NULL,
    severity TEXT NOT NULL,
    value REAL,
    threshold REAL,
    message TEXT,
    PRIMARY KEY (run, entity, finding)
) WITHOUT ROWID;
CREATE INDEX findings_entity ON findings (entity, run);
"""


def document_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _migrate_1_to_2(db: sqlite3.Connection) -> None:
    """Add runs.document_digest, filled from each stored document, and its index."""
    db.execute("ALTER TABLE runs ADD COLUMN document_digest TEXT")
    rows = db.execute("SELECT id, document FROM runs").fetchall()
    for run_id, blob in rows:
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
