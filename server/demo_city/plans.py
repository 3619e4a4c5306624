"""個別避難計画 for the demo city's people.

About 85% of people have a plan; how far it got depends on their consent (a plan is made
with the person, so refusals mostly stay at 未着手 or 作成中). Destinations are chosen the
way a welfare office would: people who need a welfare shelter go to the nearest
指定福祉避難所 that accepts their group and still has room (direct evacuation), with a
協定福祉避難所 or the nearest 指定避難所 as the alternate; everyone else goes to the nearest
指定避難所. People with the greatest needs are placed first, so ventilator users get the
welfare places before people with lighter needs.
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

from ..models import EvacuationPlan, Person, Shelter
from ..models.plans import CareNotes, Supporter
from ..models.vocab import CareNeed as N
from ..models.vocab import Consent, PlanStatus, Reason, ShelterKind, TargetGroup
from .common import IdMaker, age_on, day_between, landline, mobile, new_row, stamp, Weighted
from .names import CLINICS, GIVEN_ADULT_FEMALE, GIVEN_ADULT_MALE, GIVEN_OLDER_FEMALE, GIVEN_OLDER_MALE, SURNAMES

# (share with a plan, status weights) by the person's consent to sharing.
PLAN_MIX = {
    Consent.yes: (0.95, Weighted({PlanStatus.done: 60, PlanStatus.needs_review: 20, PlanStatus.drafting: 15,
                                  PlanStatus.not_started: 5})),
    Consent.no: (0.78, Weighted({PlanStatus.drafting: 35, PlanStatus.not_started: 65})),
    Consent.not_asked: (0.78, Weighted({PlanStatus.drafting: 25, PlanStatus.not_started: 75})),
}
MEDICAL_NEEDS = {N.ventilator, N.oxygen, N.suction, N.dialysis}
DIRECTIONS = ("東", "北東", "北", "北西", "西", "南西", "南", "南東")
BLOOD_TYPES = Weighted({"A": 38, "O": 31, "B": 22, "AB": 9, "": 10})
HELP = {
    N.dementia: "声をかけ続け、一人にしない", N.hearing: "筆談ボードと身振りで伝える",
    N.visual: "肘を持ってもらい手引きで誘導する", N.intellectual: "短い言葉で一つずつ伝える",
    N.mental: "落ち着いた声で、急かさない", N.language: "やさしい日本語か翻訳アプリで伝える",
    N.ventilator: "呼吸器と外部バッテリーを一緒に運ぶ。アンビューバッグを携行",
    N.oxygen: "携帯用酸素ボンベに切り替えてから移動", N.pregnancy: "腹部を圧迫しないよう注意",
    N.infant: "抱っこひもで移動し、両手を空ける", N.suction: "移動前にたん吸引を済ませる",
}
ITEMS = {
    N.medication: "お薬手帳・常用薬（7日分）", N.ventilator: "外部バッテリー、予備回路、アンビューバッグ",
    N.oxygen: "携帯用酸素ボンベ", N.power_dependent: "充電器・延長コード", N.suction: "手動式吸引器",
    N.dialysis: "透析手帳", N.infant: "ミルク、おむつ、母子健康手帳", N.pregnancy: "母子健康手帳",
    N.allergy: "アレルギー対応食", N.hearing: "補聴器と予備電池", N.visual: "白杖",
}


def is_older(person: Person, now: date) -> bool:
    """65 or over on `now` (高齢者 in the care-insurance sense)."""
    return age_on(person.birth_date, now) >= 65


def target_group(person: Person, now: date) -> TargetGroup:
    """The 受入対象者 group a person belongs to; `general` means a 指定避難所 will do."""
    reasons, needs = set(person.reasons), set(person.care_needs)
    if reasons & {Reason.infant, Reason.pregnancy}:
        return TargetGroup.pregnant_infant
    if Reason.medical_care in reasons or needs & MEDICAL_NEEDS:
        return TargetGroup.medical_care
    if reasons & {Reason.physical_disability, Reason.intellectual_disability, Reason.mental_disability,
                  Reason.intractable_disease}:
        return TargetGroup.elderly if is_older(person, now) else TargetGroup.disabled
    if Reason.care_level_3plus in reasons or needs & {N.bedridden, N.wheelchair, N.dementia}:
        return TargetGroup.elderly
    return TargetGroup.general


def _priority(person: Person, group: TargetGroup) -> int:
    """Who is placed first when welfare places are scarce: 0 is the most urgent."""
    needs = set(person.care_needs)
    if N.ventilator in needs:
        return 0
    if needs & MEDICAL_NEEDS or N.bedridden in needs:
        return 1
    if group in (TargetGroup.pregnant_infant, TargetGroup.disabled):
        return 2
    return 3


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> tuple[float, float]:
    """East and north offsets in metres; a flat-earth approximation is ample within a city."""
    return (lon2 - lon1) * 111_320 * math.cos(math.radians(lat1)), (lat2 - lat1) * 110_950


class ShelterChooser:
    """Nearest suitable shelter, with the room left in each welfare shelter."""

    def __init__(self, shelters: list[Shelter], now: date):
        self.shelters = [(s, s.lon, s.lat, s.name) for s in shelters]
        self.now = now
        self.room = {s.id: s.capacity or 0 for s in shelters if s.kind != ShelterKind.designated}
        self._ranked: dict[tuple[float, float], tuple[list[Shelter], list[Shelter]]] = {}

    def ranked(self, person: Person) -> tuple[list[Shelter], list[Shelter]]:
        """All shelters by distance from home, and the 指定避難所 among them."""
        # Homes rounded to about 100 m share one ranking; near enough to choose a shelter.
        key = (round(person.lon, 3), round(person.lat, 3))
        if key not in self._ranked:
            ranked = [s for s, *_ in sorted(self.shelters, key=lambda t: (
                math.hypot(*metres(key[0], key[1], t[1], t[2])), t[3]))]
            self._ranked[key] = ranked, [s for s in ranked if s.kind == ShelterKind.designated]
        return self._ranked[key]

    def choose(self, person: Person, group: TargetGroup) -> tuple[Shelter, Shelter | None]:
        ranked, general = self.ranked(person)
        if group == TargetGroup.general:
            return general[0], general[1]
        groups = [group]
        if group == TargetGroup.medical_care:  # when medical places run out, fall back by age
            groups.append(TargetGroup.elderly if is_older(person, self.now) else TargetGroup.disabled)
        for wanted in groups:
            for shelter in ranked:
                if (shelter.kind == ShelterKind.designated_welfare and wanted in shelter.target_groups
                        and self.room[shelter.id] > 0):
                    self.room[shelter.id] -= 1
                    return shelter, self._agreement(ranked, wanted) or general[0]
        # No room left: wait at the 指定避難所 for a 協定福祉避難所 to open.
        return general[0], self._agreement(ranked, group) or general[1]

    @staticmethod
    def _agreement(ranked: list[Shelter], group: TargetGroup) -> Shelter | None:
        return next((s for s in ranked if s.kind == ShelterKind.agreement_welfare and group in s.target_groups),
                    None)


def build_plans(rng: random.Random, stamps: random.Random, ids: IdMaker, people: list[Person],
                shelters: list[Shelter], now: date) -> list[EvacuationPlan]:
    """Plans for about 85% of `people`, in register order."""
    drafts = []
    for person in people:
        share, statuses = PLAN_MIX[person.consent]
        if rng.random() < share:
            drafts.append((person, statuses.pick(rng)))

    chooser = ShelterChooser(shelters, now)
    destinations = {}
    started = [(p, s) for p, s in drafts if s != PlanStatus.not_started]
    groups = {person.id: target_group(person, now) for person, _ in started}
    for person, _ in sorted(started, key=lambda d: (_priority(d[0], groups[d[0].id]), d[0].register_no)):
        destinations[person.id] = chooser.choose(person, groups[person.id])

    return [_plan(rng, stamps, ids, person, status, destinations.get(person.id), now)
            for person, status in drafts]


def _plan(rng, stamps, ids, person: Person, status: PlanStatus, destination, now: date) -> EvacuationPlan:
    yesterday = now - timedelta(days=1)
    created_day = day_between(stamps, max(person.created_at.date(), now - timedelta(days=1095)), yesterday)
    review_due = None
    if status == PlanStatus.done:
        # Reviewed within the last year, so the yearly review is still ahead.
        updated_day = day_between(stamps, max(created_day, now - timedelta(days=330)), yesterday)
        review_due = updated_day + timedelta(days=365)
    else:
        updated_day = day_between(stamps, created_day, yesterday)
        if status == PlanStatus.needs_review:
            review_due = day_between(stamps, updated_day, yesterday)  # already passed

    agreed = status in (PlanStatus.done, PlanStatus.needs_review) or (
        status == PlanStatus.drafting and person.consent == Consent.yes)
    fewest, most = {PlanStatus.done: (1, 3), PlanStatus.needs_review: (1, 3),
                    PlanStatus.drafting: (0, 2)}.get(status, (0, 0))
    count = rng.randint(fewest, most)
    shelter, alternate = destination or (None, None)
    created = stamp(created_day, stamps)
    return new_row(
        EvacuationPlan,
        id=ids("plan", person.register_no), person_id=person.id, status=status,
        created_at=created, updated_at=max(created, stamp(updated_day, stamps)),
        supporters=_supporters(rng, person, count, now),
        destination_shelter_id=shelter.id if shelter else None,
        alternate_shelter_id=alternate.id if alternate else None,
        route_note=_route(person, shelter) if shelter else "",
        timing_note=_timing(person) if shelter else "",
        care=_care(rng, person) if status != PlanStatus.not_started else CareNotes(),
        consent=agreed,
        consent_date=day_between(stamps, created_day, updated_day) if agreed else None,
        author=_author(rng, person, now) if status != PlanStatus.not_started else "",
        review_due=review_due,
    )


def _name(rng: random.Random, older: bool) -> str:
    surname = rng.choice(SURNAMES)[0]
    given = rng.choice(GIVEN_OLDER_MALE + GIVEN_OLDER_FEMALE if older else GIVEN_ADULT_MALE + GIVEN_ADULT_FEMALE)
    return f"{surname} {given[0]}"


def _supporters(rng: random.Random, person: Person, count: int, now: date) -> list[Supporter]:
    town = person.neighborhood_association.removesuffix("自治会")
    options = ["neighbour", "neighbour", "bousai", "minsei", "professional"]
    if person.emergency_contacts:
        options.insert(0, "family")
    supporters = []
    for kind in rng.sample(options, min(count, len(options))):
        if kind == "family":
            contact = person.emergency_contacts[0]
            supporters.append(Supporter(name=contact.name, relation=contact.relation, phone=contact.phone))
        elif kind == "neighbour":
            chome = person.address[: person.address.index("丁目") + 2]
            address = f"{chome}{rng.randint(1, 25)}番{rng.randint(1, 30)}号"
            supporters.append(Supporter(name=_name(rng, rng.random() < 0.6), relation="近隣住民", address=address,
                                        phone=landline(rng)))
        elif kind == "bousai":
            supporters.append(Supporter(name=f"{town}自主防災会", relation="自主防災組織", phone=mobile(rng)))
        elif kind == "minsei":
            supporters.append(Supporter(name=person.minsei_iin, relation="民生委員", phone=mobile(rng)))
        else:
            relation = "ケアマネジャー" if is_older(person, now) else "相談支援専門員"
            supporters.append(Supporter(name=_name(rng, False), relation=relation, phone=landline(rng)))
    return supporters


def _route(person: Person, shelter: Shelter) -> str:
    east, north = metres(person.lon, person.lat, shelter.lon, shelter.lat)
    distance = max(50, round(math.hypot(east, north), -1))
    direction = DIRECTIONS[round(math.degrees(math.atan2(north, east)) / 45) % 8]
    needs = set(person.care_needs)
    if needs & {N.bedridden, N.ventilator}:
        return f"自宅から{direction}へ約{distance:.0f}m（{shelter.name}）。福祉車両または家族の車で搬送"
    minutes = math.ceil(distance / 40)  # 40 m a minute: walking with someone who needs help
    route = f"自宅から{direction}へ約{distance:.0f}m、{shelter.name}まで徒歩約{minutes}分"
    if N.wheelchair in needs:
        route += "。車いすで通れる段差の少ない道を使う"
    return route


def _timing(person: Person) -> str:
    if set(person.care_needs) & {N.power_dependent, N.ventilator}:
        return "大雨・台風の予報が出た段階で、停電前に福祉避難所へ直接避難"
    return "高齢者等避難の発令で避難を開始する"


def _care(rng: random.Random, person: Person) -> CareNotes:
    needs = list(person.care_needs)
    if N.bedridden in needs:
        walking = "寝たきり。ストレッチャーか担架での搬送が必要"
    elif N.wheelchair in needs:
        walking = "車いすを使用。段差は2人で介助"
    elif N.walking_aid in needs:
        walking = "杖歩行。長い距離は途中で休憩が必要"
    elif N.infant in needs:
        walking = "抱っこまたはベビーカーで移動"
    else:
        walking = "自力で歩ける"
    apartment = " " in person.address
    return CareNotes(
        walking_ability=walking,
        how_to_help="。".join(HELP[n] for n in needs if n in HELP) or "避難の声かけと付き添い",
        items_to_carry="、".join(ITEMS[n] for n in needs if n in ITEMS) or "お薬手帳、保険証、眼鏡",
        doctor=f"{rng.choice(CLINICS)} {landline(rng)}",
        conditions=person.reason_note,
        allergies=rng.choice(("卵", "小麦", "そば", "乳")) if N.allergy in needs else "",
        blood_type=BLOOD_TYPES.pick(rng),
        usual_location="1階の介護ベッド" if N.bedridden in needs else rng.choice(
            ("1階の居間", "1階奥の和室", "2階の寝室", "居間")),
        building_structure=f"鉄筋コンクリート造{rng.randint(3, 6)}階建" if apartment else rng.choice(
            ("木造2階建", "木造平屋", "鉄骨造2階建")),
    )


def _author(rng: random.Random, person: Person, now: date) -> str:
    if rng.random() < 0.5:
        return f"つなぎ市地域共生推進課 {rng.choice(SURNAMES)[0]}"
    relation = "ケアマネジャー" if is_older(person, now) else "相談支援専門員"
    return f"{relation} {_name(rng, False)}"
