"""nj-audit against the peer audit scripts, on the peers' own outpatient file, in one run.

    python benchmarks/bench_peers.py --peers DIR [--rows 1000000 5000000] [--repeat 3]
        [--peer-python PATH] [--only polars duckdb] [--slow-rows 200000] [--keep DIR]

DIR holds the peer scripts (`read_pyarrow.py`, `pandera_audit.py`, `polars_audit.py`,
`duckdb_audit.py`, `gx_audit.py`, `frictionless_audit.py`, `gen_outpatient.py`); they are run from
there, never copied. `--peer-python` is an interpreter with the peers' libraries (pandas, pandera,
polars, duckdb, great_expectations, frictionless; default: this one). For each size the peers'
generator writes `outpatient_visit_<rows>.csv`; then, each in its own process and taking turns: the
typed `pyarrow.csv.read_csv` (`read_pyarrow.py FILE typed`, the floor), `nj-audit audit FILE
--format json`, and each peer. great_expectations and frictionless are slow: they run on a file of
`--slow-rows` rows only. Printed: CPU seconds (user + system) and wall seconds, medians, and
nj-audit's ratio to each (below 1: nj-audit took less). A peer whose library is missing from
`--peer-python` is reported as skipped. The peers run fewer rules than nj-audit (no corrections,
no per-form metrics, no report): a ratio against them is a lower bound of the difference.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import run  # noqa: E402

PEERS = {  # name -> (script and its arguments after FILE, the module it needs)
    "pandera": (["pandera_audit.py", "{file}", "--reader", "arrow"], "pandera"),
    "polars": (["polars_audit.py", "{file}"], "polars"),
    "duckdb": (["duckdb_audit.py", "{file}"], "duckdb"),
    "great_expectations": (["gx_audit.py", "{file}", "SUMMARY"], "great_expectations"),
    "frictionless": (["frictionless_audit.py", "{file}"], "frictionless"),
}
SLOW = {"great_expectations", "frictionless"}


def has_module(python: str, module: str) -> bool:
    found = subprocess.run([python, "-c", f"import {module}"], capture_output=True)
    return found.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers", type=Path, required=True, help="folder of the peer scripts")
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--slow-rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--peer-python", default=sys.executable)
    parser.add_argument("--only", nargs="+", choices=sorted(PEERS), default=sorted(PEERS))
    parser.add_argument("--keep", type=Path, help="folder for the files (kept and reused)")
    args = parser.parse_args()
    peers_dir = args.peers.resolve()
    available = [p for p in args.only if has_module(args.peer_python, PEERS[p][1])]
    skipped = sorted(set(args.only) - set(available))
    folder = args.keep or Path(tempfile.mkdtemp(prefix="nj-audit-peers-"))
    folder.mkdir(parents=True, exist_ok=True)
    nj_audit = [sys.executable, "-m", "nj_audit", "audit"]

    def data(rows: int) -> Path:
        path = (folder / f"outpatient_visit_{rows}.csv").resolve()
        if not path.exists():
            generator = [args.peer_python, "gen_outpatient.py", str(rows), str(path)]
            subprocess.run(generator, cwd=peers_dir, check=True, capture_output=True)
        return path

    cases: list[tuple[int, str, list[str]]] = []  # (rows, label, command)
    sizes = sorted(set(args.rows) | ({args.slow_rows} if SLOW & set(available) else set()))
    for rows in sizes:
        file = str(data(rows))
        cases.append((rows, "read", [args.peer_python, "read_pyarrow.py", file, "typed"]))
        cases.append((rows, "nj-audit", [*nj_audit, file, "--format", "json"]))
        for peer in available:
            if not (rows == args.slow_rows if peer in SLOW else rows in args.rows):
                continue
            script, *rest = PEERS[peer][0]
            command = [args.peer_python, script, *(a.format(file=file) for a in rest)]
            cases.append((rows, peer, command))
    times: dict[tuple[int, str], list[tuple[float, float]]] = defaultdict(list)
    for _ in range(max(args.repeat, 1)):
        for rows, label, command in cases:
            times[(rows, label)].append(run(command, cwd=peers_dir))
    cpu = {k: statistics.median(c for c, _ in v) for k, v in times.items()}
    wall = {k: statistics.median(w for _, w in v) for k, v in times.items()}
    print(f"{args.repeat} runs taking turns; medians; CPU = user + system seconds")
    print("| rows | tool | CPU s | wall s | nj-audit / it (CPU) | nj-audit / it (wall) |")
    print("|---:|---|---:|---:|---:|---:|")
    for rows, label, _ in cases:
        key, own = (rows, label), (rows, "nj-audit")
        ratios = (
            ("", "")
            if label == "nj-audit"
            else (f"{cpu[own] / cpu[key]:.2f}", f"{wall[own] / wall[key]:.2f}")
        )
        print(
            f"| {rows:,} | {label} | {cpu[key]:.2f} | {wall[key]:.2f} | {ratios[0]} | {ratios[1]} |"
        )
    if skipped:
        print(f"skipped (not importable by {args.peer_python}): {', '.join(skipped)}")


if __name__ == "__main__":
    main()
