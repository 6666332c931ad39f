"""Text -> typed values: times (to Asia/Shanghai), plain decimals, windows, periods."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import UsageError

# Asia/Shanghai has kept UTC+08:00 without daylight saving since 1991; the times audited start
# in 2000, and birth dates carry no offset, so a fixed offset is exact here.
LOCAL_OFFSET = pd.Timedelta(hours=8)

_TIME_PATTERN = (
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<clock>\d{2}:\d{2}:\d{2})(?P<fraction>\.\d{1,9})?)?"
    r"(?P<zone>Z|[+-]\d{2}:?\d{2})?$"
)
_NUMBER_PATTERN = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"


def _arrow(series: pd.Series) -> pa.Array:
    return pa.array(series, type=pa.large_string(), from_pandas=True)


def _numpy(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return array.to_numpy(zero_copy_only=False)


def parse_times(series: pd.Series, date_only: bool = False) -> tuple[pd.Series, np.ndarray]:
    """Local naive datetime64[ns] values (NaT where missing or unreadable), and the mask of present
    values that are not a time in one of the SPEC's formats."""
    text = _arrow(series)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    present = _numpy(pc.is_valid(text)).astype(bool)
    values, done = _parse_plain(text)
    rest = present & ~done
    if rest.any():  # other layouts, fractions, offsets: the general (slower) path
        index = np.flatnonzero(rest)
        values[index] = _parse_general(pc.take(text, pa.array(index)))
    if date_only:
        values = values.astype("datetime64[D]").astype("datetime64[ns]")
    unreadable = present & np.isnat(values)
    return pd.Series(values, index=series.index), unreadable


def _parse_plain(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The common layouts `YYYY-MM-DD HH:MM:SS` and `YYYY-MM-DD`, parsed by arrow; which values
    it parsed."""
    values = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[ns]")
    done = np.zeros(len(text), dtype=bool)
    lengths = pc.binary_length(text)
    layouts = [("%Y-%m-%d %H:%M:%S", 19), ("%Y-%m-%d", 10)]
    first = pc.drop_null(lengths)
    if len(first) and first[0].as_py() == 10:  # a date column: try the date layout first
        layouts.reverse()
    for layout, width in layouts:
        parsed = pc.strptime(text, format=layout, unit="s", error_is_null=True)
        # strptime rolls 2022-02-30 over into March and takes one-digit fields: insist on the layout
        day = pc.utf8_lpad(pc.cast(pc.day(parsed), pa.large_string()), 2, "0")
        exact = pc.and_(pc.equal(lengths, width), pc.equal(day, pc.utf8_slice_codeunits(text, 8, 10)))
        # datetime64[ns] spans 1677-2262: a year outside it is unreadable here (and never a real upload)
        in_range = pc.and_(pc.greater_equal(pc.year(parsed), 1678), pc.less_equal(pc.year(parsed), 2261))
        hit = _numpy(pc.fill_null(pc.and_(exact, in_range), False)).astype(bool)
        if hit.any():
            chosen = pc.filter(parsed, pa.array(hit))
            values[hit] = _numpy(pc.cast(chosen, pa.timestamp("ns"))).astype("datetime64[ns]")
            done |= hit
        if done.all():
            break
    return values, done


def _parse_general(text: pa.Array) -> np.ndarray:
    parts = pc.extract_regex(text, _TIME_PATTERN)
    matched = _numpy(pc.is_valid(parts)).astype(bool)
    clock = pc.fill_null(pc.struct_field(parts, "clock"), "")
    clock = pc.if_else(pc.equal(clock, ""), "00:00:00", clock)
    body = pc.binary_join_element_wise(pc.struct_field(parts, "date"), clock, pa.scalar(" ", pa.large_string()))
    parsed = pd.to_datetime(pd.Series(_numpy(body), dtype=object), format="%Y-%m-%d %H:%M:%S", errors="coerce")
    values = parsed.to_numpy("datetime64[ns]").copy()

    fraction = pc.fill_null(pc.struct_field(parts, "fraction"), "")
    if pc.any(pc.greater(pc.binary_length(fraction), 0)).as_py():
        digits = pc.utf8_rpad(pc.utf8_slice_codeunits(fraction, 1), 9, "0")
        nanos = pc.fill_null(pc.cast(pc.if_else(pc.equal(digits, "000000000"), "0", digits), pa.int64()), 0)
        values = values + _numpy(nanos).astype("timedelta64[ns]")

    zone = _numpy(pc.fill_null(pc.struct_field(parts, "zone"), "")).astype(object)
    has_zone = zone != ""
    if has_zone.any():
        z = pd.Series(zone[has_zone], dtype=object).str.replace(":", "", regex=False)
        sign = np.where(z.str[0] == "-", -1, 1)
        hours = pd.to_numeric(z.str[1:3], errors="coerce").fillna(0).to_numpy()
        minutes = pd.to_numeric(z.str[3:5], errors="coerce").fillna(0).to_numpy()
        offset = (sign * (hours * 60 + minutes)).astype("int64") * np.int64(60_000_000_000)
        offset[(z == "Z").to_numpy()] = 0
        values[has_zone] = values[has_zone] - offset.astype("timedelta64[ns]") + LOCAL_OFFSET.to_timedelta64()
    values[~matched] = np.datetime64("NaT")
    return values


def parse_numbers(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """float64 values (NaN where missing or not a plain decimal), and the mask of present values
    that are not numbers."""
    text = _arrow(series)
    present = _numpy(pc.is_valid(text)).astype(bool)
    ok = _numpy(pc.fill_null(pc.match_substring_regex(text, _NUMBER_PATTERN), False)).astype(bool)
    clean = pc.if_else(pa.array(ok), text, pa.scalar(None, pa.large_string()))
    values = _numpy(pc.cast(clean, pa.float64())).astype(np.float64)
    return pd.Series(values, index=series.index), present & ~ok


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_window(text: str) -> int:
    """`24h`, `90m`, `1d`, `3600s` (or bare seconds) -> whole seconds."""
    raw = str(text).strip()
    if raw.isdigit():
        return int(raw)
    match = _DURATION.match(raw)
    if not match:
        raise UsageError(f"bad window {text!r}: use a number and a unit, like 24h, 90m, 1d or 3600s")
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
    raise UsageError(f"bad period {text!r}: use a year (2022), a month (2022-03) or 2022-01-01:2022-06-30")
