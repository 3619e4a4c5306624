// What this user may do, as the server's access table says: `actions` of GET /api/me, kept
// with the session on the device (IndexedDB) so it holds offline, refreshed at sign-in and
// after each sync (auth.js refreshMe). The field app keeps no role matrix of its own.
// Unknown (no session, an answer from an older server) means no.
import { currentSession } from './auth.js';

export function may(action) {
  const me = currentSession() && currentSession().me;
  return Boolean(me && Array.isArray(me.actions) && me.actions.includes(action));
}

// The only fields the user may change with `action` (e.g. a 民生委員's `plans.update`: the
// supporters), or null when the table does not narrow them.
export function writableFields(action) {
  const me = currentSession() && currentSession().me;
  const fields = me && me.writable && me.writable[action];
  return Array.isArray(fields) ? fields : null;
}
