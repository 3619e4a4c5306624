// A count with large − / + buttons (J-SPEED-like reports: a few taps, no keyboard needed).
// The number stays a real <input type="number"> (typing works too, and forms read it); the
// buttons say what they change to screen readers.
import { h } from './ui.js';
import { t } from './i18n.js';

export function stepper(name, labelText, value = 0, idPrefix = 'st') {
  const id = `${idPrefix}-${name}`;
  const input = h('input', { type: 'number', name, id, min: 0, step: 1, inputmode: 'numeric', value: String(value || 0),
    class: 'stepper-value' });
  const change = (delta) => {
    const next = Math.max(0, (parseInt(input.value, 10) || 0) + delta);
    input.value = String(next);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  };
  return h('div', { class: 'stepper', dataset: { name } },
    h('label', { for: id }, labelText),
    h('div', { class: 'stepper-row' },
      h('button', { type: 'button', class: 'button secondary step', 'aria-label': `${labelText} ${t('step.minus')}`, onclick: () => change(-1) }, '−'),
      input,
      h('button', { type: 'button', class: 'button secondary step', 'aria-label': `${labelText} ${t('step.plus')}`, onclick: () => change(1) }, '+')));
}

// {name: count} of the steppers in `root` whose count is above 0.
export function counts(root, names) {
  const out = {};
  for (const name of names) {
    const input = root.querySelector(`input[name="${CSS.escape(name)}"]`);
    const n = Math.max(0, parseInt(input && input.value, 10) || 0);
    if (n) out[name] = n;
  }
  return out;
}
