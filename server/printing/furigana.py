"""Furigana (ruby) for the やさしい日本語 printout: a reading over every kanji.

Headings of the やさしい日本語 plan are written in hiragana, but what staff typed (the route,
care notes, 「高齢者等避難の発令」, addresses, shelter names) is in kanji. A learner of Japanese
reads it with furigana, so every kanji of a やさしい日本語 plan gets its reading above it.

Readings come from SudachiPy with its core dictionary (PyPI: `sudachipy`, `sudachidict_core`;
why Sudachi and not pykakasi: docs/printing.md). Sudachi gives a reading per morpheme
(避難する → 避難 ヒナン, する スル); the reading is aligned with the surface so that only the
kanji runs carry ruby and okurigana stay outside it: 迎(むか)え, not 迎え(むかえ).

`annotate_html` adds ruby to the text of a rendered HTML fragment (the plan's article): text
already inside <ruby> (the name with its registered reading), <svg>, <style> and <script> is
left alone, and so are tags and attributes.
"""

from __future__ import annotations

import html
import re
import threading
from functools import lru_cache

from markupsafe import Markup, escape

# Kanji (CJK unified ideographs, extension A and B, compatibility ideographs) and the marks
# that are read as part of a kanji word (々 repeat, 〆, ヶ in 一ヶ月).
_KANJI_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef々〆ヶ"
KANJI = re.compile(f"[{_KANJI_CHARS}]")
_RUNS = re.compile(f"([{_KANJI_CHARS}]+)")
_KATAKANA = re.compile("[\u30a1-\u30f6]")
_SKIP_TAGS = ("ruby", "svg", "style", "script", "title")
_TAG = re.compile(r"(<[^>]*>)")
_TAG_NAME = re.compile(r"<\s*(/?)\s*([a-zA-Z][a-zA-Z0-9-]*)")

_local = threading.local()


def _tokenizer():
    """One Sudachi tokenizer per thread (the dictionary itself is memory-mapped and shared)."""
    tokenizer = getattr(_local, "tokenizer", None)
    if tokenizer is None:
        from sudachipy import Dictionary, SplitMode

        tokenizer = Dictionary(dict="core").tokenizer(SplitMode.C)
        _local.tokenizer = tokenizer
    return tokenizer


def hiragana(text: str) -> str:
    """Katakana → hiragana (ー and other marks as they are)."""
    return _KATAKANA.sub(lambda m: chr(ord(m.group()) - 0x60), text)


def has_kanji(text: str) -> bool:
    return bool(KANJI.search(text))


def align(surface: str, reading: str) -> list[tuple[str, str]]:
    """Split a word into (text, reading) parts: a reading for each kanji run, "" for kana.

    避難する / ひなんする → [(避難, ひなん), (する, "")]; 取り扱い / とりあつかい →
    [(取, と), (り, ""), (扱, あつか), (い, "")]. When the kana of the surface cannot be found
    in the reading (an irregular reading), the whole word carries the whole reading.
    """
    parts = [p for p in _RUNS.split(surface) if p]
    pattern = "".join("(.+?)" if KANJI.match(p) else "(" + re.escape(hiragana(p)) + ")" for p in parts)
    match = re.fullmatch(pattern, reading)
    if match is None:
        return [(surface, reading)]
    return [(part, match.group(i + 1) if KANJI.match(part) else "") for i, part in enumerate(parts)]


def segments(text: str) -> list[tuple[str, str]]:
    """The text as (text, reading) pieces; reading "" where no ruby is needed (no kanji)."""
    if not has_kanji(text):
        return [(text, "")]
    out: list[tuple[str, str]] = []
    morphemes = list(_tokenizer().tokenize(text))
    i = 0
    while i < len(morphemes):
        m = morphemes[i]
        surface, reading = m.surface(), hiragana(m.reading_form())
        nxt = morphemes[i + 1] if i + 1 < len(morphemes) else None
        if (surface.isdigit() and not m.is_oov() and nxt is not None
                and KANJI.match(nxt.surface())):
            # a number read together with its counter (6日 むいか, 8年 はちねん): one ruby over both,
            # since the counter's reading depends on the number
            out.append((surface + nxt.surface(), reading + hiragana(nxt.reading_form())))
            i += 2
            continue
        i += 1
        if not has_kanji(surface):
            out.append((surface, ""))
        elif not reading or has_kanji(reading) or reading == "きごう":
            # no reading in the dictionary: read the kanji one by one
            out.extend(_by_character(surface))
        else:
            out.extend(align(surface, reading))
    return _merge_plain(out)


def _by_character(surface: str) -> list[tuple[str, str]]:
    out = []
    for ch in surface:
        if not has_kanji(ch):
            out.append((ch, ""))
            continue
        [m] = list(_tokenizer().tokenize(ch))[:1] or [None]
        reading = hiragana(m.reading_form()) if m is not None else ""
        out.append((ch, "" if has_kanji(reading) or reading == "きごう" else reading))
    return out


def _merge_plain(parts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    merged: list[tuple[str, str]] = []
    for text, reading in parts:
        if not reading and merged and not merged[-1][1]:
            merged[-1] = (merged[-1][0] + text, "")
        else:
            merged.append((text, reading))
    return merged


def ruby(text: str) -> Markup:
    """The text as HTML, escaped, with <ruby>漢字<rt>かんじ</rt></ruby> over every kanji run."""
    out = []
    for part, reading in segments(text):
        if reading:
            out.append(Markup("<ruby>{}<rt>{}</rt></ruby>").format(part, reading))
        else:
            out.append(escape(part))
    return Markup("").join(out)


def reading(text: str) -> str:
    """The whole text in hiragana where it has kanji (for places where ruby cannot go, e.g. SVG)."""
    return "".join(r or t for t, r in segments(text))


def annotate_html(fragment: str) -> Markup:
    """Ruby over the kanji of every text node of an HTML fragment (see the module docstring)."""
    out = []
    skipping: list[str] = []
    for piece in _TAG.split(str(fragment)):
        if not piece:
            continue
        if piece.startswith("<"):
            out.append(piece)
            name = _TAG_NAME.match(piece)
            if name is not None and not piece.endswith("/>"):
                closing, tag = name.group(1) == "/", name.group(2).lower()
                if tag in _SKIP_TAGS:
                    if closing and skipping and skipping[-1] == tag:
                        skipping.pop()
                    elif not closing:
                        skipping.append(tag)
            continue
        if skipping or not has_kanji(piece):
            out.append(piece)
        else:
            out.append(_ruby_text_node(piece))
    return Markup("".join(out))


@lru_cache(maxsize=4096)
def _ruby_text_node(piece: str) -> str:
    """One escaped text node with ruby. Cached: the labels are the same on every plan of a batch."""
    return str(ruby(html.unescape(piece)))
