// Popup contents, built as DOM nodes with textContent: data never becomes markup.

import { fetchPerson } from "./data.js";
import { currentLang, label, t } from "./i18n.js";

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function rows(pairs) {
  const dl = el("dl", undefined, "popup-fields");
  for (const [key, value] of pairs) {
    if (value === undefined || value === null || value === "") continue;
    dl.append(el("dt", t(key)), el("dd", value));
  }
  return dl;
}

function when(iso) {
  if (!iso) return "";
  // Japan time whatever the device's clock zone: HQ, field and reports all speak JST.
  return new Date(iso).toLocaleString(document.documentElement.lang === "en" ? "en-GB" : "ja-JP",
    { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "Asia/Tokyo" });
}

// Evacuees / capacity. A shelter that never reported has unknown occupancy (不明), not 0; a
// report above capacity is shown with the overflow.
export function occupancyText(shelter) {
  const occupancy = shelter.occupancy ?? t("occupancyUnknown");
  const text = shelter.capacity ? `${occupancy} / ${shelter.capacity}` : `${occupancy} / ${t("capacityUnknown")}`;
  return shelter.overflow > 0 ? `${text}（+${shelter.overflow}${t("overflow")}）` : text;
}

export function shelterPopup(store, shelter) {
  const box = el("div", undefined, "popup");
  box.append(el("h3", shelter.name));
  const lifelines = ["power", "water", "gas", "comms"]
    .filter((k) => shelter.lifelines && shelter.lifelines[k])
    .map((k) => `${t(`lifeline.${k}`)}: ${label(store.vocab(store.lifelineStates, shelter.lifelines[k]))}`)
    .join("、");
  const teams = store.deploymentsAt(shelter.id).map((d) => `${d.team_name}（${label(store.vocab(store.deploymentStates, d.state))}）`);
  box.append(rows([
    ["popup.kind", label(store.vocab(store.kinds, shelter.kind))],
    ["popup.state", shelter.open_state ? label(store.vocab(store.openStates, shelter.open_state)) : t("noReport")],
    ["popup.occupancy", occupancyText(shelter)],
    ["popup.damage", shelter.damage ? label(store.vocab(store.damages, shelter.damage)) : ""],
    ["popup.lifelines", lifelines],
    ["popup.needs", (shelter.needs || []).join("、")],
    ["popup.seismic", label(store.vocab(store.seismicClasses, shelter.seismic_class))],
    ["popup.matching", shelter.matching_blocked ? label(store.vocab(store.matchingBlocked, shelter.matching_blocked)) : ""],
    ["popup.reported", when(shelter.observed_at)],
    ["popup.dwat", teams.join("、")],
  ]));
  return box;
}

export function dwatPopup(store, shelterId) {
  const shelter = store.shelters.get(shelterId);
  const box = el("div", undefined, "popup");
  box.append(el("h3", `DWAT — ${shelter ? shelter.name : ""}`));
  const list = el("ul");
  for (const d of store.deploymentsAt(shelterId)) {
    const period = `${d.start_date} – ${d.end_date || ""}`;
    list.append(el("li", `${d.team_name}（${label(store.vocab(store.deploymentStates, d.state))}） ${period}`));
  }
  box.append(list);
  const waiting = [...store.openRequests.values()].filter((r) => r.shelter_id === shelterId);
  if (waiting.length) {
    box.append(el("h4", t("popup.dwatRequests")));
    const requests = el("ul");
    for (const r of waiting) {
      const step = r.step ? t(`step.${r.step}`) : "";
      requests.append(el("li", `${step}（${label(store.vocab(store.priorities, r.priority))}） ${(r.needs || []).join("、")}`));
    }
    box.append(requests);
  }
  const link = el("a", t("popup.dwatBoard"));
  link.href = "/dwat";
  box.append(link);
  return box;
}

// Hazard kinds (server/models/hazards.py): the server sends the Japanese label with each area.
function hazardKind(props) {
  const english = t(`hazard.${props.kind}`);
  return currentLang() === "en" && english !== `hazard.${props.kind}` ? english : props.kind_label || props.kind || "";
}

// A click on the map outside any symbol: the district there and any hazard areas.
export function placePopup(store, district, hazards) {
  const box = district ? districtPopup(store, district) : el("div", undefined, "popup");
  if (hazards.length) {
    box.append(el("h4", t("popup.hazards")));
    const list = el("ul");
    for (const hazard of hazards) {
      const p = hazard.properties || {};
      const kind = hazardKind(p);
      list.append(el("li", [kind, p.name, p.level].filter(Boolean).join(" — ")));
    }
    box.append(list);
  }
  return box;
}

export function districtPopup(store, feature) {
  const p = feature.properties;
  const box = el("div", undefined, "popup");
  box.append(el("h3", p.welfare_area ? `${p.name}（${p.welfare_area}）` : p.name));
  const share = p.confirmed_share === null ? "—" : `${Math.round(p.confirmed_share * 100)}%`;
  box.append(rows([["popup.people", `${p.total}${t("people")}`], ["popup.confirmedShare", share]]));
  const list = el("ul", undefined, "status-counts");
  for (const status of store.statuses) list.append(el("li", `${label(status)}: ${p.counts[status.code]}`));
  box.append(list);
  return box;
}

export function clusterPopup(store, counts) {
  const box = el("div", undefined, "popup");
  box.append(el("h3", t("popup.cluster")));
  const list = el("ul", undefined, "status-counts");
  store.statuses.forEach((status, i) => {
    if (counts[i]) list.append(el("li", `${label(status)}: ${counts[i]}`));
  });
  box.append(list);
  return box;
}

// A person's details come from GET /api/people/{id}: the server decides which fields this
// role may see (HQ: register number, reasons, latest safety — no name) and audits the read.
export function personPopup(store, id, statusIndex) {
  const box = el("div", undefined, "popup");
  const heading = el("h3", label(store.statuses[statusIndex]));
  const body = el("p", t("popup.loading"));
  box.append(heading, body);
  fetchPerson(id).then((person) => {
    const reasons = (person.reasons || []).map((code) => label(store.vocab(store.reasons, code)) || code);
    const safety = person.latest_safety
      ? `${label(store.vocab(store.statuses, person.latest_safety.outcome))}（${when(person.latest_safety.observed_at)}）`
      : t("popup.notChecked");
    body.replaceWith(rows([
      ["popup.registerNo", person.register_no],
      ["popup.name", person.name],
      ["popup.address", person.address],
      ["popup.phone", person.phone],
      ["popup.reasons", reasons.join("、")],
      ["popup.safety", safety],
    ]));
  }).catch(() => {
    body.textContent = t("popup.unavailable");
  });
  return box;
}
