"""受入対象者 written as free text, as each city writes it in the GSI 指定避難所 file.

Real files say 「高齢者、障害者、乳幼児、妊産婦、外国人及び介護にあたる家族等」, 「要配慮者及び
その介助者」, 「障害者（主に知的障害者）及びその家族等」, 「障害のある乳幼児親子」 … rather than
the project's labels. A shelter on the national list is never refused for its wording: the
groups are recognised by keyword, the words that only join them (及び, その, 等, 主に …) are
skipped, and whatever is left is reported as "not understood" so staff can review the row.

- 要配慮者 → every welfare group (高齢者, 障害者, 妊産婦・乳幼児, 医療的ケア);
- 高齢者 / 要介護者 → elderly; 障害者 / 障がい者 / 障害児, 知的・身体・精神・発達障害,
  障害のある … → disabled; 妊産婦 / 妊婦 / 乳幼児 / 乳児 / 幼児 → pregnant_infant;
  医療的ケア → medical_care; 一般 → general;
- 介助者, 介護者, 家族, 付添い, 保護者, 親子 → carers are accepted with the person (not a group).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..domain.textnorm import fold_width
from ..models.vocab import TargetGroup as G
from .columns import split_multi

WELFARE_GROUPS = (G.elderly, G.disabled, G.pregnant_infant, G.medical_care)
CARERS = "carers"

# (pattern, what it means). Longer phrases first: the alternation takes the first that matches.
_KEYWORDS: tuple[tuple[str, tuple], ...] = (
    (r"要配慮者", WELFARE_GROUPS),
    (r"医療的ケア(?:が必要な(?:人|方|者)|児者|児|者)?", (G.medical_care,)),
    (r"介護にあたる家族|介助する家族|介助者|介護者|付き?添い?(?:者|人)?|保護者|家族|親子", (CARERS,)),
    (r"(?:知的|身体|精神|発達|重度|重症心身)?(?:障害|障がい|障碍)(?:児者|者|児|のある(?:人|方|者)?)?",
     (G.disabled,)),
    (r"高齢者|高齢|要介護者?", (G.elderly,)),
    (r"妊産婦|妊婦|産婦|乳幼児|乳児|幼児", (G.pregnant_infant,)),
    (r"一般", (G.general,)),
)
_KEYWORD_RE = re.compile("|".join(f"({pattern})" for pattern, _ in _KEYWORDS))
# Joining words and punctuation between the groups.
_JOIN_RE = re.compile(r"及び|および|並びに|ならびに|又は|または|もしくは|[、,;・/()「」『』【】\[\]。.:\s\u3000\x00]+")
_PREFIXES = ("その", "主に", "主として", "これらの", "上記の")
_SUFFIXES = ("等", "など", "の方", "の人", "の", "方", "人", "者", "と", "や")


@dataclass
class TargetText:
    """What a 受入対象者 text says: the groups, whether carers are accepted, the parts not understood."""

    groups: list[G] = field(default_factory=list)
    carers: bool = False
    unknown: list[str] = field(default_factory=list)


def _leftover(segment: str) -> str:
    """A segment between keywords without its joining prefixes and suffixes; "" if nothing is left."""
    changed = True
    while segment and changed:
        changed = False
        for prefix in _PREFIXES:
            if segment.startswith(prefix):
                segment, changed = segment[len(prefix):], True
        for suffix in _SUFFIXES:
            if segment.endswith(suffix):
                segment, changed = segment[: -len(suffix)], True
    return segment


def read_target_text(text: str) -> TargetText:
    """Recognise the target groups in a free-text 受入対象者 cell (see the module docstring)."""
    found: set = set()
    unknown: list[str] = []
    for chunk in split_multi(fold_width(text)):
        try:
            found.add(G.parse(chunk))  # a label, code or English name as the project's own CSV writes it
            continue
        except ValueError:
            pass
        for match in _KEYWORD_RE.finditer(chunk):
            found.update(_KEYWORDS[match.lastindex - 1][1])
        rest = _KEYWORD_RE.sub("\x00", chunk)
        unknown += [part for part in _JOIN_RE.split(rest) if _leftover(part)]
    groups = [group for group in G if group in found]
    return TargetText(groups, CARERS in found, list(dict.fromkeys(unknown)))
