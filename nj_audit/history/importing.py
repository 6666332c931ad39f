"""Backfilling the history from saved JSON documents (`audit --format json` outputs)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import HistoryError
from .extract import mapping, text
from .model import COMMANDS, RunInfo

if TYPE_CHECKING:
    from .store import HistoryStore


def started_at(document: dict[str, Any], path: Path) -> str:
    """When the run happened, as well as a saved document tells: its own `started_at` (top level
    or under `tool`), else its period's end date at 00:00 UTC (a run over a period comes after
    it, and this keeps imports in period order), else the file's modification time."""
    for where in (document, mapping(document.get("tool"))):
        stated = text(where.get("started_at"))
        if stated is not None:
            try:
                moment = datetime.fromisoformat(stated)
            except ValueError:
                continue
            if moment.tzinfo is not None:
                return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = text(mapping(document.get("period")).get("end"))
    if end is not None:
        try:
            return datetime.fromisoformat(end[:10]).strftime("%Y-%m-%dT00:00:00Z")
        except ValueError:
            pass
    mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return mtime.strftime("%Y-%m-%dT%H:%M:%SZ")


def command_of(document: dict[str, Any]) -> str:
    """The command the document says made it, else `import`."""
    for where in (document, mapping(document.get("tool"))):
        if where.get("command") in COMMANDS:
            return str(where["command"])
    return "import"


def import_documents(
    store: HistoryStore,
    paths: Iterable[str | Path],
    *,
    command: str | None = None,
    schema_digest: str | None = None,
    policy_digest: str | None = None,
) -> list[RunInfo]:
    """One run per document not stored yet (same text digest = same document); the runs added.
    Each document is its own transaction: a bad file stops the import, the earlier ones stay.

    `command` and the digests, when given, are vouched for by the caller (`history import --as
    audit`: "these were made by audit with today's schemas and policy"), so that the imported
    runs compare with the runs recorded from now on; else they come from the document."""
    if command is not None and command not in COMMANDS:
        raise ValueError(f"command must be one of {', '.join(COMMANDS)}")
    added = []
    for name in paths:
        path = Path(name)
        try:
            content = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise HistoryError(f"{path}: cannot read the document: {exc}") from None
        try:
            document = json.loads(content)
        except json.JSONDecodeError as exc:
            raise HistoryError(f"{path}: not a JSON document: {exc}") from None
        if not isinstance(document, dict):
            raise HistoryError(f"{path}: not an audit document (not a JSON object)")
        when = started_at(document, path)
        options = {
            "command": command or command_of(document),
            "scope": None,
            "label": None,
            "started_at": when,
            "finished_at": when,
            "exit_code": None,
            "tool_version": None,
            "schema_digest": schema_digest or text(document.get("schema_digest")),
            "policy_digest": policy_digest or text(document.get("policy_digest")),
            "inputs_digest": text(document.get("inputs_digest")),
            "rows_read": None,
        }
        run = store._append(content, options, skip_if_stored=True)
        if run is not None:
            added.append(run)
    return added
