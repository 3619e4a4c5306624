"""Hazard areas (ハザード区域): 土砂災害警戒区域, 浸水想定区域 … as polygons in JGD2011 lon/lat."""

from __future__ import annotations

from typing import Optional

from sqlmodel import Field

from .base import RecordMeta, TextStripped, enum_field, json_dict
from .vocab import LabelledEnum


class HazardKind(LabelledEnum):
    """Kinds of hazard area published by prefectures (土砂災害防止法, 水防法) and municipalities."""

    landslide_warning = ("landslide_warning", "土砂災害警戒区域", "landslide warning zone")
    landslide_special = ("landslide_special", "土砂災害特別警戒区域", "landslide special warning zone")
    flood = ("flood", "浸水想定区域", "flood inundation area")
    inland_flood = ("inland_flood", "内水浸水想定区域", "inland (pluvial) flood area")
    tsunami = ("tsunami", "津波浸水想定", "tsunami inundation area")
    storm_surge = ("storm_surge", "高潮浸水想定区域", "storm surge inundation area")


class HazardAreaFields(TextStripped):
    municipality_code: str = Field(default="", max_length=6, index=True)
    kind: HazardKind = enum_field(index=True, description="土砂災害警戒区域, 浸水想定区域 …")
    name: str = Field(default="", max_length=200, description="Area name or number as published")
    level: str = Field(default="", max_length=60, description="e.g. 浸水深 0.5–3.0m, 急傾斜地の崩壊")
    source: str = Field(default="", max_length=200, description="File or publisher the area came from")
    geometry: dict = json_dict(description="GeoJSON Polygon/MultiPolygon in JGD2011 lon/lat (EPSG:6668)")
    area_m2: Optional[float] = Field(default=None, description="Area in the plane rectangular zone, m²")


class HazardArea(HazardAreaFields, RecordMeta, table=True):
    __tablename__ = "hazard_area"
