// つなぐ 現場アプリ: start-up, the router, the navigation, the service worker's messages.
import { clear, fill, h, toast } from './ui.js';
import { init as initI18n, t, setLang, lang } from './i18n.js';
import { on } from './events.js';
import { currentSession, isLocked, loadSession, refreshMe } from './auth.js';
import * as sync from './sync.js';
import { renderBar } from './sync-status.js';
import { status } from './sync.js';
import { applyPalette } from './palette.js';
import * as people from './people.js';
import * as person from './person.js';
import * as planEdit from './plan-edit.js';
import * as safety from './safety.js';
import * as shelterReport from './shelter-report.js';
import * as dwatReport from './dwat-report.js';
import * as dwatTriage from './dwat-triage.js';
import * as dwatRequest from './dwat-request.js';
import * as syncStatus from './sync-status.js';
import * as signin from './signin.js';
import * as scan from './scan.js';

// path pattern → screen; the first match wins
const ROUTES = [
  [/^\/people$/, people],
  [/^\/person\/([\w-]+)\/plan$/, planEdit, ['id']],
  [/^\/person\/([\w-]+)$/, person, ['id']],
  [/^\/shelter-report$/, shelterReport],
  [/^\/dwat-report$/, dwatReport],
  [/^\/dwat-triage$/, dwatTriage],
  [/^\/dwat-request$/, dwatRequest],
  [/^\/sync$/, syncStatus],
  [/^\/scan$/, scan],
];

const view = () => document.getElementById('view');
let leave = null;
let rendering = Promise.resolve();

function navItems(role) {
  return [
    ['#/people', 'nav.people', true],
    ['#/shelter-report', 'nav.shelter', shelterReport.canReport(role)],
    ['#/dwat-triage', 'nav.triage', dwatTriage.canTriage(role)],
    ['#/dwat-report', 'nav.dwat', dwatReport.canReportDwat(role)],
    ['#/dwat-request', 'nav.dwat_request', dwatRequest.canRequest(role)],
    ['#/sync', 'nav.sync', true],
  ].filter(([, , shown]) => shown);
}

function drawNav() {
  const nav = document.getElementById('nav');
  const session = currentSession();
  clear(nav);
  if (!session || isLocked(session)) return;
  const here = location.hash.split('?')[0];
  nav.append(h('ul', {}, navItems(session.me.role).map(([href, key]) => h('li', {},
    h('a', { href, 'aria-current': here.startsWith(href) ? 'page' : null }, t(key))))));
}

async function route() {
  if (leave) { leave(); leave = null; }
  const session = currentSession();
  const [path, search] = (location.hash.slice(1) || '/people').split('?');
  const query = new URLSearchParams(search || '');
  drawNav();
  const target = view();
  target.setAttribute('aria-busy', 'true');
  if (!session || isLocked(session)) {
    leave = await signin.render(target, {}, query, { onSignedIn: afterSignIn });
  } else {
    const match = ROUTES.map(([re, screen, names]) => [path.match(re), screen, names || []]).find(([m]) => m);
    if (!match) {
      location.replace('#/people');
      return;
    }
    const [m, screen, names] = match;
    // Only on an open database: signing in again reopens it, and a route (a lock, a language
    // switch, a hash change) may come while it opens.
    await sync.opened();
    const params = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1])]));
    // Every screen opens at its top (the people list puts itself back where it was).
    if (screen !== people) window.scrollTo(0, 0);
    leave = (await screen.render(target, params, query, { onSignedIn: afterSignIn })) || null;
    if (screen !== people) window.scrollTo(0, 0);
    if (screen === person && query.get('fix')) openFix(params.id, query.get('fix'));
  }
  target.setAttribute('aria-busy', 'false');
  document.title = `${(target.querySelector('h1') || {}).textContent || ''} — ${t('app.name')}`;
}

// A rejected safety check is corrected in the safety sheet, opened over the person's page.
async function openFix(personId, mutationId) {
  const [{ find }, data] = await Promise.all([import('./outbox.js'), import('./data.js')]);
  const [entry, who] = [await find(mutationId), await data.person(personId)];
  if (entry && who) safety.openSafetySheet(who, { fix: entry });
}

function go() {
  // Screens render one after another, so a quick double navigation cannot interleave them.
  rendering = rendering.then(route).catch((err) => {
    console.error(err);
    clear(view()).append(h('h1', {}, t('error.title')), h('p', {}, String(err.message || err)));
  });
  return rendering;
}

