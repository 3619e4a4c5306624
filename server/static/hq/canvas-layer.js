// A Leaflet layer that paints itself on one <canvas> — thousands of symbols without
// thousands of DOM nodes. Subclasses implement draw(ctx, project) and push hit targets;
// the page asks hit(containerPoint) on a click (the canvas itself ignores the pointer,
// so dragging and zooming the map work through it).

import * as L from "/vendor/leaflet/leaflet-src.esm.js";

const PADDING = 0.25; // drawn beyond the view so a drag does not show blank edges at once

export const CanvasLayer = L.Layer.extend({
  options: { pane: "overlayPane" },

  onAdd(map) {
    this._canvas = L.DomUtil.create("canvas", "hq-canvas leaflet-zoom-animated");
    this._canvas.setAttribute("aria-hidden", "true");
    this.getPane().appendChild(this._canvas);
    map.on("moveend viewreset resize", this.redraw, this);
    map.on("zoomanim", this._animateZoom, this);
    this.redraw();
  },

  onRemove(map) {
    map.off("moveend viewreset resize", this.redraw, this);
    map.off("zoomanim", this._animateZoom, this);
    L.DomUtil.remove(this._canvas);
    this._canvas = null;
    this._targets = [];
  },

  redraw() {
    const map = this._map;
    if (!map || !this._canvas) return this;
    const size = map.getSize();
    const pad = size.multiplyBy(PADDING).round();
    const full = size.add(pad.multiplyBy(2));
    const ratio = window.devicePixelRatio || 1;
    const canvas = this._canvas;
    canvas.width = full.x * ratio;
    canvas.height = full.y * ratio;
    canvas.style.width = `${full.x}px`;
    canvas.style.height = `${full.y}px`;
    this._bounds = L.latLngBounds(map.containerPointToLatLng(pad.multiplyBy(-1)),
      map.containerPointToLatLng(size.add(pad)));
    L.DomUtil.setPosition(canvas, map.containerPointToLayerPoint(pad.multiplyBy(-1)));
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, pad.x * ratio, pad.y * ratio);
    ctx.clearRect(-pad.x, -pad.y, full.x, full.y);
    this._targets = [];
    const project = (lat, lon) => map.latLngToContainerPoint([lat, lon]);
    this.draw(ctx, project, { min: pad.multiplyBy(-1), max: size.add(pad) });
    this.fire("drawn");
    return this;
  },

  // Follow Leaflet's zoom animation the way its own image overlays do.
  _animateZoom(e) {
    if (!this._bounds) return;
    const scale = this._map.getZoomScale(e.zoom);
    const offset = this._map._latLngBoundsToNewLayerBounds(this._bounds, e.zoom, e.center).min;
    L.DomUtil.setTransform(this._canvas, offset, scale);
  },

  // Subclasses call this while drawing: a round target in container pixels.
  target(x, y, radius, item) {
    this._targets.push({ x, y, r: radius, item });
  },

  // The topmost target under a container point, or null.
  hit(point) {
    if (!this._map || !this._targets) return null;
    for (let i = this._targets.length - 1; i >= 0; i -= 1) {
      const t = this._targets[i];
      const dx = t.x - point.x;
      const dy = t.y - point.y;
      if (dx * dx + dy * dy <= t.r * t.r) return t.item;
    }
    return null;
  },
});
