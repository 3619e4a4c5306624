// The outbox: every change made on this device, kept in IndexedDB until the server has it.
//
// An entry holds the mutation exactly as it is sent (docs/sync.md) with a client-made id, so a
// retry after a lost answer is recognised by the server and applied once. Entries leave the
// outbox only when the server answered for them: applied, duplicate or merged. A rejected entry
// stays, visible on the sync screen, until the user fixes or discards it.
import { ENTITIES, request } from './db.js';
import { ApiError, api, deviceId, uuid } from './auth.js';
import { emit } from './events.js';

export const BATCH = 100;   // the server's limit per request
const TIMEOUT = 60000;

let db = null;
let lockName = 'tsunagu-outbox';
const sending = new Set();  // mutation ids in a request that has not been answered yet

export function useDb(userDb, userId) {
  db = userDb;
  lockName = `tsunagu-outbox-${userId}`;
}

export function createMutation(entity, data) {
  return { id: uuid(), entity, op: 'create', data: { ...data, id: data.id || uuid() } };
}

// An edit of a master record: the version it was based on, the values it started from, the new values.
export function updateMutation(entity, record, base, changes) {
  return { id: uuid(), entity, op: 'update', record_id: record.id, base_version: record.version, base, changes };
}

// `hold`: until when (ms since the epoch) the entry is not sent — the undo window of a safety
// check (safety.js). A held entry is still only on this device, so withdrawing it is a true undo.
export async function enqueue(mutation, { hold = 0 } = {}) {
  const entry = { id: mutation.id, mutation, state: 'pending', created_at: new Date().toISOString(), attempts: 0 };
  if (hold) entry.hold_until = hold;
  await db.put('outbox', entry);
  emit('data', { outbox: true, entity: mutation.entity });
  if (hold) scheduleRelease(hold);
  requestBackgroundSync();
  return entry;
}

// At most this far ahead: a hold left behind by a device clock that was set back must not keep a
// record from being sent.
const MAX_HOLD = 15 * 60 * 1000;
const isHeld = (entry, now = Date.now()) => !!entry.hold_until && entry.hold_until > now && entry.hold_until - now <= MAX_HOLD;

let releaseTimer = null;
let releaseAt = Infinity;

// When the earliest hold ends, ask for a push (sync.js listens for `outbox-release`).
function scheduleRelease(until) {
  if (until >= releaseAt && releaseTimer) return;
  clearTimeout(releaseTimer);
  releaseAt = until;
  releaseTimer = setTimeout(() => {
    releaseTimer = null;
    releaseAt = Infinity;
    emit('outbox-release', {});
  }, Math.max(0, until - Date.now()) + 50);
}

// Hold an unsent entry until `until` (0: release it now). False if it is no longer waiting here.
export async function hold(mutationId, until) {
  if (sending.has(mutationId)) return false;
  const changed = await db.tx(['outbox'], 'readwrite', async (tx) => {
    const store = tx.objectStore('outbox');
    const entry = await request(store.index('id').get(mutationId));
    if (!entry || entry.state !== 'pending') return false;
    if (until) entry.hold_until = until;
    else delete entry.hold_until;
    await request(store.put(entry));
    return true;
  });
  if (changed) {
    if (until) scheduleRelease(until);
    else emit('outbox-release', {});
  }
  return changed;
}

// Undo: take a held (never sent) entry back out of the outbox. False if it has left already.
export async function withdraw(mutationId) {
  if (sending.has(mutationId)) return false;
  const removed = await db.tx(['outbox'], 'readwrite', async (tx) => {
    const store = tx.objectStore('outbox');
    const entry = await request(store.index('id').get(mutationId));
    if (!entry || entry.state !== 'pending') return false;
    await request(store.delete(entry.seq));
    return true;
  });
  if (removed) emit('data', { outbox: true, entity: 'safety-checks' });
  return removed;
}

export async function entries() {
  return db ? db.all('outbox') : [];
}

export async function find(mutationId) {
  return db.tx(['outbox'], 'readonly', (tx) => request(tx.objectStore('outbox').index('id').get(mutationId)));
}

export async function counts() {
  const all = await entries();
  return { pending: all.filter((e) => e.state === 'pending').length, rejected: all.filter((e) => e.state === 'rejected').length };
}

// Change the data of an entry that has not been sent yet; false if it is already on its way.
export async function amend(mutationId, patch) {
  if (sending.has(mutationId)) return false;
  const changed = await db.tx(['outbox'], 'readwrite', async (tx) => {
    const store = tx.objectStore('outbox');
    const entry = await request(store.index('id').get(mutationId));
    if (!entry || entry.state !== 'pending') return false;
    entry.mutation.data = { ...entry.mutation.data, ...patch };
    await request(store.put(entry));
    return true;
  });
  if (changed) emit('data', { outbox: true });
  return changed;
}

