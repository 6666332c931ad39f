"""The command line's root group: how a usage error is told."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

from ..errors import ExitCode


class RootCommand(TyperGroup):
    """The command line's root. A usage error (an unknown option, a value not among the choices,
    a missing argument) is one line on stderr like every other error, exit 2, instead of
    click's usage block and panel; the line says where the help is."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        here = (args, prog_name, complete_var, False, windows_expand_args)
        if not standalone_mode:
            return super().main(*here, **extra)
        try:
            code = super().main(*here, **extra)
        except typer.Abort:
            sys.exit(int(ExitCode.FAILED))
        except typer.TyperException as error:  # click's exceptions (typer vendors click)
            # no command given: its help, on stdout as `--help` prints it (typer tells the
            # error by name too)
            if type(error).__name__ == "NoArgsIsHelpError":
                typer.echo(error.format_message())
            else:
                _usage_error(error)
            sys.exit(getattr(error, "exit_code", int(ExitCode.ERROR)))
        sys.exit(code if isinstance(code, int) else 0)


def _usage_error(error: typer.TyperException) -> None:
    from ..render.console import print_error

    context = getattr(error, "ctx", None)
    message = error.format_message() if hasattr(error, "format_message") else str(error)
    where = f"{context.command_path}: " if context is not None else ""
    hint = f" (see {context.command_path} --help)" if context is not None else ""
    print_error(f"{where}{message}{hint}")
