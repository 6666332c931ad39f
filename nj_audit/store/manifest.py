"""The store's folder, its locks and its manifest (an SQLite file).

    STORE/
      store.sqlite          settings, added files, institutions, partition files, and the small
                            tallies per (upload day, institution, form): rows, records without
                            record_id, check failures
      write.lock, read.lock fcntl locks
      days/2022-03-01/000012-001.arrow   per-record states of one day from one add (parts.py)
      days/undated/...                    states of rows without a readable upload_time

What the manifest lists is the store: a partition file exists before the transaction that names it
commits (written aside, then renamed), so an interrupted or failed add leaves the store as it was,
plus files nobody names, which the next writer removes. Writers (`state add`, `state compact`)
take `write.lock` exclusively, one at a time (a second one waits, and says so); readers take
`read.lock` shared, and compaction takes it exclusively only to delete the files it replaced.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from ..errors import UsageError
from .settings import DEFAULT_BUCKETS, StoreSettings

DB_NAME = "store.sqlite"
PARTS_DIR = "days"
UNDATED = -(1 << 31)  # the day of the partition of rows without a readable upload_time
EPOCH = date(1970, 1, 1)

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS adds (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, at TEXT NOT NULL,
    files INTEGER NOT NULL, rows INTEGER NOT NULL, states INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, form TEXT NOT NULL, size INTEGER NOT NULL,
    digest TEXT NOT NULL, rows INTEGER NOT NULL, added_at TEXT NOT NULL, add_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS skipped (path TEXT PRIMARY KEY, add_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS unreadable (
    path TEXT PRIMARY KEY, reason TEXT NOT NULL, message TEXT NOT NULL, line INTEGER,
    add_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS orgs (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS parts (
    name TEXT PRIMARY KEY, day INTEGER NOT NULL, states INTEGER NOT NULL, bytes INTEGER NOT NULL,
    add_id INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS parts_by_day ON parts (day);
CREATE TABLE IF NOT EXISTS counts (
    day INTEGER NOT NULL, org INTEGER NOT NULL, form INTEGER NOT NULL, rows INTEGER NOT NULL,
    records INTEGER NOT NULL, valid INTEGER NOT NULL, realtime INTEGER NOT NULL,
    d0 INTEGER NOT NULL, d1 INTEGER NOT NULL, d2 INTEGER NOT NULL, d3 INTEGER NOT NULL,
    d4 INTEGER NOT NULL, d5 INTEGER NOT NULL, d6 INTEGER NOT NULL,
    PRIMARY KEY (day, org, form)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checks (
    day INTEGER NOT NULL, org INTEGER NOT NULL, form TEXT NOT NULL, col TEXT NOT NULL,
    name TEXT NOT NULL, rows INTEGER NOT NULL,
    PRIMARY KEY (day, org, form, col, name)) WITHOUT ROWID;
"""


def day_name(day: int) -> str:
    return "undated" if day == UNDATED else (EPOCH + timedelta(days=day)).isoformat()


class Store:
    """A state store's folder."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    @property
    def db(self) -> Path:
        return self.folder / DB_NAME

    def exists(self) -> bool:
        return self.db.is_file()

    def part_path(self, day: int, name: str) -> Path:
        return self.folder / PARTS_DIR / day_name(day) / f"{name}.arrow"

    def connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.db, isolation_level=None, timeout=60)
        connection.execute("PRAGMA foreign_keys = OFF")
        return connection

    @contextmanager
    def lock(
        self, name: str, exclusive: bool, on_wait: Callable[[], None] | None = None
    ) -> Iterator[None]:
        """Hold `name`.lock; when another process holds it, tell `on_wait` and wait."""
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        descriptor = os.open(self.folder / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(descriptor, mode | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait is not None:
                    on_wait()
                fcntl.flock(descriptor, mode)
            yield
        finally:
            os.close(descriptor)  # releases the lock

    @contextmanager
    def writing(
        self, settings: StoreSettings | None, on_wait: Callable[[], None] | None = None
    ) -> Iterator[sqlite3.Connection]:
        """The manifest for a writer, under the write lock, with `settings` checked (or written,
        when the store is new; None: the store must exist)."""
        if settings is None and not self.exists():
            raise UsageError("not a state store (no store.sqlite in it)", self.folder)
        if not self.exists():
            if self.folder.exists() and not self.folder.is_dir():
                raise UsageError("not a folder", self.folder)
            if self.folder.is_dir() and any(self.folder.iterdir()):
                raise UsageError(
                    "not a state store (no store.sqlite) and not empty: give a new folder",
                    self.folder,
                )
            self.folder.mkdir(parents=True, exist_ok=True)
        with self.lock("write", True, on_wait):
            connection = self.connect()
            try:
                connection.executescript(SCHEMA)
                stored = self.settings(connection)
                if settings is not None and not settings.buckets:  # whatever the store has
                    buckets = stored.buckets if stored else DEFAULT_BUCKETS
                    settings = replace(settings, buckets=buckets)
                if stored is None and settings is not None:
                    connection.execute("BEGIN IMMEDIATE")
                    connection.executemany("INSERT INTO settings VALUES (?, ?)", settings.as_rows())
                    connection.execute("COMMIT")
                elif stored is not None and settings is not None:
                    from .settings import refuse_other_settings

                    refuse_other_settings(self.folder, stored, settings)
                yield connection
            finally:
                connection.close()

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The manifest for a reader: the files it names stay until the reader is done."""
        if not self.exists():
            raise UsageError("not a state store (no store.sqlite in it)", self.folder)
        with self.lock("read", False):
            connection = self.connect()
            try:
                yield connection
            finally:
                connection.close()

    @staticmethod
    def settings(connection: sqlite3.Connection) -> StoreSettings | None:
        try:
            rows = dict(connection.execute("SELECT key, value FROM settings").fetchall())
        except sqlite3.DatabaseError as exc:
            raise UsageError(f"the store's manifest cannot be read: {exc}") from None
        return StoreSettings.from_rows(rows) if rows else None

    def remove_unlisted(self, connection: sqlite3.Connection) -> int:
        """Remove the partition files the manifest does not name (written by an add that was
        interrupted, or replaced by a compaction), and temporary files; the number removed. Only
        when no reader is at work (one may still be reading replaced files): else later."""
        descriptor = os.open(self.folder / "read.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return 0
            listed = {
                self.part_path(day, name)
                for name, day in connection.execute("SELECT name, day FROM parts").fetchall()
            }
            removed = 0
            for path in (self.folder / PARTS_DIR).glob("*/*"):
                if path not in listed:
                    path.unlink(missing_ok=True)
                    removed += 1
            for folder in (self.folder / PARTS_DIR).glob("*"):
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
            return removed
        finally:
            os.close(descriptor)
