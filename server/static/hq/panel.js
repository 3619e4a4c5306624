// The side panel: overall totals, filters, legend, counts per district and per shelter.

import { label, t } from "./i18n.js";
import { occupancyText } from "./popups.js";
import {
  DISTRICT_LINE, HAZARD_COLOURS, NO_PEOPLE, OPEN_COLOURS, SEISMIC_COLOURS, SHARE_STEPS, STATUS_COLOURS, drawDwat, drawShelter,
  isWelfare, seismicGroup, swatch,
} from "./symbols.js";

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (className) node.className = className;
  return node;
}

const COLLATOR = new Intl.Collator("ja"); // one collator: localeCompare with a locale makes one per call
const ROWS_PER_BATCH = 100;
const percent = (share) => (share === null || share === undefined ? "—" : `${Math.round(share * 100)}%`);

export class Panel {
  constructor(store, handlers) {
    this.store = store;
    this.handlers = handlers; // {focusShelter(id), focusDistrict(id), filtersChanged(filters)}
    this.totals = document.getElementById("totals");
    this.districtBody = document.querySelector("#district-table tbody");
    this.shelterBody = document.querySelector("#shelter-table tbody");
    this.form = document.getElementById("filters");
    this.shelterRows = new Map();
    this.buildFilters();
    this.form.addEventListener("change", () => this.handlers.filtersChanged(this.filters()));
  }

  render() {
    this.renderTotals();
    this.renderLegend();
    this.renderDistricts();
    this.renderShelters();
    this.relabelFilters();
  }

  // ---- filters ----

  buildFilters() {
    const statusBox = document.getElementById("status-filter");
    this.store.statuses.forEach((status, i) => {
      statusBox.append(this.checkbox("status", String(i), STATUS_COLOURS[status.code], () => label(status)));
    });
    const openBox = document.getElementById("open-filter");
    for (const state of this.store.openStates) {
      openBox.append(this.checkbox("open", state.code, OPEN_COLOURS[state.code], () => label(state)));
    }
    openBox.append(this.checkbox("open", "none", OPEN_COLOURS.unknown, () => t("noReport")));
  }

  checkbox(name, value, colour, text) {
    const wrap = el("label", undefined, "check");
    const input = el("input");
    input.type = "checkbox";
    input.name = name;
    input.value = value;
    input.checked = true;
    const chip = el("span", undefined, "chip");
    chip.style.backgroundColor = colour;
    const caption = el("span", text());
    caption.dataset.dynamicLabel = "";
    wrap.append(input, " ", chip, " ", caption);
    wrap.relabel = () => { caption.textContent = text(); };
    return wrap;
  }

  relabelFilters() {
    this.form.querySelectorAll("label.check").forEach((wrap) => wrap.relabel && wrap.relabel());
  }

