"""Shelter matching: who goes to which welfare shelter (pure functions; `store.py` is the
database adapter). See docs/matching.md."""

from .propose import (ALL_FULL, ALTERNATE, NO_COMPATIBLE, NO_LOCATION, OPTIMISED, PLAN, REASONS, TOO_FAR, Assignment,
                      MatchParams, MatchPerson, MatchShelter, Proposal, compatible, diff, propose)
from .rules import SeismicRule, parse_intensity

__all__ = ["ALL_FULL", "ALTERNATE", "NO_COMPATIBLE", "NO_LOCATION", "OPTIMISED", "PLAN", "REASONS", "TOO_FAR", "Assignment",
           "MatchParams", "MatchPerson", "MatchShelter", "Proposal", "SeismicRule", "compatible", "diff",
           "parse_intensity", "propose"]
