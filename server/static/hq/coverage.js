// The web of support for the whole city (the workbench's coverage figures): counts only, shown
// in the side panel when the caller may read them; a role that may not keeps the section hidden.

export async function showCoverage() {
  const section = document.getElementById("coverage-panel");
  if (!section) return;
  let answer;
  try {
    answer = await fetch("/api/hq/coverage", { credentials: "same-origin" });
  } catch {
    return; // offline: the map works without these preparedness figures
  }
  if (!answer.ok) return;
  const { figures } = await answer.json();
  const format = new Intl.NumberFormat("ja-JP");
  for (const [name, value] of Object.entries(figures)) {
    const cell = document.getElementById(`cov-${name}`);
    if (cell) cell.textContent = format.format(value);
  }
  section.hidden = false;
}
