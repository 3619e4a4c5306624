"""Municipality (市区町村) and districts: 福祉圏域 (welfare areas) and 町丁目 (town blocks)."""

from __future__ import annotations

import math
import re
import uuid
from typing import Any, Optional

import sqlalchemy as sa
from pydantic import field_validator, model_validator
from sqlmodel import Field, SQLModel

from .base import CreateMixin, PublicRecordMeta, RecordMeta, TextStripped, Update, enum_field, json_dict
from .vocab import DistrictKind

# Japan's extent, generous enough for Okinotorishima, Minamitorishima and Yonaguni.
JAPAN_LON = (122.0, 154.0)
JAPAN_LAT = (20.0, 46.0)


def check_lon_lat(lon: float | None, lat: float | None) -> None:
    if (lon is None) != (lat is None):
        raise ValueError("give both longitude and latitude, or neither")
    if lon is None:
        return
    if not (JAPAN_LON[0] <= lon <= JAPAN_LON[1]) or not (JAPAN_LAT[0] <= lat <= JAPAN_LAT[1]):
        raise ValueError(f"coordinates ({lon}, {lat}) are outside Japan (JGD2011 lon/lat expected)")


def check_geometry(geometry: dict | None) -> None:
    """A GeoJSON Polygon/MultiPolygon whose coordinates are all finite numbers: one NaN or
    Infinity would make every answer that carries the geometry invalid JSON (the HQ map)."""
    if not geometry:
        return
    if geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValueError("geometry must be a GeoJSON Polygon or MultiPolygon")
    stack = [geometry.get("coordinates")]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("geometry coordinates must be numbers")
        elif not math.isfinite(value):
            raise ValueError("geometry coordinates must be finite numbers (no NaN or Infinity)")


def municipality_check_digit(code5: str) -> str:
    """Check digit of a 全国地方公共団体コード (JIS X 0401/0402 + 総務省 rule).

    ``(11 − (d1·6 + d2·5 + d3·4 + d4·3 + d5·2) mod 11) mod 10``: a remainder of 0 gives 1
    (立川市 13202 → 132021, 新宿区 13104 → 131041), a remainder of 1 gives 0 (渋谷区 131130).
    This is the one place the digit is computed; everything else calls it.
    """
    if not re.fullmatch(r"\d{5}", code5):
        raise ValueError("municipality code must be 5 or 6 digits, e.g. 13214 or 132144")
    total = sum(int(d) * w for d, w in zip(code5, (6, 5, 4, 3, 2)))
    return str((11 - total % 11) % 10)


def normalize_municipality_code(code: str) -> str:
    """Accept the 5-digit or the 6-digit form; return the 6-digit form; reject a bad check digit."""
    code = code.strip()
    if not re.fullmatch(r"\d{5}|\d{6}", code):
        raise ValueError("municipality code must be 5 or 6 digits, e.g. 13214 or 132144")
    expected = municipality_check_digit(code[:5])
    if len(code) == 6 and code[5] != expected:
        raise ValueError(f"check digit of {code} should be {expected}")
    return code[:5] + expected


class MunicipalityCodeMixin(SQLModel):
    @field_validator("municipality_code", mode="before", check_fields=False)
    @classmethod
    def _code(cls, value: Any) -> Any:
        if isinstance(value, (str, int)):
            return normalize_municipality_code(str(value))
        return value


class MunicipalityFields(TextStripped, MunicipalityCodeMixin):
    municipality_code: str = Field(max_length=6, description="6-digit 全国地方公共団体コード")
    name: str = Field(min_length=1, max_length=100)
    name_kana: str = Field(default="", max_length=200)
    prefecture: str = Field(default="", max_length=20)


class Municipality(MunicipalityFields, RecordMeta, table=True):
    municipality_code: str = Field(max_length=6, unique=True, index=True)


class MunicipalityCreate(CreateMixin, MunicipalityFields):
    pass


class MunicipalityUpdate(Update):
    name: Optional[str] = None
    name_kana: Optional[str] = None
    prefecture: Optional[str] = None


class MunicipalityPublic(MunicipalityFields, PublicRecordMeta):
    pass


class DistrictFields(TextStripped, MunicipalityCodeMixin):
    municipality_code: str = Field(max_length=6, index=True)
    code: str = Field(min_length=1, max_length=40, description="District code, unique in the municipality")
    name: str = Field(min_length=1, max_length=100)
    name_kana: str = Field(default="", max_length=200)
    kind: DistrictKind = enum_field(description="福祉圏域 (welfare_area) or 町丁目 (chome)")
    parent_id: Optional[uuid.UUID] = Field(default=None, foreign_key="district.id", index=True,
                                           description="For a 町丁目: its 福祉圏域")
    geometry: dict = json_dict(description="GeoJSON Polygon/MultiPolygon in JGD2011 lon/lat (EPSG:6668)")
    centroid_lon: Optional[float] = None
    centroid_lat: Optional[float] = None

    @field_validator("geometry")
    @classmethod
    def _geometry(cls, value: dict) -> dict:
        check_geometry(value)
        return value

    @model_validator(mode="after")
    def _centroid_in_japan(self):
        check_lon_lat(self.centroid_lon, self.centroid_lat)
        return self


class District(DistrictFields, RecordMeta, table=True):
    __table_args__ = (sa.UniqueConstraint("municipality_code", "code", name="uq_district_code"),)


class DistrictCreate(CreateMixin, DistrictFields):
    pass


class DistrictUpdate(Update):
    name: Optional[str] = None
    name_kana: Optional[str] = None
    parent_id: Optional[uuid.UUID] = None
    geometry: Optional[dict] = None
    centroid_lon: Optional[float] = None
    centroid_lat: Optional[float] = None


class DistrictPublic(DistrictFields, PublicRecordMeta):
    pass
