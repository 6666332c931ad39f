"""The sample-batch generator: deterministic, every form, valid codes, encodings, honest shares."""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nj_audit.checks.upload import gb32100_ok
from nj_audit.codes import gb11643_check_char
from nj_audit.conversion import parse_times
from nj_audit.forms import FORM_IDS, REALTIME_FORM_IDS, form_from_filename
from nj_audit.generate import (
    GeneratedBatch,
    csv_bytes,
    form_table,
    generate_batch,
    make_patients,
    org_code,
)
from nj_audit.generate.defects import defect_names
from nj_audit.generate.people import _id_check_chars
from nj_audit.generate.vocabulary import COLUMNS
from nj_audit.period import parse_period
from nj_audit.reading import read_chunks
from nj_audit.rules import judge
from nj_audit.schemas import load_schema

WORDY_FORMS = (
    "outpatient_registration",
    "outpatient_visit",
    "inpatient_admission",
    "inpatient_discharge",
    "health_record",
    "exam_report",
    "inpatient_order",
)
BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def judged(path: Path) -> tuple[np.ndarray, list[str]]:
    """Validity of every row of a generated file, and a description of each failure."""
    form = form_from_filename(path)
    assert form is not None, path
    spec = load_schema(form)
    valid, problems = [], []
    for chunk in read_chunks(path):
        verdict = judge(chunk, spec)
        valid.append(verdict.valid)
        for failure in verdict.failures:
            rows = chunk.frame.iloc[failure.rows[:2]].to_dict("records")
            problems.append(
                f"{path.name}: {failure.column} {failure.check} ({failure.message}) "
                f"x{len(failure.rows)}: {rows}"
            )
    return np.concatenate(valid), problems


def frame(batch: GeneratedBatch, form: str) -> pd.DataFrame:
    parts = [
        chunk.frame
        for path in batch.files
        if form_from_filename(path) == form
        for chunk in read_chunks(path)
    ]
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> GeneratedBatch:
    return generate_batch(tmp_path_factory.mktemp("batch"), institutions=12, rows=12_000, seed=7)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> GeneratedBatch:
    return generate_batch(
        tmp_path_factory.mktemp("clean"), institutions=40, rows=40_000, seed=3, invalid_share=0
    )


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    def contents(folder: Path, seed: int) -> dict[str, bytes]:
        made = generate_batch(folder, institutions=5, rows=3_000, seed=seed)
        return {
            str(p.relative_to(folder)): p.read_bytes() for p in sorted([*made.files, made.registry])
        }

    first = contents(tmp_path / "a", 1)
    assert first == contents(tmp_path / "b", 1)
    assert first != contents(tmp_path / "c", 2)


def test_rows_and_layout(batch: GeneratedBatch) -> None:
    written = sum(len(judged(path)[0]) for path in batch.files)
    assert written == batch.rows == 12_000 == sum(p.rows for p in batch.institutions)
    by_code = {p.org_code: p for p in batch.institutions}
    for path in batch.files:
        relative = path.relative_to(batch.outdir)
        assert len(relative.parts) == 3
        plan = by_code[relative.parts[1]]
        assert relative.parts[0] == plan.folder
        assert form_from_filename(path) in plan.forms


def test_every_form_is_written_and_named_for_its_form(batch: GeneratedBatch) -> None:
    forms = {form_from_filename(path) for path in batch.files}
    assert None not in forms
    assert forms == set(FORM_IDS)
    assert any(path.stem.endswith("_corrections") for path in batch.files)


def test_columns_are_the_schemas(batch: GeneratedBatch) -> None:
    for form in FORM_IDS:
        schema_columns = tuple(c.name for c in load_schema(form).columns)
        assert COLUMNS[form] == schema_columns, form
        assert tuple(frame(batch, form).columns) == schema_columns


def test_org_codes_and_registry(batch: GeneratedBatch) -> None:
    codes = pd.Series([p.org_code for p in batch.institutions], dtype="str")
    assert gb32100_ok(codes).all()
    assert codes.is_unique
    in_files = pd.concat(
        [frame(batch, form).org_code for form in ("outpatient_visit", "health_record")]
    )
    assert set(in_files) <= set(codes)
    with open(batch.registry, encoding="utf-8", newline="") as handle:
        registry = list(csv.DictReader(handle))
    assert list(registry[0]) == ["org_code", "name", "district"]
    registered = {row["org_code"] for row in registry}
    assert registered == {p.org_code for p in batch.institutions if p.registered}
    assert len(registered) == len(batch.institutions) - 1
    names = [row["name"] for row in registry]
    assert all(
        name.endswith(("医院", "研究所", "服务中心", "防治院", "保健院")) for name in names
    ), names


def test_id_numbers_agree_with_birth_date_and_sex(clean: GeneratedBatch) -> None:
    visits = frame(clean, "outpatient_visit").dropna(subset=["id_card"])
    assert len(visits) > 100
    ids = visits.id_card
    assert (ids.str.slice(17) == ids.str.slice(0, 17).map(gb11643_check_char)).all()
    assert (ids.str.slice(6, 14) == visits.birth_date.str.replace("-", "")).all()
    odd = ids.str.slice(16, 17).astype(int) % 2 == 1
    assert (odd[visits.sex_code == "1"]).all() and (~odd[visits.sex_code == "2"]).all()


