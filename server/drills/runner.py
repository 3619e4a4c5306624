"""A drill run: virtual tablets send the scripted field response to a Tsunagu server through its
public HTTP API, then the drill's figures (KPIs) are read back from the server.

Like the field app, the virtual tablets sign in for a bearer token (`POST /auth/token`) and
send their records as mutation batches (`POST /api/sync/mutations`), one device id per tablet:
one per 町丁目's 民生委員 and one per welfare shelter. Mutation and record ids are derived from
the scenario, the seed and the quake time, so running the same drill again is answered
"duplicate" by the server and counts nothing twice. The figures come from what the server holds
afterwards (`GET /api/safety-checks`, `GET /api/shelter-reports`), and are checked against the
script: every record sent is there, and each person's first 安否確認 has the scripted time.

Times: every record's `observed_at` is the quake time plus its minute in the script. The quake
time defaults to the scenario's `origin_time` if the whole drill fits before now, else to now
minus the drill's length (rounded down to the minute): the server refuses records from the future.
A live drill (`speed`) starts now and sends each record when its time comes, compressed by the
speed, so HQ watches the response arrive on /hq.

`run_drill()` is a row of named steps over a `DrillRun` (the run's state): `prepare` (read the
city, script it, fix the quake time) → `switch_to_disaster` → `request_agreement_shelters` →
`plan_mutations` → `send_records` → `read_figures` (then `_kpis`) → `run_matching` →
`check_figures`.
"""

from __future__ import annotations

import math
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Optional

import httpx

from ..domain.safety import is_confirmed
from . import simulate
from .shaking import shindo

BATCH = 100  # the server's largest mutation batch
PAGE = 500   # the API's largest page (TSUNAGU_PAGE_SIZE_MAX default)
OUTCOMES = ("safe_home", "evacuated", "needs_help", "injured", "unreachable")


class DrillError(RuntimeError):
    """The server refused or failed something the drill needs (the message says what)."""


@dataclass
class DrillResult:
    scenario_id: str
    scenario_name: str
    seed: int
    quake_at: datetime
    people: int
    tablets: int
    sent: int
    statuses: Counter
    rejected: list[dict]
    kpis: dict
    checks: list[tuple[str, bool, str]]
    seconds: float = 0.0
    mode_switched: bool = False
    script: Optional[simulate.DrillScript] = field(default=None, repr=False)
    # record id → its minute in the script (its observed_at is the quake time plus that minute)
    scripted_minutes: dict[str, float] = field(default_factory=dict, repr=False)
    # live drills: record id → the drill clock (drill minutes after the quake) when it was sent
    sent_minutes: dict[str, float] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return all(passed for _, passed, _ in self.checks)


class Api:
    """A small JSON client for the server's public API, with a bearer token."""

    def __init__(self, base_url: str, timeout: float = 120.0, transport: Optional[httpx.BaseTransport] = None):
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)

    def close(self) -> None:
        self.http.close()

    def _answer(self, response: httpx.Response):
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", "")
            except ValueError:
                detail = response.text[:200]
            raise DrillError(f"{response.request.method} {response.request.url.path}: {response.status_code} {detail}")
        return response.json()

    def sign_in(self, username: str, password: str) -> None:
        answer = self._answer(self.http.post("/auth/token", json={"username": username, "password": password,
                                                                   "label": "drill (訓練)"}))
        self.http.headers["Authorization"] = f"Bearer {answer['token']}"

    def get(self, path: str, **params):
        return self._answer(self.http.get(path, params=params))

    def post(self, path: str, body: dict):
        return self._answer(self.http.post(path, json=body))

    def read_all(self, path: str, **params) -> list[dict]:
        items: list[dict] = []
        offset = 0
        while True:
            page = self.get(path, limit=PAGE, offset=offset, **params)
            items.extend(page["items"])
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return items


def default_quake_time(scenario, duration_minutes: float, now: datetime) -> datetime:
    if scenario.origin_time + timedelta(minutes=duration_minutes) <= now:
        return scenario.origin_time
    start = now - timedelta(minutes=duration_minutes + 1)
    return start.replace(second=0, microsecond=0)


@dataclass(frozen=True)
class CityRecords:
    """The city as the operator reads it from the public API (JSON records)."""

    people: list[dict]
    plans: list[dict]
    shelters: list[dict]
    districts: list[dict]


@dataclass(frozen=True)
class Send:
    """One mutation for a virtual tablet, due `at` real minutes after the quake."""

    at: float
    device: str
    mutation: dict


