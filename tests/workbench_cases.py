"""Inputs for the workbench tests and benchmark: a small hand-built city whose every coverage
figure is known, and a deterministic synthetic city of any size."""

from __future__ import annotations

import random
from datetime import date, timedelta

from server.domain.workbench.common import Care, PersonFacts, Plan, PlanSupporter, ShelterFacts
from server.domain.workbench.supporters import Availability, SupporterEntry, SupporterKind
from server.models.vocab import Consent, PlanStatus, SeismicClass, ShelterKind

TODAY = date(2026, 12, 1)
OLD = date(1940, 4, 1)      # 86 on TODAY
YOUNG = date(1990, 4, 1)    # 36 on TODAY

# Shelters around Fuchu (東京都, zone IX).
SAFE = ShelterFacts("SH-SAFE", "府中福祉センター", "E13206000012", ShelterKind.designated_welfare,
                    frozenset({"elderly", "disabled"}), frozenset({"backup_power", "wheelchair_access", "care_beds"}),
                    SeismicClass.new_standard, 139.4800, 35.6700)
OLDBLD = ShelterFacts("SH-OLD", "旧館ホーム", None, ShelterKind.designated_welfare, frozenset({"elderly"}),
                      frozenset({"backup_power", "wheelchair_access"}), SeismicClass.old_undiagnosed, 139.4850, 35.6720)
RIVER = ShelterFacts("SH-RIVER", "川沿い園", None, ShelterKind.designated_welfare, frozenset({"elderly"}),
                     frozenset({"wheelchair_access"}), SeismicClass.new_standard, 139.4700, 35.6650, ("浸水想定区域",))
KIDS = ShelterFacts("SH-KIDS", "こども園", None, ShelterKind.designated_welfare, frozenset({"pregnant_infant"}),
                    frozenset({"infant_care"}), SeismicClass.new_standard, 139.4900, 35.6800)
AGREE = ShelterFacts("SH-AGREE", "協定ホーム", None, ShelterKind.agreement_welfare, frozenset({"elderly"}),
                     frozenset({"backup_power", "oxygen", "wheelchair_access"}), SeismicClass.new_standard, 139.4810, 35.6710)
SCHOOL = ShelterFacts("SH-SCHOOL", "第一小学校", "E13206000021", ShelterKind.designated, frozenset({"general"}),
                      frozenset({"wheelchair_access"}), SeismicClass.new_standard, 139.4780, 35.6690)
SHELTERS = {s.id: s for s in (SAFE, OLDBLD, RIVER, KIDS, AGREE, SCHOOL)}


def person(pid: str, **over) -> PersonFacts:
    values = dict(register_no=pid, birth_date=OLD, reasons=frozenset({"care_level_3plus"}),
                  care_needs=frozenset({"wheelchair"}), address="府中市宮西町1-1", district_id="C1",
                  welfare_area_id="W1", consent=Consent.yes, consent_date=date(2025, 4, 1), lon=139.478, lat=35.668)
    values.update(over)
    return PersonFacts(pid, **values)


def supporter(name: str, phone: str = "090-1111-2222", relation: str = "近隣住民", sid=None) -> PlanSupporter:
    return PlanSupporter(name, relation, "府中市宮西町1-2", phone, sid)


def done_plan(pid: str, person_id: str, **over) -> Plan:
    values = dict(status=PlanStatus.done, supporters=(supporter("山田 花子"),), destination_id="SH-SAFE",
                  consent=True, consent_date=date(2025, 5, 1), author="福祉課 佐藤", review_due=date(2027, 5, 1),
                  care=Care(walking_ability="杖歩行", items_to_carry="常用薬"))
    values.update(over)
    return Plan(pid, person_id, **values)


