"""Issue 13's figures: bounded memory at any size, the spill's cost, a year-shaped state store and
the dask client's memory.

    python benchmarks/bench_scale.py rows 5000000 20000000 50000000 [--delete]
    python benchmarks/bench_scale.py spill 20000000 [--repeat 3]
    python benchmarks/bench_scale.py year [--days 365]
    python benchmarks/bench_scale.py store 20000000
    python benchmarks/bench_scale.py dask 1000000 4000000

- `rows`: an outpatient_visit CSV of each size (make_outpatient.py; ~150 bytes a row, so 50M rows
  are 7.5 GB: free disk is checked first, `--delete` removes each file once measured) audited with
  the default --memory-limit (1 GiB), each run in a fresh process: wall time, rows/s, peak RSS.
- `spill`: the same file audited in memory (--memory-limit 64GiB: nothing spills) and with the
  default limit (the states spill), taking turns; the median time of each and their ratio, and
  whether the two JSON documents are the same bytes.
- `year`: a year of uploads (generate_batch) cut into daily folders, each added to a store
  (`state add`, in one process, so that interpreter start-up is not counted 365 times); then, in
  fresh processes, `audit --state STORE` against one `audit` of all the daily folders, the two
  documents compared, and `state compact`.
- `store`: the same file added to a new store (`state add`), then `audit --state` against a plain
  audit of the file: times, the fold's rate (states a second), bytes a state on disk.
- `dask`: the outpatient file of each size, cut in pieces of 250,000 rows, audited with
  `--engine dask` on a local cluster of two workers; the client process's peak RSS (the workers
  are processes of their own).

Data goes under --data (default /work/bench-data/scale). Compare ratios, not seconds: the machine
is shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_outpatient import write_outpatient  # noqa: E402

CLI = [sys.executable, "-m", "nj_audit"]
BYTES_PER_ROW = 160  # outpatient_visit CSV, a little more than measured (150)


def measure(command: list[str], output: Path | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process (its stdout to `output`)."""
    sink = open(output, "wb") if output else subprocess.DEVNULL  # noqa: SIM115
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=sink, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if output:
        sink.close()  # type: ignore[union-attr]
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        error = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"{' '.join(command)} exited {code}: {error}")
    return seconds, usage.ru_maxrss / 1024


def need_disk(folder: Path, needed: int) -> None:
    free = shutil.disk_usage(folder).free
    if free < needed * 1.2:
        raise SystemExit(f"{folder}: {free / 1e9:.1f} GB free, {needed / 1e9:.1f} GB needed")


