"""Are the parts of ``src/diemcau`` joined by direct imports, with no cycle and no sibling found by name?

The import graph holds every ``import diemcau...`` / ``from diemcau... import ...`` in a module, at module level
*and* inside functions (a function-level import is a cycle deferred, not one broken), ``if TYPE_CHECKING`` blocks
included. An edge goes to the deepest module the name resolves to (``from diemcau.jobs import ingest`` is an edge
to ``diemcau.jobs.ingest``); a package's ``__init__`` is a node of its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

import diemcau

SRC = Path(diemcau.__file__).resolve().parent


def module_files() -> dict[str, Path]:
    """Every module of the package: dotted name → file."""
    found = {}
    for path in SRC.rglob("*.py"):
        parts = ["diemcau", *path.relative_to(SRC).with_suffix("").parts]
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module → the diemcau modules it imports (anywhere in its body)."""

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str | None] = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("diemcau"):
                targets |= {resolve(f"{node.module}.{alias.name}") for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level > 0:
                package = name if path.name == "__init__.py" else name.rpartition(".")[0]
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
                targets |= {resolve(f"{base}.{alias.name}") for alias in node.names}
            elif isinstance(node, ast.Import):
                targets |= {resolve(alias.name) for alias in node.names if alias.name.startswith("diemcau")}
        graph[name] = {target for target in targets if target is not None and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_does_the_cycle_finder_see_a_cycle_through_a_function_level_import(tmp_path: Path) -> None:
    """A guard that cannot fail guards nothing: two modules importing each other, one inside a function."""
    (tmp_path / "a.py").write_text("from diemcau.b import f\n", "utf-8")
    (tmp_path / "b.py").write_text("def f():\n    from diemcau import a\n", "utf-8")
    (tmp_path / "c.py").write_text("import diemcau.a\n", "utf-8")
    modules = {f"diemcau.{name}": tmp_path / f"{name}.py" for name in "abc"}
    assert cycles(import_graph(modules)) == [["diemcau.a", "diemcau.b"]]


def test_is_the_import_graph_of_src_free_of_cycles() -> None:
    """No two diemcau modules import each other, directly or around a loop, at any level of their code."""
    graph = import_graph(module_files())
    assert len(graph) > 100 and graph["diemcau.jobs.ingest"]  # the walk really read the package
    assert cycles(graph) == []


def test_does_no_module_find_a_sibling_by_name() -> None:
    """``importlib.import_module`` / ``getattr`` by module name is not a join: only the task registry (which a
    worker must load whole) and the supervisor (which starts apps by name) import by name."""
    allowed = {"diemcau.jobs.registry", "diemcau.apps.supervise"}
    by_name = sorted(
        name
        for name, path in module_files().items()
        if "import_module(" in path.read_text("utf-8") and name not in allowed
    )
    assert by_name == []


def sqlalchemy_names(path: Path) -> set[str]:
    """What a module takes from SQLAlchemy: ``sqlalchemy.orm.Session``, ``sqlalchemy.select``..."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names if alias.name.split(".")[0] == "sqlalchemy"}
    return names


def test_does_no_app_write_a_database_query() -> None:
    """Queries live in ``adapters``: a module of ``apps/`` may name a session factory's types, and nothing else
    of SQLAlchemy (no ``select``, no ``func``, no ORM loader options)."""
    types = {"sqlalchemy.orm.Session", "sqlalchemy.orm.sessionmaker"}
    apps = {name: path for name, path in module_files().items() if name.startswith("diemcau.apps.")}
    assert "diemcau.apps.api.app" in apps
    assert {name: sorted(used) for name, path in apps.items() if (used := sqlalchemy_names(path) - types)} == {}
