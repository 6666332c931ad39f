"""Speed and memory of `nj-audit audit` against a plain typed pyarrow read of the same file.

    python benchmarks/bench_audit.py --rows 1000000 5000000 10000000 [--dirty 0.5] [--keep DIR]

For each size it writes a clean outpatient_visit CSV (and a dirty one where a share of rows fail a
rule), then, each in a fresh process, times `pyarrow.csv.read_csv` with column types (the floor)
and the whole `nj-audit audit FILE --format json` (read, every rule, corrections, metrics, report),
and prints rows/s, the ratio audit/read and the peak RSS of each. Compare ratios, not seconds: the
machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_outpatient import write_outpatient  # noqa: E402

PLAIN_READ = """
import sys, pyarrow as pa, pyarrow.csv as csv
times = ["event_time", "upload_time", "birth_date"]
types = {c: (pa.timestamp("s") if c in times else pa.string()) for c in
         ["org_code", "record_id", "event_time", "upload_time", "patient_id", "id_card", "name", \
"sex_code",
          "birth_date", "visit_type", "dept_code", "diagnosis_code", "doctor_id"]}
options = csv.ConvertOptions(column_types=types, \
timestamp_parsers=["%Y-%m-%d %H:%M:%S", "%Y-%m-%d"])
table = csv.read_csv(sys.argv[1], convert_options=options)
print(table.num_rows)
"""


def measure(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(
            f"{' '.join(command)} exited {code}: "
            f"{process.stderr.read().decode() if process.stderr else ''}"
        )
    return seconds, usage.ru_maxrss / 1024


def medians(runs: int, *commands: list[str]) -> list[tuple[float, float]]:
    """Median seconds and largest peak RSS of each command over `runs` runs. The commands take
    turns, so a burst of load on the shared machine hits each of them alike."""
    results: list[list[tuple[float, float]]] = [[] for _ in commands]
    for _ in range(max(runs, 1)):
        for command, measured in zip(commands, results):
            measured.append(measure(command))
    return [
        (statistics.median(r[0] for r in measured), max(r[1] for r in measured))
        for measured in results
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument(
        "--dirty", type=float, default=0.5, help="share of invalid rows in the dirty variant"
    )
    parser.add_argument(
        "--keep", type=Path, help="folder to write the files into (kept and reused)"
    )
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each measurement; the median is shown"
    )
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="nj-audit-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    cli = [sys.executable, "-m", "nj_audit", "audit", "--format", "json", "--quiet"]
    if args.chunk_size:
        cli += ["--chunk-size", str(args.chunk_size)]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    header = (
        f"{'rows':>11} {'variant':<7} {'MB':>6} | {'read s':>7} {'read MiB':>8} | "
        f"{'audit s':>7} {'rows/s':>10} {'MiB':>6} | ratio"
    )
    print(header)
    print("-" * len(header))
    for rows in args.rows:
        for variant, dirty in (("clean", 0.0), ("dirty", args.dirty)):
            path = folder / f"outpatient_visit_{rows}_{variant}.csv"
            if not path.exists():
                write_outpatient(path, rows, dirty, seed=rows)
            megabytes = path.stat().st_size / 1e6
            (read_s, read_mib), (audit_s, audit_mib) = medians(
                args.repeat, [sys.executable, "-c", PLAIN_READ, str(path)], [*cli, str(path)]
            )
            print(
                f"{rows:>11,} {variant:<7} {megabytes:>6.0f} | {read_s:>7.2f} {read_mib:>8.0f} | "
                f"{audit_s:>7.2f} {rows / audit_s:>10,.0f} {audit_mib:>6.0f} | "
                f"{audit_s / read_s:>5.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
