// 福祉的トリアージ: a DWAT member records, for each person assessed at the deployment's shelter,
// the outcome (stay with support / 福祉避難室 here / move to a 福祉避難所 / hospital / other),
// needs and notes. Someone not on the register is added on the spot (the server makes the
// person, flagged for the city office). Offline through the outbox, like every event: a triage
// is never edited, a second one is a new assessment.
import { noDeploymentNotice } from './sync-status.js';
import { field, fill, h, isoLocal, toast } from './ui.js';
import { t, lang, vocabulary, label as vocabLabel, fmtDateTime, age } from './i18n.js';
import { currentSession, deviceId } from './auth.js';
import { may } from './me.js';
import { createMutation, enqueue, entries, find, replace } from './outbox.js';
import { status, syncNow, opened } from './sync.js';
import * as data from './data.js';
import { fixErrors } from './plan-edit.js';

const MOVE = 'move_to_welfare_shelter';
const label = (v) => v[lang()] || v.ja;

export function canTriage() {
  return may('dwat-triages.create');
}

function tiles(name, vocab, selected, legend) {
  return h('fieldset', { class: 'tiles', id: `fs-${name}` },
    h('legend', {}, legend, h('span', { class: 'required' }, t('common.required'))),
    vocabulary(vocab).map((v) => {
      const id = `${name}-${v.value}`;
      return h('span', { class: 'tile' },
        h('input', { type: 'radio', name, id, value: v.value, checked: v.value === selected, required: true }),
        h('label', { for: id }, label(v)));
    }));
}

