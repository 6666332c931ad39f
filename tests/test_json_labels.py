"""JSON documents keep English keys and codes in every language; beside each code a person reads
(status, flag, check, history finding), a `label` in the run's language, and flags' messages in
it (docs/contract.md § 7.2). The Chinese document is the English one with only those texts
changed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from nj_audit.cli import app

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
SCHEMA = json.loads((ROOT / "docs" / "audit.schema.json").read_text(encoding="utf-8"))
TRANSLATED = {"status_label", "label", "message"}
HAN = re.compile(r"[\u4e00-\u9fff]")


def run(*args: object, lang: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        app, [str(a) for a in args], env={"LANG": "C.UTF-8", "NJ_AUDIT_LANG": lang}
    )
    assert result.exit_code in (0, 1), result.stdout + result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def without_texts(value: Any) -> Any:
    """The document with every translated text blanked: keys, codes and numbers only."""
    if isinstance(value, dict):
        return {k: "" if k in TRANSLATED else without_texts(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_texts(v) for v in value]
    return value


def audit(lang: str) -> dict[str, Any]:
    return run("audit", SAMPLES / "batch", "--registry", SAMPLES / "registry.csv",
               "--format", "json", "--lang", lang, lang=lang)  # fmt: skip


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    return {lang: audit(lang) for lang in ("en", "zh")}


def test_the_languages_differ_in_texts_only(documents: dict[str, dict[str, Any]]) -> None:
    en, zh = documents["en"], documents["zh"]
    assert en != zh
    assert without_texts(en) == without_texts(zh)
    for document in (en, zh):
        jsonschema.validate(document, SCHEMA)


def test_chinese_labels_and_messages(documents: dict[str, dict[str, Any]]) -> None:
    zh = documents["zh"]
    words = {"ok": "正常", "warn": "预警", "fail": "不合格"}
    flags = [f for i in zh["institutions"] for f in i["flags"]]
    checks = zh["checks"] + [c for i in zh["institutions"] for c in i["checks"]]
    assert flags and checks
    for inst in zh["institutions"]:
        assert inst["status_label"] == words[inst["status"]]
    for flag in flags:
        assert HAN.search(flag["label"]) and HAN.search(flag["message"]), flag
        assert not re.search(r"[a-z]{3,}", flag["message"]), flag  # no English words left
        assert re.fullmatch(r"[a-z_]+(:[a-z_]+)?", flag["flag"])  # the code stays English
    for check in checks:
        assert HAN.search(check["label"]), check


def test_english_labels_and_messages(documents: dict[str, dict[str, Any]]) -> None:
    en = documents["en"]
    for inst in en["institutions"]:
        assert inst["status_label"] == inst["status"]
        for flag in inst["flags"]:
            assert flag["label"] == flag["flag"]
            assert not HAN.search(flag["message"]), flag
    for check in en["checks"]:
        assert check["label"] and not HAN.search(check["label"]), check


def test_validate_and_rank_documents_carry_labels_too() -> None:
    args = ("validate", SAMPLES / "batch", "--format", "json")
    en, zh = run(*args, "--lang", "en", lang="en"), run(*args, "--lang", "zh", lang="zh")
    assert without_texts(en) == without_texts(zh)
    labels = [c["label"] for f in zh["forms"] for c in f["checks"]]
    assert labels and all(HAN.search(label) for label in labels)
    ranked = run("rank", SAMPLES / "hospitals_2022.csv", "--format", "json", lang="zh")
    jsonschema.validate(ranked, SCHEMA)
    flagged = [i for i in ranked["institutions"] if i["flags"]]
    assert flagged and all(HAN.search(i["status_label"]) for i in ranked["institutions"])
    assert all(HAN.search(f["label"]) for i in flagged for f in i["flags"])


def test_history_findings_carry_labels(tmp_path: Path) -> None:
    history = tmp_path / "h.sqlite"
    for _ in range(2):
        run("rank", SAMPLES / "hospitals_2022.csv", "--format", "json", "--history", history,
            lang="en")  # fmt: skip
    compare = ("history", "compare", "1", "2", "--history", history, "--format", "json")
    zh = run(*compare, lang="zh")
    en = run(*compare, lang="en")
    persisting = zh["persisting"]
    assert persisting and all(HAN.search(f["label"]) for f in persisting)
    assert [f["finding"] for f in persisting] == [f["finding"] for f in en["persisting"]]
    assert without_texts(en) == without_texts(zh)


def test_an_unreadable_file_carries_its_reason_label(tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    source = next((SAMPLES / "batch").rglob("outpatient_visit.csv"))
    (batch / "outpatient_visit.csv").write_bytes(source.read_bytes())
    (batch / "lab_report.csv").write_bytes(b"")
    zh = run("validate", batch, "--format", "json", lang="zh")
    en = run("validate", batch, "--format", "json", lang="en")
    (item,) = zh["unreadable"]
    assert item["reason"] == "no_header" and item["label"] == "文件或首行为空"
    assert en["unreadable"][0]["label"] == "the file is empty, or its first line is"
    assert without_texts(en) == without_texts(zh)
    jsonschema.validate(zh, SCHEMA)
