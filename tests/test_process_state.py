"""Does any module of ``src/diemcau`` keep per-process state of its own, outside the objects that own it?

Caches, registries, loaders and writers belong to one owner that an app builds and closes: the API's
``ApiRuntime`` (``apps/api/plumbing/runtime.py``, in ``ApiContext``). A module global has no lifetime and no
invalidation, and every app and database of the process shares it. This scan reads every module and fails on:

* a module-level assignment of a mutable container (a dict, list or set literal or comprehension, ``dict()``,
  ``defaultdict()``, ``OrderedDict()``, ``deque()``, the ``weakref`` mappings...), of a lock, event, queue,
  thread-local or context variable, or of a cache, loader, writer or registry object;
* a ``functools.lru_cache`` / ``cache`` decorator on a function;
* a ``global`` statement (a function rebinding module state).

Constant tables pass: an ALL_CAPS name (or ``__all__``) bound to a literal that no module of the package ever
writes to (item assignment or ``del``, or ``append``/``update``/``pop``/... on it). Everything else is in
``ALLOWED`` with the reason it may stay.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import diemcau

SRC = Path(diemcau.__file__).resolve().parent

# "path/of/module.py:name" → why it may stay.
ALLOWED = {
    "core/search_text.py:fold_token": "pure memoisation of a pure function of its argument (a word)",
    "core/search_text.py:_clean": "pure memoisation of a pure function of its argument (a text)",
    "adapters/nbgrader/evaluate.py:answer_literal": "pure memoisation of a pure function of a cell's source",
    "adapters/nbgrader/evaluate.py:check_call": "pure memoisation of a pure function of a cell's source",
    "i18n/__init__.py:load_catalogue": "the catalogues ship with the package: a pure function of the language",
    "apps/api/pages/assets.py:_read": "a file's bytes keyed by its path and modification time (a changed file is a new "
    "key), at most 16: the same whoever asks",
    "adapters/whisper_model.py:_load": "the loaded Whisper model (hundreds of MB) keyed by every input that "
    "shapes it, at most two: loaded once per process by design",
    "adapters/transcript_store.py:_registry_guard": "the transcript writer lock: one flock per folder and process "
    "(two handles of one process on one file would exclude each other), so process-wide by nature",
    "adapters/transcript_store.py:_thread_locks": "the transcript writer lock (see _registry_guard)",
    "adapters/transcript_store.py:_depth": "the transcript writer lock (see _registry_guard)",
    "adapters/transcript_store.py:_handles": "the transcript writer lock (see _registry_guard)",
    "jobs/context.py:_slot": "the worker's one WorkerContext: huey calls tasks with their queued arguments only, "
    "so a worker process needs exactly one slot to find its context (docs/architecture.md, Jobs)",
    "jobs/context.py:_slot_lock": "guards that slot (see _slot)",
}

CONTAINERS = frozenset("dict list set defaultdict OrderedDict deque Counter ChainMap".split())
SHARED_OBJECTS = frozenset(
    "WeakKeyDictionary WeakValueDictionary WeakSet Lock RLock Semaphore BoundedSemaphore Event Condition local Queue "
    "SimpleQueue LifoQueue PriorityQueue ContextVar".split()
)
STATEFUL_CLASS = re.compile(r"(Cache|Loader|Writer|Registry|Pool)$")
MEMOISERS = frozenset({"lru_cache", "cache"})
MUTATORS = frozenset("append extend insert update setdefault pop popitem clear add discard remove sort reverse".split())
CONSTANT_NAME = re.compile(r"^_?[A-Z][A-Z0-9_]*$|^__all__$")
LITERALS = (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)


def _called(node: ast.expr) -> str | None:
    """The last name of what a call calls (``threading.Lock()`` → ``Lock``), or ``None`` if not a call."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _decorator_name(node: ast.expr) -> str | None:
    target = node.func if isinstance(node, ast.Call) else node
    return target.id if isinstance(target, ast.Name) else target.attr if isinstance(target, ast.Attribute) else None


def _named(node: ast.expr) -> str | None:
    """The name an expression refers to: ``X`` or ``module.X``."""
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def written_names(trees: list[ast.Module]) -> set[str]:
    """Every name some module writes into: ``X[k] = ...``, ``del X[k]``, ``X.append(...)``, ``X += ...``."""
    written: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store | ast.Del):
                written.add(_named(node.value) or "")
            elif isinstance(node, ast.AugAssign):
                written.add(_named(node.target) or "")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
                written.add(_named(node.func.value) or "")
    return written


