"""The layout's rules (docs/architecture.md), checked from the source: no import cycle, lazy
imports included; modules of a readable size; every code the tool reports is in the catalogue."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nj_audit.catalogue import CHECKS, FLAGS, UNREADABLE, flag_code
from nj_audit.cli import app
from nj_audit.forms import FORM_IDS
from nj_audit.schemas import load_schema, load_schema_file, schema_dir

from builders import CLI_ENV, FIXTURES

PACKAGE = Path(__file__).resolve().parent.parent / "nj_audit"
SAMPLES = Path(__file__).resolve().parent.parent / "samples"
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of `tree` but those under `if TYPE_CHECKING:`."""
    nodes: list[ast.AST] = []
    pending = [tree]
    while pending:
        node = pending.pop()
        nodes.append(node)
        if isinstance(node, ast.If) and ast.unparse(node.test) in (
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
        ):
            pending.extend(node.orelse)
            continue
        pending.extend(ast.iter_child_nodes(node))
    return nodes


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports anywhere in its body (inside functions too;
    not under `if TYPE_CHECKING:`, which never runs). An import of a package's submodule counts as
    an import of that submodule, not of its package."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base_parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(base_parts + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                targets = [f"{base}.{alias.name}" for alias in node.names]
                if not any(t in files for t in targets):
                    targets.append(base)
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            graph[name] |= {t for t in targets if t in files and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for other in sorted(graph[node]):
            if state.get(other) == 1:
                found.append([*stack[stack.index(other) :], other])
            elif other not in state:
                visit(other)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_the_package_has_no_import_cycle() -> None:
    graph = import_graph()
    assert graph["nj_audit.cli.audit"] >= {"nj_audit.audit"}  # lazy imports are seen
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c", "a"]]


def test_no_module_is_longer_than_it_should_be() -> None:
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        return [node.module or ""]
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return []


def test_only_the_rendering_modules_import_rich() -> None:
    importers = {
        _module_name(path)
        for path in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if any(name.split(".")[0] == "rich" for name in _imported(node))
    }
    assert importers == {
        "nj_audit.render.terminal",
        "nj_audit.render.console",
        "nj_audit.render.history_terminal",
    }


def test_the_reader_knows_nothing_of_schemas_or_checks() -> None:
    graph = import_graph()
    reading = {name for name in graph if name.startswith("nj_audit.reading")}
    reached = set().union(*(graph[name] for name in reading)) - reading
    assert not {m for m in reached if m.startswith(("nj_audit.schemas", "nj_audit.checks"))}


# -- the catalogue --------------------------------------------------------------------------------


def test_every_check_a_schema_names_is_in_the_catalogue() -> None:
    schemas = [load_schema(form).schema for form in FORM_IDS]
    schemas += [load_schema_file(p).schema for p in sorted(schema_dir().glob("*.yaml"))]
    named = {
        check.name
        for schema in schemas
        for check in [*schema.checks, *(c for col in schema.columns.values() for c in col.checks)]
    }
    assert named - set(CHECKS) == set()


def _emitted(args: list[str]) -> tuple[set[str], set[str], set[str]]:
    """The check, flag and unreadable-reason codes of an `audit --format json` run."""
    result = CliRunner(env=CLI_ENV).invoke(app, ["audit", *args, "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    document = json.loads(result.stdout)
    checks = {c["check"] for c in document["checks"]}
    flags = {flag_code(f["flag"]) for i in document["institutions"] for f in i["flags"]}
    return checks, flags, {u["reason"] for u in document["unreadable"]}


@pytest.mark.parametrize(
    "args",
    [
        [str(SAMPLES / "batch"), "--registry", str(SAMPLES / "registry.csv")],
        [str(FIXTURES / "damaged")],
        [
            str(FIXTURES / "hostile"),
            "--registry",
            str(FIXTURES / "hostile" / "registry_markup.csv"),
        ],
    ],
    ids=["sample batch", "damaged rows", "hostile corpus"],
)
def test_every_code_an_audit_emits_is_in_the_catalogue(args: list[str]) -> None:
    checks, flags, reasons = _emitted(args)
    assert checks and flags
    assert checks - set(CHECKS) == set()
    assert flags - set(FLAGS) == set()
    assert reasons - set(UNREADABLE) == set()


def test_the_hostile_corpus_emits_the_new_codes() -> None:
    checks, flags, reasons = _emitted(
        [str(FIXTURES / "hostile"), "--registry", str(FIXTURES / "hostile" / "registry_markup.csv")]
    )
    assert {"byte_order_mark"} <= checks and {"unreadable_file"} <= flags
    assert {"undecodable", "mixed_encoding", "cr_line_ends", "no_known_column"} <= reasons


def test_regression_flags_are_in_the_catalogue(tmp_path: Path) -> None:
    """A saved audit with twice the rows, imported as the previous run: rows_uploaded regresses."""
    batch = [str(SAMPLES / "batch"), "--registry", str(SAMPLES / "registry.csv")]
    runner = CliRunner(env=CLI_ENV)
    document = json.loads(runner.invoke(app, ["audit", *batch, "--format", "json"]).stdout)
    for inst in document["institutions"]:
        inst["rows_uploaded"] *= 2
    saved = tmp_path / "before.json"
    saved.write_text(json.dumps(document), encoding="utf-8")
    policy = tmp_path / "policy.toml"
    policy.write_text("[regressions.rows_uploaded]\nmax_relative_drop = 0.4\n", encoding="utf-8")
    history = ["--history", str(tmp_path / "h.sqlite")]
    imported = runner.invoke(
        app, ["history", "import", str(saved), "--as", "audit", "--policy", str(policy), *history]
    )
    assert imported.exit_code == 0, imported.output
    _, flags, _ = _emitted([*batch, "--policy", str(policy), *history])
    assert "regression:*" in flags
    assert flags - set(FLAGS) == set()
    assert flag_code("regression:rate:lab_report") == "regression:*"
    assert flag_code("coverage") == "coverage"


def test_every_flag_rank_emits_is_in_the_catalogue() -> None:
    result = CliRunner(env=CLI_ENV).invoke(
        app, ["rank", str(SAMPLES / "hospitals_2022.csv"), "--format", "json"]
    )
    flags = {f["flag"] for i in json.loads(result.stdout)["institutions"] for f in i["flags"]}
    assert flags and flags - set(FLAGS) == set()
