"""Drill scenarios: an earthquake and the response parameters, read from a TOML file.

`load_scenario` checks everything and reports every problem at once, each naming its key
path and, where it can be found cheaply, its line. Unknown keys are errors: a misspelt
`depht_km` must not silently fall back to a default. Every key is listed in docs/drills.md.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from itertools import pairwise
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..models.geo import check_lon_lat
from ..models.vocab import SeismicClass
from .magnitude import mw_from_mj

FAULT_KINDS = ("crustal", "interplate", "intraslab")
MAGNITUDE_RANGE = (4.0, 9.5)
DEPTH_RANGE_KM = (0.0, 700.0)
# The site-amplification regression is fitted on ordinary soils and rock; far outside
# this range it is extrapolating.
AVS30_RANGE = (100.0, 1500.0)
AVS30_DEFAULT = 300.0
MEDIAN_INTENSITY_RANGE = (3.0, 8.0)
SIGMA_RANGE = (0.05, 2.0)
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


@dataclass(frozen=True)
class ResponseKey:
    default: float
    integer: bool
    low: float
    high: float
    low_open: bool  # True: the value must be > low, not >= low
    doc: str


# Part B's knobs: documented here and in docs/drills.md, kept as a plain dict on the scenario.
RESPONSE_KEYS: dict[str, ResponseKey] = {
    "supporters_start_minutes": ResponseKey(30, True, 0, 1440, False,
                                            "minutes after the origin time before supporters start visiting"),
    "visit_minutes": ResponseKey(10, False, 0, 240, True, "minutes a supporter spends at one person"),
    "walk_m_per_min": ResponseKey(60, False, 0, 200, True, "supporters' walking speed, metres per minute"),
    "share_not_reachable": ResponseKey(0.05, False, 0, 1, False,
                                       "share of people a supporter cannot reach or find (0–1)"),
    "shelter_report_every_minutes": ResponseKey(60, True, 1, 1440, False,
                                                "minutes between a shelter's status reports"),
    "duration_hours": ResponseKey(24, False, 0, 168, True, "length of the simulated drill, hours"),
}
RESPONSE_DEFAULTS: dict[str, float] = {k: v.default for k, v in RESPONSE_KEYS.items()}

TOP_KEYS = ("id", "name", "name_en", "notes", "magnitude_jma", "origin_time", "seed", "avs30_default",
            "avs30_by_district", "fault", "fragility", "response")
FAULT_KEYS = ("trace", "depth_km", "top_km", "kind")
FRAGILITY_KEYS = ("median_intensity", "sigma")


class ScenarioError(ValueError):
    """A scenario file that cannot be used; `messages` lists every problem found."""

    def __init__(self, messages: list[str], source: str = ""):
        self.messages = list(messages)
        self.source = source
        prefix = f"{source}: " if source else ""
        super().__init__(prefix + "; ".join(self.messages))


@dataclass(frozen=True)
class Fault:
    """The rupture, simplified: a surface trace (or one point, the epicentre) at a depth.

    `trace` is a sequence of (lon, lat) in JGD2011; one point means a hypocentre.
    `depth_km` is the focal depth D of the attenuation formula. `top_km`, for a trace only,
    is the depth of the fault's upper edge, used for the distance instead of D: a crustal
    fault reaches far shallower than its focal depth.
    """

    trace: tuple[tuple[float, float], ...]
    depth_km: float
    kind: str  # one of FAULT_KINDS
    top_km: float | None = None

    @property
    def is_point(self) -> bool:
        return len(self.trace) == 1

    @property
    def distance_depth_km(self) -> float:
        """The depth the distance model puts the fault line at."""
        return self.depth_km if self.top_km is None else self.top_km


@dataclass(frozen=True)
class FragilityOverride:
    """A scenario's change to the default fragility of one 耐震 class; None keeps the default."""

    median_intensity: float | None = None
    sigma: float | None = None


