"""`--format codequality`: a GitLab Code Quality report (`artifacts: reports: codequality`).

A JSON array with one issue per finding, carrying the fields GitLab reads: `description`,
`check_name`, `fingerprint`, `severity` (`major` for fail, `minor` for warn) and `location`
(`path`, `lines.begin`). The fingerprint is a SHA-256 of what identifies the finding (the file,
form, column and check; or the institution and flag), not of its counts or lines: a finding that
persists keeps its fingerprint from run to run, and GitLab can tell new findings from old. Two
findings never share one (GitLab would show only the first)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ..results import AuditResult, ValidateResult
from .findings import Finding, flag_findings, repo_path, validate_findings
from .json import dumps

SEVERITY = {"fail": "major", "warn": "minor"}


def fingerprint(key: tuple[str, ...]) -> str:
    return hashlib.sha256("\0".join(("nj-audit", *key)).encode("utf-8")).hexdigest()


def issues(findings: list[Finding]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for finding in findings:
        key, n = finding.key, 1
        while (digest := fingerprint(key)) in seen:  # the same key twice: the second gets #2
            n += 1
            key = (*finding.key, f"#{n}")
        seen.add(digest)
        out.append(
            {
                "description": finding.message,
                "check_name": f"nj-audit/{finding.check_name}",
                "fingerprint": digest,
                "severity": SEVERITY[finding.severity],
                "location": {"path": finding.file or ".", "lines": {"begin": finding.line or 1}},
            }
        )
    return out


def _dump(items: list[dict[str, Any]]) -> str:
    return dumps(items)  # control characters escaped, as in the audit's JSON


def render_validate_codequality(result: ValidateResult, root: str | Path | None = None) -> str:
    """One `major` issue per failing (file, column, check), at its first failing line; one
    `minor` issue per skipped file."""
    return _dump(issues(validate_findings(result, root)))


def render_audit_codequality(
    result: AuditResult, location: str | Path, root: str | Path | None = None
) -> str:
    """One issue per flag of each institution, at `location` (what was audited: the first upload
    path, or `rank`'s table), line 1: a flag belongs to an institution, not to a line."""
    return _dump(issues(flag_findings(result, repo_path(location, root), root)))
