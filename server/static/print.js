// /print: start a batch print job and poll its progress (no inline script: the CSP forbids it).
const form = document.getElementById("batch-form");

function showSelect(by) {
  // each value list sits in its own <label data-by> (a labelled select): show the one chosen
  for (const label of form.querySelectorAll("label[data-by]")) {
    label.hidden = label.dataset.by !== by;
  }
}

async function csrfToken() {
  const answer = await fetch("/api/me", { credentials: "same-origin" });
  if (!answer.ok) throw new Error("サインインが必要です (sign in)");
  return (await answer.json()).csrf_token;
}

async function poll(statusUrl) {
  const bar = document.getElementById("batch-progress");
  const text = document.getElementById("batch-text");
  const link = document.getElementById("batch-link");
  for (;;) {
    const answer = await fetch(statusUrl, { credentials: "same-origin" });
    const job = await answer.json();
    if (!answer.ok) { text.textContent = job.detail; return; }
    bar.max = Math.max(job.total, 1);
    bar.value = job.done;
    text.textContent = `${job.done} / ${job.total} 件 (${job.state})`;
    if (job.state === "done") {
      text.textContent = `完了: ${job.total} 件、${job.pages} ページ (${job.seconds} 秒)`;
      link.href = job.pdf_url;
      link.hidden = false;
      return;
    }
    if (job.state === "failed") { text.textContent = `失敗しました (failed): ${job.error}`; return; }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

if (form) {
  const by = form.querySelector("#batch-by");
  showSelect(by.value);
  by.addEventListener("change", () => showSelect(by.value));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = form.querySelector(`label[data-by="${by.value}"] select`);
    const bar = document.getElementById("batch-progress");
    const text = document.getElementById("batch-text");
    document.getElementById("batch-link").hidden = true;
    bar.hidden = false;
    bar.value = 0;
    text.textContent = "開始しています… (starting)";
    try {
      const answer = await fetch("/api/print/batches", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": await csrfToken() },
        body: JSON.stringify({ by: by.value, value: chosen ? chosen.value : "",
                               duplex: form.querySelector("#batch-duplex").checked, ...shareTarget() }),
      });
      const job = await answer.json();
      if (!answer.ok) { text.textContent = job.detail; return; }
      await poll(job.status_url);
    } catch (error) {
      text.textContent = String(error.message || error);
    }
  });
}

// Art. 49-11: the office names the outside recipient a print is for (or none: the office's own).
// The batch request carries it, and every PDF link gets it as ?recipient=&recipient_name=.
function shareTarget() {
  const recipient = document.getElementById("share-recipient");
  if (!recipient || !recipient.value) return {};
  return { recipient: recipient.value, recipient_name: document.getElementById("share-name").value };
}

function updateShareLinks() {
  const target = shareTarget();
  for (const link of document.querySelectorAll("a[data-share]")) {
    const url = new URL(link.getAttribute("href"), location.href);
    url.searchParams.delete("recipient");
    url.searchParams.delete("recipient_name");
    for (const [key, value] of Object.entries(target)) url.searchParams.set(key, value);
    link.setAttribute("href", url.pathname + url.search);
  }
}

const shareForm = document.getElementById("share-form");
if (shareForm) {
  shareForm.addEventListener("input", updateShareLinks);
  shareForm.addEventListener("change", updateShareLinks);
  shareForm.addEventListener("submit", (event) => event.preventDefault());
}
