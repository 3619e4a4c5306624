"""Thin, read-only adapters from today's SQLModel rows (server/models/people.py, plans.py,
shelters.py, geo.py) to the workbench inputs. What the rows lack — the supporter register,
per-category consent records, hazard flags of shelters — comes as arguments until the
migrations that store them (docs/workbench.md, "still to come").
"""

from __future__ import annotations

from typing import Hashable, Iterable, Mapping, Optional

from ...models.vocab import Consent, PlanStatus, SeismicClass, ShelterKind
from .common import Care, PersonFacts, Plan, PlanSupporter, ShelterFacts


def _dump(value) -> dict:
    if value is None:
        return {}
    return value.model_dump() if hasattr(value, "model_dump") else dict(value)


def person_from_row(row, welfare_area_of: Mapping[Hashable, Hashable] = {}) -> PersonFacts:
    """`welfare_area_of`: 町丁目 district id → its 福祉圏域 id (District.parent_id)."""
    return PersonFacts(row.id, row.register_no, row.birth_date, frozenset(str(r) for r in row.reasons or ()),
                       frozenset(str(n) for n in row.care_needs or ()), row.address, row.district_id,
                       welfare_area_of.get(row.district_id), row.minsei_iin or "", Consent(row.consent),
                       row.consent_date, row.lon, row.lat)


def plan_from_row(row, supporter_ids: Optional[Iterable[Optional[Hashable]]] = None) -> Plan:
    """A Plan from an evacuation_plan row (or a PlanVersion's `data` dict via `plan_from_dict`).
    `supporter_ids`: the register entry of each free-text supporter, once migrated."""
    return plan_from_dict({"id": row.id, "person_id": row.person_id, "status": row.status,
                           "supporters": [_dump(s) for s in row.supporters or ()],
                           "destination_shelter_id": row.destination_shelter_id,
                           "alternate_shelter_id": row.alternate_shelter_id, "route_note": row.route_note,
                           "timing_note": row.timing_note, "care": _dump(row.care), "consent": row.consent,
                           "consent_date": row.consent_date, "author": row.author, "review_due": row.review_due,
                           "carer_accompanies": getattr(row, "carer_accompanies", False)},
                          supporter_ids)


def plan_from_dict(data: Mapping, supporter_ids: Optional[Iterable[Optional[Hashable]]] = None) -> Plan:
    """From the JSON kept in evacuation_plan_version.data (dates may be ISO strings), so
    `plan_diff` can compare stored versions."""
    from datetime import date

    def day(v):
        return date.fromisoformat(v) if isinstance(v, str) and v else (v or None)

    raw = [_dump(s) for s in data.get("supporters") or ()]
    ids = list(supporter_ids) if supporter_ids is not None else [None] * len(raw)
    supporters = tuple(PlanSupporter(s.get("name", ""), s.get("relation", ""), s.get("address", ""),
                                     s.get("phone", ""), sid) for s, sid in zip(raw, ids))
    care_fields = set(Care.__dataclass_fields__)
    care = Care(**{k: v or "" for k, v in _dump(data.get("care")).items() if k in care_fields})
    return Plan(data.get("id"), data.get("person_id"), PlanStatus(data.get("status") or PlanStatus.not_started),
                supporters, data.get("destination_shelter_id"), data.get("alternate_shelter_id"),
                data.get("route_note") or "", data.get("timing_note") or "", care, bool(data.get("consent")),
                day(data.get("consent_date")), data.get("author") or "", day(data.get("review_due")),
                bool(data.get("carer_accompanies")))


def shelter_from_row(row, hazard_areas: Iterable[str] = ()) -> ShelterFacts:
    """`hazard_areas`: names of the hazard areas the shelter lies in (the caller's spatial test)."""
    seismic = getattr(row, "seismic_class", None)
    if seismic in (None, SeismicClass.unknown):  # not stored yet (a row built in memory): derive it
        seismic = row.derived_seismic_class()
    return ShelterFacts(row.id, row.name, row.common_id, ShelterKind(row.kind),
                        frozenset(str(g) for g in row.target_groups or ()),
                        frozenset(str(c) for c in row.capabilities or ()), SeismicClass(seismic), row.lon, row.lat,
                        tuple(hazard_areas))
