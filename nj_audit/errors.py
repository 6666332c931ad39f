"""What can stop an audit from running, and the exit codes."""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    PASSED = 0
    FAILED = 1  # the data is below policy (or some rows are invalid, for `validate`)
    ERROR = 2  # the audit could not run


def one_line(text: object, limit: int = 400) -> str:
    """`text` on one line (newlines and runs of spaces folded), cut to `limit` characters."""
    folded = " ".join(str(text).split())
    return folded if len(folded) <= limit else folded[: limit - 3] + "..."


class AuditError(Exception):
    """The audit could not run. Rendered as one line: `file:line: message`.

    Messages name files, lines, columns and rules, never a cell's value (it may be PII). A
    message made by `messages.said(key, ...)` is told in Chinese by `told("zh")`; any other is
    told after its class's `kind` (`策略有误：...`)."""

    kind = "error"
    reason: str | None = None  # why a file could not be read, when that is what stopped the run

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.message = message
        self.path = path
        self.line = line
        super().__init__(str(self))

    def _where(self) -> str:
        if self.path is None:
            return ""
        path = str(self.path).replace("\n", "\\n").replace("\r", "\\r")
        return f"{path}:{self.line}: " if self.line else f"{path}: "

    def __str__(self) -> str:
        return f"{self._where()}{one_line(self.message, 1000)}"

    def told(self, lang: str) -> str:
        """The one line in `lang` (English: `str(self)`)."""
        from .messages import told, unreadable_told

        if lang == "en":
            return str(self)
        if self.reason is not None:
            shown = unreadable_told(self.message, self.reason, lang)
        else:
            shown = told(self.message, lang, self.kind)
        return f"{self._where()}{one_line(shown, 1000)}"


class InputError(AuditError):
    """An input file is missing, unreadable or not recognisable."""

    kind = "input"


class UnreadableFile(InputError):
    """One input file cannot be read: in a batch, a finding of the audit (contract section 2.3),
    not the end of the run. `reason` is one of `catalogue.UNREADABLE`."""

    def __init__(
        self, message: str, path: str | Path | None, line: int | None = None, *, reason: str
    ):
        super().__init__(message, path, line)
        self.reason: str = reason


class ReportFile(InputError):
    """A file named like a form that is a report nj-audit wrote (recognised by its first line):
    skipped with a warning, never read as an upload."""


class OutputError(AuditError):
    """A report or the failures file cannot be written (full disk, read-only folder, closed
    stdout); the previous file, if any, is left as it was."""

    kind = "output"


class UsageError(AuditError):
    """A bad argument: period, window, form, output path."""

    kind = "usage"


class PolicyError(AuditError):
    """A policy file or pyproject section with unknown keys or bad values."""

    kind = "policy"


class SchemaFileError(AuditError):
    """A schema file that cannot be loaded."""

    kind = "schema"
