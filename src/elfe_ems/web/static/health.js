// The health page: the checks of `ems doctor`, run by the server when the page asks.
"use strict";

const VERDICT_TEXT = {
  ok: "Everything is working.",
  warning: "Working, but some checks need a look.",
  failed: "Some checks failed: the EMS cannot do all its work.",
};

const button = document.getElementById("recheck");
button.addEventListener("click", () => ems.refresh());

ems.start(async () => {
  button.disabled = true;
  try {
    draw(await ems.getJson("/api/health"));
  } finally {
    button.disabled = false;
  }
});

function draw(view) {
  const verdict = document.getElementById("verdict");
  verdict.className = `verdict ${view.verdict}`;
  verdict.textContent = `${VERDICT_TEXT[view.verdict]} Checked ${ems.format.full(view.checked_at)}.`;
  ems.table(document.getElementById("checks-table"), [["Check"], ["Verdict"], ["Detail"]],
    view.checks.map((c) => ems.el("tr", { class: c.verdict },
      ems.el("td", {}, c.name),
      ems.el("td", {}, ems.el("span", { class: `badge ${c.verdict}` }, c.verdict)),
      ems.el("td", {}, c.detail))));
}
