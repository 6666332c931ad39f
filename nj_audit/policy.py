"""Thresholds, flags, status and the gate (docs/contract.md § 5); the policy's values validated
(§ 5.6: a NaN threshold would silently disable its flag, a gate bypass)."""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .catalogue import flag_message, threshold_message
from .errors import PolicyError, UsageError
from .forms import FORM_IDS
from .messages import said
from .period import parse_window
from .results import Flag

if TYPE_CHECKING:
    from .history.regress import RegressionRules

OK, WARN, FAIL = "ok", "warn", "fail"
SEVERITY_RANK = {OK: 0, WARN: 1, FAIL: 2}
FAIL_ON_CHOICES = ("fail", "warn", "never")
DEFAULTS = "defaults"  # the source of a policy that no file changed


@dataclass(frozen=True)
class Threshold:
    warn: float
    fail: float | None = None


@dataclass(frozen=True)
class Policy:
    coverage: Threshold = Threshold(11, 6)
    outpatient_rate: Threshold = Threshold(0.90, 0.60)
    discharge_rate: Threshold = Threshold(0.90, 0.60)
    upload_days: Threshold = Threshold(0.95, 0.80)
    validity: Threshold = Threshold(0.99, 0.95)
    coverage_min_records: int = 1
    window_seconds: int = 86_400
    form_windows: dict[str, int] = field(default_factory=dict)  # form id -> seconds
    fail_on: str = "fail"
    regressions: RegressionRules | None = None  # [regressions]: judged against --history (§ 5.5)
    history: Path | None = None  # `history = "FILE"`, relative to the file that says it
    # where it came from (contract § 5.3): "defaults", or the path of the policy file or of the
    # pyproject.toml that held [tool.nj-audit]
    source: str = DEFAULTS
    lang: str | None = None  # `lang = "zh"`: the reports' language when no --lang is given
    members: str = "warn"  # `members = "fail"`: the severity of a district's failing members

    def window_for(self, form: str) -> int:
        return self.form_windows.get(form, self.window_seconds)


THRESHOLD_KEYS = ("coverage", "outpatient_rate", "discharge_rate", "upload_days", "validity")
RATIO_KEYS = THRESHOLD_KEYS[1:]  # thresholds of ratios: between 0 and 1
MAX_COVERAGE = 11  # coverage thresholds count real-time forms


def _number(value: Any, where: str, source: Path) -> float:
    """A finite number (`true`, NaN and infinity are not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PolicyError(f"{where} must be a number, not {_shown(value)}", source)
    if not math.isfinite(value):
        raise PolicyError(f"{where} must be a finite number, not {value}", source)
    return float(value)


def _threshold_value(value: Any, key: str, level: str, source: Path) -> float:
    """A threshold: a ratio between 0 and 1, or a whole number of forms between 0 and 11."""
    where = f"{key}.{level}"
    number = _number(value, where, source)
    if key in RATIO_KEYS and not 0 <= number <= 1:
        raise PolicyError(f"{where} is a ratio: between 0 and 1, not {value}", source)
    if key == "coverage" and (not number.is_integer() or not 0 <= number <= MAX_COVERAGE):
        raise PolicyError(
            f"{where} counts forms: a whole number from 0 to {MAX_COVERAGE}, not {value}", source
        )
    return number


def _shown(value: Any) -> str:
    """A policy value in a message, cut short (a value may be a deeply nested table)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def policy_from_mapping(data: dict[str, Any], source: Path, location: Path | None = None) -> Policy:
    """A policy from the keys of a TOML document (top level or `[tool.nj-audit]`). `source` is
    how reports name the file; `location`, where it is (default: `source`), for the paths it
    names."""
    policy = Policy()
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key in THRESHOLD_KEYS:
            if not isinstance(value, dict) or not set(value) <= {"warn", "fail"}:
                raise PolicyError(f"[{key}] takes only warn and fail", source)
            base: Threshold = getattr(policy, key)
            warn = _threshold_value(value.get("warn", base.warn), key, "warn", source)
            fail = (
                _threshold_value(value["fail"], key, "fail", source)
                if "fail" in value
                else base.fail
            )
            if fail is not None and fail > warn:
                default = "" if "fail" in value else " (the default: set fail too)"
                raise PolicyError(
                    f"[{key}] fail = {fail:g}{default} is above warn = {warn:g}: fail must be"
                    " <= warn",
                    source,
                )
            changes[key] = Threshold(warn, fail)
        elif key == "coverage_min_records":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise PolicyError(
                    f"coverage_min_records must be a whole number >= 1, not {_shown(value)}",
                    source,
                )
            changes[key] = value
        elif key == "window":
            changes["window_seconds"] = _window(value, "window", source)
        elif key == "windows":
            if not isinstance(value, dict):
                raise PolicyError("[windows] must map form ids to windows", source)
            unknown = sorted(set(value) - set(FORM_IDS))
            if unknown:
                shown = ", ".join(_shown(u) for u in unknown[:5])
                raise PolicyError(f"[windows] names unknown forms: {shown}", source)
            changes["form_windows"] = {
                form: _window(w, f"windows.{form}", source) for form, w in value.items()
            }
        elif key == "fail_on":
            if not isinstance(value, str) or value not in FAIL_ON_CHOICES:
                raise PolicyError(
                    said(
                        "error.policy_fail_on",
                        choices=", ".join(FAIL_ON_CHOICES),
                        value=_shown(value),
                    ),
                    source,
                )
            changes[key] = value
        elif key == "members":
            if value not in (WARN, FAIL):
                raise PolicyError(f"members must be warn or fail, not {_shown(value)}", source)
            changes[key] = value
        elif key == "lang":
            if value not in ("en", "zh"):
                raise PolicyError(said("error.policy_lang", value=_shown(value)), source)
            changes[key] = value
        elif key == "regressions":
            changes[key] = _regressions(value, source)
        elif key == "history":
            if not isinstance(value, str) or not value.strip():
                raise PolicyError(
                    f'history must be a file name like "history.sqlite", not {value!r}', source
                )
            changes[key] = (location or source).parent / Path(value).expanduser()
        else:
            raise PolicyError(said("error.policy_unknown_key", key=_shown(key)), source)
    return replace(policy, **changes, source=str(source))


