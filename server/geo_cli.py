"""CLI: ``tsunagu import districts|hazards FILE``, ``tsunagu geo assign|hazards`` and
``tsunagu match``. Output names people by 登録者番号 only, shelters by name."""

from __future__ import annotations

import getpass
import json
import sys
from typing import TextIO

from .models.hazards import HazardKind
from .models.vocab import DistrictKind

DIFF_LINES = 40


def add_layer_import_parsers(sub) -> None:
    """Sub-commands of ``tsunagu import`` for polygon layers."""
    districts = sub.add_parser(
        "districts", help="町丁目 or 福祉圏域 boundaries (GeoJSON, Shapefile, GeoPackage; any CRS)",
        description="Import district polygons; existing districts are updated by (municipality code, code). "
                    "Nothing is written without --apply, nor when any feature has an error. See docs/geodata.md.")
    districts.add_argument("file", metavar="FILE")
    districts.add_argument("--kind", choices=[k.value for k in DistrictKind], default=DistrictKind.chome.value,
                           help="chome (町丁目, default) or welfare_area (福祉圏域)")
    districts.add_argument("--municipality-code", metavar="CODE", help="for features without a municipality column")
    districts.add_argument("--code-column", metavar="COL")
    districts.add_argument("--name-column", metavar="COL")
    districts.add_argument("--kana-column", metavar="COL")
    districts.add_argument("--parent-column", metavar="COL", help="column with the 福祉圏域 code of a 町丁目")
    hazards = sub.add_parser(
        "hazards", help="hazard areas: 土砂災害警戒区域, 浸水想定区域 … (GeoJSON, Shapefile, GeoPackage)",
        description="Import hazard polygons of one kind; a file replaces the areas imported before from a file "
                    "of the same name. See docs/geodata.md.")
    hazards.add_argument("file", metavar="FILE")
    hazards.add_argument("--kind", choices=[k.value for k in HazardKind],
                         help="the kind of every area in the file (else a 'kind' column): "
                              + ", ".join(f"{k.value}={k.ja}" for k in HazardKind))
    hazards.add_argument("--municipality-code", metavar="CODE", required=True)
    hazards.add_argument("--name-column", metavar="COL")
    hazards.add_argument("--level-column", metavar="COL")
    for command in (districts, hazards):
        command.add_argument("--crs", metavar="CRS", help="CRS of a layer that does not declare one, e.g. EPSG:6668")
        command.add_argument("--apply", action="store_true", help="write (default: dry run)")
        command.add_argument("--json", action="store_true", help="print the report as JSON")
        command.set_defaults(func=cmd_import_layer)


def _engine(settings):
    from .db import make_engine
    from .migrate import upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine


def _audit(engine, action: str, resource: str, detail: str, record_ids=(), status: int = 200) -> None:
    from sqlmodel import Session

    from .auth.audit import record

    with Session(engine) as session:
        record(session, action, username=f"cli:{getpass.getuser()}", resource=resource, record_ids=record_ids,
               status=status, detail=detail, client="cli")
        session.commit()


def cmd_import_layer(args, settings) -> int:
    from .importers.districts import import_districts
    from .importers.geolayers import LayerFileError
    from .importers.hazards import import_hazards

    engine = _engine(settings)
    action = "import" if args.apply else "import_dry_run"
    try:
        if args.import_kind == "districts":
            report = import_districts(engine, args.file, apply=args.apply, kind=DistrictKind(args.kind),
                                      municipality_code=args.municipality_code, code_column=args.code_column,
                                      name_column=args.name_column, kana_column=args.kana_column,
                                      parent_column=args.parent_column, assume_crs=args.crs)
        else:
            report = import_hazards(engine, args.file, kind=HazardKind(args.kind) if args.kind else None,
                                    municipality_code=args.municipality_code, apply=args.apply,
                                    name_column=args.name_column, level_column=args.level_column,
                                    assume_crs=args.crs)
    except (LayerFileError, ValueError) as exc:
        _audit(engine, action, args.import_kind, "refused", status=422)
        message = getattr(exc, "message", str(exc))
        print(json.dumps({"detail": message}, ensure_ascii=False) if args.json else f"error: {message}",
              file=sys.stdout if args.json else sys.stderr)
        if not args.json:
            print("nothing was written", file=sys.stderr)
        return 1
    _audit(engine, action, args.import_kind, f"features={report.features} invalid={report.invalid} "
                                            f"created={report.created} updated={report.updated}")
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print_layer_report(report, sys.stdout)
    return 1 if report.errors else 0


