"""Drills, part B: the scripted field response (pure, seeded) and a whole drill run through a real
server over HTTP — records land exactly once, a second run counts nothing twice, the figures
come from what the server holds, and the CLI works end to end."""

from __future__ import annotations

import json
import math
import socket
from collections import Counter
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

import pytest

from server.drills.scenario import load_scenario
from server.drills.simulate import home_class, script

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "drills" / "scenarios"


@lru_cache(maxsize=1)
def city_records():
    """The small demo city as the API's JSON records."""
    from server.demo_city import build_demo_city

    city = build_demo_city(people=300)
    dump = lambda rows: [row.model_dump(mode="json") for row in rows]  # noqa: E731
    return {"people": dump(city.people), "plans": dump(city.plans), "shelters": dump(city.shelters),
            "districts": dump(city.districts)}


def _script(name="tama-east-m73.toml", seed=None, **changes):
    scenario = load_scenario(SCENARIOS / name)
    if changes:
        from dataclasses import replace

        scenario = replace(scenario, **changes)
    return scenario, script(scenario, seed=seed, **city_records())


def test_same_seed_same_script_other_seed_other_script():
    _, a = _script()
    _, b = _script()
    _, c = _script(seed=12345)
    assert a.actions == b.actions and a.outcomes == b.outcomes
    assert a.outcomes != c.outcomes


def test_script_is_consistent_with_itself():
    scenario, s = _script()
    people = {p["id"]: p for p in city_records()["people"]}
    assert set(s.outcomes) == set(people) and set(s.outcomes.values()) <= {
        "safe_home", "evacuated", "needs_help", "injured", "unreachable"}
    minutes = [a.minute for a in s.actions]
    assert minutes == sorted(minutes) and all(0 <= m <= s.duration_minutes for m in minutes)
    collapsed = {sh["id"] for sh in s.shelters if sh["collapsed"]}
    checks = [a for a in s.actions if a.entity == "safety-checks"]
    for action in checks:
        assert action.data["person_id"] in people
        if action.data.get("shelter_id"):  # recorded at a shelter: never one that collapsed
            assert action.data["shelter_id"] not in collapsed and action.data["outcome"] == "evacuated"
    # the first check of each confirmed person is the earliest scripted one
    first: dict[str, float] = {}
    for action in checks:
        first.setdefault(action.data["person_id"], action.minute)
    assert first == s.first_check_minute
    # nobody is visited twice by their 民生委員
    visits = Counter((a.device, a.data["person_id"]) for a in checks if a.device.startswith("drill-minsei-"))
    assert max(visits.values()) == 1
    # shelter reports: occupancy by group never exceeds occupancy, collapsed shelters report closed
    for action in (a for a in s.actions if a.entity == "shelter-reports"):
        groups = action.data.get("occupancy_by_group") or {}
        assert sum(groups.values()) <= action.data["occupancy"]
        if action.data["shelter_id"] in collapsed:
            assert action.data["open_state"] == "closed" and action.data["damage"] == "unusable"


