"""Printout languages: Japanese, English and やさしい日本語 (easy Japanese).

A printout follows the person's `preferred_language`:

| preferred_language | printed in | labels also show |
|---|---|---|
| `ja` | Japanese | — |
| `en` | English | Japanese (supporters and the 民生委員 read the same sheet) |
| `ja-easy` | やさしい日本語 | — |
| anything else (`zh`, `pt`, `vi` …) | やさしい日本語 | English, with a line saying so |

Only labels, headings and vocabulary are translated: what staff typed (addresses, notes)
is printed as stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from ..domain.wareki import format_wareki
from ..models.vocab import (
    CareNeed,
    Consent,
    Household,
    LabelledEnum,
    PlanStatus,
    Reason,
    Sex,
    ShelterKind,
    TargetGroup,
)

PRINT_LANGUAGES = ("ja", "en", "ja-easy")


@dataclass(frozen=True)
class PrintLanguage:
    """The language a printout is set in, and the one shown small beside each label (if any)."""

    code: str                 # ja | en | ja-easy
    aside: str = ""           # "" | ja | en
    requested: str = "ja"     # the person's preferred_language as stored
    fallback: bool = False    # True when `requested` has no printout of its own

    @property
    def html_lang(self) -> str:
        return "en" if self.code == "en" else "ja"


def resolve_language(preferred: str | None) -> PrintLanguage:
    """The printout language for a person's `preferred_language` (see the module docstring)."""
    preferred = (preferred or "ja").strip() or "ja"
    if preferred == "ja":
        return PrintLanguage("ja", requested="ja")
    if preferred == "en":
        return PrintLanguage("en", aside="ja", requested="en")
    if preferred == "ja-easy":
        return PrintLanguage("ja-easy", requested="ja-easy")
    return PrintLanguage("ja-easy", aside="en", requested=preferred, fallback=True)


@dataclass(frozen=True)
class Label:
    """A label in the printout language, with the same label in the aside language (or "")."""

    text: str
    aside: str = ""

    def __str__(self) -> str:
        return self.text if not self.aside else f"{self.text} ({self.aside})"

    def __html__(self) -> str:
        if not self.aside:
            return str(escape(self.text))
        return str(Markup('{}<span class="aside">{}</span>').format(self.text, self.aside))