@dataclass
class DrillRun:
    """A drill run's state from step to step (run_drill)."""

    scenario: object
    city: CityRecords
    drill: simulate.DrillScript
    quake_at: datetime
    scale: float = 1.0  # drill minutes per real minute
    live: bool = False
    mode_switched: bool = False
    shelters_requested: int = 0
    timeline: list[Send] = field(default_factory=list)
    record_entities: dict[str, str] = field(default_factory=dict)   # record id → entity
    scripted_minutes: dict[str, float] = field(default_factory=dict)
    sent_minutes: dict[str, float] = field(default_factory=dict)
    statuses: Counter = field(default_factory=Counter)
    rejected: list[dict] = field(default_factory=list)
    sent: int = 0


@dataclass(frozen=True)
class Figures:
    """What the server holds of this run's records afterwards."""

    checks: list[dict]
    reports: list[dict]


def drill_scale(speed: Optional[float]) -> float:
    """Drill minutes per real minute: `speed` for a live drill, else 1."""
    if speed is not None and not speed > 0:
        raise DrillError("the speed must be above 0")
    return float(speed or 1.0)


def read_city(api: Api) -> CityRecords:
    """Step 1: the city as an administrator reads it."""
    return CityRecords(people=api.read_all("/api/people"), plans=api.read_all("/api/plans"),
                       shelters=api.read_all("/api/shelters"), districts=api.read_all("/api/districts"))


def quake_time(scenario, duration_minutes: float, *, quake_at: Optional[datetime], now: datetime,
               live: bool) -> datetime:
    """The quake time: as given; for a live drill now; else `default_quake_time`. Needs a timezone."""
    if live:
        quake_at = quake_at or datetime.now(timezone.utc).replace(microsecond=0)
    quake_at = quake_at or default_quake_time(scenario, duration_minutes, now)
    if quake_at.tzinfo is None:
        raise DrillError("the quake time needs a timezone")
    return quake_at


def prepare(api: Api, scenario, *, seed: Optional[int] = None, quake_at: Optional[datetime] = None,
            now: datetime, speed: Optional[float] = None) -> DrillRun:
    """Steps 1–2: read the city, script the field response (simulate.py), fix the quake time."""
    scale = drill_scale(speed)
    city = read_city(api)
    drill = simulate.script(scenario, people=city.people, plans=city.plans, shelters=city.shelters,
                            districts=city.districts, seed=seed)
    return DrillRun(scenario=scenario, city=city, drill=drill, scale=scale, live=bool(speed),
                    quake_at=quake_time(scenario, drill.duration_minutes, quake_at=quake_at, now=now, live=bool(speed)))


def switch_to_disaster(api: Api, scenario) -> bool:
    """Step 3: the server to disaster mode (災害モード) unless it is in it; True if switched."""
    if api.get("/api/mode")["mode"] == "disaster":
        return False
    api.post("/api/mode", {"mode": "disaster", "reason": f"訓練: {scenario.name}（{scenario.id}）"})
    return True


def request_agreement_shelters(api: Api, shelters: list[dict]) -> int:
    """Step 4, HQ's first step: ask the 協定福祉避難所 to open (開設要請) — the simulation opens
    every standing welfare shelter, and matching uses a 協定 shelter only once it has been asked.
    Returns how many were asked."""
    requested = 0
    for shelter in shelters:
        if shelter.get("kind") == "agreement_welfare" and not shelter.get("opened_on_request_at"):
            api.post(f"/api/shelters/{shelter['id']}/open-request", {"opened": True})
            requested += 1
    return requested


def plan_mutations(run: DrillRun) -> None:
    """Step 5: each scripted action as a mutation with ids derived from the scenario, the seed,
    the quake time (and a live drill's speed), stamped at its time; fills `run.timeline`."""
    key = f"{run.scenario.id}@{run.quake_at.isoformat()}" + (f"x{run.scale:g}" if run.live else "")
    seed = run.drill.seed
    for index, action in enumerate(run.drill.actions):
        record = simulate.record_id(seed, key, index)
        run.record_entities[record] = action.entity
        run.scripted_minutes[record] = action.minute
        at = action.minute / run.scale
        run.timeline.append(Send(at, action.device, {
            "id": simulate.mutation_id(seed, key, index, action), "entity": action.entity, "op": "create",
            "data": {"id": record, **action.data, "observed_at": simulate.stamp(run.quake_at, at)}}))


