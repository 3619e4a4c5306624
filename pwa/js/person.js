// One person: register details, safety checks, and the individual evacuation plan (read-only
// here; welfare staff edit it on #/person/<id>/plan).
import { fill, h } from './ui.js';
import { t, label, labels, fmtDateTime, fmtDate, age } from './i18n.js';
import { on } from './events.js';
import { currentSession } from './auth.js';
import * as data from './data.js';
import { canRecord, openSafetySheet } from './safety.js';
import { canEditPlans } from './plan-edit.js';
import { statusGlyph } from './palette.js';

function row(term, value) {
  if (value === null || value === undefined || value === '' || (Array.isArray(value) && !value.length)) return null;
  return [h('dt', {}, term), h('dd', {}, value)];
}

function section(id, title, ...content) {
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), ...content);
}

function checkItem(check, shelters) {
  const place = check.shelter_id && shelters.get(check.shelter_id) ? ` — ${shelters.get(check.shelter_id).name}` : '';
  const flag = check._rejected ? t('sync.flag_rejected') : check._pending ? t('sync.flag_pending') : '';
  return h('li', {},
    h('span', { class: `chip s-${check.outcome}` }, statusGlyph(check.outcome), label('SafetyOutcome', check.outcome)),
    ` ${fmtDateTime(check.observed_at)}${place}`,
    check.reporter ? h('span', { class: 'muted' }, ` (${check.reporter})`) : null,
    flag ? h('span', { class: 'flag' }, ` ${flag}`) : null,
    check.note ? h('p', { class: 'note' }, check.note) : null);
}

function planSection(plan, shelters, editable, personId) {
  if (!plan) return section('plan-h', t('plan.title'), h('p', {}, t('plan.none')));
  const shelterName = (id) => (id && shelters.get(id) ? shelters.get(id).name : '');
  const care = plan.care || {};
  const careRows = ['walking_ability', 'how_to_help', 'items_to_carry', 'usual_location', 'building_structure',
    'doctor', 'conditions', 'allergies', 'blood_type'].map((k) => row(t(`care.${k}`), care[k]));
  return section('plan-h', t('plan.title'),
    plan._pending ? h('p', { class: 'flag' }, t('plan.pending')) : null,
    plan._rejected ? h('p', { class: 'flag error' }, t('plan.rejected')) : null,
    h('dl', {},
      row(t('plan.status'), label('PlanStatus', plan.status)),
      row(t('plan.supporters'), (plan.supporters || []).length ? h('ul', { class: 'plain' }, plan.supporters.map((s) =>
        h('li', {}, [s.name, s.relation, s.phone].filter(Boolean).join('　')))) : t('plan.no_supporters')),
      row(t('plan.destination'), shelterName(plan.destination_shelter_id)),
      row(t('plan.alternate'), shelterName(plan.alternate_shelter_id)),
      row(t('plan.route'), plan.route_note),
      row(t('plan.timing'), plan.timing_note),
      ...careRows,
      row(t('plan.consent'), plan.consent ? `${t('common.yes')} ${fmtDate(plan.consent_date)}` : t('common.no')),
      row(t('plan.author'), plan.author),
      row(t('plan.review_due'), fmtDate(plan.review_due))),
    editable ? h('p', {}, h('a', { class: 'button secondary', href: `#/person/${personId}/plan` }, t('plan.edit'))) : null);
}

export async function render(view, { id }) {
  const role = currentSession().me.role;
  const draw = async () => {
    const person = await data.person(id);
    if (!person) {
      fill(view, h('h1', {}, t('person.gone_title')), h('p', {}, t('person.gone')),
        h('p', {}, h('a', { href: '#/people' }, t('nav.people'))));
      return;
    }
    const [checks, plan, shelterList] = await Promise.all([data.checksFor(id), data.planFor(id), data.shelters()]);
    const shelters = new Map(shelterList.map((s) => [s.id, s]));
    const name = person.name || person.register_no;
    const recordButton = canRecord(role)
      ? h('button', { type: 'button', class: 'button primary big', dataset: { id: person.id },
        onclick: (e) => openSafetySheet(person, { opener: e.currentTarget }) }, t('people.record'))
      : null;
    const contacts = (person.emergency_contacts || []).map((c) => h('li', {}, [c.name, c.relation, c.phone].filter(Boolean).join('　')));
    fill(view, 
      h('p', { class: 'back' }, h('a', { href: '#/people' }, t('person.back'))),
      h('h1', {}, name, person.name_kana ? h('span', { class: 'kana' }, ` ${person.name_kana}`) : null),
      recordButton,
      section('checks-h', t('person.checks'),
        checks.length ? h('ul', { class: 'checks' }, checks.map((c) => checkItem(c, shelters))) : h('p', {}, t('people.unchecked'))),
      section('basic-h', t('person.basic'), h('dl', {},
        row(t('person.register_no'), person.register_no),
        row(t('person.birth_date'), person.birth_date ? `${fmtDate(person.birth_date)}（${t('people.age', { n: age(person.birth_date) })}）` : ''),
        row(t('person.sex'), person.sex ? label('Sex', person.sex) : ''),
        row(t('person.address'), person.address),
        row(t('person.phone'), person.phone ? h('a', { href: `tel:${person.phone}` }, person.phone) : ''),
        row(t('person.contact_other'), person.contact_other),
        row(t('person.household'), person.household ? [label('Household', person.household), person.household_note].filter(Boolean).join('　') : ''),
        row(t('person.language'), person.preferred_language && person.preferred_language !== 'ja' ? person.preferred_language : ''),
        row(t('person.association'), person.neighborhood_association),
        row(t('person.minsei'), person.minsei_iin),
        row(t('person.consent'), person.consent ? label('Consent', person.consent) : ''))),
      section('needs-h', t('person.needs'), h('dl', {},
        row(t('person.reasons'), labels('Reason', person.reasons)),
        row(t('person.reason_note'), person.reason_note),
        row(t('person.care_needs'), labels('CareNeed', person.care_needs)),
        row(t('person.notes'), person.notes))),
      section('contacts-h', t('person.contacts'), contacts.length ? h('ul', { class: 'plain' }, contacts) : h('p', {}, t('common.none'))),
      planSection(plan, shelters, canEditPlans(role), id),
    );
  };
  const off = on('data', () => draw());
  await draw();
  return off;
}
