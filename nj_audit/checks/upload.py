"""Custom vectorised checks, registered with pandera so the YAML schemas can name them.

Column checks get a typed column (text, datetime64 or float64) without its missing values and
return a boolean Series, True where the value passes. Frame checks get the whole typed frame and
return True where the row passes; a row where an operand is missing or unreadable passes, because
that defect is already reported once by the column's own check (one defect, one report).
"""

from __future__ import annotations

import threading
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..arrays import arrow_text, fixed_width_bytes, text_buffers
from ..codes import GB11643_WEIGHTS, GB32100_CHARS, GB32100_WEIGHTS
from ..conversion import calendar_dates
from .calling import Calling, register_check

_GB32100_WEIGHTS = np.array(GB32100_WEIGHTS, dtype=np.int64)
_GB11643_WEIGHTS = np.array(GB11643_WEIGHTS, dtype=np.int64)


def _lookup_table(alphabet: str) -> np.ndarray:
    table = np.full(256, -1, dtype=np.int8)
    for value, char in enumerate(alphabet):
        table[ord(char)] = value
    return table


_GB32100_VALUE = _lookup_table(GB32100_CHARS)


def check_result(series: pd.Series, passed: np.ndarray | list[bool]) -> pd.Series:
    """A check's answer: True where the value passes, on the column's index."""
    return pd.Series(passed, index=series.index, dtype=bool)


