"""The dask engine against the pandas engine on the same generated batch: rows/s and peak memory.

    python benchmarks/bench_dask.py --rows 2000000 --institutions 40 [--workers 2] [--keep DIR]

Each engine runs in a fresh process. Peak memory is the peak RSS of that process plus, for dask, the
peak RSS of every worker process of its local cluster (sampled every 0.2 s), so both numbers are
"memory the audit needed on this machine". The dask time includes starting the local cluster. CPU
seconds (all processes, user + system; workers sampled) are printed too: on a shared machine they
are steadier than wall time, and rows per CPU-second per worker is what sizing a cluster needs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

RUN = """
import json, resource, sys, time
from pathlib import Path
from nj_audit.audit import run_audit
from nj_audit.requests import AuditRequest
engine, batch, workers = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
start = time.perf_counter()
if engine == "pandas":
    result = run_audit(AuditRequest([batch]))
else:
    from distributed import LocalCluster
    with LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster:
        print(json.dumps({"cluster_seconds": time.perf_counter() - start}), flush=True)
        request = AuditRequest([batch], engine="dask", scheduler=cluster.scheduler_address)
        result = run_audit(request)
seconds = time.perf_counter() - start
rows = sum(i.rows_uploaded or 0 for i in result.institutions)
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu = usage.ru_utime + usage.ru_stime
print(json.dumps({"seconds": seconds, "rows": rows, \
"client_peak": usage.ru_maxrss * 1024, "client_cpu": cpu}), flush=True)
"""


def measure(engine: str, batch: Path, workers: int) -> dict[str, float]:
    process = subprocess.Popen(
        [sys.executable, "-c", RUN, engine, str(batch), str(workers)],
        stdout=subprocess.PIPE,
        text=True,
    )
    peaks: dict[int, int] = {}
    cpu: dict[int, float] = {}
    done = threading.Event()

    def sample() -> None:  # the workers' peak RSS: they are children of the run
        parent = psutil.Process(process.pid)
        while not done.is_set():
            try:
                for child in parent.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        peaks[child.pid] = max(peaks.get(child.pid, 0), child.memory_info().rss)
                        times = child.cpu_times()
                        cpu[child.pid] = times.user + times.system
            except psutil.Error:
                return
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = process.communicate()
    done.set()
    sampler.join()
    if process.returncode:
        raise SystemExit(f"{engine} run failed")
    report = {}
    for line in out.splitlines():
        report.update(json.loads(line))
    report["workers_peak"] = sum(peaks.values())
    report["cpu"] = report["client_cpu"] + sum(cpu.values())
    report["rows_per_s"] = report["rows"] / report["seconds"]
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--institutions", type=int, default=40)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", type=Path, help="Write (or reuse) the batch here.")
    args = parser.parse_args()
    from nj_audit.generate import generate_batch

    with tempfile.TemporaryDirectory() as scratch:
        batch = args.keep or Path(scratch) / "batch"
        if not batch.exists():
            made = generate_batch(batch, institutions=args.institutions, rows=args.rows, seed=1)
            print(f"generated {len(made.files)} files, {made.rows} rows", file=sys.stderr)
        files = [
            p
            for p in batch.rglob("*")
            if p.suffix in (".csv", ".gz", ".parquet") and p.name != "registry.csv"
        ]
        size = sum(p.stat().st_size for p in files)
        print(
            f"batch: {len(files)} files, {size / 2**20:.0f} MiB; "
            f"{platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB"
        )
        print(
            f"{'engine':<8} {'rows':>10} {'seconds':>8} {'rows/s':>10} {'CPU s':>7} "
            f"{'rows/CPU-s':>10} {'peak RSS':>20}"
        )
        for engine in ("pandas", "dask"):
            r = measure(engine, batch, args.workers)
            memory = f"{r['client_peak'] / 2**20:.0f} MiB"
            if engine == "dask":
                memory = f"{r['client_peak'] / 2**20:.0f} + {r['workers_peak'] / 2**20:.0f} MiB"
                print(
                    f"  (dask: cluster start {r['cluster_seconds']:.1f} s; {args.workers} workers)"
                )
            per_cpu = r["rows"] / r["cpu"]
            speed = (
                f"{r['seconds']:>8.1f} {r['rows_per_s']:>10,.0f} {r['cpu']:>7.1f} {per_cpu:>10,.0f}"
            )
            print(f"{engine:<8} {r['rows']:>10,} {speed} {memory:>20}")


if __name__ == "__main__":
    main()
