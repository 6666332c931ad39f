"""`state info`: what a store holds, from its manifest (and, with `records`, a fold of it)."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..requests import AuditRequest
from .manifest import EPOCH, UNDATED, Store


@dataclass(frozen=True)
class StoreInfo:
    store: Path
    first_day: str | None  # the earliest and latest upload dates held
    last_day: str | None
    days: int  # upload dates with rows
    institutions: int
    files: int  # upload files added
    skipped_files: int  # files whose name names no form
    rows: int
    undated_rows: int  # rows without a readable upload_time
    states: int  # per-record states held (a record corrected on several days has several)
    records: int | None  # distinct records, when asked for (a fold of the whole store)
    partition_files: int
    bytes_on_disk: int
    adds: int  # `state add` runs that added files
    last_add: str | None
    window_seconds: int
    form_windows: dict[str, int]
    buckets: int

    def lines(self, lang: str = "en") -> list[str]:
        """The info as `label: value` lines in `lang` (text only: counts, dates and settings;
        never a value from the uploads)."""
        from ..texts import text

        def t(key: str, **values: object) -> str:
            return text(f"info.{key}", lang, **values)

        period = t("period", first=self.first_day, last=self.last_day) if self.first_day else None
        records = f"{self.records:,}" if self.records is not None else t("records_hint")
        windows = ", ".join(f"{f} {s}s" for f, s in self.form_windows.items()) or t("none")
        size = f"{self.bytes_on_disk / 2**20:,.1f}"
        rows = [
            ("dates", t("dates_value", period=period or t("none"), days=f"{self.days:,}")),
            ("institutions", f"{self.institutions:,}"),
            ("files", t("files_value", added=f"{self.files:,}", skipped=f"{self.skipped_files:,}")),
            ("rows", t("rows_value", rows=f"{self.rows:,}", undated=f"{self.undated_rows:,}")),
            ("states", f"{self.states:,}"),
            ("records", records),
            ("parts", f"{self.partition_files:,}"),
            ("size", t("size_value", mib=size)),
            ("adds", t("adds_value", adds=f"{self.adds:,}", last=self.last_add or t("never"))),
            ("window", t("window_value", seconds=self.window_seconds, windows=windows)),
            ("buckets", f"{self.buckets}"),
        ]
        colon = "：" if lang == "zh" else ":"
        return [f"{_padded(t(label) + colon, LABEL_WIDTH)}{value}" for label, value in rows]

    def to_json(self) -> str:
        document: dict[str, Any] = {**asdict(self), "store": str(self.store)}
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


LABEL_WIDTH = 18  # terminal columns of a label, its colon and the spaces after it


def _padded(label: str, width: int) -> str:
    """`label` and spaces to `width` terminal columns (a Chinese character takes two)."""
    shown = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in label)
    return label + " " * max(1, width - shown)


def store_info(folder: Path, records: bool = False) -> StoreInfo:
    store = Store(folder)
    with store.reading() as db:
        settings = Store.settings(db)
        assert settings is not None
        first, last, days = db.execute(
            "SELECT MIN(day), MAX(day), COUNT(DISTINCT day) FROM counts"
            " WHERE day != ? AND rows > 0",
            (UNDATED,),
        ).fetchone()
        rows, undated = db.execute(
            "SELECT COALESCE(SUM(rows), 0), COALESCE(SUM(CASE WHEN day = ? THEN rows END), 0)"
            " FROM counts",
            (UNDATED,),
        ).fetchone()
        states, part_files, part_bytes = db.execute(
            "SELECT COALESCE(SUM(states), 0), COUNT(*), COALESCE(SUM(bytes), 0) FROM parts"
        ).fetchone()
        adds, last_add = db.execute(
            "SELECT COUNT(*), MAX(at) FROM adds WHERE kind = 'add'"
        ).fetchone()
        count = lambda table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: E731
        institutions, files, skipped = count("orgs"), count("files"), count("skipped")
    folded = None
    if records:
        from ..policy import Policy
        from .folding import StoreFold

        windows = json.loads(settings.form_windows)
        policy = Policy(window_seconds=settings.window_seconds, form_windows=windows)
        tally = StoreFold().tally(AuditRequest([], policy=policy, state=store.folder))
        folded = sum(c.records for c in tally.counts.values())
    on_disk = part_bytes + store.db.stat().st_size
    day = lambda d: (EPOCH + timedelta(days=d)).isoformat() if d is not None else None  # noqa: E731
    return StoreInfo(
        store.folder,
        day(first),
        day(last),
        days,
        institutions,
        files,
        skipped,
        rows,
        undated,
        states,
        folded,
        part_files,
        on_disk,
        adds,
        last_add,
        settings.window_seconds,
        json.loads(settings.form_windows),
        settings.buckets,
    )
