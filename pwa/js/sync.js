// Sync with the server (docs/sync.md): push the outbox, then pull the changes feed.
//
// Pull: pages of the feed are written to IndexedDB one transaction each, and the cursor is
// stored in the same transaction, so a page is never half-written and never skipped. A fresh
// snapshot (first sign-in, scope changed, stale cursor) marks every record it writes with a
// new generation; when it is complete, records of older generations are swept: they left
// this user's scope. Changes made here live only in the outbox until the server has them, so
// neither the pull nor the sweep can overwrite or lose them.
import { ENTITIES, openUserDb, request } from './db.js';
import { ApiError, AuthError, NetworkError, api, currentSession, isLocked, refreshMe } from './auth.js';
import * as outbox from './outbox.js';
import { emit, on } from './events.js';

const PAGE = 2000;             // the server's largest page: fewer round trips on a slow network
const TICK = 60 * 1000;            // background sync while the app is open
const BACKOFF_MIN = 2000;
const BACKOFF_MAX = 5 * 60 * 1000;
const MAX_RESETS = 3;              // per cycle: a server that keeps resetting is an error, not a loop

export let db = null;

// The user's database, once it is open. Screens and data functions read through `opened()`, never
// through `db` directly: `db` is null while nobody is signed in and for a moment while signing in
// again reopens it (open() closes the old connection first), and a screen drawn or redrawn in that
// moment — a route render, a status or data event — would read null (the flaky page error
// "Cannot read properties of null (reading 'all')" after a re-sign-in). `opened()` waits instead.
function deferred() {
  let resolve;
  const promise = new Promise((done) => { resolve = done; });
  return { promise, resolve };
}
let ready = deferred();
export function opened() { return ready.promise; }
export const status = {
  // signed_out | idle | syncing | offline | error | locked | no_deployment (a DWAT member whose
  // team has no active deployment: the server refuses them every record until it has one)
  state: 'signed_out',
  lastSyncAt: null, pending: 0, rejected: 0, conflicts: 0, lastError: '', received: 0, firstSync: false,
  modeSince: null,
  undeployed: false,    // the last answer was "no active deployment" (kept while retrying)
  clockSkewMinutes: 0,  // this device's clock minus the server's: a wrong clock gets records refused
};

let running = null;
let again = false;
let failures = 0;
let retryTimer = null;
let schedulerStarted = false;

// The status bar counts what waits in the outbox: keep it current as soon as the outbox changes.
on('data', (detail) => { if (detail && detail.outbox) refreshCounts(); });
// A held record (a safety check's undo window) may go now.
on('outbox-release', () => { if (db) syncNow('push'); });

function setStatus(patch) {
  Object.assign(status, patch);
  emit('status', status);
}

// A new database has nothing to sweep: its first snapshot cannot leave old records behind.
export async function readMeta() {
  return (await db.get('meta', 'sync')) || { cursor: '', scope_key: '', gen: 1, sweeping: false };
}

export async function open(session) {
  close();
  const idb = await openUserDb(session.user.id);
  db = idb;
  outbox.useDb(db, session.user.id);
  const meta = await readMeta();
  const mode = await db.get('meta', 'mode');
  status.lastSyncAt = meta.last_sync_at || null;
  status.modeSince = mode ? mode.since : null;
  status.firstSync = !meta.last_sync_at;
  status.state = 'idle';
  ready.resolve(idb);  // screens waiting for the database go on, with the status already true
  await refreshCounts();
  return db;
}

// Nobody is signed in on this device: the bar must not claim anything was synced.
export function markSignedOut() {
  setStatus({ state: 'signed_out', undeployed: false, lastSyncAt: null, pending: 0, rejected: 0, conflicts: 0, lastError: '', received: 0, firstSync: false });
}

// The server's refusal of a DWAT member without an active deployment (server/auth/guard.py).
export function isNoDeployment(err) {
  return err instanceof ApiError && err.status === 403 && /^no active deployment/.test(err.message);
}

export function close() {
  clearTimeout(retryTimer);
  if (db) db.close();
  db = null;
  ready = deferred();
  outbox.useDb(null, '');
}

export async function refreshCounts() {
  if (!db) return;
  const { pending, rejected } = await outbox.counts();
  const conflicts = await db.count('notices');
  setStatus({ pending, rejected, conflicts });
}

// Start a sync, or join the one running (and run once more after it: something new may be waiting).
export function syncNow(reason = 'manual') {
  if (running) {
    again = true;
    return running;
  }
  running = cycle(reason).finally(() => {
    running = null;
    if (again) {
      again = false;
      syncNow('again');
    }
  });
  return running;
}

async function cycle(reason) {
  const session = currentSession();
  if (!db || !session) return;
  if (isLocked(session)) {
    setStatus({ state: 'locked' });
    emit('session', { locked: session.locked || 'expired' });
    return;
  }
  if (!navigator.onLine) {
    setStatus({ state: 'offline' });
    await refreshCounts();
    return;
  }
  const wasUndeployed = status.undeployed;
  setStatus({ state: 'syncing' });
  try {
    await outbox.flush();
    if (reason !== 'push') {
      const mode = refreshMode();  // small, and independent of the feed: fetched alongside it
      await pull();
      await mode;
      await outbox.flush();  // anything recorded while we were pulling
      const meta = await readMeta();
      meta.last_sync_at = new Date().toISOString();
      await db.put('meta', meta, 'sync');
      setStatus({ lastSyncAt: meta.last_sync_at, firstSync: false });
      if (wasUndeployed) await refreshMe().catch(() => {});  // the deployment began: its shelter, its scope
    }
    failures = 0;
    setStatus({ state: 'idle', lastError: '', undeployed: false });
  } catch (err) {
    handleFailure(err);
  }
  await refreshCounts();
}

