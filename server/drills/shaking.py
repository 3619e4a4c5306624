"""Estimated shaking: JMA instrumental intensity at any point for a scenario earthquake.

The published formulas, as in DOMAIN.md (references in docs/drills.md):

- Si & Midorikawa (1999), peak ground velocity on engineering bedrock (Vs ≈ 600 m/s)::

      log10 PGV = 0.58·Mw + 0.0038·D + d − 1.29 − log10(X + 0.0028·10^(0.5·Mw)) − 0.002·X

  D focal depth (km), X shortest distance to the fault (km), d by kind of earthquake.
- Site amplification of PGV from AVS30: log10 ARV = 2.367 − 0.852·log10(AVS30).
- JMA instrumental intensity from surface PGV (cm/s): I = 2.68 + 1.72·log10 PGV.
- Mw = Mj − 0.171; fault length L = 10^(0.5·Mw − 1.85) km.

Distance X, our approximation (docs/drills.md explains it):

- A fault trace of two or more points: X = sqrt(h² + Z²), h the horizontal distance from
  the site to the trace polyline — the fault is taken as a line at depth Z under its
  trace. Z is the fault's upper edge (`fault.top_km`) when the scenario gives one, else
  the focal depth D.
- One point (a hypocentre): X = hypocentral distance − L/2, the rupture's half-length
  taken off, as DOMAIN.md gives it.
- Either way X ≥ 3 km: the formula is not meant for distances nearer than that.

Horizontal distances are computed in the JGD2011 plane rectangular zone that covers the
fault (zone IX, EPSG:6677, for Tokyo), through `server.domain.geo`.

Everything takes numpy arrays; 50,000 points take a few tens of milliseconds.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from ..domain.geo import to_plane, zone_for
# mw_from_mj and fault_length_km live in magnitude.py (scenario.py needs them too) and are
# part of this module's interface as well.
from .magnitude import fault_length_km, mw_from_mj  # noqa: F401 (mw_from_mj: re-exported)
from .magnitude import scalar_or_array as _out
from .scenario import Fault, Scenario

# Si & Midorikawa (1999): the term d by kind of earthquake.
KIND_TERM = {"crustal": 0.0, "interplate": -0.02, "intraslab": 0.12}
MIN_DISTANCE_KM = 3.0
BEDROCK_VS = 600.0  # m/s: the reference of the PGV formula, where amplification is 1

# JMA 震度階級 from the instrumental intensity I: class k holds THRESHOLDS[k-1] <= I < THRESHOLDS[k].
SHINDO_THRESHOLDS = (0.5, 1.5, 2.5, 3.5, 4.5, 5.0, 5.5, 6.0, 6.5)
SHINDO_LABELS = ("0", "1", "2", "3", "4", "5弱", "5強", "6弱", "6強", "7")


def pgv_bedrock(mw: float, depth_km: float, x_km, kind: str):
    """PGV (cm/s) on engineering bedrock (Vs ≈ 600 m/s), Si & Midorikawa (1999).

    `x_km` is the shortest distance to the fault; it is used as given (clamping to 3 km is
    the caller's distance model's business — see `distance_km`).
    """
    if kind not in KIND_TERM:
        raise ValueError(f"kind must be one of {', '.join(KIND_TERM)}, not {kind!r}")
    x = np.asarray(x_km, dtype=float)
    log_pgv = (0.58 * mw + 0.0038 * depth_km + KIND_TERM[kind] - 1.29
               - np.log10(x + 0.0028 * 10.0 ** (0.5 * mw)) - 0.002 * x)
    return _out(10.0 ** log_pgv)


def amplification(avs30):
    """PGV amplification from engineering bedrock to the surface: log10 ARV = 2.367 − 0.852·log10 AVS30."""
    return _out(10.0 ** (2.367 - 0.852 * np.log10(np.asarray(avs30, dtype=float))))


def jma_intensity(pgv_cm_s):
    """JMA instrumental intensity from surface PGV (cm/s): I = 2.68 + 1.72·log10 PGV."""
    with np.errstate(divide="ignore"):
        return _out(2.68 + 1.72 * np.log10(np.asarray(pgv_cm_s, dtype=float)))


def shindo(intensity):
    """The JMA 震度階級 label ("0" … "7") for an instrumental intensity; None for NaN.

    A scalar gives a string, an array gives an object array of strings (None where NaN).
    JMA rounds a measured intensity to one decimal before classifying; an estimate is
    classified as it is, which only matters within a few hundredths of a boundary.
    """
    values = np.asarray(intensity, dtype=float)
    index = np.searchsorted(np.asarray(SHINDO_THRESHOLDS), values, side="right")
    labels = np.asarray(SHINDO_LABELS, dtype=object)[np.minimum(index, len(SHINDO_LABELS) - 1)]
    labels = np.where(np.isnan(values), None, labels)
    return labels.item() if labels.ndim == 0 else labels


def distance_km(fault: Fault, mw: float, lons, lats) -> np.ndarray:
    """Shortest distance X (km) from each site to the fault, by the approximation above; NaN
    where a site has no coordinates."""
    lons = np.atleast_1d(np.asarray(lons, dtype=float))
    lats = np.atleast_1d(np.asarray(lats, dtype=float))
    result = np.full(lons.shape, np.nan)
    valid = ~(np.isnan(lons) | np.isnan(lats))
    if not valid.any():
        return result
    trace = np.asarray(fault.trace, dtype=float)
    zone = zone_for(float(trace[:, 0].mean()), float(trace[:, 1].mean()))
    sites = to_plane(lons[valid], lats[valid], zone) / 1000.0
    nodes = to_plane(trace[:, 0], trace[:, 1], zone) / 1000.0
    if fault.is_point:
        horizontal = np.hypot(sites[:, 0] - nodes[0, 0], sites[:, 1] - nodes[0, 1])
        x = np.hypot(horizontal, fault.depth_km) - fault_length_km(mw) / 2.0
    else:
        x = np.hypot(_distance_to_polyline(sites, nodes), fault.distance_depth_km)
    result[valid] = np.maximum(x, MIN_DISTANCE_KM)
    return result


def _distance_to_polyline(points: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Planar distance from each of (n, 2) points to the polyline through (m, 2) nodes."""
    best = np.full(len(points), np.inf)
    for a, b in pairwise(nodes):
        ab = b - a
        t = np.clip(((points - a) @ ab) / (ab @ ab), 0.0, 1.0)
        nearest = a + t[:, None] * ab
        best = np.minimum(best, np.hypot(points[:, 0] - nearest[:, 0], points[:, 1] - nearest[:, 1]))
    return best


def intensity_at(scenario: Scenario, lons, lats, avs30s=None) -> np.ndarray:
    """JMA instrumental intensity at each site (NaN where a site has no coordinates).

    `avs30s` is one value or one per site, m/s; None uses the scenario's default.
    """
    mw = scenario.mw
    x = distance_km(scenario.fault, mw, lons, lats)
    avs30 = scenario.avs30_default if avs30s is None else np.asarray(avs30s, dtype=float)
    pgv = pgv_bedrock(mw, scenario.fault.depth_km, x, scenario.fault.kind) * amplification(avs30)
    return np.asarray(jma_intensity(pgv), dtype=float).reshape(x.shape)
