"""Start-up: `--help`, `schemas list` and a 10-row audit against the imports they cannot avoid.

    python benchmarks/bench_startup.py [--repeat 5]

Each command runs in its own process, the commands taking turns: `nj-audit --help`, `python -c
"import typer, rich"` (what any typer CLI pays), `nj-audit schemas list`, `nj-audit audit` of a
10-row outpatient_visit file (written by `make_outpatient.py`), and `python -c "import pandas,
pandera.pandas, pyarrow.csv"` (what any audit pays). Printed: CPU seconds (user + system) and wall
seconds, medians, and `--help`'s ratio to the typer and rich import.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import run  # noqa: E402
from make_outpatient import write_outpatient  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="nj-audit-startup-"))
    ten = folder / "outpatient_visit.csv"
    write_outpatient(ten, 10, 0.0)
    cli = [sys.executable, "-m", "nj_audit"]
    cases = {
        "nj-audit --help": [*cli, "--help"],
        "import typer, rich": [sys.executable, "-c", "import typer, rich"],
        "nj-audit schemas list": [*cli, "schemas", "list"],
        "10-row audit": [*cli, "audit", str(ten), "--format", "json"],
        "import pandas, pandera, pyarrow": [
            sys.executable,
            "-c",
            "import pandas, pandera.pandas, pyarrow.csv",
        ],
    }
    times: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for _ in range(max(args.repeat, 1)):
        for label, command in cases.items():
            times[label].append(run(command))
    cpu = {k: statistics.median(c for c, _ in v) for k, v in times.items()}
    wall = {k: statistics.median(w for _, w in v) for k, v in times.items()}
    print(f"{args.repeat} runs taking turns; medians")
    print("| command | CPU s | wall s |")
    print("|---|---:|---:|")
    for label in cases:
        print(f"| {label} | {cpu[label]:.3f} | {wall[label]:.3f} |")
    help_, base = "nj-audit --help", "import typer, rich"
    print(
        f"--help / typer+rich import: CPU {cpu[help_] / cpu[base]:.2f}, "
        f"wall {wall[help_] / wall[base]:.2f}"
    )


if __name__ == "__main__":
    main()
