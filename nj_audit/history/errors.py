"""Errors of the history store, each rendered as one line naming the file or the runs."""

from __future__ import annotations

from ..errors import AuditError, one_line


class HistoryError(AuditError):
    """The history file cannot be used as asked (not ours, too new, unknown run, ambiguous name).
    An AuditError, so that the command line shows it as one line and exits 2; its message names
    the file itself."""

    def __init__(self, message: str):
        super().__init__(one_line(message, 1000))


class NotComparableError(HistoryError):
    """Two runs were measured under different settings, so their differences mean little."""

    def __init__(self, message: str, differences: tuple[str, ...]):
        super().__init__(message)
        self.differences = differences
