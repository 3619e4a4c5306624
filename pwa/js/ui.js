// Small DOM helpers. Text always goes in as text (never as HTML): names and notes are data.

const PROPERTIES = new Set(['value', 'checked', 'selected', 'disabled', 'hidden', 'required', 'multiple', 'indeterminate']);

// h('button', { class: 'big', onclick: fn }, 'label', child, …)
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  append(el, children);  // children first, so a <select>'s value can name one of its options
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (PROPERTIES.has(name)) el[name] = value;
    else el.setAttribute(name, value === true ? '' : value);
  }
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

// Replace an element's content (null, false and undefined children are skipped).
export function fill(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

let toastTimer = null;

// A short message in the polite live region (screen readers announce it), with optional
// buttons (e.g. 取り消す, メモを追加). Pressing one clears the message. Returns a function that
// clears it now.
export function toast(message, { action, onAction, actions = [], timeout = 5000, onTimeout } = {}) {
  const region = document.getElementById('toast');
  const buttons = action ? [{ label: action, onClick: onAction }, ...actions] : actions;
  const dismiss = () => { clearTimeout(toastTimer); clear(region); region.hidden = true; };
  clear(region);
  region.append(h('p', {}, h('span', { class: 'message' }, message),
    buttons.map((b) => h('button', { type: 'button', class: 'link', id: b.id || null, onclick: () => { dismiss(); b.onClick(); } }, b.label))));
  region.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { dismiss(); if (onTimeout) onTimeout(); }, timeout);
  return dismiss;
}

// Native <dialog>: focus moves in, Esc closes, focus returns to what opened it.
// If the opener was redrawn meanwhile, focus goes to its replacement (same tag and data-id).
export function openDialog(dialog, opener) {
  const back = opener || document.activeElement;
  const id = back && back.dataset ? back.dataset.id : null;
  dialog.addEventListener('close', () => {
    let target = back;
    if (target && !target.isConnected && id) target = document.querySelector(`${back.tagName.toLowerCase()}[data-id="${CSS.escape(id)}"]`);
    if (target && target.isConnected) target.focus();
  }, { once: true });
  dialog.showModal();
}

// Ask before something that cannot be undone (sign-out with unsent records, discarding a change).
export function confirmDialog({ title, body, ok, cancel, danger = false }) {
  return new Promise((resolve) => {
    const dialog = document.getElementById('confirm');
    const titleId = 'confirm-title';
    clear(dialog);
    dialog.setAttribute('aria-labelledby', titleId);
    const form = h('form', { method: 'dialog', class: 'sheet-body' },
      h('h2', { id: titleId }, title),
      ...[].concat(body).map((p) => h('p', {}, p)),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', value: 'cancel', class: 'button secondary' }, cancel),
        h('button', { type: 'submit', value: 'ok', class: danger ? 'button danger' : 'button primary' }, ok)));
    dialog.append(form);
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.returnValue = '';
    openDialog(dialog);
  });
}

export function field(id, labelText, control, hint) {
  control.id = id;
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' }, h('label', { for: id }, labelText), control, hint ? h('p', { id: hintId, class: 'hint' }, hint) : null);
}

// An ISO 8601 time with the device's UTC offset, as the server wants for observed_at.
export function isoLocal(date = new Date()) {
  const pad = (n) => String(Math.abs(n)).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
    + `${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
}

export function todayLocal() {
  return isoLocal().slice(0, 10);
}