def send_batch(api: Api, run: DrillRun, items: list[Send],
               progress: Optional[Callable[[int, int], None]] = None) -> None:
    """Send `items` as mutation batches, tablet by tablet, counting the server's answers in `run`."""
    by_device: dict[str, list[dict]] = {}
    for item in items:
        by_device.setdefault(item.device, []).append(item.mutation)
    for device in sorted(by_device):
        mutations = by_device[device]
        for start in range(0, len(mutations), BATCH):
            batch = mutations[start:start + BATCH]
            if run.live:  # the drill clock at this send, kept so a test can see nothing left early
                clock = (datetime.now(timezone.utc) - run.quake_at).total_seconds() / 60.0 * run.scale
                run.sent_minutes.update((m["data"]["id"], clock) for m in batch)
            answer = api.post("/api/sync/mutations", {"device_id": device, "mutations": batch})
            for result in answer["results"]:
                run.statuses[result["status"]] += 1
                if result["status"] == "rejected":
                    run.rejected.append({"id": result["id"], "errors": result.get("errors", [])})
            run.sent += len(batch)
            if progress:
                progress(run.sent, len(run.timeline))


def send_records(api: Api, run: DrillRun, progress: Optional[Callable[[int, int], None]] = None) -> None:
    """Step 6: send the timeline — all at once, or live: whatever is due is sent, then wait for
    the next record's time (at most a second, so a slow batch never makes the drill drift far)."""
    if progress:
        progress(0, len(run.timeline))
    if not run.live:
        send_batch(api, run, run.timeline, progress)
        return
    pending = sorted(run.timeline, key=lambda item: item.at)
    while pending:
        elapsed = (datetime.now(timezone.utc) - run.quake_at).total_seconds() / 60.0
        due = [item for item in pending if item.at <= elapsed]
        if due:
            pending = pending[len(due):]
            send_batch(api, run, due, progress)
            continue
        time.sleep(min(1.0, max(0.0, (pending[0].at - elapsed) * 60.0)))


def read_figures(api: Api, run: DrillRun) -> Figures:
    """Step 7: this run's 安否確認 and shelter reports as the server holds them."""
    since = run.quake_at.isoformat()
    return Figures(
        checks=[c for c in api.read_all("/api/safety-checks", since=since) if c["id"] in run.record_entities],
        reports=[r for r in api.read_all("/api/shelter-reports", since=since) if r["id"] in run.record_entities])


def run_matching(api: Api, drill: simulate.DrillScript) -> dict:
    """Step 8, HQ's next step: place everyone who still needs a shelter, with the shelters as
    reported (collapsed ones closed) and the latest 安否確認 (people safe at home stay home), and
    the shaking where each shelter and person is (the scenario's model), the median elsewhere.
    Returns the proposal's summary figures."""
    body: dict = {"intensity": round(drill.intensity_median, 1)} if drill.intensity_median is not None else {}
    body["intensity_by_shelter"] = {s["id"]: round(s["intensity"], 2) for s in drill.shelters
                                    if s["intensity"] is not None}
    body["intensity_by_person"] = {pid: round(value, 2) for pid, value in drill.person_intensity.items()}
    proposal = api.post("/api/matching/run", body)
    summary = proposal.get("summary") or {}
    figures = {key: summary.get(key) for key in (
        "people", "placed", "placed_by_plan", "placed_by_alternate", "placed_by_optimiser", "unplaced",
        "unplaced_by_reason",
        "staying_home", "already_at_shelter", "shelters_blocked", "intensity_label")}
    figures["proposal_id"] = proposal.get("id")
    return figures


def check_figures(run: DrillRun, figures: Figures) -> list[tuple[str, bool, str]]:
    """Step 9: every record sent is on the server, none refused, and each person's first
    安否確認 has the scripted time."""
    drill = run.drill
    expected_checks = sum(1 for a in drill.actions if a.entity == "safety-checks")
    expected_reports = len(run.timeline) - expected_checks
    first = _first_minutes(figures.checks, run.quake_at, run.scale)
    tolerance = run.scale / 60_000 + 1e-6  # times are stamped to the millisecond
    mismatched = [pid for pid, minute in drill.first_check_minute.items()
                  if pid not in first or abs(first[pid] - minute) > tolerance]
    return [
        ("every 安否確認 sent is on the server", len(figures.checks) == expected_checks,
         f"{len(figures.checks)} of {expected_checks}"),
        ("every shelter report sent is on the server", len(figures.reports) == expected_reports,
         f"{len(figures.reports)} of {expected_reports}"),
        ("no record refused", not run.rejected, f"{len(run.rejected)} refused"),
        ("each person's first 安否確認 at the scripted time", not mismatched and len(first) == len(drill.first_check_minute),
         f"{len(mismatched)} differ"),
    ]