@dataclass(frozen=True)
class Scenario:
    id: str
    name: str
    name_en: str
    magnitude_jma: float
    fault: Fault
    origin_time: datetime
    seed: int
    avs30_default: float = AVS30_DEFAULT
    avs30_by_district: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    fragility: Mapping[str, FragilityOverride] = field(default_factory=lambda: MappingProxyType({}))
    response: Mapping[str, float] = field(default_factory=lambda: MappingProxyType(dict(RESPONSE_DEFAULTS)))
    notes: str = ""

    @property
    def mw(self) -> float:
        return mw_from_mj(self.magnitude_jma)

    def avs30_for(self, district_code: str | None) -> float:
        """The AVS30 of a district by its code, else the scenario's default."""
        if district_code is not None and district_code in self.avs30_by_district:
            return self.avs30_by_district[district_code]
        return self.avs30_default


def load_scenario(path_or_text: str | os.PathLike) -> Scenario:
    """Read and check a scenario. A `Path` (or a one-line string ending in .toml) is read as
    a file; any other string is the TOML text itself. Raises `ScenarioError`."""
    source = ""
    if isinstance(path_or_text, os.PathLike) or (
            isinstance(path_or_text, str) and "\n" not in path_or_text and path_or_text.strip().endswith(".toml")):
        path = Path(path_or_text)
        source = str(path)
        text = path.read_text(encoding="utf-8")
    else:
        text = str(path_or_text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already says "(at line L, column C)".
        raise ScenarioError([f"TOML syntax error: {exc}"], source) from None
    return _Checker(text, source).scenario(data)


class _Checker:
    """Collects every problem instead of stopping at the first."""

    def __init__(self, text: str, source: str):
        self.lines = _key_lines(text)
        self.source = source
        self.errors: list[str] = []

    def error(self, path: tuple, message: str) -> None:
        shown = ""
        for part in path:
            shown += f"[{part}]" if isinstance(part, int) else (f".{part}" if shown else part)
        line = self._line(tuple(p for p in path if not isinstance(p, int)))
        self.errors.append(f"{shown}: {message}" + (f" (line {line})" if line else ""))

    def _line(self, keys: tuple[str, ...]) -> int | None:
        # The key's own line, else the nearest enclosing table's header.
        for n in range(len(keys), 0, -1):
            if keys[:n] in self.lines:
                return self.lines[keys[:n]]
        return None

    # ---- typed getters: return None (and record an error) when the value is unusable ----

    def unknown_keys(self, table: dict, allowed, path: tuple) -> None:
        for key in table:
            if key not in allowed:
                self.error(path + (key,), "unknown key; expected one of: " + ", ".join(allowed))

    def string(self, table: dict, key: str, path: tuple, required: bool = True, default: str = "") -> str | None:
        if key not in table:
            if required:
                self.error(path + (key,), "required")
                return None
            return default
        value = table[key]
        if not isinstance(value, str):
            self.error(path + (key,), f"must be a string, not {_type_name(value)}")
            return None
        if required and not value.strip():
            self.error(path + (key,), "must not be empty")
            return None
        return value.strip()

    def number(self, value: Any, path: tuple, low: float, high: float, low_open: bool = False,
               integer: bool = False) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
            self.error(path, f"must be {'an integer' if integer else 'a number'}, not {_type_name(value)}")
            return None
        if not math.isfinite(value):
            self.error(path, "must be a finite number")
            return None
        too_low = value <= low if low_open else value < low
        if too_low or value > high:
            bounds = f"greater than {_fmt(low)} and at most {_fmt(high)}" if low_open \
                else f"between {_fmt(low)} and {_fmt(high)}"
            self.error(path, f"must be {bounds}, not {_fmt(value)}")
            return None
        return value if integer else float(value)

    def table(self, data: dict, key: str, path: tuple, required: bool) -> dict | None:
        if key not in data:
            if required:
                self.error(path + (key,), "required table is missing")
            return {} if not required else None
        value = data[key]
        if not isinstance(value, dict):
            self.error(path + (key,), f"must be a table, not {_type_name(value)}")
            return None
        return value

    # ---- the scenario ----

    def scenario(self, data: dict) -> Scenario:
        self.unknown_keys(data, TOP_KEYS, ())
        scenario_id = self.string(data, "id", ())
        if scenario_id is not None and not ID_RE.match(scenario_id):
            self.error(("id",), "must be lower-case letters, digits and hyphens (at most 64), e.g. tama-east-m73")
        name = self.string(data, "name", ())
        name_en = self.string(data, "name_en", ())
        notes = self.string(data, "notes", (), required=False)

        magnitude = None
        if "magnitude_jma" not in data:
            self.error(("magnitude_jma",), "required")
        else:
            magnitude = self.number(data["magnitude_jma"], ("magnitude_jma",), *MAGNITUDE_RANGE)

        origin_time = self._origin_time(data)

        seed = None
        if "seed" not in data:
            self.error(("seed",), "required")
        else:
            seed = self.number(data["seed"], ("seed",), 0, 2 ** 63 - 1, integer=True)

        avs30_default = AVS30_DEFAULT
        if "avs30_default" in data:
            avs30_default = self.number(data["avs30_default"], ("avs30_default",), *AVS30_RANGE)

        avs30_by_district = {}
        by_district = self.table(data, "avs30_by_district", (), required=False)
        for code, value in (by_district or {}).items():
            checked = self.number(value, ("avs30_by_district", code), *AVS30_RANGE)
            if checked is not None:
                avs30_by_district[code] = checked

        fault = self._fault(data)
        fragility = self._fragility(data)
        response = self._response(data)

        if self.errors:
            raise ScenarioError(self.errors, self.source)
        return Scenario(
            id=scenario_id, name=name, name_en=name_en, notes=notes, magnitude_jma=float(magnitude),
            fault=fault, origin_time=origin_time, seed=seed, avs30_default=avs30_default,
            avs30_by_district=MappingProxyType(avs30_by_district), fragility=MappingProxyType(fragility),
            response=MappingProxyType(response),
        )

    def _origin_time(self, data: dict) -> datetime | None:
        path = ("origin_time",)
        if "origin_time" not in data:
            self.error(path, "required")
            return None
        value = data["origin_time"]
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                self.error(path, "must have a UTC offset, e.g. 2026-12-01T10:00:00+09:00 (a local time is ambiguous)")
                return None
            return value
        if isinstance(value, (date, time)):
            self.error(path, "must be a date and time with a UTC offset, e.g. 2026-12-01T10:00:00+09:00")
        elif isinstance(value, str):
            self.error(path, "must be a TOML datetime, unquoted, e.g. origin_time = 2026-12-01T10:00:00+09:00")
        else:
            self.error(path, f"must be a datetime, not {_type_name(value)}")
        return None

    def _fault(self, data: dict) -> Fault | None:
        table = self.table(data, "fault", (), required=True)
        if table is None:
            return None
        self.unknown_keys(table, FAULT_KEYS, ("fault",))
        depth = None
        if "depth_km" not in table:
            self.error(("fault", "depth_km"), "required")
        else:
            depth = self.number(table["depth_km"], ("fault", "depth_km"), *DEPTH_RANGE_KM)
        kind = self.string(table, "kind", ("fault",))
        if kind is not None and kind not in FAULT_KINDS:
            self.error(("fault", "kind"), f"must be one of {', '.join(FAULT_KINDS)}, not {kind!r}")
            kind = None
        trace = self._trace(table)
        top = None
        if "top_km" in table:
            top = self.number(table["top_km"], ("fault", "top_km"), *DEPTH_RANGE_KM)
            if trace is not None and len(trace) == 1:
                self.error(("fault", "top_km"), "only for a fault trace of two or more points; "
                                                "a single point is a hypocentre at depth_km")
            elif top is not None and depth is not None and top > depth:
                self.error(("fault", "top_km"), f"the upper edge ({_fmt(top)} km) cannot be deeper than "
                                                f"depth_km ({_fmt(depth)} km)")
        if depth is None or kind is None or trace is None or self.errors:
            return None
        return Fault(trace=trace, depth_km=depth, kind=kind, top_km=top)

    def _trace(self, table: dict) -> tuple[tuple[float, float], ...] | None:
        path = ("fault", "trace")
        if "trace" not in table:
            self.error(path, "required: a list of [lon, lat] points (one point = the epicentre)")
            return None
        value = table["trace"]
        if not isinstance(value, list) or not value:
            self.error(path, "must be a non-empty list of [lon, lat] points")
            return None
        points = []
        ok = True
        for i, point in enumerate(value):
            if (not isinstance(point, list) or len(point) != 2
                    or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in point)):
                self.error(path + (i,), "must be a [lon, lat] pair of numbers")
                ok = False
                continue
            lon, lat = float(point[0]), float(point[1])
            try:
                check_lon_lat(lon, lat)
            except ValueError as exc:
                self.error(path + (i,), str(exc))
                ok = False
                continue
            points.append((lon, lat))
        if ok and any(a == b for a, b in pairwise(points)):
            self.error(path, "consecutive points must differ")
            ok = False
        return tuple(points) if ok else None

    def _fragility(self, data: dict) -> dict[str, FragilityOverride]:
        table = self.table(data, "fragility", (), required=False) or {}
        classes = [c.value for c in SeismicClass]
        result = {}
        for name, override in table.items():
            path = ("fragility", name)
            if name not in classes:
                self.error(path, "unknown 耐震 class; expected one of: " + ", ".join(classes))
                continue
            if not isinstance(override, dict):
                self.error(path, f"must be a table, not {_type_name(override)}")
                continue
            self.unknown_keys(override, FRAGILITY_KEYS, path)
            if not any(k in override for k in FRAGILITY_KEYS):
                self.error(path, "give median_intensity, sigma or both")
                continue
            median = sigma = None
            if "median_intensity" in override:
                median = self.number(override["median_intensity"], path + ("median_intensity",),
                                     *MEDIAN_INTENSITY_RANGE)
            if "sigma" in override:
                sigma = self.number(override["sigma"], path + ("sigma",), *SIGMA_RANGE)
            result[name] = FragilityOverride(median_intensity=median, sigma=sigma)
        return result

    def _response(self, data: dict) -> dict[str, float]:
        table = self.table(data, "response", (), required=False) or {}
        self.unknown_keys(table, tuple(RESPONSE_KEYS), ("response",))
        result = dict(RESPONSE_DEFAULTS)
        for key, spec in RESPONSE_KEYS.items():
            if key in table:
                value = self.number(table[key], ("response", key), spec.low, spec.high, spec.low_open, spec.integer)
                if value is not None:
                    result[key] = value
        return result


_HEADER_RE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY_RE = re.compile(r"""^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+))*)\s*=""")
_PART_RE = re.compile(r"""\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*(?:\.|$)""")


def _split_key(text: str) -> tuple[str, ...]:
    return tuple(m.group(1).strip("\"'") for m in _PART_RE.finditer(text))


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Key path → first line number where it is defined (a table header or a `key =` line).

    Good enough for the files people write by hand; a key inside a multi-line string or an
    inline table may be missed, and then the message just has no line number.
    """
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    in_array = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if in_array:  # continuation of a multi-line array: no keys here
            in_array += line.count("[") - line.count("]")
            continue
        header = _HEADER_RE.match(line)
        if header:
            table = _split_key(header.group(1))
            lines.setdefault(table, number)
            continue
        key = _KEY_RE.match(line)
        if key:
            lines.setdefault(table + _split_key(key.group(1)), number)
            rest = line[key.end():].split("#", 1)[0]
            in_array = max(0, rest.count("[") - rest.count("]"))
    return lines


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array",
            dict: "a table"}.get(type(value), type(value).__name__)


def _fmt(value: float) -> str:
    return f"{value:g}"
