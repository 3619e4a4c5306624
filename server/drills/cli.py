"""``tsunagu drill check|run``: earthquake drills (訓練) played through the public HTTP API.

``run`` without ``--url`` is self-contained: a fresh demo city in a temporary SQLite database
(or ``--database FILE`` to keep it and look at it afterwards with ``tsunagu serve``), a server on
a free local port, an operator account made for the run, the drill, the figures. With ``--url``
it drives a running server instead — a training copy, never the live register: the drill writes
安否確認 records and switches the server to disaster mode.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from ..progress import ProgressBar


def add_drill_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "drill", help="earthquake drills: scenarios, shaking, a simulated field response through the API",
        description="Run an earthquake drill (訓練) from a scenario file (drills/scenarios/*.toml). See docs/drills.md.")
    sub = parser.add_subparsers(dest="drill_command", metavar="ACTION", required=True)

    check = sub.add_parser("check", help="validate a scenario file and show its shaking",
                           description="Validate a scenario and print its magnitude, fault and the JMA intensity "
                                       "(震度) over the demo city.")
    check.add_argument("scenario", metavar="SCENARIO", help="a scenario file (TOML)")
    check.set_defaults(func=cmd_check)

    run = sub.add_parser("run", help="run a drill and print its figures",
                         description="Virtual tablets send the scripted field response (安否確認 by 民生委員, shelter "
                                     "reports) through the HTTP API; the figures are read back from the server.")
    run.add_argument("scenario", metavar="SCENARIO", help="a scenario file (TOML)")
    run.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    run.add_argument("--people", type=int, default=2000, help="demo city size when self-contained (default 2000)")
    run.add_argument("--database", metavar="FILE", help="self-contained: keep the drill's SQLite database here")
    run.add_argument("--url", help="drive this running server instead (a training copy)")
    run.add_argument("--username", help="with --url: the operator's account (administrator)")
    run.add_argument("--password-env", metavar="VAR", default="TSUNAGU_DRILL_PASSWORD",
                     help="with --url: environment variable holding the password (default TSUNAGU_DRILL_PASSWORD)")
    run.add_argument("--quake-at", metavar="ISO", help="quake time with timezone (default: see docs/drills.md)")
    run.add_argument("--speed", type=float, metavar="X",
                     help="play the drill live, X times faster than real time (60: an hour a minute), "
                          "so the HQ map (/hq) shows the response as it arrives")
    run.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)


def _load(path: str):
    from .scenario import ScenarioError, load_scenario

    try:
        return load_scenario(Path(path))
    except FileNotFoundError:
        print(f"drill: no such scenario file: {path}", file=sys.stderr)
    except ScenarioError as exc:
        print(f"drill: {path} is not a valid scenario:", file=sys.stderr)
        for message in exc.messages:
            print(f"  {message}", file=sys.stderr)
    return None


def cmd_check(args, settings) -> int:
    import numpy as np

    from ..demo_city import build_demo_city
    from .shaking import fault_length_km, intensity_at, mw_from_mj, shindo

    scenario = _load(args.scenario)
    if scenario is None:
        return 1
    city = build_demo_city(people=500)
    points = [(p.lon, p.lat) for p in city.people if p.lon is not None]
    lons, lats = np.array([p[0] for p in points]), np.array([p[1] for p in points])
    intensity = intensity_at(scenario, lons, lats, np.full(len(points), scenario.avs30_default))
    mw = mw_from_mj(scenario.magnitude_jma)
    print(f"drill: {scenario.name} ({scenario.id}) is valid")
    print(f"  M{scenario.magnitude_jma} (Mw {mw:.2f}), {scenario.fault.kind}, depth {scenario.fault.depth_km:g} km, "
          f"fault length {fault_length_km(mw):.1f} km, {len(scenario.fault.trace)} trace point(s)")
    print(f"  origin time {scenario.origin_time.isoformat()}, seed {scenario.seed}")
    print(f"  震度 over the demo city ({len(points)} homes, AVS30 {scenario.avs30_default:g} m/s): "
          f"min {shindo(float(intensity.min()))}, median {shindo(float(np.median(intensity)))}, "
          f"max {shindo(float(intensity.max()))}")
    return 0


@contextmanager
def local_server(database: Path, people: int):
    """A demo city in `database`, an operator account, and the app served on a free local port.
    Yields (base_url, username, password)."""
    import socket

    import uvicorn
    from sqlmodel import Session

    from ..app import create_app
    from ..auth.service import create_user
    from ..db import make_engine
    from ..demo_city import build_demo_city, load_demo_city
    from ..migrate import upgrade
    from ..models.auth import Role, UserCreate
    from ..settings import load_settings

    url = f"sqlite:///{database}"
    engine = make_engine(url)
    upgrade(engine)
    load_demo_city(engine, build_demo_city(people=people))
    username, password = "drill-operator", secrets.token_urlsafe(18)
    with Session(engine) as session:
        create_user(session, UserCreate(username=username, password=password, role=Role.admin,
                                        display_name="訓練 オペレーター"))
        session.commit()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = load_settings({**os.environ, "DATABASE_URL": url, "TSUNAGU_PAGE_SIZE_MAX": "500"})
    app = create_app(settings=settings, engine=engine)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name="drill-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError("the drill's server did not start")
    try:
        yield f"http://127.0.0.1:{port}", username, password
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        engine.dispose()


def cmd_run(args, settings) -> int:
    from .runner import Api, DrillError, report_text, run_drill

    scenario = _load(args.scenario)
    if scenario is None:
        return 1
    quake_at = None
    if args.quake_at:
        try:
            quake_at = datetime.fromisoformat(args.quake_at)
        except ValueError:
            quake_at = None
        if quake_at is None or quake_at.tzinfo is None:
            print("drill: --quake-at needs an ISO time with timezone, e.g. 2026-11-27T09:00:00+09:00", file=sys.stderr)
            return 2
    if args.speed is not None and not args.speed > 0:
        print("drill: --speed must be above 0", file=sys.stderr)
        return 2
    if args.url and not args.username:
        print("drill: --url needs --username (and the password in the environment)", file=sys.stderr)
        return 2

    def drive(base_url: str, username: str, password: str):
        api = Api(base_url)
        try:
            api.sign_in(username, password)
            return run_drill(api, scenario, seed=args.seed, quake_at=quake_at, speed=args.speed,
                             progress=ProgressBar("records", enabled=not args.quiet))
        finally:
            api.close()

    try:
        if args.url:
            password = os.environ.get(args.password_env, "")
            if not password:
                print(f"drill: set the operator's password in ${args.password_env}", file=sys.stderr)
                return 2
            result = drive(args.url, args.username, password)
        else:
            with tempfile.TemporaryDirectory(prefix="tsunagu-drill-") as tmp:
                database = Path(args.database) if args.database else Path(tmp) / "drill.sqlite3"
                if database.exists():
                    print(f"drill: {database} exists; choose a new file", file=sys.stderr)
                    return 2
                started = time.perf_counter()
                with local_server(database, args.people) as (base_url, username, password):
                    if not args.quiet:
                        print(f"drill: demo city of {args.people:,} people ready in "
                              f"{time.perf_counter() - started:.1f} s at {base_url}", file=sys.stderr)
                    if args.speed:  # a throwaway local server: say how to watch the drill on the HQ map
                        print(f"drill: watch it live at {base_url}/hq — sign in as {username} / {password}",
                              file=sys.stderr)
                    result = drive(base_url, username, password)
    except DrillError as exc:
        print(f"drill: {exc}", file=sys.stderr)
        return 1
    print(report_text(result))
    if args.database and not args.url:
        print(f"drill: the database is kept in {args.database}: DATABASE_URL=sqlite:///{Path(args.database).resolve()} "
              "tsunagu serve, then /hq shows the drill")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "scenario": result.scenario_id, "seed": result.seed, "quake_at": result.quake_at.isoformat(),
            "people": result.people, "tablets": result.tablets, "sent": result.sent, "statuses": dict(result.statuses),
            "kpis": result.kpis, "checks": [{"name": n, "passed": p, "detail": d} for n, p, d in result.checks],
            "seconds": round(result.seconds, 2)}, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0 if result.ok else 1
