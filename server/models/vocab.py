"""Controlled vocabularies, each value with its Japanese label (the real name) and English.

Values are stable English codes stored in the database and used by the API; labels are
what people read and what municipal CSV files contain. `parse_label` accepts either.
"""

from __future__ import annotations

from enum import StrEnum


class LabelledEnum(StrEnum):
    """A StrEnum whose members carry a Japanese and an English label."""

    ja: str
    en: str

    def __new__(cls, value: str, ja: str, en: str):
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.ja = ja
        obj.en = en
        return obj

    @classmethod
    def parse(cls, text: str) -> "LabelledEnum":
        """Accept the code, the Japanese label or the English label; raise ValueError otherwise."""
        cleaned = text.strip()
        for member in cls:
            if cleaned in (member.value, member.ja, member.en) or cleaned.lower() == member.en.lower():
                return member
        for member in cls:  # aliases, e.g. "男性" for "男"
            if cleaned in _ALIASES.get((cls.__name__, member.value), ()):
                return member
        raise ValueError(f"unknown value {text!r}; expected one of: " + ", ".join(m.ja for m in cls))


class Sex(LabelledEnum):
    male = ("male", "男", "male")
    female = ("female", "女", "female")
    other = ("other", "その他", "other")
    unknown = ("unknown", "不明", "unknown")


class Consent(LabelledEnum):
    """Consent to share register data with supporters in normal times (Art. 49-11)."""

    yes = ("yes", "同意", "consented")
    no = ("no", "不同意", "refused")
    not_asked = ("not_asked", "未確認", "not asked")


class Recipient(LabelledEnum):
    """避難支援等関係者: the outside recipient categories a person's consent is asked for (Art. 49-11),
    plus the office itself (which needs no consent)."""

    minsei = ("minsei", "民生委員", "welfare commissioners")
    jishubo = ("jishubo", "自主防災組織", "voluntary disaster-prevention groups")
    jichikai = ("jichikai", "自治会", "neighbourhood associations")
    fire = ("fire", "消防", "fire service")
    police = ("police", "警察", "police")
    shakyo = ("shakyo", "社会福祉協議会", "council of social welfare")
    houkatsu = ("houkatsu", "地域包括支援センター", "community comprehensive support centres")
    office = ("office", "市役所内部", "the city office itself")


class ConsentAnswer(LabelledEnum):
    consented = ("consented", "同意", "consented")
    refused = ("refused", "不同意", "refused")


class ConsentMethod(LabelledEnum):
    written = ("written", "書面", "in writing")
    oral = ("oral", "口頭", "orally")
    migrated = ("migrated", "移行", "carried over from the single consent")


class Ordinance(LabelledEnum):
    """The city's setting: opt_in is the law's default; opt_out needs an ordinance (条例)."""

    opt_in = ("opt_in", "同意者のみ提供（法の原則）", "consenting people only (default)")
    opt_out = ("opt_out", "条例により拒否者以外を提供", "everyone but those who refused (ordinance)")


class ShareMedium(LabelledEnum):
    list = ("list", "名簿", "list")
    export = ("export", "CSV出力", "export")
    print = ("print", "印刷", "print")


class Reason(LabelledEnum):
    """避難支援等を必要とする事由 — why the person needs support to evacuate."""

    care_level_3plus = ("care_level_3plus", "要介護3以上", "long-term care level 3+")
    physical_disability = ("physical_disability", "身体障害者手帳1・2級", "physical disability grade 1-2")
    intellectual_disability = ("intellectual_disability", "療育手帳", "intellectual disability")
    mental_disability = ("mental_disability", "精神障害者保健福祉手帳", "mental disability")
    intractable_disease = ("intractable_disease", "難病", "intractable disease")
    medical_care = ("medical_care", "医療的ケア", "medical care")
    elderly_household = ("elderly_household", "高齢者のみ世帯", "elderly-only household")
    pregnancy = ("pregnancy", "妊産婦", "pregnant or nursing")
    infant = ("infant", "乳幼児", "infant")
    foreign_language = ("foreign_language", "日本語が不自由な外国人", "limited Japanese")
    other = ("other", "その他", "other")


