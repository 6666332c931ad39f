"""A batch cut into daily folders, as a platform receives it day by day (the state store's
tests and benchmarks add such folders one at a time)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def split_by_upload_day(batch: Path, out: Path) -> list[Path]:
    """A batch's files cut into daily folders, as a platform receives them: the rows of
    `batch/x/form.csv` uploaded on 2022-03-05 go to `out/2022-03-05/x/form.csv` (rows whose
    upload_time is not a date to `out/undated/`), in their order, with the file's header,
    encoding and line ends. The daily folders, sorted."""
    days: set[Path] = set()
    for path in sorted(batch.rglob("*.csv")):
        raw = path.read_bytes()
        try:
            text, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = raw.decode("gb18030"), "gb18030"
        newline = "\r\n" if b"\r\n" in raw else "\n"
        rows = list(csv.reader(io.StringIO(text, newline="")))
        if not rows or "upload_time" not in rows[0]:
            continue
        column = rows[0].index("upload_time")
        by_day: dict[str, list[list[str]]] = {}
        for row in rows[1:]:
            value = row[column] if column < len(row) else ""
            day = value[:10] if _DATE.match(value) else "undated"
            by_day.setdefault(day, []).append(row)
        for day, day_rows in by_day.items():
            target = out / day / path.relative_to(batch)
            target.parent.mkdir(parents=True, exist_ok=True)
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator=newline).writerows([rows[0], *day_rows])
            target.write_bytes(buffer.getvalue().encode(encoding))
            days.add(out / day)
    return sorted(days)
