"""The field response to a drill earthquake, as a script of actions (pure: same inputs and seed,
same script).

Input is what the drill's operator reads from the public API — people, plans, shelters and
districts as JSON dictionaries — and a scenario (scenario.py). Output is a `DrillScript`: the
records each virtual tablet will send, each at a minute after the quake, and the tallies the
simulation expects the server to end up with (runner.py checks them against what the server
holds). Nothing here talks to the server or reads a clock.

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


def script(scenario, *, people: list[dict], plans: list[dict], shelters: list[dict], districts: list[dict],
           seed: Optional[int] = None) -> DrillScript:
    """The drill's actions for this city. `people`, `plans`, `shelters`, `districts` are the API's
    JSON records (as an administrator reads them)."""
    seed = scenario.seed if seed is None else seed
    rng = np.random.default_rng(seed)
    response = scenario.response
    duration = float(response["duration_hours"]) * 60.0
    walk = float(response["walk_m_per_min"])
    quake_day = scenario.origin_time.date()
    district_by_id = {d["id"]: d for d in districts}
    plan_by_person = {p["person_id"]: p for p in plans}
    people = sorted(people, key=lambda p: p["id"])  # the draw does not depend on the API's order
    shelters = sorted(shelters, key=lambda s: s["id"])

    points = _plane_points([*people, *shelters, *districts], district_by_id)

    def where(record: dict) -> Optional[tuple[float, float]]:
        return points.get(record["id"])

    # ---- shelters
    actions: list[Action] = []
    shelter_rows = shelter_damage(scenario, shelters, districts)
    shelter_state: dict[str, dict] = {}
    for shelter, row in zip(shelters, shelter_rows):
        p = float(row["collapse_probability"] or 0.0)
        collapsed = bool(rng.random() < p)
        damaged = collapsed or bool(rng.random() < min(1.0, 3 * p))
        opens = float(rng.uniform(*SHELTER_OPEN_MINUTES))
        shelter_state[shelter["id"]] = {
            "id": shelter["id"], "name": shelter.get("name", ""), "intensity": row["intensity"], "shindo": row["shindo"],
            "collapsed": collapsed, "damage": "unusable" if collapsed else ("minor" if damaged else "none"),
            "opens": opens, "capacity": shelter.get("capacity") or 0, "arrivals": [], "point": where(shelter)}

    # ---- people: the shaking at home, then an outcome
    intensities = people_intensity(scenario, people, districts)
    outcomes: dict[str, str] = {}
    arrivals: list[tuple[float, dict, str]] = []  # (minute, person, shelter id)
    unplaced: list[str] = []
    not_reachable = float(response["share_not_reachable"])
    for person, intensity in zip(people, intensities):
        plan = plan_by_person.get(person["id"]) or {}
        care = set(person.get("care_needs") or [])
        i = float(intensity) if intensity is not None and not math.isnan(intensity) else None
        p_home = float(collapse_probability(i, home_class((plan.get("care") or {}).get("building_structure", "")),
                                            scenario)) if i is not None else 0.0
        home_collapsed = bool(rng.random() < p_home)
        draw = rng.random()
        if draw < not_reachable:
            outcome = "unreachable"
        elif rng.random() < 0.3 * p_home + 0.005:
            outcome = "injured"
        elif home_collapsed or (i is not None and i >= 5.5 and rng.random() < 0.5):
            outcome = "evacuated"
        elif i is not None and rng.random() < min(0.9, max(0.0, (i - 4.5) * (0.25 if care & NEEDS_HELP_CARE else 0.10))):
            outcome = "needs_help"
        else:
            outcome = "safe_home"
        if outcome == "evacuated":
            target = None
            for key in ("destination_shelter_id", "alternate_shelter_id"):
                candidate = shelter_state.get(plan.get(key))
                if candidate and not candidate["collapsed"]:
                    target = candidate
                    break
            home = where(person)
            if target is None or home is None or target["point"] is None:
                outcome = "needs_help"  # no usable shelter: found at home by the 民生委員
                unplaced.append(person["id"])
            else:
                minute = EVACUATION_START_MINUTES + _distance_m(home, target["point"]) / (walk / 2)
                minute = max(minute, target["opens"])
                if minute <= duration:
                    arrivals.append((minute, person, target["id"]))
                    target["arrivals"].append(person["id"])
        outcomes[person["id"]] = outcome

    first_check: dict[str, float] = {}
    for minute, person, shelter_id in sorted(arrivals, key=lambda a: (a[0], a[1]["id"])):
        actions.append(Action(minute, f"drill-shelter-{shelter_id[:8]}", "safety-checks", {
            "person_id": person["id"], "outcome": "evacuated", "shelter_id": shelter_id,
            "whereabouts": shelter_state[shelter_id]["name"], "note": "訓練: 避難所で受付"}))
        first_check[person["id"]] = minute

    # ---- shelter reports
    by_id = {p["id"]: p for p in people}
    for state in shelter_state.values():
        device = f"drill-shelter-{state['id'][:8]}"
        if state["collapsed"]:
            actions.append(Action(COLLAPSED_REPORT_MINUTE, device, "shelter-reports", {
                "shelter_id": state["id"], "open_state": "closed", "occupancy": 0, "damage": "unusable",
                "note": f"訓練: 建物倒壊のため使用不可（震度{state['shindo']}）"}))
            continue
        arrived = sorted((m, pid) for m, p, sid in arrivals if sid == state["id"] for pid in [p["id"]])
        every = float(response["shelter_report_every_minutes"])
        minute = state["opens"]
        while minute <= duration:
            here = [pid for m, pid in arrived if m <= minute]
            groups = {"elderly": 0, "disabled": 0, "pregnant_infant": 0, "medical_care": 0, "other": 0}
            for pid in here:
                groups[_group(by_id[pid], quake_day)] += 1
            capacity = state["capacity"]
            actions.append(Action(minute, device, "shelter-reports", {
                "shelter_id": state["id"], "open_state": "full" if capacity and len(here) >= capacity else "open",
                "occupancy": len(here), "occupancy_by_group": groups, "damage": state["damage"],
                "note": f"訓練: 震度{state['shindo']}"}))
            minute += every

    # ---- 民生委員 visits, one tablet per 町丁目, nearest first
    by_district: dict[str, list[dict]] = {}
    for person in people:
        by_district.setdefault(person.get("district_id") or "none", []).append(person)
    visit = float(response["visit_minutes"])
    start = float(response["supporters_start_minutes"])
    for district_id in sorted(by_district):
        members = by_district[district_id]
        district = district_by_id.get(district_id) or {}
        device = f"drill-minsei-{district.get('code') or district_id[:8]}"
        clock = start + float(rng.uniform(-10, 10))
        todo = [p for p in members if where(p) is not None]
        unknown_place = [p for p in members if where(p) is None]
        at = (where(district) if district else None) or (where(todo[0]) if todo else None)
        while todo and clock <= duration:
            nearest = min(todo, key=lambda p: (_distance_m(at, where(p)), p["id"]))
            todo.remove(nearest)
            confirmed = first_check.get(nearest["id"])
            if confirmed is not None and confirmed <= clock:
                continue  # the tablet shows the shelter confirmed them: no walk
            clock += _distance_m(at, where(nearest)) / walk + visit
            at = where(nearest)
            if clock > duration:
                break
            if confirmed is not None and confirmed <= clock:
                continue  # received at a shelter while the 民生委員 was on the way: the tablet shows it
            outcome = outcomes[nearest["id"]]
            recorded = "needs_help" if outcome == "evacuated" else outcome  # an evacuee not yet arrived
            note = "訓練: 避難所が使えず自宅待機" if nearest["id"] in unplaced else "訓練: 戸別訪問"
            if outcome == "evacuated":
                recorded, note = "evacuated", "訓練: 不在（避難所へ向かったと近所の方）"
            actions.append(Action(clock, device, "safety-checks", {
                "person_id": nearest["id"], "outcome": recorded, "note": note}))
            first_check[nearest["id"]] = min(clock, first_check.get(nearest["id"], clock))
        for person in unknown_place:  # no address point: phoned from the office at the end
            if clock + visit <= duration:
                clock += visit
                actions.append(Action(clock, device, "safety-checks", {
                    "person_id": person["id"], "outcome": outcomes[person["id"]], "note": "訓練: 電話で確認"}))
                first_check[person["id"]] = min(clock, first_check.get(person["id"], clock))

    actions.sort(key=lambda a: (a.minute, a.device, a.entity, a.data.get("person_id") or a.data.get("shelter_id")))
    shelters_out = [{k: v for k, v in s.items() if k not in ("point", "opens")} | {"opens_minute": s["opens"]}
                    for s in shelter_state.values()]
    known = [float(i) for i in intensities if i is not None and not math.isnan(i)]
    return DrillScript(scenario_id=scenario.id, seed=seed, actions=actions, outcomes=outcomes,
                       first_check_minute=first_check, shelters=shelters_out, unplaced=unplaced,
                       duration_minutes=duration, intensity_median=float(np.median(known)) if known else None,
                       person_intensity={p["id"]: round(float(i), 3) for p, i in zip(people, intensities)
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
