// 避難所状況報告: building damage, open state, occupancy (by group, against the capacity),
// lifelines and needs. Each report is a new event (nothing is overwritten); the latest by
// observed time is the shelter's current state.
//
// Nothing that claims a fact is preselected: damage and open state must be chosen each time
// (the previous report is shown beside them, not carried over), the number of evacuees typed.
// Damage comes first: it decides whether the building may be used at all. More evacuees than
// the capacity is asked once and then sent as it is — it happens, and HQ must know.
import { confirmDialog, field, fill, h, isoLocal, toast } from './ui.js';
import { t, label, vocabulary, lang, fmtDateTime } from './i18n.js';
import { currentSession, deviceId } from './auth.js';
import { may } from './me.js';
import { createMutation, enqueue, find, replace } from './outbox.js';
import { syncNow } from './sync.js';
import * as data from './data.js';
import { fixErrors } from './plan-edit.js';

const GROUPS = ['elderly', 'disabled', 'pregnant_infant', 'medical_care', 'other'];
const LIFELINES = ['power', 'water', 'gas', 'comms'];
const NEEDS = ['staff', 'food', 'water', 'blankets', 'toilets', 'medicine', 'care_goods', 'diapers', 'formula', 'generator', 'fuel'];

export function canReport() {
  return may('shelter-reports.create');
}

// The shelters this user may report for: their own (shelter staff), their deployment's (DWAT), all (city office).
export async function reportableShelters() {
  const me = currentSession().me;
  const all = await data.shelters();
  if (me.role === 'admin' || me.role === 'welfare_staff') return all;
  const mine = new Set(me.scope.shelter_ids || []);
  return all.filter((s) => mine.has(s.id));
}

// previous: the value of the last report, shown as a hint (never preselected).
function radios(name, vocab, selected, previous) {
  const hintId = `${name}-previous`;
  return h('fieldset', { class: 'tiles', id: `fs-${name}`, 'aria-describedby': previous ? hintId : null },
    h('legend', {}, t(`shelter.${name}`), h('span', { class: 'required' }, t('common.required'))),
    vocabulary(vocab).map((v) => {
      const id = `${name}-${v.value}`;
      return h('span', { class: 'tile' },
        h('input', { type: 'radio', name, id, value: v.value, checked: v.value === selected, required: true }),
        h('label', { for: id }, v[lang()] || v.ja));
    }),
    previous ? h('p', { class: 'hint', id: hintId }, t('shelter.previous', { value: label(vocab, previous) })) : null);
}

function number(name, labelText, value, hint) {
  return field(`n-${name.replace('.', '-')}`, labelText,
    h('input', { type: 'number', name, min: 0, step: 1, inputmode: 'numeric', value: value === null || value === undefined ? '' : String(value) }), hint);
}

function summary(report) {
  if (!report) return h('p', {}, t('shelter.no_report'));
  return h('p', { class: 'current' },
    t('shelter.latest'), ' ', h('span', { class: `chip open-${report.open_state}` }, label('OpenState', report.open_state)),
    ` ${t('shelter.occupancy_n', { n: report.occupancy })}・${label('Damage', report.damage)}・${fmtDateTime(report.observed_at)}`,
    report._pending ? h('span', { class: 'flag' }, ` ${t('sync.flag_pending')}`) : null);
}

