"""Speed and size of the history store on a city-sized history.

    python benchmarks/bench_history.py [--runs 365] [--institutions 200] [--checks 60] [--keep F]

Appends `--runs` daily synthetic audit documents (every institution with all 14 forms and
`--checks` check counts, a fifth of them zero), timing each append (document generation not
included), then times a trend over all the runs, a compare of the last two runs, a cold append
(fresh connection on the full file), what `audit --history` adds to an audit on the full file
(regression rules, the "since" line and the append, through `Recorder`), and reports the file
size, extrapolated to 365 runs.
Targets: append <= 1 s, trend <= 50 ms, compare <= 200 ms, 365 runs <= 0.5 GB. The machines
are shared: the script prints a CPU yardstick and the load average so figures can be weighed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import timeit
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nj_audit.documents import result_of  # noqa: E402
from nj_audit.history import HistoryStore, RegressionRules  # noqa: E402
from nj_audit.history import synthetic as syn  # noqa: E402
from nj_audit.history.recording import Recorder, policy_digest, schema_digest  # noqa: E402
from nj_audit.policy import Policy  # noqa: E402
from nj_audit.render.json import render_json, to_document  # noqa: E402

# the audit's own settings, so that the synthetic runs are comparable with the recorded one
POLICY = Policy(regressions=RegressionRules.default())
DIGESTS = {"schema_digest": schema_digest(), "policy_digest": policy_digest(POLICY)}


def yardstick() -> str:
    seconds = min(timeit.repeat("sum(range(10**6))", number=1, repeat=5))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"sum(range(1e6)) {seconds * 1000:.0f} ms, load {load:.2f}, {os.cpu_count()} CPUs"


def timed(function, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """min and median seconds of `repeat` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def measure(path: Path, institutions: int) -> None:
    print(f"machine: {yardstick()}")
    with HistoryStore.open(path) as store:
        runs = len(store.runs())
        trend = timed(lambda: store.trend(syn.org_code(institutions // 2)), 20)
        compare = timed(lambda: store.compare(), 9)
    print(f"{path}: {runs} runs, {path.stat().st_size / 1e6:.1f} MB")
    print(f"trend: min {trend[0] * 1000:.1f} ms, median {trend[1] * 1000:.1f} ms  [target 50 ms]")
    print(f"compare: min {compare[0] * 1000:.0f} ms, median {compare[1] * 1000:.0f} ms  [200 ms]")


def audit_step(path: Path, document: dict) -> tuple[float, float, int]:  # type: ignore[type-arg]
    """Seconds of `audit --history`'s judge (regressions, since) and record, on `path`; the
    regressions found."""
    result = result_of(document)
    start = time.perf_counter()
    recorder = Recorder.begin(path, "audit", POLICY, "institution", "bench")
    judged = recorder.judge(result, to_document)
    middle = time.perf_counter()
    recorder.record(judged, render_json(judged))
    found = sum(1 for i in judged.institutions for f in i.flags if f.flag.startswith("regr"))
    return middle - start, time.perf_counter() - middle, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=365)
    parser.add_argument("--institutions", type=int, default=200)
    parser.add_argument("--checks", type=int, default=60)
    parser.add_argument("--keep", type=Path, help="write the history here and keep it")
    parser.add_argument(
        "--measure-only",
        action="store_true",
        help="with --keep naming a history already filled: time trend and compare on it only",
    )
    args = parser.parse_args()
    if args.measure_only:
        measure(args.keep, args.institutions)
        return
    folder = tempfile.TemporaryDirectory()
    path = args.keep or Path(folder.name) / "history.sqlite"
    print(f"machine: {yardstick()}")
    sample = syn.render(syn.make_document(args.institutions, args.checks, all_forms=True))
    print(
        f"document: {len(sample.encode()) / 1e6:.2f} MB of JSON, {args.institutions} institutions"
    )
    appends = []
    with HistoryStore.open(path) as store:
        for n in range(args.runs):
            document = syn.make_document(args.institutions, args.checks, run=n, all_forms=True)
            text = syn.render(document)
            start = time.perf_counter()
            store.append(text, started_at=syn.START + timedelta(days=n), **DIGESTS)
            appends.append(time.perf_counter() - start)
            if (n + 1) % 50 == 0:
                print(f"  {n + 1} runs, last append {appends[-1]:.3f} s", flush=True)
        observations = store.db.execute("SELECT count(*) FROM observations").fetchone()[0]
        findings = store.db.execute("SELECT count(*) FROM findings").fetchone()[0]
        code = syn.org_code(args.institutions // 2)
        trend = timed(lambda: store.trend(code), 20)
        trend_rates = timed(lambda: store.trend(code, ["rate:*"]), 20)
        compare = timed(lambda: store.compare(), 5)
        comparison = store.compare()
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = path.stat().st_size
    text = syn.render(
        syn.make_document(args.institutions, args.checks, run=args.runs, all_forms=True)
    )
    start = time.perf_counter()
    with HistoryStore.open(path) as store:
        store.append(text)
    cold = time.perf_counter() - start
    judge, record, found = audit_step(
        path, syn.make_document(args.institutions, args.checks, run=args.runs + 1, all_forms=True)
    )
    per_run = size / args.runs
    p95 = sorted(appends)[max(0, int(len(appends) * 0.95) - 1)]
    print(
        f"append: median {statistics.median(appends):.3f} s, p95 {p95:.3f} s, "
        f"max {max(appends):.3f} s; cold (open + append + close, full file) {cold:.3f} s"
        "  [target 1 s]"
    )
    print(
        f"audit --history on the full file: judge (regressions, since) {judge:.3f} s, record "
        f"{record:.3f} s, {found} regression flags  [append target 1 s]"
    )
    print(
        f"trend over {args.runs} runs, 9 metrics: min {trend[0] * 1000:.1f} ms, median "
        f"{trend[1] * 1000:.1f} ms; 14 form rates: median {trend_rates[1] * 1000:.1f} ms"
        "  [target 50 ms]"
    )
    print(
        f"compare of the last two runs: min {compare[0] * 1000:.0f} ms, median "
        f"{compare[1] * 1000:.0f} ms ({len(comparison.new)} new, {len(comparison.resolved)} "
        f"resolved, {len(comparison.persisting)} persisting)  [target 200 ms]"
    )
    print(
        f"file: {size / 1e6:.1f} MB after {args.runs} runs ({observations} observations, "
        f"{findings} findings), {per_run / 1e6:.2f} MB per run, "
        f"{per_run * 365 / 1e9:.3f} GB for 365 runs  [target 0.5 GB]"
    )
    folder.cleanup()


if __name__ == "__main__":
    main()
