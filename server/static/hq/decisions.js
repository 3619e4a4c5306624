// The strip of figures at the top that flag what needs a decision now: shelters over capacity,
// shelters that cannot be used, the districts with the most people not yet confirmed, and DWAT
// requests waiting for a team. Each figure is a button that takes the map there.

import { t } from "./i18n.js";
import { isUnusable } from "./symbols.js";

const TOP_DISTRICTS = 3;

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (className) node.className = className;
  return node;
}

// The figures, from the store (the server's tallies: `confirmed` follows server/domain/safety.py).
export function decisionFigures(store) {
  const shelters = [...store.shelters.values()];
  const overflow = shelters.filter((s) => s.overflow > 0).sort((a, b) => b.overflow - a.overflow);
  const unusable = shelters.filter(isUnusable);
  const districts = store.districts.features
    .map((f) => ({ id: f.id, name: f.properties.name, unconfirmed: f.properties.total - f.properties.confirmed }))
    .filter((d) => d.unconfirmed > 0)
    .sort((a, b) => b.unconfirmed - a.unconfirmed || a.name.localeCompare(b.name, "ja"))
    .slice(0, TOP_DISTRICTS);
  const requests = [...(store.openRequests?.values() || [])];
  return { overflow, unusable, districts, requests };
}

export class Decisions {
  // handlers: {showShelters(ids), focusDistrict(id)}
  constructor(store, handlers) {
    this.store = store;
    this.handlers = handlers;
    this.list = document.getElementById("decision-list");
  }

  item(name, caption, count, ids, alert) {
    const li = el("li", undefined, alert ? "decision alert" : "decision");
    li.dataset.decision = name;
    const button = el("button");
    button.type = "button";
    button.dataset.count = String(count);
    button.append(el("span", caption, "caption"), el("span", String(count), "count"));
    button.disabled = count === 0;
    button.addEventListener("click", () => this.handlers.showShelters(ids));
    li.append(button);
    return li;
  }

  render() {
    const f = decisionFigures(this.store);
    const requestShelters = [...new Set(f.requests.map((r) => r.shelter_id))];
    const fragment = document.createDocumentFragment();
    fragment.append(
      this.item("overflow", t("decision.overflow"), f.overflow.length, f.overflow.map((s) => s.id), f.overflow.length > 0),
      this.item("unusable", t("decision.unusable"), f.unusable.length, f.unusable.map((s) => s.id), f.unusable.length > 0),
      this.item("requests", t("decision.requests"), f.requests.length, requestShelters, f.requests.length > 0),
    );
    const districts = el("li", undefined, "decision districts");
    districts.dataset.decision = "unconfirmed";
    districts.append(el("span", t("decision.unconfirmed"), "caption"));
    if (!f.districts.length) districts.append(el("span", t("decision.none"), "none"));
    for (const d of f.districts) {
      const button = el("button");
      button.type = "button";
      button.dataset.district = d.id;
      button.dataset.count = String(d.unconfirmed);
      button.append(el("span", d.name, "name"), el("span", `${d.unconfirmed}${t("people")}`, "count"));
      button.addEventListener("click", () => this.handlers.focusDistrict(d.id));
      districts.append(button);
    }
    fragment.append(districts);
    this.list.replaceChildren(fragment);
  }
}