def print_layer_report(report, out: TextIO) -> None:
    state = "applied" if report.applied else "dry run, nothing written"
    out.write(f"{report.kind} from {report.file} ({report.source_crs} → EPSG:6668; areas in {report.zone}) — {state}\n")
    out.write(f"features {report.features}: valid {report.valid}, invalid {report.invalid}, "
              f"repaired {len(report.repaired)}; area {report.area_km2} km²\n")
    if report.kind == "districts":
        out.write(f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}\n")
    else:
        out.write(f"areas {report.created} (replacing {report.replaced}); people inside: "
                  f"{report.extra.get('people_inside', 0)}\n")
    for label in ("people", "shelters"):
        if report.extra.get(f"{label}_outside"):
            sample = ", ".join(report.extra[f"{label}_outside_sample"])
            out.write(f"{label} outside every district: {report.extra[f'{label}_outside']} ({sample})\n")
    for title, items in (("repaired", report.repaired), ("errors", report.errors), ("warnings", report.warnings)):
        if items:
            out.write(f"\n{title} ({len(items)}):\n")
            for item in items:
                out.write(f"  feature {item.feature}, {item.field}: {item.reason}\n")
    if report.errors:
        out.write("\nnothing is written while any feature has an error\n")
    elif not report.applied:
        out.write("\nrun again with --apply to write\n")


# ---- tsunagu geo ----

def add_geo_parser(subparsers) -> None:
    parser = subparsers.add_parser("geo", help="place people and shelters in districts; hazard flags",
                                   description="Point-in-polygon tools over the stored districts and hazard areas.")
    sub = parser.add_subparsers(dest="geo_command", metavar="ACTION", required=True)
    assign = sub.add_parser("assign", help="set the 町丁目 of people and shelters that have none, from their point")
    assign.add_argument("--municipality-code", metavar="CODE")
    assign.add_argument("--all", action="store_true", help="re-place everyone, not only those without a district")
    assign.add_argument("--apply", action="store_true", help="write (default: dry run)")
    assign.set_defaults(func=cmd_geo_assign)
    hazards = sub.add_parser("hazards", help="count the people living inside each kind of hazard area")
    hazards.add_argument("--municipality-code", metavar="CODE")
    hazards.set_defaults(func=cmd_geo_hazards)


def cmd_geo_assign(args, settings) -> int:
    from sqlmodel import Session

    from .domain.placement import assign_districts

    engine = _engine(settings)
    with Session(engine) as session:
        report = assign_districts(session, args.municipality_code, apply=args.apply, only_missing=not args.all)
        if args.apply:
            session.commit()
    _audit(engine, "geo_assign" if args.apply else "geo_assign_dry_run", "districts",
           f"people={report.people_placed} shelters={report.shelters_placed}")
    verb = "placed" if args.apply else "would place"
    print(f"{verb}: {report.people_placed} people, {report.shelters_placed} shelters")
    print(f"without a location: {report.people_without_location} people, "
          f"{report.shelters_without_location} shelters")
    for label in ("people", "shelters"):
        outside = getattr(report, f"{label}_outside")
        if outside:
            print(f"{label} outside every district ({len(outside)}): {', '.join(outside[:40])}"
                  + (" …" if len(outside) > 40 else ""))
    if not args.apply:
        print("run again with --apply to write")
    return 0


def cmd_geo_hazards(args, settings) -> int:
    from sqlmodel import Session

    from .domain.placement import hazard_counts

    with Session(_engine(settings)) as session:
        counts = hazard_counts(session, args.municipality_code)
    if not counts:
        print("no one lives inside a stored hazard area (or none are stored: tsunagu import hazards)")
    for kind, count in sorted(counts.items()):
        print(f"{HazardKind(kind).ja} ({kind}): {count} people")
    return 0


# ---- tsunagu match ----

def add_match_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "match", help="propose welfare-shelter places for the people who need them (docs/matching.md)",
        description="Run the shelter matching and store the proposal; print its summary and what changed "
                    "since the last confirmed proposal.")
    parser.add_argument("--intensity", metavar="SHINDO", help="震度 in force: 5-, 5+, 6-, 6+, 7 (or 6弱, 5.7)")
    parser.add_argument("--max-walk", type=int, default=3000, metavar="M", help="walking limit in metres (3000)")
    parser.add_argument("--detour", type=float, default=1.3, help="walking / straight-line distance (1.3)")
    parser.add_argument("--municipality-code", metavar="CODE")
    parser.add_argument("--apply-confirm", action="store_true", help="confirm the new proposal at once")
    parser.add_argument("--json", action="store_true", help="print the proposal summary and diff as JSON")
    parser.set_defaults(func=cmd_match)


