// The app's few events, on one bus:
//   status   the sync status changed (sync.js)       data    local records or the outbox changed
//   session  signed in, signed out, locked (auth.js) lang    the language was switched (i18n.js)
const bus = new EventTarget();

export function emit(name, detail) {
  bus.dispatchEvent(new CustomEvent(name, { detail }));
}

// Returns a function that removes the listener (screens call it when they are left).
export function on(name, fn) {
  const listener = (event) => fn(event.detail);
  bus.addEventListener(name, listener);
  return () => bus.removeEventListener(name, listener);
}
