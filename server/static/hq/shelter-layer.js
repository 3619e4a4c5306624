// Shelters (symbol by open state, occupancy bar, seismic mark) and the DWAT teams
// deployed to them, each on its own canvas.

import * as L from "/vendor/leaflet/leaflet-src.esm.js";
import { CanvasLayer } from "./canvas-layer.js";
import { t } from "./i18n.js";
import { SHELTER_SIZE, drawDwat, drawShelter, isUnusable, isWelfare } from "./symbols.js";

// What needs a decision is drawn last, on top of its neighbours.
const urgency = (s) => (s.overflow > 0 ? 2 : 0) + (isUnusable(s) ? 1 : 0);

export const ShelterLayer = CanvasLayer.extend({
  options: { pane: "shelters" },

  initialize(store, options) {
    L.setOptions(this, options);
    this.store = store;
    this.filter = { openStates: null, welfareOnly: false };
  },

  // null openStates: all; the string "none" in the set stands for "no report yet".
  visible(shelter) {
    if (shelter.lon === null || shelter.lat === null) return false;
    if (this.filter.welfareOnly && !isWelfare(shelter.kind)) return false;
    const states = this.filter.openStates;
    return !states || states.has(shelter.open_state || "none");
  },

  setFilter(filter) {
    this.filter = { ...this.filter, ...filter };
    this.redraw();
  },

  draw(ctx, project, view) {
    let drawn = 0;
    const unknown = t("occupancyUnknown");
    const shelters = [...this.store.shelters.values()].filter((s) => this.visible(s));
    shelters.sort((a, b) => urgency(a) - urgency(b));
    for (const shelter of shelters) {
      const pt = project(shelter.lat, shelter.lon);
      if (pt.x < view.min.x || pt.y < view.min.y || pt.x > view.max.x || pt.y > view.max.y) continue;
      const r = drawShelter(ctx, pt.x, pt.y, shelter, unknown);
      this.target(pt.x, pt.y, r, { kind: "shelter", id: shelter.id });
      drawn += 1;
    }
    this.drawnCount = drawn;
  },
});

export const DwatLayer = CanvasLayer.extend({
  options: { pane: "dwat" },

  initialize(store, options) {
    L.setOptions(this, options);
    this.store = store;
  },

  draw(ctx, project) {
    // Per shelter: how many teams, and on site (active) if any is, else planned.
    const byShelter = new Map();
    for (const d of this.store.deployments.values()) {
      const entry = byShelter.get(d.shelter_id) || { teams: 0, state: "planned" };
      entry.teams += 1;
      if (d.state === "active") entry.state = "active";
      byShelter.set(d.shelter_id, entry);
    }
    // Shelters whose requests still wait for a team (要請中) and that have no team yet.
    for (const r of this.store.openRequests.values()) {
      if (byShelter.has(r.shelter_id) && byShelter.get(r.shelter_id).state !== "requested") continue;
      const entry = byShelter.get(r.shelter_id) || { teams: 0, state: "requested" };
      entry.teams += 1;
      byShelter.set(r.shelter_id, entry);
    }
    let drawn = 0;
    for (const [shelterId, { teams, state }] of byShelter) {
      const shelter = this.store.shelters.get(shelterId);
      if (!shelter || shelter.lat === null) continue;
      const pt = project(shelter.lat, shelter.lon);
      const x = pt.x - SHELTER_SIZE / 2 - 18; // to the left of the shelter symbol, which keeps its own marks
      const r = drawDwat(ctx, x, pt.y, teams, state, t(`dwat.${state}`));
      this.target(x, pt.y, r, { kind: "dwat", id: shelterId });
      drawn += 1;
    }
    this.drawnCount = drawn;
  },
});
