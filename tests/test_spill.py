"""Issue 13, one machine: states spilled to bucket files past --memory-limit give the in-memory
result bit for bit (any limit, chunk size, bucket count), spill files never outlive the run, and
memory stays bounded."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.engines import memory, spill
from nj_audit.engines.memory import parse_size, state_budget
from nj_audit.engines.pandas_engine import PandasEngine
from nj_audit.engines.spill import StateFolder, buckets_of
from nj_audit.errors import AuditError, UsageError
from nj_audit.folds import fold_records
from nj_audit.generate import generate_batch
from nj_audit.institutions import summarise
from nj_audit.period import parse_period
from nj_audit.render.json import render_json
from nj_audit.requests import AuditRequest

from builders import CLI_ENV, random_states

TINY = 32 << 10  # bytes: a limit that holds about 85 states (an eighth of it), so that all spill


def _document(request: AuditRequest) -> tuple[str, int]:
    engine = PandasEngine()
    return render_json(summarise(engine.tally(request), request)), engine.spilled_bytes


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two months of uploads (corrections across days, files and the month's end)."""
    folder = tmp_path_factory.mktemp("spill-batch")
    generate_batch(
        folder,
        institutions=4,
        rows=1500,
        period=parse_period("2022-02-20:2022-03-10"),
        seed=3,
        correction_share=0.3,
        invalid_share=0.1,
    )
    return folder


@pytest.fixture(scope="module")
def in_memory(batch: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    temp = tmp_path_factory.mktemp("unused")
    text, spilled = _document(AuditRequest([batch], temp_dir=temp))
    assert spilled == 0 and list(temp.iterdir()) == []  # under the limit nothing goes to disk
    document = json.loads(text)
    forms = [f for i in document["institutions"] for f in i["forms"].values()]
    assert any(f["records"] < f["rows"] for f in forms)  # corrections
    return text


@pytest.mark.parametrize(
    ("buckets", "chunk_rows"), [(1, 97), (2, 1_000_000), (7, 97), (64, 1_000_000), (None, 50)]
)
def test_spilled_runs_equal_the_in_memory_run(
    batch: Path, in_memory: str, tmp_path: Path, buckets: int | None, chunk_rows: int
) -> None:
    request = AuditRequest(
        [batch], memory_limit=TINY, temp_dir=tmp_path, buckets=buckets, chunk_rows=chunk_rows
    )
    text, spilled = _document(request)
    assert spilled > 0
    assert text == in_memory
    assert list(tmp_path.iterdir()) == []  # the spill folder is removed


def test_spilling_with_a_period_and_a_window_equals_the_in_memory_run(
    batch: Path, tmp_path: Path
) -> None:
    from nj_audit.policy import Policy

    options = {"period": parse_period("2022-03"), "policy": Policy(window_seconds=7200)}
    plain, _ = _document(AuditRequest([batch], **options))  # type: ignore[arg-type]
    spilled_text, spilled = _document(
        AuditRequest([batch], memory_limit=TINY, temp_dir=tmp_path, **options)  # type: ignore[arg-type]
    )
    assert spilled > 0 and spilled_text == plain


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    pieces=st.integers(1, 6),
    budget=st.sampled_from([300, 3_000, 10**9]),
    buckets=st.sampled_from([None, 1, 2, 7, 64]),
)
def test_a_folder_counts_what_folding_everything_at_once_counts(
    tmp_path_factory: pytest.TempPathFactory,
    seed: int,
    pieces: int,
    budget: int,
    buckets: int | None,
) -> None:
    rng = np.random.default_rng(seed)
    states = random_states(rng, int(rng.integers(1, 300)), keys=int(rng.integers(1, 60)))
    cuts = np.sort(rng.integers(0, len(states), pieces - 1))
    temp = tmp_path_factory.mktemp("fold")
    with StateFolder(budget, temp, buckets) as folder:
        for part in np.split(np.arange(len(states)), cuts):
            folder.add(states.take(part))
        assert folder.counts() == fold_records([states])
    assert list(temp.iterdir()) == []


