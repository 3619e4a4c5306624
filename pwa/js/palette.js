// One palette for the safety statuses, shared by the field app and the HQ map (served at
// /app/js/palette.js; the map's symbols can import it from there). Colours are the
// Okabe–Ito set, which stays apart for the common colour-vision deficiencies. Colour is never
// the only cue: every status also has a shape and its label is always written beside it.
//
//   colour  the status colour (map dots, borders, shapes)
//   tint    a light background that dark text (#1a1a1a) reads on at AA contrast
//   shape   circle | triangle | diamond | cross | square | ring — drawn the same everywhere
//   glyph   the shape as a character, for text (chips, buttons, lists)
export const STATUS_PALETTE = {
  unchecked: { colour: '#8a8a8a', tint: '#f2f2f2', shape: 'ring', glyph: '○' },
  safe_home: { colour: '#009e73', tint: '#e0f4ee', shape: 'circle', glyph: '●' },
  evacuated: { colour: '#0072b2', tint: '#e0eef7', shape: 'triangle', glyph: '▲' },
  needs_help: { colour: '#e69f00', tint: '#fdf1d9', shape: 'diamond', glyph: '◆' },
  injured: { colour: '#d55e00', tint: '#fbe7d9', shape: 'cross', glyph: '✚' },
  unreachable: { colour: '#cc79a7', tint: '#f8e9f1', shape: 'square', glyph: '■' },
};

// Colours as CSS custom properties (--status-<code>, --status-<code>-tint), so the style sheet
// takes them from here and nowhere else. Set through the CSSOM, which the page's CSP allows.
export function applyPalette(root = document.documentElement) {
  for (const [code, { colour, tint }] of Object.entries(STATUS_PALETTE)) {
    root.style.setProperty(`--status-${code}`, colour);
    root.style.setProperty(`--status-${code}-tint`, tint);
  }
}

// The status's shape before its label (hidden from screen readers: the label says it).
export function statusGlyph(code) {
  const span = document.createElement('span');
  span.className = 'glyph';
  span.setAttribute('aria-hidden', 'true');
  span.textContent = (STATUS_PALETTE[code] || STATUS_PALETTE.unchecked).glyph;
  return span;
}
