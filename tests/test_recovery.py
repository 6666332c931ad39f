"""The audit recovers what the generator was asked for: real-time share, missed days, coverage."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from nj_audit.audit import run_audit
from nj_audit.forms import REALTIME_FORM_IDS
from nj_audit.generate import generate_batch
from nj_audit.period import parse_period
from nj_audit.policy import Policy
from nj_audit.registry import load_registry
from nj_audit.requests import AuditRequest


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder: Path = tmp_path_factory.mktemp("recovery")
    period = parse_period("2022-03")
    batch = generate_batch(
        folder,
        institutions=5,
        rows=40_000,
        period=period,
        seed=11,
        realtime_share=0.8,
        correction_share=0.03,
        invalid_share=0.0,
        missed_day_share=0.1,
        missing_form_share=0.0,
    )
    registry = load_registry(batch.registry)
    result = run_audit(AuditRequest([folder], Policy(), period=period, registry=registry))
    return batch, {i.org_code: i for i in result.institutions}


def test_realtime_share_is_recovered_within_sampling_error(audited) -> None:  # type: ignore[no-untyped-def]
    batch, institutions = audited
    for plan in batch.institutions:
        inst = institutions[plan.org_code]
        for form in REALTIME_FORM_IDS:
            counts = inst.forms[form]
            if counts.records < 100:
                continue
            sigma = math.sqrt(0.8 * 0.2 / counts.records)
            assert counts.rate == pytest.approx(0.8, abs=4 * sigma + 0.005), (
                plan.name,
                form,
                counts,
            )


def test_missed_days_and_coverage_are_recovered(audited) -> None:  # type: ignore[no-untyped-def]
    batch, institutions = audited
    for plan in batch.institutions:
        inst = institutions[plan.org_code]
        assert inst.period_days == 31
        assert inst.upload_days == 31 - len(plan.missed_days)
        assert inst.forms_covered == 11
        assert inst.valid_ratio == 1.0  # no defects asked for: every record valid
        assert inst.records < inst.rows_uploaded  # corrections are folded into their records
