"""Text -> typed values: times (local, Asia/Shanghai) and plain decimal numbers, vectorised."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .arrays import arrow_text, fixed_width_bytes, to_numpy

# Asia/Shanghai has kept UTC+08:00 without daylight saving since 1991; the times audited start
# in 2000, and birth dates carry no offset, so a fixed offset is exact here.
LOCAL_OFFSET = pd.Timedelta(hours=8)

# A date, or a date and a clock time with an optional fraction and UTC offset: an offset belongs
# to a clock time (`2022-03-01Z` is no time), and is a real one (-14:00 to +14:00, minutes < 60).
_TIME_PATTERN = (
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<clock>(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d)(?P<fraction>\.\d{1,9})?"
    r"(?P<zone>Z|[+-](?:0\d|1[0-4]):?[0-5]\d)?)?$"
)

_NUMBER_PATTERN = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"


def parse_times(series: pd.Series, date_only: bool = False) -> tuple[pd.Series, np.ndarray]:
    """Local naive datetime64[ns] values (NaT where missing or unreadable), and the mask of present
    values that are not a time in one of the contract's formats (docs/contract.md § 2.7)."""
    text = arrow_text(series)
    present = to_numpy(pc.is_valid(text)).astype(bool)
    values = _parse_uniform(text, 10 if date_only else 19)
    if values is None:  # some value has another layout, or is not a time: value by value
        values, done = _parse_plain(text)
        rest = present & ~done
        if rest.any():  # other layouts, fractions, offsets: the general (slower) path
            index = np.flatnonzero(rest)
            values[index] = _parse_general(pc.take(text, pa.array(index)))
    if date_only:
        values = values.astype("datetime64[D]").astype("datetime64[ns]")
    unreadable = present & np.isnat(values)
    return pd.Series(values, index=series.index), unreadable


# datetime64[ns] spans 1677-09-21 to 2262-04-11; whole years 1678-2261 are accepted
_FIRST_SECOND = (
    (np.datetime64("1678-01-01") - np.datetime64("1970-01-01"))
    .astype("timedelta64[s]")
    .astype(np.int64)
)
_END_SECOND = (
    (np.datetime64("2262-01-01") - np.datetime64("1970-01-01"))
    .astype("timedelta64[s]")
    .astype(np.int64)
)