function handleFailure(err) {
  if (err instanceof AuthError) {
    setStatus({ state: 'locked', lastError: err.message });
    return;
  }
  if (err instanceof NetworkError) {
    setStatus({ state: 'offline', lastError: err.message });
  } else if (isNoDeployment(err)) {
    setStatus({ state: 'no_deployment', undeployed: true, lastError: '' });  // said in words on the screens, not as a 403
  } else {
    setStatus({ state: 'error', lastError: err instanceof ApiError ? `${err.status}: ${err.message}` : String(err.message || err) });
  }
  // Retry with growing pauses (and some jitter, so a whole city's tablets do not return at once).
  failures += 1;
  const pause = Math.min(BACKOFF_MAX, BACKOFF_MIN * 2 ** (failures - 1)) * (0.75 + Math.random() * 0.5);
  clearTimeout(retryTimer);
  retryTimer = setTimeout(() => syncNow('retry'), pause);
}

async function pull() {
  let meta = await readMeta();
  let resets = 0;
  const restart = async (scopeKey) => {
    if (++resets > MAX_RESETS) throw new Error('the server keeps asking for a fresh start');
    meta = { ...meta, cursor: '', scope_key: scopeKey || '', gen: (meta.gen || 1) + 1, sweeping: true };
    await db.put('meta', meta, 'sync');
    await refreshMe().catch(() => {});  // the scope changed: role, mode and scope for the screens
  };
  for (;;) {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (meta.cursor) params.set('cursor', meta.cursor);
    if (meta.scope_key) params.set('scope_key', meta.scope_key);
    let page;
    try {
      page = await api(`/api/sync/changes?${params}`, { timeout: 120000 });
    } catch (err) {
      if (err instanceof ApiError && err.status === 410) {  // stale cursor
        await restart('');
        continue;
      }
      throw err;
    }
    if (page.reset) {
      await restart(page.scope_key);
      continue;
    }
    meta = await writePage(meta, page);
    status.received += page.items.length;
    if (page.server_time) status.clockSkewMinutes = Math.round((Date.now() - Date.parse(page.server_time)) / 60000);
    emit('data', { pulled: page.items.length });
    if (!page.more) return;
  }
}

async function writePage(meta, page) {
  const next = { ...meta, cursor: page.cursor, scope_key: page.scope_key || meta.scope_key };
  const finishing = !page.more && meta.sweeping;
  if (finishing) next.sweeping = false;
  await db.tx([...ENTITIES, 'meta'], 'readwrite', async (tx) => {
    for (const item of page.items) {
      if (!ENTITIES.includes(item.entity)) continue;  // a newer server's entity: not used here
      const store = tx.objectStore(item.entity);
      if (item.op === 'upsert') {
        store.put({ ...item.data, _g: meta.gen });
      } else {  // delete (tombstone) or drop (left this user's scope)
        store.delete(item.id);
        if (item.entity === 'people') dropPersonRecords(tx, item.id);
      }
    }
    if (finishing) await sweep(tx, meta.gen);
    await request(tx.objectStore('meta').put(next, 'sync'));
  });
  return next;
}

// A person who left the scope takes their plan and safety checks along.
function dropPersonRecords(tx, personId) {
  for (const name of ['plans', 'safety-checks']) {
    const store = tx.objectStore(name);
    store.index('person_id').getAllKeys(personId).onsuccess = (event) => {
      for (const key of event.target.result) store.delete(key);
    };
  }
}

// Reading each store whole and deleting the stale keys is many times faster than a cursor walk.
async function sweep(tx, gen) {
  await Promise.all(ENTITIES.map(async (name) => {
    const store = tx.objectStore(name);
    for (const record of await request(store.getAll())) {
      if (record._g !== gen) store.delete(record.id);
    }
  }));
}

async function refreshMode() {
  // When disaster mode began: "not yet checked" means no safety check since then. Kept in its own
  // meta entry, so writing it never races with the feed's cursor.
  try {
    const mode = await api('/api/mode');
    await db.put('meta', { mode: mode.mode, since: mode.since }, 'mode');
    setStatus({ modeSince: mode.since });
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
  }
}

// Flush on open, when the network returns, when the app comes back to the foreground, and on a timer.
export function startScheduler() {
  if (schedulerStarted) return;
  schedulerStarted = true;
  window.addEventListener('online', () => syncNow('online'));
  window.addEventListener('offline', () => setStatus({ state: 'offline' }));
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') syncNow('visible');
  });
  setInterval(() => {
    if (document.visibilityState === 'visible' && db) syncNow('timer');
  }, TICK);
}

export async function requestPersistentStorage() {
  if (!navigator.storage || !navigator.storage.persist) return null;
  if (await navigator.storage.persisted()) return true;
  return navigator.storage.persist();
}
