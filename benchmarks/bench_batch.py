"""A day's batch: the same rows as one file per form and as N small files, UTF-8 and GB18030.

    python benchmarks/bench_batch.py --rows 1000000 [--splits 500 2000 5000] [--repeat 3]
        [--encodings utf-8 gb18030] [--variants clean dirty] [--sample 40] [--keep DIR]

For each variant (clean, and dirty: half the rows break a rule) an outpatient_visit file is written
(`make_outpatient.py`), in each encoding, whole and cut into N files of the same rows (in path
order, each with the header). Each in its own process, taking turns: the plain typed
`pyarrow.csv.read_csv` of the whole file (the floor), `nj-audit audit` of the whole file and of
the N files. Printed: CPU seconds (user + system: the machine is shared, wall time moves with the
others' load) and wall seconds, medians; each audit's ratio to the whole file's audit and to the
read. `--sample K` adds a generated batch of all 14 forms (`samples generate --institutions K`)
against the same rows merged into one file per form. The JSON of the N files must equal the JSON
of the whole file (checked).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_audit import PLAIN_READ  # noqa: E402
from make_outpatient import write_outpatient  # noqa: E402

FORM = "outpatient_visit"


def run(
    command: list[str], out: Path | None = None, cwd: Path | None = None
) -> tuple[float, float]:
    """CPU seconds (user + system) and wall seconds of one child process (its output to `out`);
    exit code 1 (an audit's failed gate) counts as a run."""
    start = time.perf_counter()
    with open(out or os.devnull, "wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.PIPE, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read().decode()}")
    return usage.ru_utime + usage.ru_stime, wall


def split(whole: Path, folder: Path, parts: int) -> Path:
    """`whole`'s rows cut into `parts` files (folder/0000/outpatient_visit.csv, ...)."""
    data = whole.read_bytes()
    header, _, body = data.partition(b"\n")
    rows = body.splitlines(keepends=True)
    size = -(-len(rows) // parts)
    for number in range(parts):
        target = folder / f"{number:05d}" / whole.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(header + b"\n" + b"".join(rows[number * size : (number + 1) * size]))
    return folder


def merged(batch: Path, folder: Path) -> Path:
    """The batch's files merged into one file per form (rows in path order)."""
    by_form: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(batch.rglob("*.csv")):
        if path.stem != "registry":
            by_form[path.name].append(path)
    folder.mkdir(parents=True, exist_ok=True)
    for name, paths in by_form.items():
        with open(folder / name, "wb") as out:
            for number, path in enumerate(paths):
                header, _, body = path.read_bytes().partition(b"\n")
                if number == 0:
                    out.write(header + b"\n")
                out.write(body if body.endswith(b"\n") or not body else body + b"\n")
    return folder


def audit(target: Path) -> list[str]:
    return [sys.executable, "-m", "nj_audit", "audit", str(target), "--format", "json"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--splits", type=int, nargs="+", default=[500, 2000, 5000])
    parser.add_argument("--encodings", nargs="+", default=["utf-8", "gb18030"])
    parser.add_argument("--variants", nargs="+", default=["clean", "dirty"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sample", type=int, default=0, help="institutions of a sample batch")
    parser.add_argument("--keep", type=Path, help="folder for the files (kept and reused)")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="nj-batch-"))
    cases: list[tuple[str, list[str], str]] = []  # (label, command, what it is compared with)
    for variant in args.variants:
        utf8 = root / variant / "utf-8" / "one" / f"{FORM}.csv"
        if not utf8.exists():
            utf8.parent.mkdir(parents=True, exist_ok=True)
            write_outpatient(utf8, args.rows, dirty=0.5 if variant == "dirty" else 0.0, seed=7)
        for encoding in args.encodings:
            one = root / variant / encoding / "one" / f"{FORM}.csv"
            if not one.exists():
                one.parent.mkdir(parents=True, exist_ok=True)
                one.write_bytes(utf8.read_text(encoding="utf-8").encode(encoding))
            key = f"{variant} {encoding}"
            cases.append((f"{key} read", [sys.executable, "-c", PLAIN_READ, str(utf8)], ""))
            cases.append((f"{key} 1 file", audit(one.parent), ""))
            for parts in args.splits:
                folder = root / variant / encoding / f"split{parts}"
                if not folder.exists():
                    split(one, folder, parts)
                cases.append((f"{key} {parts} files", audit(folder), f"{key} 1 file"))
    if args.sample:
        batch = root / f"sample{args.sample}"
        if not batch.exists():
            subprocess.run(
                [sys.executable, "-m", "nj_audit", "samples", "generate", str(batch),
                 "--institutions", str(args.sample), "--rows", str(args.rows)],
                check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
        files = sum(1 for p in batch.rglob("*.csv") if p.stem != "registry")
        whole = merged(batch, root / f"sample{args.sample}-merged")
        cases.append(("sample per form", audit(whole), ""))
        cases.append((f"sample {files} files", audit(batch), "sample per form"))
    times: dict[str, list[tuple[float, float]]] = defaultdict(list)
    outputs = root / "outputs"
    outputs.mkdir(exist_ok=True)
    for _ in range(max(args.repeat, 1)):  # the cases take turns
        for label, command, _base in cases:
            times[label].append(run(command, outputs / (label.replace(" ", "_") + ".json")))
    for label, _command, base in cases:  # N files: the same JSON as the whole file
        if base and not label.startswith("sample"):
            mine = json.loads((outputs / (label.replace(" ", "_") + ".json")).read_text())
            theirs = json.loads((outputs / (base.replace(" ", "_") + ".json")).read_text())
            assert mine["institutions"] == theirs["institutions"], f"{label} != {base}"
    cpu = {label: statistics.median(t[0] for t in runs) for label, runs in times.items()}
    wall = {label: statistics.median(t[1] for t in runs) for label, runs in times.items()}
    print(f"{args.rows:,} rows, {args.repeat} runs taking turns; medians")
    print("| case | CPU s | wall s | CPU / 1 file | CPU / read |")
    print("|---|---:|---:|---:|---:|")
    for label, _command, base in cases:
        read = " ".join(label.split()[:2]) + " read"
        to_one = f"{cpu[label] / cpu[base]:.2f}" if base else ""
        to_read = f"{cpu[label] / cpu[read]:.2f}" if read in cpu and read != label else ""
        print(f"| {label} | {cpu[label]:.2f} | {wall[label]:.2f} | {to_one} | {to_read} |")
    for variant in args.variants:
        gb, utf8 = f"{variant} gb18030 1 file", f"{variant} utf-8 1 file"
        if gb in cpu and utf8 in cpu:
            print(f"{variant}: GB18030 / UTF-8 (1 file, CPU) = {cpu[gb] / cpu[utf8]:.2f}")


if __name__ == "__main__":
    main()
