"""Daily activity report (活動日報), J-SPEED-like: per deployment per day, counts of activities
by kind (triage by outcome), the issues and the handover notes. Counts, not per-person
files: what a busy leader fills in at night, on paper when there is no network. HQ and the
prefecture read them summed by site and day, next to the chronology (クロノロジー), the
time-stamped log of requests, dispatches, arrivals, triages and reports, exported as CSV.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Hashable, Iterable, Mapping, Optional, Sequence

from ..csvsafe import escape_cell
from ...models.vocab import DeploymentState, LabelledEnum
from ..japan_time import JST, local_day
from .common import Deployment, DwatError, Site, error, require_aware
from .request_flow import Request
from .triage import Triage, TriageOutcome

MAX_TEXT = 4000


class Activity(LabelledEnum):
    consultation = ("consultation", "相談", "consultation")
    care_support = ("care_support", "介護・生活支援", "care and daily-living support")
    assessment = ("assessment", "アセスメント", "assessment")
    transfer = ("transfer", "移送調整", "transfer coordination")
    environment = ("environment", "環境整備", "shelter environment")
    liaison = ("liaison", "関係機関との連絡", "liaison with other bodies")
    home_visit = ("home_visit", "在宅・車中泊訪問", "visits to people at home or in cars")
    other = ("other", "その他", "other")


@dataclass(frozen=True)
class DailyReport:
    id: Hashable
    deployment_id: Hashable
    site_id: Hashable
    team_id: Hashable
    report_date: date
    counts: tuple[tuple[Activity, int], ...]
    triage: tuple[tuple[TriageOutcome, int], ...]
    submitted_at: datetime
    reporter: str
    issues: str = ""
    handover: str = ""


def _counts(raw: Mapping, enum, field: str, problems: list) -> tuple:
    parsed: dict = {}
    for key, value in dict(raw or {}).items():
        try:
            kind = key if isinstance(key, enum) else enum.parse(str(key))
        except ValueError:
            problems.append(error("unknown_kind", f"不明な項目「{key}」", f"unknown kind {key!r}", field))
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.append(error("bad_count", f"{kind.ja}の件数は0以上の整数です",
                                  f"the count for {kind.en} must be a whole number ≥ 0", field))
            continue
        parsed[kind] = parsed.get(kind, 0) + value
    return tuple((k, parsed[k]) for k in enum if parsed.get(k))


def new_report(id: Hashable, deployment: Deployment, *, report_date: date, counts: Mapping,
               triage: Mapping = (), submitted_at: datetime, reporter: str, issues: str = "",
               handover: str = "") -> DailyReport:
    """Validate and create a daily report. Refused (DwatError, all problems at once): a
    deployment that has ended, was cancelled or has not started; a report day outside the
    deployment's days or after the day it is submitted (Japan time); counts that are not
    whole numbers ≥ 0 or of unknown kinds; texts over 4,000 characters; no reporter."""
    require_aware(submitted_at, "submitted_at")
    problems: list = []
    if deployment.state != DeploymentState.active:
        code = {DeploymentState.ended: "deployment_ended", DeploymentState.cancelled: "deployment_cancelled"}.get(
            deployment.state, "deployment_not_active")
        problems.append(error(code, f"派遣が{deployment.state.ja}のため日報を受け付けません",
                              f"the deployment is {deployment.state.en}: no report", "deployment_id"))
    if not isinstance(report_date, date) or isinstance(report_date, datetime):
        problems.append(error("bad_report_date", "活動日は日付です", "report_date must be a date", "report_date"))
    else:
        if not deployment.window.contains(report_date):
            problems.append(error("outside_deployment", "活動日が派遣期間外です",
                                  "the report day is outside the deployment's days", "report_date"))
        if report_date > local_day(submitted_at):
            problems.append(error("future_date", "未来の日付の日報です", "the report day is in the future",
                                  "report_date"))
    parsed_counts = _counts(counts, Activity, "counts", problems)
    parsed_triage = _counts(triage, TriageOutcome, "triage", problems)
    for name, text in (("issues", issues), ("handover", handover)):
        if len(text) > MAX_TEXT:
            problems.append(error("text_too_long", "4000字までです", "limited to 4,000 characters", name))
    if not str(reporter).strip():
        problems.append(error("no_actor", "報告者が必要です", "the reporter is required", "reporter"))
    if problems:
        raise DwatError(problems)
    return DailyReport(id, deployment.id, deployment.site_id, deployment.team_id, report_date, parsed_counts,
                       parsed_triage, submitted_at, reporter, issues, handover)


@dataclass(frozen=True)
class SiteDay:
    site_id: Hashable
    day: date
    reports: int
    teams: tuple[Hashable, ...]
    counts: dict      # Activity → count (every kind, zeros too)
    triage: dict      # TriageOutcome → count
    issues: tuple[str, ...]
    handover: tuple[str, ...]


def latest_reports(reports: Iterable[DailyReport]) -> list[DailyReport]:
    """One report per deployment per day: a later submission is a correction and replaces
    the earlier one (the earlier stays in the chronology)."""
    best: dict = {}
    for r in reports:
        key = (r.deployment_id, r.report_date)
        if key not in best or (r.submitted_at, str(r.id)) > (best[key].submitted_at, str(best[key].id)):
            best[key] = r
    return list(best.values())


def aggregate(reports: Iterable[DailyReport]) -> list[SiteDay]:
    """Reports summed by site and day (two teams at a site on a handover day are summed),
    sorted by day then site."""
    groups: dict = defaultdict(list)
    for r in latest_reports(reports):
        groups[(r.site_id, r.report_date)].append(r)
    result = []
    for (site_id, day), items in groups.items():
        items.sort(key=lambda r: (r.submitted_at, str(r.id)))
        counts = {a: 0 for a in Activity}
        triage = {o: 0 for o in TriageOutcome}
        for r in items:
            for kind, n in r.counts:
                counts[kind] += n
            for outcome, n in r.triage:
                triage[outcome] += n
        result.append(SiteDay(site_id, day, len(items), tuple(dict.fromkeys(r.team_id for r in items)), counts,
                              triage, tuple(r.issues for r in items if r.issues),
                              tuple(r.handover for r in items if r.handover)))
    result.sort(key=lambda s: (s.day, str(s.site_id)))
    return result


# ---- chronology (クロノロジー) ----

KINDS = ("request", "dispatch", "arrival", "triage", "report", "departure")


@dataclass(frozen=True)
class ChronoEvent:
    """One entry. `timed` False: only the day is known (a deployment holds dates, and nothing
    recorded its arrival or departure time); `at` then only places it in the order — at the
    start of its day (JST) for a dispatch or an arrival, at the end for a departure — and is
    never shown as a clock time."""

    at: datetime
    kind: str
    ja: str
    en: str
    site_id: Optional[Hashable] = None
    team_id: Optional[Hashable] = None
    ref_id: Optional[Hashable] = None
    by: str = ""
    timed: bool = True

    def day(self) -> date:
        return self.at.astimezone(JST).date()

    def clock(self) -> str:
        """HH:MM in Japan time, or "" when only the day is known."""
        return self.at.astimezone(JST).strftime("%H:%M") if self.timed else ""


def request_events(requests: Iterable[Request]) -> list[ChronoEvent]:
    """Every recorded step of every request."""
    events = []
    for r in requests:
        needs_ja = "・".join(f"{k.ja}{n}" for k, n in r.needs)
        needs_en = ", ".join(f"{k.en} {n}" for k, n in r.needs)
        for t in r.history:
            if t.from_state is None:
                ja, en = f"要請受付（{r.origin.ja}）: {needs_ja}", f"request ({r.origin.en}): {needs_en}"
            else:
                ja, en = f"要請 {t.from_state.ja}→{t.to_state.ja}", f"request {t.from_state.en} → {t.to_state.en}"
            if t.note:
                ja, en = f"{ja}（{t.note}）", f"{en} ({t.note})"
            events.append(ChronoEvent(t.at, "request", ja, en, r.site_id, t.team_id, r.id, t.by))
    return events


# Where an arrival's or departure's time came from, when it is not the flow's own record of it
# (the request's on-site or closed step): the team's first or last record on site that day.
TIME_SOURCES = {
    "first_record": ("時刻は現地での最初の記録（この時刻までに到着）", "time of the first record on site: arrived by then"),
    "last_record": ("時刻は現地での最後の記録（この時刻以降に撤収）", "time of the last record on site: left after it"),
    "day_only": ("時刻の記録なし", "no time recorded"),
}


def deployment_event(deployment: Deployment, kind: str, at: datetime | date, by: str = "",
                     source: str = "") -> ChronoEvent:
    """A dispatch (派遣決定), arrival (現地到着) or departure (撤収) of a deployment. `at`: the
    time it was recorded, or a day alone when no time is known (an untimed entry: no clock
    time is made up). `source`: how the time was found, when not recorded as such (a key of
    TIME_SOURCES; said in the entry's text)."""
    labels = {"dispatch": ("派遣決定", "dispatched"), "arrival": ("現地到着", "arrived"),
              "departure": ("撤収", "left the site")}
    if kind not in labels:
        raise ValueError(f"unknown deployment event {kind!r}")
    timed = isinstance(at, datetime)
    if timed:
        require_aware(at)
    else:
        source = source or "day_only"
        at = datetime.combine(at, time.max if kind == "departure" else time.min, tzinfo=JST)
    ja, en = labels[kind]
    span = f"{deployment.start}〜{deployment.end or ''}"
    ja, en = f"{ja}（{span}）", f"{en} ({span})"
    if source:
        how_ja, how_en = TIME_SOURCES[source]
        ja, en = f"{ja} {how_ja}", f"{en}; {how_en}"
    return ChronoEvent(at, kind, ja, en, deployment.site_id, deployment.team_id, deployment.id, by, timed)


def report_events(reports: Iterable[DailyReport]) -> list[ChronoEvent]:
    events = []
    for r in reports:
        total = sum(n for _, n in r.counts) + sum(n for _, n in r.triage)
        events.append(ChronoEvent(r.submitted_at, "report", f"活動日報 {r.report_date}（計{total}件）",
                                  f"daily report {r.report_date} ({total} activities)", r.site_id, r.team_id,
                                  r.id, r.reporter))
    return events


def triage_events(triages: Iterable[Triage], team_of: Mapping[Hashable, Hashable] = {}) -> list[ChronoEvent]:
    """Triages by outcome only: the chronology is shared with the prefecture, which does not
    see the municipalities' registers, so no person is named."""
    return [ChronoEvent(t.at, "triage", f"トリアージ: {t.outcome.ja}", f"triage: {t.outcome.en}", t.site_id,
                        team_of.get(t.deployment_id), t.id, t.by) for t in triages]


def chronology(*event_lists: Iterable[ChronoEvent]) -> list[ChronoEvent]:
    """All events merged in time order (ties: the kinds' order in KINDS, then the reference)."""
    merged = [e for events in event_lists for e in events]
    return sorted(merged, key=lambda e: (e.at, KINDS.index(e.kind) if e.kind in KINDS else len(KINDS),
                                         str(e.ref_id)))


# 日付 and 時刻 apart: an entry whose time is not known (a deployment's arrival or departure
# with nothing recording when) has its date and an empty 時刻, never a made-up clock time.
CSV_HEADER = ["日付", "時刻", "種別", "拠点", "チーム", "内容", "内容（英語）", "記録者", "参照ID"]
KIND_JA = {"request": "要請", "dispatch": "派遣", "arrival": "到着", "triage": "トリアージ", "report": "日報",
           "departure": "撤収"}


def chronology_csv(events: Sequence[ChronoEvent], sites: Mapping[Hashable, Site] = {},
                   team_names: Mapping[Hashable, str] = {}) -> bytes:
    """The chronology as CSV the way the project's exports are written: UTF-8 with a BOM,
    CRLF, Japanese headers, the day and the time (HH:MM, empty when only the day is known) in
    Japan time, every cell formula-escaped (csvsafe.escape_cell:
    a shelter named "=HYPERLINK(…)" stays text in Excel)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for e in chronology(events):
        site = sites.get(e.site_id)
        row = [e.day().isoformat(), e.clock(), KIND_JA.get(e.kind, e.kind),
               (site.name if site and site.name else "" if e.site_id is None else str(e.site_id)),
               team_names.get(e.team_id, "" if e.team_id is None else str(e.team_id)), e.ja, e.en, e.by,
               "" if e.ref_id is None else str(e.ref_id)]
        writer.writerow([escape_cell(cell) for cell in row])
    return buffer.getvalue().encode("utf-8")
