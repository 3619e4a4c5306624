"""Helpers every part of the demo city shares: ids, random streams, timestamps, phone numbers.

Everything random comes from `random.Random` seeded with a string (Python hashes string
seeds with SHA-512, so the streams do not depend on PYTHONHASHSEED or the platform). Each
part of the city draws from its own stream, so e.g. the map does not change when the
number of people does.
"""

from __future__ import annotations

import bisect
import itertools
import random
import uuid
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from ..domain.japan_time import JST
from ..models.geo import municipality_check_digit

# 13299: in Tokyo's block of city codes (132xx), well past the last one ever assigned
# (13229 西東京市, 2001). Codes are given out in order and never reused, so no real
# municipality has it. The sixth digit is the check digit of the 総務省 rule.
MUNICIPALITY_CODE5 = "13299"
MUNICIPALITY_CODE = MUNICIPALITY_CODE5 + municipality_check_digit(MUNICIPALITY_CODE5)
# むすび町, the neighbour loaded by `tsunagu demo --cities 2` (neighbour.py)
NEIGHBOUR_CODE5 = "13298"
NEIGHBOUR_CODE = NEIGHBOUR_CODE5 + municipality_check_digit(NEIGHBOUR_CODE5)

DEFAULT_SEED = 20261127
PROJECT_GEODATA = Path(__file__).resolve().parents[2] / "geodata"

T = TypeVar("T")

# Root of all demo ids; uuid5 below it, so an id depends only on the seed and the key.
_DEMO_NAMESPACE = uuid.UUID("5c1f6a52-7d0e-4a53-9d2b-2f0d3e8a1c77")


def new_row(cls: type[T], **values: Any) -> T:
    """A table model instance, as `cls(**values)` makes it, without per-field bookkeeping.

    SQLModel's constructor routes every field through SQLAlchemy's attribute events, which
    costs about 100 µs a row — as much as generating the row itself. A new, pending
    row needs none of that: SQLAlchemy creates the instance state (as it does when loading
    rows) and the INSERT reads the values from the instance dict. The values are trusted,
    not validated (as with the constructor of a table model); the tests check that rows
    made here equal constructed ones and survive a session round trip.
    """
    row = cls._sa_class_manager.new_instance()
    data = {}
    for name, field in cls.model_fields.items():
        if name in values:
            data[name] = values[name]
        elif not field.is_required():
            data[name] = field.get_default(call_default_factory=True)
    row.__dict__.update(data)
    object.__setattr__(row, "__pydantic_fields_set__", set(values))
    object.__setattr__(row, "__pydantic_extra__", None)
    return row


def stream(seed: int, part: str) -> random.Random:
    """An independent random stream for one part of the city."""
    return random.Random(f"tsunagi:{seed}:{part}")


class IdMaker:
    """Deterministic UUIDs: the same seed and key always give the same id."""

    def __init__(self, seed: int):
        self._namespace = uuid.uuid5(_DEMO_NAMESPACE, str(seed))

    def __call__(self, kind: str, key: object) -> uuid.UUID:
        return uuid.uuid5(self._namespace, f"{kind}:{key}")


def stamp(day: date, rng: random.Random) -> datetime:
    """A moment during office hours (JST) on `day`, as aware UTC — when staff entered it."""
    local = datetime.combine(day, time(8, 30), tzinfo=JST) + timedelta(minutes=rng.randrange(0, 9 * 60))
    return local.astimezone(timezone.utc)


def day_between(rng: random.Random, start: date, end: date) -> date:
    """A random day in [start, end]; `end` if the range is empty."""
    span = (end - start).days
    return end if span <= 0 else start + timedelta(days=rng.randint(0, span))


def age_on(birth: date, day: date) -> int:
    """Age in completed years on `day`."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def birth_date_for_age(rng: random.Random, day: date, age: int) -> date:
    """A random birth date of someone exactly `age` years old on `day`."""
    earliest = years_before(day, age + 1) + timedelta(days=1)
    return day_between(rng, earliest, years_before(day, age))


# Invented numbers: a local part starting with 1 is never given to a subscriber in Japan (1 leads
# the service numbers 110, 119, 171 …), yet it is a well-formed number that libphonenumber accepts.
def landline(rng: random.Random) -> str:
    """A 042 (Tama) number whose local part starts with 1 — never a real subscriber number."""
    return f"042-1{rng.randint(10, 99)}-{rng.randint(0, 9999):04d}"


def mobile(rng: random.Random) -> str:
    """A second contact number (family, DWAT members): 03 (Tokyo 23 wards), invented the same way.
    Not a 090 number: every well-formed mobile range may belong to someone."""
    return f"03-1{rng.randint(0, 999):03d}-{rng.randint(0, 9999):04d}"


class Weighted:
    """A discrete distribution: `pick` returns a key with probability proportional to its weight."""

    def __init__(self, table: dict):
        self.keys = list(table)
        self.cumulative = list(itertools.accumulate(table.values()))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random):
        return self.keys[bisect.bisect_right(self.cumulative, rng.random() * self.total)]

