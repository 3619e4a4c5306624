// Sync status: the bar always visible in the header, and the screen with what is waiting,
// what the server refused (fix or discard — never dropped silently), conflicts, and this device.
import { confirmDialog, fill, h, toast } from './ui.js';
import { t, label, fmtDateTime, fmtTime } from './i18n.js';
import { on } from './events.js';
import { status, syncNow, opened, refreshCounts, close as closeSync } from './sync.js';
import * as outbox from './outbox.js';
import { currentSession, offlineUntil, signOut } from './auth.js';

const STATE_CLASS = { idle: 'ok', syncing: 'busy', offline: 'warn', error: 'bad', locked: 'bad', no_deployment: 'warn',
  signed_out: '', never: 'warn' };

// The state in words, true to the facts: never "synced" before a sync has completed.
export function stateKey() {
  if (!currentSession()) return 'signed_out';
  if (status.state === 'idle' && !status.lastSyncAt) return 'never';
  return status.state;
}

export function renderBar(el) {
  const draw = () => {
    const attention = status.rejected + status.conflicts;
    const key = stateKey();
    const signedIn = key !== 'signed_out';
    const parts = [
      h('span', { class: `dot ${STATE_CLASS[key] || ''}`, 'aria-hidden': 'true' }),
      h('span', { class: 'state' }, t(`sync.state_${key}`)),
      signedIn && status.lastSyncAt ? h('span', { class: 'last' }, t('sync.last', { when: fmtTime(status.lastSyncAt) })) : null,
      signedIn ? h('span', { class: status.pending ? 'count warn' : 'count' }, t('sync.waiting_n', { n: status.pending })) : null,
      attention ? h('span', { class: 'count bad' }, t('sync.attention_n', { n: attention })) : null,
    ];
    fill(el, ...parts.filter(Boolean));
    // For scripts and tests: the same facts, machine-readable.
    Object.assign(el.dataset, { state: status.state, pending: status.pending, rejected: status.rejected, conflicts: status.conflicts,
      lastSync: status.lastSyncAt || '' });
  };
  on('status', draw);
  on('lang', draw);
  on('session', draw);
  draw();
}

// A DWAT member without an active deployment: what it means and whom to ask.
export function noDeploymentNotice() {
  return h('div', { class: 'notice warn', id: 'no-deployment', role: 'status' },
    h('h2', {}, t('dwat.no_deployment_title')),
    h('p', {}, t('dwat.no_deployment_body')),
    h('p', {}, t('dwat.no_deployment_ask')));
}

function describe(entry, names) {
  const m = entry.mutation;
  const d = m.data || {};
  if (m.entity === 'safety-checks') return t('sync.what_safety', { name: names.get(d.person_id) || '', outcome: label('SafetyOutcome', d.outcome) });
  if (m.entity === 'shelter-reports') return t('sync.what_shelter', { name: names.get(d.shelter_id) || '' });
  if (m.entity === 'dwat-activity-reports') return t('sync.what_dwat', { date: d.report_date || '' });
  if (m.entity === 'plans') return t('sync.what_plan', { fields: Object.keys(m.changes || {}).map((f) => t(`field.${f}`)).join('、') });
  return `${m.entity} ${m.op}`;
}

function fixLink(entry, people) {
  const m = entry.mutation;
  if (m.entity === 'shelter-reports') return `#/shelter-report?fix=${entry.id}`;
  if (m.entity === 'dwat-activity-reports') return `#/dwat-report?fix=${entry.id}`;
  if (m.entity === 'dwat-triages') return `#/dwat-triage?fix=${entry.id}`;
  if (m.entity === 'dwat-requests') return `#/dwat-request?fix=${entry.id}`;
  if (m.entity === 'plans') {
    const personId = people.get(m.record_id);
    return personId ? `#/person/${personId}/plan?fix=${entry.id}` : null;
  }
  if (m.entity === 'safety-checks') return `#/person/${m.data.person_id}?fix=${entry.id}`;
  return null;
}

