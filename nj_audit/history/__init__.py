"""The audit history: every run's document and metrics in one SQLite file, for trends,
comparisons between runs and regression gates. Standard library only (sqlite3, zlib, json).

    with HistoryStore.open("history.sqlite") as store:
        run = store.append(text, command="audit", started_at=..., finished_at=..., exit_code=1)
        store.trend("甲医院").rows
        store.compare().to_json()
"""

from .compare import Comparison, EntityDiff, FindingDiff, MetricChange, compare
from .errors import HistoryError, NotComparableError
from .model import EntityRef, RunInfo, RunSettings, Snapshot
from .regress import MetricRule, Regression, RegressionRules, regressions
from .schema import SCHEMA_VERSION
from .store import HistoryStore
from .summary import SinceSummary, since_previous, summary_since_previous
from .trend import Trend, TrendRow, sparkline, trend

__all__ = [
    "SCHEMA_VERSION",
    "Comparison",
    "EntityDiff",
    "EntityRef",
    "FindingDiff",
    "HistoryError",
    "HistoryStore",
    "MetricChange",
    "MetricRule",
    "NotComparableError",
    "Regression",
    "RegressionRules",
    "RunInfo",
    "RunSettings",
    "SinceSummary",
    "Snapshot",
    "Trend",
    "TrendRow",
    "compare",
    "regressions",
    "since_previous",
    "sparkline",
    "summary_since_previous",
    "trend",
]
