"""The JSON document read back into results (`nj_audit.documents`): document -> result ->
document is the identity, on generated results and on real audits; what the document does not
say is recovered; anything else is refused with one line."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.documents import DocumentError, result_of
from nj_audit.forms import FORM_IDS
from nj_audit.period import Period
from nj_audit.render.csv import render_csv
from nj_audit.render.json import render_json, to_document
from nj_audit.results import AuditResult, CheckCount, Flag, FormResult, InstitutionResult

from builders import CLI_ENV

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
counts = st.one_of(st.none(), st.integers(0, 10**9))
ratios = st.one_of(st.none(), st.floats(0, 1, allow_nan=False))
texts = st.one_of(st.none(), st.text(min_size=1, max_size=8))
severities = st.sampled_from(["ok", "warn", "fail"])
forms = st.dictionaries(
    st.sampled_from(FORM_IDS),
    st.builds(
        FormResult,
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
        ratios,
    ),  # fmt: skip
    max_size=4,
)
flag_codes = st.sampled_from(["coverage", "no_data", "regression:rate:lab_report"])
flags = st.lists(
    st.builds(Flag, flag_codes, st.sampled_from(["warn", "fail"]), st.text(max_size=20)),
    max_size=3,
)


@st.composite
def institutions(draw: st.DrawFn) -> InstitutionResult:
    audited = draw(st.booleans())  # an audit's row has records; a ranked table's has none
    per_form = draw(forms) if audited else {}

    def visits(form: str) -> int | None:
        return (per_form[form].records if form in per_form else 0) if audited else None

    return InstitutionResult(
        org_code=draw(texts),
        name=draw(texts),
        district=draw(texts),
        rows_uploaded=draw(counts),
        records=draw(st.integers(0, 10**6)) if audited else None,
        valid_records=draw(counts),
        valid_ratio=draw(ratios),
        upload_days=draw(counts),
        period_days=draw(counts),
        upload_day_ratio=draw(ratios),
        forms_covered=draw(counts),
        forms_required=draw(counts),
        outpatient_rate=draw(ratios),
        discharge_rate=draw(ratios),
        status=draw(severities),
        flags=tuple(draw(flags)),
        forms=per_form,
        outpatient_visits=visits("outpatient_visit"),
        discharges=visits("inpatient_discharge"),
    )


@st.composite
def results(draw: st.DrawFn) -> AuditResult:
    start = date(2022, 1, 1) + timedelta(days=draw(st.integers(0, 800)))
    period = draw(st.one_of(st.none(), st.just(Period(start, start + timedelta(days=30)))))
    name = st.text(min_size=1, max_size=5)
    check = st.builds(CheckCount, st.sampled_from(FORM_IDS), name, name, st.integers(0, 99))
    checks = draw(st.lists(check, max_size=3))
    drawn = draw(st.lists(institutions(), max_size=4, unique_by=lambda i: (i.org_code, i.name)))
    inst = tuple(sorted(drawn, key=lambda i: i.org_code or ""))
    return AuditResult(period, draw(st.integers(1, 10**6)), draw(st.booleans()), "fail", inst,
                       tuple(checks))  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(results())
def test_document_to_result_to_document_is_the_identity(result: AuditResult) -> None:
    text = render_json(result)
    back = result_of(json.loads(text))
    assert render_json(back) == text
    assert to_document(back) == to_document(result)
    # and the rows carry what the other formats show, visits and discharges included
    by_code = {(i.org_code, i.name): i for i in result.institutions}
    for inst in back.institutions:
        original = by_code[inst.org_code, inst.name]
        assert (inst.outpatient_visits, inst.discharges) == (
            original.outpatient_visits,
            original.discharges,
        )


@pytest.mark.parametrize(
    "args",
    [
        ["audit", str(SAMPLES / "batch"), "--registry", str(SAMPLES / "registry.csv")],
        [
            "audit",
            str(SAMPLES / "batch"),
            "--registry",
            str(SAMPLES / "registry.csv"),
            "--by",
            "district",
        ],  # fmt: skip
        ["rank", str(SAMPLES / "hospitals_2022.csv")],
    ],
    ids=["audit", "by district", "rank"],
)
def test_real_documents_round_trip(args: list[str]) -> None:
    runner = CliRunner(env=CLI_ENV)
    text = runner.invoke(app, [*args, "--format", "json"]).stdout
    assert render_json(result_of(json.loads(text))) == text
    if args[0] == "audit":  # an audit's CSV is whole again (a ranked table's visits are not kept)
        csv = runner.invoke(app, [*args, "--format", "csv"]).stdout
        assert render_csv(result_of(json.loads(text))) == csv


def _doc(statuses: list[str], passed: bool, **extra: Any) -> dict[str, Any]:
    items = [{"org_code": f"O{n}", "status": s, "flags": []} for n, s in enumerate(statuses)]
    return {"period": None, "window_seconds": 86400, "passed": passed, "institutions": items,
            "checks": [], **extra}  # fmt: skip


@pytest.mark.parametrize(
    ("statuses", "passed", "fail_on"),
    [
        (["ok", "fail"], False, "fail"),
        (["ok", "warn"], False, "warn"),
        (["ok", "warn"], True, "fail"),
        (["fail"], True, "never"),
        ([], False, "fail"),  # failed with nobody flagged (an empty audit): the default
    ],
)
def test_fail_on_is_the_least_strict_setting_that_explains_the_verdict(
    statuses: list[str], passed: bool, fail_on: str
) -> None:
    assert result_of(_doc(statuses, passed)).fail_on == fail_on


def test_a_stated_fail_on_wins() -> None:
    assert result_of(_doc(["ok"], True, policy={"fail_on": "warn"})).fail_on == "warn"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "not a JSON object"),
        ({"institutions": []}, "no passed verdict"),
        (_doc([], True, institutions={}), "institutions is not a list"),
        (_doc(["bad"], True), "institutions[0] has no status"),
        (_doc([], True, period={"start": "2022-13-01", "end": "2022-12-31"}), "period"),
        (_doc([], True, window_seconds="24h"), "window_seconds"),
        (_doc([], True, checks=[{"form": "lab_report", "failures": 1}]), "checks[0]"),
    ],
)
def test_what_is_not_an_audit_document_is_refused(document: Any, message: str) -> None:
    with pytest.raises(DocumentError, match=message.replace("[", r"\[").replace("]", r"\]")):
        result_of(document)
