// 安否確認: the sheet that records a safety check. From the people list it is the second tap:
// one tap opens it, one tap on an outcome saves. "Evacuated" then asks where (optional).
//
// A mis-tap is undoable: the record is saved at once but held on this device for UNDO_MS
// (the outbox does not send it meanwhile), and the confirmation offers 取り消す (the record is
// taken back out of the outbox: it never reaches the server) and メモを追加 (the note goes into
// the same, still unsent record). After the window the record is sent; a safety check on the
// server is an immutable event, so from then on only a new check can supersede it.
import { clear, fill, h, isoLocal, openDialog, toast } from './ui.js';
import { t, label } from './i18n.js';
import { amend, createMutation, enqueue, hold, replace, withdraw } from './outbox.js';
import { currentSession, deviceId } from './auth.js';
import { may } from './me.js';
import { syncNow } from './sync.js';
import * as data from './data.js';
import { statusGlyph } from './palette.js';

export const OUTCOMES = ['safe_home', 'evacuated', 'needs_help', 'injured', 'unreachable'];
export const UNDO_MS = 10 * 1000;           // the undo window after a safety check is saved
const EDITING_MS = 10 * 60 * 1000;          // held while the user is still on it (where? a note)

// The role argument of older callers is ignored: the server's access table answers (me.js).
export function canRecord() {
  return may('safety-checks.create');
}

function reporter() {
  const s = currentSession();
  return (s.user.display_name || s.user.username || '').slice(0, 100);
}

export async function recordCheck(person, outcome, { note = '', shelterId = null, replacing = null, holdUntil = 0 } = {}) {
  const mutation = createMutation('safety-checks', {
    person_id: person.id, outcome, observed_at: isoLocal(), note: note.trim(), shelter_id: shelterId,
    whereabouts: '', reporter: reporter(), device_id: await deviceId(),
  });
  if (replacing) await replace(replacing, mutation, { hold: holdUntil });
  else await enqueue(mutation, { hold: holdUntil });
  return mutation;
}

function sheetParts(dialog, titleId) {
  clear(dialog);
  dialog.setAttribute('aria-labelledby', titleId);
  const body = h('div', { class: 'sheet-body' });
  dialog.append(body);
  return body;
}

// The confirmation: saved, with 取り消す and メモを追加 for UNDO_MS; then the record is sent.
function confirmSaved(person, mutation, opener) {
  const name = person.name || person.register_no;
  const outcome = label('SafetyOutcome', mutation.data.outcome);
  toast(t('safety.saved', { name, outcome }), {
    timeout: UNDO_MS,
    actions: [
      { id: 'toast-undo', label: t('safety.undo'), onClick: () => undo(person, mutation) },
      { id: 'toast-note', label: t('safety.add_note'), onClick: () => openNoteSheet(person, mutation, opener) },
    ],
  });
}

async function undo(person, mutation) {
  const name = person.name || person.register_no;
  const outcome = label('SafetyOutcome', mutation.data.outcome);
  if (await withdraw(mutation.id)) toast(t('safety.undone', { name, outcome }));
  else toast(t('safety.undo_too_late', { name, outcome }), { timeout: 10000 });
}

// A note for the record just made: into the same record while it is still here, otherwise
// (already sent) as a new check with the same outcome and the note.
async function openNoteSheet(person, mutation, opener) {
  const stillHere = await hold(mutation.id, Date.now() + EDITING_MS);
  const dialog = document.getElementById('sheet');
  const titleId = 'sheet-title';
  const name = person.name || person.register_no;
  const body = sheetParts(dialog, titleId);
  const note = h('textarea', { id: 'safety-add-note', rows: 3, maxlength: 2000, value: mutation.data.note || '' });
  let saved = false;
  const save = async () => {
    saved = true;
    const text = note.value.trim();
    if (stillHere && await amend(mutation.id, { note: text })) await hold(mutation.id, 0);
    else if (text) await recordCheck(person, mutation.data.outcome, { note: text, shelterId: mutation.data.shelter_id });
    dialog.close();
    toast(t('safety.note_saved', { name }));
  };
  fill(body,
    h('h2', { id: titleId }, t('safety.note_title', { name })),
    h('div', { class: 'sheet-scroll' },
      h('p', { class: 'muted' }, t('safety.note_for', { outcome: label('SafetyOutcome', mutation.data.outcome) })),
      h('div', { class: 'field' }, h('label', { for: 'safety-add-note' }, t('safety.note')), note)),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'button secondary', onclick: () => dialog.close() }, t('common.cancel')),
      h('button', { type: 'button', class: 'button primary', id: 'safety-note-save', onclick: save }, t('common.save'))));
  dialog.addEventListener('close', () => { if (!saved && stillHere) hold(mutation.id, 0); }, { once: true });
  openDialog(dialog, opener && opener.isConnected ? opener : null);
  note.focus();
}

