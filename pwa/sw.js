// The field app's service worker. One strategy per kind of path:
//   /app/… (the app shell)   cache first, from a cache named after VERSION
//   /app/config.json         network only (the app keeps its own copy in IndexedDB)
//   /api/…, /auth/…          not touched: the data lives in IndexedDB, never in this cache
// Background Sync ("outbox"): where the browser has it, send the outbox when the network returns.

// The server replaces this with a hash of the shell files, so any change to the app installs a
// new worker; the page then offers "update available".
const VERSION = "dev";
const CACHE = `tsunagu-shell-${VERSION}`;
const PRECACHE = [
  '/app/',
  '/app/index.html',
  '/app/manifest.webmanifest',
  '/app/vocab.json',
  '/app/css/app.css',
  '/app/icons/icon-192.png',
  '/app/icons/icon-512.png',
  '/app/icons/icon-maskable-512.png',
  '/app/icons/apple-touch-icon.png',
  '/app/icons/qr.svg',
  '/app/js/app.js',
  '/app/js/auth.js',
  '/app/js/data.js',
  '/app/js/db.js',
  '/app/js/district-map.js',
  '/app/js/dwat-report.js',
  '/app/js/dwat-request.js',
  '/app/js/dwat-triage.js',
  '/app/js/events.js',
  '/app/js/i18n.js',
  '/app/js/me.js',
  '/app/js/outbox.js',
  '/app/js/palette.js',
  '/app/js/people.js',
  '/app/js/person.js',
  '/app/js/plan-edit.js',
  '/app/js/qr-worker.js',
  '/app/js/safety.js',
  '/app/js/scan.js',
  '/app/js/shelter-report.js',
  '/app/js/stepper.js',
  '/app/js/signin.js',
  '/app/js/sync-status.js',
  '/app/js/sync.js',
  '/app/js/ui.js',
  '/app/js/walk-order.js',
  '/app/vendor/jsqr/jsQR.js',  // the QR decoder (npm), served by the server from node_modules
];

self.addEventListener('install', (event) => {
  // `reload`: fetch past the HTTP cache, so the new cache holds the new files.
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE.map((url) => new Request(url, { cache: 'reload' })))));
  // No skipWaiting here: a new version waits until the user chooses "update" (see the page).
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('tsunagu-shell-') && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();  // the first install controls the open page at once
  })());
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'skip-waiting') self.skipWaiting();
  if (event.data && event.data.type === 'version?') event.source.postMessage({ type: 'version', version: VERSION });
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (!url.pathname.startsWith('/app/') || url.pathname === '/app/config.json') return;
  if (request.mode === 'navigate') {
    // Any page under /app/ is the app: the shell, from the cache (offline too).
    event.respondWith(caches.match('/app/index.html').then((cached) => cached || fetch(request)));
    return;
  }
  event.respondWith(caches.match(request, { ignoreSearch: true }).then((cached) => cached || fetch(request)));
});

// ---- Background Sync ------------------------------------------------------------------------
// With a page open, the page sends (it also settles the answers). With none, send from here:
// read the session and the outbox, post them in batches of 100, and leave the entries in place.
// When the app next opens it sends them again and the server answers "duplicate" with the
// stored result, which the page then settles like any other answer — so there is one place
// (outbox.js) that interprets results, and nothing can be applied twice.
self.addEventListener('sync', (event) => {
  if (event.tag === 'outbox') event.waitUntil(backgroundSend());
});

async function backgroundSend() {
  const pages = await self.clients.matchAll({ type: 'window' });
  if (pages.length) {
    pages.forEach((page) => page.postMessage({ type: 'flush' }));
    return;
  }
  // Open only databases that exist: opening a missing one would create it empty.
  const existing = new Set((await indexedDB.databases()).map((db) => db.name));
  if (!existing.has('tsunagu-device')) return;
  const session = await idbGet('tsunagu-device', 'kv', 'session');
  const deviceId = await idbGet('tsunagu-device', 'kv', 'device_id');
  if (!session || session.locked || !existing.has(`tsunagu-user-${session.user.id}`)) return;
  const name = `tsunagu-user-${session.user.id}`;
  // A held entry (a safety check still in its undo window) is not sent yet.
  const waiting = (await idbAll(name, 'outbox')).filter((entry) => entry.state === 'pending'
    && !(entry.hold_until > Date.now() && entry.hold_until - Date.now() <= 15 * 60 * 1000));
  for (let i = 0; i < waiting.length; i += 100) {
    const response = await fetch('/api/sync/mutations', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${session.token}` },
      body: JSON.stringify({ device_id: deviceId || '', mutations: waiting.slice(i, i + 100).map((e) => e.mutation) }),
    });
    if (response.status >= 500) throw new Error(`server ${response.status}`);  // the browser retries later
    if (!response.ok) return;
  }
}

function idbOpen(name) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function idbRead(name, store, read) {
  const db = await idbOpen(name);
  try {
    if (!db.objectStoreNames.contains(store)) return undefined;
    return await new Promise((resolve, reject) => {
      const req = read(db.transaction(store).objectStore(store));
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  } finally {
    db.close();
  }
}

const idbGet = (name, store, key) => idbRead(name, store, (s) => s.get(key));
const idbAll = (name, store) => idbRead(name, store, (s) => s.getAll());
