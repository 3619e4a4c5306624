// The DWAT dispatch board (/dwat): accept a request, confirm a suggested team, and the what-if
// of a team dropping out. Writes carry the CSRF token from /api/me; after a write the page is
// reloaded, so what is shown is always what the server holds (server-rendered).

const board = document.getElementById("dwat-board");
const status = document.getElementById("dwat-status");
let csrf = "";

async function token() {
  if (csrf) return csrf;
  const me = await fetch("/api/me");
  if (me.ok) csrf = (await me.json()).csrf_token || "";
  return csrf;
}

function say(text) {
  status.textContent = text;
}

function reasonOf(body, code) {
  const errors = (body && body.errors) || [];
  const lines = errors.map((e) => e.message || `${e.field}: ${e.code}`);
  return lines.length ? lines.join(" / ") : (body && body.detail) || String(code);
}

async function post(path, payload) {
  const answer = await fetch(path, {
    method: "POST",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": await token()},
    body: JSON.stringify(payload),
  });
  const body = await answer.json().catch(() => ({}));
  return {ok: answer.ok, status: answer.status, body};
}

async function act(button, path, payload, done) {
  button.disabled = true;
  say("送信中… (saving)");
  const result = await post(path, payload);
  if (result.ok) {
    say(done);
    window.location.reload();
  } else {
    button.disabled = false;
    say(`できませんでした (${result.status}): ${reasonOf(result.body, result.status)}`);
  }
}

board.addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  const article = button.closest("[data-request]");
  if (!article) return;
  const id = article.dataset.request;
  const version = Number(article.dataset.version);
  if (button.classList.contains("dwat-accept")) {
    act(button, `/api/dwat/requests/${id}/advance`, {to: "accepted", version}, "受理しました (accepted)");
  } else if (button.classList.contains("dwat-confirm")) {
    act(button, `/api/dwat/requests/${id}/confirm`, {team_id: button.dataset.team, version},
        "チームを決定し、派遣を作成しました (team confirmed, deployment made)");
  }
});

function list(title, items, line) {
  const section = document.createElement("div");
  const h = document.createElement("h4");
  h.textContent = title;
  section.appendChild(h);
  const ul = document.createElement("ul");
  for (const item of items) {
    const li = document.createElement("li");
    li.textContent = line(item);
    ul.appendChild(li);
  }
  if (!items.length) {
    const li = document.createElement("li");
    li.textContent = "なし (none)";
    ul.appendChild(li);
  }
  section.appendChild(ul);
  return section;
}

const whatIf = document.getElementById("dwat-whatif");
whatIf?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const out = document.getElementById("whatif-result");
  const data = new FormData(whatIf);
  const query = new URLSearchParams({drop_team: data.get("drop_team") || "", drop_from: data.get("drop_from") || ""});
  const answer = await fetch(`/api/dwat/rotation?${query}`);
  const body = await answer.json().catch(() => ({}));
  out.replaceChildren();
  if (!answer.ok) {
    out.textContent = `試算できませんでした (${answer.status}): ${reasonOf(body, answer.status)}`;
    return;
  }
  const w = body.what_if;
  const span = (d) => `${d.site_name}: ${d.team_name} ${d.start}〜${d.end}`;
  out.append(
    list(`${w.team_name} が ${w.from} から離脱すると (if ${w.team_name} drops out)`, w.changed, span),
    list("代わりのチーム (replacements)", w.replacements, span),
    list("新たな空白 (new gaps)", w.new_gaps, (g) => `${g.site_name}: ${g.start}〜${g.end}（${g.days}日）`),
  );
});

// The board is usable from here on (tests/bench/bench_dwat_board.py waits for this).
board.dataset.ready = "true";
