// Colours and symbols, shared by the map layers and the legend (which draws the same
// symbols on small canvases). Colours follow the Okabe–Ito palette, which stays apart for
// the common colour-vision deficiencies; every colour also has a text label in the legend.

export const STATUS_COLOURS = {
  unchecked: "#8a8a8a",
  safe_home: "#009e73",
  evacuated: "#0072b2",
  needs_help: "#e69f00",
  injured: "#d55e00",
  unreachable: "#cc79a7",
};

export const OPEN_COLOURS = {
  not_open: "#bdbdbd",
  preparing: "#f0e442",
  open: "#009e73",
  full: "#d55e00",
  closed: "#3b3b3b",
};
const NO_REPORT = "#ffffff";

const SEISMIC_GROUPS = {
  new_standard: "safe", old_retrofitted: "safe", old_low_risk: "safe",
  old_some_risk: "some", old_undiagnosed: "some", old_high_risk: "high", unknown: "unknown",
};
export const SEISMIC_COLOURS = { safe: "#009e73", some: "#e69f00", high: "#d55e00", unknown: "#9e9e9e" };
export const seismicGroup = (code) => SEISMIC_GROUPS[code] || "unknown";

// District shading by the share of people confirmed: light (few) to dark green (all).
export const SHARE_STEPS = [
  { upTo: 0.2, colour: "#f7fcf5" }, { upTo: 0.4, colour: "#c7e9c0" }, { upTo: 0.6, colour: "#74c476" },
  { upTo: 0.8, colour: "#31a354" }, { upTo: 1.01, colour: "#006d2c" },
];
export function shareColour(share) {
  if (share === null || share === undefined) return null;
  return SHARE_STEPS.find((step) => share < step.upTo).colour;
}

export const DWAT_COLOUR = "#6a3d9a";
export const HAZARD_COLOURS = { water: "#1f5fa8", landslide: "#8c510a" };
export const hazardColour = (kind) => (kind && kind.startsWith("landslide") ? HAZARD_COLOURS.landslide : HAZARD_COLOURS.water);
const INK = "#1a1a1a";

export const isWelfare = (kind) => kind === "designated_welfare" || kind === "agreement_welfare";

// A shelter: ■ welfare shelter / ● designated shelter, filled by open state; a bar of
// evacuees against capacity below; the seismic dot at the top right. Returns its hit radius.
export function drawShelter(ctx, x, y, shelter) {
  const size = 9;
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = INK;
  ctx.fillStyle = shelter.open_state ? OPEN_COLOURS[shelter.open_state] : NO_REPORT;
  ctx.beginPath();
  if (isWelfare(shelter.kind)) ctx.rect(x - size, y - size, size * 2, size * 2);
  else ctx.arc(x, y, size, 0, Math.PI * 2);
  ctx.fill();
  ctx.stroke();
  if (!shelter.open_state) { // no report yet: a dash across, so it is not mistaken for a state
    ctx.beginPath();
    ctx.moveTo(x - 5, y);
    ctx.lineTo(x + 5, y);
    ctx.stroke();
  }
  // occupancy bar
  const w = 22;
  const h = 5;
  const top = y + size + 3;
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(x - w / 2, top, w, h);
  if (shelter.capacity) {
    const share = (shelter.occupancy || 0) / shelter.capacity;
    ctx.fillStyle = share >= 1 ? OPEN_COLOURS.full : "#0072b2";
    ctx.fillRect(x - w / 2, top, w * Math.min(1, share), h);
  }
  ctx.lineWidth = 1;
  ctx.strokeStyle = INK;
  if (!shelter.capacity) ctx.setLineDash([2, 2]);
  ctx.strokeRect(x - w / 2, top, w, h);
  ctx.setLineDash([]);
  if (shelter.overflow > 0) { // more people than places: a "+" right of the bar
    ctx.fillStyle = OPEN_COLOURS.full;
    ctx.font = "bold 9px sans-serif";
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.fillText("+", x + w / 2 + 1, top + h / 2);
  }
  // seismic mark
  const group = seismicGroup(shelter.seismic_class);
  ctx.beginPath();
  ctx.arc(x + size, y - size, 4.5, 0, Math.PI * 2);
  ctx.fillStyle = SEISMIC_COLOURS[group];
  ctx.fill();
  ctx.strokeStyle = "#ffffff";
  ctx.lineWidth = 1.2;
  ctx.stroke();
  if (group === "high") {
    ctx.fillStyle = "#ffffff";
    ctx.font = "bold 8px sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText("!", x + size, y - size + 0.5);
  }
  return size + 4;
}

// One person: a dot in the colour of their latest safety status.
export function drawPerson(ctx, x, y, statusCode) {
  ctx.beginPath();
  ctx.arc(x, y, 5, 0, Math.PI * 2);
  ctx.fillStyle = STATUS_COLOURS[statusCode];
  ctx.fill();
  ctx.lineWidth = 1.2;
  ctx.strokeStyle = "#ffffff";
  ctx.stroke();
  return 7;
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

// DWAT teams at a shelter: a diamond with the number of teams, beside the shelter.
export function drawDwat(ctx, x, y, teams) {
  const s = 8;
  ctx.beginPath();
  ctx.moveTo(x, y - s);
  ctx.lineTo(x + s, y);
  ctx.lineTo(x, y + s);
  ctx.lineTo(x - s, y);
  ctx.closePath();
  ctx.fillStyle = DWAT_COLOUR;
  ctx.fill();
  ctx.lineWidth = 1.2;
  ctx.strokeStyle = "#ffffff";
  ctx.stroke();
  ctx.fillStyle = "#ffffff";
  ctx.font = "bold 9px sans-serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.fillText(String(teams), x, y + 0.5);
  return s + 2;
}

// A small canvas with one symbol, for the legend.
export function swatch(paint, width = 30, height = 26) {
  const canvas = document.createElement("canvas");
  const ratio = window.devicePixelRatio || 1;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  canvas.className = "swatch";
  canvas.setAttribute("aria-hidden", "true");
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  paint(ctx, width / 2, height / 2);
  return canvas;
}
