"""Registered people (避難行動要支援者) of the demo city.

Each person is drawn from a category (older person, adult or child with a disability,
child needing medical care, infant, pregnant woman, foreign resident) and everything
else follows from it, so the record is consistent: a ventilator user is also
power-dependent and needs medical care, an infant has the reason 乳幼児, an elderly-only
household is entered as one. Some older couples are both on the register at the same
address.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

from ..models import Person
from ..models.people import EmergencyContact, with_kana_key
from ..models.vocab import CareNeed as N
from ..models.vocab import Consent, Household, Reason, Sex
from .common import (MUNICIPALITY_CODE, IdMaker, birth_date_for_age, day_between, landline, mobile, new_row, stamp,
                     Weighted)
from .geography import CityMap, PointSampler
from .names import (BUILDING_NAMES, CITY_NAME, FOREIGN_NAMES, GIVEN_ADULT_FEMALE, GIVEN_ADULT_MALE,
                    GIVEN_CHILD_FEMALE, GIVEN_CHILD_MALE, GIVEN_OLDER_FEMALE, GIVEN_OLDER_MALE, PREFECTURE,
                    SURNAMES, TOWNS)

CATEGORIES = Weighted({"elderly": 81, "adult_disabled": 9, "child_medical": 1.5, "child_disabled": 1.5,
                       "infant": 2.5, "pregnant": 2, "foreign": 2.5})
CONSENT = Weighted({Consent.yes: 40, Consent.no: 25, Consent.not_asked: 35})
LANGUAGES = Weighted({"zh": 30, "vi": 25, "en": 25, "pt": 20})
ELDERLY_KINDS = Weighted({"care": 35, "alone": 30, "physical": 13, "medical": 8, "disease": 5, "sensory": 6,
                          "other": 3})
ELDERLY_HOUSEHOLDS = Weighted({Household.alone: 25, Household.elderly_only: 30, Household.with_family: 43,
                               Household.facility: 2})
ADULT_KINDS = Weighted({"physical": 40, "intellectual": 25, "mental": 20, "disease": 10, "medical": 5})
ADULT_PHYSICAL_NEEDS = Weighted({N.wheelchair: 50, N.walking_aid: 30, N.visual: 10, N.hearing: 10})
ADULT_HOUSEHOLDS = Weighted({Household.with_family: 65, Household.alone: 25, Household.other: 10})
DEVICES_ADULT = Weighted({"oxygen": 55, "ventilator": 15, "dialysis": 30})
DEVICES_CHILD = Weighted({"oxygen": 30, "ventilator": 40, "suction": 30})
# Share of elderly-only households whose partner is registered too.
COUPLE_SHARE = 0.25

# 申し伝え事項: the first list suits older people, the second anyone.
NOTES_OLDER = (
    "耳が遠いので、玄関で大きな声で呼びかける", "日中はデイサービス利用（月・水・金）", "階段の昇降に時間がかかる",
    "補聴器を使用", "訪問介護を週3回利用", "一人で外出しない",
)
NOTES_ANY = ("小型犬を飼っている（同行避難希望）", "鍵は隣家に預けている", "夜間は家族が不在", "停電時は早めの連絡を希望")
INTRACTABLE = ("パーキンソン病", "脊髄小脳変性症", "多系統萎縮症", "全身性エリテマトーデス", "潰瘍性大腸炎")
HOUSEHOLD_NOTES = {Household.alone: "独居", Household.elderly_only: "夫婦のみ世帯",
                   Household.with_family: "日中独居", Household.other: "グループホーム入居"}


class PeopleBuilder:
    """Draws people one after another from one random stream."""

    def __init__(self, rng: random.Random, stamps: random.Random, ids: IdMaker, city: CityMap,
                 district_ids: dict[str, uuid.UUID], now: date):
        self.rng, self.stamps, self.ids, self.now = rng, stamps, ids, now
        self.chome = city.chome
        self.district_ids = district_ids
        self.samplers = {c.code: PointSampler(c.ring) for c in city.chome}
        # Every 町丁目 has two 民生委員; the register names the one in charge.
        self.minsei = {c.code: [self._japanese_name("adult", rng.choice((Sex.male, Sex.female)))[0]
                                for _ in range(2)] for c in city.chome}
        self.people: list[Person] = []

    def build(self, count: int) -> list[Person]:
        while len(self.people) < count:
            self._household(count - len(self.people))
        return self.people

    # -- one household: a person, sometimes with a registered partner -----------------------

    def _household(self, room: int) -> None:
        rng = self.rng
        category = CATEGORIES.pick(rng)
        chome = rng.choice(self.chome)
        lon, lat = self.samplers[chome.code].sample(rng)
        home = dict(chome=chome, lon=lon, lat=lat, address=self._address(chome),
                    phone=landline(rng) if rng.random() < 0.85 else "")
        first = self._person(category, home)
        if (first["household"] == Household.elderly_only and room > 1 and rng.random() < COUPLE_SHARE):
            partner_sex = Sex.male if first["sex"] == Sex.female else Sex.female
            partner = self._person("elderly", home, surname=first["surname"], sex=partner_sex,
                                   household=Household.elderly_only)
            for one, other in ((first, partner), (partner, first)):
                relation = "夫" if other["sex"] == Sex.male else "妻"
                one["household_note"] = f"夫婦のみ世帯（{relation}も登録）"
                one["emergency_contacts"].insert(0, EmergencyContact(name=other["name"], relation=relation,
                                                                     phone=other["phone"]))
                del one["emergency_contacts"][2:]
            self._add(first)
            self._add(partner)
            return
        self._add(first)

    def _add(self, fields: dict) -> None:
        number = len(self.people) + 1
        for key in ("surname", "category"):
            fields.pop(key)
        self.people.append(new_row(Person, id=self.ids("person", number), register_no=f"{number:06d}",
                                   **with_kana_key(fields)))

    # -- one person ----------------------------------------------------------------------------

    def _person(self, category: str, home: dict, surname=None, sex=None, household=None) -> dict:
        rng, now = self.rng, self.now
        profile = getattr(self, f"_{category}")(sex)
        sex = profile["sex"]
        if household is not None:
            profile["household"] = household
        if category == "foreign":
            name, kana, surname = self._foreign_name(profile["origin"], sex)
        else:
            name, kana, surname = self._japanese_name(profile["generation"], sex, surname)
        if profile["age"]:
            birth = birth_date_for_age(rng, now, profile["age"])
        else:  # 乳幼児: a month to five years old
            birth = now - timedelta(days=rng.randint(30, 5 * 365))
        created_day = day_between(self.stamps, max(now - timedelta(days=3650), birth), now - timedelta(days=14))
        created = stamp(created_day, self.stamps)
        updated = max(created, stamp(day_between(self.stamps, created_day, now - timedelta(days=1)), self.stamps))
        consent = CONSENT.pick(rng)
        needs = profile["needs"]
        household_value = profile["household"]
        chome = home["chome"]
        return dict(
            category=category, surname=surname, municipality_code=MUNICIPALITY_CODE,
            created_at=created, updated_at=updated,
            name=name, name_kana=kana, birth_date=birth, sex=sex,
            postal_code=f"190-99{chome.town + 1:02d}", address=home["address"],
            phone=home["phone"] or mobile(rng),
            contact_other=self._contact_other(needs, category),
            reasons=profile["reasons"], reason_note=profile.get("note", ""),
            district_id=self.district_ids[chome.code], lon=home["lon"], lat=home["lat"],
            household=household_value,
            household_note=HOUSEHOLD_NOTES.get(household_value, "")
            if category == "elderly" and rng.random() < 0.3 else "",
            emergency_contacts=self._contacts(category, surname, household_value, profile.get("origin")),
            care_needs=needs, preferred_language=profile.get("language", "ja"),
            consent=consent,
            consent_date=day_between(rng, created_day, now - timedelta(days=1)) if consent == Consent.yes else None,
            neighborhood_association=f"{TOWNS[chome.town][0]}自治会",
            minsei_iin=rng.choice(self.minsei[chome.code]),
            notes=rng.choice(NOTES_OLDER + NOTES_ANY if category == "elderly" else NOTES_ANY)
            if rng.random() < 0.25 else "",
        )

    def _elderly(self, sex) -> dict:
        rng = self.rng
        sex = sex or (Sex.female if rng.random() < 0.62 else Sex.male)
        age = 65 + int(rng.betavariate(2.0, 2.5) * 36)
        kind = ELDERLY_KINDS.pick(rng)
        reasons, needs, note = [], [], ""
        if kind == "care":
            level = rng.choice((3, 3, 4, 4, 5))
            reasons, note = [Reason.care_level_3plus], f"要介護{level}"
            needs = [rng.choice({3: (N.walking_aid, N.wheelchair), 4: (N.wheelchair, N.wheelchair, N.bedridden),
                                 5: (N.bedridden, N.bedridden, N.wheelchair)}[level])]
            if rng.random() < 0.4:
                needs.append(N.dementia)
        elif kind == "alone":
            reasons = [Reason.elderly_household]
            needs = [N.walking_aid] if rng.random() < 0.3 else []
            if rng.random() < 0.1:
                needs.append(N.hearing)
        elif kind == "physical":
            reasons = [Reason.physical_disability]
            note = f"身体障害者手帳{rng.choice('12')}級（{rng.choice(('下肢', '体幹', '上肢・下肢'))}）"
            needs = [N.wheelchair if rng.random() < 0.5 else N.walking_aid]
        elif kind == "sensory":
            need = rng.choice((N.visual, N.hearing))
            reasons = [Reason.physical_disability]
            note = f"身体障害者手帳{rng.choice('12')}級（{'視覚' if need == N.visual else '聴覚'}）"
            needs = [need]
        elif kind == "medical":
            reasons, needs, note = self._medical_device(adult=True)
        elif kind == "disease":
            reasons, note = [Reason.intractable_disease], rng.choice(INTRACTABLE)
            needs = [rng.choice((N.walking_aid, N.wheelchair))]
        else:
            reasons, note = [Reason.other], "要介護2・認知症"
            needs = [N.dementia]
        if rng.random() < 0.7:
            needs.append(N.medication)
        if kind == "alone":
            household = rng.choice((Household.alone, Household.elderly_only))
        else:
            household = ELDERLY_HOUSEHOLDS.pick(rng)
            if household in (Household.alone, Household.elderly_only) and rng.random() < 0.5:
                reasons.append(Reason.elderly_household)
        return dict(sex=sex, age=age, generation="older", reasons=reasons, needs=needs, note=note,
                    household=household)

    def _medical_device(self, adult: bool) -> tuple[list, list, str]:
        """医療的ケア: a device and what it implies (power, suction, care level)."""
        rng = self.rng
        device = (DEVICES_ADULT if adult else DEVICES_CHILD).pick(rng)
        if device == "oxygen":
            return ([Reason.medical_care], [N.oxygen, N.power_dependent],
                    f"在宅酸素療法（{rng.randint(1, 3)}L/分）")
        if device == "ventilator":
            reasons = [Reason.medical_care, Reason.care_level_3plus if adult else Reason.physical_disability]
            return reasons, [N.ventilator, N.power_dependent, N.suction, N.bedridden], "人工呼吸器（気管切開）"
        if device == "suction":
            return ([Reason.medical_care, Reason.physical_disability], [N.suction, N.power_dependent, N.wheelchair],
                    "たん吸引（電動吸引器）")
        return [Reason.medical_care], [N.dialysis], f"人工透析（週3回、{rng.choice(('月水金', '火木土'))}）"

    def _adult_disabled(self, sex) -> dict:
        rng = self.rng
        sex = sex or (Sex.male if rng.random() < 0.55 else Sex.female)
        kind = ADULT_KINDS.pick(rng)
        language = "ja"
        if kind == "physical":
            need = ADULT_PHYSICAL_NEEDS.pick(rng)
            reasons, needs = [Reason.physical_disability], [need]
            note = f"身体障害者手帳{rng.choice('12')}級"
        elif kind == "intellectual":
            reasons, needs, note = [Reason.intellectual_disability], [N.intellectual], f"愛の手帳{rng.randint(1, 3)}度"
            language = "ja-easy" if rng.random() < 0.5 else "ja"
        elif kind == "mental":
            reasons, needs = [Reason.mental_disability], [N.mental, N.medication]
            note = f"精神障害者保健福祉手帳{rng.choice('12')}級"
        elif kind == "disease":
            reasons, needs, note = [Reason.intractable_disease], [N.walking_aid, N.medication], rng.choice(INTRACTABLE)
        else:
            reasons, needs, note = self._medical_device(adult=True)
        household = ADULT_HOUSEHOLDS.pick(rng)
        return dict(sex=sex, age=rng.randint(18, 64), generation="adult", reasons=reasons, needs=needs,
                    note=note, household=household, language=language)

    def _child_medical(self, sex) -> dict:
        reasons, needs, note = self._medical_device(adult=False)
        return dict(sex=sex or self.rng.choice((Sex.male, Sex.female)), age=self.rng.randint(1, 17),
                    generation="child", reasons=reasons, needs=needs, note=f"医療的ケア児・{note}",
                    household=Household.with_family)

    def _child_disabled(self, sex) -> dict:
        rng = self.rng
        return dict(sex=sex or rng.choice((Sex.male, Sex.female)), age=rng.randint(6, 17), generation="child",
                    reasons=[Reason.intellectual_disability], needs=[N.intellectual],
                    note=f"愛の手帳{rng.randint(2, 4)}度", household=Household.with_family,
                    language="ja-easy" if rng.random() < 0.3 else "ja")

    def _infant(self, sex) -> dict:
        rng = self.rng
        needs = [N.infant] + ([N.allergy] if rng.random() < 0.1 else [])
        return dict(sex=sex or rng.choice((Sex.male, Sex.female)), age=0, generation="child",
                    reasons=[Reason.infant], needs=needs, household=Household.with_family)

    def _pregnant(self, sex) -> dict:
        rng = self.rng
        due = self.now + timedelta(days=rng.randint(14, 200))
        household = Household.with_family if rng.random() < 0.85 else Household.alone
        return dict(sex=Sex.female, age=rng.randint(20, 42), generation="adult", reasons=[Reason.pregnancy],
                    needs=[N.pregnancy], note=f"出産予定日 {due.year}年{due.month}月{due.day}日",
                    household=household)

    def _foreign(self, sex) -> dict:
        rng = self.rng
        sex = sex or rng.choice((Sex.male, Sex.female))
        age = rng.randint(20, 75)
        household = Household.with_family if rng.random() < 0.7 else Household.alone
        alone_and_old = age >= 65 and household == Household.alone
        reasons = [Reason.foreign_language] + ([Reason.elderly_household] if alone_and_old else [])
        origin = LANGUAGES.pick(rng)
        # Some prefer やさしい日本語 (plain Japanese) to their first language.
        language = "ja-easy" if rng.random() < 0.2 else origin
        return dict(sex=sex, age=age, generation="adult", reasons=reasons, needs=[N.language],
                    household=household, language=language, origin=origin)

    # -- names, addresses, contacts ------------------------------------------------------------

    def _japanese_name(self, generation: str, sex: Sex, surname=None) -> tuple[str, str, tuple]:
        rng = self.rng
        surname = surname or rng.choice(SURNAMES)
        given = rng.choice({
            ("older", Sex.male): GIVEN_OLDER_MALE, ("older", Sex.female): GIVEN_OLDER_FEMALE,
            ("adult", Sex.male): GIVEN_ADULT_MALE, ("adult", Sex.female): GIVEN_ADULT_FEMALE,
            ("child", Sex.male): GIVEN_CHILD_MALE, ("child", Sex.female): GIVEN_CHILD_FEMALE,
        }[(generation, sex)])
        return f"{surname[0]} {given[0]}", f"{surname[1]} {given[1]}", surname

    def _foreign_name(self, origin: str, sex: Sex) -> tuple[str, str, tuple]:
        rng = self.rng
        names = FOREIGN_NAMES[origin]
        surname = rng.choice(names["surname"])
        given = rng.choice(names["male" if sex == Sex.male else "female"])
        return f"{surname[0]} {given[0]}", f"{surname[1]} {given[1]}", surname

    def _address(self, chome) -> str:
        rng = self.rng
        address = f"{PREFECTURE}{CITY_NAME}{chome.name}{rng.randint(1, 25)}番{rng.randint(1, 30)}号"
        if rng.random() < 0.25:
            address += f" {rng.choice(BUILDING_NAMES)}{TOWNS[chome.town][2]} {rng.randint(1, 4)}0{rng.randint(1, 8)}"
        return address

    def _contact_other(self, needs: list, category: str) -> str:
        rng = self.rng
        if N.hearing in needs:
            return f"FAX {landline(rng)}"
        if category == "foreign" and rng.random() < 0.3:
            return f"メール person{rng.randint(100, 999)}@mail.tsunagi.example"
        return ""

    def _contacts(self, category: str, surname: tuple, household: Household,
                  origin: str | None) -> list[EmergencyContact]:
        rng = self.rng
        if category in ("infant", "child_medical", "child_disabled"):
            relations = ["母", "父"]
        elif category == "elderly":
            if household == Household.alone and rng.random() < 0.1:
                return []  # no family to call: exactly the people supporters must know about
            relations = rng.sample(["長男", "長女", "次男", "次女", "甥", "姪"], rng.randint(1, 2))
        elif category == "pregnant":
            relations = ["夫", "母"][: rng.randint(1, 2)]
        else:
            family = ["母", "父", "兄", "姉"]
            if household == Household.with_family:
                family.append("妻" if rng.random() < 0.5 else "夫")
            relations = rng.sample(family, rng.randint(1, 2))
        contacts = []
        for relation in relations:
            female = relation in ("母", "長女", "次女", "姪", "姉", "妻")
            generation = "older" if relation in ("母", "父") and category == "adult_disabled" else "adult"
            sex = Sex.female if female else Sex.male
            if origin:
                name = self._foreign_name(origin, sex)[0]
            else:
                # Daughters and nieces have often married into another family name.
                married = relation in ("長女", "次女", "姪") and rng.random() < 0.6
                name = self._japanese_name(generation, sex, None if married else surname)[0]
            contacts.append(EmergencyContact(name=name, relation=relation, phone=mobile(rng)))
        return contacts


def build_people(rng: random.Random, stamps: random.Random, ids: IdMaker, city: CityMap,
                 district_ids: dict[str, uuid.UUID], now: date, count: int) -> list[Person]:
    """`count` registered people, numbered 000001… in the order they were drawn."""
    return PeopleBuilder(rng, stamps, ids, city, district_ids, now).build(count)
