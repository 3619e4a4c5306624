// DWAT活動日報: the team leader's daily activity report for the active deployment, J-SPEED-like:
// counts per activity kind and triages per outcome with steppers (a few taps), the issues, the
// handover to the next team, requests to HQ. Offline through the outbox; the server keeps the
// older three numbers in step (people assessed, consultations, referrals) for older readers.
import { noDeploymentNotice } from './sync-status.js';
import { field, fill, h, isoLocal, toast, todayLocal } from './ui.js';
import { t, fmtDate, lang, vocabulary } from './i18n.js';
import { counts, stepper } from './stepper.js';
import { currentSession, deviceId } from './auth.js';
import { may } from './me.js';
import { createMutation, enqueue, find, replace } from './outbox.js';
import { status, syncNow, opened } from './sync.js';
import * as data from './data.js';
import { fixErrors } from './plan-edit.js';

const TEXTS = ['issues', 'handover', 'requests_to_hq'];
const label = (v) => v[lang()] || v.ja;

// A report's activity total: counts and triages (an older report: its three numbers).
function total(r) {
  const sum = (o) => Object.values(o || {}).reduce((a, n) => a + (Number(n) || 0), 0);
  const n = sum(r.counts) + sum(r.triage_counts);
  return n || (r.people_assessed || 0) + (r.consultations || 0) + (r.referrals || 0);
}

export function canReportDwat() {
  return may('dwat-activity-reports.create');
}

async function deploymentLabel(deployment) {
  const db = await opened();
  const [team, shelter] = await Promise.all([db.get('dwat-teams', deployment.team_id), db.get('shelters', deployment.shelter_id)]);
  return `${team ? team.name : t('dwat.team')} → ${shelter ? shelter.name : t('dwat.shelter')}（${fmtDate(deployment.start_date)}〜）`;
}

export async function render(view, params, query) {
  const deployments = await data.activeDeployments();
  if (!canReportDwat() || !deployments.length) {
    fill(view, h('h1', {}, t('dwat.title')), status.undeployed ? noDeploymentNotice() : h('p', {}, t('dwat.none')));
    return undefined;
  }
  const fix = query.get('fix') ? await find(query.get('fix')) : null;
  let deploymentId = (fix && fix.mutation.data.deployment_id) || deployments[0].id;
  const labels = new Map(await Promise.all(deployments.map(async (d) => [d.id, await deploymentLabel(d)])));

  const draw = async () => {
    const start = fix ? fix.mutation.data : { report_date: todayLocal() };
    const earlier = await data.dwatReports(deploymentId);
    const picker = deployments.length > 1 ? field('dwat-deployment', t('dwat.deployment'),
      h('select', { onchange: (e) => { deploymentId = e.target.value; draw(); } },
        deployments.map((d) => h('option', { value: d.id, selected: d.id === deploymentId }, labels.get(d.id)))))
      : h('p', { class: 'lead' }, labels.get(deploymentId));
    const form = h('form', { class: 'form', novalidate: true },
      field('dwat-date', t('dwat.report_date'), h('input', { type: 'date', name: 'report_date', required: true, value: start.report_date || todayLocal(), max: todayLocal() })),
      h('fieldset', { class: 'steppers', id: 'dwat-activities' }, h('legend', {}, t('dwat.activity_counts')),
        vocabulary('Activity').map((a) => stepper(a.value, label(a), (start.counts || {})[a.value], 'act'))),
      h('fieldset', { class: 'steppers', id: 'dwat-triage' }, h('legend', {}, t('dwat.triage_counts')),
        vocabulary('TriageOutcome').map((o) => stepper(o.value, label(o), (start.triage_counts || {})[o.value], 'tri'))),
      TEXTS.map((f) => field(`dwat-${f}`, t(`dwat.${f}`), h('textarea', { name: f, rows: 3, maxlength: f === 'handover' ? 4000 : 2000, value: start[f] || '' }))),
      h('p', { class: 'error', role: 'alert', id: 'dwat-error' }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary big' }, t('dwat.save'))));

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const values = new FormData(form);
      if (!values.get('report_date')) {
        form.querySelector('#dwat-error').textContent = t('dwat.date_required');
        form.querySelector('#dwat-date').focus();
        return;
      }
      const mutation = createMutation('dwat-activity-reports', {
        deployment_id: deploymentId, report_date: values.get('report_date'),
        counts: counts(form.querySelector('#dwat-activities'), vocabulary('Activity').map((a) => a.value)),
        triage_counts: counts(form.querySelector('#dwat-triage'), vocabulary('TriageOutcome').map((o) => o.value)),
        ...Object.fromEntries(TEXTS.map((f) => [f, (values.get(f) || '').trim()])),
        observed_at: isoLocal(), reporter: (currentSession().user.display_name || currentSession().user.username).slice(0, 100),
        device_id: await deviceId(),
      });
      if (fix) await replace(fix.id, mutation);
      else await enqueue(mutation);
      toast(t('dwat.saved'));
      syncNow('push');
      if (fix) location.hash = '#/sync';
      else draw();
    });

    fill(view, h('h1', {}, t('dwat.title')),
      fix ? h('div', { class: 'notice error' }, h('p', {}, t('sync.fix_intro')), fixErrors(fix)) : null,
      picker, form,
      h('section', { class: 'card', 'aria-labelledby': 'dwat-earlier' }, h('h2', { id: 'dwat-earlier' }, t('dwat.earlier')),
        earlier.length ? h('ul', { class: 'plain' }, earlier.map((r) => h('li', {},
          `${fmtDate(r.report_date)}　${t('dwat.total', { n: total(r) })}`,
          r._pending ? h('span', { class: 'flag' }, ` ${t('sync.flag_pending')}`) : null))) : h('p', {}, t('common.none'))));
  };
  await draw();
  return undefined;
}
