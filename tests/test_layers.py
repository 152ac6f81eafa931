"""Imports run one way: interfaces and the scheduler -> checks -> spiders, monitor, storage;
monitor -> storage; storage -> nothing above it; the product never loads sandbox/ at import time.

Read from the source with ``ast`` (every import statement, at module level or inside a function),
so a violation fails here before it tangles the house.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import ROOT

PRODUCT = ["spiders", "monitor", "storage", "checks", "cli", "web", "scheduler.py"]
# package -> top-level packages it must never import, anywhere in it
FORBIDDEN = {
    "spiders": {"monitor", "checks", "cli", "web", "scheduler"},
    "monitor": {"spiders", "checks", "cli", "web", "scheduler"},
    "storage": {"spiders", "monitor", "checks", "cli", "web", "scheduler", "sandbox"},
    "checks": {"cli", "web", "scheduler"},
    "web": {"cli", "spiders"},
}


@dataclass(frozen=True)
class Import:
    path: str
    line: int
    module: str  # the imported module's full dotted name
    top_level: bool  # at import time (module body, not a function, not under TYPE_CHECKING)


def _imports(tree: ast.Module, path: str) -> list[Import]:
    found: list[Import] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) or (
                isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test)
            ):
                visit(child, False)
            elif isinstance(child, ast.Import):
                found.extend(Import(path, child.lineno, a.name, top) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.append(Import(path, child.lineno, child.module, top))
            else:
                visit(child, top)

    visit(tree, True)
    return found


ROUTER_FACTORIES = {"signed_in_router", "public_router", "APIRouter"}
HTTP_VERBS = {"get", "post", "put", "patch", "delete", "api_route", "route"}


def _called(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def web_violations(source: str, path: str) -> list[str]:
    """The web app's structure: routers are made only in ``web/routes/`` (``web/deps.py`` holds
    the factories); no route is declared on the app itself; a module with a signed-in router
    opens no unscoped session (``session_scope`` without a program, or ``Session(...)``)."""
    if not path.startswith("web/"):
        return []
    tree = ast.parse(source)
    problems = []
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    in_routes = path.startswith("web/routes/")
    for call in calls:
        name = _called(call)
        if name in ROUTER_FACTORIES and not in_routes and path != "web/deps.py":
            problems.append(f"{path}:{call.lineno}: a router outside web/routes/ ({name})")
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for deco in node.decorator_list:
                target = deco.func if isinstance(deco, ast.Call) else deco
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr in HTTP_VERBS
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "app"
                ):
                    problems.append(f"{path}:{node.lineno}: a route on the app, not a router")
    if any(_called(c) == "signed_in_router" for c in calls):
        for call in calls:
            name = _called(call)
            if (name == "session_scope" and len(call.args) + len(call.keywords) < 2) or (
                name == "Session"
            ):
                problems.append(f"{path}:{call.lineno}: an unscoped session in a signed-in router")
    return problems


def violations(source: str, path: str) -> list[str]:
    """What in one file breaks the layering (``path`` relative to the repository)."""
    layer = path.split("/", 1)[0].removesuffix(".py")
    problems = web_violations(source, path)
    for imp in _imports(ast.parse(source), path):
        top = imp.module.split(".", 1)[0]
        if top in FORBIDDEN.get(layer, set()):
            problems.append(f"{path}:{imp.line}: {layer} imports {imp.module}")
        if top == "sandbox" and imp.top_level:
            problems.append(f"{path}:{imp.line}: imports {imp.module} when it is loaded")
    return problems


def _product_files() -> list[Path]:
    files: list[Path] = []
    for name in PRODUCT:
        target = ROOT / name
        files += [target] if target.is_file() else sorted(target.rglob("*.py"))
    return files


def test_imports_run_one_way() -> None:
    files = _product_files()
    assert len(files) > 40  # the whole product is read, not an empty glob
    problems = [p for f in files for p in violations(f.read_text(), f.relative_to(ROOT).as_posix())]
    assert problems == []


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        ("spiders/x.py", "def f():\n    from monitor.route import emit\n", "spiders imports"),
        ("monitor/x.py", "import spiders.acis\n", "monitor imports spiders.acis"),
        ("monitor/x.py", "from checks.run import crawl_run\n", "monitor imports checks.run"),
        ("storage/x.py", "from monitor.events import KINDS\n", "storage imports monitor"),
        ("storage/x.py", "def f():\n    import cli\n", "storage imports cli"),
        ("checks/x.py", "from cli.common import out\n", "checks imports cli.common"),
        ("cli/x.py", "from sandbox.acis import AcisSandbox\n", "when it is loaded"),
        ("scheduler.py", "import sandbox.mail\n", "when it is loaded"),
        ("web/app.py", "r = signed_in_router('x')\n", "a router outside web/routes/"),
        ("web/app.py", "@app.get('/x')\ndef x(): pass\n", "a route on the app"),
        (
            "web/routes/x.py",
            "r = signed_in_router('x')\ndef f(w):\n    with session_scope(w.engine) as s: pass\n",
            "an unscoped session in a signed-in router",
        ),
    ],
)
def test_the_check_catches_each_kind_of_violation(path: str, source: str, expected: str) -> None:
    found = violations(source, path)
    assert found and expected in found[0]


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("cli/x.py", "def demo():\n    from sandbox.acis import AcisSandbox\n"),
        ("cli/x.py", "if TYPE_CHECKING:\n    from sandbox.acis import AcisSandbox\n"),
        ("checks/x.py", "from spiders.acis import SOURCE\nfrom monitor.acis import detect\n"),
        ("spiders/x.py", "from storage.errors import SourceError\n"),
        ("web/routes/x.py", "r = public_router('x')\ndef f(w):\n    session_scope(w.engine)\n"),
        ("web/routes/x.py", "r = signed_in_router('x')\ndef f(w, u):\n    session_scope(w, u)\n"),
    ],
)
def test_what_the_layering_allows(path: str, source: str) -> None:
    assert violations(source, path) == []


def test_tests_share_helpers_only_through_tests_support() -> None:
    """No test module imports ``conftest`` or another test module: shared helpers live in
    ``tests/support/``."""
    files = sorted((ROOT / "tests").rglob("*.py"))
    assert len(files) > 40
    problems = []
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        for imp in _imports(ast.parse(path.read_text()), rel):
            last = imp.module.rsplit(".", 1)[-1]
            if imp.module.startswith("tests.") and (last == "conftest" or last.startswith("test_")):
                problems.append(f"{rel}:{imp.line}: imports {imp.module}")
    assert problems == []


def import_graph(files: list[Path]) -> dict[str, set[str]]:
    """Product module -> the product modules it imports (anywhere in it, functions too)."""

    def name(path: Path) -> str:
        return (
            path.relative_to(ROOT)
            .with_suffix("")
            .as_posix()
            .replace("/", ".")
            .removesuffix(".__init__")
        )

    modules = {name(f): f for f in files}
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                candidates = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                candidates = [a.name for a in node.names]
            else:
                continue
            found |= {c for c in candidates if c in modules and c != module}
        graph[module] = found
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_in_the_product() -> None:
    graph = import_graph(_product_files())
    assert "monitor.dispatch" in graph and "monitor.outbox" in graph["monitor.dispatch"]
    assert cycles(graph) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
