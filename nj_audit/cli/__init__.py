"""The `nj-audit` command line. This module only registers the commands; each lives in a module of
its own (`audit`, `validate`, `rank`, `schemas`, `samples`, `state`, `history`, `history_compare`)
over one library call, and `app` holds the wiring they share."""

from .app import app, samples_app, schemas_app
from .audit import audit_command
from .history import (
    history_accept,
    history_app,
    history_import,
    history_list,
    history_prune,
    history_show,
)
from .history_compare import history_compare, history_trend
from .rank import rank_command
from .samples import samples_generate
from .schemas import schemas_list, schemas_show
from .state import state_add, state_app, state_compact, state_info
from .validate import validate_command

app.command("validate")(validate_command)
app.command("audit")(audit_command)
app.command("rank")(rank_command)
schemas_app.command("list")(schemas_list)
schemas_app.command("show")(schemas_show)
samples_app.command("generate")(samples_generate)
app.add_typer(schemas_app, name="schemas")
state_app.command("add")(state_add)
state_app.command("compact")(state_compact)
state_app.command("info")(state_info)
app.add_typer(samples_app, name="samples")
history_app.command("list")(history_list)
history_app.command("show")(history_show)
history_app.command("trend")(history_trend)
history_app.command("compare")(history_compare)
history_app.command("accept")(history_accept)
history_app.command("prune")(history_prune)
history_app.command("import")(history_import)
app.add_typer(history_app, name="history")
app.add_typer(state_app, name="state")

__all__ = ["app"]
