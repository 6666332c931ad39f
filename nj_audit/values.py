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
    r"(?:[T ](?P<clock>(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d)(?P<fraction>\.\d{1,9})?)?"
    r"(?P<zone>Z|[+-]\d{2}:?\d{2})?$"
)
_NUMBER_PATTERN = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"


def arrow_text(series: pd.Series) -> pa.Array:
    """A text column as one arrow array."""
    return one_array(pa.array(series, type=pa.large_string(), from_pandas=True))


def one_array(text: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A column read in pieces (pyarrow parses a block's pieces in parallel), joined."""
    if isinstance(text, pa.ChunkedArray):
        return text.combine_chunks() if text.num_chunks else pa.array([], type=text.type)
    return text


def text_buffers(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A string array's value offsets (len + 1 of them) and the whole data buffer, as numpy views;
    value i is data[offsets[i]:offsets[i + 1]]."""
    width = np.int64 if text.type in (pa.large_string(), pa.large_binary()) else np.int32
    offsets = np.frombuffer(text.buffers()[1], dtype=width)[
        text.offset : text.offset + len(text) + 1
    ]
    data = text.buffers()[2]
    return offsets, np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(
        0, dtype=np.uint8
    )


def _numpy(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return array.to_numpy(zero_copy_only=False)


def parse_times(series: pd.Series, date_only: bool = False) -> tuple[pd.Series, np.ndarray]:
    """Local naive datetime64[ns] values (NaT where missing or unreadable), and the mask of present
    values that are not a time in one of the SPEC's formats."""
    text = arrow_text(series)
    present = _numpy(pc.is_valid(text)).astype(bool)
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
    stamps = _numpy(pc.fill_null(seconds.cast(pa.int64()), np.iinfo(np.int64).min))
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


def fixed_width_bytes(
    text: pa.Array | pa.ChunkedArray, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the values that are `width` bytes long, and those values as a (k, width) uint8
    matrix (a view of arrow's buffer when every value qualifies). Bytes are not checked to be
    ASCII: every caller checks each byte against what it expects, so a non-ASCII byte fails there."""
    text = one_array(text)
    offsets, _ = text_buffers(text)
    fits = np.diff(offsets) == width
    if text.null_count:
        fits &= _numpy(text.is_valid()).astype(bool)
    positions = np.flatnonzero(fits)
    if len(positions) == 0:
        return positions, np.zeros((0, width), dtype=np.uint8)
    chosen = text if len(positions) == len(text) else pc.filter(text, pa.array(fits))
    offsets, data = text_buffers(chosen)
    return positions, data[offsets[0] : offsets[0] + len(chosen) * width].reshape(
        len(chosen), width
    )


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
    matched = _numpy(pc.is_valid(parts)).astype(bool)
    clock = pc.fill_null(pc.struct_field(parts, "clock"), "")
    clock = pc.if_else(pc.equal(clock, ""), "00:00:00", clock)
    body = pc.binary_join_element_wise(
        pc.struct_field(parts, "date"), clock, pa.scalar(" ", pa.large_string())
    )
    parsed = pd.to_datetime(
        pd.Series(_numpy(body), dtype=object), format="%Y-%m-%d %H:%M:%S", errors="coerce"
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
        values[has_zone] = (
            values[has_zone] - offset.astype("timedelta64[ns]") + LOCAL_OFFSET.to_timedelta64()
        )
    values[~matched] = np.datetime64("NaT")
    return values


def parse_numbers(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """float64 values (NaN where missing or not a plain decimal), and the mask of present values
    that are not numbers."""
    text = arrow_text(series)
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


# murmur3's 64-bit finaliser: a bijection that spreads every input bit over the whole word
_MIX_1, _MIX_2, _SHIFT = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53), np.uint64(33)


def _mix(h: np.ndarray) -> np.ndarray:
    """In place (fresh temporaries would cost more than the arithmetic)."""
    h ^= h >> _SHIFT
    h *= _MIX_1
    h ^= h >> _SHIFT
    h *= _MIX_2
    h ^= h >> _SHIFT
    return h


def text_hashes(text: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A 64-bit hash of each value's UTF-8 bytes (missing values hash as ""), the same for the same
    text wherever it is read: the length, then each 8-byte word of the zero-padded bytes, are folded
    in through murmur3's finaliser. Values are hashed in groups of equal length, so the work is a
    few numpy passes over the bytes instead of one Python object per value."""
    text = one_array(text)
    lengths = np.diff(text_buffers(text)[0])

    def seeded(
        length: int, count: int
    ) -> np.ndarray:  # the hash of the length alone, `count` times
        return np.full(
            count, _mix(np.array([length], dtype=np.uint64) ^ np.uint64(0x9E3779B97F4A7C15))[0]
        )

    hashes = seeded(0, len(text))
    if len(lengths) == 0 or lengths.min() == lengths.max():
        distinct = lengths[:1]
    else:  # counting is cheaper than sorting or hashing; the rare very long values apart
        short = np.flatnonzero(np.bincount(np.minimum(lengths, 1024)))
        distinct = np.concatenate([short[short < 1024], np.unique(lengths[lengths >= 1024])])
    for length in distinct[distinct > 0].tolist():
        rows, chars = fixed_width_bytes(text, length)
        padded = np.zeros((len(rows), -(-length // 8) * 8), dtype=np.uint8)
        padded[:, :length] = chars
        words = padded.view(np.dtype("<u8"))
        h = seeded(length, len(rows))
        for column in range(words.shape[1]):
            h ^= words[:, column]
            _mix(h)
        hashes[rows] = h
    return hashes