def cmd_match(args, settings) -> int:
    from sqlmodel import Session, select

    from .domain.matching.propose import MatchParams
    from .domain.matching.rules import parse_intensity
    from .domain.matching.store import confirm, run_matching
    from .models import Person, Shelter
    from .models.geo import normalize_municipality_code

    try:
        intensity = parse_intensity(args.intensity)
        municipality = normalize_municipality_code(args.municipality_code) if args.municipality_code else None
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    engine = _engine(settings)
    user = f"cli:{getpass.getuser()}"
    with Session(engine) as session:
        proposal = run_matching(session, intensity=intensity, trigger="cli", created_by=user,
                                params=MatchParams(max_walk_m=args.max_walk, detour=args.detour,
                                                   municipality_code=municipality), municipality_code=municipality)
        if args.apply_confirm:
            proposal = confirm(session, proposal.id, user)
        session.commit()
        names = dict(session.exec(select(Shelter.id, Shelter.name)).all())
        mentioned = {d["person_id"] for items in proposal.diff.values() if isinstance(items, list) for d in items}
        register = dict(session.exec(select(Person.id, Person.register_no)
                                     .where(Person.id.in_([_uuid(m) for m in list(mentioned)[:5000]]))).all()) if mentioned else {}
    _audit(engine, "match_run", "matching", f"trigger=cli confirm={args.apply_confirm}", [proposal.id])
    if args.json:
        print(json.dumps({"id": str(proposal.id), "state": proposal.state, "summary": proposal.summary,
                          "diff": proposal.diff}, ensure_ascii=False, indent=2, default=str))
        return 0
    print_match(proposal, names, {str(k): v for k, v in register.items()}, sys.stdout)
    return 0


def print_match(proposal, shelter_names: dict, register: dict, out: TextIO) -> None:
    s = proposal.summary
    shelter = lambda sid: shelter_names.get(_uuid(sid), sid)  # noqa: E731
    person = lambda pid: register.get(pid, pid)  # noqa: E731
    out.write(f"proposal {proposal.id} ({proposal.state}); 震度 {s.get('intensity_label')}; walking ≤ "
              f"{s['max_walk_m']} m (× {s['detour']}), EPSG:{s['zone_epsg']}\n")
    out.write(f"people needing a welfare shelter: {s['people']} (staying home {s.get('staying_home', 0)}, "
              f"already at a shelter {s.get('already_at_shelter', 0)} not counted)\n")
    alternate = f", plan alternate {s['placed_by_alternate']}" if s.get("placed_by_alternate") else ""
    out.write(f"placed {s['placed']} (plan destination {s['placed_by_plan']}{alternate}, "
              f"optimised {s['placed_by_optimiser']}); "
              f"total walking {s['total_walking_m'] / 1000:.1f} km, longest {s['max_walking_m']} m\n")
    reasons = ", ".join(f"{k} {v}" for k, v in s["unplaced_by_reason"].items() if v)
    out.write(f"not placed {s['unplaced']}" + (f": {reasons}" if reasons else "") + "\n")
    out.write("by need level: " + "; ".join(f"{lv['level']}: {lv['placed']}/{lv['people']}" for lv in s["by_level"])
              + "\n")
    if s.get("shelters_blocked"):
        out.write("shelters not usable: " + ", ".join(f"{k} {v}" for k, v in s["shelters_blocked"].items()) + "\n")
    d = proposal.diff
    if proposal.compared_with_id is None:
        out.write("no confirmed proposal yet: nothing to compare with\n")
        return
    out.write(f"\nsince confirmed proposal {proposal.compared_with_id}: moved {len(d['moved'])}, "
              f"newly placed {len(d['added'])}, lost a place {len(d['removed'])}, unchanged {d['unchanged']}\n")
    lines = [f"  {person(m['person_id'])}: {shelter(m['from'])} → {shelter(m['to'])}" for m in d["moved"]]
    lines += [f"  {person(m['person_id'])}: (none) → {shelter(m['to'])}" for m in d["added"]]
    lines += [f"  {person(m['person_id'])}: {shelter(m['from'])} → (none: {m['reason']})" for m in d["removed"]]
    for line in lines[:DIFF_LINES]:
        out.write(line + "\n")
    if len(lines) > DIFF_LINES:
        out.write(f"  … {len(lines) - DIFF_LINES} more (--json for all)\n")


def _uuid(value):
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        return value
