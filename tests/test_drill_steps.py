"""Drills in short, named steps (architecture issue, item 4): the field-response script
(simulate.py) and a drill run (runner.py) are built from steps that can be called and checked
one at a time; the whole gives exactly what it gave before the split.

GOLDEN holds digests of `script()`'s output for the two shipped scenarios on the 300-people demo
city, computed with the code from before the split (commit 5098346): same city, scenario and seed,
same script — every action, time, outcome and tally.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from server.drills.scenario import load_scenario
from server.drills.simulate import script

from .test_drill_run import SCENARIOS, city_records

GOLDEN = {
    ("tama-east-m73.toml", None): ("9d0555ed122537f3d57474b1c903ca91ed621adc04a6d5ccddeb57928ad5dd87", 1096),
    ("tama-east-m73.toml", 12345): ("769007d00b4d51643269b64f653034511130d9296274366faed71b03b679b3c0", 1072),
    ("tachikawa-m74.toml", None): ("3ac643b9f6e2bb15b1712b8a8cf8f60e072138c853fffddaca6e455631f6a901", 1096),
    ("tachikawa-m74.toml", 12345): ("7583af0f2ec53e9937fbcb236b383e893e95cb5d3358b6beae328d037c34a25c", 1075),
}


def _plain(value):
    """JSON-ready, floats rounded to 6 places (a last-bit difference of a platform's libm is not a change)."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def script_digest(drill) -> str:
    body = {"scenario": drill.scenario_id, "seed": drill.seed,
            "actions": [[a.minute, a.device, a.entity, a.data] for a in drill.actions],
            "outcomes": drill.outcomes, "first_check_minute": drill.first_check_minute,
            "shelters": drill.shelters, "unplaced": drill.unplaced, "duration": drill.duration_minutes,
            "intensity_median": drill.intensity_median, "person_intensity": drill.person_intensity}
    text = json.dumps(_plain(body), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("name, seed", sorted(GOLDEN, key=str))
def test_the_script_is_what_it_was_before_the_split(name, seed):
    drill = script(load_scenario(SCENARIOS / name), seed=seed, **city_records())
    assert (script_digest(drill), len(drill.actions)) == GOLDEN[(name, seed)]


def test_the_digest_sees_a_change():
    drill = script(load_scenario(SCENARIOS / "tama-east-m73.toml"), **city_records())
    before = script_digest(drill)
    drill.first_check_minute[next(iter(drill.first_check_minute))] += 0.001
    assert script_digest(drill) != before