def run_drill(api: Api, scenario, *, seed: Optional[int] = None, quake_at: Optional[datetime] = None,
              now: Optional[datetime] = None, switch_mode: bool = True, speed: Optional[float] = None,
              progress: Optional[Callable[[int, int], None]] = None) -> DrillResult:
    """Run the drill against a signed-in `api`; see the module's docstring.

    `speed` plays the drill live, `speed` times faster than real time (60: an hour a minute):
    the quake is now, each record is sent when its (compressed) time comes, stamped with that
    time, and HQ's map shows the response as it happens. The figures are given in drill minutes.
    Without it every record is sent at once, stamped with its drill time.
    """
    started = time.perf_counter()
    drill_scale(speed)  # a bad speed is refused before anything is read
    run = prepare(api, scenario, seed=seed, quake_at=quake_at, now=now or datetime.now(timezone.utc), speed=speed)
    run.mode_switched = switch_mode and switch_to_disaster(api, scenario)
    run.shelters_requested = request_agreement_shelters(api, run.city.shelters)
    plan_mutations(run)
    send_records(api, run, progress)
    figures = read_figures(api, run)
    kpis = _kpis(run.drill, figures.checks, figures.reports, run.quake_at, run.city.people, scenario, run.scale)
    kpis["matching"] = run_matching(api, run.drill)
    kpis["agreement_shelters_requested"] = run.shelters_requested
    return DrillResult(scenario_id=scenario.id, scenario_name=scenario.name, seed=run.drill.seed,
                       quake_at=run.quake_at, people=len(run.city.people),
                       tablets=len({item.device for item in run.timeline}), sent=run.sent,
                       statuses=run.statuses, rejected=run.rejected, kpis=kpis, checks=check_figures(run, figures),
                       seconds=time.perf_counter() - started, mode_switched=run.mode_switched, script=run.drill,
                       scripted_minutes=run.scripted_minutes, sent_minutes=run.sent_minutes)


def _minutes(observed_at: str, quake_at: datetime, scale: float = 1.0) -> float:
    """Drill minutes after the quake (`scale` drill minutes per real minute in a live drill)."""
    return (datetime.fromisoformat(observed_at.replace("Z", "+00:00")) - quake_at).total_seconds() / 60.0 * scale


def _first_minutes(checks: list[dict], quake_at: datetime, scale: float = 1.0) -> dict[str, float]:
    first: dict[str, float] = {}
    for check in checks:
        minute = _minutes(check["observed_at"], quake_at, scale)
        if check["person_id"] not in first or minute < first[check["person_id"]]:
            first[check["person_id"]] = minute
    return first


def _confirmed_minutes(checks: list[dict], quake_at: datetime, scale: float = 1.0) -> dict[str, float]:
    """Person id → the minute they became confirmed, for the people confirmed at the end: whose
    latest 安否確認 confirms them (server/domain/safety.py — 連絡つかず does not). The minute is
    the first check of their last unbroken run of confirming checks."""
    since: dict[str, Optional[float]] = {}
    ordered = sorted(checks, key=lambda c: (_minutes(c["observed_at"], quake_at, scale), c["id"]))
    for check in ordered:
        person = check["person_id"]
        if not is_confirmed(check["outcome"]):
            since[person] = None
        elif since.get(person) is None:
            since[person] = _minutes(check["observed_at"], quake_at, scale)
    return {person: minute for person, minute in since.items() if minute is not None}


def _kpis(drill: simulate.DrillScript, checks: list[dict], reports: list[dict], quake_at: datetime,
          people: list[dict], scenario, scale: float = 1.0) -> dict:
    """The drill's figures, from the records the server holds (times in drill minutes).
    "Confirmed" is the one definition of server/domain/safety.py, as on the HQ map."""
    first = sorted(_confirmed_minutes(checks, quake_at, scale).values())
    total = len(people)

    def time_to(share: float) -> Optional[float]:
        needed = max(1, math.ceil(share * total))
        return round(first[needed - 1], 1) if total and len(first) >= needed else None

    latest: dict[str, tuple[float, str]] = {}
    for check in checks:
        minute = _minutes(check["observed_at"], quake_at, scale)
        if check["person_id"] not in latest or minute >= latest[check["person_id"]][0]:
            latest[check["person_id"]] = (minute, check["outcome"])
    outcome_counts = Counter(outcome for _, outcome in latest.values())
    last_report: dict[str, dict] = {}
    for report in sorted(reports, key=lambda r: r["observed_at"]):
        last_report[report["shelter_id"]] = report
    states = Counter(r["open_state"] for r in last_report.values())
    intensities = [s["intensity"] for s in drill.shelters if s["intensity"] is not None]
    return {
        "people": total,
        "confirmed": len(first),
        "confirmed_share": round(len(first) / total, 4) if total else 0.0,
        "minutes_to_50": time_to(0.5),
        "minutes_to_90": time_to(0.9),
        "minutes_to_100": time_to(1.0),
        "median_minutes_to_confirm": round(statistics.median(first), 1) if first else None,
        "outcomes": {o: outcome_counts.get(o, 0) for o in OUTCOMES},
        "unconfirmed": total - len(first),
        "shelters": len(drill.shelters),
        "shelters_unusable": sum(1 for s in drill.shelters if s["collapsed"]),
        "shelters_by_state": dict(states),
        "evacuees_in_shelters": sum(r["occupancy"] for r in last_report.values()),
        "unplaced": len(drill.unplaced),
        "shelter_shindo": {"min": shindo(min(intensities)), "max": shindo(max(intensities))} if intensities else {},
        "duration_hours": drill.duration_minutes / 60,
        "speed": scale if scale != 1.0 else None,
    }