def _weighted_sum(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Row sums of values x weights (an integer einsum: half the time of an integer matrix
    product here, and no BLAS, whose threads would compete with the reading thread)."""
    return np.einsum("ij,j->i", values, weights.astype(np.int32), dtype=np.int32).astype(np.int64)


def gb32100_ok(series: pd.Series) -> pd.Series:
    """18-character unified social credit code whose 18th character is the GB 32100 check."""
    positions, chars = fixed_width_bytes(arrow_text(series), 18)
    values = _GB32100_VALUE[chars]
    good = (values >= 0).all(axis=1)
    total = _weighted_sum(np.maximum(values[:, :17], 0), _GB32100_WEIGHTS)
    good &= values[:, 17] == (31 - total % 31) % 31
    passed = np.zeros(len(series), dtype=bool)
    passed[positions] = good
    return check_result(series, passed)


_ID_CACHE = threading.local()  # per thread: the last column asked about, and the answer


class IdCardParts(NamedTuple):
    shape: np.ndarray  # 17 digits and a digit or X
    checksum: np.ndarray  # ... with the right check character
    birth: np.ndarray  # datetime64[ns] of characters 7-14, NaT when not a real date (or no shape)
    odd: np.ndarray  # the 17th digit is odd (a man's number)


_HIGH_NIBBLES, _ZEROS, _SIXES = (
    np.uint64(0xF0F0F0F0F0F0F0F0),
    np.uint64(0x3030303030303030),
    np.uint64(0x0606060606060606),
)


def _eight_digits(chars: np.ndarray, start: int) -> np.ndarray:
    """Whether bytes start..start+7 of every row are ASCII digits, eight at a time: a digit is 0x3_
    and stays 0x3_ when 6 is added (a carry out of a non-digit byte cannot make its row pass)."""
    if len(chars) == 0:
        return np.zeros(0, dtype=bool)
    words = np.ndarray(
        shape=(len(chars),), dtype="<u8", buffer=chars, offset=start, strides=(chars.strides[0],)
    )
    return ((words & _HIGH_NIBBLES) == _ZEROS) & (((words + _SIXES) & _HIGH_NIBBLES) == _ZEROS)


def _year_month_day(chars: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Characters 7-14 of each row read as YYYYMMDD, eight digits at a time: each byte's digit,
    then each pair of bytes as 10 x first + second (garbage where a byte is not a digit: those
    rows fail the shape check)."""
    if len(chars) == 0:
        return (np.zeros(0, dtype=np.int64),) * 3
    words = np.ndarray(
        shape=(len(chars),), dtype="<u8", buffer=chars, offset=6, strides=(chars.strides[0],)
    )
    digits = words - _ZEROS
    pairs = (digits * np.uint64(10) + (digits >> np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    lane = np.uint64(0xFFFF)
    year = (pairs & lane) * np.uint64(100) + ((pairs >> np.uint64(16)) & lane)
    month, day = (pairs >> np.uint64(32)) & lane, pairs >> np.uint64(48)
    return year.astype(np.int64), month.astype(np.int64), day.astype(np.int64)


def id_card_parts(series: pd.Series) -> IdCardParts:
    """Per value: shape, check character, birth date and sex digit of a resident ID number. The
    last answer is kept, because five checks of a form ask about the same column."""
    cached = getattr(_ID_CACHE, "last", None)
    if cached is not None and cached[0] is series.array:
        return cached[1]
    n = len(series)
    positions, chars = fixed_width_bytes(arrow_text(series), 18)
    chars = np.ascontiguousarray(chars)
    digits = chars[:, :17] - np.uint8(48)  # garbage where the shape is wrong; masked by `shape`
    last = chars[:, 17]
    shape = (
        _eight_digits(chars, 0)
        & _eight_digits(chars, 8)
        & (digits[:, 16] <= 9)
        & ((last - np.uint8(48) <= 9) | (last == 88))
    )
    expected = (12 - _weighted_sum(digits, _GB11643_WEIGHTS) % 11) % 11
    found = np.where(last == 88, 10, last.astype(np.int64) - 48)  # X is 10
    birth = calendar_dates(*_year_month_day(chars))

    def spread(values: np.ndarray, empty: Any, dtype: Any) -> np.ndarray:
        whole = np.full(n, empty, dtype=dtype)
        whole[positions] = values
        return whole

    parts = IdCardParts(
        shape=spread(shape, False, bool),
        checksum=spread(shape & (found == expected), False, bool),
        birth=spread(
            np.where(shape, birth, np.datetime64("NaT")), np.datetime64("NaT"), "datetime64[ns]"
        ),
        odd=spread((chars[:, 16] & 1) == 1, False, bool),  # ASCII digits: odd code, odd digit
    )
    _ID_CACHE.last = (series.array, parts)
    return parts


def id_card_format_ok(series: pd.Series) -> pd.Series:
    return check_result(series, id_card_parts(series)[0])


def id_card_checksum_ok(series: pd.Series) -> pd.Series:
    shape, checksum, _, _ = id_card_parts(series)
    return check_result(series, checksum | ~shape)  # a malformed value is id_card_format's failure


def id_card_birth_date_ok(series: pd.Series) -> pd.Series:
    shape, _, birth, _ = id_card_parts(series)
    return check_result(series, ~np.isnat(birth) | ~shape)


def valid_id_card(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Which id_card values are valid (shape, check character, real date), and their birth dates."""
    shape, checksum, birth, _ = id_card_parts(series)
    valid = shape & checksum & ~np.isnat(birth) & series.notna().to_numpy()
    return valid, birth


# -- column checks ---------------------------------------------------------------------------
# Each says how it may be asked (calling.py): these judge a value on its own and cope with
# missing values (their answer there is ignored).
_PER_VALUE = Calling(per_value=True, missing_ok=True)
_COSTLY = Calling(per_value=True, missing_ok=True, encode=True)


@register_check(calling=_COSTLY)
def gb32100(pandas_obj: pd.Series) -> pd.Series:
    """Unified social credit code (GB 32100-2015) with a correct check character."""
    return gb32100_ok(pandas_obj)


@register_check(calling=_PER_VALUE)
def id_card_format(pandas_obj: pd.Series) -> pd.Series:
    """Resident ID number shape (GB 11643): 17 digits and a digit or X."""
    return id_card_format_ok(pandas_obj)


@register_check(calling=_PER_VALUE)
def id_card_checksum(pandas_obj: pd.Series) -> pd.Series:
    """Resident ID number check character (GB 11643, ISO 7064 MOD 11-2)."""
    return id_card_checksum_ok(pandas_obj)


@register_check(calling=_PER_VALUE)
def id_card_birth_date(pandas_obj: pd.Series) -> pd.Series:
    """Characters 7-14 of a resident ID number are a real date."""
    return id_card_birth_date_ok(pandas_obj)


@register_check(calling=_COSTLY)
def no_whitespace(pandas_obj: pd.Series) -> pd.Series:
    """No whitespace inside the value."""
    text = arrow_text(pandas_obj)
    passed = np.ones(len(text), dtype=bool)
    if len(text) == 0:
        return check_result(pandas_obj, passed)
    # One look at every byte finds the rows that may hold a space: an ASCII one (tab, LF, VT, FF,
    # CR, space: Unicode's White_Space) fails its row at once; a non-ASCII byte sends its row to
    # the regex, whose \p{Z} knows the Unicode spaces (U+3000 ideographic, U+00A0, ...) and \x85
    # the one White_Space control beyond ASCII (NEL, a line break).
    offsets, data = text_buffers(text)
    data = data[offsets[0] : offsets[-1]]
    ascii_space = (data == 32) | ((data >= 9) & (data <= 13))
    suspect = ascii_space | (data >= 0x80)
    if not suspect.any():
        return check_result(pandas_obj, passed)
    hits = np.flatnonzero(suspect)
    rows = np.searchsorted(offsets, hits + offsets[0], side="right") - 1
    passed[rows[ascii_space[hits]]] = False
    unicode_rows = np.unique(rows[~ascii_space[hits]])
    unicode_rows = unicode_rows[passed[unicode_rows]]
    if len(unicode_rows):
        has_space = pc.match_substring_regex(text.take(pa.array(unicode_rows)), r"[\s\p{Z}\x{85}]")
        passed[unicode_rows] = ~pc.fill_null(has_space, False).to_numpy(
            zero_copy_only=False
        ).astype(bool)
    return check_result(pandas_obj, passed)


@register_check(statistics=["min_date"], calling=Calling(missing_ok=True))
def not_before_date(pandas_obj: pd.Series, *, min_date: str) -> pd.Series:
    """A time on or after the given date."""
    return pandas_obj >= pd.Timestamp(min_date)


# -- frame (cross-field) checks ---------------------------------------------------------------


def _both(frame: pd.DataFrame, a: str, b: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    left, right = frame[a], frame[b]
    return left, right, left.isna() | right.isna()


@register_check(statistics=["column", "other"], frame=True)
def not_after(pandas_obj: pd.DataFrame, *, column: str, other: str) -> pd.Series:
    """`column` <= `other` (times or numbers)."""
    left, right, skip = _both(pandas_obj, column, other)
    return skip | (left <= right)


@register_check(statistics=["column", "other"], frame=True)
def not_before(pandas_obj: pd.DataFrame, *, column: str, other: str) -> pd.Series:
    """`column` >= `other` (times or numbers)."""
    left, right, skip = _both(pandas_obj, column, other)
    return skip | (left >= right)


@register_check(statistics=["column", "other"], frame=True)
def greater_than_column(pandas_obj: pd.DataFrame, *, column: str, other: str) -> pd.Series:
    """`column` > `other`."""
    left, right, skip = _both(pandas_obj, column, other)
    return skip | (left > right)


@register_check(statistics=["column", "other", "max_seconds"], frame=True)
def at_most_before(
    pandas_obj: pd.DataFrame, *, column: str, other: str, max_seconds: int
) -> pd.Series:
    """The time in `column` is at most `max_seconds` before the time in `other`."""
    left, right, skip = _both(pandas_obj, column, other)
    return skip | ((right - left) <= pd.Timedelta(seconds=max_seconds))


@register_check(statistics=["column", "other"], frame=True)
def id_card_birth_date_matches(pandas_obj: pd.DataFrame, *, column: str, other: str) -> pd.Series:
    """A valid ID number's birth date (characters 7-14) equals `other` (birth_date)."""
    valid, birth = valid_id_card(pandas_obj[column])
    stated = pandas_obj[other].to_numpy("datetime64[ns]")
    check = valid & ~np.isnat(stated)
    return pd.Series(~check | (birth == stated), index=pandas_obj.index)


@register_check(statistics=["column", "other"], frame=True)
def id_card_sex_matches(pandas_obj: pd.DataFrame, *, column: str, other: str) -> pd.Series:
    """A valid ID number's 17th digit is odd for sex_code 1 and even for sex_code 2."""
    ids = pandas_obj[column]
    valid, _ = valid_id_card(ids)
    odd = id_card_parts(ids).odd
    sex = pandas_obj[other]
    is_male = (sex == "1").to_numpy(dtype=bool, na_value=False)
    is_female = (sex == "2").to_numpy(dtype=bool, na_value=False)
    check = valid & (is_male | is_female)
    agrees = (is_male & odd) | (is_female & ~odd)
    return pd.Series(~check | agrees, index=pandas_obj.index)
