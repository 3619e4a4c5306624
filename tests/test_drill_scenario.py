"""Drill scenario files: the shipped ones load, and every kind of mistake is reported with
its key path (and line)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from server.drills.scenario import (
    AVS30_DEFAULT,
    RESPONSE_DEFAULTS,
    FragilityOverride,
    ScenarioError,
    load_scenario,
)

SCENARIOS = Path(__file__).resolve().parent.parent / "drills" / "scenarios"

MINIMAL = """\
id = "test-m70"
name = "テスト地震"
name_en = "Test earthquake"
magnitude_jma = 7.0
origin_time = 2026-12-01T10:00:00+09:00
seed = 1

[fault]
kind = "crustal"
depth_km = 10.0
trace = [[139.45, 35.69]]
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(text)
    return caught.value.messages


def replace(old: str, new: str) -> str:
    assert old in MINIMAL
    return MINIMAL.replace(old, new)


# ---- the shipped scenarios ----

@pytest.mark.parametrize("file_name, magnitude, kind", [
    ("tama-east-m73.toml", 7.3, "interplate"),
    ("tachikawa-m74.toml", 7.4, "crustal"),
])
def test_shipped_scenarios_load(file_name, magnitude, kind):
    scenario = load_scenario(SCENARIOS / file_name)
    assert scenario.id == file_name.removesuffix(".toml")
    assert scenario.magnitude_jma == magnitude
    assert scenario.fault.kind == kind
    assert scenario.origin_time.utcoffset() == timedelta(hours=9)
    assert scenario.avs30_default == 300.0
    assert dict(scenario.response) == RESPONSE_DEFAULTS
    assert "assumption" in scenario.notes.lower()


def test_shipped_scenarios_have_both_names():
    tama = load_scenario(SCENARIOS / "tama-east-m73.toml")
    tachikawa = load_scenario(str(SCENARIOS / "tachikawa-m74.toml"))  # a path given as a string
    assert tama.name == "多摩東部直下地震"
    assert tachikawa.name == "立川断層帯地震"
    assert tama.fault.is_point
    assert not tachikawa.fault.is_point and len(tachikawa.fault.trace) >= 2
    # Around Ome in the north-west to around Fuchu in the south-east.
    (lon0, lat0), (lon1, lat1) = tachikawa.fault.trace[0], tachikawa.fault.trace[-1]
    assert lon0 < lon1 and lat0 > lat1


# ---- defaults and values ----

def test_minimal_scenario_gets_the_defaults():
    scenario = load_scenario(MINIMAL)
    assert scenario.avs30_default == AVS30_DEFAULT == 300.0
    assert dict(scenario.avs30_by_district) == {}
    assert dict(scenario.fragility) == {}
    assert dict(scenario.response) == {
        "supporters_start_minutes": 30, "visit_minutes": 10, "walk_m_per_min": 60,
        "share_not_reachable": 0.05, "shelter_report_every_minutes": 60, "duration_hours": 24,
    }
    assert scenario.notes == ""
    assert scenario.mw == pytest.approx(7.0 - 0.171)
    assert scenario.fault.top_km is None and scenario.fault.distance_depth_km == 10.0