def report_text(result: DrillResult) -> str:
    """The drill's figures for people, Japanese first with English beside."""
    k = result.kpis

    def minutes(value):
        return "—（未達 not reached）" if value is None else f"{value:,.0f} 分 min"

    o = k["outcomes"]
    lines = [
        f"訓練 Drill: {result.scenario_name} ({result.scenario_id}), seed {result.seed}",
        f"想定発生時刻 Quake at: {result.quake_at.isoformat(timespec='minutes')}; {k['duration_hours']:g} 時間 hours"
        + (f"; 実時間の {k['speed']:g} 倍速で実施 played live at {k['speed']:g}× speed" if k.get("speed") else "")
        + ("; 災害モードに切替 switched to disaster mode" if result.mode_switched else ""),
        f"対象者 People: {k['people']:,}; 安否確認済 confirmed {k['confirmed']:,} ({k['confirmed_share'] * 100:.1f} %), "
        f"未確認 unconfirmed {k['unconfirmed']:,} (連絡つかずを含む including not reachable)",
        f"  確認までの時間 Time to confirm: 50 % {minutes(k['minutes_to_50'])}, 90 % {minutes(k['minutes_to_90'])}, "
        f"100 % {minutes(k['minutes_to_100'])}",
        f"安否（最新） Latest outcome: 在宅・無事 {o['safe_home']:,} / 避難済 {o['evacuated']:,} / 要支援 {o['needs_help']:,} / "
        f"負傷 {o['injured']:,} / 連絡つかず {o['unreachable']:,}",
        f"福祉避難所 Welfare shelters: {k['shelters']} — 使用不可 unusable {k['shelters_unusable']}, "
        + ", ".join(f"{state} {count}" for state, count in sorted(k["shelters_by_state"].items()))
        + f"; 避難者 evacuees {k['evacuees_in_shelters']:,}; 避難先なし unplaced {k['unplaced']:,}",
    ]
    m = k.get("matching")
    if m:
        reasons = ", ".join(f"{reason} {count}" for reason, count in (m.get("unplaced_by_reason") or {}).items() if count)
        lines.append(f"避難先調整 Matching (震度{m.get('intensity_label') or '?'}): 在宅 staying home {m.get('staying_home') or 0:,}, "
                     f"避難所に到着済 at a shelter {m.get('already_at_shelter') or 0:,}, 割当 placed {m.get('placed') or 0:,} "
                     f"(計画どおり by plan {m.get('placed_by_plan') or 0:,}, "
                     + (f"第二避難先 plan's alternate {m['placed_by_alternate']:,}, " if m.get("placed_by_alternate") else "")
                     + f"最適化 optimised {m.get('placed_by_optimiser') or 0:,}), "
                     f"未割当 unplaced {m.get('unplaced') or 0:,}" + (f" ({reasons})" if reasons else ""))
    if k["shelter_shindo"]:
        lines.append(f"避難所の震度 Shaking at shelters: {k['shelter_shindo']['min']} – {k['shelter_shindo']['max']}")
    s = result.statuses
    lines.append(f"送信 Sent: {result.sent:,} records from {result.tablets} virtual tablets — applied {s.get('applied', 0):,}, "
                 f"duplicate {s.get('duplicate', 0):,}, rejected {s.get('rejected', 0):,} ({result.seconds:.1f} s)")
    for name, passed, detail in result.checks:
        lines.append(f"  {'✓' if passed else '✗'} {name} ({detail})")
    return "\n".join(lines)