function show(value) {
  if (value === null || value === undefined || value === '') return t('common.empty');
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export async function render(view) {
  let left = false;
  const draw = async () => {
    const db = await opened();
    if (left) return;  // a redraw that waited for the database must not draw over the next screen
    const session = currentSession();
    const [entries, notices, people, shelters, plans] = await Promise.all([
      outbox.entries(), db.all('notices'), db.all('people'), db.all('shelters'), db.all('plans')]);
    const names = new Map([...people.map((p) => [p.id, p.name || p.register_no]), ...shelters.map((s) => [s.id, s.name])]);
    const planPerson = new Map(plans.map((p) => [p.id, p.person_id]));
    const waiting = entries.filter((e) => e.state === 'pending');
    const rejected = entries.filter((e) => e.state === 'rejected');
    const persisted = navigator.storage && navigator.storage.persisted ? await navigator.storage.persisted() : null;

    const discard = async (entry) => {
      const ok = await confirmDialog({ title: t('sync.discard_title'), body: [describe(entry, names), t('sync.discard_body')],
        ok: t('sync.discard'), cancel: t('common.cancel'), danger: true });
      if (ok) { await outbox.discard(entry.id); await refreshCounts(); }
    };

    fill(view, 
      h('h1', {}, t('sync.title')),
      Math.abs(status.clockSkewMinutes) >= 5
        ? h('div', { class: 'notice warn', role: 'alert' }, h('p', {}, t('sync.clock_skew', { n: Math.abs(status.clockSkewMinutes),
          dir: t(status.clockSkewMinutes > 0 ? 'sync.clock_fast' : 'sync.clock_slow') }))) : null,
      status.undeployed ? noDeploymentNotice() : null,
      h('section', { class: 'card', 'aria-labelledby': 'sync-now-h' },
        h('h2', { id: 'sync-now-h' }, t(`sync.state_${stateKey()}`)),
        h('dl', {},
          h('dt', {}, t('sync.last_label')), h('dd', {}, status.lastSyncAt ? fmtDateTime(status.lastSyncAt) : t('sync.never')),
          h('dt', {}, t('sync.waiting')), h('dd', {}, String(waiting.length)),
          h('dt', {}, t('sync.rejected')), h('dd', {}, String(rejected.length)),
          h('dt', {}, t('sync.conflicts')), h('dd', {}, String(notices.length)),
          status.lastError ? [h('dt', {}, t('sync.last_error')), h('dd', {}, status.lastError)] : null),
        h('p', {}, h('button', { type: 'button', class: 'button primary', id: 'sync-now', disabled: status.state === 'syncing',
          onclick: () => syncNow('manual') }, t('sync.now')))),
      h('section', { class: 'card', 'aria-labelledby': 'rejected-h' },
        h('h2', { id: 'rejected-h' }, t('sync.rejected_title')),
        rejected.length ? [h('p', {}, t('sync.rejected_help')),
          h('ul', { class: 'items' }, rejected.map((e) => {
            const link = fixLink(e, planPerson);
            return h('li', { class: 'item rejected', dataset: { id: e.id } },
              h('p', { class: 'what' }, describe(e, names), h('span', { class: 'muted' }, ` ${fmtDateTime(e.created_at)}`)),
              h('ul', { class: 'reasons' }, (e.errors || []).map((x) => h('li', {}, x.field ? `${t(`field.${x.field}`, {}, null, x.field)}: ${x.message}` : x.message))),
              h('div', { class: 'actions' },
                link ? h('a', { class: 'button secondary', href: link }, t('sync.fix')) : null,
                h('button', { type: 'button', class: 'button danger', onclick: () => discard(e) }, t('sync.discard'))));
          }))] : h('p', {}, t('sync.rejected_none'))),
      h('section', { class: 'card', 'aria-labelledby': 'conflicts-h' },
        h('h2', { id: 'conflicts-h' }, t('sync.conflicts_title')),
        notices.length ? [h('p', {}, t('sync.conflicts_help')),
          h('ul', { class: 'items' }, notices.map((n) => h('li', { class: 'item' },
            h('p', { class: 'what' }, t('sync.conflict_line', { name: names.get(planPerson.get(n.record_id)) || '', field: t(`field.${n.field}`, {}, null, n.field) })),
            h('dl', {}, h('dt', {}, t('sync.conflict_mine')), h('dd', {}, show(n.mine)),
              h('dt', {}, t('sync.conflict_theirs')), h('dd', {}, show(n.theirs))),
            h('button', { type: 'button', class: 'button secondary', onclick: async () => { await db.delete('notices', n.id); await refreshCounts(); } },
              t('sync.conflict_ok')))))] : h('p', {}, t('sync.conflicts_none'))),
      h('section', { class: 'card', 'aria-labelledby': 'waiting-h' },
        h('h2', { id: 'waiting-h' }, t('sync.waiting_title')),
        waiting.length ? h('ul', { class: 'items' }, waiting.map((e) => h('li', { class: 'item' },
          h('p', { class: 'what' }, describe(e, names), h('span', { class: 'muted' }, ` ${fmtDateTime(e.created_at)}`)),
          e.attempts ? h('p', { class: 'muted' }, t('sync.attempts', { n: e.attempts, error: e.last_error || '' })) : null)))
          : h('p', {}, t('sync.waiting_none'))),
      h('section', { class: 'card', 'aria-labelledby': 'device-h' },
        h('h2', { id: 'device-h' }, t('sync.device')),
        h('dl', {},
          h('dt', {}, t('sync.user')), h('dd', {}, `${session.user.display_name || ''} (${session.user.username})`),
          h('dt', {}, t('sync.role')), h('dd', {}, label('Role', session.me.role)),
          h('dt', {}, t('sync.mode')), h('dd', {}, label('Mode', session.me.mode)),
          h('dt', {}, t('sync.offline_ready')), h('dd', { id: 'offline-ready' }, t(document.documentElement.dataset.offlineReady === 'true' ? 'sync.offline_ready_yes' : 'sync.offline_ready_no')),
          h('dt', {}, t('sync.offline_until')), h('dd', {}, fmtDateTime(offlineUntil(session).toISOString())),
          h('dt', {}, t('sync.storage')), h('dd', {}, persisted === null ? t('sync.storage_unknown') : persisted ? t('sync.storage_persisted') : t('sync.storage_not')),
          h('dt', {}, t('sync.app_version')), h('dd', { id: 'app-version' }, document.documentElement.dataset.version || '—')),
        h('p', {}, h('button', { type: 'button', class: 'button danger', id: 'sign-out', onclick: () => confirmSignOut(entries.length) }, t('sync.sign_out')))),
    );
  };
  // The service worker knows the version of the app shell it serves.
  if (navigator.serviceWorker && navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage({ type: 'version?' });
  let timer = null;
  const offs = [on('data', () => { clearTimeout(timer); timer = setTimeout(draw, 200); }), on('status', () => {
    const button = view.querySelector('#sync-now');
    if (button) button.disabled = status.state === 'syncing';
    clearTimeout(timer); timer = setTimeout(draw, 200);
  })];
  await draw();
  return () => { left = true; offs.forEach((off) => off()); clearTimeout(timer); };
}

// Signing out wipes this device's data; unsent records would be lost, so say so plainly first.
export async function confirmSignOut(unsent) {
  const ok = await confirmDialog(unsent
    ? { title: t('signout.unsent_title', { n: unsent }), body: [t('signout.unsent_body', { n: unsent })], ok: t('signout.anyway'), cancel: t('common.cancel'), danger: true }
    : { title: t('signout.title'), body: [t('signout.body')], ok: t('sync.sign_out'), cancel: t('common.cancel') });
  if (!ok) return;
  closeSync();
  await signOut();
  toast(t('signout.done'));
}
