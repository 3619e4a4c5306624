// Sign-in, the session on this device, the offline window, and `api()` for every server call.
//
// The device signs in online once (POST /auth/token) and keeps a bearer token. It keeps
// working offline until min(token expiry, last time the server accepted the token +
// TSUNAGU_OFFLINE_HOURS); after that it locks until the user signs in again. Locking keeps
// the data and the outbox (they are sent after the next sign-in); signing out wipes them.
import { deleteDatabase, openDeviceDb, userDatabases, userDbName } from './db.js';
import { emit } from './events.js';

const HOUR = 3600 * 1000;
const TOUCH_EVERY = 60 * 1000;   // write "the server accepted us" at most once a minute
const DEFAULT_TIMEOUT = 30000;

export class AuthError extends Error {}      // the server refused the token: sign in again
export class NetworkError extends Error {}   // no answer: offline, server down, timeout
export class ApiError extends Error {         // the server answered with an error
  constructor(status, body) {
    super((body && body.detail) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

let deviceDb = null;
let session = null;

async function device() {
  if (!deviceDb) deviceDb = await openDeviceDb();
  return deviceDb;
}

export async function loadSession() {
  session = (await (await device()).get('kv', 'session')) || null;
  return session;
}

export function currentSession() { return session; }

async function saveSession(next) {
  session = next;
  const db = await device();
  if (next) await db.put('kv', next, 'session');
  else await db.delete('kv', 'session');
}

// One id per installation, sent with every push so conflicts and audits name the device.
export async function deviceId() {
  const db = await device();
  let id = await db.get('kv', 'device_id');
  if (!id) {
    id = `pwa-${uuid().slice(0, 18)}`;
    await db.put('kv', id, 'device_id');
  }
  return id;
}

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function offlineUntil(s = session) {
  if (!s) return new Date(0);
  const byToken = Date.parse(s.expires_at);
  const byWindow = Date.parse(s.verified_at) + s.offline_hours * HOUR;
  return new Date(Math.min(byToken, byWindow));
}

// Locked: the offline window has passed, or the server refused the token.
export function isLocked(s = session, now = Date.now()) {
  return !!s && (s.locked || now >= offlineUntil(s).getTime());
}

async function touch() {
  if (!session || session.locked) return;
  const now = Date.now();
  if (now - Date.parse(session.verified_at) < TOUCH_EVERY) return;
  await saveSession({ ...session, verified_at: new Date(now).toISOString() });
}

async function lock(reason) {
  if (!session || session.locked) return;
  await saveSession({ ...session, locked: reason });
  emit('session', { locked: reason });
}

// Every call to the server goes through here: bearer token, timeout, and the offline window kept fresh.
export async function api(path, { method = 'GET', body, timeout = DEFAULT_TIMEOUT, auth = true } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth) {
    if (!session) throw new AuthError('not signed in');
    headers.Authorization = `Bearer ${session.token}`;
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal, cache: 'no-store', credentials: 'omit',
    });
  } catch (err) {
    throw new NetworkError(err.name === 'AbortError' ? 'timeout' : 'network');
  } finally {
    clearTimeout(timer);
  }
  const data = await response.json().catch(() => null);
  if (response.status === 401 && auth) {
    await lock('token');
    throw new AuthError((data && data.detail) || 'sign-in required');
  }
  if (response.status >= 500) throw new NetworkError(`server ${response.status}`);  // retried later
  if (auth) await touch();
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

async function fetchConfig() {
  try {
    return await api('/app/config.json', { auth: false });
  } catch {
    return { offline_hours: 72 };
  }
}

// Other users' data left on this device (e.g. a shared tablet locked with unsent records).
export async function otherUsersData(userId) {
  const names = await userDatabases();
  return names.filter((n) => n !== userDbName(userId));
}

export async function signIn(username, password, label) {
  const token = await api('/auth/token', {
    method: 'POST', auth: false, body: { username, password, label: label || 'つなぐ 現場アプリ' },
  });
  // A different person on this device: the previous user's records go (signin.js warned
  // about their unsent ones before we got here).
  for (const name of await otherUsersData(token.user.id)) await deleteDatabase(name);
  const now = new Date().toISOString();
  session = {
    token: token.token, token_id: token.token_id, expires_at: token.expires_at, user: token.user,
    signed_in_at: now, verified_at: now, offline_hours: 72, locked: null, me: null,
  };
  const [config, me] = await Promise.all([fetchConfig(), api('/api/me')]);
  session = { ...session, me, offline_hours: config.offline_hours || 72 };
  await saveSession(session);
  emit('session', { signedIn: true });
  return session;
}

// Refresh role, mode and scope (they change on the server: disaster mode, reassignment).
export async function refreshMe() {
  if (!session || isLocked()) return null;
  const me = await api('/api/me');
  const config = await fetchConfig();
  await saveSession({ ...session, me, offline_hours: config.offline_hours || session.offline_hours });
  return me;
}

// Wipes this user's data from the device. The caller warns first if the outbox is not empty.
export async function signOut() {
  const s = session;
  if (!s) return;
  if (!s.locked) {
    try { await api('/auth/logout', { method: 'POST', timeout: 5000 }); } catch { /* offline: the token expires on its own */ }
  }
  await saveSession(null);
  emit('session', { signedOut: true, userId: s.user.id });
  await deleteDatabase(userDbName(s.user.id));
}
