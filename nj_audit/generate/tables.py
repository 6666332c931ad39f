"""One form's upload: `form_table` draws the rows, the re-uploads (corrections) and the defects,
and returns the finished table in upload order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .defects import spoil
from .people import Patients
from .rows import archive_times, build_rows, upload_and_event_times
from .text import DAY, HOUR, as_text, format_times, join, pick
from .vocabulary import ARCHIVE_FORM_IDS, RECORD_PREFIX
from .writing import Style, finish_table


def _stochastic_round(x: float, rng: np.random.Generator) -> int:
    base = int(np.floor(x))
    return base + int(rng.random() < x - base)


@dataclass(frozen=True)
class FormRows:
    """One form's rows for one upload batch."""

    table: pa.Table  # in upload order; includes the corrections unless they were asked for apart
    corrections: pa.Table | None
    invalid_rows: int
    correction_rows: int


def _later_uploads(rng: np.random.Generator, upload: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Re-upload times: minutes to days later, on an upload day, never after the last one."""
    n = len(upload)
    wanted = upload + rng.integers(600, 3 * DAY, n)
    pos = np.searchsorted(days, wanted // DAY)
    exists = pos < len(days)
    next_day = days[np.minimum(pos, len(days) - 1)]
    on_day = exists & (next_day == wanted // DAY)
    moved = next_day * DAY + rng.integers(HOUR, 20 * HOUR, n)
    same_day = upload + rng.integers(1, 60, n)
    return np.where(on_day, wanted, np.where(exists, moved, same_day))


def form_table(
    form: str,
    rows: int,
    rng: np.random.Generator,
    org_codes: Sequence[str],
    days: np.ndarray,
    pool: Patients,
    *,
    realtime_share: float = 1.0,
    correction_share: float = 0.02,
    invalid_share: float = 0.0,
    region: str = "320102",
    style: Style = Style(),
    first_seq: int = 0,
    separate_corrections: bool = False,
    skip_defects: frozenset[str] = frozenset(),
) -> FormRows:
    """`rows` rows of `form` uploaded on `days` (sorted day numbers since 1970-01-01).

    `realtime_share` of the first uploads reach the platform within 24 h of the event, the rest 1-10
    days late (real-time forms; archive forms are uploaded days to years after the event).
    `correction_share` of the records are uploaded again later (those rows count in `rows`); about
    40% of them re-upload a record whose first upload was invalid. `invalid_share` of all rows get
    exactly one defect, of the kinds `defect_names(form)` less `skip_defects` (e.g. skip
    "time_format" to keep every time readable). Rows pick an org code from `org_codes` and a
    patient from `pool`; record ids are numbered from `first_seq` (unique across calls).
    """
    n_corr = min(
        _stochastic_round(rows * correction_share / (1 + correction_share), rng), rows // 2
    )
    n_base = rows - n_corr
    bad = rng.choice(rows, min(_stochastic_round(invalid_share * rows, rng), rows), replace=False)
    who = rng.choice(len(pool), n_base)
    if form in ARCHIVE_FORM_IDS:
        event, upload = archive_times(form, rng, days, pool.birth[who])
    else:
        realtime = np.zeros(n_base, dtype=bool)
        realtime[
            rng.choice(
                n_base, min(_stochastic_round(realtime_share * n_base, rng), n_base), replace=False
            )
        ] = True
        event, upload = upload_and_event_times(rng, n_base, realtime, days)
    base = build_rows(form, rng, who, event, upload, pool, region)
    if len(org_codes) == 1:
        base.text["org_code"] = pa.array([org_codes[0]] * n_base, pa.string())
    else:
        base.text["org_code"] = pick(rng, org_codes, n_base)
    stamp = pc.replace_substring(format_times(event, date_only=True), "-", "")
    base.text["record_id"] = join(
        RECORD_PREFIX[form], stamp, as_text(np.arange(n_base) + first_seq, 8)
    )

    base_bad = bad[bad < n_base]
    fix = rng.choice(
        base_bad, min(len(base_bad), _stochastic_round(n_corr * 0.4, rng)), replace=False
    )
    rest = rng.choice(np.setdiff1d(np.arange(n_base), fix), n_corr - len(fix), replace=False)
    sources = np.concatenate([fix, rest]).astype(np.int64)
    everything = base.take(np.concatenate([np.arange(n_base), sources]))
    everything.times["upload_time"][n_base:] = _later_uploads(rng, upload[sources], days)
    uploaded = everything.times["upload_time"].copy()
    spoil(everything, bad, rng, skip_defects)
    table = finish_table(everything, rng, style)
    if separate_corrections and n_corr:
        first = table.slice(0, n_base).take(pa.array(np.argsort(uploaded[:n_base], kind="stable")))
        later = table.slice(n_base).take(pa.array(np.argsort(uploaded[n_base:], kind="stable")))
        return FormRows(first, later, len(bad), n_corr)
    return FormRows(
        table.take(pa.array(np.argsort(uploaded, kind="stable"))), None, len(bad), n_corr
    )
