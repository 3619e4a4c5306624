// DWAT派遣要請: shelter staff ask for a team from the field app, offline too — needs as counts of
// people by kind (steppers), the urgency, the day a team is wanted from, a note. HQ and the
// prefecture see it on the dispatch board once it arrives.
import { field, fill, h, isoLocal, toast, todayLocal } from './ui.js';
import { t, lang, vocabulary, label as vocabLabel, fmtDate, fmtDateTime } from './i18n.js';
import { currentSession } from './auth.js';
import { may } from './me.js';
import { createMutation, enqueue, entries, find, replace } from './outbox.js';
import { syncNow, opened } from './sync.js';
import * as data from './data.js';
import { counts, stepper } from './stepper.js';
import { fixErrors } from './plan-edit.js';

const label = (v) => v[lang()] || v.ja;

export function canRequest() {
  return may('dwat-requests.create');
}

async function myShelters() {
  const me = currentSession().me;
  const all = await data.shelters();
  if (me.role === 'admin' || me.role === 'welfare_staff') return all;
  const mine = new Set(me.scope.shelter_ids || []);
  return all.filter((s) => mine.has(s.id));
}

async function earlierRequests(shelterId) {
  const db = await opened();
  const [stored, queued] = await Promise.all([db.all('dwat-requests'), entries()]);
  const mine = queued.filter((e) => e.mutation.entity === 'dwat-requests' && e.mutation.op === 'create')
    .map((e) => ({ ...e.mutation.data, created_at: e.created_at, _pending: e.state === 'pending', _rejected: e.state === 'rejected' }));
  const ids = new Set(stored.map((r) => r.id));
  return [...stored, ...mine.filter((r) => !ids.has(r.id))].filter((r) => r.shelter_id === shelterId)
    .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
}

function needsText(r) {
  const c = r.need_counts || {};
  const parts = Object.entries(c).map(([k, n]) => `${vocabLabel('NeedKind', k)} ${n}`);
  return parts.length ? parts.join('・') : (r.needs || []).join('・');
}

export async function render(view, params, query) {
  const shelters = await myShelters();
  if (!canRequest() || !shelters.length) {
    fill(view, h('h1', {}, t('request.title')), h('p', {}, t('request.no_shelter')));
    return undefined;
  }
  const fix = query.get('fix') ? await find(query.get('fix')) : null;
  const start = fix ? fix.mutation.data : {};
  let shelterId = start.shelter_id || shelters[0].id;

  const draw = async () => {
    const earlier = await earlierRequests(shelterId);
    const form = h('form', { class: 'form', novalidate: true },
      shelters.length > 1 ? field('request-shelter', t('request.shelter'), h('select', { name: 'shelter_id', onchange: (e) => { shelterId = e.target.value; draw(); } },
        shelters.map((s) => h('option', { value: s.id, selected: s.id === shelterId }, s.name))))
        : h('p', { class: 'lead' }, shelters[0].name),
      h('fieldset', { class: 'steppers', id: 'request-needs' }, h('legend', {}, t('request.needs'), h('span', { class: 'required' }, t('common.required'))),
        vocabulary('NeedKind').map((k) => stepper(k.value, label(k), (start.need_counts || {})[k.value], 'need'))),
      h('fieldset', { class: 'tiles', id: 'fs-priority' }, h('legend', {}, t('request.priority')),
        vocabulary('RequestPriority').map((v) => h('span', { class: 'tile' },
          h('input', { type: 'radio', name: 'priority', id: `priority-${v.value}`, value: v.value, checked: v.value === (start.priority || 'medium') }),
          h('label', { for: `priority-${v.value}` }, label(v))))),
      field('request-wanted', t('request.wanted_from'), h('input', { type: 'date', name: 'wanted_from', value: start.wanted_from || todayLocal(), min: todayLocal() })),
      field('request-note', t('request.note'), h('textarea', { name: 'note', rows: 3, maxlength: 2000, value: start.note || '' })),
      h('p', { class: 'error', role: 'alert', id: 'request-error' }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary big' }, t('request.save'))));

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const values = new FormData(form);
      const needCounts = counts(form.querySelector('#request-needs'), vocabulary('NeedKind').map((k) => k.value));
      if (!Object.keys(needCounts).length) {
        form.querySelector('#request-error').textContent = t('request.no_needs');
        form.querySelector('#request-needs input').focus();
        return;
      }
      const mutation = createMutation('dwat-requests', {
        shelter_id: shelterId, need_counts: needCounts, priority: values.get('priority') || 'medium',
        wanted_from: values.get('wanted_from') || null, note: (values.get('note') || '').trim(),
      });
      if (fix) await replace(fix.id, mutation);
      else await enqueue(mutation);
      toast(t('request.saved'));
      syncNow('push');
      if (fix) { location.hash = '#/sync'; return; }
      Object.keys(start).forEach((k) => delete start[k]);
      draw();
    });

    fill(view, h('h1', {}, t('request.title')),
      fix ? h('div', { class: 'notice error' }, h('p', {}, t('sync.fix_intro')), fixErrors(fix)) : null,
      form,
      h('section', { class: 'card', 'aria-labelledby': 'request-earlier' }, h('h2', { id: 'request-earlier' }, t('request.earlier')),
        earlier.length ? h('ul', { class: 'plain', id: 'request-list' }, earlier.map((r) => h('li', { dataset: { id: r.id } },
          `${fmtDateTime(r.created_at)}　${needsText(r)}（${vocabLabel('RequestPriority', r.priority)}${r.wanted_from ? `・${fmtDate(r.wanted_from)}〜` : ''}）`,
          r._pending ? h('span', { class: 'flag' }, ` ${t('sync.flag_pending')}`) : null,
          r._rejected ? h('span', { class: 'flag' }, ` ${t('sync.flag_rejected')}`) : null))) : h('p', {}, t('common.none'))));
  };
  await draw();
  return undefined;
}
