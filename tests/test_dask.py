"""The dask engine gives the pandas engine's JSON document, field for field, on a LocalCluster of
two worker processes: corrections across files and across partitions of one file (ties included),
a GB18030 file, a .csv.gz and a Parquet file, times with offsets, invalid, damaged and blank
rows."""

from __future__ import annotations

import json
import random
import re
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from nj_audit.cli import app

from builders import (
    CLI_ENV,
    TIME_FORMAT,
    csv_text,
    make_org_code,
    valid_row,
    write_csv,
    write_parquet,
)

ORGS = [make_org_code(f"1232010046600{i:04d}") for i in range(3)] + ["BADCODE"]


def _time(moment: datetime, style: int) -> str:
    if style == 1:
        return moment.strftime("%Y-%m-%dT%H:%M:%S+08:00")
    if style == 2:
        return (moment - timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.strftime(TIME_FORMAT)


def _rows(form: str, count: int, rng: random.Random, prefix: str) -> list[dict[str, str]]:
    rows = []
    for i in range(count):
        event = datetime(2022, 3, 1) + timedelta(minutes=rng.randrange(31 * 24 * 60))
        upload = event + timedelta(hours=rng.choice([0.5, 2, 20, 30, 50]))
        change = {
            "org_code": rng.choice(ORGS[:3]) if rng.random() > 0.01 else rng.choice([ORGS[3], " "]),
            "record_id": f"{prefix}{i:05d}" if rng.random() > 0.01 else "",
            "event_time": event.strftime(TIME_FORMAT),
            "upload_time": _time(upload, rng.randrange(3)),
        }
        if rng.random() < 0.05:
            change["sex_code" if "sex_code" in valid_row(form) else "event_time"] = "7"
        if rng.random() < 0.02:
            change["patient_id"] = "  "
        rows.append(valid_row(form, **change))
    return rows


def _corrections(rows: list[dict[str, str]], rng: random.Random, tie: bool) -> list[dict[str, str]]:
    """Re-uploads of some records: later, or at the very same upload_time (a tie), valid or not."""
    again = []
    for row in rng.sample(rows, len(rows) // 10):
        fixed = (
            dict(row, sex_code=rng.choice(["1", "7"]))
            if "sex_code" in row
            else dict(row, patient_id=rng.choice(["P1", ""]))
        )
        if not tie:
            fixed["upload_time"] = (
                datetime(2022, 4, 3) + timedelta(minutes=rng.randrange(600))
            ).strftime(TIME_FORMAT)
        again.append(fixed)
    return again


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = random.Random(7)
    root = tmp_path_factory.mktemp("batch")
    visits = _rows("outpatient_visit", 3000, rng, "V")
    write_csv(
        root / "outpatient_visit-part1.csv",
        visits[:2000] + _corrections(visits[:2000], rng, tie=True),
    )
    write_csv(
        root / "outpatient_visit-part2.csv.gz", visits[2000:] + _corrections(visits, rng, tie=True)
    )
    # one big file (cut in byte ranges with --partitions): corrections far from their first upload
    labs = _rows("lab_report", 6000, rng, "L")
    labs += _corrections(labs, rng, tie=True) + _corrections(labs, rng, tie=False)
    text = csv_text(labs, newline="\r\n") + ",,,,,,,,\r\n \r\n" + "damaged,row\r\n"
    (root / "lab_report.csv").write_text(text, encoding="utf-8")
    discharges = _rows("inpatient_discharge", 800, rng, "D")
    write_csv(
        root / "sub" / "inpatient_discharge.csv",
        discharges + _corrections(discharges, rng, False),
        encoding="gb18030",
    )
    write_parquet(root / "inpatient_admission.parquet", _rows("inpatient_admission", 700, rng, "A"))
    write_csv(root / "health_record_2022.csv", _rows("health_record", 500, rng, "H"))
    (root / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    registry = "org_code,name,district\n" + "".join(
        f"{c},医院{i},{'玄武区' if i % 2 else '鼓楼区'}\n" for i, c in enumerate(ORGS[:3])
    )
    (root.parent / f"{root.name}-registry.csv").write_text(registry, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def _audit(*args: str) -> dict:
    result = CliRunner().invoke(
        app, ["audit", *args, "--format", "json", "--fail-on", "never"], env=CLI_ENV
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    "options",
    [
        [],
        ["--period", "2022-03-05:2022-03-31", "--window", "2h"],
        ["--by", "district", "--chunk-size", "700"],
    ],
    ids=["plain", "period-window", "district"],
)
def test_dask_engine_equals_pandas_engine(
    batch: Path, scheduler: str, options: list[str], monkeypatch
) -> None:
    from nj_audit.engines import dask_engine

    monkeypatch.setattr(
        dask_engine, "MIN_PIECE_BYTES", 16 * 1024
    )  # cut the 0.8 MB lab_report.csv in 5
    registry = batch.parent / f"{batch.name}-registry.csv"
    common = [str(batch), "--registry", str(registry), *options]
    expected = _audit(*common)
    assert {"outpatient_visit", "lab_report", "inpatient_discharge"} <= set(
        expected["institutions"][0]["forms"]
    ) or ("--by" in options)
    for extra in ([], ["--partitions", "5"]):
        assert _audit(*common, "--engine", "dask", "--scheduler", scheduler, *extra) == expected


def test_dask_engine_pieces_cut_files_and_keep_order(batch: Path, monkeypatch) -> None:
    pytest.importorskip("dask")
    from nj_audit.engines import dask_engine

    monkeypatch.setattr(dask_engine, "MIN_PIECE_BYTES", 16 * 1024)
    files, skipped, _ = dask_engine.discover_sources([str(batch)], None)
    assert [p.name for p in skipped] == ["notes.csv"]
    pieces = dask_engine.plan_pieces(files, 5)
    assert [p.number for p in pieces] == list(range(len(pieces)))
    lab = [p for p in pieces if p.form == "lab_report"]
    assert [p.start for p in lab] == [i * lab[0].length for i in range(5)]
    assert [p.start for p in pieces if p.url.endswith((".gz", ".parquet"))] == [None, None]
    assert [Path(p.url).name for p in pieces if p.start in (0, None)] == [
        "health_record_2022.csv",
        "inpatient_admission.parquet",
        "lab_report.csv",
        "outpatient_visit-part1.csv",
        "outpatient_visit-part2.csv.gz",
        "inpatient_discharge.csv",
    ]


def test_missing_dask_is_a_usage_error(batch: Path, monkeypatch) -> None:
    from nj_audit.engines.dask_engine import DaskEngine
    from nj_audit.errors import UsageError
    from nj_audit.requests import AuditRequest

    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "dask.bag", None)
    with pytest.raises(
        UsageError, match=re.escape("install the dask extra: pip install 'nj-audit[dask]'")
    ):
        DaskEngine().tally(AuditRequest([batch]))
    result = CliRunner().invoke(app, ["audit", str(batch), "--engine", "dask"], env=CLI_ENV)
    assert result.exit_code == 2
    assert "install the dask extra: pip install 'nj-audit" in result.stderr


def test_dask_engine_audits_a_state_store(batch: Path, scheduler: str, tmp_path: Path) -> None:
    """The same document as the files', the store's unreadable file listed and flagged too."""
    import shutil

    uploads = tmp_path / "uploads"
    shutil.copytree(batch, uploads)
    (uploads / "lab_report_broken.csv").write_bytes(b"\x00\x01\x02\xff\xfe binary")
    batch = uploads
    store = tmp_path / "store"
    added = CliRunner().invoke(app, ["state", "add", str(store), str(batch), "--quiet"])
    assert added.exit_code == 0, added.output
    expected = _audit(str(batch))
    assert [u["reason"] for u in expected["unreadable"]] == ["binary"]
    assert _audit("--state", str(store)) == expected
    on_cluster = ["--state", str(store), "--engine", "dask", "--scheduler", scheduler]
    assert _audit(*on_cluster) == expected
    assert _audit(*on_cluster, "--memory-limit", "64KiB", "--temp-dir", str(tmp_path)) == expected
    assert _audit(*on_cluster, "--period", "2022-03-05:2022-03-31") == _audit(
        str(batch), "--period", "2022-03-05:2022-03-31"
    )


@pytest.mark.parametrize("buckets", [1, 2, 7, 64])
def test_states_are_shuffled_and_folded_on_the_workers(
    batch: Path, scheduler: str, tmp_path: Path, buckets: int, monkeypatch
) -> None:
    """Whatever the number of shuffle partitions and the workers' memory limit (folds that
    spill), the document is the pandas engine's; the client receives counts only: one row per
    (partition, institution, form) at most, never a per-record state."""
    from nj_audit.audit import run_audit
    from nj_audit.engines import dask_engine
    from nj_audit.engines.dask_tasks import COUNT_COLUMNS
    from nj_audit.render.json import render_json
    from nj_audit.requests import AuditRequest

    received: list[pd.DataFrame] = []
    records = dask_engine._records
    monkeypatch.setattr(
        dask_engine,
        "_records",
        lambda codes, counts: received.append(counts) or records(codes, counts),
    )
    expected = render_json(run_audit(AuditRequest([batch])))
    spill = tmp_path / "spill"
    spill.mkdir()
    for limit in (1 << 30, 64 << 10):
        request = AuditRequest(
            [batch], engine="dask", scheduler=scheduler, buckets=buckets, memory_limit=limit,
            temp_dir=spill,
        )  # fmt: skip
        assert render_json(run_audit(request)) == expected
    for counts in received:
        assert tuple(counts.columns) == COUNT_COLUMNS
        assert len(counts) <= buckets * len(ORGS + [" "]) * 14
    assert list(spill.iterdir()) == []


@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    seed=st.integers(0, 10_000),
    buckets=st.sampled_from([1, 2, 7, 64]),
    order=st.randoms(use_true_random=False),
)
def test_in_memory_spilled_stored_and_distributed_runs_agree(
    scheduler: str, tmp_path_factory: pytest.TempPathFactory, seed: int, buckets: int, order
) -> None:
    """One generated batch, cut into daily folders across a month's end (corrections across
    files, chunks, days and months): the in-memory audit, a spilled one (a tiny limit, chunks of
    50 rows), a store filled in a random order of days and the dask engine, on the files and on
    the store, give one document."""
    from nj_audit.audit import run_audit
    from nj_audit.engines import batching, pandas_engine
    from nj_audit.generate import generate_batch, split_by_upload_day
    from nj_audit.period import parse_period
    from nj_audit.render.json import render_json
    from nj_audit.requests import AuditRequest, StateAddRequest
    from nj_audit.store.adding import add_files

    root = tmp_path_factory.mktemp("agree")
    generate_batch(
        root / "batch", institutions=2, rows=300, period=parse_period("2022-02-27:2022-03-02"),
        seed=seed, correction_share=0.3, invalid_share=0.1, missing_form_share=0.8,
    )  # fmt: skip
    days = split_by_upload_day(root / "batch", root / "days")
    store = root / "store"
    shuffled = list(days)
    order.shuffle(shuffled)
    for day in shuffled:
        add_files(StateAddRequest(store, [day], memory_limit=64 << 10, buckets=buckets))
    cluster = {"engine": "dask", "scheduler": scheduler, "buckets": buckets}
    requests = [
        AuditRequest(days),
        AuditRequest(days, memory_limit=32 << 10, buckets=buckets, chunk_rows=50),
        AuditRequest([], state=store),
        AuditRequest([], state=store, memory_limit=32 << 10),
        AuditRequest(days, **cluster, memory_limit=32 << 10),  # type: ignore[arg-type]
        AuditRequest([], state=store, **cluster),  # type: ignore[arg-type]
    ]
    documents = [render_json(run_audit(request)) for request in requests]
    with pytest.MonkeyPatch.context() as patch:  # the daily files judged apart, not batched
        patch.setattr(pandas_engine, "SMALL_FILE_BYTES", 0)
        patch.setattr(batching, "SMALL_FILE_BYTES", 0)
        documents.append(render_json(run_audit(AuditRequest(days))))
    assert json.loads(documents[0])["institutions"]
    assert all(document == documents[0] for document in documents[1:])


def test_dask_engine_reports_unreadable_files_as_the_pandas_engine(
    batch: Path, scheduler: str, tmp_path: Path
) -> None:
    """A truncated gzip file, binary junk and a folder named like a form: findings on both engines,
    the rest of the batch audited alike."""
    import gzip
    import shutil

    for name in ("outpatient_visit-part1.csv", "health_record_2022.csv"):
        shutil.copy(batch / name, tmp_path / name)
    cut = gzip.compress((batch / "outpatient_visit-part1.csv").read_bytes(), mtime=0)
    (tmp_path / ORGS[0]).mkdir()
    (tmp_path / ORGS[0] / "lab_report.csv.gz").write_bytes(cut[: len(cut) // 2])
    (tmp_path / "exam_report.csv").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "surgery_record.csv").mkdir()
    expected = _audit(str(tmp_path))
    assert [(Path(u["file"]).name, u["reason"]) for u in expected["unreadable"]] == [
        ("lab_report.csv.gz", "truncated"),
        ("exam_report.csv", "binary"),
        ("surgery_record.csv", "not_a_file"),
    ]
    assert _audit(str(tmp_path), "--engine", "dask", "--scheduler", scheduler) == expected
