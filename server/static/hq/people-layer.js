// People on the register, clustered with supercluster (50,000 points stay fast) and
// coloured by their latest safety status; a cluster shows its mix of statuses as a ring.

import * as L from "/vendor/leaflet/leaflet-src.esm.js";
import "/vendor/supercluster/supercluster.min.js"; // UMD build: defines globalThis.Supercluster
import { CanvasLayer } from "./canvas-layer.js";
import { drawCluster, drawPerson } from "./symbols.js";

const Supercluster = globalThis.Supercluster;
const REBUILD_DELAY_MS = 400; // live updates in a burst rebuild the index once

export const PeopleLayer = CanvasLayer.extend({
  options: { pane: "people" },

  // options.statuses: the status indexes to show (default: all).
  initialize(store, options) {
    L.setOptions(this, options);
    this.store = store;
    this.visibleStatuses = new Set(this.options.statuses ?? store.statuses.map((_, i) => i));
    this.index = null;
    this.dirty = true; // built when first shown: the default view is the choropleth, not points
  },

  onAdd(map) {
    if (this.dirty) this.rebuild(false);
    CanvasLayer.prototype.onAdd.call(this, map);
  },

  // (Re)build the cluster index from the store and the status filter (only while shown).
  rebuild(redraw = true) {
    if (!this._map && redraw) {
      this.dirty = true;
      return;
    }
    this.dirty = false;
    const p = this.store.people;
    const codes = this.store.statuses.length;
    const features = [];
    for (let i = 0; i < p.ids.length; i += 1) {
      if (p.ids[i] === null || Number.isNaN(p.lon[i]) || !this.visibleStatuses.has(p.status[i])) continue;
      features.push({ type: "Feature", geometry: { type: "Point", coordinates: [p.lon[i], p.lat[i]] }, properties: { i } });
    }
    const status = p.status;
    // Counts per status as scalar properties s0, s1 …: supercluster copies cluster properties
    // shallowly, so an array here would be shared between zoom levels and counted twice.
    const keys = Array.from({ length: codes }, (_, k) => `s${k}`);
    const zero = Object.fromEntries(keys.map((key) => [key, 0])); // copies share one object shape: faster
    this.keys = keys;
    this.index = new Supercluster({
      radius: 50, minZoom: 5, maxZoom: 15, minPoints: 3,
      map: (props) => {
        const counts = { ...zero };
        counts[keys[status[props.i]]] = 1;
        return counts;
      },
      reduce: (acc, props) => {
        for (const key of keys) acc[key] += props[key];
      },
    }).load(features);
    this.shown = features.length;
    if (redraw) this.redraw();
  },

  scheduleRebuild() {
    clearTimeout(this._pending);
    this._pending = setTimeout(() => this.rebuild(), REBUILD_DELAY_MS);
  },

  setStatuses(indexes) {
    this.visibleStatuses = new Set(indexes);
    this.rebuild();
  },

  draw(ctx, project, view) {
    if (!this.index) return;
    const map = this._map;
    const nw = map.containerPointToLatLng(view.min);
    const se = map.containerPointToLatLng(view.max);
    const clusters = this.index.getClusters([nw.lng, se.lat, se.lng, nw.lat], Math.round(map.getZoom()));
    const codes = this.store.statuses.map((s) => s.code);
    const status = this.store.people.status;
    for (const cluster of clusters) {
      const [lon, lat] = cluster.geometry.coordinates;
      const pt = project(lat, lon);
      if (cluster.properties.cluster) {
        const counts = this.keys.map((key) => cluster.properties[key]);
        const r = drawCluster(ctx, pt.x, pt.y, counts, codes);
        this.target(pt.x, pt.y, r, { kind: "cluster", id: cluster.properties.cluster_id, lat, lon, counts });
      } else {
        const i = cluster.properties.i;
        const r = drawPerson(ctx, pt.x, pt.y, codes[status[i]]);
        this.target(pt.x, pt.y, r, { kind: "person", i, id: this.store.people.ids[i], lat, lon });
      }
    }
    this._drawnClusters = clusters.length;
  },

  expansionZoom(clusterId) {
    return this.index.getClusterExpansionZoom(clusterId);
  },
});

