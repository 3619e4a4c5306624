// The HQ map page: loads the layers, draws them, wires the panel and the live stream.
// When the first render is done, <body data-ready="true"> (the browser tests and the
// benchmark wait for it; data-ready-ms is the time since navigation).

import * as L from "/vendor/leaflet/leaflet-src.esm.js";
import { SignedOut, Store } from "./data.js";
import { Decisions } from "./decisions.js";
import { setupLanguage, t } from "./i18n.js";
import { connectLive } from "./live.js";
import { basemap, boundsOf, createMap, districtLayer, districtStyle, featuresAt, hazardLayer } from "./map-layers.js";
import { Panel } from "./panel.js";
import { showCoverage } from "./coverage.js";
import { PeopleLayer } from "./people-layer.js";
import * as popups from "./popups.js";
import { DwatLayer, ShelterLayer } from "./shelter-layer.js";

const body = document.body;
// People are a 町丁目 choropleth (share confirmed) until zoomed in this far; then clusters and
// points. The layer control's "always show" overrides it (remembered in localStorage).
export const PEOPLE_ZOOM = 16;
const PEOPLE_KEY = "tsunagu.hq.people";
const LEGEND_KEY = "tsunagu.hq.legend";

function stored(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage may be off: first-visit defaults then
  }
}

function store_(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    /* not remembered */
  }
}

// The legend is open on the first visit; closing it is remembered.
function setupLegend() {
  const box = document.getElementById("legend-box");
  box.open = stored(LEGEND_KEY) !== "closed";
  box.addEventListener("toggle", () => store_(LEGEND_KEY, box.open ? "open" : "closed"));
}

function setupPeopleChoice() {
  const input = document.querySelector('#filters input[name="layer"][value="people"]');
  input.checked = stored(PEOPLE_KEY) === "always";
  input.addEventListener("change", () => store_(PEOPLE_KEY, input.checked ? "always" : "auto"));
}

const peopleWanted = (map, filters) => filters.layers.has("people") || map.getZoom() >= PEOPLE_ZOOM;
const loading = document.getElementById("loading");
const notice = document.getElementById("notice");

function openPopup(map, latlng, content) {
  content.tabIndex = -1;
  L.popup({ maxWidth: 320, autoPanPadding: [40, 40] }).setLatLng(latlng).setContent(content).openOn(map);
  content.focus({ preventScroll: true });
}

function wireClicks(map, store, layers) {
  const on = (name) => map.hasLayer(layers[name]);
  const hitAt = (point) => (on("dwat") && layers.dwat.hit(point)) || (on("shelters") && layers.shelters.hit(point))
    || (on("people") && layers.people.hit(point));

  map.on("click", (e) => {
    const hit = hitAt(e.containerPoint);
    if (hit && hit.kind === "shelter") {
      const shelter = store.shelters.get(hit.id);
      openPopup(map, [shelter.lat, shelter.lon], popups.shelterPopup(store, shelter));
    } else if (hit && hit.kind === "dwat") {
      const shelter = store.shelters.get(hit.id);
      openPopup(map, [shelter.lat, shelter.lon], popups.dwatPopup(store, hit.id));
    } else if (hit && hit.kind === "cluster") {
      const zoom = layers.people.expansionZoom(hit.id);
      if (zoom > map.getZoom() && zoom <= map.getMaxZoom()) map.setView([hit.lat, hit.lon], zoom);
      else openPopup(map, [hit.lat, hit.lon], popups.clusterPopup(store, hit.counts));
    } else if (hit && hit.kind === "person") {
      openPopup(map, [hit.lat, hit.lon], popups.personPopup(store, hit.id, store.people.status[hit.i]));
    } else {
      const district = on("districts") ? featuresAt(store.districts, e.latlng)[0] : null;
      const hazards = on("hazards") ? featuresAt(store.hazards, e.latlng) : [];
      if (district || hazards.length) openPopup(map, e.latlng, popups.placePopup(store, district, hazards));
    }
  });

  let pending = false;
  map.on("mousemove", (e) => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      map.getContainer().classList.toggle("hq-pointer", Boolean(hitAt(e.containerPoint)));
    });
  });
}

function applyFilters(map, layers, panel, filters) {
  for (const [name, layer] of Object.entries(layers)) {
    if (!layer) continue;
    const wanted = name === "people" ? peopleWanted(map, filters) : filters.layers.has(name);
    if (wanted && !map.hasLayer(layer)) layer.addTo(map);
    if (!wanted && map.hasLayer(layer)) map.removeLayer(layer);
  }
  layers.people?.setStatuses(filters.statuses);
  layers.shelters.setFilter({ openStates: filters.openStates, welfareOnly: filters.welfareOnly });
  panel.renderShelters();
}