// The user discards a rejected (or waiting) change. Only they decide: nothing is dropped silently.
export async function discard(mutationId) {
  await db.tx(['outbox'], 'readwrite', async (tx) => {
    const store = tx.objectStore('outbox');
    const key = await request(store.index('id').getKey(mutationId));
    if (key !== undefined) await request(store.delete(key));
  });
  emit('data', { outbox: true });
}

// A fixed version of a rejected change goes out as a new mutation (a new id: the server
// remembers the old id with its rejection); the old entry goes in the same transaction.
export async function replace(oldMutationId, mutation, { hold = 0 } = {}) {
  await db.tx(['outbox'], 'readwrite', async (tx) => {
    const store = tx.objectStore('outbox');
    const key = await request(store.index('id').getKey(oldMutationId));
    if (key !== undefined) await request(store.delete(key));
    const entry = { id: mutation.id, mutation, state: 'pending', created_at: new Date().toISOString(), attempts: 0 };
    if (hold) entry.hold_until = hold;
    await request(store.put(entry));
  });
  emit('data', { outbox: true, entity: mutation.entity });
  if (hold) scheduleRelease(hold);
  requestBackgroundSync();
}

function requestBackgroundSync() {
  // Chromium only (Safari has none): the service worker sends the outbox when the network returns,
  // even with the app closed. The page's own triggers (open, online, visibility, timer) cover the rest.
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.ready
    .then((reg) => reg.sync && reg.sync.register('outbox'))
    .catch(() => {});
}

function withLock(fn) {
  // One sender per user across tabs; retries are harmless anyway (the server deduplicates).
  if (navigator.locks) return navigator.locks.request(lockName, fn);
  return fn();
}

// Send every waiting entry, in order, in batches. Throws NetworkError / AuthError to the caller
// (sync.js), which retries later; what was answered before the error is already settled.
export async function flush() {
  if (!db) return { sent: 0 };
  return withLock(async () => {
    let sent = 0;
    for (;;) {
      const waiting = (await entries()).filter((e) => e.state === 'pending' && !sending.has(e.id));
      const held = waiting.filter((e) => isHeld(e));
      if (held.length) scheduleRelease(Math.min(...held.map((e) => e.hold_until)));
      const batch = waiting.filter((e) => !isHeld(e)).slice(0, BATCH);
      if (!batch.length) return { sent };
      batch.forEach((e) => sending.add(e.id));
      let answer;
      try {
        answer = await api('/api/sync/mutations', {
          method: 'POST', timeout: TIMEOUT,
          body: { device_id: await deviceId(), mutations: batch.map((e) => e.mutation) },
        });
      } catch (err) {
        await noteAttempt(batch, err);
        throw err;
      } finally {
        batch.forEach((e) => sending.delete(e.id));
      }
      await settle(batch, answer.results || []);
      sent += batch.length;
    }
  });
}

async function noteAttempt(batch, err) {
  const message = err instanceof ApiError ? `${err.status} ${err.message}` : err.message;
  await db.tx(['outbox'], 'readwrite', async (tx) => {
    const store = tx.objectStore('outbox');
    for (const e of batch) {
      const entry = await request(store.get(e.seq));
      if (!entry) continue;
      entry.attempts = (entry.attempts || 0) + 1;
      entry.last_error = message;
      entry.last_attempt_at = new Date().toISOString();
      await request(store.put(entry));
    }
  });
}

function isRejected(result) {
  return result.status === 'rejected' || (result.status === 'duplicate' && result.original_status === 'rejected');
}

// Apply the server's answer in one transaction: settled entries leave the outbox and their
// records (as the server stored them) go into the local copy; rejections stay with reasons;
// a merge that kept someone else's value becomes a notice the user sees.
async function settle(batch, results) {
  const byId = new Map(results.map((r) => [r.id, r]));
  await db.tx(['outbox', 'notices', 'meta', ...ENTITIES], 'readwrite', async (tx) => {
    const outbox = tx.objectStore('outbox');
    const meta = (await request(tx.objectStore('meta').get('sync'))) || { gen: 1 };
    for (const e of batch) {
      const result = byId.get(e.id);
      if (!result) continue;  // no answer for it: it stays and goes again
      if (isRejected(result)) {
        const entry = await request(outbox.get(e.seq));
        if (!entry) continue;
        entry.state = 'rejected';
        entry.errors = result.errors || [];
        entry.detail = result.detail || '';
        entry.rejected_at = new Date().toISOString();
        await request(outbox.put(entry));
        continue;
      }
      await request(outbox.delete(e.seq));
      const entity = e.mutation.entity;
      if (result.record && ENTITIES.includes(entity)) {
        await request(tx.objectStore(entity).put({ ...result.record, _g: meta.gen }));
      }
      for (const [i, conflictId] of (result.conflicts || []).entries()) {
        const field = (result.conflict_fields || [])[i] || '';
        await request(tx.objectStore('notices').put({
          id: conflictId, kind: 'conflict', entity, record_id: e.mutation.record_id, field,
          mine: e.mutation.changes?.[field], theirs: result.record?.[field], at: new Date().toISOString(),
        }));
      }
    }
  });
  emit('data', { outbox: true, settled: true });
}