class CareNeed(LabelledEnum):
    wheelchair = ("wheelchair", "車いす", "wheelchair")
    bedridden = ("bedridden", "寝たきり", "bedridden")
    walking_aid = ("walking_aid", "歩行補助", "walking aid")
    oxygen = ("oxygen", "在宅酸素", "home oxygen")
    ventilator = ("ventilator", "人工呼吸器", "ventilator")
    power_dependent = ("power_dependent", "電源が必要な医療機器", "powered medical device")
    suction = ("suction", "たん吸引", "suction")
    dialysis = ("dialysis", "人工透析", "dialysis")
    dementia = ("dementia", "認知症", "dementia")
    hearing = ("hearing", "聴覚障害", "hearing impairment")
    visual = ("visual", "視覚障害", "visual impairment")
    intellectual = ("intellectual", "知的障害", "intellectual disability")
    mental = ("mental", "精神障害", "mental illness")
    language = ("language", "日本語支援", "language support")
    infant = ("infant", "乳幼児", "infant")
    pregnancy = ("pregnancy", "妊娠", "pregnancy")
    medication = ("medication", "常用薬", "regular medication")
    allergy = ("allergy", "食物アレルギー", "food allergy")


class Household(LabelledEnum):
    alone = ("alone", "独居", "living alone")
    elderly_only = ("elderly_only", "高齢者のみ世帯", "elderly-only household")
    with_family = ("with_family", "家族と同居", "with family")
    facility = ("facility", "施設入所", "in a care facility")
    other = ("other", "その他", "other")


class PlanStatus(LabelledEnum):
    not_started = ("not_started", "未着手", "not started")
    drafting = ("drafting", "作成中", "drafting")
    done = ("done", "作成済", "done")
    needs_review = ("needs_review", "要見直し", "needs review")


class ShelterKind(LabelledEnum):
    designated_welfare = ("designated_welfare", "指定福祉避難所", "designated welfare shelter")
    agreement_welfare = ("agreement_welfare", "協定福祉避難所", "agreement welfare shelter")
    designated = ("designated", "指定避難所", "designated shelter")


class TargetGroup(LabelledEnum):
    """受入対象者 — groups a welfare shelter accepts."""

    elderly = ("elderly", "高齢者", "elderly")
    disabled = ("disabled", "障害者", "people with disabilities")
    pregnant_infant = ("pregnant_infant", "妊産婦・乳幼児", "pregnant women and infants")
    medical_care = ("medical_care", "医療的ケアが必要な人", "people needing medical care")
    general = ("general", "一般", "general public")


class Capability(LabelledEnum):
    wheelchair_access = ("wheelchair_access", "車いす対応", "wheelchair access")
    care_beds = ("care_beds", "介護ベッド", "care beds")
    backup_power = ("backup_power", "非常用電源", "backup power")
    oxygen = ("oxygen", "酸素供給", "oxygen supply")
    private_rooms = ("private_rooms", "個室", "private rooms")
    infant_care = ("infant_care", "乳幼児対応", "infant care")
    accessible_toilet = ("accessible_toilet", "多目的トイレ", "accessible toilet")
    nursing_staff = ("nursing_staff", "看護職員", "nursing staff")
    dialysis_link = ("dialysis_link", "透析施設連携", "dialysis link")
    sign_language = ("sign_language", "手話対応", "sign language")
    multilingual = ("multilingual", "多言語対応", "multilingual support")


class SeismicClass(LabelledEnum):
    """Derived from building-permit date, 耐震診断 (Is値) and 耐震改修."""

    new_standard = ("new_standard", "新耐震", "new standard (1981-06 or later)")
    old_retrofitted = ("old_retrofitted", "旧耐震・改修済", "old standard, retrofitted")
    old_low_risk = ("old_low_risk", "旧耐震・Is値0.6以上", "old standard, Is ≥ 0.6")
    old_some_risk = ("old_some_risk", "旧耐震・Is値0.3以上0.6未満", "old standard, 0.3 ≤ Is < 0.6")
    old_high_risk = ("old_high_risk", "旧耐震・Is値0.3未満", "old standard, Is < 0.3")
    old_undiagnosed = ("old_undiagnosed", "旧耐震・未診断", "old standard, not diagnosed")
    unknown = ("unknown", "不明", "unknown")


class OpenState(LabelledEnum):
    not_open = ("not_open", "未開設", "not open")
    preparing = ("preparing", "開設準備中", "preparing")
    open = ("open", "開設", "open")
    full = ("full", "満員", "full")
    closed = ("closed", "閉鎖", "closed")


class Damage(LabelledEnum):
    none = ("none", "被害なし", "no damage")
    minor = ("minor", "軽微", "minor damage")
    major = ("major", "大きな被害", "major damage")
    unusable = ("unusable", "使用不可", "unusable")


class LifelineState(LabelledEnum):
    ok = ("ok", "正常", "working")
    limited = ("limited", "一部支障", "limited")
    out = ("out", "停止", "out")
    unknown = ("unknown", "不明", "unknown")


