// The map itself and its vector layers: basemap tiles (a setting; the map works without
// them), districts shaded by the share of people confirmed, hazard areas.

import * as L from "/vendor/leaflet/leaflet-src.esm.js";
import { DISTRICT_LINE, NO_PEOPLE, hazardColour, shareColour } from "./symbols.js";

const JAPAN = { center: [35.68, 139.76], zoom: 10 };
// Panes, bottom to top: tiles (Leaflet's), districts, hazards, people, shelters, DWAT.
const PANES = [["districts", 410], ["hazards", 420], ["people", 610], ["shelters", 620], ["dwat", 630]];

export function createMap(element) {
  const map = L.map(element, { zoomControl: true, minZoom: 5, maxZoom: 18, preferCanvas: false,
    attributionControl: true });
  map.attributionControl.setPrefix('<a href="https://leafletjs.com/">Leaflet</a>');
  for (const [name, z] of PANES) {
    const pane = map.createPane(name);
    pane.style.zIndex = String(z);
    if (name !== "districts" && name !== "hazards") pane.style.pointerEvents = "none";
  }
  map.setView(JAPAN.center, JAPAN.zoom);
  return map;
}

// Tiles that do not load (no internet, server down) leave the project's layers usable;
// `onTrouble(true)` once tiles fail, `onTrouble(false)` when one loads again.
export function basemap(url, attribution, onTrouble) {
  if (!url) return null;
  const layer = L.tileLayer(url, { attribution, maxZoom: 18, maxNativeZoom: 18, crossOrigin: false });
  let failing = false;
  layer.on("tileerror", () => {
    if (!failing) {
      failing = true;
      onTrouble(true);
    }
  });
  layer.on("tileload", () => {
    if (failing) {
      failing = false;
      onTrouble(false);
    }
  });
  return layer;
}

export function districtStyle(feature) {
  const fill = shareColour(feature.properties.confirmed_share);
  return {
    pane: "districts", color: DISTRICT_LINE, weight: 1, opacity: 0.9,
    fillColor: fill || NO_PEOPLE, fillOpacity: fill ? 0.5 : 0, dashArray: fill ? null : "4 3",
  };
}

export function districtLayer(collection) {
  return L.geoJSON(collection, { style: districtStyle, interactive: false, pane: "districts" });
}

export function hazardLayer(collection) {
  return L.geoJSON(collection, {
    pane: "hazards", interactive: false,
    style: (feature) => {
      const colour = hazardColour(feature.properties?.kind);
      return { color: colour, weight: 1.5, dashArray: "6 4", fillColor: colour, fillOpacity: 0.18 };
    },
  });
}

// Point-in-polygon for a click on a district or hazard area (GeoJSON rings, lon/lat).
function inRing(lon, lat, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function inPolygon(lon, lat, rings) {
  return inRing(lon, lat, rings[0]) && !rings.slice(1).some((hole) => inRing(lon, lat, hole));
}

export function featuresAt(collection, latlng) {
  return collection.features.filter((feature) => {
    const g = feature.geometry;
    if (!g) return false;
    const polygons = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
    return polygons.some((rings) => inPolygon(latlng.lng, latlng.lat, rings));
  });
}

export function boundsOf(store) {
  const layer = L.geoJSON(store.districts);
  let bounds = layer.getBounds();
  if (!bounds.isValid()) {
    const points = [...store.shelters.values()].filter((s) => s.lat !== null).map((s) => [s.lat, s.lon]);
    bounds = L.latLngBounds(points);
  }
  return bounds.isValid() ? bounds : null;
}