function checks(name, vocab, selected, legend, id) {
  const chosen = new Set(selected || []);
  return h('fieldset', { class: 'checks', id },
    h('legend', {}, legend),
    vocabulary(vocab).map((v) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', name, value: v.value, checked: chosen.has(v.value) }), label(v))));
}

// The triages of this deployment: the server's copies and this device's own (sent or not).
async function recorded(deploymentId) {
  const db = await opened();
  const [stored, queued] = await Promise.all([db.allBy('dwat-triages', 'deployment_id', deploymentId), entries()]);
  const mine = queued.filter((e) => e.mutation.entity === 'dwat-triages' && e.mutation.data.deployment_id === deploymentId)
    .map((e) => ({ ...e.mutation.data, _pending: e.state === 'pending', _rejected: e.state === 'rejected' }));
  const ids = new Set(stored.map((r) => r.id));
  return [...stored, ...mine.filter((r) => !ids.has(r.id))].sort((a, b) => Date.parse(b.observed_at) - Date.parse(a.observed_at));
}

export async function render(view, params, query) {
  const deployments = await data.activeDeployments();
  if (!canTriage() || !deployments.length) {
    fill(view, h('h1', {}, t('triage.title')), status.undeployed ? noDeploymentNotice() : h('p', {}, t('dwat.none')));
    return undefined;
  }
  const fix = query.get('fix') ? await find(query.get('fix')) : null;
  const start = fix ? fix.mutation.data : {};
  let deploymentId = start.deployment_id || deployments[0].id;
  let personId = start.person_id || query.get('person') || null;
  let adding = Boolean(start.new_person);
  let search = '';
  const db = await opened();

  const draw = async () => {
    const deployment = deployments.find((d) => d.id === deploymentId) || deployments[0];
    const [people, shelter, earlier] = await Promise.all([db.all('people'), db.get('shelters', deployment.shelter_id), recorded(deploymentId)]);
    const byId = new Map(people.map((p) => [p.id, p]));
    const key = data.kanaKey(search);
    const shown = people.filter((p) => !key || data.kanaKey(p.name_kana).includes(key) || data.kanaKey(p.name).includes(key))
      .sort((a, b) => (a.name_kana || a.name).localeCompare(b.name_kana || b.name, 'ja')).slice(0, 60);

    const list = h('ul', { class: 'pick-list', id: 'triage-people', 'aria-label': t('triage.person') },
      shown.map((p) => h('li', {}, h('button', {
        type: 'button', 'aria-pressed': String(!adding && p.id === personId), dataset: { id: p.id },
        onclick: () => { personId = p.id; adding = false; draw(); },
      }, `${p.name}（${p.name_kana || ''}）${p.birth_date ? ` ${age(p.birth_date)}${lang() === 'ja' ? '歳' : ''}` : ''}`))));
    const newPerson = start.new_person || {};
    const newcomer = adding ? h('fieldset', { id: 'triage-newcomer' }, h('legend', {}, t('triage.new_title')),
      field('np-name', t('triage.name'), h('input', { name: 'np_name', maxlength: 100, value: newPerson.name || '', autocomplete: 'off' })),
      field('np-kana', t('triage.kana'), h('input', { name: 'np_kana', maxlength: 200, value: newPerson.name_kana || '', autocomplete: 'off' })),
      field('np-sex', t('triage.sex'), h('select', { name: 'np_sex' },
        vocabulary('Sex').map((v) => h('option', { value: v.value, selected: v.value === (newPerson.sex || 'unknown') }, label(v))))),
      field('np-birth', t('triage.birth'), h('input', { type: 'date', name: 'np_birth', value: newPerson.birth_date || '' }))) : null;
    const chosen = adding ? null : byId.get(personId);

    const form = h('form', { class: 'form', novalidate: true },
      h('p', { class: 'lead' }, shelter ? shelter.name : ''),
      h('section', { 'aria-labelledby': 'triage-person-title' },
        h('h2', { id: 'triage-person-title' }, t('triage.person')),
        chosen ? h('p', { id: 'triage-chosen', class: 'banner' }, t('triage.chosen', { name: chosen.name })) : null,
        field('triage-search', t('triage.search'), h('input', { type: 'search', value: search,
          oninput: (e) => { search = e.target.value; clearTimeout(draw.timer); draw.timer = setTimeout(async () => { await draw(); const box = document.getElementById('triage-search'); if (box) { box.focus(); box.setSelectionRange(box.value.length, box.value.length); } }, 250); } })),
        shown.length ? list : h('p', {}, t('triage.none_here')),
        h('button', { type: 'button', class: 'button secondary', id: 'triage-add', 'aria-pressed': String(adding),
          onclick: () => { adding = true; personId = null; draw(); } }, t('triage.new')),
        newcomer),
      tiles('outcome', 'TriageOutcome', start.outcome, t('triage.outcome')),
      checks('needs', 'NeedKind', start.needs, t('triage.needs'), 'triage-needs'),
      checks('groups', 'TargetGroup', start.groups, t('triage.groups'), 'triage-groups'),
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'urgent', checked: Boolean(start.urgent) }), t('triage.urgent')),
      field('triage-notes', t('triage.notes'), h('textarea', { name: 'notes', rows: 3, maxlength: 2000, value: start.notes || '' })),
      h('p', { class: 'error', role: 'alert', id: 'triage-error' }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary big' }, t('triage.save'))));

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const values = new FormData(form);
      const error = form.querySelector('#triage-error');
      const outcome = values.get('outcome');
      let person = {};
      if (adding) {
        const name = (values.get('np_name') || '').trim();
        const birth = values.get('np_birth');
        if (!name || !birth) { error.textContent = t('triage.name_required'); form.querySelector('#np-name').focus(); return; }
        person = { new_person: { name, name_kana: (values.get('np_kana') || '').trim(), sex: values.get('np_sex') || 'unknown', birth_date: birth } };
      } else if (personId) {
        person = { person_id: personId };
      } else {
        error.textContent = t('triage.pick_person');
        form.querySelector('#triage-search').focus();
        return;
      }
      if (!outcome) { error.textContent = t('triage.pick_outcome'); form.querySelector('#fs-outcome input').focus(); return; }
      const mutation = createMutation('dwat-triages', {
        deployment_id: deploymentId, ...person, outcome,
        needs: values.getAll('needs'), groups: outcome === MOVE ? values.getAll('groups') : [],
        urgent: values.get('urgent') === 'on', notes: (values.get('notes') || '').trim(),
        observed_at: isoLocal(), reporter: (currentSession().user.display_name || currentSession().user.username).slice(0, 100),
        device_id: await deviceId(),
      });
      if (fix) await replace(fix.id, mutation);
      else await enqueue(mutation);
      toast(t('triage.saved'));
      syncNow('push');
      if (fix) { location.hash = '#/sync'; return; }
      personId = null; adding = false; search = '';
      Object.keys(start).forEach((k) => delete start[k]);
      draw();
    });

    const nameOf = (r) => (r.person_id && byId.get(r.person_id) ? byId.get(r.person_id).name
      : r.new_person ? t('triage.new_person', { name: r.new_person.name }) : '');
    fill(view, h('h1', {}, t('triage.title')),
      fix ? h('div', { class: 'notice error' }, h('p', {}, t('sync.fix_intro')), fixErrors(fix)) : null,
      deployments.length > 1 ? field('triage-deployment', t('dwat.deployment'), h('select', { onchange: (e) => { deploymentId = e.target.value; draw(); } },
        deployments.map((d) => h('option', { value: d.id, selected: d.id === deploymentId }, d.start_date)))) : null,
      form,
      h('section', { class: 'card', 'aria-labelledby': 'triage-earlier' }, h('h2', { id: 'triage-earlier' }, t('triage.earlier')),
        earlier.length ? h('ul', { class: 'plain', id: 'triage-list' }, earlier.map((r) => h('li', { dataset: { id: r.id } },
          `${fmtDateTime(r.observed_at)}　${nameOf(r)}：${vocabLabel('TriageOutcome', r.outcome)}`,
          r._pending ? h('span', { class: 'flag' }, ` ${t('sync.flag_pending')}`) : null,
          r._rejected ? h('span', { class: 'flag' }, ` ${t('sync.flag_rejected')}`) : null))) : h('p', {}, t('common.none'))));
  };
  await draw();
  return undefined;
}
