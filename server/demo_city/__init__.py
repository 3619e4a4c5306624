"""The demo city つなぎ市 (Tsunagi City): one deterministic seed module for the demo, the
tests and the drills.

    city = build_demo_city(seed=20261127, people=5000)
    load_demo_city(engine, city)          # bulk insert, one transaction
    write_geodata(city, Path("geodata"))  # the map layers as GeoJSON

Everything in it is invented: the city, its municipality code, towns, people, phone
numbers and facilities. `python -m server.demo_city` regenerates the committed layers
in `geodata/`.
"""

from .city import DemoCity, build_demo_city
from .command import add_demo_parser
from .common import DEFAULT_SEED, MUNICIPALITY_CODE
from .geodata import geodata_layers, write_geodata
from .loading import delete_demo_data, load_demo_city

__all__ = [
    "DEFAULT_SEED", "MUNICIPALITY_CODE", "DemoCity", "add_demo_parser", "build_demo_city",
    "delete_demo_data", "geodata_layers", "load_demo_city", "write_geodata",
]
