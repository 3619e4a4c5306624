// わたしの担当: the people of this user's scope by district, with their latest safety status.
// Search by kana (ひらがな or カタカナ), name, register number or address; filters for
// "not yet checked" and "needs help". A safety check is two taps: 安否確認, then the outcome.
import { fill, h, toast } from './ui.js';
import { t, label, fmtTime, age } from './i18n.js';
import { on } from './events.js';
import { status } from './sync.js';
import { currentSession } from './auth.js';
import * as data from './data.js';
import { canRecord, openSafetySheet } from './safety.js';
import { noDeploymentNotice } from './sync-status.js';
import { statusGlyph } from './palette.js';
import { walkOrder, nearestOrder, districtStart } from './walk-order.js';
import { districtMap } from './district-map.js';

// What the list looked like, so that coming back from a person finds the same search, filter and
// row (at the same height on the screen). Kept for the tab's life, a reload included.
const KEY = 'tsunagu.people';
const state = { query: '', filter: 'all', row: null, rowTop: 0, start: null, ...readState() };

// 歩く順 / あいうえお順 / 近い順: the user's choice, kept on this device across sessions.
const SORT_KEY = 'tsunagu.people.sort';
const SORTS = ['walk', 'kana', 'near'];
function readSort() {
  try { return localStorage.getItem(SORT_KEY); } catch { return null; }
}
function saveSort(sort) {
  try { localStorage.setItem(SORT_KEY, sort); } catch { /* private mode: this visit only */ }
}

// The device's position, when the user allowed it (asked only on their tap, or already granted).
let here = null;
function locate() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) { resolve(null); return; }
    navigator.geolocation.getCurrentPosition(
      (pos) => { here = { lon: pos.coords.longitude, lat: pos.coords.latitude }; resolve(here); },
      () => resolve(null), { enableHighAccuracy: false, timeout: 10000, maximumAge: 60000 });
  });
}
async function positionGranted() {
  try { return navigator.permissions && (await navigator.permissions.query({ name: 'geolocation' })).state === 'granted'; } catch { return false; }
}

// The walk order's key (ties go to the lower key, as on the printed list). Two municipalities may
// share a 登録者番号 (each numbers its own register), so the code follows it after a NUL: unique on
// a device of two cities, and the order of distinct numbers is unchanged.
const keyOf = (p) => (p.register_no ? `${p.register_no}\u0000${p.municipality_code || ''}` : p.id);
const located = (p) => typeof p.lon === 'number' && typeof p.lat === 'number';

// One district's people in the chosen order. Walking starts from the start the user chose (a
// point on the map, a person's home), else from where the device is, else from the district's
// centre — the printed 安否確認リスト's start, so then both lists agree.
function orderMembers(members, district, sort) {
  if (sort === 'kana') {
    return [...members].sort((a, b) => (a.name_kana || a.register_no || '').localeCompare(b.name_kana || b.register_no || '', 'ja'));
  }
  const points = members.map((p) => ({ key: keyOf(p), lon: p.lon, lat: p.lat }));
  const byKey = new Map(members.map((p) => [keyOf(p), p]));
  let keys;
  if (sort === 'near' && here) keys = nearestOrder(points, here);
  else {
    const chosen = state.start && state.start.kind === 'person' ? members.find((p) => p.id === state.start.id && located(p)) : null;
    const kind = state.start ? state.start.kind : '';
    const start = chosen || (kind === 'point' ? state.start : null) || (kind === 'centre' ? null : here) || districtStart(district, points);
    keys = start ? walkOrder(points, start) : points.map((p) => p.key).sort();
  }
  return keys.map((k) => byKey.get(k));
}

function readState() {
  try { return JSON.parse(sessionStorage.getItem(KEY)) || {}; } catch { return {}; }
}

function saveState() {
  try { sessionStorage.setItem(KEY, JSON.stringify(state)); } catch { /* private mode: memory only */ }
}

const rowIn = (list, id) => list.querySelector(`li.person[data-id="${CSS.escape(id)}"]`);

