// Symbols, shared by the map layers and the legend (which draws the same symbols on small
// canvases). Colours come from palette.js (one place); shapes, letters and patterns carry the
// same meaning for anyone who cannot tell the colours apart.

import {
  BAR, DWAT_COLOURS, DWAT_INK, HAZARD_COLOURS, INK, OPEN_COLOURS, OPEN_GLYPHS, OPEN_GLYPH_INK, SEISMIC_COLOURS,
  SHARE_STEPS, STATUS_COLOURS, STATUS_SHAPES, UNUSABLE,
} from "./palette.js";

export { DISTRICT_LINE, DWAT_COLOUR, HAZARD_COLOURS, NO_PEOPLE, OPEN_COLOURS, SEISMIC_COLOURS, SHARE_STEPS, STATUS_COLOURS,
  STATUS_SHAPES } from "./palette.js";

const SEISMIC_GROUPS = {
  new_standard: "safe", old_retrofitted: "safe", old_low_risk: "safe",
  old_some_risk: "some", old_undiagnosed: "some", old_high_risk: "high", unknown: "unknown",
};
export const seismicGroup = (code) => SEISMIC_GROUPS[code] || "unknown";

export function shareColour(share) {
  if (share === null || share === undefined) return null;
  return SHARE_STEPS.find((step) => share < step.upTo).colour;
}

export const hazardColour = (kind) => (kind && kind.startsWith("landslide") ? HAZARD_COLOURS.landslide : HAZARD_COLOURS.water);

export const isWelfare = (kind) => kind === "designated_welfare" || kind === "agreement_welfare";

// A shelter that cannot take people now: reported unusable, or the latest matching run left it
// out for damage or seismic risk (docs/matching.md).
export const isUnusable = (shelter) => shelter.damage === "unusable"
  || shelter.matching_blocked === "damaged" || shelter.matching_blocked === "seismic";

export const SHELTER_SIZE = 30; // px across at every zoom: readable at a glance (≥ 28)
const BAR_W = 36;
const BAR_H = 7;

let hatch = null;
function unknownPattern(ctx) { // diagonal grey stripes: "we do not know", never an empty bar (= 0)
  if (!hatch) {
    hatch = document.createElement("canvas");
    hatch.width = 6;
    hatch.height = 6;
    const h = hatch.getContext("2d");
    h.fillStyle = "#ffffff";
    h.fillRect(0, 0, 6, 6);
    h.strokeStyle = BAR.unknown;
    h.lineWidth = 1.5;
    h.beginPath();
    h.moveTo(-1, 7);
    h.lineTo(7, -1);
    h.moveTo(-1, 1);
    h.lineTo(1, -1);
    h.moveTo(5, 7);
    h.lineTo(7, 5);
    h.stroke();
  }
  return ctx.createPattern(hatch, "repeat");
}

function text(ctx, value, x, y, { size = 11, colour = INK, align = "center", halo = true } = {}) {
  ctx.font = `bold ${size}px "Noto Sans CJK JP", sans-serif`;
  ctx.textAlign = align;
  ctx.textBaseline = "middle";
  if (halo) { // a white edge keeps the text readable over any map colour
    ctx.lineWidth = 3;
    ctx.strokeStyle = "#ffffff";
    ctx.strokeText(value, x, y);
  }
  ctx.fillStyle = colour;
  ctx.fillText(value, x, y);
}