// fix: a rejected outbox entry to correct (from the sync screen); its values are the starting point.
export async function openSafetySheet(person, { opener, fix } = {}) {
  const dialog = document.getElementById('sheet');
  const titleId = 'sheet-title';
  const name = person.name || person.register_no;
  const note = h('textarea', { rows: 2, maxlength: 2000, value: fix ? fix.mutation.data.note || '' : '' });
  const body = sheetParts(dialog, titleId);
  let made = null;  // the record made here, for the confirmation

  const close = () => dialog.close();
  const stepOutcome = () => {
    fill(body,
      h('h2', { id: titleId }, t('safety.title', { name })),
      h('div', { class: 'sheet-scroll' },
        person.address ? h('p', { class: 'muted' }, person.address) : null,
        h('div', { class: 'outcomes', role: 'group', 'aria-label': t('safety.outcome') },
          OUTCOMES.map((o) => h('button', { type: 'button', class: `outcome o-${o}`, dataset: { outcome: o }, onclick: () => save(o) },
            statusGlyph(o), label('SafetyOutcome', o)))),
        h('div', { class: 'field' }, h('label', { for: 'safety-note' }, t('safety.note')), Object.assign(note, { id: 'safety-note' }))),
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'button secondary', onclick: close }, t('common.cancel'))),
    );
  };

  const save = async (outcome) => {
    const evacuated = outcome === 'evacuated';
    const mutation = await recordCheck(person, outcome, { note: note.value, replacing: fix ? fix.id : null,
      holdUntil: Date.now() + (evacuated ? EDITING_MS : UNDO_MS) });
    made = mutation;
    if (evacuated) {
      await stepWhere(mutation);
      return;
    }
    close();
  };

  // Where did they go? Saved already (and held while this is answered); choosing a shelter
  // amends the unsent check (or, if it is on its way, records a second check with the place).
  const stepWhere = async (mutation) => {
    const plan = await data.planFor(person.id);
    const shelters = await data.shelters();
    const byId = new Map(shelters.map((s) => [s.id, s]));
    const planned = [plan && plan.destination_shelter_id, plan && plan.alternate_shelter_id].filter((id) => id && byId.has(id));
    const others = h('select', { id: 'where-other' },
      h('option', { value: '' }, t('safety.where_choose')),
      shelters.filter((s) => !planned.includes(s.id)).map((s) => h('option', { value: s.id }, s.name)));
    const choose = async (shelterId) => {
      if (shelterId) {
        if (await amend(mutation.id, { shelter_id: shelterId })) mutation.data.shelter_id = shelterId;
        else made = await recordCheck(person, 'evacuated', { note: note.value, shelterId, holdUntil: Date.now() + UNDO_MS });
      }
      close();
    };
    fill(body,
      h('h2', { id: titleId, tabindex: '-1' }, t('safety.where_title', { name })),
      h('div', { class: 'sheet-scroll' },
        h('p', { class: 'muted' }, t('safety.where_saved')),
        planned.length ? h('div', { class: 'outcomes', role: 'group', 'aria-label': t('safety.where_planned') },
          planned.map((id, i) => h('button', { type: 'button', class: 'button choice', onclick: () => choose(id) },
            h('span', { class: 'small' }, t(i === 0 ? 'plan.destination' : 'plan.alternate')), ' ', byId.get(id).name))) : null,
        h('div', { class: 'field' }, h('label', { for: 'where-other' }, t('safety.where_other')), others)),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'button secondary', onclick: () => choose(null) }, t('safety.where_skip')),
        h('button', { type: 'button', class: 'button primary', onclick: () => choose(others.value || null) }, t('common.save'))),
    );
    body.querySelector('h2').focus();
  };

  stepOutcome();
  dialog.addEventListener('close', async () => {
    if (made) {
      // However the sheet was left (saved, where answered, or Esc on "where"): the undo window starts now.
      await hold(made.id, Date.now() + UNDO_MS);
      confirmSaved(person, made, opener);
    }
    syncNow('push');
  }, { once: true });
  openDialog(dialog, opener);
}
