// 地区の地図: an offline map of the district drawn from the product's own geodata, stored on the
// device by the sync: 町丁目 outlines (districts' GeoJSON), the people as numbered points in
// walking order, shelters, the device's position and the chosen start. No tiles: it works with
// no network at all. The list stays the primary way; the map is an aid (an SVG with a title).
import { h } from './ui.js';
import { cosDeg } from './walk-order.js';

const NS = 'http://www.w3.org/2000/svg';
const W = 1000;  // viewBox width; the height follows the district's shape

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c);
  return el;
}

function rings(geometry) {
  if (!geometry) return [];
  if (geometry.type === 'Polygon') return geometry.coordinates;
  if (geometry.type === 'MultiPolygon') return geometry.coordinates.flat();
  return [];
}

const located = (p) => p && typeof p.lon === 'number' && typeof p.lat === 'number';

// districts: [district]; stops: [{ person, n }] in walking order; shelters: [shelter];
// here/start: { lon, lat } or null; onPick({ lon, lat }) when the user taps the map.
export function districtMap({ title, districts, stops, shelters, here, start, onPick, labels }) {
  const pts = [];
  for (const d of districts) for (const ring of rings(d.geometry)) for (const [lon, lat] of ring) pts.push({ lon, lat });
  for (const { person } of stops) if (located(person)) pts.push(person);
  if (!pts.length) return null;
  let [minLon, maxLon, minLat, maxLat] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const p of pts) {
    minLon = Math.min(minLon, p.lon); maxLon = Math.max(maxLon, p.lon);
    minLat = Math.min(minLat, p.lat); maxLat = Math.max(maxLat, p.lat);
  }
  const c = cosDeg((minLat + maxLat) / 2);
  const spanX = Math.max((maxLon - minLon) * c, 1e-5);
  const spanY = Math.max(maxLat - minLat, 1e-5);
  const k = (W * 0.9) / Math.max(spanX, spanY);
  const pad = W * 0.05;
  const H = Math.round(spanY * k + 2 * pad);
  const x = (lon) => pad + (lon - minLon) * c * k;
  const y = (lat) => pad + (maxLat - lat) * k;
  const inside = (p) => located(p) && p.lon >= minLon - spanX && p.lon <= maxLon + spanX && p.lat >= minLat - spanY && p.lat <= maxLat + spanY;
  const r = Math.max(10, Math.min(22, W / 45));

  const outlines = districts.flatMap((d) => rings(d.geometry).map((ring) => s('polygon', {
    class: 'outline', points: ring.map(([lon, lat]) => `${x(lon).toFixed(1)},${y(lat).toFixed(1)}`).join(' '),
  })));
  // One walk per 町丁目 (the list walks each district on its own).
  const walks = new Map();
  for (const { person } of stops) {
    if (!located(person)) continue;
    if (!walks.has(person.district_id)) walks.set(person.district_id, []);
    walks.get(person.district_id).push(`${x(person.lon).toFixed(1)},${y(person.lat).toFixed(1)}`);
  }
  const route = s('g', {}, [...walks.values()].filter((p) => p.length > 1).map((p) => s('polyline', { class: 'route', points: p.join(' ') })));
  const shelterMarks = shelters.filter(inside).map((sh) => s('g', { class: 'shelter' },
    s('title', {}, sh.name),
    s('rect', { x: x(sh.lon) - r, y: y(sh.lat) - r, width: 2 * r, height: 2 * r }),
    s('text', { x: x(sh.lon), y: y(sh.lat) + r * 0.4, 'text-anchor': 'middle' }, '避')));
  const people = stops.filter(({ person }) => located(person)).map(({ person, n }) => s('g', { class: 'stop', 'data-id': person.id },
    s('title', {}, `${n}. ${person.name || person.register_no}`),
    s('circle', { cx: x(person.lon), cy: y(person.lat), r }),
    s('text', { x: x(person.lon), y: y(person.lat) + r * 0.4, 'text-anchor': 'middle' }, String(n))));
  const mark = (p, cls, text) => (inside(p) ? s('g', { class: cls },
    s('title', {}, text), s('circle', { cx: x(p.lon), cy: y(p.lat), r: r * 0.7 })) : null);

  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'map-title', class: 'district-map', id: 'district-map' },
    s('title', { id: 'map-title' }, title),
    s('g', { class: 'outlines' }, outlines), route, s('g', {}, shelterMarks), s('g', {}, people),
    mark(start, 'start', labels.start), mark(here, 'here', labels.here));
  svg.addEventListener('click', (event) => {
    if (!onPick) return;
    const box = svg.getBoundingClientRect();
    const px = ((event.clientX - box.left) / box.width) * W;
    const py = ((event.clientY - box.top) / box.height) * H;
    onPick({ lon: minLon + (px - pad) / (c * k), lat: maxLat - (py - pad) / k });
  });
  return h('figure', { class: 'map-figure' }, svg, h('figcaption', {}, labels.caption));
}
