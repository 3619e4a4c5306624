"""The demo city's shelters: 20 福祉避難所 (12 指定, 8 協定) and 15 指定避難所.

Every town has one public school as its 指定避難所. Welfare shelters are spread so that
each 福祉圏域 has at least three. Building ages are dealt from a fixed deck of seismic
profiles, so the map always shows every 耐震 class, including old buildings never
diagnosed.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from ..models import Shelter
from ..models.vocab import Capability as C
from ..models.vocab import ShelterKind
from ..models.vocab import TargetGroup as G
from .common import MUNICIPALITY_CODE, MUNICIPALITY_CODE5, IdMaker, day_between, landline, stamp
from .geography import CityMap, PointSampler
from .names import CITY_NAME, GIVEN_ADULT_FEMALE, GIVEN_ADULT_MALE, PREFECTURE, SURNAMES, TOWNS


@dataclass(frozen=True)
class Facility:
    """One welfare facility: name and katakana patterns ({stem} is the town's stem), the
    groups it accepts, its equipment, a capacity range and who runs it."""

    name: str
    kana: str
    targets: tuple[G, ...]
    capabilities: tuple[C, ...]
    capacity: tuple[int, int]
    operator: str  # "welfare", "medical" or "city"


_TOKUYO = ("特別養護老人ホーム {stem}", "トクベツヨウゴロウジンホーム {stem}")
_ROKEN = ("介護老人保健施設 {stem}", "カイゴロウジンホケンシセツ {stem}")
_ELDERLY_CARE = (C.care_beds, C.wheelchair_access, C.accessible_toilet, C.nursing_staff)


def _named(pattern: tuple[str, str], ending: str, ending_kana: str) -> tuple[str, str]:
    return pattern[0] + ending, pattern[1] + ending_kana


# Twelve 指定福祉避難所 then eight 協定福祉避難所.
WELFARE_FACILITIES: tuple[tuple[ShelterKind, Facility], ...] = tuple(
    (ShelterKind.designated_welfare if n < 12 else ShelterKind.agreement_welfare, f) for n, f in enumerate((
        Facility(*_named(_TOKUYO, "の里", "ノサト"), (G.elderly,), _ELDERLY_CARE + (C.backup_power,),
                 (25, 40), "welfare"),
        Facility(*_named(_TOKUYO, "苑", "エン"), (G.elderly,), _ELDERLY_CARE, (20, 35), "welfare"),
        Facility(*_named(_ROKEN, "ケアセンター", "ケアセンター"), (G.elderly, G.medical_care),
                 _ELDERLY_CARE + (C.oxygen, C.backup_power), (15, 30), "medical"),
        Facility("障害者支援施設 {stem}学園", "ショウガイシャシエンシセツ {stem}ガクエン", (G.disabled,),
                 (C.wheelchair_access, C.accessible_toilet, C.private_rooms), (15, 30), "welfare"),
        Facility("医療型障害児入所施設 {stem}療育センター", "イリョウガタショウガイジニュウショシセツ {stem}リョウイクセンター",
                 (G.disabled, G.medical_care),
                 (C.backup_power, C.oxygen, C.nursing_staff, C.care_beds, C.private_rooms), (8, 15), "medical"),
        Facility("つなぎ市{stem}老人福祉センター", "ツナギシ{stem}ロウジンフクシセンター", (G.elderly, G.disabled),
                 (C.wheelchair_access, C.accessible_toilet, C.backup_power), (40, 80), "city"),
        Facility("つなぎ市総合福祉センター", "ツナギシソウゴウフクシセンター",
                 (G.elderly, G.disabled, G.pregnant_infant),
                 (C.wheelchair_access, C.accessible_toilet, C.backup_power, C.multilingual, C.sign_language,
                  C.infant_care), (60, 120), "city"),
        Facility("つなぎ市立{stem}保育園", "ツナギシリツ{stem}ホイクエン", (G.pregnant_infant,),
                 (C.infant_care, C.private_rooms, C.accessible_toilet), (10, 25), "city"),
        Facility(*_named(_TOKUYO, "ホーム", "ホーム"), (G.elderly,), _ELDERLY_CARE, (20, 30), "welfare"),
        Facility("障害者支援施設 {stem}ひかり園", "ショウガイシャシエンシセツ {stem}ヒカリエン", (G.disabled,),
                 (C.wheelchair_access, C.accessible_toilet, C.sign_language), (10, 25), "welfare"),
        Facility("{stem}地域福祉センター", "{stem}チイキフクシセンター", (G.elderly, G.disabled),
                 (C.wheelchair_access, C.accessible_toilet), (30, 60), "city"),
        Facility("{stem}助産院", "{stem}ジョサンイン", (G.pregnant_infant,),
                 (C.infant_care, C.nursing_staff, C.private_rooms), (5, 10), "welfare"),
        # 協定福祉避難所
        Facility(*_named(_TOKUYO, "の杜", "ノモリ"), (G.elderly,), _ELDERLY_CARE, (15, 25), "welfare"),
        Facility(*_named(_TOKUYO, "やすらぎ苑", "ヤスラギエン"), (G.elderly,), _ELDERLY_CARE, (15, 25), "welfare"),
        Facility("認知症グループホーム {stem}の家", "ニンチショウグループホーム {stem}ノイエ", (G.elderly,),
                 (C.private_rooms,), (5, 9), "welfare"),
        Facility(*_named(_ROKEN, "リハビリセンター", "リハビリセンター"), (G.elderly, G.medical_care),
                 _ELDERLY_CARE + (C.oxygen,), (10, 20), "medical"),
        Facility("障害者グループホーム {stem}ひだまり", "ショウガイシャグループホーム {stem}ヒダマリ", (G.disabled,),
                 (C.private_rooms, C.accessible_toilet), (5, 10), "welfare"),
        Facility("有料老人ホーム {stem}レジデンス", "ユウリョウロウジンホーム {stem}レジデンス", (G.elderly,),
                 (C.care_beds, C.wheelchair_access, C.accessible_toilet), (10, 20), "welfare"),
        Facility("{stem}みらい保育園", "{stem}ミライホイクエン", (G.pregnant_infant,),
                 (C.infant_care, C.accessible_toilet), (8, 15), "welfare"),
        Facility("ナーシングホーム {stem}", "ナーシングホーム {stem}", (G.elderly, G.medical_care),
                 (C.care_beds, C.nursing_staff, C.backup_power, C.dialysis_link, C.oxygen), (8, 15), "medical"),
    ))
)

# Every 指定避難所 has an accessible toilet; about half have each of the others.
_GENERAL_CAPS = (C.accessible_toilet, C.wheelchair_access, C.backup_power, C.multilingual)

# 指定避難所 buildings: (name ending, katakana, capacity range).
SCHOOLS = (("小学校", "ショウガッコウ", (350, 600)),) * 8 + (("中学校", "チュウガッコウ", (450, 800)),) * 4
HALLS = (("地区会館", "チクカイカン", (80, 150)), ("地区会館", "チクカイカン", (80, 150)))

# Seismic profiles, one per shelter: how each 耐震 class arises from the building record.
SEISMIC_DECK = (("new",) * 18 + ("retrofitted",) * 6 + ("low",) * 3 + ("some",) * 3 + ("high",) * 2
                + ("undiagnosed",) * 3)


def build_shelters(rng: random.Random, stamps: random.Random, ids: IdMaker, city: CityMap,
                   district_ids: dict[str, uuid.UUID], now: date) -> list[Shelter]:
    """All 35 shelters, each placed inside a 町丁目 and given a building history."""
    areas: dict[str, list] = {}
    for chome in city.chome:
        areas.setdefault(chome.area_code, []).append(chome)
    # Three welfare shelters per 福祉圏域, then two more anywhere, never two in one 町丁目.
    welfare_sites = [c for code in sorted(areas) for c in rng.sample(areas[code], 3)]
    rest = [c for c in city.chome if c not in welfare_sites]
    welfare_sites += rng.sample(rest, len(WELFARE_FACILITIES) - len(welfare_sites))
    rng.shuffle(welfare_sites)

    deck = list(SEISMIC_DECK)
    rng.shuffle(deck)
    sites: list[dict] = []  # what each shelter is and where, before it gets a building
    for (kind, facility), chome in zip(WELFARE_FACILITIES, welfare_sites):
        stem, stem_kana = TOWNS[chome.town][2:]
        sites.append(dict(kind=kind, name=facility.name.format(stem=stem),
                          name_kana=facility.kana.format(stem=stem_kana), chome=chome,
                          targets=list(facility.targets), capacity=rng.randint(*facility.capacity),
                          capabilities=list(facility.capabilities), operator=_operator(facility.operator, stem)))

    # Each town's school is its 指定避難所; two halls and the gym fill the rest.
    school_towns = list(range(len(TOWNS)))
    rng.shuffle(school_towns)
    general_sites = []
    for town, (ending, ending_kana, capacity) in zip(school_towns, SCHOOLS):
        chome = rng.choice([c for c in city.chome if c.town == town])
        stem, stem_kana = TOWNS[town][2:]
        general_sites.append((f"{CITY_NAME}立{stem}{ending}", f"ツナギシリツ{stem_kana}{ending_kana}",
                              chome, capacity, "school"))
    taken = {site[2].code for site in general_sites}
    for ending, ending_kana, capacity in HALLS:
        chome = rng.choice([c for c in city.chome if c.code not in taken])
        taken.add(chome.code)
        stem, stem_kana = TOWNS[chome.town][2:]
        general_sites.append((f"{stem}{ending}", f"{stem_kana}{ending_kana}", chome, capacity, "city"))
    chome = rng.choice([c for c in city.chome if c.code not in taken])
    general_sites.append((f"{CITY_NAME}総合体育館", "ツナギシソウゴウタイイクカン", chome, (1000, 1400), "city"))
    for name, kana, chome, capacity, operator in general_sites:
        capabilities = [C.accessible_toilet] + [c for c in _GENERAL_CAPS[1:] if rng.random() < 0.5]
        sites.append(dict(kind=ShelterKind.designated, name=name, name_kana=kana, chome=chome,
                          targets=[G.general], capacity=rng.randint(*capacity), capabilities=capabilities,
                          operator="つなぎ市教育委員会" if operator == "school" else CITY_NAME))

    # 共通ID numbers follow the 町丁目 code, as a city's list usually runs by area.
    # 協定福祉避難所 are not designated, so they are not in the GSI list and have none.
    numbered = sorted((n for n, site in enumerate(sites) if site["kind"] != ShelterKind.agreement_welfare),
                      key=lambda n: (sites[n]["chome"].code, sites[n]["name"]))
    common_ids = {n: _common_id(number, sites[n]["kind"]) for number, n in enumerate(numbered, start=1)}

    shelters = []
    for index, (site, profile) in enumerate(zip(sites, deck)):
        chome = site["chome"]
        lon, lat = PointSampler(chome.ring).sample(rng)
        building = _building(rng, profile)
        created = stamp(day_between(stamps, now - timedelta(days=5 * 365), now - timedelta(days=400)), stamps)
        updated = max(created, stamp(day_between(stamps, created.date(), now - timedelta(days=1)), stamps))
        surname, given = rng.choice(SURNAMES), rng.choice(GIVEN_ADULT_MALE + GIVEN_ADULT_FEMALE)
        shelter = Shelter(
            id=ids("shelter", index), created_at=created, updated_at=updated,
            common_id=common_ids.get(index), municipality_code=MUNICIPALITY_CODE,
            name=site["name"], name_kana=site["name_kana"], kind=site["kind"],
            target_groups=site["targets"], capacity=site["capacity"], capabilities=site["capabilities"],
            address=f"{PREFECTURE}{CITY_NAME}{chome.name}{rng.randint(1, 25)}番{rng.randint(1, 30)}号",
            lon=lon, lat=lat, district_id=district_ids[chome.code], operator=site["operator"],
            phone=landline(rng), contact_name=f"{surname[0]} {given[0]}", **building,
        )
        shelter.seismic_class = shelter.derived_seismic_class()
        shelters.append(shelter)
    return shelters


def _common_id(number: int, kind: ShelterKind) -> str:
    """共通ID: E + municipality + facility number + 1 (避難所) + 2 welfare / 1 general + sequence."""
    minor = "1" if kind == ShelterKind.designated else "2"
    return f"E{MUNICIPALITY_CODE5}{number:05d}1{minor}1"


def _operator(kind: str, stem: str) -> str:
    if kind == "city":
        return CITY_NAME
    if kind == "medical":
        return f"医療法人社団 {stem}会"
    return f"社会福祉法人 {stem}福祉会"


def _building(rng: random.Random, profile: str) -> dict:
    """Permit date, diagnosis, Is値 and retrofit that produce the profile's 耐震 class."""
    if profile == "new":
        permit = day_between(rng, date(1981, 6, 1), date(2019, 3, 31))
        return dict(building_permit_date=permit, seismic_diagnosis_done=None, is_value=None,
                    retrofit_done=None, notes="")
    permit = day_between(rng, date(1962, 4, 1), date(1981, 5, 31))
    if profile == "undiagnosed":
        return dict(building_permit_date=permit, seismic_diagnosis_done=False, is_value=None,
                    retrofit_done=False, notes="耐震診断未実施")
    if profile == "retrofitted":
        # The Is値 kept is the one from the diagnosis that led to the retrofit.
        year = rng.randint(2000, 2015)
        return dict(building_permit_date=permit, seismic_diagnosis_done=True,
                    is_value=round(rng.uniform(0.25, 0.55), 2), retrofit_done=True,
                    notes=f"{year}年度に耐震改修済")
    low, high = {"low": (0.6, 0.95), "some": (0.3, 0.59), "high": (0.12, 0.29)}[profile]
    return dict(building_permit_date=permit, seismic_diagnosis_done=True,
                is_value=round(rng.uniform(low, high), 2), retrofit_done=False, notes="")
