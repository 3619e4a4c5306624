"""The supporter register (支援者台帳): supporters are people, not free text.

Why: a name typed on 60 plans is one neighbour who cannot reach 60 people at 3 a.m.; only
entries linked to plans show the load, the elderly supporting the elderly, and who is left
when someone moves away. Free-text supporters already on plans are migrated into entries:
an exact match (same normalised name and phone) is the same entry; a near match (same name
with another or no phone, or a kana-only spelling of a known name) is only a candidate pair
for staff to confirm — merging two different 山田さん would misroute a rescue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Callable, Container, Hashable, Iterable, Mapping, Optional, Sequence

from ...models.vocab import LabelledEnum
from ..textnorm import fold_width, normalize_phone
from .common import Plan, is_elderly, name_key

# More plans than this for one supporter is flagged: one person can reach only a few people
# in the first hour; 10 is generous (most guidance says 1–3 per supporter, 民生委員 excepted —
# whose work is checking on people, not carrying them — they get their own threshold).
OVERLOAD_THRESHOLD = 10
MINSEI_OVERLOAD_THRESHOLD = 40


class SupporterKind(LabelledEnum):
    minsei = ("minsei", "民生委員・児童委員", "welfare commissioner")
    jichikai = ("jichikai", "自治会", "neighbourhood association")
    jishubo = ("jishubo", "自主防災組織", "voluntary disaster-prevention group")
    neighbour = ("neighbour", "近隣住民", "neighbour")
    family = ("family", "家族・親族", "family")
    care_manager = ("care_manager", "ケアマネジャー", "care manager")
    business = ("business", "事業所", "care provider")
    other = ("other", "その他", "other")


class Availability(LabelledEnum):
    anytime = ("anytime", "終日可", "any time")
    daytime_only = ("daytime_only", "日中のみ", "daytime only")
    night_ok = ("night_ok", "夜間・休日可（日中不在）", "nights and holidays (away by day)")


@dataclass(frozen=True)
class SupporterEntry:
    """One supporter. `area` is the 担当区域 (町丁目 ids) of a 民生委員 or group; `person_id`
    links the supporter's own register entry when they are themselves registered."""

    id: Hashable
    name: str
    kind: SupporterKind = SupporterKind.other
    name_kana: str = ""
    phone: str = ""
    address: str = ""
    area: frozenset = frozenset()
    availability: Availability = Availability.anytime
    lives_outside_city: bool = False
    birth_date: Optional[date] = None
    elderly: Optional[bool] = None
    person_id: Optional[Hashable] = None
    active: bool = True

    def is_elderly(self, today: date) -> bool:
        return is_elderly(self.birth_date, today, self.elderly)


# ---- migration of free text --------------------------------------------------------------

_FAMILY = ("長男", "長女", "次男", "次女", "三男", "三女", "息子", "娘", "妻", "夫", "兄", "弟", "姉", "妹", "孫",
           "甥", "姪", "親族", "家族", "父", "母", "嫁", "婿", "子", "叔", "伯", "いとこ")
_KIND_WORDS = ((SupporterKind.minsei, ("民生", "児童委員")), (SupporterKind.jishubo, ("自主防災", "防災会")),
               (SupporterKind.jichikai, ("自治会", "町内会", "町会")),
               (SupporterKind.care_manager, ("ケアマネ", "介護支援専門員")),
               (SupporterKind.business, ("事業所", "ヘルパー", "デイ", "施設", "訪問", "社協", "法人")),
               (SupporterKind.neighbour, ("近隣", "近所", "隣", "向かい", "知人", "友人")),
               (SupporterKind.family, _FAMILY))


def guess_kind(relation: str) -> SupporterKind:
    """The kind from a plan's free-text relation (続柄): staff confirm it on the entry."""
    text = fold_width(relation)
    for kind, words in _KIND_WORDS:
        if any(w in text for w in words):
            return kind
    return SupporterKind.other


def phone_key(phone: str) -> str:
    """Digits of the normalised number (so 042-325-0011 and 0423250011 compare equal); text
    that is not a phone number compares by its folded digits."""
    try:
        normal = normalize_phone(phone)
    except ValueError:
        normal = fold_width(phone)
    return re.sub(r"\D", "", normal)


_HIRA_TO_KATA = {c: c + 0x60 for c in range(0x3041, 0x3097)}
_KANA_RE = re.compile(r"^[\u30a0-\u30ff]+$")


def kana_key(text: str) -> str:
    """Katakana, no spaces: やまだ たろう and ヤマダタロウ are one key."""
    return name_key(text).translate(_HIRA_TO_KATA)


@dataclass(frozen=True)
class CandidatePair:
    """Two entries that may be one person; staff confirm (merge) or reject. Never auto-merged."""

    a: Hashable
    b: Hashable
    reason: str  # same_name_other_phone | kana_match


@dataclass(frozen=True)
class Migration:
    entries: tuple[SupporterEntry, ...]
    links: Mapping[Hashable, tuple[Hashable, ...]]  # plan id → entry ids, in the plan's order
    candidates: tuple[CandidatePair, ...]