# key: (Japanese, English, やさしい日本語)
TEXTS: dict[str, tuple[str, str, str]] = {
    "plan_title": ("個別避難計画", "Individual Evacuation Plan", "ひなんの けいかく（個別避難計画）"),
    "plan_subtitle": ("災害対策基本法第49条の14", "Disaster Countermeasures Basic Act, Art. 49-14",
                      "さいがいの ときに あんぜんに にげるための けいかくです"),
    "person_section": ("ご本人", "The person", "あなたの こと"),
    "name": ("氏名", "Name", "なまえ"),
    "name_kana": ("ふりがな", "Name (kana)", "ふりがな"),
    "register_no": ("登録者番号", "Register no.", "ばんごう"),
    "birth_date": ("生年月日", "Date of birth", "うまれた ひ"),
    "age": ("年齢", "Age", "ねんれい"),
    "age_unit": ("歳", "years", "さい"),
    "sex": ("性別", "Sex", "せいべつ"),
    "address": ("住所", "Address", "じゅうしょ"),
    "postal_code": ("郵便番号", "Postcode", "ゆうびん ばんごう"),
    "phone": ("電話番号", "Phone", "でんわ"),
    "contact_other": ("その他の連絡先", "Other contact", "ほかの れんらくさき"),
    "district": ("地区", "District", "ちく"),
    "reasons": ("支援が必要な理由", "Why support is needed", "てつだいが ひつような りゆう"),
    "reason_note": ("理由の詳細", "Details", "くわしい こと"),
    "household": ("世帯", "Household", "いっしょに すむ ひと"),
    "care_needs": ("必要な配慮", "Care needs", "ひつような てつだい"),
    "neighborhood_association": ("自治会", "Neighbourhood association", "じちかい"),
    "minsei_iin": ("担当民生委員", "Welfare commissioner (民生委員)", "たんとうの みんせいいいん"),
    "person_notes": ("申し伝え事項", "Notes", "つたえたい こと"),
    "supporters_section": ("避難支援等実施者", "Supporters", "にげるのを てつだう ひと"),
    "supporter_name": ("氏名・団体名", "Name or organisation", "なまえ"),
    "relation": ("続柄・関係", "Relation", "かんけい"),
    "destination_section": ("避難先", "Where to evacuate", "にげる ところ"),
    "destination": ("避難先", "Destination", "にげる ところ"),
    "alternate": ("第二避難先", "Alternate", "つぎに にげる ところ"),
    "shelter_kind": ("種別", "Type", "しゅるい"),
    "route_section": ("避難経路とタイミング", "Route and timing", "にげる みちと タイミング"),
    "route_note": ("避難経路", "Route", "にげる みち"),
    "timing_note": ("避難のタイミング", "When to leave", "にげる タイミング"),
    "map": ("地図", "Map", "ちず"),
    "map_home": ("自宅", "Home", "いえ"),
    "map_destination": ("避難先", "Destination", "にげる ところ"),
    "map_alternate": ("第二避難先", "Alternate", "つぎに にげる ところ"),
    "map_no_location": ("位置情報が登録されていないため、地図はありません。",
                        "No map: the home's location is not registered.",
                        "いえの ばしょが とうろく されていないので、ちずは ありません。"),
    "map_straight": ("線は自宅から避難先への直線です（道順ではありません）。",
                     "The line is a straight line from home to the destination, not the road route.",
                     "せんは まっすぐな せんです。みちでは ありません。"),
    "care_section": ("配慮事項", "Care notes", "きを つける こと"),
    "walking_ability": ("歩行の状況", "Walking", "あるく ちから"),
    "how_to_help": ("支援の方法", "How to help", "てつだう ほうほう"),
    "items_to_carry": ("持ち出す物", "What to take", "もって いく もの"),
    "doctor": ("かかりつけ医", "Doctor", "かかりつけの いしゃ"),
    "conditions": ("病名・状態", "Conditions", "びょうき"),
    "allergies": ("アレルギー", "Allergies", "アレルギー"),
    "blood_type": ("血液型", "Blood type", "けつえきがた"),
    "usual_location": ("普段いる場所", "Usually found in", "いつも いる ばしょ"),
    "building_structure": ("建物の構造", "Building", "たてもの"),
    "hidden_note": ("一部の項目は閲覧権限により印刷していません。", "Some items are not printed for your role.",
                    "いくつかの ことは、けんげんが ないので いんさつ していません。"),
    "contacts_section": ("緊急連絡先", "Emergency contacts", "きんきゅうの れんらくさき"),
    "contact_name": ("氏名", "Name", "なまえ"),
    "consent_section": ("同意・作成", "Consent and author", "どうい と つくった ひと"),
    "consent_line": ("私は、この計画の内容を避難支援等関係者に提供することに同意します。",
                     "I agree that this plan may be given to the people who support my evacuation.",
                     "わたしは、この けいかくを てつだう ひとに わたす ことに どうい します。"),
    "consent": ("本人の同意", "Consent", "どうい"),
    "consent_yes": ("同意あり", "Given", "どうい しました"),
    "consent_no": ("未同意", "Not yet given", "まだ どうい していません"),
    "consent_date": ("同意日", "Date of consent", "どうい した ひ"),
    "signature": ("署名", "Signature", "サイン"),
    "author": ("作成者", "Written by", "つくった ひと"),
    "status": ("作成状況", "Status", "じょうきょう"),
    "review_due": ("次回見直し日", "Next review", "つぎに みなおす ひ"),
    "updated": ("最終更新", "Last updated", "さいごに かえた ひ"),
    "printed": ("印刷日", "Printed", "いんさつ した ひ"),
    "qr_note": ("現場の端末で読み取ると、この計画を開けます。", "Scan on a field tablet to open this plan.",
                "タブレットで よみとると、この けいかくが ひらきます。"),
    "fallback_note": ("この計画書は、やさしい日本語と英語で書いています。",
                      "This plan is printed in easy Japanese and English.",
                      "この けいかくは、やさしい にほんごと えいごで かいて います。"),
    "blank_hint": ("空欄は手書きで記入してください。", "Fill in blank boxes by hand.",
                   "あいて いる ところは、てで かいて ください。"),
    "keep_note": ("この用紙は大切に保管し、避難するときに持ち出してください。",
                  "Keep this sheet safe and take it with you when you evacuate.",
                  "この かみを だいじに もって いて ください。にげる ときに もって いきます。"),
}