// The bar of evacuees against capacity under a shelter. Unknown occupancy: hatched with 不明;
// unknown capacity: dashed outline; overflow: a red bar past the end and "+N".
function drawBar(ctx, x, top, shelter, unknownText) {
  const left = x - BAR_W / 2;
  const known = shelter.occupancy !== null && shelter.occupancy !== undefined;
  ctx.fillStyle = known ? BAR.empty : unknownPattern(ctx);
  ctx.fillRect(left, top, BAR_W, BAR_H);
  if (known && shelter.capacity) {
    const share = shelter.occupancy / shelter.capacity;
    ctx.fillStyle = share >= 1 ? BAR.full : BAR.filled;
    ctx.fillRect(left, top, BAR_W * Math.min(1, share), BAR_H);
  }
  ctx.lineWidth = 1;
  ctx.strokeStyle = INK;
  if (!shelter.capacity) ctx.setLineDash([2, 2]);
  ctx.strokeRect(left, top, BAR_W, BAR_H);
  ctx.setLineDash([]);
  if (shelter.overflow > 0) {
    const extra = Math.min(BAR_W / 2, Math.max(6, (BAR_W * shelter.overflow) / shelter.capacity));
    ctx.fillStyle = BAR.overflow;
    ctx.fillRect(left + BAR_W, top - 2, extra, BAR_H + 4);
    ctx.strokeRect(left + BAR_W, top - 2, extra, BAR_H + 4);
    text(ctx, `+${shelter.overflow}`, left + BAR_W + extra + 2, top + BAR_H / 2, { size: 12, colour: BAR.overflow, align: "left" });
  } else if (!known) {
    text(ctx, unknownText, x, top + BAR_H + 7, { size: 10 });
  }
}

// A shelter: ■ welfare shelter / ● designated shelter, 30 px, filled by open state with the
// state's letter inside (開 満 準 閉 未, ? = no report); the occupancy bar below; the seismic
// dot at the top right; a red ✕ badge at the top left when it cannot be used. Returns its hit radius.
export function drawShelter(ctx, x, y, shelter, unknownText = "不明") {
  const r = SHELTER_SIZE / 2;
  const state = shelter.open_state || "unknown";
  ctx.lineWidth = 2;
  ctx.strokeStyle = INK;
  ctx.fillStyle = OPEN_COLOURS[state];
  ctx.beginPath();
  if (isWelfare(shelter.kind)) ctx.rect(x - r, y - r, r * 2, r * 2);
  else ctx.arc(x, y, r, 0, Math.PI * 2);
  ctx.fill();
  if (state === "unknown") ctx.setLineDash([4, 3]); // no report yet: a dashed outline as well
  ctx.stroke();
  ctx.setLineDash([]);
  text(ctx, OPEN_GLYPHS[state], x, y + 1, { size: 16, colour: OPEN_GLYPH_INK[state], halo: false });
  drawBar(ctx, x, y + r + 3, shelter, unknownText);
  // seismic mark
  const group = seismicGroup(shelter.seismic_class);
  ctx.beginPath();
  ctx.arc(x + r, y - r, 5.5, 0, Math.PI * 2);
  ctx.fillStyle = SEISMIC_COLOURS[group];
  ctx.fill();
  ctx.strokeStyle = "#ffffff";
  ctx.lineWidth = 1.5;
  ctx.stroke();
  if (group === "high") text(ctx, "!", x + r, y - r + 0.5, { size: 9, colour: "#ffffff", halo: false });
  if (isUnusable(shelter)) {
    ctx.beginPath();
    ctx.arc(x - r, y - r, 7, 0, Math.PI * 2);
    ctx.fillStyle = UNUSABLE;
    ctx.fill();
    ctx.strokeStyle = "#ffffff";
    ctx.lineWidth = 1.5;
    ctx.stroke();
    text(ctx, "✕", x - r, y - r + 0.5, { size: 10, colour: "#ffffff", halo: false });
  }
  return r + 4;
}

// One person: a dot in the colour of their latest safety status.
export function drawPerson(ctx, x, y, statusCode) {
  // The status's shape as well as its colour (the same shapes as the field app's list).
  ctx.beginPath();
  statusPath(ctx, STATUS_SHAPES[statusCode] || "circle", x, y, 5.5);
  ctx.fillStyle = STATUS_COLOURS[statusCode];
  ctx.fill();
  ctx.lineWidth = 1.2;
  ctx.strokeStyle = "#ffffff";
  ctx.stroke();
  if (STATUS_SHAPES[statusCode] === "ring") {  // a white ring inside: "not checked yet", the centre keeps its colour
    ctx.beginPath();
    ctx.arc(x, y, 3, 0, Math.PI * 2);
    ctx.stroke();
  }
  return 7;
}

