"""The audit's spans of time from the command line: the period (`--period`) and the real-time
window (`--window`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from .errors import UsageError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_window(text: str) -> int:
    """`24h`, `90m`, `1d`, `3600s` (or bare seconds) -> whole seconds."""
    raw = str(text).strip()
    if raw.isdigit():
        return int(raw)
    match = _DURATION.match(raw)
    if not match:
        raise UsageError(
            f"bad window {text!r}: use a number and a unit, like 24h, 90m, 1d or 3600s"
        )
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    if seconds != int(seconds):
        raise UsageError(f"bad window {text!r}: not a whole number of seconds")
    return int(seconds)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def parse_period(text: str) -> Period:
    """`2022`, `2022-03`, or `2022-01-01:2022-06-30` (inclusive)."""
    raw = text.strip()
    try:
        if re.fullmatch(r"\d{4}", raw):
            year = int(raw)
            return Period(date(year, 1, 1), date(year, 12, 31))
        if re.fullmatch(r"\d{4}-\d{2}", raw):
            year, month = map(int, raw.split("-"))
            first = date(year, month, 1)
            following = date(year + month // 12, month % 12 + 1, 1)
            return Period(first, following - timedelta(days=1))
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}:\d{4}-\d{2}-\d{2}", raw):
            start, end = (date.fromisoformat(part) for part in raw.split(":"))
            if end < start:
                raise UsageError(f"bad period {text!r}: the end is before the start")
            return Period(start, end)
    except ValueError:
        pass
    raise UsageError(
        f"bad period {text!r}: use a year (2022), a month (2022-03) or 2022-01-01:2022-06-30"
    )
