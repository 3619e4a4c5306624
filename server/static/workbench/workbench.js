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

function body(form) {
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
  return new URLSearchParams(new FormData(form));
}

async function submit(form) {
  const button = form.querySelector("button[type=submit]");
  if (button) button.disabled = true;
  try {
    const payload = body(form);
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
  if (!(form instanceof HTMLFormElement)) return;
  if (!["data-wb-post", "data-wb-upload", "data-wb-apply"].some((name) => form.hasAttribute(name))) return;
  event.preventDefault();
  submit(form);
});