def migrate_free_text(plans: Iterable[Plan], existing: Sequence[SupporterEntry] = (),
                      new_id: Optional[Callable[[int], Hashable]] = None, *, star: bool = False) -> Migration:
    """Turn plans' free-text supporters into entries. Same normalised name + phone digits →
    the same entry (also an `existing` one); a supporter already linked (`supporter_id`) keeps
    its entry. Then candidate pairs: same name but another (or no) phone, and a kana-only name
    equal to another entry's name_kana or kana name. Ids: `new_id(n)`, default "S00001" …
    `star`: see `candidate_pairs`."""
    new_id = new_id or (lambda n: f"S{n:05d}")
    entries: dict[Hashable, SupporterEntry] = {e.id: e for e in existing}
    by_key = {(name_key(e.name), phone_key(e.phone)): e.id for e in existing}
    links: dict[Hashable, tuple] = {}
    count = 0
    for plan in plans:
        ids = []
        for s in plan.supporters:
            if s.supporter_id is not None:
                ids.append(s.supporter_id)
                continue
            key = (name_key(s.name), phone_key(s.phone))
            if key not in by_key:
                count += 1
                entry = SupporterEntry(new_id(count), s.name.strip(), guess_kind(s.relation),
                                       name_kana=s.name if _KANA_RE.match(kana_key(s.name)) else "",
                                       phone=s.phone, address=s.address)
                entries[entry.id] = entry
                by_key[key] = entry.id
            ids.append(by_key[key])
        links[plan.id] = tuple(dict.fromkeys(ids))
    return Migration(tuple(entries.values()), links, tuple(candidate_pairs(entries.values(), star=star)))


def candidate_pairs(entries: Iterable[SupporterEntry], *, star: bool = False) -> list[CandidatePair]:
    """Pairs staff should look at: equal names with different (or missing) phones, and a
    kana-only name equal to another entry's kana. Each pair once, in a stable order.

    `star`: pair each member of a group only with the group's first entry, not with every other
    member. "〇〇町自主防災会" written with 200 members' phones is 199 pairs to look at, not
    19,900 (merging them one by one still merges the whole group: a merge re-points the pairs
    of the entry it removes)."""
    entries = list(entries)
    by_name: dict[str, list] = {}
    by_kana: dict[str, list] = {}
    for e in entries:
        by_name.setdefault(name_key(e.name), []).append(e)
        for text in {e.name_kana, e.name}:
            k = kana_key(text)
            if k and _KANA_RE.match(k):
                by_kana.setdefault(k, []).append(e)
    pairs: dict[tuple, CandidatePair] = {}
    for group, reason in [(g, "same_name_other_phone") for g in by_name.values()] + \
                         [(g, "kana_match") for g in by_kana.values()]:
        for i, a in enumerate(group):
            for b in (group[i + 1:] if not star else group[1:] if i == 0 else ()):
                if a.id == b.id or (reason == "same_name_other_phone" and phone_key(a.phone) == phone_key(b.phone)):
                    continue
                key = tuple(sorted((str(a.id), str(b.id))))
                pairs.setdefault(key, CandidatePair(*sorted((a.id, b.id), key=str), reason))
    return sorted(pairs.values(), key=lambda p: (str(p.a), str(p.b)))


# ---- load --------------------------------------------------------------------------------

@dataclass(frozen=True)
class SupporterLoad:
    """How many plans lean on one supporter, and why that may not hold at 3 a.m."""

    supporter_id: Hashable
    plan_ids: tuple
    overloaded: bool
    night_mismatch: tuple          # plans needing night help, supporter available daytime only
    day_mismatch: tuple            # plans needing daytime help, supporter away by day
    outside_city: bool

    @property
    def count(self) -> int:
        return len(self.plan_ids)

    @property
    def flagged(self) -> bool:
        return self.overloaded or bool(self.night_mismatch) or bool(self.day_mismatch) or self.outside_city


def threshold_for(entry: Optional[SupporterEntry], threshold: int = OVERLOAD_THRESHOLD) -> int:
    return MINSEI_OVERLOAD_THRESHOLD if entry is not None and entry.kind == SupporterKind.minsei else threshold


def supporter_load(links: Mapping[Hashable, Sequence[Hashable]], entries: Mapping[Hashable, SupporterEntry],
                   needs_night: Container = frozenset(), *, threshold: int = OVERLOAD_THRESHOLD
                   ) -> dict[Hashable, SupporterLoad]:
    """Per supporter: the plans naming them; overloaded above `threshold` plans (a 民生委員
    above MINSEI_OVERLOAD_THRESHOLD); plans in `needs_night` (plan ids) whose supporter is
    daytime-only; plans (all) whose supporter is away by day; living outside the city."""
    plans_of: dict[Hashable, list] = {}
    for plan_id, ids in links.items():
        for sid in ids:
            plans_of.setdefault(sid, []).append(plan_id)
    out = {}
    for sid, plan_ids in plans_of.items():
        entry = entries.get(sid)
        avail = entry.availability if entry else Availability.anytime
        out[sid] = SupporterLoad(
            sid, tuple(plan_ids), len(plan_ids) > threshold_for(entry, threshold),
            tuple(p for p in plan_ids if avail == Availability.daytime_only and p in needs_night),
            tuple(plan_ids) if avail == Availability.night_ok else (),
            bool(entry and entry.lives_outside_city))
    return out