// The outline of a status shape of radius r around (x, y), as a path to fill.
function statusPath(ctx, shape, x, y, r) {
  if (shape === "triangle") {
    ctx.moveTo(x, y - r);
    ctx.lineTo(x + r, y + r * 0.8);
    ctx.lineTo(x - r, y + r * 0.8);
  } else if (shape === "diamond") {
    ctx.moveTo(x, y - r);
    ctx.lineTo(x + r, y);
    ctx.lineTo(x, y + r);
    ctx.lineTo(x - r, y);
  } else if (shape === "square") {
    ctx.rect(x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7);
  } else if (shape === "cross") {
    const a = r * 0.4;
    ctx.moveTo(x - a, y - r); ctx.lineTo(x + a, y - r); ctx.lineTo(x + a, y - a); ctx.lineTo(x + r, y - a);
    ctx.lineTo(x + r, y + a); ctx.lineTo(x + a, y + a); ctx.lineTo(x + a, y + r); ctx.lineTo(x - a, y + r);
    ctx.lineTo(x - a, y + a); ctx.lineTo(x - r, y + a); ctx.lineTo(x - r, y - a); ctx.lineTo(x - a, y - a);
  } else {
    ctx.arc(x, y, r, 0, Math.PI * 2);
  }
  ctx.closePath();
}

// A cluster of people: a ring split by status, the number of people inside.
export function drawCluster(ctx, x, y, counts, codes) {
  const total = counts.reduce((a, b) => a + b, 0);
  const r = Math.min(30, 12 + Math.log10(total) * 5);
  let start = -Math.PI / 2;
  counts.forEach((n, i) => {
    if (!n) return;
    const end = start + (n / total) * Math.PI * 2;
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.arc(x, y, r, start, end);
    ctx.closePath();
    ctx.fillStyle = STATUS_COLOURS[codes[i]];
    ctx.fill();
    start = end;
  });
  ctx.beginPath();
  ctx.arc(x, y, r * 0.62, 0, Math.PI * 2);
  ctx.fillStyle = "#ffffff";
  ctx.fill();
  ctx.fillStyle = INK;
  ctx.font = `bold ${total >= 1000 ? 10 : 11}px sans-serif`;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.fillText(total >= 10000 ? `${Math.round(total / 1000)}k` : String(total), x, y + 0.5);
  return r;
}

// DWAT teams at a shelter: a 26 px diamond with the number of teams (filled: on site / 活動中;
// white: planned / 派遣予定; pale amber, dotted: requests waiting for a team / 要請中, with their
// number), the state written beneath. Returns its hit radius.
export function drawDwat(ctx, x, y, teams, state, caption) {
  const s = 13;
  ctx.beginPath();
  ctx.moveTo(x, y - s);
  ctx.lineTo(x + s, y);
  ctx.lineTo(x, y + s);
  ctx.lineTo(x - s, y);
  ctx.closePath();
  ctx.fillStyle = DWAT_COLOURS[state] || DWAT_COLOURS.active;
  ctx.fill();
  ctx.lineWidth = 2;
  ctx.strokeStyle = DWAT_COLOURS.active;
  if (state === "planned") ctx.setLineDash([3, 2]);
  if (state === "requested") ctx.setLineDash([1.5, 2.5]);
  ctx.stroke();
  ctx.setLineDash([]);
  text(ctx, String(teams), x, y + 0.5, { size: 12, colour: DWAT_INK[state] || "#ffffff", halo: false });
  if (caption) text(ctx, caption, x, y + s + 8, { size: 10, colour: DWAT_COLOURS.active });
  return s + 2;
}

// A small canvas with one symbol, for the legend.
export function swatch(paint, width = 30, height = 26) {
  const canvas = document.createElement("canvas");
  const ratio = window.devicePixelRatio || 1;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  canvas.className = "swatch";
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  canvas.setAttribute("aria-hidden", "true");
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  paint(ctx, width / 2, height / 2);
  return canvas;
}