async function afterSignIn() {
  const session = currentSession();
  await sync.open(session);
  sync.startScheduler();
  sync.requestPersistentStorage();
  if (!location.hash || location.hash.startsWith('#/sync')) location.hash = '#/people';  // its hashchange draws it
  else await go();
  sync.syncNow('sign-in');
}

// 「オフラインで使う準備ができました」 only when it is true: the service worker controls the page
// (the shell opens offline) AND a full sync has stored this user's data. Said once, when it
// becomes true during this visit; a device that was ready when opened is marked quietly.
let offlineReady = false;
function checkOfflineReady({ announce = true } = {}) {
  if (offlineReady) return;
  const controlled = 'serviceWorker' in navigator && !!navigator.serviceWorker.controller;
  if (!controlled || !currentSession() || isLocked(currentSession()) || !status.lastSyncAt) return;
  offlineReady = true;
  document.documentElement.dataset.offlineReady = 'true';
  // Never over a confirmation that offers undo: that one matters more.
  if (announce && document.getElementById('toast').hidden) toast(t('sw.ready'));
}

function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  let reloading = false;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (reloading) location.reload();
    else checkOfflineReady();
  });
  navigator.serviceWorker.addEventListener('message', (event) => {
    if (event.data && event.data.type === 'flush') sync.syncNow('background-sync');
    if (event.data && event.data.type === 'version') {
      document.documentElement.dataset.version = event.data.version;
      const shown = document.getElementById('app-version');
      if (shown) shown.textContent = event.data.version;
    }
  });
  const offerUpdate = (worker) => {
    const banner = document.getElementById('banner');
    fill(banner, h('p', {}, t('sw.update'), ' ',
      h('button', { type: 'button', class: 'button primary', id: 'update-now', onclick: () => {
        reloading = true;
        worker.postMessage({ type: 'skip-waiting' });
      } }, t('sw.update_now'))));
    banner.hidden = false;
  };
  navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).then((reg) => {
    if (reg.waiting && navigator.serviceWorker.controller) offerUpdate(reg.waiting);
    reg.addEventListener('updatefound', () => {
      const worker = reg.installing;
      worker.addEventListener('statechange', () => {
        if (worker.state === 'installed' && navigator.serviceWorker.controller) offerUpdate(worker);
        if (worker.state === 'activated' && !reloading) checkOfflineReady();
      });
    });
    if (reg.active) reg.active.postMessage({ type: 'version?' });
  }).catch((err) => console.warn('service worker not registered', err));
}

// The header gives its room back while the user reads down a list, and returns as soon as they
// scroll up (or move focus into it): with large text a fixed header would cover a third of the
// screen. (On short screens it is not fixed at all: app.css.)
function headerMakesRoom() {
  const header = document.querySelector('header.top');
  let last = window.scrollY;
  window.addEventListener('scroll', () => {
    const y = window.scrollY;
    if (y > last + 8 && y > header.offsetHeight) header.classList.add('away');
    else if (y < last - 8 || y <= header.offsetHeight) header.classList.remove('away');
    last = y;
  }, { passive: true });
  header.addEventListener('focusin', () => header.classList.remove('away'));
}

async function boot() {
  headerMakesRoom();
  applyPalette();
  // The app places the page itself (top of a new screen, the same row of the list on return).
  if ('scrollRestoration' in history) history.scrollRestoration = 'manual';
  await initI18n();
  document.getElementById('lang').addEventListener('click', () => setLang(lang() === 'ja' ? 'en' : 'ja'));
  renderBar(document.getElementById('sync-bar'));
  registerServiceWorker();
  on('lang', () => go());
  on('session', (detail) => {
    // Signing in is finished by afterSignIn (it opens the user's database first).
    if (detail.signedIn) return;
    if (detail.signedOut) {
      offlineReady = false;
      delete document.documentElement.dataset.offlineReady;
      sync.markSignedOut();
      location.hash = '#/people';
    }
    go();
  });
  on('status', () => checkOfflineReady());
  window.addEventListener('hashchange', go);
  const session = await loadSession();
  if (!session) sync.markSignedOut();
  if (session) {
    await sync.open(session);
    checkOfflineReady({ announce: false });
    sync.startScheduler();
    if (!isLocked(session)) {
      refreshMe().then(() => drawNav()).catch(() => {});
      sync.syncNow('open');
    }
  }
  await go();
  document.documentElement.dataset.ready = 'true';
}

boot();
