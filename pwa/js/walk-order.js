// 歩く順 (walking order): a route through a district from a start point, the same order as the
// printed 安否確認リスト. The server computes it with server/domain/walk_order.py; both are the
// same algorithm with the same arithmetic, step for step, so they agree to the last place:
// nearest neighbour from the start, then 2-opt with a bounded number of passes.
//
// Why no Math.cos: V8 and the C library may round a cosine differently in the last bit, which
// could flip a near-tie; the polynomial below uses only + and *, which IEEE 754 rounds the same
// everywhere (Math.sqrt too). Ties go to the lower `key` (登録者番号), compared by code unit.

export const MAX_PASSES = 10;
export const WINDOW = 80;  // a move reverses at most this many stops: bounded work for big districts
const EPS = 1e-12;

// cos(degrees) by its Taylor series; error under 1e-9 up to 50° (all of Japan).
export function cosDeg(deg) {
  const x = deg * 0.017453292519943295;
  const x2 = x * x;
  let term = 1;
  let sum = 1;
  for (let k = 1; k <= 8; k += 1) {
    term = -term * x2 / ((2 * k - 1) * (2 * k));
    sum += term;
  }
  return sum;
}

function byKey(a, b) {
  if (a.key < b.key) return -1;
  if (a.key > b.key) return 1;
  return 0;
}

const located = (p) => typeof p.lon === 'number' && typeof p.lat === 'number' && Number.isFinite(p.lon) && Number.isFinite(p.lat);

// points: [{ key, lon, lat }] (lon/lat may be missing); start: { lon, lat }.
// Returns the keys in walking order; points without a position follow, by key.
export function walkOrder(points, start) {
  const sorted = [...points].sort(byKey);
  const here = sorted.filter(located);
  const nowhere = sorted.filter((p) => !located(p));
  if (!here.length) return nowhere.map((p) => p.key);
  const lon0 = start.lon;
  const lat0 = start.lat;
  const c = cosDeg(lat0);
  const n = here.length;
  const xs = new Float64Array(n + 1);
  const ys = new Float64Array(n + 1);
  // index 0 is the start; 1..n the people (projected: equirectangular around the start)
  for (let i = 0; i < n; i += 1) {
    xs[i + 1] = (here[i].lon - lon0) * c;
    ys[i + 1] = here[i].lat - lat0;
  }
  const sq = (a, b) => {
    const dx = xs[a] - xs[b];
    const dy = ys[a] - ys[b];
    return dx * dx + dy * dy;
  };
  const dist = (a, b) => Math.sqrt(sq(a, b));
  // Nearest neighbour: from where we stand, always the closest not yet visited (ties: lower key).
  const path = new Int32Array(n + 1);
  const used = new Uint8Array(n + 1);
  let at = 0;
  for (let step = 1; step <= n; step += 1) {
    let best = -1;
    let bestD = Infinity;
    for (let j = 1; j <= n; j += 1) {
      if (used[j]) continue;
      const d = sq(at, j);
      if (d < bestD) { bestD = d; best = j; }
    }
    used[best] = 1;
    path[step] = best;
    at = best;
  }
  // 2-opt on the open path (the start stays first): reverse path[i+1..j] when that is shorter.
  // A move can only shorten the walk if one of its new edges (a–c, b–d) is shorter than the edge
  // it replaces (a–b, c–d): squared comparisons rule out the rest cheaply (2,000 people, fast).
  for (let pass = 0; pass < MAX_PASSES; pass += 1) {
    let improved = false;
    for (let i = 0; i < n - 1; i += 1) {
      const last = Math.min(n, i + WINDOW);
      for (let j = i + 2; j <= last; j += 1) {
        const a = path[i];
        const b = path[i + 1];
        const cc = path[j];
        const d = j < n ? path[j + 1] : -1;
        if (!(sq(a, cc) < sq(a, b)) && !(d >= 0 && sq(b, d) < sq(cc, d))) continue;
        let delta = dist(a, cc) - dist(a, b);
        if (d >= 0) delta += dist(b, d) - dist(cc, d);
        if (delta < -EPS) {
          for (let lo = i + 1, hi = j; lo < hi; lo += 1, hi -= 1) {
            const tmp = path[lo]; path[lo] = path[hi]; path[hi] = tmp;
          }
          improved = true;
        }
      }
    }
    if (!improved) break;
  }
  const out = [];
  for (let k = 1; k <= n; k += 1) out.push(here[path[k] - 1].key);
  return out.concat(nowhere.map((p) => p.key));
}

// Where a district's walk starts when the device knows no better: its centroid, else the
// mean of its people's positions. The printed list starts there too.
export function districtStart(district, points) {
  if (district && typeof district.centroid_lon === 'number' && typeof district.centroid_lat === 'number') {
    return { lon: district.centroid_lon, lat: district.centroid_lat };
  }
  const here = points.filter(located).sort(byKey);  // summed in key order, as the server does
  if (!here.length) return null;
  let lon = 0;
  let lat = 0;
  for (const p of here) { lon += p.lon; lat += p.lat; }
  return { lon: lon / here.length, lat: lat / here.length };
}

// 近い順: straight-line distance from a position (ties: lower key); no position last, by key.
export function nearestOrder(points, from) {
  const c = cosDeg(from.lat);
  const d = (p) => {
    const dx = (p.lon - from.lon) * c;
    const dy = p.lat - from.lat;
    return Math.sqrt(dx * dx + dy * dy);
  };
  const sorted = [...points].sort(byKey);
  const here = sorted.filter(located).map((p) => [d(p), p]);
  here.sort((x, y) => x[0] - y[0] || byKey(x[1], y[1]));
  return here.map(([, p]) => p.key).concat(sorted.filter((p) => !located(p)).map((p) => p.key));
}
