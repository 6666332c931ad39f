"""`audit`: upload files -> per-institution metrics, flags and the gate (docs/contract.md § 4 and
§ 5), in one call: the engine tallies the inputs, `institutions.summarise` makes the report's
rows."""

from __future__ import annotations

from .engines import engine_named
from .errors import UsageError
from .forms import FORM_IDS
from .institutions import summarise
from .reading import check_encoding, refuse_nothing_read
from .requests import BY_CHOICES, AuditRequest, ProgressHook
from .results import AuditResult


def run_audit(request: AuditRequest, progress: ProgressHook | None = None) -> AuditResult:
    """Audit every input of `request`; `progress` is told of every chunk judged (pandas engine).
    A file that cannot be read is a finding of the result; when no file at all could be read,
    the audit could not run (InputError)."""
    if request.form is not None and request.form not in FORM_IDS:
        raise UsageError(f"unknown form {request.form!r}; forms are: {', '.join(FORM_IDS)}")
    if request.by not in BY_CHOICES:
        raise UsageError(f"unknown --by {request.by!r}: {' or '.join(BY_CHOICES)}")
    if request.by == "district" and request.registry is None:
        raise UsageError("--by district needs --registry")
    if request.encoding is not None:
        check_encoding(request.encoding)
    engine = engine_named(request.engine)
    tally = engine.tally(request, progress)
    refuse_nothing_read(tally.findings, sum(counts.rows for counts in tally.counts.values()))
    return summarise(tally, request)
