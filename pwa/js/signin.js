// サインイン. Also the lock screen: after the offline window has passed, or when the server
// refused the token, the user signs in again; their data and unsent records stay until then.
import { confirmDialog, field, fill, h } from './ui.js';
import { t, fmtDateTime } from './i18n.js';
import { ApiError, NetworkError, currentSession, offlineUntil, signIn } from './auth.js';
import { status, close as closeSync } from './sync.js';
import { confirmSignOut } from './sync-status.js';

export async function render(view, params, query, { onSignedIn }) {
  const locked = currentSession();
  const username = h('input', { type: 'text', name: 'username', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true, value: locked ? locked.user.username : '' });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const label = h('input', { type: 'text', name: 'label', maxlength: 100, autocomplete: 'off' });
  const error = h('p', { class: 'error', role: 'alert', id: 'signin-error' });
  const submit = h('button', { type: 'submit', class: 'button primary big' }, t('signin.submit'));
  const form = h('form', { class: 'form narrow', novalidate: true },
    field('signin-username', t('signin.username'), username),
    field('signin-password', t('signin.password'), password),
    field('signin-label', t('signin.label'), label, t('signin.label_hint')),
    error, h('div', { class: 'actions' }, submit));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    if (!username.value.trim() || !password.value) {
      error.textContent = t('signin.missing');
      (username.value.trim() ? password : username).focus();
      return;
    }
    if (locked && username.value.trim().toLowerCase() !== locked.user.username && status.pending + status.rejected > 0) {
      const ok = await confirmDialog({
        title: t('signin.other_user_title'), body: [t('signin.other_user_body', { name: locked.user.username, n: status.pending + status.rejected })],
        ok: t('signin.other_user_ok'), cancel: t('common.cancel'), danger: true,
      });
      if (!ok) return;
    }
    submit.disabled = true;
    submit.textContent = t('signin.busy');
    try {
      if (locked && username.value.trim().toLowerCase() !== locked.user.username) closeSync();
      await signIn(username.value.trim(), password.value, label.value.trim());
      password.value = '';
      await onSignedIn();
    } catch (err) {
      password.value = '';
      if (err instanceof NetworkError) error.textContent = t('signin.offline');
      else if (err instanceof ApiError && err.status === 429) error.textContent = t('signin.throttled');
      else if (err instanceof ApiError) error.textContent = err.message;
      else error.textContent = String(err.message || err);
      password.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = t('signin.submit');
    }
  });

  const lockNotice = locked ? h('div', { class: 'notice warn' },
    h('p', {}, locked.locked === 'token' ? t('signin.locked_token') : t('signin.locked_expired', { when: fmtDateTime(offlineUntil(locked).toISOString()) })),
    h('p', {}, t('signin.locked_data'))) : null;
  fill(view, 
    h('h1', {}, locked ? t('signin.again_title') : t('signin.title')),
    locked ? null : h('p', { class: 'lead' }, t('signin.intro')),
    lockNotice, form,
    locked ? h('p', {}, h('button', { type: 'button', class: 'button danger', onclick: () => confirmSignOut(status.pending + status.rejected) }, t('signin.erase'))) : null);
  (locked ? password : username).focus();
  return undefined;
}