def _parse_uniform(text: pa.Array, width: int) -> np.ndarray | None:
    """The common case, in one pass of arrow's strict ISO 8601 parser (no GIL held): every present
    value is `YYYY-MM-DD HH:MM:SS` (or `T` in the middle; width 19) or `YYYY-MM-DD` (width 10).
    The separators are checked here, so arrow's other layouts (`HHMMSS`, offsets) never get in;
    arrow rejects non-digits and impossible dates and clock times. None if any value differs."""
    rows, chars = fixed_width_bytes(text, width)
    if len(rows) != len(text) - text.null_count or len(rows) == 0:
        return None
    layout = (chars[:, 4] == 45) & (chars[:, 7] == 45)  # '-'
    if width == 19:
        layout &= (
            ((chars[:, 10] == 32) | (chars[:, 10] == 84))
            & (chars[:, 13] == 58)
            & (chars[:, 16] == 58)
        )  # ' ' or T, ':'
    if not layout.all():
        return None
    try:
        seconds = pc.cast(text, pa.timestamp("s"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    low, high = pc.min_max(seconds).values()
    if low.value < _FIRST_SECOND or high.value >= _END_SECOND:
        return None
    stamps = to_numpy(pc.fill_null(seconds.cast(pa.int64()), np.iinfo(np.int64).min))
    values = stamps.astype("datetime64[s]").astype("datetime64[ns]")
    values[stamps == np.iinfo(np.int64).min] = np.datetime64("NaT")
    return values


def _parse_plain(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The common layouts `YYYY-MM-DD HH:MM:SS` (or with `T`) and `YYYY-MM-DD`, parsed from their
    bytes with numpy; which values it parsed (the others go the general way)."""
    values = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[ns]")
    done = np.zeros(len(text), dtype=bool)
    for width in (19, 10):
        rows, chars = fixed_width_bytes(text, width)
        if len(chars) == 0:
            continue
        year, ok = _digits(chars, 0, 4)
        month, ok2 = _digits(chars, 5, 2)
        day_of_month, ok3 = _digits(chars, 8, 2)
        shape = ok & ok2 & ok3 & (_byte(chars, 4) == 45) & (_byte(chars, 7) == 45)  # '-'
        seconds = np.zeros(len(chars), dtype=np.int64)
        if width == 19:
            hour, ok4 = _digits(chars, 11, 2)
            minute, ok5 = _digits(chars, 14, 2)
            second, ok6 = _digits(chars, 17, 2)
            middle = _byte(chars, 10)
            shape &= (
                ok4
                & ok5
                & ok6
                & ((middle == 32) | (middle == 84))
                & (_byte(chars, 13) == 58)
                & (_byte(chars, 16) == 58)
            )
            shape &= (hour <= 23) & (minute <= 59) & (second <= 59)
            seconds = hour * 3600 + minute * 60 + second
        day = calendar_dates(year, month, day_of_month)
        ok = shape & ~np.isnat(day)
        stamps = day + seconds.astype("timedelta64[s]")
        hit = rows[ok]
        values[hit] = stamps[ok]
        done[hit] = True
    return values, done


def calendar_dates(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """datetime64[ns] from parts, NaT where they are not a real date (or outside 1678-2261).
    Table lookups: the days before each year (and before each month, leap years apart)."""
    year, month, day = (np.asarray(part, dtype=np.int64) for part in (year, month, day))
    in_years = (year >= _FIRST_YEAR) & (year <= _LAST_YEAR)
    since_first = np.where(in_years, year - _FIRST_YEAR, 0)
    leap = _LEAP[since_first]
    month_index = np.where((month >= 1) & (month <= 12), month, 0) + 13 * leap
    real = in_years & (month_index % 13 != 0) & (day >= 1) & (day <= _MONTH_LENGTH[month_index])
    days = _DAYS_BEFORE_YEAR[since_first] + _DAYS_BEFORE_MONTH[month_index] + day - 1
    stamps = (np.where(real, days, 0) * (86_400 * 10**9)).astype("datetime64[ns]")
    return np.where(real, stamps, np.datetime64("NaT", "ns"))


_FIRST_YEAR, _LAST_YEAR = 1678, 2261  # the whole years datetime64[ns] holds
_YEARS = np.arange(_FIRST_YEAR, _LAST_YEAR + 1)
_LEAP = (((_YEARS % 4 == 0) & (_YEARS % 100 != 0)) | (_YEARS % 400 == 0)).astype(np.int64)
_DAYS_BEFORE_YEAR = np.array([f"{y}-01-01" for y in _YEARS], dtype="datetime64[D]").astype(
    np.int64
)  # since 1970
_COMMON = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]  # month 0 stands for "no such month"
_MONTH_LENGTH = np.array(_COMMON + [0, 31, 29] + _COMMON[3:], dtype=np.int64)  # [13 * leap + month]
_DAYS_BEFORE_MONTH = np.concatenate(
    [np.r_[0, np.cumsum(_MONTH_LENGTH[:13])[:-1]], np.r_[0, np.cumsum(_MONTH_LENGTH[13:])[:-1]]]
)


def _byte(chars: np.ndarray, place: int) -> np.ndarray:
    return chars[:, place]


def _digits(chars: np.ndarray, start: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The number written by `count` ASCII digits at `start` of every row, and which rows have
    digits there. Reads each row's bytes as one big-endian integer through a strided view (fast,
    where slicing the matrix column by column is not)."""
    dtype = {2: ">u2", 4: ">u4"}[count]
    packed = np.ndarray(
        shape=(len(chars),), dtype=dtype, buffer=chars, offset=start, strides=(chars.strides[0],)
    )
    packed = packed.astype(np.int64)
    value = np.zeros(len(chars), dtype=np.int64)
    ok = np.ones(len(chars), dtype=bool)
    for shift in range(8 * (count - 1), -1, -8):
        digit = ((packed >> shift) & 0xFF) - 48
        ok &= (digit >= 0) & (digit <= 9)
        value = value * 10 + digit
    return value, ok


def _parse_general(text: pa.Array) -> np.ndarray:
    parts = pc.extract_regex(text, _TIME_PATTERN)
    matched = to_numpy(pc.is_valid(parts)).astype(bool)
    clock = pc.fill_null(pc.struct_field(parts, "clock"), "")
    clock = pc.if_else(pc.equal(clock, ""), "00:00:00", clock)
    body = pc.binary_join_element_wise(
        pc.struct_field(parts, "date"), clock, pa.scalar(" ", pa.large_string())
    )
    parsed = pd.to_datetime(
        pd.Series(to_numpy(body), dtype=object), format="%Y-%m-%d %H:%M:%S", errors="coerce"
    )
    parsed = parsed.where(
        (parsed.dt.year >= 1678) & (parsed.dt.year <= 2261)
    )  # datetime64[ns]'s span
    values = parsed.to_numpy("datetime64[ns]").copy()

    fraction = pc.fill_null(pc.struct_field(parts, "fraction"), "")
    if pc.any(pc.greater(pc.binary_length(fraction), 0)).as_py():
        digits = pc.utf8_rpad(pc.utf8_slice_codeunits(fraction, 1), 9, "0")
        nanos = pc.fill_null(
            pc.cast(pc.if_else(pc.equal(digits, "000000000"), "0", digits), pa.int64()), 0
        )
        values = values + to_numpy(nanos).astype("timedelta64[ns]")

    zone = to_numpy(pc.fill_null(pc.struct_field(parts, "zone"), "")).astype(object)
    has_zone = zone != ""
    if has_zone.any():
        z = pd.Series(zone[has_zone], dtype=object).str.replace(":", "", regex=False)
        sign = np.where(z.str[0] == "-", -1, 1)
        hours = pd.to_numeric(z.str[1:3], errors="coerce").fillna(0).to_numpy()
        minutes = pd.to_numeric(z.str[3:5], errors="coerce").fillna(0).to_numpy()
        offset = (sign * (hours * 60 + minutes)).astype("int64") * np.int64(60_000_000_000)
        offset[(z == "Z").to_numpy()] = 0
        values[has_zone] = (
            values[has_zone] - offset.astype("timedelta64[ns]") + LOCAL_OFFSET.to_timedelta64()
        )
    values[~matched] = np.datetime64("NaT")
    return values


def parse_numbers(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """float64 values (NaN where missing or not a plain decimal), and the mask of present values
    that are not numbers."""
    text = arrow_text(series)
    present = to_numpy(pc.is_valid(text)).astype(bool)
    ok = to_numpy(pc.fill_null(pc.match_substring_regex(text, _NUMBER_PATTERN), False)).astype(bool)
    clean = pc.if_else(pa.array(ok), text, pa.scalar(None, pa.large_string()))
    values = to_numpy(pc.cast(clean, pa.float64())).astype(np.float64)
    return pd.Series(values, index=series.index), present & ~ok
