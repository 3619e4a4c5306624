"""server/ has no import cycles (architecture issue, item 3).

The import graph of server/ is read with `ast` (nothing is imported to build it). An edge A → B
means module A imports server module B, and is one of three kinds:

- "module": runs when A is imported (at module level, also inside a module-level if/try);
- "function": inside a function or method: runs when it is called;
- "type-checking": under `if TYPE_CHECKING:`: never runs, but says A depends on B.

Module-level imports must form no cycle. Neither may all three kinds together: an import moved
into a function or under TYPE_CHECKING to dodge a cycle still leaves the two modules knotted.
Function-level imports are fine for what they are for (a command's heavy dependencies loaded
only when it runs), as long as they close no cycle; DEFERRED_CYCLES_ALLOWED is the explicit,
justified list of exceptions and is empty.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# (importer, imported) edges that may close a cycle through a deferred import, each with why.
DEFERRED_CYCLES_ALLOWED: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: str  # "module" | "function" | "type-checking"
    line: int


def modules(root: Path, package: str = "server") -> dict[str, tuple[Path, bool]]:
    """Dotted module name → (file, is a package's __init__) for every .py under root/package."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        found[".".join(parts)] = (path, is_package)
    return found


def _targets(module: str, is_package: bool, node: ast.ImportFrom, known: dict) -> list[str]:
    """The server modules a `from … import …` loads: `from pkg import sub` loads the submodule
    pkg.sub when there is one, else the name comes from pkg's __init__ (a re-export)."""
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        origin = ".".join(base + ([node.module] if node.module else []))
    else:
        origin = node.module or ""
    targets = []
    for alias in node.names:
        submodule = f"{origin}.{alias.name}"
        if submodule in known:
            targets.append(submodule)
        elif origin in known:
            targets.append(origin)
    return targets


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def import_edges(root: Path = ROOT, package: str = "server") -> list[Edge]:
    known = modules(root, package)
    edges: list[Edge] = []
    for module, (path, is_package) in known.items():
        def visit(node: ast.AST, kind: str) -> None:
            for child in ast.iter_child_nodes(node):
                child_kind = kind
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and kind == "module":
                    child_kind = "function"
                elif isinstance(child, ast.If) and _is_type_checking(child) and kind == "module":
                    # the if's body only: its else branch runs
                    for statement in child.body:
                        visit(ast.Module(body=[statement], type_ignores=[]), "type-checking")
                    for statement in child.orelse:
                        visit(ast.Module(body=[statement], type_ignores=[]), kind)
                    continue
                if isinstance(child, ast.Import):
                    edges.extend(Edge(module, alias.name, kind, child.lineno)
                                 for alias in child.names if alias.name in known)
                elif isinstance(child, ast.ImportFrom):
                    edges.extend(Edge(module, target, kind, child.lineno)
                                 for target in _targets(module, is_package, child, known))
                visit(child, child_kind)

        visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), "module")
    return edges


def cycles(edges: list[Edge]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        if edge.source != edge.target:
            graph.setdefault(edge.source, set()).add(edge.target)
            graph.setdefault(edge.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:  # recursion depth is at most the number of modules
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(found)


def _describe(found: list[list[str]], edges: list[Edge]) -> str:
    lines = []
    for component in found:
        members = set(component)
        lines.append(" ↔ ".join(component))
        lines.extend(sorted({f"    {e.source} → {e.target} ({e.kind}, line {e.line})" for e in edges
                             if e.source in members and e.target in members and e.source != e.target}))
    return "\n".join(lines)


def test_no_cycle_among_module_level_imports():
    edges = [e for e in import_edges() if e.kind == "module"]
    assert len(edges) > 100  # the graph was read (server/ has a few hundred such imports)
    found = cycles(edges)
    assert not found, "import cycles in server/:\n" + _describe(found, edges)


def test_no_import_dodges_a_cycle_by_being_deferred():
    edges = [e for e in import_edges() if (e.source, e.target) not in DEFERRED_CYCLES_ALLOWED]
    assert any(e.kind == "function" for e in edges)
    found = cycles(edges)
    assert not found, ("imports inside functions or under TYPE_CHECKING close these cycles "
                       "(move the shared piece to a module both can import):\n" + _describe(found, edges))


def test_one_templates_object_for_the_web_pages():
    makers = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "server").rglob("*.py")
                    if "Jinja2Templates(" in path.read_text(encoding="utf-8"))
    assert makers == ["server/web.py"]
    from server.web import templates

    # the app's pages and the /print page come from the one loader
    for name in ("base.html", "conflicts.html", "hq.html", "error.html", "print_index.html"):
        assert templates.env.get_template(name).name == name


# ---- the checker itself: it finds what it must (a synthetic package in tmp_path)

def _package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_checker_resolves_relative_imports_submodules_and_reexports(tmp_path):
    _package(tmp_path, {
        "__init__.py": "from .a import thing\n",
        "a.py": "from . import b\nfrom .sub import helper\nthing = 1\n",
        "b.py": "import pkg.sub.deep\nfrom pkg import thing\n",
        "sub/__init__.py": "from .deep import helper\n",
        "sub/deep.py": "from .. import b\nhelper = 2\n",
    })
    got = {(e.source, e.target, e.kind) for e in import_edges(tmp_path, "pkg")}
    assert got == {
        ("pkg", "pkg.a", "module"),
        ("pkg.a", "pkg.b", "module"),            # `from . import b`: the submodule
        ("pkg.a", "pkg.sub", "module"),          # `from .sub import helper`: the package's re-export
        ("pkg.b", "pkg.sub.deep", "module"),
        ("pkg.b", "pkg", "module"),              # `from pkg import thing`: pkg/__init__.py
        ("pkg.sub", "pkg.sub.deep", "module"),
        ("pkg.sub.deep", "pkg.b", "module"),     # `from .. import b`
    }
    assert cycles(list(import_edges(tmp_path, "pkg"))) == [["pkg", "pkg.a", "pkg.b", "pkg.sub", "pkg.sub.deep"]]


@pytest.mark.parametrize("deferred, kind", [
    ("def f():\n    from . import a\n", "function"),
    ("class C:\n    def m(self):\n        from .a import x\n", "function"),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import x\n", "type-checking"),
])
def test_the_checker_sees_deferred_imports_close_a_cycle(tmp_path, deferred, kind):
    _package(tmp_path, {"__init__.py": "", "a.py": "from . import b\nx = 1\n", "b.py": deferred})
    edges = import_edges(tmp_path, "pkg")
    assert ("pkg.b", "pkg.a", kind) in {(e.source, e.target, e.kind) for e in edges}
    assert cycles([e for e in edges if e.kind == "module"]) == []
    assert cycles(edges) == [["pkg.a", "pkg.b"]]


def test_the_checker_runs_the_else_of_type_checking_and_module_level_conditionals(tmp_path):
    _package(tmp_path, {"__init__.py": "", "b.py": "x = 1\n", "a.py": (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    pass\nelse:\n    from . import b\n"
        "try:\n    from .b import x\nexcept ImportError:\n    x = None\n")})
    assert {(e.source, e.target, e.kind) for e in import_edges(tmp_path, "pkg")} == {("pkg.a", "pkg.b", "module")}


def test_serve_is_one_function_in_its_own_module_for_both_commands():
    from server.cli import build_parser
    from server.demo_city import command
    from server.serve import cmd_serve

    parser = build_parser()
    assert parser.parse_args(["serve"]).func is cmd_serve
    assert parser.parse_args(["demo"]).func is command.cmd_demo and command.cmd_serve is cmd_serve
