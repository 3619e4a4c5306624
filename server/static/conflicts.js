// Conflict records from offline edits: welfare staff keep the server's value or take the device's.
// Talks to /api/conflicts with the session cookie; changes carry the CSRF token from /api/me.

const table = document.getElementById("conflicts");
const status = document.getElementById("conflicts-status");
let csrf = "";

function show(value) {
  if (value === null || value === undefined || value === "") return "（空）";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
  return td;
}

function button(label, english, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label + " ";
  const en = document.createElement("span");
  en.lang = "en";
  en.textContent = english;
  b.appendChild(en);
  b.addEventListener("click", onClick);
  return b;
}

async function resolve(conflict, choice, row) {
  const answer = await fetch(`/api/conflicts/${conflict.id}/resolve`, {
    method: "POST",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
    body: JSON.stringify({choice}),
  });
  if (answer.ok) {
    row.remove();
    status.textContent = choice === "client" ? "端末の値を採用しました (device value taken)"
                                             : "サーバーの値のままにしました (server value kept)";
  } else {
    const body = await answer.json().catch(() => ({}));
    status.textContent = `できませんでした: ${body.detail || answer.status}`;
  }
}

async function load() {
  const me = await fetch("/api/me");
  if (!me.ok) {
    status.textContent = "サインインしてください (sign in first)";
    return;
  }
  csrf = (await me.json()).csrf_token || "";
  const answer = await fetch("/api/conflicts");
  if (!answer.ok) {
    status.textContent = `読み込めませんでした (${answer.status})`;
    return;
  }
  const {items} = await answer.json();
  const body = table.querySelector("tbody");
  body.replaceChildren();
  for (const conflict of items) {
    const row = document.createElement("tr");
    cell(row, `${conflict.entity} ${conflict.record_id.slice(0, 8)}`);
    cell(row, conflict.field);
    cell(row, show(conflict.base_value));
    cell(row, show(conflict.server_value));
    cell(row, show(conflict.client_value));
    const choose = cell(row, "");
    choose.append(button("サーバーの値", "keep server", () => resolve(conflict, "server", row)),
                  button("端末の値", "take device", () => resolve(conflict, "client", row)));
    body.appendChild(row);
  }
  table.hidden = items.length === 0;
  status.textContent = items.length ? `${items.length} 件 (${items.length} to resolve)` : "未解決の競合はありません (no conflicts)";
}

load();