def _module_assignments(tree: ast.Module) -> list[tuple[str, ast.expr, int]]:
    """(name, value, line) of each module-level assignment to a plain name (also under ``if``/``try``)."""
    found = []
    body = list(tree.body)
    while body:
        node = body.pop(0)
        if isinstance(node, ast.If | ast.Try):
            body.extend(node.body + node.orelse + getattr(node, "finalbody", []))
            body.extend(stmt for handler in getattr(node, "handlers", []) for stmt in handler.body)
        elif isinstance(node, ast.Assign):
            found += [(t.id, node.value, node.lineno) for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and node.value is not None and isinstance(node.target, ast.Name):
            found.append((node.target.id, node.value, node.lineno))
    return found


def findings(files: dict[str, Path]) -> dict[str, str]:
    """``"path:name"`` → what it is, for every piece of module-level state in ``files`` (relative path → file)."""
    trees = {rel: ast.parse(path.read_text("utf-8"), str(path)) for rel, path in files.items()}
    written = written_names(list(trees.values()))
    found: dict[str, str] = {}
    for rel, tree in trees.items():
        for name, value, line in _module_assignments(tree):
            called = _called(value)
            if called in SHARED_OBJECTS or (called and STATEFUL_CLASS.search(called)):
                found[f"{rel}:{name}"] = f"line {line}: {called}()"
            elif isinstance(value, LITERALS) or called in CONTAINERS:
                if not CONSTANT_NAME.match(name):
                    found[f"{rel}:{name}"] = f"line {line}: a mutable container"
                elif name in written:
                    found[f"{rel}:{name}"] = f"line {line}: a constant table that some module writes to"
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for decorator in node.decorator_list:
                    if _decorator_name(decorator) in MEMOISERS:
                        found[f"{rel}:{node.name}"] = f"line {node.lineno}: @{_decorator_name(decorator)}"
            elif isinstance(node, ast.Global):
                for name in node.names:
                    found.setdefault(f"{rel}:{name}", f"line {node.lineno}: rebound by a `global` statement")
    return found


def package_files() -> dict[str, Path]:
    return {path.relative_to(SRC).as_posix(): path for path in sorted(SRC.rglob("*.py"))}


def test_does_the_scan_see_each_kind_of_module_state(tmp_path: Path) -> None:
    """A guard that cannot fail guards nothing: a registry, a lock, a cache object, a memoised function, a
    rebound global and a constant table written to are found; a constant table and a frozenset are not."""
    (tmp_path / "state.py").write_text(
        "import functools, threading, weakref\n"
        "from diemcau.apps.api.plumbing.caches import TtlCache\n"
        "_BY_KEY = weakref.WeakKeyDictionary()\n"
        "_lock = threading.Lock()\n"
        "seen: dict[str, int] = {}\n"
        "_cache = TtlCache(60, 10)\n"
        "TABLE = {'a': 1}\n"
        "GROWS = []\n"
        "NAMES = frozenset({'a'})\n"
        "COUNT = 0\n"
        "def grow():\n    GROWS.append(1)\n"
        "def bump():\n    global COUNT\n    COUNT += 1\n"
        "@functools.lru_cache(maxsize=8)\ndef memo(x):\n    return x\n",
        "utf-8",
    )
    found = findings({"state.py": tmp_path / "state.py"})
    expected = ("_BY_KEY", "_lock", "seen", "_cache", "GROWS", "COUNT", "memo")
    assert set(found) == {f"state.py:{name}" for name in expected}


def test_is_per_process_state_owned_by_a_context_not_a_module() -> None:
    """Every piece of module-level state in src/diemcau is in ALLOWED with its reason (the API's lives in its
    ``ApiRuntime``): anything new goes to the context that owns it instead."""
    found = findings(package_files())
    assert len(package_files()) > 100  # the scan really read the package
    unowned = {key: what for key, what in found.items() if key not in ALLOWED}
    assert unowned == {}, "module-level state: move it into its owner (ApiRuntime...), see docs/architecture.md"


def test_does_every_allowance_still_name_module_state_and_say_why() -> None:
    """An allowance whose state is gone is removed with it, and each one gives its reason."""
    found = findings(package_files())
    assert sorted(key for key in ALLOWED if key not in found) == []
    assert all(reason.strip() for reason in ALLOWED.values())


def test_does_the_api_keep_no_state_outside_its_runtime() -> None:
    """The API's own modules need no allowance but the asset reader's pure memoisation."""
    api = {key for key in ALLOWED if key.startswith("apps/api/")}
    assert api == {"apps/api/pages/assets.py:_read"}
