// The workbench's forms post with the session cookie, which needs the CSRF header
// (server/auth/middleware.py): a form marked data-wb-post is sent with fetch and the page the
// server answers (saved, refused with field errors, or the merge screen) replaces <main>.
let csrf = "";

async function csrfToken() {
  if (!csrf) {
    const me = await fetch("/api/me", {credentials: "same-origin"});
    if (me.ok) csrf = (await me.json()).csrf_token || "";
  }
  return csrf;
}

async function submit(form, submitter) {
  const button = form.querySelector("button[type=submit]");
  if (button) button.disabled = true;
  try {
    const response = await fetch(form.action, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": await csrfToken(),
                "Accept": "text/html"},
      body: new URLSearchParams(new FormData(form, submitter || null)),
    });
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const main = page.getElementById("main");
    if (!main) throw new Error(`unexpected answer ${response.status}`);
    document.getElementById("main").replaceWith(main);
    document.title = page.title;
    // a save that created or updated a person answers with the person page (after a redirect)
    if (response.redirected) history.replaceState(null, "", response.url);
    document.body.dataset.status = String(response.status);
    const focus = main.querySelector("[role=alert], [role=status]");
    if (focus) { focus.tabIndex = -1; focus.focus(); }
  } catch (error) {
    // Nothing typed is lost: the form stays as it is, with a message.
    if (button) button.disabled = false;
    let note = form.querySelector(".wb-send-error");
    if (!note) {
      note = document.createElement("p");
      note.className = "wb-error wb-send-error";
      note.setAttribute("role", "alert");
      form.prepend(note);
    }
    note.textContent = `送信できませんでした。もう一度お試しください。 (Could not send: ${error.message})`;
  }
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-wb-post")) return;
  event.preventDefault();
  submit(form, event.submitter);
});

// The plan form's supporters: search the register as you type (/workbench/supporters/search,
// an audited read) and choose an entry; its name, phone and address fill the slot and the
// hidden supporter_id links it. Listeners sit on the document: a saved form replaces <main>.
let searchTimer = null;

function slotField(slot, name) {
  return document.getElementById(`p-s${slot}_${name}`);
}

function choose(slot, item) {
  slotField(slot, "supporter_id").value = item.id;
  slotField(slot, "name").value = item.name;
  slotField(slot, "phone").value = item.phone;
  if (item.address) slotField(slot, "address").value = item.address;
  const linked = slotField(slot, "linked");
  const over = item.count + 1 > item.threshold;
  linked.textContent = `台帳の支援者: ${item.name}（計画 ${item.count} 件${over ? `・上限 ${item.threshold} 件を超えます` : ""}）`;
  slotField(slot, "results").replaceChildren();
  slotField(slot, "search").value = "";
}

async function search(input) {
  const slot = input.dataset.wbSupporterSearch;
  const list = slotField(slot, "results");
  const text = input.value.trim();
  if (!text) { list.replaceChildren(); return; }
  const response = await fetch(`/workbench/supporters/search?q=${encodeURIComponent(text)}`, {credentials: "same-origin"});
  if (!response.ok) return;
  const {items} = await response.json();
  list.replaceChildren(...items.map((item) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `${item.name}（${item.kind}${item.phone ? "・" + item.phone : ""}・計画 ${item.count} 件）`;
    button.addEventListener("click", () => choose(slot, item));
    li.append(button);
    return li;
  }));
  if (!items.length) {
    const li = document.createElement("li");
    li.textContent = "台帳に見つかりません。下に入力すると保存時に登録されます (not found: type below to add)";
    list.append(li);
  }
}

document.addEventListener("input", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || !input.dataset.wbSupporterSearch) return;
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => search(input), 250);
});

document.addEventListener("click", (event) => {
  const button = event.target;
  if (!(button instanceof HTMLButtonElement) || !button.dataset.wbUnlink) return;
  const slot = button.dataset.wbUnlink;
  slotField(slot, "supporter_id").value = "";
  slotField(slot, "linked").textContent = "";
});
