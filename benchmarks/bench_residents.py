"""Issue 19's figures: what the distinct sets of residents with archives cost, in memory and time.

    python benchmarks/bench_residents.py 1000000 4000000 [--buckets 64]

For each size N: N folded archive records (3 archive forms, 190 institutions, one resident in ten
archived at two institutions), cut into `--buckets` pieces as the spill and the store fold them;
each piece's `Residents` set, then their union (`folds.Folded`), in a fresh process: the peak RSS
over the process's start, the time, and the distinct (institution, form, resident) entries.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

RUN = """
import resource, sys, time
import numpy as np
from nj_audit.folds import Folded
from nj_audit.residents import ARCHIVE_INDEXES, Residents
n, buckets = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
org = rng.integers(0, 190, n).astype(np.int32)
form = rng.choice(ARCHIVE_INDEXES, n).astype(np.int16)
ids = rng.integers(1, 2**63, n).astype(np.uint64)
ids[: n // 10] = ids[n // 10 : 2 * (n // 10)]  # a tenth archived at two institutions
start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
began = time.perf_counter()
total = Folded()
for piece in np.array_split(np.arange(n), buckets):
    total.add(Folded(residents=Residents.of(org[piece], form[piece], ids[piece])))
size = len(total.residents)
seconds = time.perf_counter() - began
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(n, size, f"{seconds:.2f}", (peak - start) // 1024, n * 16 >> 20)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="+", type=int)
    parser.add_argument("--buckets", type=int, default=64)
    args = parser.parse_args()
    print("records  distinct  seconds  peak_over_start_MiB  input_MiB")
    for n in args.sizes:
        done = subprocess.run(
            [sys.executable, "-c", RUN, str(n), str(args.buckets)],
            capture_output=True,
            text=True,
            check=True,
        )
        print(done.stdout.strip())


if __name__ == "__main__":
    main()