// Scroll so that row `id` is `top` px from the top of the screen, and keep it there while the
// sections around it are laid out for real (content-visibility: their sizes were estimates),
// for a few frames at most. False if the row is not shown.
async function placeRow(list, id, top) {
  if (!rowIn(list, id)) return false;
  for (let i = 0; i < 6; i += 1) {
    const row = rowIn(list, id);
    if (!row) break;
    const off = row.getBoundingClientRect().top - top;
    if (Math.abs(off) < 1) break;
    window.scrollTo(0, Math.max(0, window.scrollY + off));
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done())));
  }
  return true;
}

// The row on screen nearest the top (what the user is looking at), with its height on screen.
function anchorRow(list) {
  const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest('li.person');
  const row = focused || [...list.querySelectorAll('li.person')].find((r) => r.getBoundingClientRect().bottom > 0);
  return row ? { id: row.dataset.id, top: row.getBoundingClientRect().top } : null;
}

function isUnchecked(check, since) {
  if (!check) return true;
  return since ? Date.parse(check.observed_at) < Date.parse(since) : false;
}

function matches(person, key, raw) {
  if (!key) return true;
  return data.kanaKey(person.name_kana).includes(key) || data.kanaKey(person.name).includes(key)
    || (person.register_no || '').startsWith(raw) || (person.address || '').includes(raw);
}

// Before the first sync has stored anything: what is actually happening.
function firstSyncWords() {
  if (status.undeployed) return t('people.first_sync_no_deployment');
  if (status.state === 'syncing') return t('people.first_sync', { n: status.received });
  if (status.state === 'offline') return t('people.first_sync_offline');
  if (status.state === 'error') return t('people.first_sync_error');
  return t('people.first_sync_waiting');
}

function statusChip(check) {
  if (!check) return h('span', { class: 'chip s-none' }, statusGlyph('unchecked'), t('people.unchecked'));
  const flag = check._rejected ? t('sync.flag_rejected') : check._pending ? t('sync.flag_pending') : '';
  return h('span', { class: `chip s-${check.outcome}` },
    statusGlyph(check.outcome), label('SafetyOutcome', check.outcome), h('span', { class: 'when' }, ` ${fmtTime(check.observed_at)}`),
    flag ? h('span', { class: 'flag' }, ` ${flag}`) : null);
}

function personRow(person, check, recordable, n, district) {
  const name = person.name || person.register_no;
  const facts = [
    person.birth_date ? t('people.age', { n: age(person.birth_date) }) : null,
    person.sex ? label('Sex', person.sex) : null,
    ...(person.reasons || []).slice(0, 2).map((r) => label('Reason', r)),
  ].filter(Boolean).join('・');
  return h('li', { class: 'person', dataset: { id: person.id } },
    h('a', { class: 'who', href: `#/person/${person.id}` },
      n ? h('span', { class: 'seq' }, `${n}.`) : null,
      h('span', { class: 'name' }, name),
      person.name_kana ? h('span', { class: 'kana' }, person.name_kana) : null,
      facts ? h('span', { class: 'facts' }, facts) : null,
      // Every row says where: the street address, or (hidden for this role) the 町丁目 at least.
      h('span', { class: 'address' }, person.address || (district ? district.name : t('people.no_address')))),
    statusChip(check),
    recordable ? h('button', { type: 'button', class: 'button check', dataset: { id: person.id } },
      t('people.record'), h('span', { class: 'sr' }, `: ${name}`)) : null);
}

