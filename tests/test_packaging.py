"""Every file the server reads at run time (templates, static files, migrations) is in the package data,
so an installed package (pip install, not only the editable checkout) can serve and print."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "server"


def test_every_non_python_file_of_the_server_is_package_data():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["server"]
    covered = {path for pattern in patterns for path in SERVER.glob(pattern) if path.is_file()}
    wanted = {path for path in SERVER.rglob("*")
              if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts}
    assert not sorted(str(p.relative_to(ROOT)) for p in wanted - covered)
