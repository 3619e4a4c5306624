"""Drills (訓練): earthquake scenarios, estimated shaking and building damage.

Part A (here) is pure functions: a scenario file (TOML) → JMA intensity at any point
(`shaking`) → collapse probability of a building by its 耐震 class (`damage`). Part B, the
simulator that drives the server's public HTTP API with virtual tablets, builds on these.
Nothing in this package touches the database. See docs/drills.md.
"""

from .scenario import Fault, FragilityOverride, Scenario, ScenarioError, load_scenario

__all__ = ["Fault", "FragilityOverride", "Scenario", "ScenarioError", "load_scenario"]
