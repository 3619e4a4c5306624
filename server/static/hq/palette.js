// The HQ map's colours, all in one place (safety statuses come from the field app's palette, so
// the app and the map cannot drift apart). Okabe–Ito colours, which
// stay apart for the common colour-vision deficiencies; no colour is the only signal — every
// state also has a shape, a letter or a pattern, and a label in the legend.

import { STATUS_PALETTE } from "/app/js/palette.js";

export const INK = "#1a1a1a";

// Latest safety status of a person: the field app's palette (one palette for the app and the
// map, each status with its colour AND its shape), served by the app at /app/js/palette.js.
export const STATUS_COLOURS = Object.fromEntries(Object.entries(STATUS_PALETTE).map(([code, p]) => [code, p.colour]));
export const STATUS_SHAPES = Object.fromEntries(Object.entries(STATUS_PALETTE).map(([code, p]) => [code, p.shape]));

// Shelter open state; "unknown" = no report yet.
export const OPEN_COLOURS = {
  not_open: "#bdbdbd",
  preparing: "#f0e442",
  open: "#009e73",
  full: "#d55e00",
  closed: "#3b3b3b",
  unknown: "#ffffff",
};
// The letter inside a shelter symbol: the state readable without its colour.
export const OPEN_GLYPHS = { not_open: "未", preparing: "準", open: "開", full: "満", closed: "閉", unknown: "?" };
export const OPEN_GLYPH_INK = { not_open: INK, preparing: INK, open: "#ffffff", full: "#ffffff", closed: "#ffffff",
  unknown: INK };

// The occupancy bar under a shelter.
export const BAR = { empty: "#ffffff", filled: "#0072b2", full: "#d55e00", overflow: "#b00020", unknown: "#8a8a8a" };
export const UNUSABLE = "#b00020"; // the ✕ badge of a shelter that cannot be used

export const SEISMIC_COLOURS = { safe: "#009e73", some: "#e69f00", high: "#d55e00", unknown: "#9e9e9e" };

// District shading by the share of people confirmed: light (few) to dark green (all).
export const SHARE_STEPS = [
  { upTo: 0.2, colour: "#f7fcf5" }, { upTo: 0.4, colour: "#c7e9c0" }, { upTo: 0.6, colour: "#74c476" },
  { upTo: 0.8, colour: "#31a354" }, { upTo: 1.01, colour: "#006d2c" },
];

// DWAT deployment state: the marker's fill (its label says the state too).
export const DWAT_COLOURS = { active: "#6a3d9a", planned: "#ffffff", requested: "#fde9b8" };
export const DWAT_INK = { active: "#ffffff", planned: "#6a3d9a", requested: "#4a2a6b" };
export const DWAT_COLOUR = DWAT_COLOURS.active;

export const DISTRICT_LINE = "#37474f"; // district outlines (and the legend's squares)
export const NO_PEOPLE = "#ffffff"; // a district with nobody registered (dashed outline)

export const HAZARD_COLOURS = { water: "#1f5fa8", landslide: "#8c510a" };
