"""The cold coverage view counts from raw columns (`workbench_coverage_count.count`); the
domain counts built inputs (`coverage(*load(...))`). On a randomised demo city — people
without a 町丁目 or 民生委員, full-width phones, supporters who are registered people (name
spaced differently), supporter register entries (active or not, 民生委員 with 担当区域, linked
to a person), overdue and missing review dates, plans without supporters or destination —
both give the same figures and the same lists, for the city and every area of every level."""

from __future__ import annotations

import random

import pytest
from sqlmodel import Session, select

from server.api import workbench_coverage_data as data
from server.api.workbench_coverage_count import count
from server.demo_city import build_demo_city, load_demo_city
from server.domain.japan_time import today_jst
from server.domain.workbench.coverage import FIGURES, coverage
from server.models import District, EvacuationPlan, Person, Shelter, SupporterRecord
from server.records.access import UNRESTRICTED

WIDE = str.maketrans("0123456789", "０１２３４５６７８９")


def _shuffle_city(engine, seed: int) -> None:
    rng = random.Random(seed)
    today = today_jst()
    with Session(engine) as s:
        people = s.exec(select(Person).order_by(Person.register_no)).all()
        plans = s.exec(select(EvacuationPlan)).all()
        chome = s.exec(select(District.id).where(District.kind == "chome")).all()
        shelters = s.exec(select(Shelter.id)).all()
        entries = []
        for n in range(6):
            linked = rng.choice(people)
            entry = SupporterRecord(kind="minsei" if n < 3 else "neighbour", name=f"支援者 {n}",
                                    area_district_ids=rng.sample(chome, 2) if n < 3 else [],
                                    active=n % 3 != 2, birth_year=rng.choice([1940, 1990, None]),
                                    person_id=linked.id if n % 2 else None)
            s.add(entry)
            entries.append(entry)
        s.flush()
        for p in people:
            roll = rng.random()
            if roll < 0.1:
                p.district_id = None
            elif roll < 0.2:
                p.minsei_iin = ""
            elif roll < 0.25 and p.phone:
                p.phone = p.phone.translate(WIDE)
            s.add(p)
        for plan in plans:
            roll = rng.random()
            other = rng.choice(people)
            if roll < 0.15 and other.phone:  # a registered person, name spaced and phone written differently
                plan.supporters = [{"name": other.name.replace(" ", "　"), "phone": other.phone.replace("-", ""),
                                    "relation": "近隣住民"}] + list(plan.supporters)[:1]
            elif roll < 0.25:
                plan.supporters = [{"name": e.name, "supporter_id": str(e.id)} for e in rng.sample(entries, 2)]
            elif roll < 0.3:
                entry = rng.choice(entries)
                plan.supporters = [{"name": entry.name, "supporter_id": str(entry.id)}] * 2  # one counts once
            elif roll < 0.35:
                plan.supporters = []
            if rng.random() < 0.2:
                plan.destination_shelter_id = None if rng.random() < 0.5 else rng.choice(shelters)
            plan.review_due = rng.choice([None, today, today.replace(day=1), plan.review_due])
            plan.status = rng.choice(["not_started", "drafting", "done", "needs_review", plan.status])
            s.add(plan)
        s.commit()


def _figures(cov) -> dict:
    out = {"city": {"city": {n: cov.city.figures[n].ids for n in FIGURES}}}
    for level in data.LEVELS:
        out[level] = {key: {n: area.figures[n].ids for n in FIGURES} for key, area in getattr(cov, level).items()}
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_column_count_equals_the_domain_count_on_a_randomised_city(engine, seed):
    load_demo_city(engine, build_demo_city(seed=seed, people=300))
    _shuffle_city(engine, seed)
    today = today_jst()
    with Session(engine) as s:
        expected = coverage(*data.load(s, UNRESTRICTED, UNRESTRICTED, today), today)
        got = count(s, UNRESTRICTED, UNRESTRICTED, today, data.SUPPORTER_ENTRIES(s))
    want, have = _figures(expected), _figures(got)
    for level, areas in want.items():
        assert set(have[level]) == set(areas), level
        for key, figures in areas.items():
            for name, ids in figures.items():
                assert have[level][key][name] == ids, (level, key, name, set(ids) ^ set(have[level][key][name]))
    # the randomised city reaches the figures the fast path treats differently
    city = got.city.counts()
    for name in ("consented", "supporters_0", "supporters_1", "supporters_2plus", "elderly_supporter",
                 "registered_supporter", "review_overdue", "destination_unusable"):
        assert city[name] > 0, name
    assert None in got.chome and any(isinstance(k, str) and k.startswith("名簿:") for k in got.minsei)
    assert any(k is not None and not isinstance(k, str) for k in got.minsei)  # a 民生委員 of the register
    for level in data.LEVELS:
        for area in getattr(got, level).values():
            assert area.counts() == {n: area.figures[n].count for n in FIGURES}


def test_garbage_collection_is_paused_only_while_counting():
    import gc

    from server.api.workbench_coverage_count import gc_paused

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # a second count at the same time
            assert not gc.isenabled()
        assert not gc.isenabled()  # the first count still runs
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()
    try:
        with gc_paused():
            raise ValueError("a failed count")
    except ValueError:
        pass
    assert gc.isenabled()


def test_register_entries_count_through_the_database(engine):
    """The supporter register's 民生委員 (担当区域, stored as JSON text) counts the people of its
    町丁目, and a plan's register-linked supporters (their id stored as JSON text) count with
    the entry's facts: an elderly entry is elderly, a departed one is no supporter."""
    load_demo_city(engine, build_demo_city(seed=3, people=60))
    with Session(engine) as s:
        first, second = s.exec(select(Person).where(Person.district_id.is_not(None))
                               .order_by(Person.register_no).limit(2)).all()
        minsei = SupporterRecord(kind="minsei", name="民生 花子", area_district_ids=[first.district_id])
        elderly = SupporterRecord(kind="neighbour", name="近所 太郎", birth_year=1940)
        gone = SupporterRecord(kind="neighbour", name="転出 次郎", active=False, left_on=today_jst())
        s.add_all([minsei, elderly, gone])
        s.flush()
        for person, entry in ((first, elderly), (second, gone)):
            plan = s.exec(select(EvacuationPlan).where(EvacuationPlan.person_id == person.id)).first() \
                or EvacuationPlan(person_id=person.id)
            plan.supporters = [{"name": entry.name, "supporter_id": str(entry.id)}]
            s.add(plan)
        s.commit()
        ids = {"first": first.id.hex, "second": second.id.hex, "minsei": minsei.id}
    data.clear_cache()
    today = today_jst()
    with Session(engine) as s:
        for cov in (count(s, UNRESTRICTED, UNRESTRICTED, today, data.SUPPORTER_ENTRIES(s)),
                    coverage(*data.load(s, UNRESTRICTED, UNRESTRICTED, today), today)):
            held = {str(i).replace("-", "") for i in cov.minsei[ids["minsei"]].figures["registered"].ids}
            assert ids["first"] in held
            city = {n: {str(i).replace("-", "") for i in cov.city.figures[n].ids} for n in FIGURES}
            assert ids["first"] in city["elderly_supporter"] and ids["first"] in city["supporters_1"]
            assert ids["second"] in city["supporters_0"] and ids["second"] not in city["supporters_1"]