async function start() {
  let panel = null;
  let live = null;
  let decisions = null;
  let layers = null;
  setupLanguage(document.getElementById("lang-toggle"), () => {
    panel?.render();
    decisions?.render();
    layers?.shelters.redraw();
    layers?.dwat.redraw();
    live?.refresh();
    if (!notice.hidden) notice.textContent = t("tilesFailed");
  });
  setupLegend();
  setupPeopleChoice();
  const map = createMap(document.getElementById("map"));
  const tiles = basemap(body.dataset.tileUrl, body.dataset.tileAttribution, (failing) => {
    notice.hidden = !failing;
    notice.textContent = failing ? t("tilesFailed") : "";
    body.dataset.tiles = failing ? "failing" : "ok";
  });

  const store = new Store();
  const failed = (error) => {
    if (error instanceof SignedOut) {
      window.location.assign("/login");
    } else {
      loading.textContent = t("loadFailed");
    }
    throw error;
  };
  const peopleLoaded = store.loadPeople(); // the big one: starts now, drawn last
  await store.loadLayers().catch(failed);
  performance.mark("hq:data");

  layers = {
    basemap: tiles,
    districts: districtLayer(store.districts),
    hazards: hazardLayer(store.hazards),
    people: null,
    shelters: new ShelterLayer(store),
    dwat: new DwatLayer(store),
  };
  const bounds = boundsOf(store);
  // No animation: the first view must be final when the layers draw (and when a test looks).
  if (bounds) map.fitBounds(bounds, { padding: [16, 16], animate: false });
  for (const layer of Object.values(layers)) layer?.addTo(map);
  performance.mark("hq:layers");

  const showShelters = (ids) => {
    const located = ids.map((id) => store.shelters.get(id)).filter((s) => s && s.lat !== null);
    if (located.length === 1) handlers.focusShelter(located[0].id);
    else if (located.length) map.fitBounds(L.latLngBounds(located.map((s) => [s.lat, s.lon])), { padding: [48, 48], maxZoom: 16 });
  };
  const handlers = {
    focusShelter(id) {
      const shelter = store.shelters.get(id);
      if (!shelter || shelter.lat === null) return;
      map.setView([shelter.lat, shelter.lon], Math.max(map.getZoom(), 16));
      openPopup(map, [shelter.lat, shelter.lon], popups.shelterPopup(store, shelter));
    },
    focusDistrict(id) {
      const feature = store.districtById.get(id);
      if (!feature || !feature.geometry) return;
      map.fitBounds(L.geoJSON(feature).getBounds(), { padding: [24, 24] });
      const [lon, lat] = feature.properties.centroid;
      if (lat !== null) openPopup(map, [lat, lon], popups.districtPopup(store, feature));
    },
    filtersChanged: (filters) => applyFilters(map, layers, panel, filters),
  };
  panel = new Panel(store, handlers);
  panel.render();
  decisions = new Decisions(store, { showShelters, focusDistrict: handlers.focusDistrict });
  decisions.render();
  performance.mark("hq:panel");
  showCoverage(); // not awaited: the map does not wait for the preparedness figures

  await peopleLoaded.catch(failed);
  const filters = panel.filters(); // the user may have changed them while the points were on their way
  layers.people = new PeopleLayer(store, { statuses: filters.statuses });
  if (peopleWanted(map, filters)) layers.people.addTo(map);
  map.on("zoomend", () => { // only the people layer depends on the zoom
    const wanted = peopleWanted(map, panel.filters());
    if (wanted && !map.hasLayer(layers.people)) layers.people.addTo(map);
    if (!wanted && map.hasLayer(layers.people)) map.removeLayer(layers.people);
  });
  panel.renderTotals();
  performance.mark("hq:people");
  wireClicks(map, store, layers);

  store.addEventListener("changed", (event) => {
    const { shelters, people, deployments } = event.detail;
    if (shelters.size || deployments) {
      layers.shelters.redraw();
      layers.dwat.redraw();
      for (const id of shelters) {
        const shelter = store.shelters.get(id);
        if (shelter) panel.updateShelter(shelter);
        else panel.renderShelters();
      }
    }
    if (people) {
      layers.people.scheduleRebuild();
      layers.districts.setStyle(districtStyle);
      panel.renderDistricts();
    }
    panel.renderTotals();
    decisions.render();
  });

  live = connectLive(store, {
    onReset: () => window.location.reload(),
    onSignedOut: () => window.location.assign("/login"),
  });

  loading.hidden = true;
  requestAnimationFrame(() => {
    body.dataset.ready = "true";
    body.dataset.readyMs = String(Math.round(performance.now()));
  });
  window.tsunaguHq = { map, store, layers }; // for the browser tests and the developer console
}

start();
