// 安否確認: the sheet that records a safety check. From the people list it is the second tap:
// one tap opens it, one tap on an outcome saves. "Evacuated" then asks where (optional).
import { clear, fill, h, isoLocal, openDialog, toast } from './ui.js';
import { t, label } from './i18n.js';
import { amend, createMutation, enqueue, replace } from './outbox.js';
import { currentSession, deviceId } from './auth.js';
import { may } from './me.js';
import { syncNow } from './sync.js';
import * as data from './data.js';

export const OUTCOMES = ['safe_home', 'evacuated', 'needs_help', 'injured', 'unreachable'];

// The role argument of older callers is ignored: the server's access table answers (me.js).
export function canRecord() {
  return may('safety-checks.create');
}

function reporter() {
  const s = currentSession();
  return (s.user.display_name || s.user.username || '').slice(0, 100);
}

export async function recordCheck(person, outcome, { note = '', shelterId = null, replacing = null } = {}) {
  const mutation = createMutation('safety-checks', {
    person_id: person.id, outcome, observed_at: isoLocal(), note: note.trim(), shelter_id: shelterId,
    whereabouts: '', reporter: reporter(), device_id: await deviceId(),
  });
  if (replacing) await replace(replacing, mutation);
  else await enqueue(mutation);
  return mutation;
}

// fix: a rejected outbox entry to correct (from the sync screen); its values are the starting point.
export async function openSafetySheet(person, { opener, fix } = {}) {
  const dialog = document.getElementById('sheet');
  const titleId = 'sheet-title';
  const name = person.name || person.register_no;
  const note = h('textarea', { rows: 2, maxlength: 2000, value: fix ? fix.mutation.data.note || '' : '' });
  clear(dialog);
  dialog.setAttribute('aria-labelledby', titleId);
  const body = h('div', { class: 'sheet-body' });
  dialog.append(body);

  const close = () => dialog.close();
  const stepOutcome = () => {
    fill(body,
      h('h2', { id: titleId }, t('safety.title', { name })),
      person.address ? h('p', { class: 'muted' }, person.address) : null,
      h('div', { class: 'outcomes', role: 'group', 'aria-label': t('safety.outcome') },
        OUTCOMES.map((o) => h('button', { type: 'button', class: `outcome o-${o}`, dataset: { outcome: o }, onclick: () => save(o) },
          label('SafetyOutcome', o)))),
      h('div', { class: 'field' }, h('label', { for: 'safety-note' }, t('safety.note')), Object.assign(note, { id: 'safety-note' })),
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'button secondary', onclick: close }, t('common.cancel'))),
    );
  };

  const save = async (outcome) => {
    const mutation = await recordCheck(person, outcome, { note: note.value, replacing: fix ? fix.id : null });
    if (outcome === 'evacuated') {
      await stepWhere(mutation);
      return;
    }
    close();
    toast(t('safety.saved', { name, outcome: label('SafetyOutcome', outcome) }));
  };

  // Where did they go? Saved already; choosing a shelter amends the unsent check (or, if it is on
  // its way, records a second check with the place).
  const stepWhere = async (mutation) => {
    const plan = await data.planFor(person.id);
    const shelters = await data.shelters();
    const byId = new Map(shelters.map((s) => [s.id, s]));
    const planned = [plan && plan.destination_shelter_id, plan && plan.alternate_shelter_id].filter((id) => id && byId.has(id));
    const others = h('select', { id: 'where-other' },
      h('option', { value: '' }, t('safety.where_choose')),
      shelters.filter((s) => !planned.includes(s.id)).map((s) => h('option', { value: s.id }, s.name)));
    const choose = async (shelterId) => {
      if (shelterId && !(await amend(mutation.id, { shelter_id: shelterId }))) {
        await recordCheck(person, 'evacuated', { note: note.value, shelterId });
      }
      close();
      toast(t('safety.saved', { name, outcome: label('SafetyOutcome', 'evacuated') }));
    };
    fill(body,
      h('h2', { id: titleId, tabindex: '-1' }, t('safety.where_title', { name })),
      h('p', { class: 'muted' }, t('safety.where_saved')),
      planned.length ? h('div', { class: 'outcomes', role: 'group', 'aria-label': t('safety.where_planned') },
        planned.map((id, i) => h('button', { type: 'button', class: 'button choice', onclick: () => choose(id) },
          h('span', { class: 'small' }, t(i === 0 ? 'plan.destination' : 'plan.alternate')), ' ', byId.get(id).name))) : null,
      h('div', { class: 'field' }, h('label', { for: 'where-other' }, t('safety.where_other')), others),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'button secondary', onclick: () => choose(null) }, t('safety.where_skip')),
        h('button', { type: 'button', class: 'button primary', onclick: () => choose(others.value || null) }, t('common.save'))),
    );
    body.querySelector('h2').focus();
  };

  stepOutcome();
  dialog.addEventListener('close', () => syncNow('push'), { once: true });  // send as soon as the sheet closes
  openDialog(dialog, opener);
}