class SafetyOutcome(LabelledEnum):
    """安否確認 outcomes, in the order the field app shows them."""

    safe_home = ("safe_home", "在宅・無事", "safe at home")
    evacuated = ("evacuated", "避難済", "evacuated")
    needs_help = ("needs_help", "要支援", "needs help")
    injured = ("injured", "負傷", "injured")
    unreachable = ("unreachable", "連絡つかず", "not reachable")


class Profession(LabelledEnum):
    social_worker = ("social_worker", "社会福祉士", "certified social worker")
    care_worker = ("care_worker", "介護福祉士", "certified care worker")
    psychiatric_social_worker = ("psychiatric_social_worker", "精神保健福祉士", "psychiatric social worker")
    care_manager = ("care_manager", "介護支援専門員", "care manager")
    childcare_worker = ("childcare_worker", "保育士", "childcare worker")
    nurse = ("nurse", "看護師", "nurse")
    other = ("other", "その他", "other")


class MemberRole(LabelledEnum):
    leader = ("leader", "リーダー", "leader")
    sub_leader = ("sub_leader", "サブリーダー", "sub-leader")
    member = ("member", "隊員", "member")


class DeploymentState(LabelledEnum):
    planned = ("planned", "派遣予定", "planned")
    active = ("active", "活動中", "active")
    ended = ("ended", "活動終了", "ended")
    cancelled = ("cancelled", "中止", "cancelled")


class RequestPriority(LabelledEnum):
    high = ("high", "高", "high")
    medium = ("medium", "中", "medium")
    low = ("low", "低", "low")


class RequestState(LabelledEnum):
    open = ("open", "未対応", "open")
    assigned = ("assigned", "対応中", "assigned")
    closed = ("closed", "完了", "closed")


class DistrictKind(LabelledEnum):
    welfare_area = ("welfare_area", "福祉圏域", "welfare area")
    chome = ("chome", "町丁目", "town block")


_ALIASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("Sex", "male"): ("男性", "M", "m", "1"),
    ("Sex", "female"): ("女性", "F", "f", "2"),
    ("Consent", "yes"): ("有", "あり", "はい", "済", "同意済"),
    ("Consent", "no"): ("無", "なし", "いいえ", "拒否"),
    ("Consent", "not_asked"): ("", "未", "未回答"),
    ("TargetGroup", "pregnant_infant"): ("妊産婦", "乳幼児", "妊産婦・乳幼児等"),
    ("TargetGroup", "medical_care"): ("医療的ケア", "医療的ケア児者"),
    ("TargetGroup", "disabled"): ("障がい者", "障害児者"),
    ("Reason", "physical_disability"): ("身体障害者手帳", "身体障害"),
    ("Reason", "care_level_3plus"): ("要介護3", "要介護4", "要介護5"),
    ("ShelterKind", "designated"): ("一般避難所",),
}


# ---- DWAT dispatch (docs/dwat.md): stored on the rows, used by server/domain/dwat ----

class TeamStatus(LabelledEnum):
    """Where a team stands now. Only `standby` teams (and busy ones whose deployment ends in
    time) are proposed; `resting` and `stood_down` never are."""

    standby = ("standby", "待機", "standby")
    travelling = ("travelling", "移動中", "travelling")
    on_site = ("on_site", "活動中", "on site")
    resting = ("resting", "休養中", "resting")
    stood_down = ("stood_down", "解隊", "stood down")


class NeedKind(LabelledEnum):
    """What people at a site need help with; counted in people."""

    elderly_care = ("elderly_care", "高齢者介護", "elderly care")
    disability_support = ("disability_support", "障害者支援", "disability support")
    children = ("children", "子ども・保育", "children and childcare")
    mental_health = ("mental_health", "精神保健", "mental health")
    consultation = ("consultation", "相談窓口", "consultation desk")
    environment = ("environment", "環境整備", "shelter environment")
    nursing = ("nursing", "看護", "nursing")


class RequestOrigin(LabelledEnum):
    shelter = ("shelter", "避難所", "shelter")
    at_home = ("at_home", "在宅避難者", "people sheltering at home")
    in_car = ("in_car", "車中泊避難者", "people sheltering in cars")
    hq = ("hq", "本部", "HQ")


class RequestStep(LabelledEnum):
    requested = ("requested", "要請受付", "requested")
    accepted = ("accepted", "受理", "accepted")
    team_assigned = ("team_assigned", "チーム決定", "team assigned")
    on_site = ("on_site", "現地活動中", "on site")
    closed = ("closed", "完了", "closed")
    cancelled = ("cancelled", "取消", "cancelled")
