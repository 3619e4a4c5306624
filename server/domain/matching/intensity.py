"""The seismic intensity at a place (a shelter, a person's home) for matching.

One number per city is too coarse: in a large earthquake one part of a city may see 震度5強
and another 6強. The intensity at a place is, first that applies:

1. the value given for that very record — a drill passes each shelter's and person's intensity
   from its scenario's shaking model (server/drills/shaking.py);
2. the value HQ has set for the place's 町丁目 (table `district_intensity`), else for its
   福祉圏域 (the 町丁目's parent);
3. the city-wide value of the run (`intensity`, e.g. `tsunagu match --intensity 6-`), which
   stays the default for every place without a value of its own.

None means no earthquake at that place: the seismic rule does not apply there.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Hashable, Mapping, Optional

from sqlmodel import Session, select

from ...models import District, DistrictIntensity


@dataclass(frozen=True)
class PlaceIntensity:
    city: Optional[float] = None
    by_district: Mapping[uuid.UUID, float] = field(default_factory=dict)   # HQ's values
    parent: Mapping[uuid.UUID, uuid.UUID] = field(default_factory=dict)    # 町丁目 → 福祉圏域
    by_record: Mapping[str, float] = field(default_factory=dict)           # shelter / person id → value

    def at(self, district_id: Optional[uuid.UUID], record_id: Hashable = None) -> Optional[float]:
        """The intensity at a record (see the module docstring for the order)."""
        if record_id is not None:
            value = self.by_record.get(str(record_id))
            if value is not None:
                return value
        if district_id is not None:
            for place in (district_id, self.parent.get(district_id)):
                if place is not None and place in self.by_district:
                    return self.by_district[place]
        return self.city


def load_place_intensity(session: Session, city: Optional[float] = None,
                         by_record: Optional[Mapping[str, float]] = None) -> PlaceIntensity:
    """The city-wide value, HQ's district values from the database, and any per-record values."""
    by_district = {row.district_id: row.intensity for row in session.exec(select(DistrictIntensity)).all()}
    parent = {}
    if by_district:
        parent = {d: p for d, p in session.exec(select(District.id, District.parent_id)
                                                .where(District.parent_id.is_not(None))).all()}
    return PlaceIntensity(city=city, by_district=by_district, parent=parent,
                          by_record={str(k): float(v) for k, v in (by_record or {}).items()})
