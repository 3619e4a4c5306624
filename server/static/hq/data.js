// Loading the map's data and keeping it current. One store, plain objects and typed arrays;
// other modules read it and listen for "changed" notifications.

export class SignedOut extends Error {}

async function getJSON(path) {
  // Plain same-origin GETs, so the ones the page preloads (hq.html) are reused, not sent twice.
  const answer = await fetch(path, { credentials: "same-origin" });
  if (answer.status === 401) throw new SignedOut(path);
  if (!answer.ok) throw new Error(`${path}: HTTP ${answer.status}`);
  return answer.json();
}

export async function fetchPerson(id) {
  return getJSON(`/api/people/${encodeURIComponent(id)}`);
}

// People as columns: 50,000 points stay a few typed arrays, not 50,000 objects. The id → row
// index is built on first use (a live update, a test), not while the page is loading.
class People {
  constructor(points) {
    const n = points.length;
    this.ids = new Array(n);
    this.lon = new Float64Array(n);
    this.lat = new Float64Array(n);
    this.status = new Uint8Array(n);
    this.district = new Int32Array(n);
    for (let i = 0; i < n; i += 1) {
      const [id, lon, lat, status, district] = points[i];
      this.ids[i] = id;
      this.lon[i] = lon ?? NaN; // no location: counted, not drawn
      this.lat[i] = lat ?? NaN;
      this.status[i] = status;
      this.district[i] = district;
    }
    this._index = null;
  }

  get index() {
    if (!this._index) {
      this._index = new Map();
      this.ids.forEach((id, i) => {
        if (id !== null) this._index.set(id, i);
      });
    }
    return this._index;
  }
}

export class Store extends EventTarget {
  constructor() {
    super();
    this.people = null; // until loadPeople() is done
    this.seqs = [];
    this.lastUpdate = null;
  }

  // The small layers first, so the map draws while the people points (the big one) arrive.
  async loadLayers() {
    const [districts, shelters, deployments, requests, hazards] = await Promise.all([
      getJSON("/api/hq/districts"), getJSON("/api/hq/shelters"), getJSON("/api/hq/deployments"),
      getJSON("/api/hq/dwat-requests"),
      // Hazard areas are optional: a city that has imported none (or a server without them) still gets a map.
      getJSON("/api/hazards").catch((error) => {
        if (error instanceof SignedOut) throw error;
        return { type: "FeatureCollection", features: [] };
      }),
    ]);
    this.seqs.push(districts.seq, shelters.seq, deployments.seq, requests.seq);
    this.openRequests = new Map(requests.items.map((r) => [r.id, r])); // open DWAT requests (未対応)
    this.priorities = requests.priorities || [];
    this.statuses = districts.statuses;
    this.statusIndex = new Map(this.statuses.map((s, i) => [s.code, i]));
    this.districts = districts;
    this.districtById = new Map(districts.features.map((f) => [f.id, f]));
    this.confirmedStatuses = new Set(districts.confirmed_statuses.map((code) => this.statusIndex.get(code)));
    this.openStates = shelters.open_states;
    this.seismicClasses = shelters.seismic_classes;
    this.kinds = shelters.kinds;
    this.damages = shelters.damages;
    this.lifelineStates = shelters.lifeline_states;
    this.matchingBlocked = shelters.matching_blocked_reasons || [];
    this.shelters = new Map(shelters.items.map((s) => [s.id, s]));
    this.deploymentStates = deployments.states;
    this.deployments = new Map(deployments.items.map((d) => [d.id, d]));
    this.hazards = hazards;
  }

  async loadPeople() {
    const points = await getJSON("/api/hq/people-points");
    this.seqs.push(points.seq);
    this.reasons = points.reasons;
    this.districtIds = points.districts;
    this.districtIndex = new Map(this.districtIds.map((id, i) => [id, i]));
    this.people = new People(points.points);
  }

  // The live stream starts at the oldest position any layer was read at: nothing falls between.
  get loadedAt() {
    return Math.min(...this.seqs);
  }

  vocab(list, code) {
    return list.find((entry) => entry.code === code);
  }

  deploymentsAt(shelterId) {
    return [...this.deployments.values()].filter((d) => d.shelter_id === shelterId);
  }

  // A live message (server/domain/hq_live.py): current state of what changed.
  apply(message) {
    const shelters = new Set();
    for (const shelter of message.shelters) {
      this.shelters.set(shelter.id, shelter);
      shelters.add(shelter.id);
    }
    for (const id of message.removed_shelters) {
      if (this.shelters.delete(id)) shelters.add(id);
    }
    let people = false;
    for (const person of message.people) {
      this.#upsertPerson(person);
      people = true;
    }
    for (const id of message.removed_people) {
      people = this.#removePerson(id) || people;
    }
    let deployments = false;
    for (const deployment of message.deployments) {
      if (deployment.state === "planned" || deployment.state === "active") this.deployments.set(deployment.id, deployment);
      else this.deployments.delete(deployment.id);
      deployments = true;
    }
    for (const id of message.removed_deployments) {
      deployments = this.deployments.delete(id) || deployments;
    }
    let requests = false;
    for (const request of message.requests || []) { // only open ones need a decision
      if (request.state === "open") this.openRequests.set(request.id, request);
      else this.openRequests.delete(request.id);
      requests = true;
    }
    for (const id of message.removed_requests || []) {
      requests = this.openRequests.delete(id) || requests;
    }
    this.lastUpdate = new Date();
    if (shelters.size || people || deployments || requests) {
      this.dispatchEvent(new CustomEvent("changed", { detail: { shelters, people, deployments, requests } }));
    }
  }

  // District tallies move with each person: out of the old district/status, into the new.
  #tally(districtIdx, status, delta) {
    const id = this.districtIds[districtIdx];
    const feature = id && this.districtById.get(id);
    if (!feature) return;
    const props = feature.properties;
    const code = this.statuses[status].code;
    props.counts[code] += delta;
    props.total += delta;
    if (this.confirmedStatuses.has(status)) props.confirmed += delta;
    props.confirmed_share = props.total ? props.confirmed / props.total : null;
  }

  #upsertPerson(person) {
    const p = this.people;
    const district = person.district_id ? this.districtIndex.get(person.district_id) ?? -1 : -1;
    let i = p.index.get(person.id);
    if (i !== undefined) {
      this.#tally(p.district[i], p.status[i], -1);
    } else {
      i = this.#grow();
      p.ids[i] = person.id;
      p.index.set(person.id, i);
    }
    p.lon[i] = person.lon ?? NaN;
    p.lat[i] = person.lat ?? NaN;
    p.status[i] = person.status;
    p.district[i] = district;
    this.#tally(district, person.status, +1);
  }

  #removePerson(id) {
    const p = this.people;
    const i = p.index.get(id);
    if (i === undefined) return false;
    this.#tally(p.district[i], p.status[i], -1);
    p.index.delete(id);
    p.ids[i] = null; // the slot stays; drawing skips it
    p.lon[i] = NaN;
    p.lat[i] = NaN;
    p.district[i] = -1;
    return true;
  }

  #grow() {
    const p = this.people;
    const n = p.ids.length;
    const widen = (Type, old) => {
      const next = new Type(n + 1);
      next.set(old);
      return next;
    };
    p.lon = widen(Float64Array, p.lon);
    p.lat = widen(Float64Array, p.lat);
    p.status = widen(Uint8Array, p.status);
    p.district = widen(Int32Array, p.district);
    p.ids.push(null);
    return n;
  }
}
