"""What the CI formats report, one finding at a time: a failing check in one file (`validate`), a
flagged institution or one of its flags (`audit`, `rank`), an unreadable file, a skipped file.
`github.py` turns them into workflow commands, `codequality.py` into a GitLab Code Quality report.

Values are the masked examples `validate` keeps (never a raw PII cell); audits hold no values."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..catalogue import CHECKS
from ..errors import one_line
from ..policy import FAIL, WARN
from ..results import AuditResult, InstitutionResult, Unreadable, ValidateResult
from .text import by_code, ranked

LINES_SHOWN = 3  # the first failing lines named in a finding
VALUE_CHARS = 60  # an example value is cut to this many characters


@dataclass(frozen=True)
class Finding:
    severity: str  # "fail" or "warn"
    title: str  # a few words: what failed where
    message: str  # one sentence, for people
    check_name: str  # a stable code: `outpatient_visit/record_id/no_whitespace`, `flag/coverage`
    key: tuple[str, ...]  # what identifies it from one run to the next (not its counts or lines)
    file: str | None = None  # a path relative to the repository, `/`-separated
    line: int | None = None  # the first line it concerns


def repo_path(path: str | Path, root: str | Path | None = None) -> str:
    """A path as CI platforms want it: relative to the repository (`root`, when the path is
    absolute and inside it), with `/` separators and no leading `./`."""
    candidate = Path(path)
    if root is not None and candidate.is_absolute():
        with suppress(ValueError):  # outside the repository: left as it is
            candidate = candidate.relative_to(Path(root).absolute())
    text = PurePosixPath(*candidate.parts).as_posix() if candidate.parts else str(path)
    return text[2:] if text.startswith("./") else text


def _value(value: str) -> str:
    return repr(one_line(value, VALUE_CHARS))


def validate_findings(result: ValidateResult, root: str | Path | None = None) -> list[Finding]:
    """One finding per failing (file, column, check), the most rows first; then one warning per
    skipped file. One per file and check rather than one per row: GitHub shows 10 errors per
    step, and ten lines of one broken column would hide every other problem."""
    found: list[tuple[int, Finding]] = []
    for form in result.forms:
        for check in form.checks:
            for in_file in check.files:
                path = repo_path(in_file.file, root)
                lines = [e.line for e in in_file.examples[:LINES_SHOWN]]
                if check.check == "missing_column":
                    message = (
                        f"{form.form}: column {check.column} is missing; every row of the file"
                        f" ({in_file.rows}) is invalid"
                    )
                else:
                    where = ", ".join(str(n) for n in lines)
                    more = ", ..." if in_file.rows > len(lines) else ""
                    rows = "1 row fails" if in_file.rows == 1 else f"{in_file.rows} rows fail"
                    meaning = CHECKS[check.check].title if check.check in CHECKS else check.message
                    message = (
                        f"{form.form}: {rows} {check.label} on {check.column} ({meaning});"
                        f" line{'s' if len(lines) > 1 else ''} {where}{more}"
                    )
                    first = in_file.examples[0].value if in_file.examples else ""
                    if first:
                        message += f"; first value {_value(first)}"
                finding = Finding(
                    FAIL,
                    f"{form.form}.{check.column}: {check.label}",
                    message,
                    f"{form.form}/{check.column}/{check.check}"
                    + (f"/{check.other}" if check.other else ""),
                    ("validate", path, form.form, check.column, check.check, check.other or ""),
                    path,
                    lines[0] if lines else 1,
                )
                found.append((in_file.rows, finding))
    found.sort(key=lambda pair: (-pair[0], pair[1].file or "", pair[1].line or 0))
    findings = [finding for _, finding in found]
    return (
        unreadable_findings(result.unreadable, root)
        + findings
        + skipped_findings(result.skipped, root)
    )


def unreadable_findings(
    unreadable: tuple[Unreadable, ...], root: str | Path | None = None
) -> list[Finding]:
    """One error per file that could not be read (a finding, not a stop: contract § 2.3), first:
    nothing of that file was judged."""
    return [
        Finding(
            FAIL,
            f"unreadable file ({item.reason})",
            f"unreadable ({item.reason}): {item.described}",
            f"unreadable/{item.reason}",
            ("unreadable", repo_path(item.file, root), item.reason),
            repo_path(item.file, root),
            item.line,
        )
        for item in unreadable
    ]


def skipped_findings(skipped: tuple[Path, ...], root: str | Path | None = None) -> list[Finding]:
    return [
        Finding(
            WARN,
            "skipped file",
            "skipped: no form matches the file's name (name it after its form, or pass --form)",
            "skipped_file",
            ("skipped", repo_path(path, root)),
            repo_path(path, root),
            None,
        )
        for path in skipped
    ]


def institution_name(inst: InstitutionResult) -> str:
    if inst.org_code and inst.name:
        return f"{inst.name} ({inst.org_code})"
    return inst.label


def institution_findings(
    result: AuditResult, sort: str = "rows_uploaded", root: str | Path | None = None
) -> list[Finding]:
    """One finding per institution whose status is warn or fail, in the report's order, with all
    its flags; then one warning per skipped file."""
    found = [
        Finding(
            inst.status,
            institution_name(inst),
            "; ".join(f"{flag.flag} ({flag.severity}): {flag.message}" for flag in inst.flags),
            "institution",
            ("audit", inst.org_code or inst.label),
        )
        for inst in ranked(result, sort)
        if inst.status in (FAIL, WARN)
    ]
    unreadable = unreadable_findings(result.unreadable, root)
    return unreadable + found + skipped_findings(result.skipped, root)


def flag_findings(
    result: AuditResult, location: str, root: str | Path | None = None
) -> list[Finding]:
    """One finding per flag of every institution (sorted by org_code), anchored at `location`
    (what was audited: an upload folder, a published table); then one per skipped file."""
    found = [
        Finding(
            flag.severity,
            f"{institution_name(inst)}: {flag.flag}",
            f"{institution_name(inst)}: {flag.message} ({flag.flag}, {flag.severity})",
            f"flag/{flag.flag}",
            ("audit", inst.org_code or inst.label, flag.flag),
            location,
            1,
        )
        for inst in sorted(result.institutions, key=by_code)
        for flag in inst.flags
    ]
    unreadable = unreadable_findings(result.unreadable, root)
    return unreadable + found + skipped_findings(result.skipped, root)
