// Editing an evacuation plan (welfare staff). The edit goes through the outbox as an `update`
// with the version it was based on, the values it started from and the new values; the server
// merges field by field, and a field someone else changed meanwhile becomes a conflict record
// (nothing typed here is lost). Works offline like everything else.
import { field, fill, h, toast } from './ui.js';
import { t, vocabulary, lang } from './i18n.js';
import { may, writableFields } from './me.js';
import { enqueue, find, replace, updateMutation } from './outbox.js';
import { syncNow, opened } from './sync.js';
import * as data from './data.js';

const TEXT_FIELDS = ['route_note', 'timing_note'];
const MAX_SUPPORTERS = 3;  // the server's limit

// 避難支援等実施者: name, relation and phone of up to three (what a 民生委員 most often learns on a
// visit). Rows left without a name are dropped; an address already stored is kept as it is.
function supportersFieldset(supporters) {
  const rows = [...supporters, ...Array(Math.max(0, MAX_SUPPORTERS - supporters.length)).fill({})].slice(0, MAX_SUPPORTERS);
  return h('fieldset', { class: 'supporters', id: 'plan-supporters' }, h('legend', {}, t('plan.supporters_edit')),
    h('p', { class: 'hint' }, t('plan.supporters_hint')),
    rows.map((s, i) => h('fieldset', { class: 'grid supporter' }, h('legend', {}, t('plan.supporter_n', { n: i + 1 })),
      field(`sup-${i}-name`, t('plan.supporter_name'), h('input', { type: 'text', name: `sup.${i}.name`, maxlength: 100, value: s.name || '', autocomplete: 'off' })),
      field(`sup-${i}-relation`, t('plan.supporter_relation'), h('input', { type: 'text', name: `sup.${i}.relation`, maxlength: 60, value: s.relation || '', autocomplete: 'off' })),
      field(`sup-${i}-phone`, t('plan.supporter_phone'), h('input', { type: 'tel', name: `sup.${i}.phone`, maxlength: 40, value: s.phone || '', autocomplete: 'off', inputmode: 'tel' })))));
}

function readSupporters(values, before) {
  const list = [];
  for (let i = 0; i < MAX_SUPPORTERS; i += 1) {
    const name = (values.get(`sup.${i}.name`) || '').trim();
    if (!name) continue;
    list.push({ ...(before[i] || {}), name, relation: (values.get(`sup.${i}.relation`) || '').trim(),
      phone: (values.get(`sup.${i}.phone`) || '').trim() });
  }
  return list;
}
const CARE_FIELDS = ['walking_ability', 'how_to_help', 'items_to_carry', 'usual_location'];

export function canEditPlans() {
  return may('plans.update');
}

function same(a, b) {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

export async function render(view, { id }, query) {
  if (!canEditPlans()) {
    location.hash = `#/person/${id}`;
    return undefined;
  }
  const person = await data.person(id);
  const stored = person ? (await (await opened()).allBy('plans', 'person_id', id))[0] : null;
  if (!person || !stored) {
    fill(view, h('h1', {}, t('plan.title')), h('p', {}, t('plan.none')));
    return undefined;
  }
  const fix = query.get('fix') ? await find(query.get('fix')) : null;
  // The form starts from what is shown: the server's copy with this device's unsent edits.
  const shown = await data.planFor(id);
  const start = fix ? { ...shown, ...fix.mutation.changes } : shown;
  const shelters = await data.shelters();
  const shelterSelect = (name, value) => h('select', { name },
    h('option', { value: '' }, t('common.none')), shelters.map((s) => h('option', { value: s.id, selected: s.id === value }, s.name)));
  const statusSelect = h('select', { name: 'status' },
    vocabulary('PlanStatus').map((v) => h('option', { value: v.value, selected: v.value === start.status }, v[lang()] || v.ja)));
  // A 民生委員 may correct the supporters only (the server's access table says which fields).
  const only = writableFields('plans.update');
  const shows = (name) => !only || only.includes(name);
  const form = h('form', { class: 'form', novalidate: true },
    shows('status') ? field('plan-status', t('plan.status'), statusSelect) : null,
    shows('supporters') ? supportersFieldset(start.supporters || []) : null,
    shows('destination_shelter_id') ? field('plan-destination', t('plan.destination'),
      shelterSelect('destination_shelter_id', start.destination_shelter_id)) : null,
    shows('alternate_shelter_id') ? field('plan-alternate', t('plan.alternate'),
      shelterSelect('alternate_shelter_id', start.alternate_shelter_id)) : null,
    ...TEXT_FIELDS.filter(shows).map((f) => field(`plan-${f}`, t(`plan.${f === 'route_note' ? 'route' : 'timing'}`),
      h('textarea', { name: f, rows: 3, maxlength: 1000, value: start[f] || '' }))),
    shows('care') ? h('fieldset', {}, h('legend', {}, t('plan.care')),
      ...CARE_FIELDS.map((f) => field(`care-${f}`, t(`care.${f}`),
        h('textarea', { name: `care.${f}`, rows: 2, maxlength: 1000, value: (start.care || {})[f] || '' })))) : null,
    h('p', { class: 'error', role: 'alert', id: 'plan-error' }),
    h('div', { class: 'actions' },
      h('a', { class: 'button secondary', href: `#/person/${id}` }, t('common.cancel')),
      h('button', { type: 'submit', class: 'button primary' }, t('common.save'))));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = new FormData(form);
    const next = shows('care') ? { care: { ...(shown.care || {}) } } : {};
    if (shows('supporters')) next.supporters = readSupporters(values, shown.supporters || []);
    for (const [name, value] of values.entries()) {
      if (name.startsWith('sup.')) continue;
      if (name.startsWith('care.')) next.care[name.slice(5)] = value.trim();
      else next[name] = name.endsWith('_shelter_id') ? (value || null) : value.trim();
    }
    if (next.destination_shelter_id && next.destination_shelter_id === next.alternate_shelter_id) {
      form.querySelector('#plan-error').textContent = t('plan.same_shelter');
      form.querySelector('#plan-alternate').focus();
      return;
    }
    const base = {};
    const changes = {};
    for (const [name, value] of Object.entries(next)) {
      if (!same(value, shown[name])) {
        base[name] = shown[name] ?? null;
        changes[name] = value;
      }
    }
    if (!Object.keys(changes).length && !fix) {
      location.hash = `#/person/${id}`;
      return;
    }
    const mutation = updateMutation('plans', stored, base, changes);
    if (fix) await replace(fix.id, mutation);
    else await enqueue(mutation);
    toast(t('plan.saved'));
    syncNow('push');
    location.hash = `#/person/${id}`;
  });

  fill(view, 
    h('p', { class: 'back' }, h('a', { href: `#/person/${id}` }, t('person.back_to', { name: person.name || person.register_no }))),
    h('h1', {}, t('plan.edit_title', { name: person.name || person.register_no })),
    fix ? h('div', { class: 'notice error' }, h('p', {}, t('sync.fix_intro')), fixErrors(fix)) : null,
    form);
  return undefined;
}

export function fixErrors(entry) {
  return h('ul', {}, (entry.errors || []).map((e) => h('li', {}, e.field ? `${e.field}: ${e.message}` : e.message)));
}
