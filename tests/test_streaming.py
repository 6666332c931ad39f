"""Issue 5: streaming in chunks gives exactly the whole-file answer, corrections included."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.folds import fold_records
from nj_audit.generate import generate_batch
from nj_audit.metrics import RecordState
from nj_audit.period import parse_period


def audit_json(folder: Path, *extra: str) -> dict:
    result = CliRunner().invoke(app, ["audit", str(folder), "--format", "json", "--quiet", *extra])
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)


@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000))
def test_chunk_sizes_give_the_same_json(tmp_path_factory, seed: int) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("batch")
    generate_batch(
        folder,
        institutions=3,
        rows=240,
        period=parse_period("2022-03"),
        seed=seed,
        correction_share=0.25,
        invalid_share=0.1,
    )
    whole = audit_json(folder, "--chunk-size", "1000000")
    assert any(
        f["records"] < f["rows"] for i in whole["institutions"] for f in i["forms"].values()
    )  # corrections exist
    for size in ("1", "7", "1000"):
        assert audit_json(folder, "--chunk-size", size) == whole


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 2),
            st.integers(0, 5),
            st.integers(-1, 6),
            st.integers(0, 9),
            st.booleans(),
            st.booleans(),
        ),
        min_size=1,
        max_size=40,
    ),
    st.integers(1, 8),
)
def test_reducing_in_any_grouping_is_the_same(
    rows: list[tuple[int, int, int, int, bool, bool]], split: int
) -> None:
    """Folding corrections early (per chunk) or late (all at once) gives the same records."""
    nat = np.iinfo(np.int64).min

    def state(part: list[tuple[int, int, int, int, bool, bool]], start: int) -> RecordState:
        org = np.array([r[0] for r in part], dtype=np.int32)
        upload = np.array([nat if r[2] < 0 else r[2] for r in part], dtype=np.int64)
        order = np.arange(start, start + len(part), dtype=np.int64)
        return RecordState(
            org=org,
            form=np.full(len(part), 11, dtype=np.int16),  # health_record: residents count
            key=np.array([r[1] for r in part], dtype=np.uint64),
            first_upload=np.where(upload == nat, np.iinfo(np.int64).max, upload),
            first_order=order,
            first_realtime=np.array([r[4] and r[2] >= 0 for r in part], dtype=bool),
            last_upload=upload,
            last_order=order,
            last_valid=np.array([r[5] for r in part], dtype=bool),
            first_delay=np.array([r[3] % 8 - 1 for r in part], dtype=np.int8),  # NO_DELAY too
            resident=np.array([r[3] for r in part], dtype=np.uint64),  # 0: no id_card
        )

    def table(records: RecordState) -> list[tuple]:
        return sorted(
            zip(
                records.org.tolist(),
                records.key.tolist(),
                records.first_realtime.tolist(),
                records.first_delay.tolist(),
                records.last_valid.tolist(),
                records.resident.tolist(),
            )
        )

    whole = state(rows, 0).reduce()
    parts = [state(rows[i : i + split], i).reduce() for i in range(0, len(rows), split)]
    assert table(RecordState.concat(parts).reduce()) == table(whole)
    assert len(whole) == len({(r[0], r[1]) for r in rows})
    assert fold_records(parts) == fold_records([whole])
