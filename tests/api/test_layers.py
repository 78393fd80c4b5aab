"""The service's layers, read from the source with `ast`: routes, pages and jobs go through the
store; nothing imports a route or a page (but the app that mounts them); `monitor` never imports
the service or the tables; and no import cycle, including one hidden in an import inside a
function (which is how cycles used to be made to load)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "models", "monitor")
MOUNTS = {"api.main"}  # the one module that wires routes and pages into the app


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Module -> project modules it imports, anywhere in it (top level or inside a function)."""
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = _module(path)
            found: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    found.add(node.module)
                    found.update(f"{node.module}.{a.name}" for a in node.names)
                elif isinstance(node, ast.Import):
                    found.update(a.name for a in node.names)
            graph[name] = found
    modules = set(graph)
    return {m: {i for i in imported if i in modules and i != m} for m, imported in graph.items()}


def test_no_route_or_page_is_imported_but_by_the_app() -> None:
    offenders = sorted((m, i) for m, imported in _imports().items() for i in imported
                       if i.startswith(("api.routes.", "api.pages.")) and m not in MOUNTS
                       and not (m.startswith("api.pages.") and i.startswith("api.pages.")))
    assert not offenders, offenders


def test_the_analysis_core_knows_nothing_of_the_service() -> None:
    offenders = sorted((m, i) for m, imported in _imports().items() if m.startswith("monitor")
                       for i in imported if i.startswith(("api", "models")))
    assert not offenders, offenders


def test_the_store_is_below_routes_pages_and_jobs() -> None:
    offenders = sorted((m, i) for m, imported in _imports().items() if m.startswith("api.store")
                       for i in imported if i.startswith(("api.routes", "api.pages", "api.jobs")))
    assert not offenders, offenders


def test_no_import_cycle() -> None:
    graph = _imports()
    # Importing a package runs its __init__: a module depends on the packages above it too.
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module)
            assert cycle is None, " -> ".join(cycle)


def test_core_serves_everyone_and_depends_on_no_other_layer() -> None:
    """core/ (settings, service, keys, storage, problems, bodies, limits) is below the store, the
    routes, the pages and the jobs: if it imported any of them, a change there could reach every
    request through the middleware and the dependencies."""
    offenders = sorted((m, i) for m, imported in _imports().items() if m.startswith("api.core")
                       for i in imported if i.startswith("api.") and not i.startswith("api.core"))
    assert not offenders, offenders


# Route modules that still built their own queries when this check came (issue #14 moves them into
# the store, concurrently: take a module off the list once it calls the store only). The pages have
# none left.
QUERYING_ROUTES: set[str] = set()  # none left: every route reads and writes through api/store/


def _queries(path: Path) -> list[str]:
    """Where a module builds or runs a query itself: a call of `select(...)` (any spelling,
    `sqlmodel.select` too) or of any `.exec(...)`, with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else (
            node.func.attr if isinstance(node.func, ast.Attribute) else None)
        if name in ("select", "exec"):
            found.append(f"{name}() at line {node.lineno}")
    return found


def test_pages_and_routes_read_through_the_store() -> None:
    """Pages and routes never query tables themselves: what they read comes from api/store/,
    where ownership is enforced once (#14)."""
    querying = {}
    for folder in ("pages", "routes"):
        for path in (ROOT / "api" / folder).rglob("*.py"):
            found = _queries(path)
            if found:
                querying[_module(path)] = found
    assert set(querying) - QUERYING_ROUTES == set(), {m: q for m, q in querying.items() if m not in QUERYING_ROUTES}
    assert not any(m.startswith("api.pages") for m in QUERYING_ROUTES)


def test_the_query_check_sees_a_query() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "probe.py"
        probe.write_text("from sqlmodel import select\nrows = db.exec(select(T)).all()\nsqlmodel.select(T)\n")
        assert sorted(_queries(probe)) == ["exec() at line 2", "select() at line 2", "select() at line 3"]


_DATABASE_CALLS = {"select", "exec", "execute", "get", "add", "add_all", "delete", "scalar", "scalars", "query"}


def _database_calls(path: Path) -> list[str]:
    """`select(...)` anywhere, and `<session>.exec/execute/get/add/delete(...)` on a name that
    holds a database session (`db`, `session`): how a module reads or writes tables itself."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "select":
            found.append(f"{path.name}:{node.lineno} select(")
        elif (isinstance(func, ast.Attribute) and func.attr in _DATABASE_CALLS and isinstance(func.value, ast.Name)
              and func.value.id in ("db", "session")):
            found.append(f"{path.name}:{node.lineno} {func.value.id}.{func.attr}(")
    return found


def test_routes_reach_the_database_only_through_the_store() -> None:
    """Ownership is enforced once, in the store: a route that queried tables itself could read
    or write past it."""
    offenders = [call for path in sorted((ROOT / "api" / "routes").glob("*.py")) for call in _database_calls(path)]
    assert not offenders, offenders


def test_the_database_check_sees_a_query() -> None:
    """The check above must be able to fail: it finds the store's own queries."""
    assert _database_calls(ROOT / "api" / "store" / "sessions.py")
