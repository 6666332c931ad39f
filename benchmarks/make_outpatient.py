"""Write a large outpatient_visit CSV quickly, for benchmarks.

    python benchmarks/make_outpatient.py OUT.csv --rows N [--dirty 0.5] [--seed S]
        [--institutions 190]

Rows follow the outpatient_visit schema (docs/contract.md § 3): `--institutions` org codes, uploads
on every day of 2022, ~85% of them within 24 h of the visit, ~2% corrections (a record uploaded
again later with the same record_id), and `--dirty F`: a share F of rows with exactly one defect of
varied kinds (bad check characters, codes, patterns, missing values, broken cross-field rules,
numbers). Every time stays readable as `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD`, so a plain typed
pyarrow read of the file works (bench_audit.py compares the audit with one). Generated and written
in chunks of 250,000 rows: memory stays bounded whatever N is."""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

import numpy as np

from nj_audit.generate import DISTRICTS, csv_bytes, form_table, make_patients, org_code

CHUNK_ROWS = 250_000
FORM = "outpatient_visit"


def write_outpatient(
    path: Path,
    rows: int,
    dirty: float = 0.0,
    seed: int = 0,
    institutions: int = 190,
    correction_share: float = 0.02,
    realtime_share: float = 0.85,
) -> int:
    """Write `rows` outpatient_visit rows (header included once) to `path`; return the
    invalid rows."""
    rng = np.random.default_rng([seed, 0])
    regions = [code for _, code, _ in DISTRICTS.values()]
    codes = [org_code(rng, regions[k % len(regions)]) for k in range(institutions)]
    days = np.arange(np.datetime64("2022-01-01"), np.datetime64("2023-01-01")).astype(np.int64)
    invalid = 0
    with open(path, "wb") as out:
        if rows == 0:
            empty = form_table(FORM, 0, rng, codes, days, make_patients(rng, 1, date(2021, 12, 1)))
            out.write(csv_bytes(empty.table))
        for k, start in enumerate(range(0, rows, CHUNK_ROWS)):
            n = min(CHUNK_ROWS, rows - start)
            chunk_rng = np.random.default_rng([seed, 1, k])
            pool = make_patients(chunk_rng, max(n // 3, 50), date(2021, 12, 1))
            made = form_table(
                FORM,
                n,
                chunk_rng,
                codes,
                days,
                pool,
                realtime_share=realtime_share,
                correction_share=correction_share,
                invalid_share=dirty,
                first_seq=start,
                skip_defects=frozenset({"time_format"}),
            )
            invalid += made.invalid_rows
            out.write(csv_bytes(made.table, header=k == 0))
    return invalid


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path, help="the CSV file to write")
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument(
        "--dirty", type=float, default=0.0, help="share of rows with one defect (0-1)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--institutions", type=int, default=190)
    args = parser.parse_args()
    if not 0 <= args.dirty <= 1 or args.rows < 0 or args.institutions < 1:
        parser.error("--rows >= 0, --dirty in [0, 1], --institutions >= 1")
    started = time.perf_counter()
    invalid = write_outpatient(args.out, args.rows, args.dirty, args.seed, args.institutions)
    seconds = time.perf_counter() - started
    size = args.out.stat().st_size / 1e6
    print(
        f"{args.out}: {args.rows:,} rows ({invalid:,} invalid), {size:,.0f} MB in {seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
