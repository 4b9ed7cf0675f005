"""The import rules of ARCHITECTURE.md, checked statically: every ``import`` in ``briefing/``,
at module level or inside a function, read with ``ast`` (nothing is imported to check it)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "briefing"
LANGCHAIN_OR_LLAMA = ("langchain", "langchain_core", "langchain_openai", "langchain_community", "llama_cpp")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and ast.unparse(node.test) in {"TYPE_CHECKING", "typing.TYPE_CHECKING"}:
            return True
    return False


def imports_of(path: Path, modules: set[str]) -> list[tuple[str, bool]]:
    """(imported module, whether only under TYPE_CHECKING) for every import in the file. ``from
    briefing import x`` counts as importing ``briefing.x`` when that is a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module for a in node.names]
        else:
            continue
        found += [(name, _type_checking_only(node, parents)) for name in names]
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, list[tuple[str, bool]]]:
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in files}
    return {module_name(p): imports_of(p, modules) for p in files}


def importers_of(graph, prefixes: tuple[str, ...]) -> set[str]:
    return {m for m, imported in graph.items() if any(name == p or name.startswith(p + ".") for name, _ in imported for p in prefixes)}


def project_imports(graph, module: str, runtime_only: bool = False) -> set[str]:
    return {name for name, typing_only in graph[module] if name.startswith("briefing") and not (runtime_only and typing_only)}


def reachable(graph, start: str) -> set[str]:
    seen, waiting = set(), [start]
    while waiting:
        for name in project_imports(graph, waiting.pop()):
            if name in graph and name not in seen:
                seen.add(name)
                waiting.append(name)
    return seen


def test_the_graph_is_read(graph):
    assert "briefing.pipeline" in graph and "briefing.store.chroma" in graph
    assert "briefing.models" in project_imports(graph, "briefing.pipeline")  # a rule over an empty graph passes nothing


def test_only_the_store_imports_chromadb(graph):
    assert importers_of(graph, ("chromadb",)) == {"briefing.store.chroma"}


def test_only_the_provider_module_imports_langchain_and_llama_cpp(graph):
    assert importers_of(graph, LANGCHAIN_OR_LLAMA) == {"briefing.llm"}


def test_models_import_no_project_module(graph):
    assert project_imports(graph, "briefing.models") == set()


def test_render_imports_only_models(graph):
    assert project_imports(graph, "briefing.output.render") == {"briefing.models"}


def test_the_provider_registry_imports_no_project_module_at_run_time(graph):
    assert project_imports(graph, "briefing.providers", runtime_only=True) == set()


def test_verify_never_reaches_the_store(graph):
    assert not {m for m in reachable(graph, "briefing.answer.verify") if m.startswith("briefing.store")}


def test_ingest_never_reaches_the_provider_module(graph):
    ingest_modules = [m for m in graph if m == "briefing.ingest" or m.startswith("briefing.ingest.")]
    assert len(ingest_modules) > 3
    for module in ingest_modules:
        assert "briefing.llm" not in reachable(graph, module), module


def test_ingest_writes_and_reads_the_store_only_through_its_interface(graph):
    """Ingest and pull use the ``Store`` facade: no ``.catalog``, ``.chroma``, ``.record`` or
    ``.side_files`` attribute of it, and no import of the store's inner modules."""
    inner = ("briefing.store.catalog", "briefing.store.chroma", "briefing.store.record", "briefing.store.side_files",
             "briefing.store.catalog_writes", "briefing.store.catalog_reads")
    for path in sorted((PACKAGE / "ingest").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        reached = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        assert not reached & {"catalog", "chroma", "record", "side_files"}, path.name
        module = module_name(path)
        assert not [name for name, typing_only in graph[module] if name in inner and not typing_only], path.name


def test_no_import_cycles(graph):
    """Runtime imports (those not only for type checkers) form no cycle."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for name in sorted(project_imports(graph, module, runtime_only=True)):
            if name not in graph:
                continue
            if state.get(name) == 1:
                cycles.append([*path[path.index(name):], name])
            elif name not in state:
                visit(name, [*path, name])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []
