"""A disaster situation on top of the demo city, for the HQ map's tests and benchmark:
safety checks for a share of the people, status reports from the welfare shelters, DWAT
teams deployed. Read from and written to the database (the demo city loaded there);
deterministic for a seed and the database's contents; bulk inserts.

The demo city itself (server/demo_city) has no safety checks nor shelter reports (the
drills make real ones through the API) but has its DWAT teams on site already; the teams
deployed here are others. This only fills the tables the map reads.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from server.models import DwatDeployment, DwatTeam, Person, SafetyCheck, Shelter, ShelterReport
from server.domain.seismic import seismic_class  # after server.models, which it imports (and vice versa)
from server.models.vocab import DeploymentState, OpenState, SafetyOutcome, ShelterKind

OUTCOMES = [(SafetyOutcome.safe_home, 55), (SafetyOutcome.evacuated, 20), (SafetyOutcome.needs_help, 8),
            (SafetyOutcome.injured, 3), (SafetyOutcome.unreachable, 14)]
CHUNK = 2000


@dataclass
class Situation:
    checks: int
    reports: int
    deployments: int
    opened: list[uuid.UUID]


def _insert(conn, table, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        conn.execute(sa.insert(table), rows[start:start + CHUNK])


def _rows(engine, query) -> list:
    with engine.connect() as conn:
        return conn.execute(query).all()


def add_situation(engine, seed: int = 1, checked_share: float = 0.6, now: datetime | None = None) -> Situation:
    """Events for the people, shelters and teams in the database, observed in the last hours."""
    rng = random.Random(f"hq-situation-{seed}")
    now = now or datetime.now(timezone.utc) - timedelta(minutes=5)
    outcomes, weights = zip(*OUTCOMES)
    people = _rows(engine, sa.select(Person.id).order_by(Person.register_no))
    welfare = _rows(engine, sa.select(Shelter.id, Shelter.capacity)
                    .where(Shelter.kind != ShelterKind.designated.value).order_by(Shelter.name))
    # teams the demo has not deployed yet: a team is at one place at a time
    live = sa.select(DwatDeployment.team_id).where(DwatDeployment.state.in_(
        [DeploymentState.planned.value, DeploymentState.active.value]))
    teams = _rows(engine, sa.select(DwatTeam.id).where(DwatTeam.id.not_in(live)).order_by(DwatTeam.name))
    checks = []
    for person in people:
        if rng.random() >= checked_share:
            continue
        outcome = rng.choices(outcomes, weights)[0]
        at = now - timedelta(minutes=rng.randrange(1, 600))
        checks.append(dict(id=uuid.UUID(int=rng.getrandbits(128)), person_id=person.id, outcome=outcome.value,
                           shelter_id=rng.choice(welfare).id if outcome == SafetyOutcome.evacuated else None,
                           whereabouts="", note="", observed_at=at, recorded_at=at, reporter="訓練", device_id=""))
    reports, opened = [], []
    for shelter in welfare:
        state = rng.choice([OpenState.open, OpenState.open, OpenState.preparing, OpenState.full, OpenState.not_open])
        capacity = shelter.capacity or 30
        occupancy = {OpenState.open: rng.randrange(0, capacity), OpenState.full: capacity}.get(state, 0)
        at = now - timedelta(minutes=rng.randrange(1, 300))
        reports.append(dict(id=uuid.UUID(int=rng.getrandbits(128)), shelter_id=shelter.id, open_state=state.value,
                            occupancy=occupancy, occupancy_by_group={}, damage="none", lifelines={}, needs=[],
                            note="", observed_at=at, recorded_at=at, reporter="訓練", device_id=""))
        if state in (OpenState.open, OpenState.full):
            opened.append(shelter.id)
    deployments = []
    today = now.date()
    for team, shelter_id in zip(teams[:3], opened):
        deployments.append(dict(id=uuid.UUID(int=rng.getrandbits(128)), team_id=team.id, shelter_id=shelter_id,
                                start_date=today - timedelta(days=1), end_date=today + timedelta(days=4),
                                state=DeploymentState.active.value, notes="", version=1, created_at=now,
                                updated_at=now))
    with engine.begin() as conn:
        _insert(conn, SafetyCheck.__table__, checks)
        _insert(conn, ShelterReport.__table__, reports)
        _insert(conn, DwatDeployment.__table__, deployments)
    return Situation(checks=len(checks), reports=len(reports), deployments=len(deployments), opened=opened)


def extra_shelters(engine, count: int, seed: int = 1) -> int:
    """`count` more designated shelters scattered over the area of those there (the benchmark's 1,000)."""
    rng = random.Random(f"hq-shelters-{seed}")
    located = _rows(engine, sa.select(Shelter.lon, Shelter.lat, Shelter.municipality_code)
                    .where(Shelter.lon.is_not(None)))
    lons = [r.lon for r in located]
    lats = [r.lat for r in located]
    now = datetime.now(timezone.utc)
    rows = []
    for n in range(count):
        permit = date(rng.randrange(1960, 2020), 4, 1)
        rows.append(dict(id=uuid.UUID(int=rng.getrandbits(128)), version=1, created_at=now, updated_at=now,
                         common_id=None, municipality_code=located[0].municipality_code,
                         name=f"臨時避難所{n + 1:04d}", name_kana="", kind=ShelterKind.designated.value,
                         target_groups=["general"], capacity=rng.randrange(50, 800), capabilities=[],
                         address="", lon=rng.uniform(min(lons), max(lons)), lat=rng.uniform(min(lats), max(lats)),
                         district_id=None, operator="", phone="", contact_name="",
                         building_permit_date=permit, seismic_diagnosis_done=None, is_value=None,
                         retrofit_done=None, notes="", seismic_class=seismic_class(permit, None, None, None).value))
    with engine.begin() as conn:
        _insert(conn, Shelter.__table__, rows)
    return count