def _regressions(value: Any, source: Path) -> RegressionRules:
    from .history.regress import RegressionRules  # here: needed only with [regressions]

    try:
        return RegressionRules.from_mapping(value)
    except ValueError as exc:
        raise PolicyError(f"[regressions]: {exc}", source) from None


def _window(value: Any, where: str, source: Path) -> int:
    if not isinstance(value, str):
        raise PolicyError(f'{where} must be a duration like "24h", not {_shown(value)}', source)
    try:
        return parse_window(value)
    except UsageError as exc:
        raise PolicyError(f"{where}: {exc.message}", source) from None


def implicit_policy_file(cwd: Path | None = None) -> Path | None:
    """The pyproject.toml a run without --policy takes its `[tool.nj-audit]` from, if any: the
    nearest at or above the working directory (an input like any other: never overwritten)."""
    return find_pyproject(cwd or Path.cwd())


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml: in `start`, else in the nearest of its parents (as ruff and
    pytest look for theirs)."""
    folder = start.absolute()
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            return path
    return None


def load_policy(path: Path | None, cwd: Path | None = None) -> Policy:
    """`--policy FILE`, else `[tool.nj-audit]` in the nearest pyproject.toml at or above the
    working directory (the search stops at the first one found), else the defaults."""
    if path is None:
        here = cwd or Path.cwd()
        pyproject = implicit_policy_file(here)
        if pyproject is None:
            return Policy()
        section = _section(_read_toml(pyproject), pyproject, top_level=False)
        if section is None:
            return Policy()
        return policy_from_mapping(section, _as_seen_from(here, pyproject), pyproject)
    section = _section(_read_toml(path), path, top_level=True)
    if section is None:
        raise PolicyError("no policy found ([tool.nj-audit] is not a table)", path)
    return policy_from_mapping(section, path)


def _section(data: dict[str, Any], source: Path, top_level: bool) -> dict[str, Any] | None:
    """`[tool.nj-audit]` of a TOML document (or, for a --policy file without `tool`, the top
    level); None when there is none. `tool` or `nj-audit` that is not a table is refused."""
    if "tool" not in data:
        return data if top_level else None
    tool = data["tool"]
    if not isinstance(tool, dict):
        raise PolicyError(f"tool must be a table ([tool.nj-audit]), not {_shown(tool)}", source)
    section = tool.get("nj-audit")
    if section is None:
        return None
    if not isinstance(section, dict):
        raise PolicyError(f"[tool.nj-audit] must be a table, not {_shown(section)}", source)
    return section


def _as_seen_from(here: Path, path: Path) -> Path:
    """`path` relative to the working directory (`pyproject.toml`, `../pyproject.toml`), so that a
    report names it the same on every machine; absolute where no relative path exists."""
    try:
        return Path(os.path.relpath(path, here.absolute()))
    except ValueError:  # another drive (Windows)
        return path


def _read_toml(path: Path) -> dict[str, Any]:
    if path.exists() and not path.is_file():  # a folder, or a FIFO that would block the run
        raise PolicyError(said("error.policy_not_file"), path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise PolicyError(said("error.policy_unreadable", reason=reason), path) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(said("error.policy_toml", detail=str(exc)), path) from None
    except RecursionError:
        raise PolicyError("not a policy: nested too deeply", path) from None


def _below(value: float | None, threshold: Threshold, name: str, shown: str) -> Flag | None:
    if value is None:
        return None
    if threshold.fail is not None and value < threshold.fail:
        return Flag(name, FAIL, threshold_message(name, shown, "fail", threshold.fail))
    if value < threshold.warn:
        return Flag(name, WARN, threshold_message(name, shown, "warn", threshold.warn))
    return None


def evaluate_flags(
    policy: Policy,
    *,
    forms_covered: int | None,
    forms_required: int | None,
    outpatient_rate: float | None,
    discharge_rate: float | None,
    upload_day_ratio: float | None,
    valid_ratio: float | None,
    no_data: list[str] | None = None,
    registered: bool | None = None,
    silent: int = 0,
    district: bool = False,
    unreadable_files: int = 0,
) -> list[Flag]:
    """The flags of one institution (or, with `district`, of a district). A metric passed as None
    raises nothing but `no_data` (rates): for the rate kinds named in `no_data`, by default those
    whose rate is None. `silent`: how many of its registered institutions have no row in the
    period (`no_uploads`); `unreadable_files`: how many of its files could not be read."""
    covered = None if forms_covered is None else f"{forms_covered}/{forms_required}"
    ratios = (
        ("coverage", forms_covered, policy.coverage, covered),
        ("outpatient_rate", outpatient_rate, policy.outpatient_rate, pct(outpatient_rate)),
        ("discharge_rate", discharge_rate, policy.discharge_rate, pct(discharge_rate)),
        ("upload_days", upload_day_ratio, policy.upload_days, pct(upload_day_ratio)),
        ("validity", valid_ratio, policy.validity, pct(valid_ratio)),
    )
    flags = [_below(value, threshold, name, str(shown)) for name, value, threshold, shown in ratios]
    if no_data is None:
        rates = (("outpatient", outpatient_rate), ("discharge", discharge_rate))
        no_data = [kind for kind, rate in rates if rate is None]
    if no_data:
        flags.append(Flag("no_data", WARN, flag_message("no_data", kinds=" or ".join(no_data))))
    if registered is False:
        flags.append(Flag("unregistered", WARN, flag_message("unregistered")))
    if silent:
        flags.append(no_uploads_flag(silent, district))
    if unreadable_files:
        flags.append(unreadable_flag(unreadable_files))
    return [f for f in flags if f is not None]


def members_flag(policy: Policy, failing: int, members: int) -> Flag | None:
    """`members`: some member institutions of a district fail (severity: the policy's
    `members`, warn by default); None when none does."""
    if not failing:
        return None
    return Flag("members", policy.members, flag_message("members", count=failing, members=members))


def no_uploads_flag(count: int, district: bool) -> Flag:
    """`no_uploads`: a registered institution (or `count` members of a district) without a row in
    the period."""
    if not district:
        return Flag("no_uploads", FAIL, flag_message("no_uploads"))
    institutions = "institution" if count == 1 else "institutions"
    message = flag_message("no_uploads_district", count=count, institutions=institutions)
    return Flag("no_uploads", FAIL, message)


def unreadable_flag(count: int) -> Flag:
    files = "file" if count == 1 else "files"
    return Flag("unreadable_file", FAIL, flag_message("unreadable_file", count=count, files=files))


def pct(value: float | None) -> str:
    return "/" if value is None else f"{value * 100:.2f}%"


def status_of(flags: list[Flag]) -> str:
    return max((f.severity for f in flags), key=SEVERITY_RANK.__getitem__, default=OK)


def gate_passes(statuses: list[str], fail_on: str) -> bool:
    if fail_on == "never":
        return True
    limit = SEVERITY_RANK[FAIL] if fail_on == "fail" else SEVERITY_RANK[WARN]
    return all(SEVERITY_RANK[s] < limit for s in statuses)
