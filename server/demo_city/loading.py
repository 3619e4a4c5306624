"""Writing the demo city into a database: bulk inserts in one transaction."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from ..models import (District, DwatActivityReport, DwatDeployment, DwatMember, DwatRequest, DwatRequestStep, DwatTeam,
                      EvacuationPlan, Municipality, Person, SafetyCheck, Shelter)
from ..models.dwat_field import DwatTriage
from ..models.hazards import HazardArea
from ..models.people import with_kana_key
from ..models.vocab import DistrictKind
from .city import DemoCity
from .common import MUNICIPALITY_CODE, NEIGHBOUR_CODE

DEMO_CODES = (MUNICIPALITY_CODE, NEIGHBOUR_CODE)
from .dwat import ORGANISATION

# Rows per INSERT statement: large enough to be fast, small enough for PostgreSQL's
# 65,535 bind-parameter limit and for SQLite's memory.
CHUNK = 2000


def load_demo_city(engine: Engine, city: DemoCity, replace: bool = False, alongside: bool = False) -> dict[str, int]:
    """Insert the whole city in one transaction and return the row counts by table.

    Refuses (ValueError) when the database already holds people, so the demo never mixes
    with a real register. With `replace=True` the demo city's earlier rows — and
    everything that refers to them, such as safety checks and shelter reports — are
    deleted first; people of other municipalities still make it refuse. `alongside=True` loads a
    neighbouring demo municipality (`tsunagu demo --cities 2`) next to the demo city just loaded:
    no such check, no hazard areas.
    """
    with engine.begin() as conn:
        if replace and not alongside:
            delete_demo_data(conn)
        people = 0 if alongside else conn.execute(sa.select(sa.func.count()).select_from(Person.__table__)).scalar_one()
        if people:
            hint = "" if replace else "; use replace=True (tsunagu demo --replace) to reload the demo city"
            raise ValueError(f"the database already holds {people} people, not loading the demo city{hint}")
        areas = [d for d in city.districts if d.kind == DistrictKind.welfare_area]
        chome = [d for d in city.districts if d.kind != DistrictKind.welfare_area]
        # Parents before children, so foreign keys hold after every statement.
        batches = [
            ("municipalities", Municipality, [city.municipality]),
            ("districts", District, areas),
            ("districts", District, chome),
            ("shelters", Shelter, city.shelters),
            ("people", Person, city.people),
            ("plans", EvacuationPlan, city.plans),
            ("dwat_teams", DwatTeam, city.dwat_teams),
            ("dwat_members", DwatMember, city.dwat_members),
            ("dwat_deployments", DwatDeployment, city.dwat_deployments),
            ("dwat_requests", DwatRequest, city.dwat_requests),
            ("dwat_request_steps", DwatRequestStep, city.dwat_request_steps),
            ("dwat_activity_reports", DwatActivityReport, city.dwat_reports),
            ("dwat_triages", DwatTriage, city.dwat_triages),
            ("safety_checks", SafetyCheck, city.safety_checks),
            ("hazard_areas", HazardArea, [] if alongside else demo_hazard_rows()),
        ]
        counts: dict[str, int] = {}
        for label, model, rows in batches:
            _insert(conn, model, rows)
            counts[label] = counts.get(label, 0) + len(rows)
    return counts


def demo_hazard_rows() -> list[HazardArea]:
    """The demo city's synthetic hazard areas (浸水想定区域, 土砂災害警戒区域) as table rows."""
    from ..domain.hazards_demo import demo_hazard_features

    rows = []
    for feature in demo_hazard_features():
        props = feature["properties"]
        rows.append(HazardArea(id=uuid.uuid5(uuid.NAMESPACE_URL, f"tsunagu-demo-hazard:{feature['id']}"),
                               municipality_code=MUNICIPALITY_CODE, kind=props["kind"], name=props["name"],
                               level=props["level"], source="demo (synthetic)", geometry=feature["geometry"],
                               area_m2=None))
    return rows


def _insert(conn: Connection, model: type[SQLModel], rows: list) -> None:
    table = model.__table__
    names = [column.key for column in table.columns]
    for start in range(0, len(rows), CHUNK):
        # Core executemany with plain dicts skips the ORM unit of work: many times faster.
        # Field values live in the instance dict (pydantic's storage, shared with SQLAlchemy).
        values = [{name: row.__dict__[name] for name in names} for row in rows[start:start + CHUNK]]
        if model is Person:  # derived column: Core inserts skip the ORM event that sets it
            values = [with_kana_key(v) for v in values]
        if values:
            conn.execute(sa.insert(table), values)


def delete_demo_data(conn: Connection) -> None:
    """Delete the demo city and its neighbour (any seed) and every row that refers to them."""
    tables = {t.name: t for t in SQLModel.metadata.sorted_tables}
    person, shelter, district = tables["person"], tables["shelter"], tables["district"]
    team, municipality = tables["dwat_team"], tables["municipality"]
    codes = DEMO_CODES
    _delete_cascading(conn, tables, person, person.c.municipality_code.in_(codes))
    _delete_cascading(conn, tables, shelter, shelter.c.municipality_code.in_(codes))
    _delete_cascading(conn, tables, team, team.c.organisation == ORGANISATION)
    # 町丁目 point at their 福祉圏域, so they go first.
    demo = district.c.municipality_code.in_(codes)
    _delete_cascading(conn, tables, district, demo & district.c.parent_id.is_not(None))
    _delete_cascading(conn, tables, district, demo)
    conn.execute(sa.delete(municipality).where(municipality.c.municipality_code.in_(codes)))
    hazards = tables["hazard_area"]
    conn.execute(sa.delete(hazards).where(hazards.c.municipality_code.in_(codes)))


def _delete_cascading(conn: Connection, tables: dict[str, sa.Table], table: sa.Table, where) -> None:
    """Delete rows of `table` matching `where`, after dealing with rows that refer to them:
    an optional reference is cleared, a required one means the referring row goes too.

    Walking the foreign keys from the metadata keeps this right when new tables (audit
    entries, say) start pointing at people or shelters.
    """
    for other in tables.values():
        for fk in other.foreign_keys:
            if fk.column.table is not table or other is table:
                continue
            doomed = sa.select(fk.column).where(where)
            if fk.parent.nullable:
                conn.execute(sa.update(other).where(fk.parent.in_(doomed)).values({fk.parent.key: None}))
            else:
                _delete_cascading(conn, tables, other, fk.parent.in_(doomed))
    conn.execute(sa.delete(table).where(where))
