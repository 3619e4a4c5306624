"""What every DWAT module shares: the refusal (structured problems are server/domain/problems.py),
date windows, and the plain site and deployment records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Hashable, Iterable, Iterator, Optional

from ...models.vocab import DeploymentState
from ..problems import ERROR, WARNING, Problem, Refused, error, warning  # noqa: F401 (shared by the DWAT modules)
from ..problems import raise_errors as _raise_errors



class DwatError(Refused):
    """Raised by every DWAT function that refuses its input."""


def raise_errors(problems: Iterable[Problem]) -> None:
    """Raise DwatError with the errors among `problems` (warnings alone pass)."""
    _raise_errors(problems, DwatError)


def require_aware(at: datetime, field: str = "at") -> None:
    """Times in the chronology are compared across devices: a naive time is refused rather
    than guessed (the server stores UTC; base.UTCDateTime)."""
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise DwatError([error("naive_time", "時刻にはタイムゾーンが必要です", "a time needs a timezone", field)])


@dataclass(frozen=True)
class Window:
    """Inclusive range of days [start, end]. An open end (None) means "until further notice"."""

    start: date
    end: Optional[date] = None

    def contains(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def covers(self, start: date, end: date) -> bool:
        return self.start <= start and (self.end is None or end <= self.end)

    def overlaps(self, other: "Window") -> bool:
        return ((self.end is None or other.start <= self.end)
                and (other.end is None or self.start <= other.end))

    def overlaps_days(self, start: date, end: date) -> bool:
        return self.overlaps(Window(start, end))

    def days(self) -> Iterator[date]:
        if self.end is None:
            raise ValueError("an open window has no end")
        day = self.start
        while day <= self.end:
            yield day
            day += timedelta(days=1)


@dataclass(frozen=True)
class Site:
    """A place teams go to: a general shelter (指定避難所), a 福祉避難所, or an HQ-defined area for
    people sheltering at home or in cars (在宅・車中泊避難者). lon/lat in JGD2011."""

    id: Hashable
    name: str = ""
    lon: Optional[float] = None
    lat: Optional[float] = None


# Deployment states that hold a team and its members (派遣予定 and 活動中).
LIVE_DEPLOYMENT_STATES = frozenset({DeploymentState.planned, DeploymentState.active})


@dataclass(frozen=True)
class Deployment:
    """A team at a site for [start, end] (both days on site). `member_ids` are the members who
    actually go: a member may be lent to another team, so the check is per member."""

    id: Hashable
    team_id: Hashable
    site_id: Hashable
    start: date
    end: Optional[date]
    state: DeploymentState = DeploymentState.planned
    member_ids: tuple[Hashable, ...] = ()

    @property
    def window(self) -> Window:
        return Window(self.start, self.end)

    @property
    def live(self) -> bool:
        return self.state in LIVE_DEPLOYMENT_STATES
