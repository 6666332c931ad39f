"""docs/audit.schema.json describes every JSON document the tool writes: each golden file and
each document generated here (audit, rank, validate, district view, damaged input) is valid
against it, and documents that break the contract are not."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from nj_audit.cli import app

from builders import CLI_ENV, FIXTURES, GOLDEN

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SCHEMA = json.loads((ROOT / "docs" / "audit.schema.json").read_text(encoding="utf-8"))


def validator(kind: str) -> jsonschema.protocols.Validator:
    """The schema, restricted to one of its two documents ("audit" or "validate")."""
    schema = {**SCHEMA, "oneOf": [{"$ref": f"#/$defs/{kind}"}]}
    cls = jsonschema.validators.validator_for(SCHEMA)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def kind_of(document: Any) -> str:
    return "audit" if isinstance(document, dict) and "institutions" in document else "validate"


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.validators.validator_for(SCHEMA).check_schema(SCHEMA)


GOLDEN_DOCUMENTS = sorted(p for p in GOLDEN.glob("*.json") if "codequality" not in p.name)


def test_every_json_golden_is_checked() -> None:
    names = {p.name for p in GOLDEN_DOCUMENTS}
    assert {"audit_small.json", "render_audit.json", "validate.json"} <= names
    # the Code Quality goldens are GitLab's format, checked in test_annotations.py
    assert {p.name for p in GOLDEN.glob("*.json")} - names <= {
        "validate_codequality.json",
        "audit_codequality.json",
    }


@pytest.mark.parametrize("path", GOLDEN_DOCUMENTS, ids=lambda p: p.name)
def test_every_golden_document_is_valid(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    validator(kind_of(document)).validate(document)
    jsonschema.validate(document, SCHEMA)  # and against the schema as a whole


GENERATED = {
    "audit sample batch": ["audit", str(SAMPLES / "batch"), "--registry",
                           str(SAMPLES / "registry.csv")],
    "audit by district": ["audit", str(SAMPLES / "batch" / "xuanwu"), "--registry",
                          str(SAMPLES / "registry.csv"), "--by", "district"],
    "audit damaged rows": ["audit", str(FIXTURES / "damaged")],
    "rank 2022 table": ["rank", str(SAMPLES / "hospitals_2022.csv")],
    "validate sample batch": ["validate", str(SAMPLES / "batch" / "gulou")],
    "validate damaged rows": ["validate", str(FIXTURES / "damaged")],
    "validate bookings": ["validate", str(SAMPLES / "bookings_2022.csv"), "--schema",
                          str(ROOT / "schemas" / "bookings.yaml")],
}  # fmt: skip


@pytest.mark.parametrize("args", GENERATED.values(), ids=GENERATED.keys())
def test_every_generated_document_is_valid(args: list[str]) -> None:
    result = CliRunner(env=CLI_ENV).invoke(app, [*args, "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    document = json.loads(result.stdout)
    validator("validate" if args[0] == "validate" else "audit").validate(document)


def _audit_document() -> dict[str, Any]:
    return json.loads((GOLDEN / "audit_small.json").read_text(encoding="utf-8"))


def _broken(change) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    document = copy.deepcopy(_audit_document())
    change(document)
    return document


@pytest.mark.parametrize(
    "document",
    [
        _broken(lambda d: d.pop("policy")),
        _broken(lambda d: d.pop("tool")),
        _broken(lambda d: d["institutions"][0].update(status="great")),
        _broken(lambda d: d["institutions"][0].update(valid_ratio=1.5)),
        _broken(lambda d: d["policy"].update(fail_on="sometimes")),
        _broken(lambda d: d["institutions"][0]["flags"].append({"flag": "x"})),
        _broken(lambda d: d.update(surprise=1)),
        _broken(lambda d: d.update(unreadable=[{"file": "a.csv", "reason": "truncated"}])),
    ],
    ids=["no policy", "no tool", "bad status", "ratio 1.5", "bad fail_on", "bad flag", "extra key",
         "unreadable without message"],
)  # fmt: skip
def test_documents_that_break_the_contract_are_refused(document: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        validator("audit").validate(document)


def test_the_optional_keys_of_the_contract_are_accepted() -> None:
    document = _audit_document()
    document["unreadable"] = [
        {"file": "u/lab_report.csv.gz", "reason": "truncated", "message": "ends early",
         "org_code": None}
    ]  # fmt: skip
    document["delays"] = [{"bucket": "under_1h", "from_seconds": 0, "to_seconds": 3600}]
    document["policy"]["regressions"] = None
    document["skipped"] = ["uploads/notes.csv"]
    document["institutions"][0]["flags"].append(
        {"flag": "regression:rate:lab_report", "severity": "warn", "message": "fell"}
    )  # a per-form rate's regression (contract § 5.5): two colons
    validator("audit").validate(document)