def test_stronger_shaking_does_more_harm_and_slower_supporters_confirm_later():
    from dataclasses import replace

    scenario = load_scenario(SCENARIOS / "tachikawa-m74.toml")
    weak = script(replace(scenario, magnitude_jma=5.5), **city_records())
    strong = script(scenario, **city_records())
    harm = lambda s: sum(o in ("injured", "needs_help", "evacuated") for o in s.outcomes.values())  # noqa: E731
    assert harm(strong) > harm(weak)
    slow = script(replace(scenario, response={**scenario.response, "visit_minutes": 30}), **city_records())
    fast_median = sorted(strong.first_check_minute.values())[len(strong.first_check_minute) // 2]
    slow_median = sorted(slow.first_check_minute.values())[len(slow.first_check_minute) // 2]
    assert slow_median > fast_median


def test_home_class_from_building_structure():
    assert home_class("鉄筋コンクリート造4階建") == "new_standard"
    assert home_class("木造2階建") == "unknown" and home_class("") == "unknown"


# ---- a whole drill through a real server

@pytest.fixture
def drill_server(tmp_path):
    from server.drills.cli import local_server

    with local_server(tmp_path / "drill.sqlite3", people=300) as (url, username, password):
        yield url, username, password, tmp_path / "drill.sqlite3"


def test_a_drill_through_the_http_api_lands_exactly_once(drill_server):
    from sqlmodel import Session, func, select

    from server.db import make_engine
    from server.drills.runner import Api, report_text, run_drill
    from server.models import SafetyCheck, ShelterReport
    from server.models.auth import AuditEntry, Mode, ModeSwitch

    url, username, password, database = drill_server
    scenario = load_scenario(SCENARIOS / "tama-east-m73.toml")
    api = Api(url)
    api.sign_in(username, password)
    now = datetime.now(timezone.utc)  # the server refuses records from its future
    quake_at = (now - timedelta(hours=25)).replace(second=0, microsecond=0)
    first = run_drill(api, scenario, quake_at=quake_at, now=now)
    assert first.ok, first.checks
    assert first.statuses["applied"] == first.sent == len(first.script.actions) and not first.rejected
    assert first.mode_switched
    engine = make_engine(f"sqlite:///{database}")
    with Session(engine) as s:
        # the drill's own checks, made after its quake: the demo city holds a few of its own disaster's, days before
        drill_checks = select(func.count()).select_from(SafetyCheck).where(SafetyCheck.observed_at >= quake_at)
        checks = s.exec(drill_checks).one()
        reports = s.exec(select(func.count()).select_from(ShelterReport)).one()
        mode = s.exec(select(ModeSwitch).order_by(ModeSwitch.at.desc())).first()
        audited = s.exec(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "mode_switch")).one()
    expected_checks = sum(a.entity == "safety-checks" for a in first.script.actions)
    assert checks == expected_checks and reports == len(first.script.actions) - expected_checks
    assert mode.mode == Mode.disaster and "訓練" in mode.reason and audited == 1
    # the figures are those of the server's records
    k = first.kpis
    # "confirmed" is server/domain/safety.py's: a person recorded 連絡つかず was checked but is
    # not confirmed (before, the drill counted every checked person as confirmed).
    scripted: dict[str, tuple[float, str]] = {}
    for action in sorted(first.script.actions, key=lambda a: a.minute):
        if action.entity == "safety-checks":
            person = action.data["person_id"]
            scripted.setdefault(person, (action.minute, action.data["outcome"]))
            scripted[person] = (scripted[person][0], action.data["outcome"])
    confirmed = {p: minute for p, (minute, outcome) in scripted.items() if outcome != "unreachable"}
    assert 0 < len(confirmed) < len(scripted)  # the scenario has people not reachable
    assert k["people"] == 300 and k["confirmed"] == len(confirmed)
    assert k["unconfirmed"] == 300 - len(confirmed)
    assert sum(k["outcomes"].values()) == len(first.script.first_check_minute)
    assert k["outcomes"]["unreachable"] == len(scripted) - len(confirmed)
    minutes = sorted(confirmed.values())
    assert k["minutes_to_50"] == pytest.approx(minutes[math.ceil(0.5 * 300) - 1], abs=0.1)
    assert k["matching"]["people"] is not None and k["matching"]["proposal_id"]
    # matching took the scenario's shaking at every shelter and home, not one number for the city
    proposal = api.get(f"/api/matching/proposals/{k['matching']['proposal_id']}")
    assert len(first.script.person_intensity) == 300
    assert proposal["params"]["places_with_own_intensity"] == 300 + sum(
        1 for s in first.script.shelters if s["intensity"] is not None)
    # HQ asked the demo city's 協定福祉避難所 to open, once
    assert k["agreement_shelters_requested"] > 0
    text = report_text(first)
    assert "訓練 Drill" in text and "✗" not in text

    # the same drill again: every mutation is a duplicate, nothing is added
    again = run_drill(api, scenario, quake_at=quake_at, now=now)
    assert again.statuses["duplicate"] == again.sent and not again.statuses["applied"]
    assert not again.mode_switched and again.ok and again.kpis["agreement_shelters_requested"] == 0
    with Session(engine) as s:
        assert s.exec(drill_checks).one() == checks
    api.close()
    engine.dispose()


def test_drill_with_a_wrong_password_is_a_clear_error(drill_server):
    from server.drills.runner import Api, DrillError

    url, username, _, _ = drill_server
    api = Api(url)
    with pytest.raises(DrillError, match="401|403"):
        api.sign_in(username, "not the password at all")
    api.close()


def test_drill_cli_check_and_run(tmp_path, capsys):
    from server.cli import main

    assert main(["drill", "check", str(SCENARIOS / "tachikawa-m74.toml")]) == 0
    assert "is valid" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "x"\nname = "x"\nmagnitude_jma = 12\n', encoding="utf-8")
    assert main(["drill", "check", str(bad)]) == 1
    assert "magnitude_jma" in capsys.readouterr().err
    out = tmp_path / "figures.json"
    assert main(["drill", "run", str(SCENARIOS / "tama-east-m73.toml"), "--people", "200", "--quiet",
                 "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "確認までの時間 Time to confirm" in text and "✓ every 安否確認 sent is on the server" in text
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["kpis"]["people"] == 200 and all(c["passed"] for c in figures["checks"])
    with socket.socket() as closed:  # a port of ours that nobody listens on: connection refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        assert main(["drill", "run", str(SCENARIOS / "tama-east-m73.toml"), "--url", f"http://127.0.0.1:{port}"]) == 2


def test_a_live_drill_sends_each_record_when_its_time_comes(drill_server):
    """`speed`: the quake is now and the records arrive as the compressed drill clock reaches them
    (an hour of drill in about two seconds here); the figures are in drill minutes.

    What is checked is the drill clock, never how long the run took (a busy machine only makes
    sends later): each record is stamped at its scripted drill minute, and none was sent — by
    the runner's own account nor by the server's `recorded_at` — before the drill clock reached it."""
    from dataclasses import replace

    from server.drills.runner import Api, run_drill

    url, username, password, _ = drill_server
    scenario = load_scenario(SCENARIOS / "tama-east-m73.toml")
    scenario = replace(scenario, response={**scenario.response, "duration_hours": 1, "supporters_start_minutes": 5})
    speed = 1800  # 60 drill minutes in 2 real seconds
    api = Api(url)
    api.sign_in(username, password)
    before = datetime.now(timezone.utc)
    result = run_drill(api, scenario, speed=speed)
    after = datetime.now(timezone.utc)
    assert result.ok, result.checks
    assert before - timedelta(seconds=1) <= result.quake_at <= after
    on_server = [r for path in ("/api/safety-checks", "/api/shelter-reports")
                 for r in api.read_all(path, since=result.quake_at.isoformat()) if r["id"] in result.scripted_minutes]
    assert len(on_server) == len(result.scripted_minutes) == len(result.script.actions)

    def when(value: str) -> datetime:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))

    def drill_minute(moment: datetime) -> float:
        return (moment - result.quake_at).total_seconds() / 60 * speed

    # every record's observed_at is at its scripted drill minute (stamped to the millisecond:
    # 1 ms is 1800 ms of drill time), so ordered by observed_at they follow the script
    for record in on_server:
        assert drill_minute(when(record["observed_at"])) == pytest.approx(
            result.scripted_minutes[record["id"]], abs=speed / 60_000 + 1e-6)
    by_observed = sorted(on_server, key=lambda r: (when(r["observed_at"]), result.scripted_minutes[r["id"]]))
    scripted = [result.scripted_minutes[r["id"]] for r in by_observed]
    assert scripted == sorted(scripted) and scripted[-1] - scripted[0] > 30  # spread over the drill's hour
    # sent over time: no record left before the drill clock reached its minute ...
    assert set(result.sent_minutes) == set(result.scripted_minutes)
    early = [rid for rid, minute in result.scripted_minutes.items() if result.sent_minutes[rid] < minute]
    assert not early, f"{len(early)} records sent before their drill minute"
    # ... and the server, on its own clock, stored none before its observed_at (sent all at once,
    # the records of the drill's last minutes would be stored about two seconds before it)
    stored_early = [r["id"] for r in on_server if when(r["recorded_at"]) < when(r["observed_at"])]
    assert not stored_early, f"{len(stored_early)} records stored before their observed_at"
    assert all(when(r["observed_at"]) <= after for r in on_server)
    assert result.kpis["speed"] == speed and result.kpis["confirmed"] > 0
    last = max(result.script.first_check_minute.values())
    assert result.kpis["minutes_to_100"] is None or result.kpis["minutes_to_100"] == pytest.approx(last, abs=1)
    api.close()
