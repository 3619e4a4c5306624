"""Width and punctuation normalisation of text typed into Japanese spreadsheets.

Excel files from municipal offices mix full-width (全角) and half-width (半角) characters:
``１３２１４４``, ``Ａ－００１``, ``ﾔﾏﾀﾞ ﾀﾛｳ``, ``０４２（３２５）００１１``. Plain NFKC would
fix the digits but also rewrite things people chose on purpose (① → 1, ㈱ → (株),
～ → ~), so the folding here is narrower:

- full-width ASCII (U+FF01–FF5D) becomes ASCII, the ideographic space U+3000 a space;
- half-width katakana (U+FF61–FF9F) becomes ordinary katakana, voiced marks joined
  (ｶﾞ → ガ, ｰ → ー);
- everything else — kanji, hiragana, katakana, the long-vowel mark ー, ～, ① — is left
  exactly as it was.

On top of that, code-like fields (register numbers, phone numbers, postal codes) treat
every dash look-alike between digits as a hyphen.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

# U+FF5E (～) is left out: CP932 decodes the wave dash 〜 to it, and 9時～17時 should stay.
_FULLWIDTH_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5E)}
_FULLWIDTH_ASCII[0x3000] = 0x20
_HALFWIDTH_KANA_RE = re.compile(r"[\uFF61-\uFF9F]+")

# Hyphen, non-breaking hyphen, figure dash, en dash, em dash, horizontal bar, minus sign,
# long-vowel marks (full and half width) and the full-width hyphen-minus: all typed as
# "dash" in phone numbers and codes.
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30FC\uFF70\uFF0D"
_DASH_RE = re.compile(f"[{_DASHES}]")


def _kana_to_full(match: re.Match) -> str:
    # NFKC maps each half-width kana to its full-width form and composes ｶ+ﾞ into ガ.
    return unicodedata.normalize("NFKC", match.group(0))


def fold_width(text: str) -> str:
    """Full-width ASCII → ASCII, U+3000 → space, half-width katakana → full-width; nothing else."""
    if text.isascii():
        return text
    folded = text.translate(_FULLWIDTH_ASCII)
    return _HALFWIDTH_KANA_RE.sub(_kana_to_full, folded)


def normalize_text(text: str) -> str:
    """Free text such as a name or a note: join half-width kana, strip surrounding blanks.

    Full-width letters and spaces inside a name are kept: 山田　太郎 is how people write it.
    """
    if not text.isascii():
        text = _HALFWIDTH_KANA_RE.sub(_kana_to_full, text)
    return text.strip(" \t\r\n\u3000")


def normalize_address(text: str) -> str:
    """An address: fold widths so ``戸倉３－５`` and ``戸倉3-5`` are the same place."""
    return fold_width(text).strip()


def normalize_code(text: str) -> str:
    """A code such as a register number (登録者番号): fold widths, drop surrounding blanks.

    Dash look-alikes become "-" only when the code is otherwise plain ASCII, so a code
    that really contains katakana keeps its ー.
    """
    folded = fold_width(text).strip()
    candidate = _DASH_RE.sub("-", folded)
    return candidate if candidate.isascii() else folded


def normalize_digits(text: str) -> str:
    """A number typed with full-width digits, sign or point: ``１２０`` → ``120``; blanks removed."""
    folded = fold_width(text).strip()
    return folded.replace(" ", "").replace(",", "")


_PHONE_SEPARATORS_RE = re.compile(r"[\s().\-]+")
PHONE_INVALID = ("電話番号として存在しない番号です。桁数と市外局番を確認してください "
                 "(not a possible phone number: check the digits and the area code)")


def normalize_phone(text: str) -> str:
    """A phone number in its one stored form, checked by libphonenumber (``phonenumbers``).

    Japanese numbers — fixed-line, mobile (070/080/090), IP (050), free dial (0120/0800),
    ナビダイヤル (0570) — are written in the national format with hyphens as libphonenumber
    groups them: ``０４２（３２５）００１１``, ``0423250011`` and ``+81-42-325-0011`` all become
    ``042-325-0011``. Other countries' numbers keep E.164 (``+12025550123``).
    Brackets, spaces, dots and dash look-alikes count as separators.
    Raise ValueError for anything else (letters, 内線, several numbers) and for numbers that
    cannot exist (``12345``, too many digits, an unassigned prefix).
    """
    folded = _DASH_RE.sub("-", fold_width(text)).strip()
    if not folded:
        return ""
    plus = folded.startswith("+")
    body = _PHONE_SEPARATORS_RE.sub("-", folded[1:] if plus else folded).strip("-")
    if not re.fullmatch(r"\d+(?:-\d+)*", body):
        raise ValueError("電話番号には数字とハイフンだけを使えます。内線や複数の番号は「その他連絡先」へ "
                         "(a phone number has digits and hyphens only; put extensions or other numbers "
                         "in the other-contact field)")
    digits = body.replace("-", "")
    try:
        number = phonenumbers.parse(("+" if plus else "") + digits, "JP")
    except phonenumbers.NumberParseException:
        raise ValueError(PHONE_INVALID) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(PHONE_INVALID)
    if number.country_code == 81:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_postal_code(text: str) -> str:
    """A 郵便番号 as ``NNN-NNNN``; accepts ``〒185-0001``, ``1850001``, full-width digits."""
    folded = _DASH_RE.sub("-", fold_width(text)).strip().lstrip("〒").strip()
    if not folded:
        return ""
    digits = folded.replace("-", "").replace(" ", "")
    if not re.fullmatch(r"\d{7}", digits):
        raise ValueError("郵便番号は7桁の数字です（例: 185-0001） (a postal code has 7 digits, e.g. 185-0001)")
    return f"{digits[:3]}-{digits[3:]}"


_SPACE_RE = re.compile(r"\s+")
_KATA_TO_HIRA = {code: code - 0x60 for code in (*range(0x30A1, 0x30F7), 0x30FD, 0x30FE)}


def kana_key(text: str) -> str:
    """The search key of a ふりがな: NFKC (half-width kana joined), no spaces, katakana as
    hiragana — ヤマダ　ハナコ, やまだ はなこ and ﾔﾏﾀﾞﾊﾅｺ are one key. Stored beside the
    ふりがな (person.kana_key, indexed) so that a kana search is an index range, not a scan."""
    return _SPACE_RE.sub("", unicodedata.normalize("NFKC", text or "")).translate(_KATA_TO_HIRA)


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string after every string that starts with `prefix` (in code point order):
    `key >= prefix AND key < prefix_upper_bound(prefix)` is a prefix match an index can answer."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)
