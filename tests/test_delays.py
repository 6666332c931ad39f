"""Delays (contract § 4.9): each record's delay bucket is its earliest upload's, half-open at
every edge, no bucket where a time is missing; and the upload calendar's rows per day."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.delays import DELAY_BUCKETS, NAT, NO_DELAY, delay_buckets

from builders import CLI_ENV, timed_visit, write_rows

S = 10**9


def test_bucket_edges_are_half_open() -> None:
    event = np.zeros(12, dtype=np.int64)
    seconds = [-1, 0, 3599, 3600, 21599, 21600, 86399, 86400, 172800, 604799, 604800, 10**7]
    buckets = delay_buckets(event, np.array(seconds, dtype=np.int64) * S)
    names = [DELAY_BUCKETS[b] for b in buckets]
    assert names == [
        "negative", "under_1h", "under_1h", "1h_to_6h", "1h_to_6h", "6h_to_24h", "6h_to_24h",
        "1d_to_2d", "2d_to_7d", "2d_to_7d", "over_7d", "over_7d",
    ]  # fmt: skip


def test_a_missing_time_is_in_no_bucket() -> None:
    event = np.array([NAT, 0], dtype=np.int64)
    upload = np.array([5 * S, NAT], dtype=np.int64)
    assert delay_buckets(event, upload).tolist() == [NO_DELAY, NO_DELAY]


def test_the_earliest_upload_decides_whatever_the_chunks(tmp_path: Path) -> None:
    """r1 first uploaded 30 min after the event, corrected 3 days later: under_1h; r2 uploaded
    2 days late first (1d_to_2d is 24 h <= d < 48 h: 2 days is 2d_to_7d), then corrected within
    the hour: still late; r3 has no readable event_time: in no bucket, but a record."""
    rows = [
        timed_visit("r1", "2022-03-01 08:00:00", "2022-03-01 08:30:00"),
        timed_visit("r2", "2022-03-01 08:00:00", "2022-03-03 08:00:00"),
        timed_visit("r1", "2022-03-01 08:00:00", "2022-03-04 08:00:00"),
        timed_visit("r3", "not a time", "2022-03-02 09:00:00"),
        timed_visit("r2", "2022-03-03 07:30:00", "2022-03-03 08:10:00"),
    ]
    path = write_rows(tmp_path / "outpatient_visit.csv", rows)
    documents = []
    for size in ("1", "2", "100"):
        result = CliRunner(env=CLI_ENV).invoke(
            app, ["audit", str(path), "--format", "json", "--chunk-size", size]
        )
        documents.append(json.loads(result.stdout))
    assert documents[0] == documents[1] == documents[2]
    (inst,) = documents[0]["institutions"]
    form = inst["forms"]["outpatient_visit"]
    assert form["records"] == 3
    assert form["delays"] == {"negative": 0, "under_1h": 1, "1h_to_6h": 0, "6h_to_24h": 0,
                              "1d_to_2d": 0, "2d_to_7d": 1, "over_7d": 0}  # fmt: skip
    # the calendar: rows (not records) per upload day
    assert inst["days"] == {"2022-03-01": 1, "2022-03-02": 1, "2022-03-03": 2, "2022-03-04": 1}
    assert [d["bucket"] for d in documents[0]["delays"]] == list(DELAY_BUCKETS)
    assert documents[0]["delays"][4] == {
        "bucket": "1d_to_2d", "from_seconds": 86400, "to_seconds": 172800,
    }  # fmt: skip


def test_rows_without_record_id_are_records_with_delays_in_every_engine(tmp_path: Path) -> None:
    """A row without record_id is a record of its own (contract § 4.3), so it has a delay
    bucket; the same counts from the pandas engine, the Dask engine and a state store."""
    rows = [
        timed_visit("r1", "2022-03-01 08:00:00", "2022-03-01 08:30:00"),
        timed_visit("", "2022-03-01 08:00:00", "2022-03-01 10:00:00"),  # 1h_to_6h
        timed_visit("", "2022-03-01 08:00:00", "2022-03-05 08:00:00"),  # 2d_to_7d
        timed_visit("", "not a time", "2022-03-02 09:00:00"),  # no bucket
    ]
    path = write_rows(tmp_path / "outpatient_visit.csv", rows)
    runner = CliRunner(env=CLI_ENV)
    store = tmp_path / "store"
    assert runner.invoke(app, ["state", "add", str(store), str(path), "--quiet"]).exit_code == 0
    documents = []
    for args in ([str(path)], [str(path), "--engine", "dask"], ["--state", str(store)]):
        result = runner.invoke(app, ["audit", *args, "--format", "json", "--quiet"])
        assert result.exit_code in (0, 1), result.output
        documents.append(json.loads(result.stdout)["institutions"])
    assert documents[0] == documents[1] == documents[2]
    form = documents[0][0]["forms"]["outpatient_visit"]
    assert form["records"] == 4
    assert form["delays"] == {"negative": 0, "under_1h": 1, "1h_to_6h": 1, "6h_to_24h": 0,
                              "1d_to_2d": 0, "2d_to_7d": 1, "over_7d": 0}  # fmt: skip
