"""Custom checks of the published tables (docs/contract.md § 8): the summary table that `rank`
reads and the bookings table with its subtotals and 合计 (total) row.

Like checks/upload.py: column checks get the typed column without its missing values, frame checks
get the typed frame; a row where an operand is missing or unreadable passes a frame check, because
that defect is already reported by the column's own check (one defect, one report).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from ..conversion import parse_numbers
from .calling import Calling, explains, register_check
from .upload import check_result

NOT_APPLICABLE = "/"
RATE_PATTERN = re.compile(r"^(?:/|(\d+(?:\.\d*)?|\.\d+)(%?))$")
FRACTION_PATTERN = re.compile(r"^(?:/|(\d+)/(\d+))$")


# -- parsing the published notations ------------------------------------------------------------


def parse_rate(text: object) -> float | None:
    """`95.40%` -> 0.954, `0.954` -> 0.954; None for `/`, a missing or an unreadable value."""
    if not isinstance(text, str):
        return None
    match = RATE_PATTERN.match(text.strip())
    if match is None or match.group(1) is None:
        return None
    value = Decimal(match.group(1))  # exact, so 95.40% is the float nearest 0.954, as 0.954 is
    return float(value / 100 if match.group(2) else value)


def parse_fraction(text: object) -> tuple[int, int] | None:
    """`11/11` -> (11, 11); None for `/`, a missing or an unreadable value."""
    if not isinstance(text, str):
        return None
    match = FRACTION_PATTERN.match(text.strip())
    if match is None or match.group(1) is None:
        return None
    return int(match.group(1)), int(match.group(2))


# -- column checks -------------------------------------------------------------------------------


@register_check()
def rate_format(pandas_obj: pd.Series) -> pd.Series:
    """A rate as a percentage (`95.40%`), a ratio (`0.954`) or `/` (not applicable)."""
    return check_result(
        pandas_obj, [RATE_PATTERN.match(v) is not None for v in pandas_obj.astype(str)]
    )


@register_check()
def rate_in_range(pandas_obj: pd.Series) -> pd.Series:
    """A readable rate is between 0 and 100% (0 and 1)."""
    rates = (parse_rate(v) for v in pandas_obj.astype(str))
    return check_result(pandas_obj, [r is None or 0 <= r <= 1 for r in rates])


@register_check()
def fraction_format(pandas_obj: pd.Series) -> pd.Series:
    """Forms as `k/n` (whole numbers, n >= 1) or `/`."""
    parts = (FRACTION_PATTERN.match(v) for v in pandas_obj.astype(str))
    return check_result(
        pandas_obj, [m is not None and (m.group(2) is None or int(m.group(2)) >= 1) for m in parts]
    )


@register_check()
def fraction_not_above(pandas_obj: pd.Series) -> pd.Series:
    """In `k/n`, k <= n."""
    fractions = (parse_fraction(v) for v in pandas_obj.astype(str))
    return check_result(pandas_obj, [f is None or f[0] <= f[1] for f in fractions])


@register_check()
def whole_number(pandas_obj: pd.Series) -> pd.Series:
    """A whole number (a count)."""
    values = pandas_obj.to_numpy(dtype=np.float64)
    return check_result(pandas_obj, np.isfinite(values) & (values == np.floor(values)))


@register_check(statistics=["period_days"])
def within_period_days(pandas_obj: pd.Series, *, period_days: int) -> pd.Series:
    """A number of days at most the period's length (upload days within the period)."""
    return pandas_obj <= period_days


@register_check()
def no_duplicates(pandas_obj: pd.Series) -> pd.Series:
    """Each value appears once (one row per institution)."""
    return ~pandas_obj.duplicated(keep=False)


# -- frame checks --------------------------------------------------------------------------------
@register_check(statistics=["column"], frame=True, calling=Calling(text=True))
def not_blank(pandas_obj: pd.DataFrame, *, column: str) -> pd.Series:
    """When the table has `column`, every row has a value in it (`/` where not applicable)."""
    if column not in pandas_obj.columns:
        return pd.Series(True, index=pandas_obj.index)
    return pandas_obj[column].notna()