# やさしい日本語 for the vocabularies printed on a plan (Japanese and English come from vocab.py).
EASY: dict[tuple[str, str], str] = {
    ("Sex", "male"): "おとこ", ("Sex", "female"): "おんな", ("Sex", "other"): "そのほか",
    ("Sex", "unknown"): "わからない",
    ("Consent", "yes"): "どうい した", ("Consent", "no"): "どうい しない", ("Consent", "not_asked"): "まだ きいていない",
    ("Reason", "care_level_3plus"): "かいごが ひつよう（要介護3以上）",
    ("Reason", "physical_disability"): "からだの しょうがい（身体障害者手帳1・2級）",
    ("Reason", "intellectual_disability"): "ちてき しょうがい（療育手帳）",
    ("Reason", "mental_disability"): "こころの しょうがい（精神障害者保健福祉手帳）",
    ("Reason", "intractable_disease"): "なおりにくい びょうき（難病）",
    ("Reason", "medical_care"): "いりょうの ケアが ひつよう（医療的ケア）",
    ("Reason", "elderly_household"): "おとしより だけで すんでいる",
    ("Reason", "pregnancy"): "おなかに あかちゃんが いる・うまれたばかり",
    ("Reason", "infant"): "ちいさい こども", ("Reason", "foreign_language"): "にほんごが むずかしい",
    ("Reason", "other"): "そのほか",
    ("CareNeed", "wheelchair"): "くるまいす", ("CareNeed", "bedridden"): "ねたきり",
    ("CareNeed", "walking_aid"): "あるく ときに てつだいが ひつよう", ("CareNeed", "oxygen"): "さんそ（在宅酸素）",
    ("CareNeed", "ventilator"): "じんこうこきゅうき", ("CareNeed", "power_dependent"): "でんきが ひつような きかい",
    ("CareNeed", "suction"): "たんの きゅういん", ("CareNeed", "dialysis"): "とうせき",
    ("CareNeed", "dementia"): "にんちしょう", ("CareNeed", "hearing"): "みみが きこえにくい",
    ("CareNeed", "visual"): "めが みえにくい", ("CareNeed", "intellectual"): "ちてき しょうがい",
    ("CareNeed", "mental"): "こころの しょうがい", ("CareNeed", "language"): "にほんごの てつだい",
    ("CareNeed", "infant"): "ちいさい こども", ("CareNeed", "pregnancy"): "おなかに あかちゃんが いる",
    ("CareNeed", "medication"): "いつも のむ くすり", ("CareNeed", "allergy"): "たべものの アレルギー",
    ("Household", "alone"): "ひとりで すんでいる", ("Household", "elderly_only"): "おとしより だけで すんでいる",
    ("Household", "with_family"): "かぞくと すんでいる", ("Household", "facility"): "しせつに すんでいる",
    ("Household", "other"): "そのほか",
    ("PlanStatus", "not_started"): "まだ つくって いない", ("PlanStatus", "drafting"): "つくって いる ところ",
    ("PlanStatus", "done"): "できた", ("PlanStatus", "needs_review"): "みなおしが ひつよう",
    ("ShelterKind", "designated_welfare"): "ふくし ひなんじょ（指定福祉避難所）",
    ("ShelterKind", "agreement_welfare"): "ふくし ひなんじょ（協定福祉避難所）",
    ("ShelterKind", "designated"): "ひなんじょ（指定避難所）",
    ("TargetGroup", "elderly"): "おとしより", ("TargetGroup", "disabled"): "しょうがいの ある ひと",
    ("TargetGroup", "pregnant_infant"): "にんぷさん・あかちゃん", ("TargetGroup", "medical_care"): "いりょうの ケアが ひつような ひと",
    ("TargetGroup", "general"): "だれでも",
}

VOCABS: dict[str, type[LabelledEnum]] = {cls.__name__: cls for cls in
                                         (Sex, Consent, Reason, CareNeed, Household, PlanStatus, ShelterKind, TargetGroup)}

MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")


def _pick(triple: tuple[str, str, str], code: str) -> str:
    return {"ja": triple[0], "en": triple[1], "ja-easy": triple[2]}[code]


def label(key: str, lang: PrintLanguage) -> Label:
    triple = TEXTS[key]
    return Label(_pick(triple, lang.code), _pick(triple, lang.aside) if lang.aside else "")


def labels(lang: PrintLanguage) -> dict[str, Label]:
    """Every label of the printouts in `lang` (the `labels` of the context object)."""
    return {key: label(key, lang) for key in TEXTS}


def vocab_text(member: LabelledEnum | str, vocab: str, code: str) -> str:
    """A vocabulary value in one language; an unknown value is printed as stored."""
    cls = VOCABS[vocab]
    try:
        member = cls(member)
    except ValueError:
        return str(member)
    if code == "en":
        return member.en
    if code == "ja-easy":
        return EASY.get((vocab, member.value), member.ja)
    return member.ja


def vocab_label(member: LabelledEnum | str, vocab: str, lang: PrintLanguage) -> Label:
    return Label(vocab_text(member, vocab, lang.code), vocab_text(member, vocab, lang.aside) if lang.aside else "")


@dataclass(frozen=True)
class DateText:
    """A date as printed: `main` in the printout language, `aside` the other calendar.

    Japanese: 令和7年8月29日 beside 2025年8月29日; English: 29 August 2025 beside 令和7年8月29日;
    やさしい日本語: 2025年8月29日 beside 令和7年 (西暦 first, for readers with foreign roots).
    `iso` is None for a date not filled in (printed as a blank to write in by hand).
    """

    iso: str | None
    main: str
    aside: str

    @property
    def blank(self) -> bool:
        return self.iso is None


def date_text(value: date | None, lang: PrintLanguage) -> DateText:
    if value is None:
        return DateText(None, "", "")
    wareki = format_wareki(value)
    seireki = f"{value.year}年{value.month}月{value.day}日"
    if lang.code == "en":
        return DateText(value.isoformat(), f"{value.day} {MONTHS_EN[value.month - 1]} {value.year}", wareki)
    if lang.code == "ja-easy":
        # 西暦 first for readers with foreign roots, the era year beside it: 2026年12月6日（令和8年）
        return DateText(value.isoformat(), seireki, wareki[:wareki.index("年") + 1])
    return DateText(value.isoformat(), wareki, seireki)
