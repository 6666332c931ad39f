"""Engines: where an audit's files are read, judged and folded into counts.

Every engine takes an `AuditRequest` and hands back a `metrics.Tally` (per institution and form,
corrections folded); `institutions.summarise` turns that into the report the same way for all.
`pandas` (the default) runs on this machine; `dask` on a Dask cluster. An engine module is
imported only when it is chosen, so that Dask is needed only by those who use it.
"""

from __future__ import annotations

from typing import Protocol

from ..errors import UsageError
from ..metrics import Tally
from ..requests import ENGINES, AuditRequest, ProgressHook


class Engine(Protocol):
    name: str

    def tally(self, request: AuditRequest, progress: ProgressHook | None = None) -> Tally:
        """Every row of the request's inputs judged, every record's corrections folded."""
        ...


def engine_named(name: str) -> Engine:
    if name == "pandas":
        from .pandas_engine import PandasEngine

        return PandasEngine()
    if name == "dask":
        from .dask_engine import DaskEngine

        return DaskEngine()
    raise UsageError(f"unknown --engine {name!r}: {' or '.join(ENGINES)}")