def test_vectorised_id_check_char_is_gb11643() -> None:
    digits = np.random.default_rng(0).integers(0, 10, (500, 17))
    vectorised = _id_check_chars(digits).tobytes().decode("ascii")
    for body, char in zip(("".join(map(str, row)) for row in digits), vectorised):
        assert char == gb11643_check_char(body)


def test_one_institution_writes_gb18030_with_crlf(batch: GeneratedBatch) -> None:
    gb = [p for p in batch.institutions if p.encoding == "gb18030"]
    assert len(gb) == 1 and gb[0].crlf
    files = [path for path in batch.files if path.parent.name == gb[0].org_code]
    assert all(path.read_bytes().decode("gb18030") for path in files)
    # files with names or Chinese free text (a stray "元" alone can happen to be valid UTF-8 too)
    chinese = [path for path in files if form_from_filename(path) in WORDY_FORMS]
    assert chinese
    for path in chinese:
        data = path.read_bytes()
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        text = data.decode("gb18030")
        assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text)
    others = [path for path in batch.files if path.parent.name != gb[0].org_code]
    for path in others:
        path.read_bytes().decode("utf-8")


def test_every_row_is_valid_when_no_defects_are_asked_for(clean: GeneratedBatch) -> None:
    problems: list[str] = []
    for path in clean.files:
        valid, found = judged(path)
        problems += found
        assert valid.all() or found
    assert not problems, "\n".join(problems[:20])
    assert clean.invalid_rows == 0


@pytest.mark.parametrize("share", [0.01, 0.1])
def test_invalid_share_is_honoured(tmp_path: Path, share: float) -> None:
    made = generate_batch(tmp_path, institutions=12, rows=20_000, seed=5, invalid_share=share)
    invalid = sum(int((~judged(path)[0]).sum()) for path in made.files)
    assert invalid == made.invalid_rows  # every planned defect is caught, and nothing else
    assert invalid / made.rows == pytest.approx(share, abs=0.1 * share + 0.002)


def test_every_kind_of_defect_is_caught(tmp_path: Path) -> None:
    """Each kind of defect on its own makes exactly the rows it touches invalid."""
    days = np.arange(np.datetime64("2022-03-01"), np.datetime64("2022-04-01")).astype(np.int64)
    code = org_code(np.random.default_rng(0), "320102")
    for form in FORM_IDS:
        kinds = defect_names(form)
        for kind in kinds:
            rng = np.random.default_rng(1)
            pool = make_patients(rng, 200, parse_period("2022-02").start)
            made = form_table(
                form,
                200,
                rng,
                [code],
                days,
                pool,
                invalid_share=0.2,
                correction_share=0.0,
                skip_defects=frozenset(kinds) - {kind},
            )
            path = tmp_path / f"{form}-{kind}.csv"
            path.write_bytes(csv_bytes(made.table))
            assert int((~judged(path)[0]).sum()) == made.invalid_rows == 40, (form, kind)


def test_knobs_set_realtime_share_missed_days_and_forms(tmp_path: Path) -> None:
    period = parse_period("2022-03")
    made = generate_batch(
        tmp_path,
        institutions=6,
        rows=30_000,
        period=period,
        seed=2,
        realtime_share=0.7,
        missed_day_share=0.1,
        missing_form_share=0.0,
        invalid_share=0.0,
        correction_share=0.0,
    )
    visits = frame(made, "outpatient_visit")
    event, upload = parse_times(visits.event_time)[0], parse_times(visits.upload_time)[0]
    visits["realtime"] = (upload - event).between(pd.Timedelta(0), pd.Timedelta(hours=24))
    visits["day"] = upload.dt.date
    for plan in made.institutions:
        assert set(REALTIME_FORM_IDS) <= set(plan.forms)
        assert len(plan.missed_days) == round(0.1 * period.days)
        mine = visits[visits.org_code == plan.org_code]
        assert mine.realtime.mean() == pytest.approx(0.7, abs=0.02)
        assert not set(mine.day) & set(plan.missed_days)
        assert all(period.start <= d <= period.end for d in mine.day)


def test_corrections_reupload_records_later(batch: GeneratedBatch) -> None:
    rows = frame(batch, "lab_report")
    rows["upload"] = parse_times(rows.upload_time)[0]
    repeated = rows[rows.duplicated(["org_code", "record_id"], keep=False)]
    assert len(repeated) > 0
    counts = Counter(map(tuple, repeated[["org_code", "record_id"]].to_numpy().tolist()))
    assert set(counts.values()) == {2}
    readable = repeated.dropna(subset=["upload"])  # an invalid row may have lost its upload time
    pairs = readable.groupby(["org_code", "record_id"]).upload
    spans = (pairs.max() - pairs.min())[pairs.size() == 2]
    assert len(spans) and (spans > pd.Timedelta(0)).all()


def test_benchmark_writer(tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from make_outpatient import write_outpatient
    finally:
        sys.path.remove(str(BENCHMARKS))
    path = tmp_path / "outpatient_visit.csv"
    invalid = write_outpatient(path, 20_000, dirty=0.5, seed=1, institutions=30)
    valid, _ = judged(path)
    assert len(valid) == 20_000
    assert int((~valid).sum()) == invalid == pytest.approx(10_000, abs=150)
    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert rows.org_code.nunique() == 30
    assert 0.01 < rows.duplicated(["org_code", "record_id"]).mean() < 0.03