def small_city():
    """Ten people in two 福祉圏域 (W1: 町丁目 C1, C2; W2: C3) and one person without a 町丁目.
    Minsei M1 covers C1 and C2, M2 covers C3. Returns (people, plans_by_person, links, entries)."""
    entries = {
        "M1": SupporterEntry("M1", "民生 一郎", SupporterKind.minsei, area=frozenset({"C1", "C2"})),
        "M2": SupporterEntry("M2", "民生 二郎", SupporterKind.minsei, area=frozenset({"C3"})),
        "S-OLD": SupporterEntry("S-OLD", "高齢 支援", SupporterKind.neighbour, birth_date=date(1950, 1, 1)),
        "S-REG": SupporterEntry("S-REG", "名簿 登録", SupporterKind.neighbour, birth_date=YOUNG, person_id="P10"),
        "S-A": SupporterEntry("S-A", "若手 A", SupporterKind.family, birth_date=YOUNG),
        "S-B": SupporterEntry("S-B", "若手 B", SupporterKind.jishubo, birth_date=YOUNG),
        "S-GONE": SupporterEntry("S-GONE", "転出 済", SupporterKind.neighbour, birth_date=YOUNG, active=False),
    }
    people = [
        person("P1"),                                                   # C1 done, 2 supporters
        person("P2", consent=Consent.no, consent_date=None),            # C1 drafting, 1 (elderly) supporter
        person("P3", consent=Consent.not_asked, consent_date=None),     # C1 no plan
        person("P4", district_id="C2"),                                 # C2 done, dest old building
        person("P5", district_id="C2"),                                 # C2 needs_review, dest in hazard area
        person("P6", district_id="C3", welfare_area_id="W2",            # C3 done, dest does not accept (kids)
               care_needs=frozenset()),
        person("P7", district_id="C3", welfare_area_id="W2"),           # C3 done, overdue, 2 supporters (1 gone)
        person("P8", district_id="C3", welfare_area_id="W2", consent=Consent.no, consent_date=None),  # not_started plan
        person("P9", district_id=None, welfare_area_id=None, minsei_iin="民生 三郎"),  # no district, free text 2
        person("P10", district_id="C2", birth_date=YOUNG, reasons=frozenset({"pregnancy"}),
               care_needs=frozenset({"pregnancy"})),                     # C2 drafting, dest unknown shelter
    ]
    plans = {
        "P1": done_plan("L1", "P1", supporters=(supporter("若手 A", sid="S-A"), supporter("若手 B", sid="S-B"))),
        "P2": Plan("L2", "P2", PlanStatus.drafting, (supporter("高齢 支援", sid="S-OLD"),), "SH-SAFE"),
        "P4": done_plan("L4", "P4", destination_id="SH-OLD", supporters=(supporter("名簿 登録", sid="S-REG"),)),
        "P5": done_plan("L5", "P5", status=PlanStatus.needs_review, destination_id="SH-RIVER"),
        "P6": done_plan("L6", "P6", destination_id="SH-KIDS", supporters=(supporter("若手 A", sid="S-A"),)),
        "P7": done_plan("L7", "P7", review_due=date(2026, 11, 30),
                        supporters=(supporter("若手 B", sid="S-B"), supporter("転出 済", sid="S-GONE"))),
        "P8": Plan("L8", "P8"),
        "P9": Plan("L9", "P9", PlanStatus.drafting, (supporter("甲"), supporter("乙", "090-3333-4444"))),
        "P10": Plan("L10", "P10", PlanStatus.drafting, (), "SH-DELETED"),
    }
    links = {p.id: tuple(s.supporter_id for s in p.supporters if s.supporter_id) for p in plans.values()}
    links = {k: v for k, v in links.items() if v}
    return people, plans, links, entries


def synthetic_city(n: int, seed: int = 7):
    """n people over 12 福祉圏域 × 40 町丁目, 80% with plans, supporters from a pool of n/3."""
    rng = random.Random(seed)
    shelters = dict(SHELTERS)
    entries = {}
    for i in range(max(1, n // 3)):
        kind = SupporterKind.minsei if i < 480 else rng.choice(list(SupporterKind))
        area = frozenset({f"C{i % 480}"}) if kind == SupporterKind.minsei else frozenset()
        entries[f"S{i}"] = SupporterEntry(f"S{i}", f"支援者{i}", kind, area=area,
                                          birth_date=date(rng.randint(1940, 2000), 1, 1),
                                          availability=rng.choice(list(Availability)),
                                          person_id=f"P{rng.randrange(n)}" if rng.random() < 0.05 else None,
                                          active=rng.random() > 0.02)
    ids = list(entries)
    reasons = [frozenset({"care_level_3plus"}), frozenset({"physical_disability"}), frozenset({"medical_care"}),
               frozenset({"elderly_household"}), frozenset({"pregnancy"})]
    needs = [frozenset({"wheelchair"}), frozenset({"oxygen"}), frozenset(), frozenset({"dementia", "walking_aid"}),
             frozenset({"ventilator"})]
    people, plans, links = [], {}, {}
    statuses = list(PlanStatus)
    for i in range(n):
        chome = rng.randrange(480)
        p = PersonFacts(f"P{i}", f"{i:06d}", date(rng.randint(1925, 1995), rng.randint(1, 12), rng.randint(1, 28)),
                        rng.choice(reasons), rng.choice(needs), f"住所{i}", f"C{chome}", f"W{chome % 12}", "",
                        rng.choice(list(Consent)), None, 139.4 + rng.random() * 0.1, 35.6 + rng.random() * 0.1)
        people.append(p)
        if rng.random() < 0.8:
            k = rng.choice((0, 1, 1, 2, 2, 3))
            sids = rng.sample(ids, k)
            plans[p.id] = Plan(f"L{i}", p.id, rng.choice(statuses),
                               tuple(PlanSupporter(entries[s].name, "", "", "090-0000-0000", s) for s in sids),
                               rng.choice(list(shelters) + [None]), None,
                               review_due=TODAY + timedelta(days=rng.randint(-400, 400)))
            if sids:
                links[plans[p.id].id] = tuple(sids)
    return people, plans, links, entries, shelters