def test_scenario_is_frozen():
    scenario = load_scenario(MINIMAL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        scenario.seed = 2
    with pytest.raises(TypeError):
        scenario.response["visit_minutes"] = 5


def test_overrides_are_read():
    text = replace("seed = 1", "seed = 1\navs30_default = 350") + """
[avs30_by_district]
W6 = 240
"000101" = 200.5

[fragility.old_high_risk]
median_intensity = 5.6
sigma = 0.4

[fragility.new_standard]
sigma = 0.3

[response]
visit_minutes = 15
share_not_reachable = 0.1
"""
    scenario = load_scenario(text)
    assert scenario.avs30_default == 350.0
    assert scenario.avs30_for("W6") == 240.0
    assert scenario.avs30_for("000101") == 200.5
    assert scenario.avs30_for("W1") == 350.0
    assert scenario.avs30_for(None) == 350.0
    assert scenario.fragility["old_high_risk"] == FragilityOverride(5.6, 0.4)
    assert scenario.fragility["new_standard"] == FragilityOverride(None, 0.3)
    assert scenario.response["visit_minutes"] == 15.0
    assert scenario.response["share_not_reachable"] == 0.1
    assert scenario.response["duration_hours"] == 24  # untouched keys keep their default


def test_fault_trace_with_top_depth():
    text = replace("trace = [[139.45, 35.69]]", "top_km = 3\ntrace = [[139.28, 35.79], [139.48, 35.66]]")
    fault = load_scenario(text).fault
    assert fault.trace == ((139.28, 35.79), (139.48, 35.66))
    assert fault.top_km == 3.0 and fault.distance_depth_km == 3.0 and fault.depth_km == 10.0


# ---- errors ----

def test_toml_syntax_error_passes_on_the_line():
    messages = errors_of(MINIMAL + "\n[response\nvisit_minutes = 3\n")
    assert len(messages) == 1
    assert messages[0].startswith("TOML syntax error")
    assert "(at line 13, column 10)" in messages[0]


def test_depth_out_of_range_names_key_and_line():
    messages = errors_of(replace("depth_km = 10.0", "depth_km = 800"))
    assert messages == ["fault.depth_km: must be between 0 and 700, not 800 (line 10)"]


@pytest.mark.parametrize("value", ["3.9", "9.6", '"7.3"', "true", "nan"])
def test_magnitude_must_be_a_number_in_range(value):
    messages = errors_of(replace("magnitude_jma = 7.0", f"magnitude_jma = {value}"))
    assert len(messages) == 1 and messages[0].startswith("magnitude_jma: must be")
    assert "(line 4)" in messages[0]


def test_unknown_keys_are_errors():
    messages = errors_of(replace("depth_km = 10.0", "depht_km = 10.0") + 'magnitude = 7\n')
    assert any(m.startswith("fault.depht_km: unknown key") and "(line 10)" in m for m in messages)
    assert any(m.startswith("fault.depth_km: required") for m in messages)
    # `magnitude` after [fault] is inside the fault table in TOML.
    assert any(m.startswith("fault.magnitude: unknown key") for m in messages)


def test_unknown_top_level_key_and_table():
    messages = errors_of(replace('seed = 1', 'seed = 1\nseeds = 2') + "\n[responce]\nvisit_minutes = 5\n")
    assert any(m.startswith("seeds: unknown key") and "(line 7)" in m for m in messages)
    assert any(m.startswith("responce: unknown key") for m in messages)


def test_every_problem_is_reported_at_once():
    text = (MINIMAL.replace("magnitude_jma = 7.0", "magnitude_jma = 12")
            .replace('kind = "crustal"', 'kind = "volcanic"')
            .replace("seed = 1", "seed = 1.5"))
    messages = errors_of(text)
    assert len(messages) == 3
    assert {m.split(":")[0] for m in messages} == {"magnitude_jma", "fault.kind", "seed"}


def test_naive_origin_time_is_an_error():
    messages = errors_of(replace("2026-12-01T10:00:00+09:00", "2026-12-01T10:00:00"))
    assert messages == [("origin_time: must have a UTC offset, e.g. 2026-12-01T10:00:00+09:00 "
                         "(a local time is ambiguous) (line 5)")]


@pytest.mark.parametrize("value, expected", [
    ("2026-12-01", "must be a date and time with a UTC offset"),
    ('"2026-12-01T10:00:00+09:00"', "must be a TOML datetime, unquoted"),
    ("20261201", "must be a datetime"),
])
def test_origin_time_must_be_an_offset_datetime(value, expected):
    messages = errors_of(replace("2026-12-01T10:00:00+09:00", value))
    assert len(messages) == 1 and messages[0].startswith(f"origin_time: {expected}")


def test_missing_required_keys():
    messages = errors_of('name = "x"\n')
    keys = {m.split(":")[0] for m in messages}
    assert keys == {"id", "name_en", "magnitude_jma", "origin_time", "seed", "fault"}


def test_fault_outside_japan_and_bad_points():
    messages = errors_of(replace("trace = [[139.45, 35.69]]", "trace = [[139.45, 35.69], [-122.4, 37.8], [139.5]]"))
    assert any(m.startswith("fault.trace[1]: coordinates") and "outside Japan" in m for m in messages)
    assert any(m.startswith("fault.trace[2]: must be a [lon, lat] pair") for m in messages)
    assert all("(line 11)" in m for m in messages)


def test_empty_trace_and_repeated_point():
    assert errors_of(replace("trace = [[139.45, 35.69]]", "trace = []"))[0].startswith(
        "fault.trace: must be a non-empty list")
    assert errors_of(replace("trace = [[139.45, 35.69]]", "trace = [[139.45, 35.69], [139.45, 35.69]]"))[0] \
        .startswith("fault.trace: consecutive points must differ")


def test_top_km_rules():
    point = errors_of(replace("depth_km = 10.0", "depth_km = 10.0\ntop_km = 2"))
    assert point[0].startswith("fault.top_km: only for a fault trace")
    deeper = errors_of(replace("trace = [[139.45, 35.69]]", "top_km = 12\ntrace = [[139.28, 35.79], [139.48, 35.66]]"))
    assert deeper[0].startswith("fault.top_km: the upper edge (12 km) cannot be deeper")


def test_id_format():
    assert errors_of(replace('id = "test-m70"', 'id = "Test M7"'))[0].startswith("id: must be lower-case")


def test_avs30_range():
    messages = errors_of(MINIMAL.replace("seed = 1", "seed = 1\navs30_default = 50") + '[avs30_by_district]\nW1 = "soft"\n')
    assert any(m.startswith("avs30_default: must be between 100 and 1500, not 50") for m in messages)
    assert any(m.startswith("avs30_by_district.W1: must be a number, not a string") for m in messages)


def test_fragility_errors():
    text = MINIMAL + """
[fragility.old_very_high_risk]
median_intensity = 5.0
[fragility.old_high_risk]
sigma = 0
[fragility.unknown]
mu = 6.0
"""
    messages = errors_of(text)
    assert any(m.startswith("fragility.old_very_high_risk: unknown 耐震 class") for m in messages)
    assert any(m.startswith("fragility.old_high_risk.sigma: must be between 0.05 and 2") for m in messages)
    assert any(m.startswith("fragility.unknown.mu: unknown key") for m in messages)


@pytest.mark.parametrize("line, expected", [
    ("supporters_start_minutes = 30.5", "response.supporters_start_minutes: must be an integer, not a number"),
    ("visit_minutes = 0", "response.visit_minutes: must be greater than 0 and at most 240, not 0"),
    ("walk_m_per_min = true", "response.walk_m_per_min: must be a number, not a boolean"),
    ("share_not_reachable = 1.5", "response.share_not_reachable: must be between 0 and 1, not 1.5"),
    ("shelter_report_every_minutes = 0", "response.shelter_report_every_minutes: must be between 1 and 1440"),
    ("duration_hours = 200", "response.duration_hours: must be greater than 0 and at most 168, not 200"),
    ("visits = 3", "response.visits: unknown key"),
])
def test_response_values_are_checked(line, expected):
    messages = errors_of(MINIMAL + "\n[response]\n" + line + "\n")
    assert len(messages) == 1 and messages[0].startswith(expected)
    assert "(line 14)" in messages[0]


def test_error_from_a_file_names_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(replace("depth_km = 10.0", "depth_km = -1"), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value).startswith(f"{path}: fault.depth_km: must be between 0 and 700")
