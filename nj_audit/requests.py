"""What each command is asked to do, as one value: the command line builds it from its options,
and a Python caller builds it directly (see the README's "From Python").

    from nj_audit import AuditRequest, audit, load_policy
    result = audit(AuditRequest(paths=[Path("uploads")], policy=load_policy(None)))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .period import Period
from .policy import Policy
from .reading import DEFAULT_CHUNK_ROWS
from .registry import Registry

BY_CHOICES = ("institution", "district")
DEFAULT_MEMORY_LIMIT = 1 << 30  # 1 GiB
# What the library tells the caller after each chunk: rows just judged, bytes read so far, in all
ProgressHook = Callable[[int, int, int], None]
ENGINES = ("pandas", "dask")


@dataclass(frozen=True)
class AuditRequest:
    paths: Sequence[Path | str]  # files or folders (or, with the dask engine, fsspec URLs)
    policy: Policy = field(default_factory=Policy)
    form: str | None = None  # the form of every file (default: from each file's name)
    period: Period | None = None  # upload dates to keep (default: all, the period they span)
    registry: Registry | None = None
    by: str = "institution"  # or "district" (needs a registry)
    encoding: str | None = None  # default: detect UTF-8 / GB18030
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    engine: str = "pandas"  # or "dask"
    scheduler: str | None = None  # dask: a scheduler's address (default: a local cluster)
    partitions: int | None = None  # dask: byte ranges per uncompressed CSV file
    memory_limit: int = DEFAULT_MEMORY_LIMIT  # bytes: the run's target peak (docs/scale.md)
    temp_dir: Path | None = None  # where states spill past the limit (default: the system's)
    state: Path | None = None  # a state store to audit instead of `paths` (docs/scale.md)
    buckets: int | None = None  # spill buckets (dask: shuffle partitions); default: from sizes
    show_pii: bool = False  # org_codes shaped like an ID number or a name shown unmasked
    allow_empty: bool = False  # an audit that read no data row may pass the gate
    strict: bool = False  # any unreadable file stops the run (exit 2) instead of being a finding
    max_bytes: int | None = None  # what one file may expand to (default: 100 times if compressed)
    outputs: Sequence[Path] = ()  # the files this run writes: never read as inputs, never inputs


@dataclass(frozen=True)
class StateAddRequest:
    store: Path  # a state store's folder (made when missing)
    paths: Sequence[Path]  # upload files or folders
    policy: Policy = field(default_factory=Policy)  # its windows decide real-time
    form: str | None = None
    encoding: str | None = None
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    memory_limit: int = DEFAULT_MEMORY_LIMIT
    buckets: int | None = None  # a new store's buckets (default 64); an old store keeps its own


@dataclass(frozen=True)
class ValidateRequest:
    paths: Sequence[Path]
    form: str | None = None
    schema_file: Path | None = None  # a pandera YAML schema instead of the forms' own
    encoding: str | None = None
    show_pii: bool = False
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    allow_empty: bool = False  # no data row at all is not a failure
    strict: bool = False  # any unreadable file stops the run (exit 2)
    max_bytes: int | None = None
    outputs: Sequence[Path] = ()  # --failures: never read as an input, never an input


@dataclass(frozen=True)
class RankRequest:
    path: Path  # a published summary table: CSV or xlsx
    policy: Policy = field(default_factory=Policy)
    period_days: int | None = None  # default: the table's period_days column, else 365
    encoding: str | None = None
    allow_empty: bool = False  # a table without a row passes the gate (else it fails it)
    show_pii: bool = False  # ID numbers in names, and org_codes that are a person's, unmasked
