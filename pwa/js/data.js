// What the screens show (read through sync.opened(): never a closed database): the server's copies from IndexedDB with this device's own changes
// (the outbox, sent or not yet) laid over them.
import { opened } from './sync.js';
import * as outbox from './outbox.js';

export const NEEDS_HELP = new Set(['needs_help', 'injured']);

// Safety checks made here and not yet acknowledged, as check records flagged pending/rejected.
function localChecks(entries) {
  return entries
    .filter((e) => e.mutation.entity === 'safety-checks' && e.mutation.op === 'create')
    .map((e) => ({ ...e.mutation.data, _pending: e.state === 'pending', _rejected: e.state === 'rejected', _mutation: e.id }));
}

function later(a, b) {
  if (!a) return b;
  return Date.parse(b.observed_at) > Date.parse(a.observed_at) ? b : a;
}

// person id → the latest safety check (by observed time), the device's own included.
export async function latestSafety(entries) {
  const db = await opened();
  const latest = new Map();
  for (const check of await db.all('safety-checks')) latest.set(check.person_id, later(latest.get(check.person_id), check));
  for (const check of localChecks(entries)) latest.set(check.person_id, later(latest.get(check.person_id), check));
  return latest;
}

export async function peopleList() {
  const db = await opened();
  const [people, districts, entries] = await Promise.all([db.all('people'), db.all('districts'), outbox.entries()]);
  const latest = await latestSafety(entries);
  return { people, districts: new Map(districts.map((d) => [d.id, d])), latest };
}

export async function checksFor(personId) {
  const db = await opened();
  const [stored, entries] = await Promise.all([db.allBy('safety-checks', 'person_id', personId), outbox.entries()]);
  const mine = localChecks(entries).filter((c) => c.person_id === personId);
  const ids = new Set(stored.map((c) => c.id));
  return [...stored, ...mine.filter((c) => !ids.has(c.id))]
    .sort((a, b) => Date.parse(b.observed_at) - Date.parse(a.observed_at));
}

// The plan as the server has it, with this device's unsent edits applied in order.
export async function planFor(personId) {
  const db = await opened();
  const [plans, entries] = await Promise.all([db.allBy('plans', 'person_id', personId), outbox.entries()]);
  const plan = plans[0];
  if (!plan) return null;
  const edits = entries.filter((e) => e.mutation.entity === 'plans' && e.mutation.record_id === plan.id);
  const shown = { ...plan, _pending: edits.some((e) => e.state === 'pending'), _rejected: edits.some((e) => e.state === 'rejected') };
  for (const e of edits) if (e.state === 'pending') Object.assign(shown, e.mutation.changes);
  return shown;
}

export async function person(id) { return (await opened()).get('people', id); }

// A plan as the server has it, by its own id (what the QR code printed on a plan carries).
export async function plan(id) { return (await opened()).get('plans', id); }

// The people with this 登録者番号 (printed on the plan) on this device: each municipality numbers
// its own register, so a device holding two cities may hold two people with one number.
export async function peopleByRegisterNo(registerNo) {
  return (await (await opened()).all('people')).filter((p) => p.register_no === registerNo);
}

export async function shelters() {
  const all = await (await opened()).all('shelters');
  const kindOrder = { designated_welfare: 0, agreement_welfare: 1, designated: 2 };
  return all.sort((a, b) => (kindOrder[a.kind] ?? 9) - (kindOrder[b.kind] ?? 9) || a.name.localeCompare(b.name, 'ja'));
}

export async function latestShelterReport(shelterId) {
  const db = await opened();
  const [stored, entries] = await Promise.all([db.allBy('shelter-reports', 'shelter_id', shelterId), outbox.entries()]);
  const mine = entries.filter((e) => e.mutation.entity === 'shelter-reports' && e.mutation.data.shelter_id === shelterId)
    .map((e) => ({ ...e.mutation.data, _pending: e.state === 'pending' }));
  return [...stored, ...mine].reduce((a, b) => later(a, b), null);
}

export async function activeDeployments() {
  return (await (await opened()).all('dwat-deployments')).filter((d) => d.state === 'active');
}

export async function dwatReports(deploymentId) {
  const db = await opened();
  const [stored, entries] = await Promise.all([db.allBy('dwat-activity-reports', 'deployment_id', deploymentId), outbox.entries()]);
  const mine = entries.filter((e) => e.mutation.entity === 'dwat-activity-reports' && e.mutation.data.deployment_id === deploymentId)
    .map((e) => ({ ...e.mutation.data, _pending: e.state === 'pending' }));
  return [...stored, ...mine].sort((a, b) => (b.report_date || '').localeCompare(a.report_date || ''));
}

// Katakana and hiragana compare equal; spaces (full- and half-width) are ignored.
export function kanaKey(text) {
  return (text || '').normalize('NFKC').replace(/[\u3041-\u3096]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0x60))
    .replace(/\s+/g, '').toLowerCase();
}
