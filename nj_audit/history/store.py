"""The history store: one SQLite file of audit runs, appended one transaction per run."""

from __future__ import annotations

import json
import sqlite3
import uuid as uuidlib
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from . import queries
from .errors import HistoryError
from .extract import Parsed, parse
from .model import COMMANDS, EntityKey, EntityRef, RunInfo, RunSettings, Snapshot
from .queries import RUN_COLUMNS, run_info
from .schema import connect, document_digest

if TYPE_CHECKING:
    from .compare import Comparison
    from .regress import RegressionRules
    from .trend import Trend

COMPRESSION_LEVEL = 6


def utc_text(value: datetime | str | None) -> str:
    """UTC ISO-8601 to the second (`2023-03-30T08:15:00Z`), so that text order is time order."""
    if value is None:
        moment = datetime.now(UTC)
    elif isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not an ISO-8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"a time without a UTC offset is ambiguous: {value!r}")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class HistoryStore:
    """Open with `HistoryStore.open(path)`, preferably as a context manager."""

    def __init__(self, db: sqlite3.Connection, path: Path):
        self._db = db
        self.path = path

    @classmethod
    def open(cls, path: str | Path) -> HistoryStore:
        path = Path(path)
        return cls(connect(path), path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
        if isinstance(exc, sqlite3.DatabaseError):  # damaged pages, a full disk, a lost lock
            raise HistoryError(f"{self.path}: cannot use the history file: {exc}") from None

    @property
    def db(self) -> sqlite3.Connection:
        """The connection, for the library's query modules (not a public API)."""
        return self._db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; an exception rolls all of it back."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise HistoryError(f"{self.path}: cannot write the history: {exc}") from None
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:  # SQLite may have rolled back already (disk full)
                self._db.execute("ROLLBACK")
            raise

    # -- writing ---------------------------------------------------------------------------

    def append(
        self,
        document_text: str,
        *,
        command: str = "audit",
        scope: str | None = None,
        label: str | None = None,
        started_at: datetime | str | None = None,
        finished_at: datetime | str | None = None,
        exit_code: int | None = None,
        tool_version: str | None = None,
        schema_digest: str | None = None,
        policy_digest: str | None = None,
        inputs_digest: str | None = None,
        rows_read: int | None = None,
    ) -> RunInfo:
        """Store one run: its document's text (compressed, returned byte for byte by `document`)
        and its entities, observations and findings. Times default to now."""
        options = {
            "command": command,
            "scope": scope,
            "label": label,
            "started_at": started_at,
            "finished_at": finished_at,
            "exit_code": exit_code,
            "tool_version": tool_version,
            "schema_digest": schema_digest,
            "policy_digest": policy_digest,
            "inputs_digest": inputs_digest,
            "rows_read": rows_read,
        }
        run = self._append(document_text, options, skip_if_stored=False)
        assert run is not None
        return run

    def _append(self, text: str, options: dict[str, Any], skip_if_stored: bool) -> RunInfo | None:
        if options["command"] not in COMMANDS:
            raise ValueError(f"command must be one of {', '.join(COMMANDS)}")
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise HistoryError(f"the audit document is not valid JSON: {exc}") from None
        try:
            parsed = parse(document, options["scope"])
        except ValueError as exc:
            raise HistoryError(str(exc)) from None
        started = utc_text(options["started_at"])
        finished = utc_text(options["finished_at"]) if options["finished_at"] else started
        digest = document_digest(text)
        blob = zlib.compress(text.encode("utf-8"), COMPRESSION_LEVEL)
        with self.transaction() as db:
            if skip_if_stored and queries.run_with_digest(db, digest) is not None:
                return None
            cursor = db.execute(
                "INSERT INTO runs (uuid, started_at, finished_at, command, scope, label, "
                "period_start, period_end, period_days, window_seconds, tool_version, "
                "schema_digest, policy_digest, inputs_digest, document_digest, rows_read, "
                "exit_code, passed) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    str(uuidlib.uuid4()),
                    started,
                    finished,
                    options["command"],
                    parsed.scope,
                    options["label"],
                    parsed.period_start,
                    parsed.period_end,
                    parsed.period_days,
                    parsed.window_seconds,
                    options["tool_version"] or parsed.tool_version,
                    options["schema_digest"],
                    options["policy_digest"],
                    options["inputs_digest"],
                    digest,
                    options["rows_read"],
                    options["exit_code"],
                    None if parsed.passed is None else int(parsed.passed),
                ),
            )
            run_id = int(cursor.lastrowid or 0)
            db.execute("INSERT INTO documents (run, body) VALUES (?, ?)", (run_id, blob))
            self._insert_tables(db, run_id, parsed)
        return self.run(run_id)

    def _insert_tables(self, db: sqlite3.Connection, run_id: int, parsed: Parsed) -> None:
        entity_ids = queries.ensure_entities(db, [e.key for e in parsed.entities])
        db.executemany(
            "INSERT INTO appearances (run, entity, name, district, status) VALUES (?,?,?,?,?)",
            [(run_id, entity_ids[e.key], e.name, e.district, e.status) for e in parsed.entities],
        )
        self._insert_observations(db, run_id, parsed, entity_ids)
        self._insert_findings(db, run_id, parsed, entity_ids)

    def _insert_observations(
        self, db: sqlite3.Connection, run_id: int, parsed: Parsed, entity_ids: dict[EntityKey, int]
    ) -> None:
        """Through a temporary table, so that SQLite (not Python) pairs values with series ids."""
        db.execute(queries.INCOMING_TABLE)
        db.execute("DELETE FROM temp.incoming")
        db.executemany(
            'INSERT INTO temp.incoming (entity, form, "check", metric, value, numerator, '
            "denominator) VALUES (?,?,?,?,?,?,?)",
            [(entity_ids[e.key], *o) for e in parsed.entities for o in e.observations],
        )
        db.execute(
            'INSERT OR IGNORE INTO series (entity, form, "check", metric) '
            'SELECT entity, form, "check", metric FROM temp.incoming'
        )
        db.execute(
            "INSERT INTO observations (run, series, value, numerator, denominator) "
            "SELECT ?, s.id, i.value, i.numerator, i.denominator FROM temp.incoming i "
            'JOIN series s ON s.entity = i.entity AND s.form = i.form AND s."check" = i."check" '
            "AND s.metric = i.metric ORDER BY s.id",
            (run_id,),
        )
        db.execute("DELETE FROM temp.incoming")

    def _insert_findings(
        self, db: sqlite3.Connection, run_id: int, parsed: Parsed, entity_ids: dict[EntityKey, int]
    ) -> None:
        names = queries.ensure_finding_names(
            db, {f.finding for e in parsed.entities for f in e.findings}
        )
        db.executemany(
            "INSERT INTO findings (run, entity, finding, severity, value, threshold, message) "
            "VALUES (?,?,?,?,?,?,?)",
            [
                (run_id, entity_ids[e.key], names[f.finding], *f[1:])
                for e in parsed.entities
                for f in e.findings
            ],
        )

    def accept(self, run: RunInfo | int) -> RunInfo:
        """Pin `run` as the baseline of its (command, scope): one accepted run per pair, so an
        audit baseline and a rank baseline, or an institution and a district one, coexist."""
        info = self.run(run if isinstance(run, int) else run.id)
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET accepted = 0 WHERE command = ? AND scope = ? AND accepted",
                (info.command, info.scope),
            )
            db.execute("UPDATE runs SET accepted = 1 WHERE id = ?", (info.id,))
        return self.run(info.id)

    def prune(
        self,
        keep_last: int | None = None,
        keep_days: int | None = None,
        *,
        now: datetime | None = None,
        vacuum: bool = False,
    ) -> int:
        """Delete the runs that no keep rule keeps (the accepted baselines are always kept),
        with their observations and findings, in one transaction. Returns how many went."""
        if keep_last is None and keep_days is None:
            raise ValueError("prune needs keep_last or keep_days")
        for name, value in (("keep_last", keep_last), ("keep_days", keep_days)):
            if value is not None and (isinstance(value, bool) or value < 0):
                raise ValueError(f"{name} must be a whole number >= 0")
        with self.transaction() as db:
            runs = queries.select_runs(db)
            keep = {r.id for r in runs if r.accepted}
            if keep_last:
                keep.update(r.id for r in runs[-keep_last:])
            if keep_days is not None:
                cutoff = utc_text((now or datetime.now(UTC)) - timedelta(days=keep_days))
                keep.update(r.id for r in runs if r.started_at >= cutoff)
            doomed = [(r.id,) for r in runs if r.id not in keep]
            for table in ("observations", "findings", "appearances", "documents"):
                db.executemany(f"DELETE FROM {table} WHERE run = ?", doomed)
            db.executemany("DELETE FROM runs WHERE id = ?", doomed)
            if doomed:
                queries.delete_orphans(db)
        if vacuum:
            self._db.execute("VACUUM")
        return len(doomed)

    def import_documents(self, paths: Iterable[str | Path], **vouched: str | None) -> list[RunInfo]:
        """Backfill saved JSON documents; the runs added (a document already stored is skipped).
        `vouched`: command, schema_digest, policy_digest (see `importing.import_documents`)."""
        from .importing import import_documents

        return import_documents(self, paths, **vouched)

    # -- reading ---------------------------------------------------------------------------

    def runs(
        self,
        last: int | None = None,
        label: str | None = None,
        *,
        command: str | None = None,
        scope: str | None = None,
    ) -> list[RunInfo]:
        """Runs oldest first (by started_at, then id), the `last` newest of them if given."""
        runs = queries.select_runs(self._db, label=label, command=command, scope=scope)
        if last is None:
            return runs
        return runs[-last:] if last > 0 else []

    def run(self, run_id: int) -> RunInfo:
        row = self._db.execute(f"SELECT {RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise HistoryError(f"{self.path}: no run {run_id}")
        return run_info(row)

    def latest(self) -> RunInfo | None:
        row = self._db.execute(
            f"SELECT {RUN_COLUMNS} FROM runs ORDER BY started_at DESC, id DESC LIMIT 1"
        ).fetchone()
        return None if row is None else run_info(row)

    def resolve(self, ref: str) -> RunInfo:
        """A run by id, `latest`, `latest~N`, `accepted`, or a uuid prefix (4+ characters)."""
        return queries.resolve(self, ref.strip())

    def document(self, run: RunInfo | int) -> str:
        """The run's document, exactly the text that was appended."""
        run_id = run if isinstance(run, int) else run.id
        row = self._db.execute("SELECT body FROM documents WHERE run = ?", (run_id,)).fetchone()
        if row is None:
            raise HistoryError(f"{self.path}: no run {run_id}")
        return zlib.decompress(row[0]).decode("utf-8")

    def accepted(self, command: str, scope: str) -> RunInfo | None:
        runs = [r for r in self.runs(command=command, scope=scope) if r.accepted]
        return runs[-1] if runs else None

    def comparable(
        self, settings: RunSettings, *, before: RunInfo | None = None, last: int | None = None
    ) -> list[RunInfo]:
        """Runs with the same settings, oldest first, those strictly before `before` if given."""
        runs = [
            r
            for r in self.runs(command=settings.command, scope=settings.scope)
            if not r.settings.differences(settings)
        ]
        if before is not None:
            order = (before.started_at, before.id)
            runs = [r for r in runs if (r.started_at, r.id) < order]
        return runs[-last:] if last else runs

    def snapshot(
        self, run: RunInfo | int, metrics: frozenset[str] | None = None, findings: str = "full"
    ) -> Snapshot:
        """A run's labels, values and findings; `metrics` keeps only those stored metric kinds
        (e.g. {"rate", "valid_ratio"}: "rate" is every form's rate); `findings` is "full",
        "brief" (no threshold or message: a comparison does not show them) or "none"."""
        run_id = run if isinstance(run, int) else run.id
        return queries.snapshot(self._db, run_id, metrics, findings)

    def values(
        self, run_ids: Sequence[int], metrics: Sequence[str]
    ) -> dict[tuple[EntityKey, str], dict[int, float]]:
        """Metric values per (entity, metric), by run id, for the given runs."""
        return queries.values(self._db, run_ids, metrics)

    def find_entity(self, query: str) -> EntityRef:
        """By code, then exact name, then a unique substring of code or name."""
        return queries.find_entity(self, query)

    def trend(
        self, institution: str, metrics: Sequence[str] | None = None, last: int | None = None
    ) -> Trend:
        from .trend import trend

        return trend(self, institution, metrics, last)

    def compare(
        self,
        base: RunInfo | None = None,
        head: RunInfo | None = None,
        force: bool = False,
        rules: RegressionRules | None = None,
        top: int = 20,
    ) -> Comparison:
        from .compare import compare

        return compare(self, base, head, force=force, rules=rules, top=top)
