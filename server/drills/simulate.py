"""The field response to a drill earthquake, as a script of actions (pure: same inputs and seed,
same script).

Input is what the drill's operator reads from the public API — people, plans, shelters and
districts as JSON dictionaries — and a scenario (scenario.py). Output is a `DrillScript`: the
records each virtual tablet will send, each at a minute after the quake, and the tallies the
simulation expects the server to end up with (runner.py checks them against what the server
holds). Nothing here talks to the server or reads a clock.

`script()` runs five steps, each a function of its own over small dataclasses (`City`,
`ShelterState`, `PeopleFates`, `Round`), drawing from one seeded generator in this order:
`draw_shelters` → `draw_people` → `arrival_checks` → `shelter_reports` → `supporter_visits`
(one `visit_district` per 町丁目).

The model (every number a documented assumption, docs/drills.md; the `[response]` keys of a
scenario change them):

- **Shelters.** Each welfare shelter collapses with the probability its seismic class gives at
  its intensity (damage.py); a collapsed one reports 閉鎖 / 使用不可 at about 30 minutes and takes
  nobody; another reports damage 軽微 with three times that probability. Standing shelters open at
  30–90 minutes and report every `shelter_report_every_minutes` with their occupancy by group.
- **People.** A home's class comes from the plan's 建物の構造 (木造 → unknown, 鉄筋・鉄骨・RC →
  new standard). Each person's outcome is drawn: 連絡つかず (`share_not_reachable`); 負傷
  (0.3 × the home's collapse probability, plus 0.5 %); 要支援 (rising with the shaking, more for
  those with care needs); 避難 (a collapsed home, or shaking of 6弱 and more with probability one half);
  otherwise 在宅・無事.
- **Evacuation.** An evacuating person goes to the plan's 避難先, or its 第二避難先 if that
  collapsed, walking at half `walk_m_per_min` (people who need support walk slowly), after 20
  minutes; the shelter's tablet records their 安否確認 (避難済) on arrival. A person with no usable
  shelter is "unplaced": the 民生委員 finds them at home and records 要支援 with a note.
- **Visits.** One 民生委員 per 町丁目 starts at `supporters_start_minutes` (±10) and visits their
  people nearest-first at `walk_m_per_min`, `visit_minutes` each, until `duration_hours`. The
  tablet shows who a shelter has already confirmed, so those are skipped. People not reached in
  time stay unconfirmed: a drill finding, not an error. So do people recorded 連絡つかず: that is
  a check, but it confirms nothing (server/domain/safety.py).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Optional

import numpy as np

from ..domain.geo import to_plane, zone_for
from .damage import collapse_probability, people_intensity, shelter_damage

SHELTER_OPEN_MINUTES = (30, 90)
EVACUATION_START_MINUTES = 20
COLLAPSED_REPORT_MINUTE = 30
# care needs that make "needs help" after shaking more likely (vocab.CareNeed values)
NEEDS_HELP_CARE = {"wheelchair", "bedridden", "oxygen", "ventilator", "power_dependent", "suction", "dialysis"}
MEDICAL_CARE = {"oxygen", "ventilator", "power_dependent", "suction", "dialysis"}


@dataclass(frozen=True)
class Action:
    """One record a virtual tablet sends: `entity` as in POST /api/sync/mutations, `data` without
    `observed_at` (the runner stamps quake time + `minute`)."""

    minute: float
    device: str
    entity: str
    data: dict


@dataclass
class DrillScript:
    scenario_id: str
    seed: int
    actions: list[Action]
    outcomes: dict[str, str]                 # person id → outcome drawn (every person)
    first_check_minute: dict[str, float]     # person id → minute of their first 安否確認 (any outcome)
    shelters: list[dict]                     # per shelter: id, name, intensity, shindo, collapsed, arrivals
    unplaced: list[str] = field(default_factory=list)  # person ids with no usable shelter
    duration_minutes: float = 0.0
    intensity_median: Optional[float] = None  # the median JMA intensity at the people's homes
    person_intensity: dict[str, float] = field(default_factory=dict)  # person id → JMA intensity at home

    @property
    def people(self) -> int:
        return len(self.outcomes)


def _lonlat(record: dict, district_by_id: dict) -> Optional[tuple[float, float]]:
    """Where a record is: its own lon/lat, a district's centroid, or its district's centroid."""
    for lon, lat in ((record.get("lon"), record.get("lat")), (record.get("centroid_lon"), record.get("centroid_lat"))):
        if lon is not None and lat is not None:
            return lon, lat
    district = district_by_id.get(record.get("district_id"))
    if district and district.get("centroid_lon") is not None and district.get("centroid_lat") is not None:
        return district["centroid_lon"], district["centroid_lat"]
    return None


def _plane_points(records: list[dict], district_by_id: dict) -> dict[str, tuple[float, float]]:
    """Record id → (easting, northing) in metres in the city's plane rectangular zone (domain.geo),
    projected once for all records."""
    located = [(record["id"], spot) for record in records if (spot := _lonlat(record, district_by_id))]
    if not located:
        return {}
    lons = np.array([spot[0] for _, spot in located])
    lats = np.array([spot[1] for _, spot in located])
    code = next((r.get("municipality_code") for r in records if r.get("municipality_code")), None)
    xy = to_plane(lons, lats, zone_for(float(lons.mean()), float(lats.mean()), code))
    return {record_id: (float(x), float(y)) for (record_id, _), (x, y) in zip(located, xy)}


def _distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def home_class(building_structure: str) -> str:
    """The seismic class assumed for a home from the plan's 建物の構造 (free text)."""
    text = building_structure or ""
    if any(word in text for word in ("鉄筋", "鉄骨", "RC", "ＲＣ", "SRC")):
        return "new_standard"
    return "unknown"


