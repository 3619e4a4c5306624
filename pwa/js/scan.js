// QRコードで開く: the QR code printed on a paper evacuation plan opens that person's page.
// The code holds only an id — TSUNAGU:PLAN:<uuid> or TSUNAGU:PERSON:<uuid>, upper case, read in
// any case (server/printing/qr.py) — and the id is looked up in this device's IndexedDB only,
// never asked of the server: a plan outside the user's scope, or not synced yet, is "not on
// this device". Frames from the camera are decoded in a worker (qr-worker.js, with jsQR).
// Typing the code, the plan's ID or the 登録者番号 is the way in when there is no camera, it is
// refused, or the paper is damaged. A 登録者番号 held by people of two municipalities on this
// device (each city numbers its own register) opens neither: the QR code or the plan's ID does.
import { field, fill, h } from './ui.js';
import { t } from './i18n.js';
import * as data from './data.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EVERY_MS = 150;  // one frame every 150 ms: quick enough, and easy on an old tablet's battery
const MAX_SIDE = 800;  // frames are scaled down to this before decoding

// getUserMedia's errors → what the user is told (anything else: scan.camera_failed)
const CAMERA_ERRORS = {
  NotAllowedError: 'scan.refused', SecurityError: 'scan.refused',
  NotFoundError: 'scan.no_camera', OverconstrainedError: 'scan.no_camera',
  NotReadableError: 'scan.camera_busy', AbortError: 'scan.camera_busy',
};

// 'TSUNAGU:PLAN:<uuid>' in any case (full-width too) → { kind: 'plan', id: '<uuid, lower case>' };
// null when the text is not one of ours.
export function parseCode(text) {
  const parts = String(text || '').normalize('NFKC').trim().split(':');
  if (parts.length !== 3 || parts[0].toUpperCase() !== 'TSUNAGU' || !parts[1] || !UUID.test(parts[2])) return null;
  return { kind: parts[1].toLowerCase(), id: parts[2].toLowerCase() };
}

async function personOfPlan(planId) {
  const plan = await data.plan(planId);
  return plan ? data.person(plan.person_id) : null;
}

// Where a scanned or typed text leads: { personId } if it is on this device, else { message }
// (an i18n key). Typed text may also be the plan's ID (printed at the foot of the plan, a bare
// uuid) or the person's 登録者番号.
export async function resolve(text, { typed = false } = {}) {
  const code = parseCode(text);
  if (code) {
    if (code.kind === 'plan') {
      const person = await personOfPlan(code.id);
      return person ? { personId: person.id } : { message: 'scan.not_here_plan' };
    }
    if (code.kind === 'person') {
      const person = await data.person(code.id);
      return person ? { personId: person.id } : { message: 'scan.not_here_person' };
    }
    return { message: 'scan.other_kind' };
  }
  if (!typed) return { message: 'scan.not_ours' };
  const raw = String(text || '').normalize('NFKC').trim();
  const bare = raw.replace(/^ID[\s:]*/i, '');
  if (UUID.test(bare)) {
    const id = bare.toLowerCase();
    const person = (await personOfPlan(id)) || (await data.person(id));
    return person ? { personId: person.id } : { message: 'scan.not_here_plan' };
  }
  const people = raw ? await data.peopleByRegisterNo(raw) : [];
  // two cities' people with one number: never open one of them at a guess
  if (people.length > 1) return { message: 'scan.shared_number' };
  return people.length ? { personId: people[0].id } : { message: 'scan.not_ours_typed' };
}

