"""JUnit XML: one test case per institution, failing when its status fails the gate."""

from __future__ import annotations

from ..policy import gate_passes
from ..results import AuditResult
from .text import by_code, policy_note


def render_junit(result: AuditResult) -> str:
    """One test case per institution; it fails when its status fails the gate."""
    from xml.sax.saxutils import (
        escape,
        quoteattr,
    )  # here: it imports urllib, a fiftieth of the start-up

    cases = []
    failures = 0
    for inst in sorted(result.institutions, key=by_code):
        name = (
            inst.label
            if inst.org_code is None or inst.name is None
            else f"{inst.name} ({inst.org_code})"
        )
        body = ""
        if not gate_passes([inst.status], result.fail_on):
            failures += 1
            message = "; ".join(f.message for f in inst.flags)
            attributes = f"message={quoteattr(message)} type={quoteattr(inst.status)}"
            body = f"<failure {attributes}>{escape(message)}</failure>"
        elif inst.flags:
            body = f"<system-out>{escape('; '.join(f.message for f in inst.flags))}</system-out>"
        cases.append(f'    <testcase classname="nj-audit" name={quoteattr(name)}>{body}</testcase>')
    header = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n  <testsuite name="nj-audit" '
        f'tests="{len(cases)}" failures="{failures}" errors="0">'
    )
    properties = []
    if policy_note(result):  # a policy file set the thresholds: the suite names it
        source = quoteattr(result.policy.source)  # type: ignore[union-attr]
        properties = [f'    <properties><property name="policy" value={source}/></properties>']
    return "\n".join([header, *properties, *cases, "  </testsuite>", "</testsuites>"]) + "\n"
