"""The whole batch: `generate_batch` plans the institutions, then writes each one's forms, its
corrections and the registry."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import write_bytes
from ..errors import UsageError
from ..period import Period, parse_period
from .calibration import DISTRICTS, FORM_WEIGHTS
from .institutions import InstitutionPlan, allocate, plan_institutions
from .people import make_patients
from .tables import form_table
from .writing import Style, csv_bytes

DEFAULT_PERIOD = parse_period("2022-03")


@dataclass(frozen=True)
class GeneratedBatch:
    """What `generate_batch` wrote: paths, row counts, and the plan of every institution."""

    outdir: Path
    registry: Path
    files: tuple[Path, ...]
    rows: int
    invalid_rows: int
    correction_rows: int
    institutions: tuple[InstitutionPlan, ...]


def generate_batch(
    outdir: Path,
    institutions: int = 12,
    rows: int = 20_000,
    period: Period = DEFAULT_PERIOD,
    seed: int = 0,
    realtime_share: float | None = None,
    correction_share: float = 0.02,
    invalid_share: float = 0.01,
    missed_day_share: float | None = None,
    missing_form_share: float | None = None,
    *,
    registry: Path | None = None,
    unregistered: int = 1,
) -> GeneratedBatch:
    """Write a realistic batch of uploads to `outdir` and return what was written.

    Layout: `outdir/<district pinyin>/<org_code>/<form_id>.csv` (sometimes also
    `<form_id>_corrections.csv`), and the registry (org_code,name,district) at `registry`
    (default `outdir/registry.csv`). Existing files of the same names are replaced, each
    atomically.

    The knobs:
    - `institutions`: how many; named after the hospitals of the 2022 Nanjing table, then community
      health centres. Each one is modelled on a row of that table (forms covered, real-time rates,
      upload days), one of each kind first: full coverage, no real-time data, partial coverage,
      many missed days.
    - `rows`: rows written in total (corrections included), split across institutions like the
      table's upload volumes (compressed) and across forms like a hospital's.
    - `period`: uploads fall on the days of this period (default March 2022); events may precede it.
    - `seed`: the same seed writes the same bytes.
    - `realtime_share`: when given, every institution uploads this share of its real-time forms'
      records within 24 h of the event and the rest 1-10 days late; else drawn per institution
      and form from the table (20%-99%, some forms never in real time).
    - `correction_share`: share of records uploaded a second time later (same org_code and
      record_id); about 40% of them fix a record whose first upload was invalid.
    - `invalid_share`: share of rows with exactly one defect (bad check character, code, pattern,
      missing value, unreadable time or number, broken cross-field rule...).
    - `missed_day_share`: when given, every institution uploads nothing on this share of the
      period's days; else drawn from the table (most miss a few days, some most of them).
    - `missing_form_share`: when given, every institution leaves out this share of the 11
      real-time forms; else drawn from the table (11/11, 10/11, 6/11, 5/11 or 0/11).
    - `unregistered`: institutions left out of the registry (so the audit flags them).
    One institution writes GB18030 with CRLF line ends (a Chinese Excel export), another CRLF.
    """
    shares = {
        "--realtime-share": realtime_share,
        "--correction-share": correction_share,
        "--invalid-share": invalid_share,
        "--missed-day-share": missed_day_share,
        "--missing-form-share": missing_form_share,
    }
    for option, share in shares.items():
        if share is not None and not (isinstance(share, float | int) and 0 <= share <= 1):
            raise UsageError(f"{option} is a share: between 0 and 1, not {share}")
    outdir = Path(outdir)
    registry = Path(registry) if registry is not None else outdir / "registry.csv"
    plans = plan_institutions(
        np.random.default_rng([seed, 0]),
        institutions,
        rows,
        period,
        realtime_share,
        missed_day_share,
        missing_form_share,
        unregistered,
    )
    born_before = (np.datetime64(period.start, "D") - 15).item()
    all_days = np.arange(
        np.datetime64(period.start, "D"), np.datetime64(period.end, "D") + 1
    ).astype(np.int64)
    files: list[Path] = []
    invalid = corrections = 0
    for i, plan in enumerate(plans):
        rng = np.random.default_rng([seed, 1, i])
        missed = np.array(
            [np.datetime64(d, "D") for d in plan.missed_days], dtype="datetime64[D]"
        ).astype(np.int64)
        days = np.setdiff1d(all_days, missed)
        pool = make_patients(rng, max(plan.rows // 3, 50), born_before)
        style = Style("T" if rng.random() < 0.1 else " ", 0.02 if rng.random() < 0.3 else 0.0)
        region = DISTRICTS[plan.district][1]
        weights = np.array([FORM_WEIGHTS[f] for f in plan.forms])
        folder = outdir / plan.folder / plan.org_code
        for form, count in zip(plan.forms, allocate(weights, plan.rows) if plan.forms else []):
            if count == 0:
                continue
            made = form_table(
                form,
                int(count),
                rng,
                [plan.org_code],
                days,
                pool,
                realtime_share=plan.realtime_share(form) or 0.0,
                correction_share=correction_share,
                invalid_share=invalid_share,
                region=region,
                style=style,
                separate_corrections=rng.random() < 0.3,
            )
            invalid += made.invalid_rows
            corrections += made.correction_rows
            for suffix, table in (("", made.table), ("_corrections", made.corrections)):
                if table is None:
                    continue
                path = folder / f"{form}{suffix}.csv"
                write_bytes(path, csv_bytes(table, crlf=plan.crlf, encoding=plan.encoding))
                files.append(path)
    lines = ["org_code,name,district"] + [
        f"{p.org_code},{p.name},{p.district}" for p in plans if p.registered
    ]
    write_bytes(registry, ("\n".join(lines) + "\n").encode("utf-8"))
    return GeneratedBatch(
        outdir,
        registry,
        tuple(files),
        sum(p.rows for p in plans),
        invalid,
        corrections,
        tuple(plans),
    )
