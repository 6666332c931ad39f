"""The audit's spans of time from the command line: the period (`--period`) and the real-time
window (`--window`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from .errors import UsageError
from .messages import said

# ASCII digits only: `\d` would take any script's digits (`２４h`, `٢٤h`), which int() reads too.
_DURATION = re.compile(r"([0-9]{1,12}(?:\.[0-9]{1,9})?)\s*([smhd])", re.IGNORECASE | re.ASCII)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_WINDOW_DAYS = 3650  # longer than any delay a record can have between 2000 and 2262
# Days the audit's times can hold (datetime64[ns]: 1677-09-21 to 2262-04-11); rules start in 2000.
FIRST_YEAR, LAST_YEAR = 1970, 2261


def parse_window(text: str) -> int:
    """`24h`, `90m`, `1d`, `3600s` -> whole seconds. A unit is required (`24` alone is refused: it
    used to mean 24 seconds), the window is > 0 and at most MAX_WINDOW_DAYS days."""
    raw = str(text).strip()
    match = _DURATION.fullmatch(raw)
    if not match:
        unit_missing = raw.isascii() and raw.isdigit()
        raise UsageError(
            said("error.window_unit" if unit_missing else "error.window_format", value=text)
        )
    seconds = Fraction(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    if seconds.denominator != 1:
        raise UsageError(said("error.window_fraction", value=text))
    if seconds <= 0:
        raise UsageError(said("error.window_zero", value=text))
    if seconds > MAX_WINDOW_DAYS * 86400:
        raise UsageError(said("error.window_max", value=text, days=MAX_WINDOW_DAYS))
    return int(seconds)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def parse_period(text: str) -> Period:
    """`2022`, `2022-03`, or `2022-01-01:2022-06-30` (inclusive), in years FIRST_YEAR-LAST_YEAR,
    written with ASCII digits."""
    raw = text.strip()
    period = None
    try:
        if re.fullmatch(r"[0-9]{4}", raw):
            year = int(raw)
            period = Period(date(year, 1, 1), date(year, 12, 31))
        elif re.fullmatch(r"[0-9]{4}-[0-9]{2}", raw):
            year, month = map(int, raw.split("-"))
            first = date(year, month, 1)
            following = date(year + month // 12, month % 12 + 1, 1)
            period = Period(first, following - timedelta(days=1))
        elif re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}:[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
            start, end = (date.fromisoformat(part) for part in raw.split(":"))
            if end < start:
                raise UsageError(said("error.period_order", value=text))
            period = Period(start, end)
    except ValueError:
        pass
    if period is None:
        raise UsageError(said("error.period_format", value=text))
    if period.start.year < FIRST_YEAR or period.end.year > LAST_YEAR:
        raise UsageError(said("error.period_years", value=text, first=FIRST_YEAR, last=LAST_YEAR))
    return period
