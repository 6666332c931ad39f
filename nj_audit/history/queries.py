"""The SQL behind the store's reads and its entity/series bookkeeping."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .errors import HistoryError
from .extract import KIND_ORG, Finding
from .metrics import join_metric, split_metric
from .model import EntityKey, EntityRef, Label, RunInfo, Snapshot

if TYPE_CHECKING:
    from .store import HistoryStore

MAX_CANDIDATES = 10

RUN_COLUMNS = (
    "id, uuid, started_at, finished_at, command, scope, label, period_start, period_end, "
    "period_days, window_seconds, tool_version, schema_digest, policy_digest, inputs_digest, "
    "document_digest, rows_read, exit_code, passed, accepted"
)


RUN_FIELDS = tuple(name.strip() for name in RUN_COLUMNS.split(","))


def run_info(row: Sequence[Any]) -> RunInfo:
    fields = dict(zip(RUN_FIELDS, row, strict=True))
    passed = fields["passed"]  # SQLite keeps booleans as 0/1
    fields.update(
        passed=None if passed is None else bool(passed), accepted=bool(fields["accepted"])
    )
    return RunInfo(**fields)


def run_with_digest(db: sqlite3.Connection, digest: str) -> int | None:
    row = db.execute("SELECT id FROM runs WHERE document_digest = ? LIMIT 1", (digest,)).fetchone()
    return None if row is None else int(row[0])


def ensure_entities(db: sqlite3.Connection, keys: Sequence[EntityKey]) -> dict[EntityKey, int]:
    db.executemany("INSERT OR IGNORE INTO entities (kind, code) VALUES (?, ?)", keys)
    wanted = set(keys)
    rows = db.execute("SELECT kind, code, id FROM entities").fetchall()
    return {(kind, code): id_ for kind, code, id_ in rows if (kind, code) in wanted}


def ensure_finding_names(db: sqlite3.Connection, names: set[str]) -> dict[str, int]:
    db.executemany("INSERT OR IGNORE INTO finding_names (name) VALUES (?)", [(n,) for n in names])
    return {name: id_ for id_, name in db.execute("SELECT id, name FROM finding_names")}


def finding_names(db: sqlite3.Connection) -> dict[int, str]:
    return dict(db.execute("SELECT id, name FROM finding_names").fetchall())


INCOMING_TABLE = (
    "CREATE TEMP TABLE IF NOT EXISTS incoming (entity INTEGER, form TEXT, "
    '"check" TEXT, metric TEXT, value REAL, numerator INTEGER, denominator INTEGER)'
)


def delete_orphans(db: sqlite3.Connection) -> None:
    """Series without observations (one scan of them) and entities seen in no remaining run (a
    finding's entity always appears in its run)."""
    db.execute("DELETE FROM series WHERE id NOT IN (SELECT DISTINCT series FROM observations)")
    db.execute(
        "DELETE FROM entities WHERE NOT EXISTS "
        "(SELECT 1 FROM appearances a WHERE a.entity = entities.id) AND NOT EXISTS "
        "(SELECT 1 FROM series s WHERE s.entity = entities.id)"
    )


def select_runs(
    db: sqlite3.Connection,
    *,
    label: str | None = None,
    command: str | None = None,
    scope: str | None = None,
) -> list[RunInfo]:
    where, params = [], []
    for column, value in (("label", label), ("command", command), ("scope", scope)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    sql = f"SELECT {RUN_COLUMNS} FROM runs"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return [run_info(row) for row in db.execute(sql + " ORDER BY started_at, id", params)]


def resolve(store: HistoryStore, ref: str) -> RunInfo:
    runs = store.runs()
    if not runs:
        raise HistoryError(f"{store.path}: the history holds no runs")
    match = re.fullmatch(r"latest(?:~(\d+))?", ref)
    if match:
        back = int(match.group(1) or 0)
        if back >= len(runs):
            raise HistoryError(f"{store.path}: {ref}: the history holds only {len(runs)} runs")
        return runs[-1 - back]
    if ref == "accepted":
        accepted = [r for r in runs if r.accepted]
        if not accepted:
            raise HistoryError(f"{store.path}: no run is accepted as a baseline")
        return accepted[-1]
    if ref.isdigit():
        by_id = [r for r in runs if r.id == int(ref)]
        if by_id:
            return by_id[0]
    if len(ref) >= 4:
        found = [r for r in runs if r.uuid.startswith(ref.lower())]
        if len(found) == 1:
            return found[0]
        if found:
            ids = ", ".join(f"{r.id} ({r.uuid[:8]})" for r in found[:MAX_CANDIDATES])
            raise HistoryError(f"{store.path}: run {ref!r} is ambiguous: {ids}")
    raise HistoryError(
        f"{store.path}: no run {ref!r} (give a run id, latest, latest~N, accepted or a uuid prefix)"
    )


FINDINGS = ("full", "brief", "none")  # with threshold and message, without, no findings


def snapshot(
    db: sqlite3.Connection, run_id: int, metrics: frozenset[str] | None, findings: str
) -> Snapshot:
    entities = {
        id_: (kind, code) for id_, kind, code in db.execute("SELECT id, kind, code FROM entities")
    }
    labels = {
        entities[e]: Label(name, district)
        for e, name, district in db.execute(
            "SELECT entity, name, district FROM appearances WHERE run = ?", (run_id,)
        )
    }
    sql = (
        'SELECT s.entity, s.form, s."check", s.metric, o.value FROM observations o '
        "JOIN series s ON s.id = o.series WHERE o.run = ? AND o.value IS NOT NULL"
    )
    params: list[object] = [run_id]
    if metrics is not None:
        sql += f" AND s.metric IN ({','.join('?' * len(metrics))})"
        params.extend(sorted(metrics))
    values = {
        (entities[e], join_metric(form, check, metric)): value
        for e, form, check, metric, value in db.execute(sql, params)
    }
    if findings not in FINDINGS:
        raise ValueError(f"findings must be one of {', '.join(FINDINGS)}")
    found: dict[tuple[EntityKey, str], Finding] = {}
    names = finding_names(db) if findings != "none" else {}
    if findings == "full":
        rows = db.execute(
            "SELECT entity, finding, severity, value, threshold, message FROM findings "
            "WHERE run = ?",
            (run_id,),
        )
        found = {
            (entities[e], names[f]): Finding(names[f], severity, value, threshold, message)
            for e, f, severity, value, threshold, message in rows
        }
    elif findings == "brief":
        rows = db.execute(
            "SELECT entity, finding, severity, value FROM findings WHERE run = ?", (run_id,)
        )
        found = {
            (entities[e], names[f]): Finding(names[f], severity, value, None, None)
            for e, f, severity, value in rows
        }
    return Snapshot(labels, values, found)


PairedFinding = tuple[str, str, str, str | None, float | None, str | None, float | None]


def paired_findings(db: sqlite3.Connection, base: int, head: int) -> list[PairedFinding]:
    """Two stored runs' findings matched by (entity, finding) in SQLite: (kind, code, finding,
    head severity, head value, base severity, base value), a missing side as NULLs, in the order
    of (kind, code, finding) (UTF-8 byte order is code point order, as Python sorts)."""
    sql = """
        SELECT e.kind, e.code, n.name, h.severity, h.value, b.severity, b.value
        FROM findings h
        JOIN entities e ON e.id = h.entity JOIN finding_names n ON n.id = h.finding
        LEFT JOIN findings b ON b.run = :base AND b.entity = h.entity AND b.finding = h.finding
        WHERE h.run = :head
        UNION ALL
        SELECT e.kind, e.code, n.name, NULL, NULL, b.severity, b.value
        FROM findings b
        JOIN entities e ON e.id = b.entity JOIN finding_names n ON n.id = b.finding
        WHERE b.run = :base AND NOT EXISTS (
            SELECT 1 FROM findings h
            WHERE h.run = :head AND h.entity = b.entity AND h.finding = b.finding
        )
        ORDER BY 1, 2, 3
    """
    return db.execute(sql, {"base": base, "head": head}).fetchall()


def values(
    db: sqlite3.Connection, run_ids: Sequence[int], metrics: Iterable[str]
) -> dict[tuple[EntityKey, str], dict[int, float]]:
    """Run by run (observations are clustered by run), the given metrics of every entity."""
    wanted = {split_metric(m) for m in metrics}
    out: dict[tuple[EntityKey, str], dict[int, float]] = {}
    if not wanted or not run_ids:
        return out
    entities = {
        id_: (kind, code) for id_, kind, code in db.execute("SELECT id, kind, code FROM entities")
    }
    names = sorted({m for _, _, m in wanted})
    marks = ",".join("?" * len(names))
    sql = (
        'SELECT s.entity, s.form, s."check", s.metric, o.value FROM observations o '
        "JOIN series s ON s.id = o.series "
        f"WHERE o.run = ? AND o.value IS NOT NULL AND s.metric IN ({marks})"
    )
    for run in sorted(set(run_ids)):
        for entity, form, check, metric, value in db.execute(sql, [run, *names]):
            if (form, check, metric) in wanted:
                key = (entities[entity], join_metric(form, check, metric))
                out.setdefault(key, {})[run] = value
    return out


def find_entity(store: HistoryStore, query: str) -> EntityRef:
    db = store.db
    steps = (
        ("SELECT id FROM entities WHERE code = ?", (query,)),
        ("SELECT DISTINCT entity FROM appearances WHERE name = ?", (query,)),
        (
            "SELECT id FROM entities WHERE instr(lower(code), lower(?)) > 0 UNION "
            "SELECT entity FROM appearances WHERE instr(lower(name), lower(?)) > 0",
            (query, query),
        ),
    )
    for step, (sql, params) in enumerate(steps):
        found = [entity_ref(db, int(row[0])) for row in db.execute(sql, params).fetchall()]
        if step == 0 and len(found) > 1:  # a code that is also some name-only entity's name
            found = [e for e in found if e.kind == KIND_ORG] or found
        if len(found) == 1:
            return found[0]
        if found:
            found.sort(key=lambda e: e.code)
            shown = ", ".join(
                f"{e.code} ({e.name})" if e.name and e.name != e.code else e.code
                for e in found[:MAX_CANDIDATES]
            )
            more = f" and {len(found) - MAX_CANDIDATES} more" if len(found) > MAX_CANDIDATES else ""
            raise HistoryError(f"{query!r} matches several institutions: {shown}{more}")
    raise HistoryError(f"{store.path}: no institution matches {query!r}")


def entity_ref(db: sqlite3.Connection, entity_id: int) -> EntityRef:
    """The entity with its name and district as of the newest run that shows it."""
    kind, code = db.execute("SELECT kind, code FROM entities WHERE id = ?", (entity_id,)).fetchone()
    label = db.execute(
        "SELECT a.name, a.district FROM appearances a JOIN runs r ON r.id = a.run "
        "WHERE a.entity = ? ORDER BY r.started_at DESC, r.id DESC LIMIT 1",
        (entity_id,),
    ).fetchone()
    name, district = label if label is not None else (None, None)
    return EntityRef(entity_id, kind, code, name, district)
