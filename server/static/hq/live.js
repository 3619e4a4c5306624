// Live updates: Server-Sent Events from /api/hq/stream applied to the store without a reload.
// EventSource reconnects by itself and sends Last-Event-ID, so nothing is missed across a
// dropped connection; the indicator says whether what is shown is live.

import { t } from "./i18n.js";

export function connectLive(store, { onReset, onSignedOut }) {
  const indicator = document.getElementById("live");
  const text = document.getElementById("live-text");
  let state = "connecting";

  const show = (next) => {
    state = next;
    indicator.dataset.state = next;
    text.dataset.i18n = `live.${next}`;
    let caption = t(`live.${next}`);
    if (next === "open" && store.lastUpdate) {
      const time = store.lastUpdate.toLocaleTimeString(document.documentElement.lang, { timeZone: "Asia/Tokyo" });
      caption += `（${t("live.updated")} ${time}）`;
    }
    text.textContent = caption;
  };

  const source = new EventSource(`/api/hq/stream?after=${encodeURIComponent(store.loadedAt)}`);
  source.addEventListener("hello", () => {
    document.body.dataset.live = "open";
    show("open");
  });
  source.addEventListener("update", (event) => {
    store.apply(JSON.parse(event.data));
    show("open");
  });
  source.addEventListener("reset", () => onReset());
  source.addEventListener("signed-out", () => {
    source.close();
    show("closed");
    onSignedOut();
  });
  source.addEventListener("error", () => {
    document.body.dataset.live = source.readyState === EventSource.CLOSED ? "closed" : "retrying";
    show(source.readyState === EventSource.CLOSED ? "closed" : "retrying");
  });
  return { close: () => source.close(), refresh: () => show(state) };
}
