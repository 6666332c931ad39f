"""The help's words: the top-level and group help with their examples, and readable metavars."""

from __future__ import annotations

from typing import Any

import typer

# Click rewraps every paragraph of the help but one that starts with a `\b` line: the examples.
TOP_HELP = """Audit uploads to a municipal health information platform: validate every row, measure
real-time compliance per institution, rank, flag and gate. The contract it checks is
docs/contract.md.

Exit codes: 0 passed, 1 failed (invalid rows, or the gate), 2 could not run.

Examples:

\b
  nj-audit validate uploads/ --format github --output failures.csv
  nj-audit audit uploads/ -o audit.json -o audit.xml -o summary.md
  nj-audit rank samples/hospitals_2022.csv --sort outpatient_rate
  nj-audit schemas show outpatient_visit
"""

SCHEMAS_HELP = """Read the upload contract (docs/contract.md § 3): forms, columns, labels and rules.

The rules are the schema files' own (schemas/*.yaml), as the audit applies them.

Examples:

\b
  nj-audit schemas list
  nj-audit schemas show inpatient_discharge
"""

SAMPLES_HELP = """Make realistic sample batches.

All 14 forms and a registry, calibrated on the published 2022 Nanjing table; the same seed gives
the same batch.

Examples:

\b
  nj-audit samples generate /tmp/batch
  nj-audit samples generate /tmp/year --period 2022 --rows 200000 --seed 7
"""

HISTORY_HELP = """The audit history: every audit and rank run kept in one SQLite file (--history).

Runs are compared only with runs made on the same schemas and policy (docs/history.md).

Examples:

\b
  nj-audit audit uploads/ --history audits.sqlite --label nightly
  nj-audit history trend --history audits.sqlite --metric pass_rate
  nj-audit history compare latest~1 latest --history audits.sqlite
"""


# Click's plain help, not typer's rich panels: rendering those imports rich's console, markdown
# and traceback modules, which made `--help` cost 2.8x the typer and rich import (issue 14).
HELP_STYLE = {"rich_markup_mode": None, "no_args_is_help": True}


def command_group(help: str) -> typer.Typer:
    """A group of commands (`schemas`, `samples`, `history`, `state`) with the help style."""
    return typer.Typer(help=help, **HELP_STYLE)  # type: ignore[arg-type]


def readable_help() -> None:
    """Typer (0.2x) writes a list argument as `{PATH}... <list[Path]>` and a flag as `--quiet
    <bool>`: an argument with a metavar is shown as its metavar alone (`PATH...`), a flag without
    a type. Older Typers, which lack these methods, print them readably already."""
    from typer.core import TyperArgument, TyperOption

    if not hasattr(TyperArgument, "_usage_display_name"):
        return
    if getattr(TyperArgument, "_nj_audit_readable", False):
        return
    argument_type = TyperArgument.display_type_rich
    option_type = TyperOption.display_type_rich
    argument_usage = TyperArgument._usage_display_name

    def usage(self: TyperArgument) -> str:
        if self.metavar is None:
            return argument_usage(self)
        return self.metavar if self.required else f"[{self.metavar}]"

    def argument(self: TyperArgument, ctx: Any) -> str | None:
        return None if self.metavar is not None else argument_type(self, ctx)

    def option(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag and self.metavar is None else option_type(self, ctx)

    TyperArgument._usage_display_name = usage  # type: ignore[method-assign]
    TyperArgument.display_type_rich = argument  # type: ignore[method-assign, assignment]
    TyperOption.display_type_rich = option  # type: ignore[method-assign]
    TyperArgument._nj_audit_readable = True  # type: ignore[attr-defined]
