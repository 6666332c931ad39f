"""What a store's states depend on, written when the store is made and checked on every use.

The states hold verdicts: whether a row was valid (the schemas) and whether it was in time (the
window and the per-form windows). A store made with other settings would give another audit than
the files it holds, so it is refused, naming the setting. The format (a version and the state's
columns: `metrics.STATE_COLUMNS`) and the forms' order (states hold form indexes) are checked the
same way, and so is the number of buckets the states are cut into.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from ..errors import UsageError
from ..forms import FORM_IDS
from ..metrics import STATE_COLUMNS
from ..policy import Policy
from ..schemas import schema_path

# raised when the layout of the store changes (2: the states' first_delay; 3: their resident,
# the hash of an archive record's id_card)
FORMAT = 3
DEFAULT_BUCKETS = 64  # each partition file holds one record batch per bucket


def schemas_digest() -> str:
    """One SHA-256 over the 14 shipped schema files (the rules every verdict came from)."""
    digest = hashlib.sha256()
    for form in FORM_IDS:
        digest.update(form.encode() + b"\0" + schema_path(form).read_bytes() + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class StoreSettings:
    format: int
    columns: str  # "name:dtype,..." of the per-record state
    forms: str  # FORM_IDS in order
    window_seconds: int
    form_windows: str  # JSON {form: seconds}, sorted
    schemas: str  # schemas_digest()
    buckets: int

    @classmethod
    def of(cls, policy: Policy, buckets: int = DEFAULT_BUCKETS) -> StoreSettings:
        return cls(
            format=FORMAT,
            columns=",".join(f"{name}:{dtype}" for name, dtype, _ in STATE_COLUMNS),
            forms=",".join(FORM_IDS),
            window_seconds=policy.window_seconds,
            form_windows=json.dumps(dict(sorted(policy.form_windows.items()))),
            schemas=schemas_digest(),
            buckets=buckets,
        )

    def as_rows(self) -> list[tuple[str, str]]:
        return [(key, str(value)) for key, value in asdict(self).items()]

    @classmethod
    def from_rows(cls, rows: dict[str, str]) -> StoreSettings:
        try:
            return cls(
                format=int(rows["format"]),
                columns=rows["columns"],
                forms=rows["forms"],
                window_seconds=int(rows["window_seconds"]),
                form_windows=rows["form_windows"],
                schemas=rows["schemas"],
                buckets=int(rows["buckets"]),
            )
        except (KeyError, ValueError) as exc:
            raise UsageError(
                f"not a state store of this nj-audit (its settings lack {exc})"
            ) from None


_WHAT = {
    "format": ("its format", "this nj-audit reads format"),
    "columns": ("states of the columns", "this nj-audit's states have"),
    "forms": ("the forms", "this nj-audit has"),
    "window_seconds": ("the window", "this run's window is"),
    "form_windows": ("the per-form windows", "this run's are"),
    "schemas": ("other schemas (rules)", "this nj-audit's schemas differ"),
    "buckets": ("buckets", "this run asks for"),
}


def refuse_other_settings(store: object, theirs: StoreSettings, ours: StoreSettings) -> None:
    """A clear refusal naming the first setting that differs (the format first: the others may
    not mean the same in another format)."""
    for key in _WHAT:
        mine, other = getattr(ours, key), getattr(theirs, key)
        if mine == other:
            continue
        made, now = _WHAT[key]
        if key == "schemas":
            raise UsageError(
                f"the store was made with {made}; {now}: its verdicts would not be this"
                " version's (make a new store from the uploads)",
                str(store),
            )
        if key == "window_seconds":
            other, mine = f"{other}s", f"{mine}s"
        raise UsageError(
            f"the store was made with {made} {other}; {now} {mine}: use the store's setting,"
            " or make a new store from the uploads",
            str(store),
        )
