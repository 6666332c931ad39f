"""Comparing two runs: the findings partition (a property over generated documents), the
direction of persisting findings, comparability, appeared/disappeared, changes, the summary."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nj_audit.history import (
    HistoryError,
    HistoryStore,
    NotComparableError,
    RegressionRules,
    RunSettings,
    since_previous,
    summary_since_previous,
)
from nj_audit.history import synthetic as syn

CODES = [f"1232010046600000{n}X" for n in range(6)]
# (org_code, name): name-only institutions (published tables) are keyed by their names
WHO = [(c, f"医院{n}") for n, c in enumerate(CODES)] + [(None, "丙卫生院"), (None, "Ωmega诊所")]
FLAGS = ["coverage", "outpatient_rate", "discharge_rate", "upload_days", "validity", "no_data",
         "unregistered", "regression:outpatient_rate"]  # fmt: skip
CHECKS = [("outpatient_visit", "id_card", "id_card_checksum"), ("lab_report", "name", "not_null")]


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    with HistoryStore.open(tmp_path / "history.sqlite") as store:
        yield store


def add(store: HistoryStore, *entries: dict[str, Any], day: int = 1, **options: Any):  # type: ignore[no-untyped-def]
    started = f"2022-04-{day:02d}T00:00:00Z"
    return store.append(syn.render(syn.document(*entries)), started_at=started, **options)


institution = st.builds(
    lambda who, flags, checks, rate: syn.entry(
        org_code=who[0],
        name=who[1],
        flags=sorted(flags.items()),
        checks=[(*c, n) for c, n in checks.items()],
        outpatient_rate=rate,
    ),
    st.sampled_from(WHO),
    st.dictionaries(st.sampled_from(FLAGS), st.sampled_from(["warn", "fail"]), max_size=5),
    st.dictionaries(st.sampled_from(CHECKS), st.integers(0, 5), max_size=2),
    st.one_of(st.none(), st.floats(0, 1)),
)
documents = st.lists(institution, max_size=5, unique_by=lambda e: e["name"])


def ident(item: dict[str, Any]) -> str:
    return item["org_code"] or item["name"]


def findings_of(document: dict[str, Any]) -> set[tuple[str, str]]:
    """What the audit document says: (org_code, flag) and (org_code, check:...) when failing."""
    out = set()
    for item in document["institutions"]:
        out |= {(ident(item), f["flag"]) for f in item["flags"]}
        out |= {
            (ident(item), f"check:{c['form']}.{c['column']}.{c['check']}")
            for c in item["checks"]
            if c["failures"] > 0
        }
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, documents)
def test_findings_partition(
    base_items: list[dict[str, Any]], head_items: list[dict[str, Any]]
) -> None:
    base_doc, head_doc = syn.document(*base_items), syn.document(*head_items)
    with tempfile.TemporaryDirectory() as folder, HistoryStore.open(Path(folder) / "h") as store:
        base = store.append(syn.render(base_doc), started_at="2022-04-01T00:00:00Z")
        head = store.append(syn.render(head_doc), started_at="2022-04-02T00:00:00Z")
        comparison = store.compare(base, head)
        expected = comparison.to_json()
    keys = {
        name: [(ident(f), f["finding"]) for f in expected[name]]
        for name in ("new", "resolved", "persisting")
    }
    for name, found in keys.items():
        assert len(found) == len(set(found)), name
    new, resolved, persisting = (set(keys[n]) for n in ("new", "resolved", "persisting"))
    assert new | persisting == findings_of(head_doc)
    assert resolved | persisting == findings_of(base_doc)
    assert not (new & persisting) and not (resolved & persisting) and not (new & resolved)
    assert all(f["change"] in ("worse", "same", "better") for f in expected["persisting"])
    head_codes = {ident(i) for i in head_items}
    base_codes = {ident(i) for i in base_items}
    assert {ident(e) for e in expected["appeared"]} == head_codes - base_codes
    assert {ident(e) for e in expected["disappeared"]} == base_codes - head_codes


def test_persisting_findings_get_worse_same_or_better(store: HistoryStore) -> None:
    codes = [f"A{n}" for n in range(6)]
    check = ("outpatient_visit", "id_card", "id_card_checksum")
    base = add(
        store,
        syn.entry(codes[0], flags=[("outpatient_rate", "warn")], outpatient_rate=0.85),
        syn.entry(codes[1], flags=[("outpatient_rate", "warn")], outpatient_rate=0.85),
        syn.entry(codes[2], flags=[("outpatient_rate", "warn")], outpatient_rate=0.85),
        syn.entry(codes[3], flags=[("validity", "fail")], valid_ratio=0.5),
        syn.entry(codes[4], checks=[(*check, 3)]),
        syn.entry(codes[5], flags=[("no_data", "warn")], checks=[(*check, 5)]),
        day=1,
    )
    head = add(
        store,
        syn.entry(codes[0], flags=[("outpatient_rate", "fail")], outpatient_rate=0.85),
        syn.entry(codes[1], flags=[("outpatient_rate", "warn")], outpatient_rate=0.80),
        syn.entry(codes[2], flags=[("outpatient_rate", "warn")], outpatient_rate=0.88),
        syn.entry(codes[3], flags=[("validity", "warn")], valid_ratio=0.5),
        syn.entry(codes[4], checks=[(*check, 5)]),
        syn.entry(codes[5], flags=[("no_data", "warn")], checks=[(*check, 2)]),
        day=2,
    )
    change = {(f.code, f.finding): f.change for f in store.compare(base, head).persisting}
    assert change == {
        ("A0", "outpatient_rate"): "worse",  # severity first
        ("A1", "outpatient_rate"): "worse",  # same severity, lower rate
        ("A2", "outpatient_rate"): "better",
        ("A3", "validity"): "better",
        ("A4", "check:outpatient_visit.id_card.id_card_checksum"): "worse",  # more failures
        ("A5", "check:outpatient_visit.id_card.id_card_checksum"): "better",
        ("A5", "no_data"): "same",
    }


def test_default_base_is_the_previous_comparable_run(store: HistoryStore) -> None:
    first = add(store, syn.entry(), day=1, policy_digest="p")
    add(store, syn.entry(), day=2, policy_digest="other")
    add(store, syn.entry(), day=3, policy_digest="p", command="rank")
    add(store, syn.entry(), day=4, policy_digest="p", scope="district")
    latest = add(store, syn.entry(flags=[("coverage", "warn")]), day=5, policy_digest="p")
    comparison = store.compare()
    assert (comparison.base.id, comparison.head.id) == (first.id, latest.id)
    assert [f.finding for f in comparison.new] == ["coverage"] and comparison.warnings == ()
    with pytest.raises(HistoryError, match="no run before"):
        store.compare(head=first)


def test_runs_that_are_not_comparable_are_refused_unless_forced(store: HistoryStore) -> None:
    base = add(store, syn.entry(), day=1, policy_digest="p1", schema_digest="s1")
    head = store.append(
        syn.render(syn.document(syn.entry(), window_seconds=3600)),
        started_at="2022-04-02T00:00:00Z",
        policy_digest="p2",
        schema_digest="s1",
    )
    with pytest.raises(NotComparableError) as caught:
        store.compare(base, head)
    assert set(caught.value.differences) == {"window", "rules/policy"}
    assert "window" in str(caught.value) and "rules/policy" in str(caught.value)
    forced = store.compare(base, head, force=True)
    assert len(forced.warnings) == 2 and forced.to_json()["warnings"] == list(forced.warnings)


def test_appeared_disappeared_changes_and_json(store: HistoryStore) -> None:
    base = add(
        store,
        syn.entry("A", "甲医院", outpatient_rate=0.9),
        syn.entry("B", "乙医院"),
        syn.entry(None, "丙卫生院"),  # a name-only institution (published tables)
        day=1,
    )
    head = add(
        store,
        syn.entry("A", "甲医院", outpatient_rate=0.55, flags=[("outpatient_rate", "fail")]),
        syn.entry("C", "丁医院"),
        syn.entry(None, "丙卫生院", discharge_rate=0.7),
        day=2,
    )
    comparison = store.compare(base, head, rules=RegressionRules.default(), top=3)
    data = json.loads(json.dumps(comparison.to_json(), ensure_ascii=False))
    assert set(data) >= {"base", "head", "new", "resolved", "persisting", "regressions",
                         "appeared", "disappeared", "changes"}  # fmt: skip
    assert set(data["base"]) >= {"id", "uuid", "started_at", "label", "period"}
    assert data["appeared"] == [{"org_code": "C", "name": "丁医院", "kind": "org_code"}]
    assert data["disappeared"] == [{"org_code": "B", "name": "乙医院", "kind": "org_code"}]
    assert data["new"] == [
        {
            "org_code": "A",
            "name": "甲医院",
            "kind": "org_code",
            "finding": "outpatient_rate",
            "label": "outpatient_rate",
            "severity": "fail",
            "value": 0.55,
        }  # fmt: skip
    ]
    changes = [(c["org_code"], c["name"], c["metric"], c["change"]) for c in data["changes"]]
    assert changes == [
        ("A", "甲医院", "outpatient_rate", -0.35),
        ("A", "甲医院", "rate:outpatient_visit", -0.35),
        (None, "丙卫生院", "discharge_rate", -0.25),
    ]
    (regression,) = [r for r in data["regressions"] if r["metric"] == "outpatient_rate"]
    assert regression["org_code"] == "A" and regression["before"] == 0.9
    assert regression["after"] == 0.55 and regression["change"] == -0.35
    assert {"org_code", "metric", "before", "after", "change"} <= set(regression)


def test_summary_since_previous(store: HistoryStore) -> None:
    document = syn.document(syn.entry(flags=[("coverage", "warn")]))
    assert summary_since_previous(store, document) == "no earlier comparable run in the history"
    add(
        store,
        syn.entry("A", flags=[("coverage", "warn"), ("validity", "fail")]),
        syn.entry("B", flags=[("coverage", "warn")], outpatient_rate=0.95),
        day=29,
    )
    add(store, syn.entry("A"), day=30, command="rank")  # not comparable with an audit
    head = syn.document(
        syn.entry("A", flags=[("coverage", "warn"), ("upload_days", "warn")]),
        syn.entry("B", flags=[("regression:outpatient_rate", "warn")], outpatient_rate=0.8),
    )
    summary = since_previous(store, head)
    assert (summary.new, summary.resolved, summary.persisting, summary.regressions) == (2, 2, 1, 1)
    assert summary.text() == (
        "since 2022-04-29: 2 new, 2 resolved, 1 persisting findings; 1 regression"
    )
    with_rules = since_previous(
        store, head, rules=RegressionRules.from_mapping({"outpatient_rate": {"max_drop_points": 5}})
    )
    assert with_rules.regressions == 1 and with_rules.to_json()["regressions"] == 1
    other = RunSettings("audit", "institution", 86400, None, "another policy")
    assert since_previous(store, head, settings=other).base is None


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_a_document_not_yet_stored_compares_like_the_stored_run(
    items: list[dict[str, Any]],
) -> None:
    """The summary judges the new document in memory: it must see what the store would keep."""
    from nj_audit.history import Snapshot
    from nj_audit.history.extract import parse

    document = syn.document(*items)
    with tempfile.TemporaryDirectory() as folder, HistoryStore.open(Path(folder) / "h") as store:
        stored = store.snapshot(store.append(syn.render(document)))
    in_memory = Snapshot.of(parse(document))
    assert stored.labels == in_memory.labels
    assert stored.values == in_memory.values
    assert stored.findings == in_memory.findings


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, documents)
def test_sqlite_and_python_partitions_agree(
    base_items: list[dict[str, Any]], head_items: list[dict[str, Any]]
) -> None:
    """compare() matches stored runs in SQLite; the summary matches a document in Python."""
    from nj_audit.history.compare import partition, partition_stored

    with tempfile.TemporaryDirectory() as folder, HistoryStore.open(Path(folder) / "h") as store:
        base = store.append(syn.render(syn.document(*base_items)), started_at="2022-04-01T00:00Z")
        head = store.append(syn.render(syn.document(*head_items)), started_at="2022-04-02T00:00Z")
        snaps = store.snapshot(base, findings="brief"), store.snapshot(head, findings="brief")
        assert partition_stored(store, *snaps, (base.id, head.id)) == partition(*snaps)
