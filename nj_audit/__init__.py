"""nj-audit: data-quality audit of uploads to a municipal health information platform.

What the command line does is one call in Python:

    from pathlib import Path
    from nj_audit import AuditRequest, load_policy, load_registry, run_audit

    request = AuditRequest(
        paths=[Path("samples/batch")],
        policy=load_policy(None),
        registry=load_registry(Path("samples/registry.csv")),
    )
    result = run_audit(request)  # an AuditResult: result.passed, result.institutions, ...

Likewise `run_validate(ValidateRequest(...))` and `rank_table(RankRequest(...))`. The names are
imported when first used, so that `import nj_audit` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_API = {
    "run_audit": "nj_audit.audit",
    "run_validate": "nj_audit.validate",
    "rank_table": "nj_audit.rank",
    "AuditRequest": "nj_audit.requests",
    "ValidateRequest": "nj_audit.requests",
    "RankRequest": "nj_audit.requests",
    "AuditResult": "nj_audit.results",
    "ValidateResult": "nj_audit.results",
    "RankResult": "nj_audit.results",
    "load_policy": "nj_audit.policy",
    "load_registry": "nj_audit.registry",
    "parse_period": "nj_audit.period",
}
__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'nj_audit' has no attribute {name!r}")
    return getattr(import_module(_API[name]), name)
