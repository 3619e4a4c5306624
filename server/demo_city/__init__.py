"""The demo city つなぎ市 (Tsunagi City): one deterministic seed module for the demo, the
tests and the drills.

Everything in it is invented: the city, its municipality code, towns, people, phone
numbers and facilities.
"""

from .city import DemoCity, build_demo_city
from .common import DEFAULT_SEED, MUNICIPALITY_CODE

__all__ = ["DEFAULT_SEED", "MUNICIPALITY_CODE", "DemoCity", "build_demo_city"]