export async function render(view) {
  const result = h('p', { id: 'scan-result', class: 'scan-result', role: 'status', 'aria-live': 'polite' });
  const video = h('video', { id: 'scan-video', playsinline: true, 'aria-label': t('scan.video') });
  video.muted = true;
  const finder = h('div', { class: 'viewfinder', hidden: true }, video);
  const cameraState = h('p', { id: 'scan-camera-state', class: 'camera-state', 'aria-live': 'polite', dataset: { state: 'starting' } },
    t('scan.starting'));
  const retry = h('button', { type: 'button', class: 'button secondary big', id: 'scan-retry', hidden: true }, t('scan.retry'));
  const input = h('input', {
    type: 'text', name: 'code', autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false', enterkeyhint: 'go',
  });
  const form = h('form', { class: 'form', novalidate: true },
    field('scan-code', t('scan.code'), input, t('scan.code_hint')),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary big', id: 'scan-open' }, t('scan.open'))));
  input.setAttribute('aria-describedby', 'scan-code-hint scan-result');
  fill(view,
    h('p', { class: 'back' }, h('a', { href: '#/people' }, t('person.back'))),
    h('h1', {}, t('scan.title')),
    h('p', { class: 'lead' }, t('scan.intro')),
    result,
    h('div', { class: 'scan-ways' },
      h('section', { class: 'card', 'aria-labelledby': 'scan-camera-h' },
        h('h2', { id: 'scan-camera-h' }, t('scan.camera')), finder, cameraState, retry),
      h('section', { class: 'card', 'aria-labelledby': 'scan-type-h' },
        h('h2', { id: 'scan-type-h' }, t('scan.type')), form)));

  // A message in the live region; the same one again is announced again (cleared first).
  const say = (key) => {
    result.textContent = '';
    result.dataset.message = key;
    setTimeout(() => {
      if (result.dataset.message === key) result.textContent = t(key);
    }, 50);
  };

  let stream = null;
  let worker = null;
  let timer = null;
  let busy = false;      // a frame is being decoded (or its text looked up): send no other
  let finished = false;  // left the screen, or a code was found: the camera must not start again
  let lastText = '';     // a code that is not ours is said once, not at every frame
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });

  const stop = () => {
    clearTimeout(timer);
    timer = null;
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    video.srcObject = null;
    finder.hidden = true;
    if (worker) worker.terminate();
    worker = null;
    busy = false;
  };

  const open = (personId) => {
    finished = true;
    stop();
    location.hash = `#/person/${personId}`;
  };

  const cameraFailed = (key) => {
    stop();
    cameraState.textContent = t(key);
    cameraState.dataset.state = 'failed';
    retry.hidden = false;
  };

  const tick = () => {
    timer = setTimeout(tick, EVERY_MS);
    if (busy || !worker || video.readyState < 2 || !video.videoWidth) return;
    const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
    const width = Math.round(video.videoWidth * scale);
    const height = Math.round(video.videoHeight * scale);
    if (canvas.width !== width || canvas.height !== height) Object.assign(canvas, { width, height });
    context.drawImage(video, 0, 0, width, height);
    const pixels = context.getImageData(0, 0, width, height).data;
    busy = true;
    worker.postMessage({ width, height, pixels: pixels.buffer }, [pixels.buffer]);
  };

  const decoded = async (event) => {
    const text = event.data ? event.data.text : null;
    if (text === null || text === undefined || finished) {
      busy = false;
      return;
    }
    const where = await resolve(text);
    busy = false;
    if (finished) return;
    if (where.personId) {
      open(where.personId);
    } else if (text !== lastText) {
      lastText = text;  // keep looking: the next sheet may be ours
      say(where.message);
    }
  };

  const start = async () => {
    retry.hidden = true;
    cameraState.textContent = t('scan.starting');
    cameraState.dataset.state = 'starting';
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      cameraFailed('scan.no_camera');  // no camera API here (or not a secure connection)
      return;
    }
    let got;
    try {
      got = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    } catch (err) {
      if (!finished) cameraFailed(CAMERA_ERRORS[err && err.name] || 'scan.camera_failed');
      return;
    }
    if (finished) {  // left the screen while the browser was asking
      got.getTracks().forEach((track) => track.stop());
      return;
    }
    stream = got;
    worker = new Worker('/app/js/qr-worker.js');
    worker.addEventListener('message', decoded);
    worker.addEventListener('error', () => { if (!finished) cameraFailed('scan.decoder_failed'); });
    video.srcObject = stream;
    finder.hidden = false;
    try {
      await video.play();
    } catch {
      // not playing yet: frames are read once it does
    }
    if (finished || !stream) return;
    cameraState.textContent = t('scan.aim');
    cameraState.dataset.state = 'scanning';
    tick();
  };
  retry.addEventListener('click', () => start());

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!input.value.trim()) {
      say('scan.empty');
      input.focus();
      return;
    }
    const where = await resolve(input.value, { typed: true });
    if (finished) return;
    if (where.personId) {
      open(where.personId);
      return;
    }
    input.setAttribute('aria-invalid', 'true');
    say(where.message);
  });
  input.addEventListener('input', () => input.removeAttribute('aria-invalid'));

  start();
  return () => {
    finished = true;
    stop();
  };
}
