"""Building damage for drills: collapse probability by JMA intensity and 耐震 class.

A fragility curve in terms of instrumental intensity: P = Φ((I − μ) / σ), the normal CDF
of intensity. Intensity is linear in log PGV, so this is a lognormal fragility in PGV.
"Collapse" here means the building is unusable (collapse or heavy damage): a shelter that
"collapses" in a drill does not open. The table below is a modelling assumption, not a
published curve; docs/drills.md gives the reasoning. A scenario may override any class
(`[fragility.old_high_risk] median_intensity = 5.6, sigma = 0.4`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

# The standard normal CDF, as scipy.stats.norm.cdf, without importing all of scipy.stats.
from scipy.special import ndtr

from ..models.vocab import SeismicClass
from .scenario import FragilityOverride, Scenario
from .shaking import intensity_at, shindo


@dataclass(frozen=True)
class FragilityCurve:
    median_intensity: float  # μ: the intensity at which half such buildings are unusable
    sigma: float  # σ: spread, in intensity units


# Modelling assumptions (docs/drills.md), calibrated so that 震度6強 leaves most buildings
# standing (as in the damage estimates and the Kumamoto 2016 surveys): new-standard buildings
# rarely fail below 震度7 (I ≥ 6.5); Is < 0.3 means "high risk of collapse in 震度6強–7".
DEFAULT_FRAGILITY: dict[SeismicClass, FragilityCurve] = {
    SeismicClass.new_standard: FragilityCurve(7.3, 0.35),
    SeismicClass.old_retrofitted: FragilityCurve(7.1, 0.35),
    SeismicClass.old_low_risk: FragilityCurve(7.0, 0.35),
    SeismicClass.old_some_risk: FragilityCurve(6.6, 0.4),
    SeismicClass.old_high_risk: FragilityCurve(6.2, 0.4),
    SeismicClass.old_undiagnosed: FragilityCurve(6.5, 0.4),
    SeismicClass.unknown: FragilityCurve(6.6, 0.4),
}


def fragility_table(overrides: Mapping[str, Any] | None = None) -> dict[SeismicClass, FragilityCurve]:
    """The default table with overrides applied. An override is a `FragilityOverride`, a
    `FragilityCurve` or a dict with `median_intensity` and/or `sigma`; missing parts keep
    the default."""
    table = dict(DEFAULT_FRAGILITY)
    for name, override in (overrides or {}).items():
        cls = SeismicClass(str(name))
        if isinstance(override, Mapping):
            override = FragilityOverride(override.get("median_intensity"), override.get("sigma"))
        base = table[cls]
        median = override.median_intensity if override.median_intensity is not None else base.median_intensity
        sigma = override.sigma if override.sigma is not None else base.sigma
        if not sigma > 0:
            raise ValueError(f"fragility sigma for {cls.value} must be positive")
        table[cls] = FragilityCurve(float(median), float(sigma))
    return table


def _as_class(value: Any) -> SeismicClass:
    if value is None or value == "":
        return SeismicClass.unknown
    return value if isinstance(value, SeismicClass) else SeismicClass(str(value))


def collapse_probability(intensity, seismic_class, fragility: Mapping[str, Any] | Scenario | None = None):
    """P(unusable) = Φ((I − μ_c) / σ_c) for the class's curve; NaN where I is NaN.

    `intensity` is a number or an array; `seismic_class` one class (SeismicClass or its
    value; None means unknown) or one per intensity. `fragility` is a scenario or its
    overrides. A scalar intensity with one class gives a float, otherwise an array.
    """
    if isinstance(fragility, Scenario):
        fragility = fragility.fragility
    table = fragility_table(fragility)
    values = np.asarray(intensity, dtype=float)
    if seismic_class is None or isinstance(seismic_class, str):
        curve = table[_as_class(seismic_class)]
        mu, sigma = curve.median_intensity, curve.sigma
    else:
        curves = [table[_as_class(c)] for c in seismic_class]
        mu = np.array([c.median_intensity for c in curves]).reshape(values.shape)
        sigma = np.array([c.sigma for c in curves]).reshape(values.shape)
    p = ndtr((values - mu) / sigma)
    return float(p) if np.ndim(p) == 0 else p


Districts = Mapping[Any, Mapping] | Iterable[Mapping] | None


def _district_lookup(districts: Districts) -> dict[str, Mapping]:
    """District records by id (as a string), from a mapping keyed by id or a list of records."""
    if districts is None:
        return {}
    if isinstance(districts, Mapping):
        return {str(k): v for k, v in districts.items()}
    return {str(d["id"]): d for d in districts}


def _district_avs30(scenario: Scenario, district: Mapping | None, districts: dict[str, Mapping]) -> float:
    """AVS30 by the district's code, else its parent's (a 町丁目's 福祉圏域), else the default."""
    seen = 0
    while district is not None and seen < 5:  # parents are one level deep; the bound guards a loop
        code = district.get("code")
        if code is not None and code in scenario.avs30_by_district:
            return scenario.avs30_by_district[code]
        parent = district.get("parent_id")
        district = districts.get(str(parent)) if parent is not None else None
        seen += 1
    return scenario.avs30_default


def _locate(record: Mapping, district: Mapping | None) -> tuple[float, float, str | None]:
    lon, lat = record.get("lon"), record.get("lat")
    if lon is not None and lat is not None:
        return float(lon), float(lat), "own"
    if district is not None and district.get("centroid_lon") is not None and district.get("centroid_lat") is not None:
        return float(district["centroid_lon"]), float(district["centroid_lat"]), "district_centroid"
    return float("nan"), float("nan"), None


def _intensities(scenario: Scenario, records: Iterable[Mapping], districts: Districts):
    lookup = _district_lookup(districts)
    rows = []
    lons, lats, avs30s = [], [], []
    for record in records:
        district = lookup.get(str(record.get("district_id"))) if record.get("district_id") is not None else None
        lon, lat, located = _locate(record, district)
        avs30 = _district_avs30(scenario, district, lookup)
        rows.append((record, located, avs30))
        lons.append(lon)
        lats.append(lat)
        avs30s.append(avs30)
    if not rows:
        return [], np.array([])
    return rows, intensity_at(scenario, lons, lats, avs30s)


def _maybe(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 3)


def shelter_damage(scenario: Scenario, shelters: list[dict], districts: Districts = None) -> list[dict]:
    """Intensity, 震度 and collapse probability for each shelter as the JSON API returns it,
    in the order given.

    `districts` are the API's district records, as a list or keyed by id. A shelter without
    lon/lat is placed at its district's centroid when there is one; otherwise its values are
    None. AVS30 comes from the district's code (or its parent's) in the scenario, else the
    scenario's default.
    """
    rows, intensity = _intensities(scenario, shelters, districts)
    table = fragility_table(scenario.fragility)
    result = []
    for (shelter, located, avs30), value in zip(rows, intensity):
        cls = _as_class(shelter.get("seismic_class"))
        probability = None if np.isnan(value) else round(float(ndtr(
            (value - table[cls].median_intensity) / table[cls].sigma)), 4)
        result.append({
            "id": shelter.get("id"),
            "name": shelter.get("name"),
            "district_id": shelter.get("district_id"),
            "seismic_class": cls.value,
            "located": located,
            "avs30": avs30,
            "intensity": _maybe(value),
            "shindo": shindo(value) if not np.isnan(value) else None,
            "collapse_probability": probability,
        })
    return result


def people_intensity(scenario: Scenario, people: list[dict], districts: Districts) -> list[float | None]:
    """Each person's JMA instrumental intensity, in the order given; None where unknown.

    `people` as the JSON API returns them (lon, lat, district_id); `districts` the API's
    district records, as a list or keyed by id. AVS30 is the scenario's value for the
    person's district code, else its parent's (a 町丁目's 福祉圏域), else the default. A
    person without lon/lat is placed at their district's centroid; with neither, None.
    """
    _, intensity = _intensities(scenario, people, districts)
    return [_maybe(value) for value in intensity]
