"""Width normalisation of municipal spreadsheet text."""

from __future__ import annotations

import pytest

from server.domain.textnorm import (fold_width, normalize_address, normalize_code, normalize_digits, normalize_phone,
                                    normalize_postal_code, normalize_text)


def test_fold_width_changes_ascii_and_half_width_kana_only():
    assert fold_width("ＡＢＣ１２３　ｘｙｚ") == "ABC123 xyz"
    assert fold_width("ﾔﾏﾀﾞ ﾀﾛｳ") == "ヤマダ タロウ"
    assert fold_width("ｶﾞｷﾞｸﾞｹﾞｺﾞﾊﾟﾋﾟｰ") == "ガギグゲゴパピー"
    # Kanji, kana, the long-vowel mark, the wave dash and circled numbers stay as typed.
    for kept in ("国分寺市", "コーヒー", "ひらがな", "9時～17時", "〜", "①", "㈱"):
        assert fold_width(kept) == kept


def test_normalize_text_keeps_the_full_width_space_inside_a_name():
    assert normalize_text("　山田　太郎　") == "山田　太郎"
    assert normalize_text("ﾔﾏﾀﾞ") == "ヤマダ"


def test_address_digits_and_hyphens_fold():
    assert normalize_address("東京都国分寺市戸倉３－５－１ ") == "東京都国分寺市戸倉3-5-1"


@pytest.mark.parametrize("text, expected", [
    ("Ａ－０００１", "A-0001"), ("A―0001", "A-0001"), (" 00123 ", "00123"), ("国ー001", "国ー001")])
def test_codes(text, expected):
    assert normalize_code(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("０４２（３２５）００１１", "042-325-0011"), ("042-325-0011", "042-325-0011"), ("(042)325-0011", "042-325-0011"),
    ("042ー325ー0011", "042-325-0011"), ("090.1234.5678", "090-1234-5678"), ("", ""),
    # one form per number, whatever the hyphens: search and duplicate checks see one value
    ("0423250011", "042-325-0011"), ("04-2325-0011", "042-325-0011"), ("0422-45-1151", "0422-45-1151"),
    ("0422451151", "0422-45-1151"), ("0312345678", "03-1234-5678"), ("+81 3 1234 5678", "03-1234-5678"),
    ("+81-42-325-0011", "042-325-0011"),
    ("07012345678", "070-1234-5678"), ("08012345678", "080-1234-5678"), ("０９０１２３４５６７８", "090-1234-5678"),
    ("05012345678", "050-1234-5678"),          # IP phone
    ("0120123456", "0120-123-456"), ("08001234567", "0800-123-4567"),  # free dial
    ("0570-123-456", "0570-123-456"),          # ナビダイヤル
    # other countries keep E.164
    ("+1 (202) 555-0123", "+12025550123"), ("+44 20 7946 0958", "+442079460958"),
])
def test_phone_numbers_have_one_national_form(text, expected):
    assert normalize_phone(text) == expected


@pytest.mark.parametrize("text", ["03-1234-5678 内線12", "03-1234-5678/090-1111-2222", "abc"])
def test_phone_numbers_with_other_text(text):
    with pytest.raises(ValueError, match="digits and hyphens"):
        normalize_phone(text)


@pytest.mark.parametrize("text", ["12", "12345", "042325001199999", "042-325-00", "090-0123-4567", "+1 555", "110"])
def test_impossible_phone_numbers(text):
    with pytest.raises(ValueError, match="not a possible phone number"):
        normalize_phone(text)


@pytest.mark.parametrize("text, expected", [
    ("〒185-0001", "185-0001"), ("1850001", "185-0001"), ("１８５－０００１", "185-0001"), ("185ー0001", "185-0001"),
    ("", "")])
def test_postal_codes(text, expected):
    assert normalize_postal_code(text) == expected


def test_bad_postal_code():
    with pytest.raises(ValueError, match="7 digits"):
        normalize_postal_code("185-001")


def test_digits():
    assert normalize_digits("１２０") == "120"
    assert normalize_digits(" 1,200 ") == "1200"
    assert normalize_digits("－１３９．５") == "-139.5"
