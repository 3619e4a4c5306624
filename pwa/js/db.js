// A small promise layer over IndexedDB.
//
// Two kinds of database:
//   tsunagu-device        one per device: the sign-in session, the device id (store "kv")
//   tsunagu-user-<uuid>   one per signed-in user: the records of their scope (one store per
//                         API resource, holding the server's copies only), the outbox of
//                         changes made here, notices (conflicts) and sync bookkeeping ("meta").
// Signing out deletes the user's database; nothing of one user is ever shown to another.

export const ENTITIES = [
  'municipalities', 'districts', 'people', 'plans', 'shelters', 'safety-checks', 'shelter-reports',
  'dwat-teams', 'dwat-members', 'dwat-deployments', 'dwat-requests', 'dwat-activity-reports',
  'dwat-triages',
];
const INDEXES = {
  people: ['district_id'], plans: ['person_id'], 'safety-checks': ['person_id'],
  'shelter-reports': ['shelter_id'], 'dwat-activity-reports': ['deployment_id'],
  'dwat-triages': ['deployment_id'],
};
const USER_DB_VERSION = 2;  // 2: dwat-triages
const USER_PREFIX = 'tsunagu-user-';
export const DEVICE_DB = 'tsunagu-device';

export function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function finished(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
  });
}

function open(name, version, upgrade) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, version);
    req.onupgradeneeded = () => upgrade(req.result, req.transaction);
    req.onsuccess = () => {
      const idb = req.result;
      // Another tab deleting this database (sign-out) must not wait for us.
      idb.onversionchange = () => idb.close();
      resolve(idb);
    };
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error(`database ${name} is blocked by another tab`));
  });
}

export class Db {
  constructor(idb) { this.idb = idb; }

  // Run `fn(tx)` in one transaction; resolves with fn's result after the commit.
  // Inside, await only IndexedDB requests (other awaits would let the transaction close).
  async tx(stores, mode, fn) {
    const tx = this.idb.transaction(stores, mode);
    const done = finished(tx);
    let result;
    try {
      result = await fn(tx);
    } catch (err) {
      try { tx.abort(); } catch { /* already finished */ }
      await done.catch(() => {});
      throw err;
    }
    await done;
    return result;
  }

  get(store, key) { return this.tx([store], 'readonly', (tx) => request(tx.objectStore(store).get(key))); }
  all(store) { return this.tx([store], 'readonly', (tx) => request(tx.objectStore(store).getAll())); }
  count(store) { return this.tx([store], 'readonly', (tx) => request(tx.objectStore(store).count())); }
  put(store, value, key) {
    return this.tx([store], 'readwrite', (tx) => request(tx.objectStore(store).put(value, key)));
  }
  delete(store, key) { return this.tx([store], 'readwrite', (tx) => request(tx.objectStore(store).delete(key))); }
  allBy(store, index, value) {
    return this.tx([store], 'readonly', (tx) => request(tx.objectStore(store).index(index).getAll(value)));
  }
  close() { this.idb.close(); }
}

function upgradeUser(idb) {
  for (const name of ENTITIES) {
    if (idb.objectStoreNames.contains(name)) continue;
    const store = idb.createObjectStore(name, { keyPath: 'id' });
    for (const field of INDEXES[name] || []) store.createIndex(field, field);
  }
  if (!idb.objectStoreNames.contains('outbox')) {
    // `seq` keeps the order in which changes were made; `id` is the mutation id sent to the server.
    const outbox = idb.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
    outbox.createIndex('id', 'id', { unique: true });
  }
  if (!idb.objectStoreNames.contains('notices')) idb.createObjectStore('notices', { keyPath: 'id' });
  if (!idb.objectStoreNames.contains('meta')) idb.createObjectStore('meta');
}

export function userDbName(userId) { return USER_PREFIX + userId; }

export async function openUserDb(userId) {
  return new Db(await open(userDbName(userId), USER_DB_VERSION, upgradeUser));
}

export async function openDeviceDb() {
  return new Db(await open(DEVICE_DB, 1, (idb) => {
    if (!idb.objectStoreNames.contains('kv')) idb.createObjectStore('kv');
  }));
}

export function deleteDatabase(name) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(name);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(req.error);
    // "blocked" only delays: the deletion completes once other tabs close their connections.
  });
}

// Names of users' databases on this device (where the browser can list them).
export async function userDatabases() {
  if (!indexedDB.databases) return [];
  const all = await indexedDB.databases();
  return all.map((d) => d.name).filter((n) => n && n.startsWith(USER_PREFIX));
}
