"""`tsunagu demo`: migrate, load the demo city into an empty database, then serve."""

from __future__ import annotations

import argparse
import time

from ..serve import cmd_serve
from .common import DEFAULT_SEED


def add_demo_parser(subparsers) -> argparse.ArgumentParser:
    """Register the `demo` subcommand on the `tsunagu` parser."""
    parser = subparsers.add_parser(
        "demo", help="load the fictional demo city (つなぎ市) and serve it",
        description="Migrate the database, load the fictional demo city つなぎ市 if the database holds no "
                    "people yet, and start the server in demo mode. Every person, place and phone number "
                    "in the demo city is invented.")
    parser.add_argument("--people", type=int, default=5000, metavar="N",
                        help="registered people to generate (default: 5000)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, metavar="S",
                        help=f"random seed; the same seed gives the same city (default: {DEFAULT_SEED})")
    parser.add_argument("--replace", action="store_true",
                        help="delete an earlier demo city and load a fresh one")
    parser.add_argument("--cities", type=int, default=1, choices=(1, 2),
                        help="2: also load むすび町, a smaller neighbour with its own code, accounts (demo-*-2) "
                             "and a shelter that accepts つなぎ市's people (several municipalities)")
    parser.add_argument("--no-serve", action="store_true", help="load the data and exit")
    parser.add_argument("--host", help="address to listen on (default: TSUNAGU_HOST)")
    parser.add_argument("--port", type=int, help="port to listen on (default: TSUNAGU_PORT)")
    parser.set_defaults(func=cmd_demo)
    return parser


def cmd_demo(args, settings) -> int:
    from sqlalchemy import func, select

    from ..db import make_engine
    from ..migrate import upgrade
    from ..models import Person
    from ..settings import Settings
    from .city import build_demo_city
    from .loading import load_demo_city

    if args.people < 0:
        print("demo: --people must not be negative")
        return 2
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with engine.connect() as conn:
        people = conn.execute(select(func.count()).select_from(Person.__table__)).scalar_one()
    if people and not args.replace:
        print(f"demo: the database already holds {people} people; not loading the demo city "
              "(--replace reloads it)")
    else:
        started = time.perf_counter()
        city = build_demo_city(seed=args.seed, people=args.people)
        try:
            counts = load_demo_city(engine, city, replace=args.replace)
        except ValueError as exc:
            print(f"demo: {exc}")
            return 1
        print(f"demo: loaded {city.municipality.name} (seed {args.seed}) in {time.perf_counter() - started:.1f} s: "
              f"{counts['people']} people, {counts['plans']} plans, {counts['shelters']} shelters, "
              f"{counts['districts']} districts, {counts['dwat_teams']} DWAT teams "
              f"({counts['dwat_members']} members; {counts['dwat_deployments']} deployments, "
              f"{counts['dwat_requests']} requests, {counts['dwat_activity_reports']} daily reports)")
        if getattr(args, "cities", 1) == 2:
            from .neighbour import build_neighbour

            town = build_neighbour(args.seed, max(args.people // 3, 0 if args.people == 0 else 1))
            extra = load_demo_city(engine, town, alongside=True)
            print(f"demo: loaded the neighbour {town.municipality.name} ({town.municipality.municipality_code}): "
                  f"{extra['people']} people, {extra['shelters']} shelters, {extra['districts']} districts")
    from sqlmodel import Session

    from ..auth.demo_users import print_accounts, seed_demo_users

    with Session(engine) as session:  # this is demo mode by definition: printed passwords are allowed here
        from .common import MUNICIPALITY_CODE, NEIGHBOUR_CODE

        codes = [MUNICIPALITY_CODE, NEIGHBOUR_CODE] if getattr(args, "cities", 1) == 2 else None
        accounts = seed_demo_users(session, demo_mode=True, municipalities=codes)
        session.commit()
    print_accounts(accounts)
    engine.dispose()
    if args.no_serve:
        return 0
    return cmd_serve(args, Settings({**settings.values, "TSUNAGU_DEMO": True}))
