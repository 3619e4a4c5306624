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

// The plan CSV checked by the last dry run: the apply step sends the same file again (nothing
// is kept on the server between the two steps; the server compares the file's SHA-256).
let keptFile = null;

function body(form, submitter) {
  if (form.hasAttribute("data-wb-upload")) {
    const data = new FormData(form);
    keptFile = form.querySelector("input[type=file]").files[0] || null;
    return data;  // multipart: fetch sets the boundary
  }
  if (form.hasAttribute("data-wb-apply")) {
    const data = new FormData(form);
    if (keptFile) data.append("file", keptFile);
    return data;
  }
  // the clicked button's name and value travel too (e.g. merge / keep apart on one form)
  return new URLSearchParams(new FormData(form, submitter || null));
}

async function submit(form, submitter) {
  const button = form.querySelector("button[type=submit]");
  if (button) button.disabled = true;
  try {
    const payload = body(form, submitter);
    const headers = {"X-CSRF-Token": await csrfToken(), "Accept": "text/html"};
    if (payload instanceof URLSearchParams) headers["Content-Type"] = "application/x-www-form-urlencoded";
    const response = await fetch(form.action, {method: "POST", credentials: "same-origin", headers, body: payload});
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const main = page.getElementById("main");
    if (!main) throw new Error(`unexpected answer ${response.status}`);
    document.getElementById("main").replaceWith(main);
    document.title = page.title;
    // a save that created or updated a person answers with the person page (after a redirect)
    if (response.redirected) history.replaceState(null, "", response.url);
    document.body.dataset.status = String(response.status);
    // the reply-entry screen goes straight on to the next slip; other forms focus the outcome
    const next = response.ok && main.querySelector("[data-wb-autofocus]");
    const focus = next || main.querySelector("[role=alert], [role=status]");
    if (focus) { if (!next) focus.tabIndex = -1; focus.focus(); }
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
  if (!(form instanceof HTMLFormElement)) return;
  if (!["data-wb-post", "data-wb-upload", "data-wb-apply"].some((name) => form.hasAttribute(name))) return;
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

// 「すべて同意」「すべて不同意」「選択を消す」 on the reply-entry screen: set every category at once.
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("button[data-all]") : null;
  if (!button) return;
  const form = button.closest("form");
  for (const radio of form.querySelectorAll("input[type=radio]")) {
    if (radio.value === button.dataset.all) radio.checked = true;
  }
});

// The code field starts focused (a scanner types into it and ends with Enter).
const first = document.querySelector("[data-wb-autofocus]");
if (first) first.focus();

// Enter in the code field (typed, or the end of a scan) goes on to the answers instead of saving.
document.addEventListener("keydown", (event) => {
  const field = event.target;
  if (event.key !== "Enter" || !(field instanceof HTMLInputElement) || !field.hasAttribute("data-wb-autofocus")) return;
  event.preventDefault();
  const radio = field.form && field.form.querySelector("input[type=radio]");
  if (radio) radio.focus();
});