def _age(birth: Optional[str], on: date) -> Optional[int]:
    if not birth:
        return None
    born = date.fromisoformat(birth[:10])
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _group(person: dict, on: date) -> str:
    """The one occupancy group a person counts in (a shelter report's groups add up to at most the
    occupancy, so each person counts once)."""
    reasons = set(person.get("reasons") or [])
    care = set(person.get("care_needs") or [])
    if care & MEDICAL_CARE or "medical_care" in reasons:
        return "medical_care"
    if reasons & {"physical_disability", "intellectual_disability", "mental_disability"}:
        return "disabled"
    if reasons & {"infant", "pregnancy"} or care & {"infant", "pregnancy"}:
        return "pregnant_infant"
    age = _age(person.get("birth_date"), on)
    if age is not None and age >= 65:
        return "elderly"
    return "other"


@dataclass(frozen=True)
class City:
    """What the script reads, put in order once: the records sorted by id (the draws do not depend
    on the API's order), each located in the city's plane (metres), and the response's numbers."""

    scenario: object
    people: list[dict]
    plans_by_person: dict[str, dict]
    shelters: list[dict]
    districts: list[dict]
    districts_by_id: dict[str, dict]
    points: dict[str, tuple[float, float]]
    duration: float  # minutes after the quake the drill lasts
    walk: float      # metres a minute

    @classmethod
    def of(cls, scenario, *, people: list[dict], plans: list[dict], shelters: list[dict],
           districts: list[dict]) -> "City":
        districts_by_id = {d["id"]: d for d in districts}
        people = sorted(people, key=lambda p: p["id"])
        shelters = sorted(shelters, key=lambda s: s["id"])
        return cls(scenario=scenario, people=people, plans_by_person={p["person_id"]: p for p in plans},
                   shelters=shelters, districts=districts, districts_by_id=districts_by_id,
                   points=_plane_points([*people, *shelters, *districts], districts_by_id),
                   duration=float(scenario.response["duration_hours"]) * 60.0,
                   walk=float(scenario.response["walk_m_per_min"]))

    def where(self, record: dict) -> Optional[tuple[float, float]]:
        return self.points.get(record["id"])

    @property
    def quake_day(self) -> date:
        return self.scenario.origin_time.date()


@dataclass
class ShelterState:
    """A welfare shelter after the quake: damage drawn, opening time, who arrives."""

    id: str
    name: str
    intensity: Optional[float]
    shindo: Optional[str]
    collapsed: bool
    damage: str  # "unusable" | "minor" | "none"
    opens: float
    capacity: int
    point: Optional[tuple[float, float]]
    arrivals: list[str] = field(default_factory=list)  # person ids, in the order they were drawn

    def summary(self) -> dict:
        """As `DrillScript.shelters` gives it."""
        return {"id": self.id, "name": self.name, "intensity": self.intensity, "shindo": self.shindo,
                "collapsed": self.collapsed, "damage": self.damage, "capacity": self.capacity,
                "arrivals": self.arrivals, "opens_minute": self.opens}


