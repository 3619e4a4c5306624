// What this user may do, as the server's access table says: `actions` of GET /api/me, kept
// with the session on the device (IndexedDB) so it holds offline, refreshed at sign-in and
// after each sync (auth.js refreshMe). The field app keeps no role matrix of its own.
// Unknown (no session, an answer from an older server) means no.
import { currentSession } from './auth.js';

export function may(action) {
  const me = currentSession() && currentSession().me;
  return Boolean(me && Array.isArray(me.actions) && me.actions.includes(action));
}
