"""JUnit XML: one test case per institution, failing when its status fails the gate (and one
failing case when no data row was read at all).

Text from data is escaped for XML and its control characters shown as escapes (`printable`), so
no character invalid in XML 1.0 (C0 controls, U+FFFE, U+FFFF, lone surrogates) ever reaches the
document, which always parses."""

from __future__ import annotations

import re

from ..policy import gate_passes
from ..results import AuditResult
from .text import by_code, policy_note, printable, verdict_line

_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def xml_text(value: object) -> str:
    """`value` as XML character data or an attribute's content (without the quotes)."""
    text = _NOT_XML.sub("\ufffd", printable(value))
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def render_junit(result: AuditResult) -> str:
    """One test case per institution; it fails when its status fails the gate."""
    cases = []
    failures = 0
    if result.empty and not result.passed:
        failures += 1
        message = xml_text(verdict_line(result))
        cases.append(
            f'    <testcase classname="nj-audit" name="no data rows">'
            f'<failure message="{message}" type="empty">{message}</failure></testcase>'
        )
    for inst in sorted(result.institutions, key=by_code):
        name = (
            inst.label
            if inst.org_code is None or inst.name is None
            else f"{inst.name} ({inst.org_code})"
        )
        body = ""
        if not gate_passes([inst.status], result.fail_on):
            failures += 1
            message = xml_text("; ".join(f.message for f in inst.flags))
            body = (
                f'<failure message="{message}" type="{xml_text(inst.status)}">{message}</failure>'
            )
        elif inst.flags:
            body = f"<system-out>{xml_text('; '.join(f.message for f in inst.flags))}</system-out>"
        cases.append(
            f'    <testcase classname="nj-audit" name="{xml_text(name)}">{body}</testcase>'
        )
    header = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n  <testsuite name="nj-audit" '
        f'tests="{len(cases)}" failures="{failures}" errors="0">'
    )
    properties = []
    if policy_note(result):  # a policy file set the thresholds: the suite names it
        source = xml_text(result.policy.source)  # type: ignore[union-attr]
        properties = [f'    <properties><property name="policy" value="{source}"/></properties>']
    return "\n".join([header, *properties, *cases, "  </testsuite>", "</testsuites>"]) + "\n"