@register_check(statistics=["column"], frame=True)
def one_row_per_institution(pandas_obj: pd.DataFrame, *, column: str) -> pd.Series:
    """Each institution on one row: told by its org_code where the table has one (two
    institutions may share a name), else by `column`, its name."""
    names = pandas_obj[column]
    if "org_code" in pandas_obj.columns:
        names = pandas_obj["org_code"].where(pandas_obj["org_code"].notna(), "name:" + names)
    return ~names.duplicated(keep=False) | names.isna()


def _numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    """`column` as floats (NaN where missing); raw text is parsed, typed numbers kept."""
    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index)
    values = frame[column]
    return (
        values.astype(np.float64)
        if pd.api.types.is_float_dtype(values)
        else parse_numbers(values)[0]
    )


def _row_sums(
    frame: pd.DataFrame, column: str, parts: list[str]
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Found values, expected sums, and which rows have every operand."""
    found = _numbers(frame, column)
    numbers = pd.concat([_numbers(frame, p) for p in parts], axis=1)
    known = found.notna() & numbers.notna().all(axis=1)
    return found, numbers.sum(axis=1), known


@register_check(statistics=["column", "parts"], frame=True)
def row_sum(pandas_obj: pd.DataFrame, *, column: str, parts: list[str]) -> pd.Series:
    """`column` (a subtotal) equals the sum of the `parts` columns of its row."""
    found, expected, known = _row_sums(pandas_obj, column, list(parts))
    return ~known | (found == expected)


def _labels(frame: pd.DataFrame, label_column: str, label: str) -> pd.Series:
    if label_column not in frame.columns:
        return pd.Series(False, index=frame.index)
    return frame[label_column].astype(object).eq(label).fillna(False).astype(bool)


def _column_totals(
    frame: pd.DataFrame, column: str, label_column: str, label: str
) -> tuple[pd.Series, float | None, pd.Series]:
    """Found values, the expected total (None when a value above it is missing), total rows."""
    found = _numbers(frame, column)
    is_total = _labels(frame, label_column, label)
    others = found[~is_total]
    expected = None if others.isna().any() else float(others.sum())
    return found, expected, is_total


@register_check(statistics=["column", "label_column", "label"], frame=True)
def column_total(
    pandas_obj: pd.DataFrame, *, column: str, label_column: str, label: str
) -> pd.Series:
    """On the row whose `label_column` is `label` (合计), `column` equals the sum of the other
    rows."""
    found, expected, is_total = _column_totals(pandas_obj, column, label_column, label)
    if expected is None:
        return pd.Series(True, index=pandas_obj.index)
    return ~is_total | found.isna() | (found == expected)


# -- explaining failures ---------------------------------------------------------------------------


def number_text(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:g}"


@explains("row_sum")
def explain_row_sum(frame: pd.DataFrame, rows: np.ndarray, **stats: Any) -> list[str]:
    """Per failing row: `expected 1922697, found 1922698` (the sum of the parts, the subtotal)."""
    texts = [""] * len(rows)
    found, expected, known = _row_sums(frame, stats["column"], list(stats["parts"]))
    for n, row in enumerate(rows):
        if known.iloc[row] and found.iloc[row] != expected.iloc[row]:
            texts[n] = (
                f"expected {number_text(expected.iloc[row])}, found {number_text(found.iloc[row])}"
            )
    return texts


@explains("column_total")
def explain_column_total(frame: pd.DataFrame, rows: np.ndarray, **stats: Any) -> list[str]:
    """Per failing row: `expected 505272, found 505273` (the column's sum, the total row's
    value)."""
    texts = [""] * len(rows)
    found, expected, is_total = _column_totals(
        frame, stats["column"], stats["label_column"], stats["label"]
    )
    for n, row in enumerate(rows):
        value = found.iloc[row]
        if (
            expected is not None
            and is_total.iloc[row]
            and not np.isnan(value)
            and value != expected
        ):
            texts[n] = f"expected {number_text(expected)}, found {number_text(value)}"
    return texts
