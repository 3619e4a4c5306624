"""The one-way flow of docs/architecture.md, checked on the source: handler → records → domain → models.

The HTTP layer is `server/api/` and `server/app.py`; nothing below it imports from `server.api`,
and the records layer knows no HTTP. The modules listed below import the project's own modules at
the top: an import inside a function there would only hide a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parents[1] / "server"
HTTP_LAYER = ("api/", "app.py")
# Modules that must import at the top (no import inside a function): the records layer, the
# error type, sync and the printing functions. The CLI modules still import lazily on purpose
# (a subcommand loads only what it needs) and are not listed.
TOP_LEVEL_ONLY = ["errors.py", "records/", "sync/", "auth/guard.py", "auth/policy.py", "printing/selection.py",
                  "printing/service.py", "printing/context.py", "printing/jobs.py", "api/resources.py",
                  "api/http.py", "api/printing.py", "api/openapi.py", "printing/engine.py",
                  "domain/matching/intensity.py", "importers/columns.py"]


def _modules(prefixes=None) -> list[Path]:
    files = sorted(p for p in SERVER.rglob("*.py") if "migrations" not in p.parts)
    if prefixes is None:
        return files
    return [p for p in files if _rel(p).startswith(tuple(prefixes))]


def _rel(path: Path) -> str:
    return path.relative_to(SERVER).as_posix()


def _imported(path: Path) -> list[tuple[str, int, bool]]:
    """(absolute module name, line, inside a function) for every import in `path`."""
    package = ["server", *path.relative_to(SERVER).with_suffix("").parts]
    if package[-1] == "__init__":
        package.pop()
    package = package[:-1] if path.name != "__init__.py" else package
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def visit(node, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.ImportFrom):
                base = package[: len(package) - child.level + 1] if child.level else []
                if child.module:
                    found.append((".".join([*base, child.module]), child.lineno, in_function))
                else:  # from . import x: x is a module of the package
                    found.extend((".".join([*base, alias.name]), child.lineno, in_function) for alias in child.names)
            elif isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno, in_function) for alias in child.names)
            visit(child, nested)

    visit(tree, False)
    return found


def test_the_import_parser_resolves_relative_imports():
    # A check that finds nothing proves nothing: the parser must see the HTTP layer's own imports.
    names = {name for name, _, _ in _imported(SERVER / "api" / "resources.py")}
    assert {"server.records.rows", "server.api.http", "server.auth.guard", "sqlmodel"} <= names
    names = {name for name, _, _ in _imported(SERVER / "app.py")}
    assert any(n.startswith("server.api") for n in names)


def test_nothing_below_the_http_layer_imports_from_it():
    offenders = [f"{_rel(path)}:{line} imports {name}"
                 for path in _modules() if not _rel(path).startswith(HTTP_LAYER)
                 for name, line, _ in _imported(path) if name == "server.api" or name.startswith("server.api.")]
    assert offenders == []


def test_the_records_layer_knows_no_http():
    offenders = [f"{_rel(path)}:{line} imports {name}" for path in _modules(["records/", "errors.py"])
                 for name, line, _ in _imported(path) if name.split(".")[0] in ("starlette", "httpx")]
    assert offenders == []


@pytest.mark.parametrize("prefix", TOP_LEVEL_ONLY)
def test_no_import_inside_a_function(prefix):
    paths = _modules([prefix])
    assert paths, f"no module matches {prefix}"
    # Only the project's own modules: a heavy or optional library (playwright, pypdf) may load late.
    offenders = [f"{_rel(path)}:{line} imports {name}" for path in paths
                 for name, line, inside in _imported(path) if inside and name.split(".")[0] == "server"]
    assert offenders == []


def test_path_ids_are_parsed_in_one_place():
    """`path_uuid` (server/api/http.py) is the one parser of ids in a URL: a bad one is a 404 alike everywhere."""
    parsers = [_rel(path) for path in _modules() if "uuid.UUID(request.path_params" in path.read_text(encoding="utf-8")]
    assert parsers == ["api/http.py"]