@dataclass(frozen=True)
class Arrival:
    minute: float
    person: dict
    shelter_id: str


@dataclass
class PeopleFates:
    """Each person's outcome and shaking at home, and who walks to which shelter when."""

    intensities: list                 # JMA intensity at each home (people in City order; None/NaN unknown)
    outcomes: dict[str, str]          # person id → outcome
    arrivals: list[Arrival]           # evacuees who reach a shelter within the drill, as drawn
    unplaced: list[str]               # person ids with no usable shelter (then "needs_help")


def draw_shelters(city: City, rng: np.random.Generator) -> dict[str, ShelterState]:
    """Step 1: each shelter's damage (collapse with its seismic class's probability at its
    intensity, 軽微 with three times that) and the minute it opens; by shelter id."""
    states: dict[str, ShelterState] = {}
    for shelter, row in zip(city.shelters, shelter_damage(city.scenario, city.shelters, city.districts)):
        p = float(row["collapse_probability"] or 0.0)
        collapsed = bool(rng.random() < p)
        damaged = collapsed or bool(rng.random() < min(1.0, 3 * p))
        opens = float(rng.uniform(*SHELTER_OPEN_MINUTES))
        states[shelter["id"]] = ShelterState(
            id=shelter["id"], name=shelter.get("name", ""), intensity=row["intensity"], shindo=row["shindo"],
            collapsed=collapsed, damage="unusable" if collapsed else ("minor" if damaged else "none"),
            opens=opens, capacity=shelter.get("capacity") or 0, point=city.where(shelter))
    return states


def _draw_outcome(rng: np.random.Generator, intensity: Optional[float], p_home: float, care: set,
                  not_reachable: float) -> str:
    """One person's outcome (the module's docstring gives the model); the draws in this order."""
    home_collapsed = bool(rng.random() < p_home)
    if rng.random() < not_reachable:
        return "unreachable"
    if rng.random() < 0.3 * p_home + 0.005:
        return "injured"
    if home_collapsed or (intensity is not None and intensity >= 5.5 and rng.random() < 0.5):
        return "evacuated"
    if intensity is not None and rng.random() < min(0.9, max(0.0, (intensity - 4.5) * (
            0.25 if care & NEEDS_HELP_CARE else 0.10))):
        return "needs_help"
    return "safe_home"


def _usable_shelter(plan: dict, shelters: dict[str, ShelterState]) -> Optional[ShelterState]:
    """The plan's 避難先, or its 第二避難先 if that collapsed."""
    for key in ("destination_shelter_id", "alternate_shelter_id"):
        candidate = shelters.get(plan.get(key))
        if candidate and not candidate.collapsed:
            return candidate
    return None


def draw_people(city: City, shelters: dict[str, ShelterState], rng: np.random.Generator) -> PeopleFates:
    """Step 2: the shaking at each home, each person's outcome, and each evacuee's walk to their
    shelter (recorded in `shelters[...].arrivals`); no usable shelter → unplaced, 要支援."""
    intensities = people_intensity(city.scenario, city.people, city.districts)
    fates = PeopleFates(intensities=intensities, outcomes={}, arrivals=[], unplaced=[])
    not_reachable = float(city.scenario.response["share_not_reachable"])
    for person, intensity in zip(city.people, intensities):
        plan = city.plans_by_person.get(person["id"]) or {}
        i = float(intensity) if intensity is not None and not math.isnan(intensity) else None
        p_home = float(collapse_probability(i, home_class((plan.get("care") or {}).get("building_structure", "")),
                                            city.scenario)) if i is not None else 0.0
        outcome = _draw_outcome(rng, i, p_home, set(person.get("care_needs") or []), not_reachable)
        if outcome == "evacuated":
            target = _usable_shelter(plan, shelters)
            home = city.where(person)
            if target is None or home is None or target.point is None:
                outcome = "needs_help"  # no usable shelter: found at home by the 民生委員
                fates.unplaced.append(person["id"])
            else:
                minute = max(EVACUATION_START_MINUTES + _distance_m(home, target.point) / (city.walk / 2),
                             target.opens)
                if minute <= city.duration:
                    fates.arrivals.append(Arrival(minute, person, target.id))
                    target.arrivals.append(person["id"])
        fates.outcomes[person["id"]] = outcome
    return fates


