// Shelters (symbol by open state, occupancy bar, seismic mark) and the DWAT teams
// deployed to them, each on its own canvas.

import * as L from "/vendor/leaflet/leaflet-src.esm.js";
import { CanvasLayer } from "./canvas-layer.js";
import { drawDwat, drawShelter, isWelfare } from "./symbols.js";

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
    for (const shelter of this.store.shelters.values()) {
      if (!this.visible(shelter)) continue;
      const pt = project(shelter.lat, shelter.lon);
      if (pt.x < view.min.x || pt.y < view.min.y || pt.x > view.max.x || pt.y > view.max.y) continue;
      const r = drawShelter(ctx, pt.x, pt.y, shelter);
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
    const byShelter = new Map();
    for (const d of this.store.deployments.values()) {
      byShelter.set(d.shelter_id, (byShelter.get(d.shelter_id) || 0) + 1);
    }
    let drawn = 0;
    for (const [shelterId, teams] of byShelter) {
      const shelter = this.store.shelters.get(shelterId);
      if (!shelter || shelter.lat === null) continue;
      const pt = project(shelter.lat, shelter.lon);
      const x = pt.x - 20; // to the left of the shelter symbol, which keeps its own mark
      const r = drawDwat(ctx, x, pt.y, teams);
      this.target(x, pt.y, r, { kind: "dwat", id: shelterId });
      drawn += 1;
    }
    this.drawnCount = drawn;
  },
});