  filters() {
    const checked = (name) => [...this.form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
    return {
      layers: new Set(checked("layer")),
      statuses: checked("status").map(Number),
      openStates: new Set(checked("open")),
      welfareOnly: this.form.elements.kind.value === "welfare",
    };
  }

  // ---- totals ----

  renderTotals() {
    const p = this.store.people;
    if (!p) return; // people points still on their way
    const counts = new Array(this.store.statuses.length).fill(0);
    let total = 0;
    let unlocated = 0;
    for (let i = 0; i < p.ids.length; i += 1) {
      if (p.ids[i] === null) continue;
      total += 1;
      counts[p.status[i]] += 1;
      if (Number.isNaN(p.lon[i])) unlocated += 1;
    }
    const at = (code) => counts[this.store.statusIndex.get(code)] || 0;
    const confirmed = [...this.store.confirmedStatuses].reduce((sum, i) => sum + counts[i], 0);
    const shelters = [...this.store.shelters.values()];
    const open = shelters.filter((s) => s.open_state === "open" || s.open_state === "full");
    const evacuees = open.reduce((sum, s) => sum + (s.occupancy || 0), 0);
    const capacity = open.reduce((sum, s) => sum + (s.capacity || 0), 0);
    const deployments = [...this.store.deployments.values()];
    const items = [
      ["total.people", `${total}${t("people")}`, "people"],
      ["total.confirmed", `${confirmed}（${percent(total ? confirmed / total : null)}）`, "confirmed"],
      ["total.needs", `${at("needs_help") + at("injured")}`, "needs"],
      ["total.unreachable", `${at("unreachable")}`, "unreachable"],
      ["total.unchecked", `${at("unchecked")}`, "unchecked"],
      ["total.unlocated", `${unlocated}`, "unlocated"],
      ["total.shelters", `${open.length} / ${shelters.length}`, "shelters-open"],
      ["total.evacuees", `${evacuees} / ${capacity}`, "evacuees"],
      ["total.dwat", `${deployments.filter((d) => d.state === "active").length} / ${deployments.filter((d) => d.state === "planned").length}`, "dwat"],
    ];
    const fragment = document.createDocumentFragment();
    for (const [key, value, name] of items) {
      const dt = el("dt", t(key));
      const dd = el("dd", value);
      dd.dataset.total = name;
      fragment.append(dt, dd);
    }
    this.totals.replaceChildren(fragment);
  }

  // ---- legend ----

  renderLegend() {
    const legend = document.getElementById("legend");
    const section = (titleKey, entries, noteKey) => {
      const box = el("div", undefined, "legend-group");
      box.dataset.legend = titleKey;
      box.append(el("h4", t(titleKey)));
      if (noteKey) box.append(el("p", t(noteKey), "legend-note"));
      const list = el("ul");
      for (const [paint, text] of entries) {
        const item = el("li");
        item.append(paint(), el("span", text));
        list.append(item);
      }
      box.append(list);
      return box;
    };
    const dot = (colour) => () => swatch((ctx, x, y) => {
      ctx.beginPath();
      ctx.arc(x, y, 6, 0, Math.PI * 2);
      ctx.fillStyle = colour;
      ctx.fill();
    });
    const square = (colour, dashed) => () => swatch((ctx, x, y) => {
      ctx.fillStyle = colour;
      ctx.fillRect(x - 9, y - 7, 18, 14);
      ctx.strokeStyle = DISTRICT_LINE;
      if (dashed) ctx.setLineDash([3, 2]);
      ctx.strokeRect(x - 9, y - 7, 18, 14);
    });
    const shelter = (state, kind, more = {}) => () => swatch((ctx, x, y) => drawShelter(ctx, x - 8, y - 9,
      { open_state: state, kind, capacity: 10, occupancy: state ? 6 : null, seismic_class: "new_standard", ...more },
      t("occupancyUnknown")), 72, 64);
    const steps = [];
    let from = 0;
    for (const step of SHARE_STEPS) {
      const to = Math.min(100, Math.round(step.upTo * 100));
      steps.push([square(step.colour), `${from}–${to}%`]);
      from = to;
    }
    legend.replaceChildren(
      section("legend.shelters", [
        ...this.store.openStates.map((s) => [shelter(s.code, "designated_welfare"), label(s)]),
        [shelter(null, "designated"), t("legend.unknownOccupancy")],
        [shelter("full", "designated_welfare", { occupancy: 13, overflow: 3 }), t("legend.overflow")],
        [shelter("open", "designated_welfare", { damage: "unusable" }), t("legend.unusable")],
      ]),
      section("legend.districts", [...steps, [square(NO_PEOPLE, true), t("legend.noPeople")]]),
      section("legend.people", this.store.statuses.map((s) => [dot(STATUS_COLOURS[s.code]), label(s)]), "legend.peopleZoom"),
      section("legend.seismic", ["safe", "some", "high", "unknown"].map((g) => [dot(SEISMIC_COLOURS[g]), t(`seismic.${g}`)])),
      section("legend.dwat", [
        [() => swatch((ctx, x, y) => drawDwat(ctx, x, y, 2, "active"), 30, 30), t("legend.dwatActive")],
        [() => swatch((ctx, x, y) => drawDwat(ctx, x, y, 1, "planned"), 30, 30), t("legend.dwatPlanned")],
        [() => swatch((ctx, x, y) => drawDwat(ctx, x, y, 1, "requested"), 30, 30), t("legend.dwatRequested")]]),
      section("legend.hazards", [[square(HAZARD_COLOURS.water), t("legend.water")],
        [square(HAZARD_COLOURS.landslide), t("legend.landslide")]]),
    );
  }

  // ---- tables ----

  renderDistricts() {
    const fragment = document.createDocumentFragment();
    for (const feature of this.store.districts.features) {
      const p = feature.properties;
      const row = el("tr");
      const head = el("th");
      head.scope = "row";
      const button = el("button", p.name, "link");
      button.type = "button";
      button.title = t("showOnMap");
      button.addEventListener("click", () => this.handlers.focusDistrict(feature.id));
      head.append(button);
      const needs = (p.counts.needs_help || 0) + (p.counts.injured || 0);
      row.append(head, el("td", String(p.total), "num"),
        el("td", `${p.confirmed}（${percent(p.confirmed_share)}）`, "num"),
        el("td", String(needs), needs ? "num alert" : "num"), el("td", String(p.counts.unchecked || 0), "num"));
      row.dataset.district = feature.id;
      fragment.append(row);
    }
    this.districtBody.replaceChildren(fragment);
  }

  shelterRow(shelter) {
    const row = el("tr");
    row.dataset.shelter = shelter.id;
    const head = el("th");
    head.scope = "row";
    const button = el("button", shelter.name, "link");
    button.type = "button";
    button.title = t("showOnMap");
    button.addEventListener("click", () => this.handlers.focusShelter(shelter.id));
    head.append(button);
    const state = shelter.open_state ? label(this.store.vocab(this.store.openStates, shelter.open_state)) : t("noReport");
    const stateCell = el("td");
    const chip = el("span", undefined, "chip");
    chip.style.backgroundColor = OPEN_COLOURS[shelter.open_state || "unknown"];
    stateCell.append(chip, " ", el("span", state, "state"));
    stateCell.dataset.state = shelter.open_state || "none";
    const group = seismicGroup(shelter.seismic_class);
    const seismic = el("td", label(this.store.vocab(this.store.seismicClasses, shelter.seismic_class)),
      group === "high" ? "alert" : "");
    const full = shelter.capacity && (shelter.occupancy || 0) >= shelter.capacity;
    const occupancy = el("td", occupancyText(shelter), full ? "num alert" : "num");
    if (shelter.overflow > 0) occupancy.dataset.overflow = String(shelter.overflow);
    row.append(head, stateCell, occupancy, seismic);
    return row;
  }

  // Welfare shelters first, then by name. The first rows appear at once; a long list (a city
  // with hundreds of shelters) is filled in small batches so the map stays responsive.
  renderShelters() {
    const filter = this.filters();
    const shown = [...this.store.shelters.values()]
      .filter((s) => (!filter.welfareOnly || isWelfare(s.kind)) && filter.openStates.has(s.open_state || "none"))
      .sort((a, b) => (isWelfare(b.kind) - isWelfare(a.kind)) || COLLATOR.compare(a.name, b.name));
    this.shelterRows.clear();
    this.shelterBody.replaceChildren();
    const generation = (this.generation = (this.generation || 0) + 1);
    const table = this.shelterBody.closest("table");
    const fill = (start) => {
      if (generation !== this.generation) return; // a newer render took over
      const fragment = document.createDocumentFragment();
      for (const shelter of shown.slice(start, start + ROWS_PER_BATCH)) {
        const row = this.shelterRow(shelter);
        this.shelterRows.set(shelter.id, row);
        fragment.append(row);
      }
      this.shelterBody.append(fragment);
      const done = start + ROWS_PER_BATCH >= shown.length;
      table.setAttribute("aria-busy", String(!done));
      if (!done) setTimeout(() => fill(start + ROWS_PER_BATCH), 0);
    };
    fill(0);
  }

  // A live change: replace the shelter's row in place and mark it for a moment.
  updateShelter(shelter) {
    const old = this.shelterRows.get(shelter.id);
    if (!old) {
      this.renderShelters();
      return;
    }
    const row = this.shelterRow(shelter);
    row.classList.add("changed");
    old.replaceWith(row);
    this.shelterRows.set(shelter.id, row);
  }
}
