"""Residents with archives (docs/contract.md § 4.10): distinct id_card values over the records
whose latest upload is valid, per institution and per district; the same in chunks, spilled, from
a state store and on Dask; a store of the format before them refused; never an ID or its hash in
an output."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.engines.pandas_engine import PandasEngine
from nj_audit.requests import AuditRequest

from builders import CLI_ENV, make_org_code, numbered_id_card, valid_row, write_csv

RUNNER = CliRunner(env=CLI_ENV)
ORG_A = make_org_code("12320100466000011")  # 甲 and 乙 are in 玄武区, 丙 in 秦淮区
ORG_B = make_org_code("12320100466000012")
ORG_C = make_org_code("12320100466000013")
ZERO = {"health_record": 0, "hypertension_followup": 0, "diabetes_followup": 0}


def _archive(org: str, record: str, n: int | None, upload: str, **changes: str) -> dict[str, str]:
    """A valid health_record row of resident n (None: no id_card) uploaded at `upload`."""
    card = "" if n is None else numbered_id_card(n)
    values = {"org_code": org, "record_id": record, "id_card": card, "birth_date": "1990-03-07"}
    values |= {"sex_code": "1", "event_time": "2022-03-01 08:00:00", "upload_time": upload}
    return valid_row("health_record", **{**values, **changes})


def _follow(org: str, record: str, n: int) -> dict[str, str]:
    return valid_row(
        "hypertension_followup",
        org_code=org,
        record_id=record,
        id_card=numbered_id_card(n),
        event_time="2022-03-01 08:00:00",
        upload_time="2022-03-01 09:00:00",
    )


@pytest.fixture
def batch(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "batch"
    early, late = "2022-03-01 09:00:00", "2022-03-02 09:00:00"
    write_csv(
        folder / "a" / "health_record.csv",
        [
            _archive(ORG_A, "H1", 1, early),  # resident 1: counted
            _archive(ORG_A, "H2", 2, early),  # resident 2, then corrected to an invalid row
            _archive(ORG_A, "H2", 2, late, sex_code="2"),
            _archive(ORG_A, "H3", 3, early, sex_code="2"),  # invalid, then corrected: counted
            _archive(ORG_A, "H3", 3, late),
            _archive(ORG_A, "H4", 1, early),  # resident 1 again, another record: once
            _archive(ORG_A, "H5", None, early),  # no id_card: invalid, no resident
            _archive(ORG_B, "H1", 1, early),  # resident 1 at 乙 too (same district)
            _archive(ORG_C, "H1", 1, early),  # and at 丙 (another district)
        ],
    )
    write_csv(
        folder / "b" / "hypertension_followup.csv",
        [_follow(ORG_A, "F1", 5), _follow(ORG_B, "F1", 5), _follow(ORG_B, "F2", 6)],
    )
    registry = tmp_path / "registry.csv"
    registry.write_text(
        f"org_code,name,district\n{ORG_A},甲,玄武区\n{ORG_B},乙,玄武区\n{ORG_C},丙,秦淮区\n",
        encoding="utf-8",
    )
    return folder, registry


def _audit(*args: str) -> dict:
    result = RUNNER.invoke(app, ["audit", *args, "--format", "json", "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_residents_follow_the_latest_upload_and_count_each_id_once(
    batch: tuple[Path, Path],
) -> None:
    folder, registry = batch
    document = _audit(str(folder), "--registry", str(registry))
    residents = {i["name"]: i["residents"] for i in document["institutions"]}
    assert residents == {
        # 1 (H1 and H4), 3 (corrected to valid); not 2 (corrected to invalid), not H5 (no id)
        "甲": {**ZERO, "health_record": 2, "hypertension_followup": 1},
        "乙": {**ZERO, "health_record": 1, "hypertension_followup": 2},
        "丙": {**ZERO, "health_record": 1},
    }
    text = json.dumps(document, ensure_ascii=False)
    for n in (1, 2, 3, 5, 6):  # no ID number, in any output
        assert numbered_id_card(n) not in text


@pytest.mark.parametrize(
    "options",
    [["--chunk-size", "1"], ["--engine", "dask"]],
    ids=["chunks", "dask"],
)
def test_residents_are_the_same_in_chunks_spilled_and_on_dask(
    batch: tuple[Path, Path], options: list[str]
) -> None:
    folder, registry = batch
    whole = _audit(str(folder), "--registry", str(registry))
    assert _audit(str(folder), "--registry", str(registry), *options) == whole


def test_residents_are_the_same_spilled(batch: tuple[Path, Path], tmp_path: Path) -> None:
    folder, _ = batch
    whole = PandasEngine().tally(AuditRequest([folder]))
    assert len(whole.residents) == 7  # (甲, 1), (甲, 3), (乙, 1), (丙, 1); 甲's 5, 乙's 5 and 6
    for buckets in (1, 3, 8):
        engine = PandasEngine()
        request = AuditRequest([folder], memory_limit=1 << 10, temp_dir=tmp_path, buckets=buckets)
        spilled = engine.tally(request)
        assert engine.spilled_bytes > 0
        assert spilled.residents == whole.residents and spilled.org_codes == whole.org_codes


def test_residents_from_a_store_and_an_old_store_refused(
    batch: tuple[Path, Path], tmp_path: Path
) -> None:
    folder, registry = batch
    store = tmp_path / "store"
    for part in ("a", "b"):  # added in two steps: records of both in the store
        added = RUNNER.invoke(app, ["state", "add", str(store), str(folder / part)])
        assert added.exit_code == 0, added.output
    whole = _audit(str(folder), "--registry", str(registry))
    assert _audit("--state", str(store), "--registry", str(registry)) == whole
    db = sqlite3.connect(store / "store.sqlite")
    db.execute("UPDATE settings SET value = '2' WHERE key = 'format'")
    db.commit()
    db.close()
    refused = RUNNER.invoke(app, ["audit", "--state", str(store)])
    assert refused.exit_code == 2
    assert "made with its format 2; this nj-audit reads format 3" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_a_district_counts_a_resident_of_two_members_once(batch: tuple[Path, Path]) -> None:
    folder, registry = batch
    document = _audit(str(folder), "--registry", str(registry), "--by", "district")
    residents = {d["name"]: d["residents"] for d in document["districts"]}
    assert residents == {
        # 玄武区: 1 (甲 and 乙) and 3 (甲); followed 5 (甲 and 乙) and 6 (乙)
        "玄武区": {**ZERO, "health_record": 2, "hypertension_followup": 2},
        "秦淮区": {**ZERO, "health_record": 1},
    }