export async function render(view, params, query) {
  const shelters = await reportableShelters();
  if (!canReport() || !shelters.length) {
    fill(view, h('h1', {}, t('shelter.title')), h('p', {}, t('shelter.none')));
    return undefined;
  }
  const fix = query.get('fix') ? await find(query.get('fix')) : null;
  let shelterId = (fix && fix.mutation.data.shelter_id) || query.get('shelter') || shelters[0].id;
  if (!shelters.some((s) => s.id === shelterId)) shelterId = shelters[0].id;

  const draw = async () => {
    const latest = await data.latestShelterReport(shelterId);
    const shelter = shelters.find((s) => s.id === shelterId);
    const capacity = shelter && Number.isInteger(shelter.capacity) ? shelter.capacity : null;
    // A fix starts from what was typed; a new report from nothing (the last one is shown as hints).
    const start = fix ? fix.mutation.data : {};
    const before = latest || {};
    const groups = start.occupancy_by_group || {};
    const lifelines = start.lifelines || {};
    const needs = new Set(start.needs || []);
    const knownNeeds = new Set(NEEDS.map((n) => t(`needs.${n}`, {}, 'ja')));
    const otherNeeds = [...needs].filter((n) => !knownNeeds.has(n));
    const picker = shelters.length > 1 ? field('shelter-pick', t('shelter.which'),
      h('select', { onchange: (e) => { shelterId = e.target.value; draw(); } },
        shelters.map((s) => h('option', { value: s.id, selected: s.id === shelterId }, s.name)))) : h('p', { class: 'lead' }, shelters[0].name);
    const occupancyHint = [
      capacity !== null ? t('shelter.capacity_n', { n: capacity }) : t('shelter.capacity_unknown'),
      before.occupancy !== undefined ? t('shelter.previous_n', { n: before.occupancy }) : null,
    ].filter(Boolean).join('　');
    const form = h('form', { class: 'form', novalidate: true },
      radios('damage', 'Damage', start.damage, before.damage),
      radios('open_state', 'OpenState', start.open_state, before.open_state),
      number('occupancy', t('shelter.occupancy'), start.occupancy, occupancyHint),
      h('fieldset', { class: 'grid' }, h('legend', {}, t('shelter.by_group')),
        GROUPS.map((g) => number(`group.${g}`, t(`group.${g}`), groups[g]))),
      h('fieldset', { class: 'grid' }, h('legend', {}, t('shelter.lifelines')),
        LIFELINES.map((l) => field(`life-${l}`, t(`lifeline.${l}`), h('select', { name: `life.${l}` },
          vocabulary('LifelineState').map((v) => h('option', { value: v.value, selected: v.value === (lifelines[l] || 'unknown') }, v[lang()] || v.ja)))))),
      h('fieldset', { class: 'checks' }, h('legend', {}, t('shelter.needs')),
        NEEDS.map((n) => {
          const id = `need-${n}`;
          const value = t(`needs.${n}`, {}, 'ja');  // stored in Japanese: HQ reads Japanese
          return h('span', { class: 'check' }, h('input', { type: 'checkbox', id, name: 'need', value, checked: needs.has(value) }),
            h('label', { for: id }, t(`needs.${n}`)));
        })),
      field('need-other', t('shelter.needs_other'), h('input', { type: 'text', name: 'need_other', maxlength: 200, value: otherNeeds.join('、') })),
      field('shelter-note', t('shelter.note'), h('textarea', { name: 'note', rows: 3, maxlength: 2000, value: start.note || '' })),
      h('p', { class: 'error', role: 'alert', id: 'shelter-error' }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary big' }, t('shelter.save'))));

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const values = new FormData(form);
      const count = (name) => Math.max(0, parseInt(values.get(name), 10) || 0);
      const byGroup = Object.fromEntries(GROUPS.map((g) => [g, count(`group.${g}`)]));
      const occupancy = count('occupancy');
      const error = form.querySelector('#shelter-error');
      const occupancyInput = form.querySelector('#n-occupancy');
      const refuse = (message, target) => {
        error.textContent = message;
        if (target.matches('input')) target.setAttribute('aria-invalid', 'true');
        target.focus();
      };
      error.textContent = '';
      occupancyInput.removeAttribute('aria-invalid');
      for (const name of ['damage', 'open_state']) {
        if (!values.get(name)) {
          refuse(t(`shelter.choose_${name}`), form.querySelector(`input[name=${name}]`));
          return;
        }
      }
      if ((values.get('occupancy') || '').trim() === '') {
        refuse(t('shelter.occupancy_missing'), occupancyInput);
        return;
      }
      if (Object.values(byGroup).reduce((a, b) => a + b, 0) > occupancy) {
        refuse(t('shelter.groups_too_many'), occupancyInput);
        return;
      }
      if (capacity !== null && occupancy > capacity) {
        const ok = await confirmDialog({
          title: t('shelter.over_title', { n: occupancy, capacity }), body: [t('shelter.over_body')],
          ok: t('shelter.over_send'), cancel: t('shelter.over_back'),
        });
        if (!ok) {
          occupancyInput.focus();
          return;
        }
      }
      const other = (values.get('need_other') || '').split(/[、,，]/).map((s) => s.trim()).filter(Boolean);
      const mutation = createMutation('shelter-reports', {
        shelter_id: shelterId, open_state: values.get('open_state'), occupancy, occupancy_by_group: byGroup,
        damage: values.get('damage'), lifelines: Object.fromEntries(LIFELINES.map((l) => [l, values.get(`life.${l}`)])),
        needs: [...values.getAll('need'), ...other], note: (values.get('note') || '').trim(), observed_at: isoLocal(),
        reporter: (currentSession().user.display_name || currentSession().user.username).slice(0, 100), device_id: await deviceId(),
      });
      if (fix) await replace(fix.id, mutation);
      else await enqueue(mutation);
      toast(t('shelter.saved'));
      syncNow('push');
      if (fix) location.hash = '#/sync';
      else draw();
    });

    fill(view, h('h1', {}, t('shelter.title')),
      fix ? h('div', { class: 'notice error' }, h('p', {}, t('sync.fix_intro')), fixErrors(fix)) : null,
      picker, h('p', { class: 'capacity', id: 'shelter-capacity' },
        capacity !== null ? t('shelter.capacity_n', { n: capacity }) : t('shelter.capacity_unknown')),
      summary(latest), form);
  };
  await draw();
  return undefined;
}
