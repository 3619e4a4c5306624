"""Regenerate the committed map layers: `python -m server.demo_city [DIRECTORY]`."""

import sys
from pathlib import Path

from . import DEFAULT_SEED, build_demo_city, write_geodata
from .common import PROJECT_GEODATA

directory = Path(sys.argv[1]) if len(sys.argv) > 1 else PROJECT_GEODATA
# The layers depend on the seed only, so no people need to be generated.
for path in write_geodata(build_demo_city(seed=DEFAULT_SEED, people=0), directory):
    print(path)