def outpatient_file(data: Path, rows: int) -> Path:
    path = data / f"outpatient_visit_{rows // 1_000_000}m.csv"
    if not path.exists():
        need_disk(data, rows * BYTES_PER_ROW + rows * 48)  # the file and its spilled states
        started = time.perf_counter()
        write_outpatient(path, rows, 0.0, seed=rows)
        print(f"  wrote {path} in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def bench_rows(args: argparse.Namespace) -> None:
    print(f"{'rows':>11} {'GB':>5} | {'seconds':>8} {'rows/s':>10} {'peak MiB':>9}")
    for rows in args.sizes:
        path = outpatient_file(args.data, rows)
        seconds, peak = measure([*CLI, "audit", str(path), "--format", "json", "--quiet"])
        size = path.stat().st_size / 1e9
        print(f"{rows:>11,} {size:>5.1f} | {seconds:>8.1f} {rows / seconds:>10,.0f} {peak:>9,.0f}")
        if args.delete:
            path.unlink()


def bench_spill(args: argparse.Namespace) -> None:
    path = outpatient_file(args.data, args.sizes[0])
    outputs = {limit: args.data / f"spill-{limit}.json" for limit in ("64GiB", "1GiB")}
    runs: dict[str, list[tuple[float, float]]] = {limit: [] for limit in outputs}
    for _ in range(args.repeat):
        for limit, output in outputs.items():
            command = [*CLI, "audit", str(path), "--format", "json", "--quiet"]
            runs[limit].append(measure([*command, "--memory-limit", limit], output))
            print(f"  {limit:>6}: {runs[limit][-1][0]:.1f} s, {runs[limit][-1][1]:,.0f} MiB")
    same = len({output.read_bytes() for output in outputs.values()}) == 1
    memory, spilled = (statistics.median(s for s, _ in runs[limit]) for limit in outputs)
    print(
        f"in memory {memory:.1f} s ({max(m for _, m in runs['64GiB']):,.0f} MiB), spilled"
        f" {spilled:.1f} s ({max(m for _, m in runs['1GiB']):,.0f} MiB):"
        f" ratio {spilled / memory:.3f}; documents {'identical' if same else 'DIFFER'}"
    )
    for output in outputs.values():
        output.unlink()


def bench_year(args: argparse.Namespace) -> None:
    from nj_audit.generate import generate_batch, split_by_upload_day
    from nj_audit.period import parse_period
    from nj_audit.requests import StateAddRequest
    from nj_audit.store.adding import add_files

    root = Path(tempfile.mkdtemp(prefix="nj-audit-year-", dir=args.data))
    try:
        period = parse_period(f"2022-01-01:2022-{_month_day(args.days)}")
        made = generate_batch(
            root / "batch",
            institutions=args.institutions,
            rows=args.days * args.rows_per_day,
            period=period,
            seed=1,
            correction_share=0.05,
            missing_form_share=0.7,
        )
        days = split_by_upload_day(root / "batch", root / "days")
        files = sum(1 for day in days for _ in day.rglob("*.csv"))
        print(f"  {made.rows:,} rows, {len(days)} daily folders, {files:,} files")
        store = root / "store"
        started = time.perf_counter()
        for day in days:
            add_files(StateAddRequest(store, [day]))
        adding = time.perf_counter() - started
        print(f"  {len(days)} adds: {adding:.1f} s ({adding / len(days):.2f} s an add)")
        from_store, store_mib = measure(
            [*CLI, "audit", "--state", str(store), "--format", "json"], root / "store.json"
        )
        from_files, files_mib = measure(
            [*CLI, "audit", str(root / "days"), "--format", "json", "--quiet"], root / "files.json"
        )
        same = (root / "store.json").read_bytes() == (root / "files.json").read_bytes()
        compact, _ = measure([*CLI, "state", "compact", str(store)])
        after, _ = measure(
            [*CLI, "audit", "--state", str(store), "--format", "json"], root / "compacted.json"
        )
        same_after = (root / "compacted.json").read_bytes() == (root / "files.json").read_bytes()
        size = sum(p.stat().st_size for p in store.rglob("*") if p.is_file()) / 2**20
        print(
            f"audit --state: {from_store:.1f} s ({store_mib:,.0f} MiB); one audit of the files:"
            f" {from_files:.1f} s ({files_mib:,.0f} MiB); {from_files / from_store:.1f}x;"
            f" documents {'identical' if same else 'DIFFER'}\n"
            f"compact: {compact:.1f} s; audit after it {after:.1f} s, documents"
            f" {'identical' if same_after else 'DIFFER'}; store {size:,.1f} MiB on disk"
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def bench_store(args: argparse.Namespace) -> None:
    path = outpatient_file(args.data, args.sizes[0])
    root = Path(tempfile.mkdtemp(prefix="nj-audit-store-", dir=args.data))
    try:
        store = root / "store"
        adding, add_mib = measure([*CLI, "state", "add", str(store), str(path), "--quiet"])
        folding, fold_mib = measure(
            [*CLI, "audit", "--state", str(store), "--format", "json"], root / "store.json"
        )
        plain, plain_mib = measure(
            [*CLI, "audit", str(path), "--format", "json", "--quiet"], root / "file.json"
        )
        same = (root / "store.json").read_bytes() == (root / "file.json").read_bytes()
        import sqlite3

        states = (
            sqlite3.connect(store / "store.sqlite")
            .execute("SELECT SUM(states), SUM(bytes) FROM parts")
            .fetchone()
        )
        print(
            f"state add: {adding:.1f} s ({add_mib:,.0f} MiB); audit --state: {folding:.1f} s"
            f" ({fold_mib:,.0f} MiB), {states[0] / folding:,.0f} states/s with start-up;"
            f" plain audit {plain:.1f} s ({plain_mib:,.0f} MiB); documents"
            f" {'identical' if same else 'DIFFER'}; {states[0]:,} states,"
            f" {states[1] / states[0]:.1f} bytes a state on disk"
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _month_day(days: int) -> str:
    from datetime import date, timedelta

    return (date(2022, 1, 1) + timedelta(days=days - 1)).strftime("%m-%d")


DASK_RUN = """
import resource, sys, time
from pathlib import Path
from distributed import LocalCluster
from nj_audit.audit import run_audit
from nj_audit.requests import AuditRequest
path, partitions = Path(sys.argv[1]), int(sys.argv[2])
with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
    start = time.perf_counter()
    request = AuditRequest(
        [path], engine="dask", scheduler=cluster.scheduler_address, partitions=partitions
    )
    result = run_audit(request)
    seconds = time.perf_counter() - start
records = sum(i.records for i in result.institutions)
print(records, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def bench_dask(args: argparse.Namespace) -> None:
    """The outpatient file of each size cut in pieces of ~250,000 rows (so that a piece's task
    holds the same whatever the size), on a local cluster of 2 workers: the client's peak RSS
    (the workers are processes of their own)."""
    print(f"{'rows':>11} {'records':>11} | {'seconds':>8} {'client peak MiB':>16}")
    for rows in args.sizes:
        path = outpatient_file(args.data, rows)
        partitions = str(max(1, rows // 250_000))
        done = subprocess.run(
            [sys.executable, "-c", DASK_RUN, str(path), partitions], capture_output=True, text=True
        )
        if done.returncode:
            raise SystemExit(done.stderr)
        records, seconds, peak = done.stdout.split()
        print(f"{rows:>11,} {int(records):>11,} | {float(seconds):>8.1f} {int(peak):>16,}")
        if args.delete:
            path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["rows", "spill", "year", "store", "dask"])
    parser.add_argument("sizes", type=int, nargs="*", default=[5_000_000])
    parser.add_argument("--data", type=Path, default=Path("/work/bench-data/scale"))
    parser.add_argument("--delete", action="store_true", help="remove generated data after")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--institutions", type=int, default=4)
    parser.add_argument("--rows-per-day", type=int, default=300)
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}", flush=True)
    benches = {"rows": bench_rows, "spill": bench_spill, "year": bench_year, "store": bench_store}
    benches["dask"] = bench_dask
    benches[args.what](args)


if __name__ == "__main__":
    main()
