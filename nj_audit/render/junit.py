"""JUnit XML: one test case per institution, failing when its status fails the gate (and one
failing case when no data row was read at all).

Text from data is escaped for XML and its control characters shown as escapes (`printable`), so
no character invalid in XML 1.0 (C0 controls, U+FFFE, U+FFFF, lone surrogates) ever reaches the
document, which always parses."""

from __future__ import annotations

import re

from ..policy import DEFAULTS, gate_passes
from ..results import AuditResult, Flag
from ..texts import flag_text, text
from .text import by_code, policy_note, printable, verdict_line

_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def xml_text(value: object) -> str:
    """`value` as XML character data or an attribute's content (without the quotes)."""
    text = _NOT_XML.sub("\ufffd", printable(value))
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _flag(flag: Flag, lang: str) -> str:
    """A flag's message in `lang` (`门急诊符合率 55.00% 低于不合格阈值 0.6`)."""
    return flag_text(flag, lang)


def render_junit(result: AuditResult, lang: str = "en") -> str:
    """One test case per institution; it fails when its status fails the gate."""
    cases = []
    failures = 0
    if result.empty and not result.passed:
        failures += 1
        message = xml_text(verdict_line(result, lang))
        cases.append(
            f'    <testcase classname="nj-audit" name="{text("junit.no_data", lang)}">'
            f'<failure message="{message}" type="empty">{message}</failure></testcase>'
        )
    for inst in sorted(result.rows, key=by_code):  # --by district: the districts
        name = (
            inst.label
            if inst.org_code is None or inst.name is None
            else f"{inst.name} ({inst.org_code})"
        )
        body = ""
        if not gate_passes([inst.status], result.fail_on):
            failures += 1
            message = xml_text("; ".join(_flag(f, lang) for f in inst.flags))
            body = (
                f'<failure message="{message}" type="{xml_text(inst.status)}">{message}</failure>'
            )
        elif inst.flags:
            shown = "; ".join(_flag(f, lang) for f in inst.flags)
            body = f"<system-out>{xml_text(shown)}</system-out>"
        cases.append(
            f'    <testcase classname="nj-audit" name="{xml_text(name)}">{body}</testcase>'
        )
    header = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n  <testsuite name="nj-audit" '
        f'tests="{len(cases)}" failures="{failures}" errors="0">'
    )
    source = xml_text(result.policy.source if result.policy is not None else DEFAULTS)
    shown = xml_text(policy_note(result, lang))
    properties = [
        f'    <properties><property name="policy" value="{source}"/>'
        f'<property name="policy_text" value="{shown}"/></properties>'
    ]
    return "\n".join([header, *properties, *cases, "  </testsuite>", "</testsuites>"]) + "\n"
