// DWAT活動日報: the team leader's daily activity report for the active deployment.
import { noDeploymentNotice } from './sync-status.js';
import { field, fill, h, isoLocal, toast, todayLocal } from './ui.js';
import { t, fmtDate } from './i18n.js';
import { currentSession, deviceId } from './auth.js';
import { may } from './me.js';
import { createMutation, enqueue, find, replace } from './outbox.js';
import { status, syncNow, opened } from './sync.js';
import * as data from './data.js';
import { fixErrors } from './plan-edit.js';

const COUNTS = ['people_assessed', 'consultations', 'referrals'];
const TEXTS = ['activities', 'issues', 'requests_to_hq'];

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
      h('fieldset', { class: 'grid' }, h('legend', {}, t('dwat.counts')),
        COUNTS.map((c) => field(`dwat-${c}`, t(`dwat.${c}`), h('input', { type: 'number', name: c, min: 0, step: 1, inputmode: 'numeric', value: String(start[c] ?? 0) })))),
      TEXTS.map((f) => field(`dwat-${f}`, t(`dwat.${f}`), h('textarea', { name: f, rows: f === 'activities' ? 5 : 3, maxlength: f === 'activities' ? 4000 : 2000, value: start[f] || '' }))),
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
        ...Object.fromEntries(COUNTS.map((c) => [c, Math.max(0, parseInt(values.get(c), 10) || 0)])),
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
          `${fmtDate(r.report_date)}　${t('dwat.people_assessed')} ${r.people_assessed}・${t('dwat.consultations')} ${r.consultations}・${t('dwat.referrals')} ${r.referrals}`,
          r._pending ? h('span', { class: 'flag' }, ` ${t('sync.flag_pending')}`) : null))) : h('p', {}, t('common.none'))));
  };
  await draw();
  return undefined;
}
