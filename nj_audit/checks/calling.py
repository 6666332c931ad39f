"""How each check may be asked, declared where the check is defined, and the one place that
calls a pandera check's function directly.

The rules are pandera checks, but the audit does not ask pandera for failure-case frames (2 µs
per failing cell: a dirty file would be several times slower than a clean one). It calls each
check's vectorised function itself and keeps a boolean mask; `Calling` says which short cuts a
check allows, so that the caller spares copies of the column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd
from pandera.api.checks import Check
from pandera.extensions import register_check_method

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Calling:
    """What a column check's function allows.

    per_value: it judges each value on its own, so it may run once per distinct value of a
        column whose values repeat (an institution code repeats on every row);
    missing_ok: it copes with missing values (its answer there is ignored), so it may see the
        whole column instead of a filtered copy of the present values;
    encode: it is costly enough per value that dictionary-encoding a column for it pays (a set
        lookup or a length does not: encoding costs more than it saves);
    text: a frame check that judges the values as written, not as typed (whether a cell is
        blank: a `/` in a number column is no number, but it is not blank)."""

    per_value: bool = False
    missing_ok: bool = False
    encode: bool = False
    text: bool = False


PRESENT_ONLY = Calling()  # the safe default: the present values only, one by one
_TEXT = Calling(per_value=True, missing_ok=True)  # pandera's text checks answer False or NA there
_COSTLY_TEXT = Calling(per_value=True, missing_ok=True, encode=True)
_COMPARISON = Calling(missing_ok=True)

_CALLING: dict[str, Calling] = {
    # pandera's own checks
    **dict.fromkeys(("isin", "notin", "str_startswith", "str_endswith", "str_length"), _TEXT),
    **dict.fromkeys(("str_matches", "str_contains"), _COSTLY_TEXT),
    **dict.fromkeys(
        (
            "in_range",
            "greater_than",
            "greater_than_or_equal_to",
            "less_than",
            "less_than_or_equal_to",
            "equal_to",
            "not_equal_to",
        ),
        _COMPARISON,
    ),
}
PANDERA_CHECKS = frozenset(_CALLING)  # those above; the contract's own register themselves


def calling_of(check: Check) -> Calling:
    return _CALLING.get(check.name or "", PRESENT_ONLY)


def register_check(
    *,
    statistics: list[str] | None = None,
    calling: Calling = PRESENT_ONLY,
    frame: bool = False,
) -> Callable[[F], F]:
    """Register a check with pandera (so the YAML schemas can name it) and say how it may be
    asked. A frame check (`frame=True`) gets the whole typed frame."""

    def register(fn: F) -> F:
        _CALLING[fn.__name__] = calling
        kwargs: dict[str, Any] = {"statistics": statistics or []}
        if frame:
            kwargs["supported_types"] = pd.DataFrame
        register_check_method(**kwargs)(fn)
        return fn

    return register


def ask(check: Check, data: pd.Series | pd.DataFrame) -> Any:
    """The check's answer for `data` (a boolean Series, array or scalar): its vectorised function
    called with the schema's arguments. The only place that reads pandera's private attributes."""
    return check._check_fn(data, **check._check_kwargs)


# A check may name, per failing row, what it expected and found (a subtotal's expected sum); the
# failure reports then show that text instead of the bare cell value.
Explainer = Callable[..., list[str]]
EXPLAINERS: dict[str, Explainer] = {}


def explains(check_name: str) -> Callable[[Explainer], Explainer]:
    def register(fn: Explainer) -> Explainer:
        EXPLAINERS[check_name] = fn
        return fn

    return register