def arrival_checks(fates: PeopleFates, shelters: dict[str, ShelterState]) -> tuple[list[Action], dict[str, float]]:
    """Step 3: each arrival's 安否確認 (避難済) by the shelter's tablet, in time order, and each
    arrived person's first check minute."""
    actions: list[Action] = []
    first_check: dict[str, float] = {}
    for arrival in sorted(fates.arrivals, key=lambda a: (a.minute, a.person["id"])):
        actions.append(Action(arrival.minute, f"drill-shelter-{arrival.shelter_id[:8]}", "safety-checks", {
            "person_id": arrival.person["id"], "outcome": "evacuated", "shelter_id": arrival.shelter_id,
            "whereabouts": shelters[arrival.shelter_id].name, "note": "訓練: 避難所で受付"}))
        first_check[arrival.person["id"]] = arrival.minute
    return actions, first_check


def shelter_reports(city: City, shelters: dict[str, ShelterState], arrivals: list[Arrival]) -> list[Action]:
    """Step 4: a collapsed shelter reports 閉鎖 / 使用不可 once; a standing one reports from its
    opening, every `shelter_report_every_minutes`, its occupancy by group."""
    by_id = {p["id"]: p for p in city.people}
    every = float(city.scenario.response["shelter_report_every_minutes"])
    actions: list[Action] = []
    for state in shelters.values():
        device = f"drill-shelter-{state.id[:8]}"
        if state.collapsed:
            actions.append(Action(COLLAPSED_REPORT_MINUTE, device, "shelter-reports", {
                "shelter_id": state.id, "open_state": "closed", "occupancy": 0, "damage": "unusable",
                "note": f"訓練: 建物倒壊のため使用不可（震度{state.shindo}）"}))
            continue
        arrived = sorted((a.minute, a.person["id"]) for a in arrivals if a.shelter_id == state.id)
        minute = state.opens
        while minute <= city.duration:
            here = [pid for m, pid in arrived if m <= minute]
            groups = {"elderly": 0, "disabled": 0, "pregnant_infant": 0, "medical_care": 0, "other": 0}
            for pid in here:
                groups[_group(by_id[pid], city.quake_day)] += 1
            actions.append(Action(minute, device, "shelter-reports", {
                "shelter_id": state.id,
                "open_state": "full" if state.capacity and len(here) >= state.capacity else "open",
                "occupancy": len(here), "occupancy_by_group": groups, "damage": state.damage,
                "note": f"訓練: 震度{state.shindo}"}))
            minute += every
    return actions


@dataclass
class Round:
    """One 民生委員's round of a 町丁目: their tablet, the drill clock and where they stand."""

    device: str
    clock: float
    at: Optional[tuple[float, float]]
    todo: list[dict]           # people with an address point, not visited yet
    unknown_place: list[dict]  # people with none: phoned from the office at the end


def visit_district(city: City, round_: Round, fates: PeopleFates, first_check: dict[str, float],
                   visit: float) -> list[Action]:
    """One 民生委員's visits, nearest first, until the drill ends; the people a shelter confirmed
    before they get there are skipped (the tablet shows them). Updates `first_check`."""
    actions: list[Action] = []
    where, duration = city.where, city.duration
    while round_.todo and round_.clock <= duration:
        nearest = min(round_.todo, key=lambda p: (_distance_m(round_.at, where(p)), p["id"]))
        round_.todo.remove(nearest)
        confirmed = first_check.get(nearest["id"])
        if confirmed is not None and confirmed <= round_.clock:
            continue  # the tablet shows the shelter confirmed them: no walk
        round_.clock += _distance_m(round_.at, where(nearest)) / city.walk + visit
        round_.at = where(nearest)
        if round_.clock > duration:
            break
        if confirmed is not None and confirmed <= round_.clock:
            continue  # received at a shelter while the 民生委員 was on the way: the tablet shows it
        outcome = fates.outcomes[nearest["id"]]
        recorded = "needs_help" if outcome == "evacuated" else outcome  # an evacuee not yet arrived
        note = "訓練: 避難所が使えず自宅待機" if nearest["id"] in fates.unplaced else "訓練: 戸別訪問"
        if outcome == "evacuated":
            recorded, note = "evacuated", "訓練: 不在（避難所へ向かったと近所の方）"
        actions.append(Action(round_.clock, round_.device, "safety-checks", {
            "person_id": nearest["id"], "outcome": recorded, "note": note}))
        first_check[nearest["id"]] = min(round_.clock, first_check.get(nearest["id"], round_.clock))
    for person in round_.unknown_place:  # no address point: phoned from the office at the end
        if round_.clock + visit <= duration:
            round_.clock += visit
            actions.append(Action(round_.clock, round_.device, "safety-checks", {
                "person_id": person["id"], "outcome": fates.outcomes[person["id"]], "note": "訓練: 電話で確認"}))
            first_check[person["id"]] = min(round_.clock, first_check.get(person["id"], round_.clock))
    return actions