@pytest.mark.parametrize(("keys", "deepest"), [(500, 1), (1, spill.MAX_LEVEL)])
def test_a_bucket_too_large_is_split_again(tmp_path: Path, keys: int, deepest: int) -> None:
    """One bucket far over the budget is split with the next level's hash; one record's states
    cannot be split, so after the last level they are folded as they are."""
    states = random_states(np.random.default_rng(1), 3000, keys=keys)
    folder = StateFolder(2000, tmp_path, buckets=1)
    for part in np.array_split(np.arange(len(states)), 10):
        folder.add(states.take(part))
    levels: list[int] = []
    counts = StateFolder.counts

    def counting(self: StateFolder):  # type: ignore[no-untyped-def]
        levels.append(self.level)
        return counts(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(StateFolder, "counts", counting)
        assert folder.counts() == fold_records([states])
    assert max(levels) == deepest
    assert list(tmp_path.iterdir()) == []


def test_buckets_depend_on_the_record_only() -> None:
    states = random_states(np.random.default_rng(2), 1000, keys=1000)
    moved = states.replaced(org=states.org + 17)  # other institution indexes (another piece)
    assert (buckets_of(states, 7) == buckets_of(moved, 7)).all()
    assert (buckets_of(states, 7, level=1) != buckets_of(states, 7)).any()
    assert set(buckets_of(states, 7).tolist()) == set(range(7))


def test_temp_files_are_gone_after_an_error(batch: Path, tmp_path: Path) -> None:
    late = tmp_path / "late"
    late.mkdir()
    (late / "outpatient_visit.csv").write_bytes(b"\x00\x01\x02 not a csv\n" * 10)
    spill_dir = tmp_path / "spill"
    spill_dir.mkdir()
    request = AuditRequest([batch, late], memory_limit=TINY, temp_dir=spill_dir, strict=True)
    with pytest.raises(AuditError):  # --strict: the unreadable file stops the run, mid-spill
        PandasEngine().tally(request)
    assert list(spill_dir.iterdir()) == []


def test_a_full_disk_is_one_error_naming_the_folder(
    batch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(path: Path, column: np.ndarray) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(spill, "_write", full)
    result = CliRunner(env=CLI_ENV).invoke(
        app,
        ["audit", str(batch), "--memory-limit", "4KiB", "--temp-dir", str(tmp_path)],
    )
    assert result.exit_code == 2
    assert f"{tmp_path}: cannot write spill files: No space left on device" in result.stderr
    assert "--temp-dir" in result.stderr and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_temp_dir_that_cannot_be_written_is_one_error(batch: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such"
    result = CliRunner(env=CLI_ENV).invoke(
        app, ["audit", str(batch), "--memory-limit", "4KiB", "--temp-dir", str(missing)]
    )
    assert result.exit_code == 2
    assert f"{missing}: cannot make a folder for spill files" in result.stderr


def test_the_cli_spills_and_prints_the_same_document(batch: Path, tmp_path: Path) -> None:
    runner = CliRunner(env=CLI_ENV)
    common = ["audit", str(batch), "--format", "json", "--fail-on", "never"]
    plain = runner.invoke(app, common)
    small = ["--memory-limit", "32KiB", "--temp-dir", str(tmp_path), "--chunk-size", "200"]
    spilled = runner.invoke(app, [*common, *small])
    assert plain.exit_code == spilled.exit_code == 0
    assert spilled.stdout == plain.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "size"),
    [("512MiB", 512 << 20), ("2GiB", 2 << 30), ("1.5GB", 1_500_000_000), ("64 kib", 65536)],
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["512", "2 GiBs", "-1GiB", "0MB", "lots"])
def test_bad_sizes_are_refused(text: str) -> None:
    with pytest.raises(UsageError, match="bad --memory-limit"):
        parse_size(text)


def test_the_budget_leaves_room_for_reading_and_folding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "resident_bytes", lambda: 100 << 20)
    assert memory.block_bytes_for(1 << 30) == 32 << 20 == memory.block_bytes_for(8 << 30)
    assert memory.block_bytes_for(512 << 20) == 16 << 20
    assert memory.chunk_rows_for(1 << 30, 1_000_000) == 1_000_000
    assert memory.chunk_rows_for(256 << 20, 1_000_000) == 262_144
    reading = memory.READING_FACTOR * (16 << 20)
    assert state_budget(512 << 20) == (412 << 20) - reading  # while reading
    assert state_budget(512 << 20, reading=False) == (412 << 20) // memory.FOLD_FACTOR
    assert state_budget(4 << 30) == ((4 << 30) - (100 << 20)) // memory.FOLD_FACTOR
    assert state_budget(64 << 20) == 8 << 20  # below what the process needs: an eighth


def test_the_spill_folder_is_removed_on_ctrl_c(tmp_path: Path) -> None:
    """SIGINT while states are being spilled: exit 2, no spill file left."""
    folder = tmp_path / "batch"
    generate_batch(folder, institutions=2, rows=6000, seed=5, correction_share=0.1)
    spill_dir = tmp_path / "spill"
    spill_dir.mkdir()
    slow = textwrap.dedent(
        """
        import sys, time
        from nj_audit.engines import memory, spill
        write = spill._write
        def slow_write(path, column):
            write(path, column)
            time.sleep(0.002)
        spill._write = slow_write
        from nj_audit.__main__ import main
        sys.argv = ["nj-audit", *sys.argv[1:]]
        main()
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", slow, "audit", str(folder), "--quiet", "--memory-limit", "4KiB",
         "--chunk-size", "100", "--temp-dir", str(spill_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not any(spill_dir.glob("*/b*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert any(spill_dir.glob("*/b*")), "the run never spilled"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "interrupted" in stderr
    assert list(spill_dir.iterdir()) == []


MEMORY_RUN = """
import resource, sys
import numpy as np
from pathlib import Path
from nj_audit.engines.spill import StateFolder
from nj_audit.metrics import RecordState
sys.path.insert(0, sys.argv[2])
from builders import random_states
start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
total = {}
with StateFolder(32 << 20, Path(sys.argv[1])) as folder:
    rng = np.random.default_rng(0)
    for piece in range(50):  # 10 million states, a tenth of them corrections of others
        states = random_states(rng, 200_000, keys=9_000_000, start=piece * 200_000)
        # no resident: their distinct sets are measured apart (benchmarks/bench_residents.py)
        folder.add(states.replaced(resident=np.zeros(len(states), dtype=np.uint64)))
    counts = folder.counts()
    spilled = folder.spilled_bytes
records = sum(c.records for c in counts.counts.values())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(start // 1024, peak // 1024, spilled >> 20, records)
"""


def test_ten_million_states_fold_in_bounded_memory(tmp_path: Path) -> None:
    """10M states (480 MB) through a folder holding 32 MiB: the process's peak grows by less
    than 128 MiB over its start (the interpreter, numpy and pandas; measured: 63 MiB)."""
    tests = Path(__file__).resolve().parent
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_RUN, str(tmp_path), str(tests)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    start, peak, spilled, records = map(int, done.stdout.split())
    assert spilled >= 450  # MiB: everything went through the disk
    assert 8_000_000 < records < 10_000_000
    assert peak - start < 4 * 32, (start, peak)  # MiB: four times what the folder holds
    assert list(tmp_path.iterdir()) == []