export async function render(view) {
  const role = currentSession().me.role;
  const recordable = canRecord(role);
  const heading = h('h1', {}, t('people.title'));
  const summary = h('p', { class: 'summary', id: 'people-summary' });
  const notice = h('div', { id: 'people-notice' });
  const search = h('input', {
    type: 'search', id: 'people-search', value: state.query, autocomplete: 'off', enterkeyhint: 'search',
  });
  const filters = h('div', { class: 'filters', role: 'group', 'aria-label': t('people.filter') });
  const list = h('div', { class: 'people-list' });
  const sorts = h('div', { class: 'filters sorts', role: 'group', 'aria-label': t('people.sort') });
  const startBox = h('div', { class: 'start-box' });
  const mapBox = h('div', { class: 'map-box' });
  const mapDetails = h('details', { class: 'map', id: 'map-details' }, h('summary', {}, t('map.title')), mapBox);
  let sort = SORTS.includes(readSort()) ? readSort() : (role === 'district_supporter' ? 'walk' : 'kana');
  // Opening a person from the QR code on their paper plan: big, at the top, for gloved or shaky hands.
  const scanLink = h('a', { class: 'button primary big scan-link', href: '#/scan', id: 'open-scan' },
    h('img', { src: '/app/icons/qr.svg', alt: '', width: 28, height: 28 }), t('people.scan'));
  fill(view, h('div', { class: 'title-row' }, heading, scanLink), notice, summary,
    h('div', { class: 'toolbar' },
      h('div', { class: 'field search' }, h('label', { for: 'people-search' }, t('people.search')), search), filters),
    h('div', { class: 'toolbar order' }, sorts, startBox), mapDetails,
    list);

  // One placement at a time. A sync finishing while the list is still being scrolled to the row the
  // user came back to would otherwise take whichever row is passing the top of the screen as its
  // anchor, and the two placements would pull the scroll in turns (seen as a row coming back a
  // screen away). A redraw waits for the placement before it, and so anchors on the row placed.
  let placed = Promise.resolve();
  let queued = 0;
  const placing = (job) => {
    queued += 1;
    delete list.dataset.placed;
    const run = async () => {
      try {
        await job();
      } finally {
        queued -= 1;
        if (!queued) list.dataset.placed = 'true';  // for scripts and tests: the list is where it will stay
      }
    };
    placed = placed.then(run, run);
    return placed;
  };
  let snapshot = null;
  let orders = null;  // { sig, byDistrict: Map(districtId → ordered people) }: recomputed only when something changed
  let shelters = [];
  let drawnFor = null;  // the search and filter the list was last drawn for
  let noticeShown = null;
  const drawNotice = () => {
    const undeployed = status.undeployed;
    if (undeployed === noticeShown) return;
    noticeShown = undeployed;
    fill(notice, undeployed ? noDeploymentNotice() : null);
  };
  const draw = () => {
    if (!snapshot) return;
    drawnFor = `${state.query}|${state.filter}`;
    const { people, districts, latest } = snapshot;
    const since = status.modeSince;
    const key = data.kanaKey(state.query);
    const counts = { all: people.length, unchecked: 0, help: 0 };
    for (const p of people) {
      const c = latest.get(p.id);
      if (isUnchecked(c, since)) counts.unchecked += 1;
      if (c && data.NEEDS_HELP.has(c.outcome)) counts.help += 1;
    }
    // The buttons stay and are updated in place: a redraw in the middle of a tap (a search's
    // pause ending, a sync arriving) must not swap the button under the finger and lose the tap.
    for (const f of ['all', 'unchecked', 'help']) {
      let button = filters.querySelector(`button[data-filter="${f}"]`);
      if (!button) {
        button = h('button', { type: 'button', class: 'filter', dataset: { filter: f } });
        filters.append(button);
      }
      button.setAttribute('aria-pressed', String(state.filter === f));
      const label = `${t(`people.filter_${f}`)} (${counts[f]})`;
      if (button.textContent !== label) button.textContent = label;
    }
    const shown = people.filter((p) => {
      const c = latest.get(p.id);
      if (state.filter === 'unchecked' && !isUnchecked(c, since)) return false;
      if (state.filter === 'help' && !(c && data.NEEDS_HELP.has(c.outcome))) return false;
      return matches(p, key, state.query.trim());
    });
    summary.textContent = !people.length && !status.lastSyncAt ? firstSyncWords()
      : t('people.summary', { shown: shown.length, all: people.length });
    drawNotice();
    const effective = sort === 'near' && !here ? 'walk' : sort;
    const { byDistrict, number } = orderAll(effective);
    drawSorts(effective);
    const visible = new Set(shown.map((p) => p.id));
    const fragment = document.createDocumentFragment();
    for (const [districtId, all] of byDistrict) {
      const members = all.filter((p) => visible.has(p.id));
      if (!members.length) continue;
      const district = districts.get(districtId);
      const headingId = `d-${districtId || 'none'}`;
      fragment.append(h('section', { class: 'district', 'aria-labelledby': headingId },
        h('h2', { id: headingId }, district ? district.name : t('people.no_district'), h('span', { class: 'count' }, ` ${members.length}`)),
        h('ul', { class: 'people' }, members.map((p) => personRow(p, latest.get(p.id), recordable, effective === 'kana' ? null : number.get(p.id), district)))));
    }
    if (mapDetails.open) drawMap(byDistrict, number);
    if (!shown.length) fragment.append(h('p', { class: 'empty' }, people.length ? t('people.none_match') : t('people.none')));
    fill(list, fragment);
    // For scripts and tests: how many rows, for which search, and after which completed sync this was drawn.
    Object.assign(list.dataset, { count: String(shown.length), query: state.query, synced: status.lastSyncAt || '', sort: effective });
  };

  // Every district's people in order (all of them: a number stays the same under any filter).
  function orderAll(effective) {
    const { people, districts } = snapshot;
    const sig = [effective, JSON.stringify(state.start), here ? `${here.lon},${here.lat}` : ''].join('|');
    if (orders && orders.sig === sig && orders.people === people) return orders;
    const groups = new Map();
    for (const p of people) {
      if (!groups.has(p.district_id)) groups.set(p.district_id, []);
      groups.get(p.district_id).push(p);
    }
    const code = (id) => (districts.get(id) || {}).code || '~';
    const byDistrict = new Map([...groups.entries()].sort(([a], [b]) => code(a).localeCompare(code(b), 'ja', { numeric: true }))
      .map(([id, members]) => [id, orderMembers(members, districts.get(id), effective)]));
    const number = new Map();
    let n = 0;
    for (const members of byDistrict.values()) for (const p of members) number.set(p.id, (n += 1));
    orders = { sig, people, byDistrict, number };
    return orders;
  }

  function drawSorts(effective) {
    fill(sorts, SORTS.map((key) => h('button', {
      type: 'button', class: 'filter', 'aria-pressed': String(effective === key), dataset: { sort: key },
      disabled: key === 'near' && !here,
    }, t(`people.sort_${key}`))),
    here ? null : h('button', { type: 'button', class: 'button secondary', id: 'use-position' }, t('people.use_position')));
    if (effective !== 'walk') { fill(startBox); return; }
    const options = [['centre', t('people.start_centre')]];
    if (here) options.push(['here', t('people.start_here')]);
    if (state.start && state.start.kind === 'point') options.push(['point', t('people.start_point')]);
    const people = [...orders.byDistrict.values()].flat().filter(located);
    for (const p of people) options.push([`person:${p.id}`, t('people.start_person', { name: p.name || p.register_no })]);
    const current = !state.start ? (here ? 'here' : 'centre') : state.start.kind === 'person' ? `person:${state.start.id}` : state.start.kind;
    const select = h('select', { id: 'walk-start' }, options.map(([value, text]) => h('option', { value, selected: value === current }, text)));
    fill(startBox, h('div', { class: 'field' }, h('label', { for: 'walk-start' }, t('people.start')), select));
  }

  function drawMap(byDistrict, number) {
    const { districts } = snapshot;
    const shownDistricts = [...byDistrict.keys()].map((id) => districts.get(id)).filter(Boolean);
    const stops = [...byDistrict.values()].flat().map((person) => ({ person, n: number.get(person.id) }));
    const start = state.start && state.start.kind === 'point' ? state.start
      : state.start && state.start.kind === 'person' ? (stops.find((x) => x.person.id === state.start.id) || {}).person : null;
    const map = districtMap({
      title: t('map.svg_title'), districts: shownDistricts, stops, shelters, here, start,
      labels: { here: t('map.here'), start: t('map.start'), caption: t('map.caption') },
      onPick: (point) => { setStart({ kind: 'point', lon: point.lon, lat: point.lat }); },
    });
    fill(mapBox, map || h('p', {}, t('map.none')));
  }

  function setStart(start) {
    Object.assign(state, { start, row: null });
    saveState();
    if (sort !== 'walk') { sort = 'walk'; saveSort(sort); }
    draw();
  }

  const load = async () => {
    [snapshot, shelters] = await Promise.all([data.peopleList(), data.shelters()]);
    draw();
  };
  sorts.addEventListener('click', async (event) => {
    if (event.target.closest('#use-position')) {
      if (!await locate()) { toast(t('people.position_denied')); return; }
      draw();
      const near = sorts.querySelector('[data-sort="near"]');
      if (near) near.focus();
      return;
    }
    const button = event.target.closest('button[data-sort]');
    if (!button || button.disabled) return;
    sort = button.dataset.sort;
    saveSort(sort);
    Object.assign(state, { row: null });
    draw();
    sorts.querySelector(`[data-sort="${sort}"]`).focus();
  });
  startBox.addEventListener('change', (event) => {
    const value = event.target.value;
    if (value === 'point') return;
    setStart(value === 'centre' || value === 'here' ? (value === 'centre' && here ? { kind: 'centre' } : null)
      : { kind: 'person', id: value.slice('person:'.length) });
    const again = startBox.querySelector('select');
    if (again) again.focus();
  });
  mapDetails.addEventListener('toggle', () => { if (mapDetails.open && snapshot) draw(); });
  // Already allowed (a previous visit): the walk starts from where the device is.
  positionGranted().then((granted) => (granted && !here ? locate() : null)).then((found) => { if (found && snapshot) draw(); });

  let typing = null;
  search.addEventListener('input', () => {
    // Kept at once (opening a person right after typing keeps it); drawn after a short pause.
    Object.assign(state, { query: search.value, row: null });
    saveState();
    clearTimeout(typing);
    typing = setTimeout(() => { if (drawnFor !== `${state.query}|${state.filter}`) draw(); }, 120);
  });
  filters.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-filter]');
    if (!button) return;
    Object.assign(state, { filter: button.dataset.filter, row: null });
    saveState();
    draw();
    filters.querySelector(`[data-filter="${state.filter}"]`).focus();
  });
  list.addEventListener('click', (event) => {
    const row = event.target.closest('li.person');
    if (row) {  // the row the user worked on: where the list comes back to
      Object.assign(state, { row: row.dataset.id, rowTop: Math.round(row.getBoundingClientRect().top) });
      saveState();
    }
    const button = event.target.closest('button.check');
    if (!button) return;
    const person = snapshot.people.find((p) => p.id === button.dataset.id);
    if (person) openSafetySheet(person, { opener: button });
  });

  // New data: redraw at most every 300 ms, keeping focus on the same row's button; when a sync
  // has just finished, at once (that is when the list becomes complete and usable).
  let pending = null;
  const redraw = () => {
    clearTimeout(pending);
    pending = null;
    return placing(async () => {
      const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest('li.person');
      const anchor = window.scrollY > 0 ? anchorRow(list) : null;  // redrawn, the list stays where the user is
      await load();
      if (anchor) await placeRow(list, anchor.id, anchor.top);
      if (focused) {
        const again = list.querySelector(`li.person[data-id="${focused.dataset.id}"] button.check`);
        if (again) again.focus();
      }
    });
  };
  let drawnSync = status.lastSyncAt;
  let skipped = false;
  const offs = [
    on('data', (detail) => {
      // Pages arriving during a sync are drawn once it completes (below), not page by page.
      if (detail && detail.pulled && status.state === 'syncing') {
        skipped = true;
        if (!snapshot || !snapshot.people.length) summary.textContent = firstSyncWords();
        return;
      }
      if (!pending) pending = setTimeout(redraw, 300);
    }),
    on('status', () => {
      // A sync completed, or stopped part-way (offline, error) after pages arrived: draw what we have.
      drawNotice();
      if (!snapshot || !snapshot.people.length) draw();  // the first sync's words follow its state
      if (status.lastSyncAt !== drawnSync || (skipped && status.state !== 'syncing')) {
        drawnSync = status.lastSyncAt;
        skipped = false;
        redraw();
      }
    }),
  ];
  try {
    await load();
  } catch (err) {
    offs.forEach((off) => off());  // a screen that failed to draw must not go on listening
    throw err;
  }
  await placing(async () => {
    if (state.row && await placeRow(list, state.row, state.rowTop)) {
      const link = rowIn(list, state.row).querySelector('a.who');
      if (link) link.focus({ preventScroll: true });
    } else {
      window.scrollTo(0, 0);
    }
  });
  return () => { offs.forEach((off) => off()); clearTimeout(pending); };
}