def supporter_visits(city: City, fates: PeopleFates, first_check: dict[str, float],
                     rng: np.random.Generator) -> list[Action]:
    """Step 5: one 民生委員 per 町丁目 (districts in id order), starting at
    `supporters_start_minutes` ± 10; updates `first_check`."""
    by_district: dict[str, list[dict]] = {}
    for person in city.people:
        by_district.setdefault(person.get("district_id") or "none", []).append(person)
    visit = float(city.scenario.response["visit_minutes"])
    start = float(city.scenario.response["supporters_start_minutes"])
    actions: list[Action] = []
    for district_id in sorted(by_district):
        members = by_district[district_id]
        district = city.districts_by_id.get(district_id) or {}
        todo = [p for p in members if city.where(p) is not None]
        round_ = Round(device=f"drill-minsei-{district.get('code') or district_id[:8]}",
                       clock=start + float(rng.uniform(-10, 10)),
                       at=(city.where(district) if district else None) or (city.where(todo[0]) if todo else None),
                       todo=todo, unknown_place=[p for p in members if city.where(p) is None])
        actions.extend(visit_district(city, round_, fates, first_check, visit))
    return actions


def script(scenario, *, people: list[dict], plans: list[dict], shelters: list[dict], districts: list[dict],
           seed: Optional[int] = None) -> DrillScript:
    """The drill's actions for this city. `people`, `plans`, `shelters`, `districts` are the API's
    JSON records (as an administrator reads them). The steps draw from one generator, in order."""
    seed = scenario.seed if seed is None else seed
    rng = np.random.default_rng(seed)
    city = City.of(scenario, people=people, plans=plans, shelters=shelters, districts=districts)
    shelter_states = draw_shelters(city, rng)
    fates = draw_people(city, shelter_states, rng)
    actions, first_check = arrival_checks(fates, shelter_states)
    actions += shelter_reports(city, shelter_states, fates.arrivals)
    actions += supporter_visits(city, fates, first_check, rng)
    actions.sort(key=lambda a: (a.minute, a.device, a.entity, a.data.get("person_id") or a.data.get("shelter_id")))
    known = [float(i) for i in fates.intensities if i is not None and not math.isnan(i)]
    return DrillScript(scenario_id=scenario.id, seed=seed, actions=actions, outcomes=fates.outcomes,
                       first_check_minute=first_check, shelters=[s.summary() for s in shelter_states.values()],
                       unplaced=fates.unplaced, duration_minutes=city.duration,
                       intensity_median=float(np.median(known)) if known else None,
                       person_intensity={p["id"]: round(float(i), 3) for p, i in zip(city.people, fates.intensities)
                                         if i is not None and not math.isnan(i)})


def mutation_id(seed: int, scenario_id: str, index: int, action: Action) -> str:
    """A deterministic mutation id: running the same drill again sends the same ids, which the
    server answers as duplicates — a drill is never counted twice."""
    key = f"{scenario_id}:{seed}:{index}:{action.device}:{action.entity}:{action.minute:.3f}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "tsunagu-drill:" + key))


def record_id(seed: int, scenario_id: str, index: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"tsunagu-drill-record:{scenario_id}:{seed}:{index}"))


def stamp(quake_at: datetime, minute: float) -> str:
    from datetime import timedelta

    return (quake_at + timedelta(minutes=minute)).isoformat(timespec="milliseconds")
