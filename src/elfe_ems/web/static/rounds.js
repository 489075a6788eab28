// The rounds page: the run log of the configured planning method, as charts and a table whose
// rows open each round's plan.
"use strict";

ems.start(async (meta) => {
  const rounds = await ems.getJson("/api/rounds?limit=500");
  document.getElementById("rounds-note").textContent =
    `The ${rounds.length} latest rounds of ${meta.planning_method}, latest first; `
    + "a re-run of a round is a row of its own.";
  // the charts need increasing times: by round start, re-runs in their order
  const ordered = [...rounds].sort((a, b) => a.round_start - b.round_start || a.id - b.id);
  const x = ordered.map((r) => r.round_start);
  const kwh = (_u, wh) => ems.format.kwh(wh);
  ems.chart("imports", document.getElementById("import-chart"), {
    series: [
      { label: "Round", value: (_u, s) => ems.format.time(s) },
      { label: "With the plan", stroke: "#16a34a", width: 2, value: kwh,
        points: { show: true, size: 5 } },
      { label: "Without the EMS", stroke: "#64748b", width: 1.5, dash: [6, 4], value: kwh,
        points: { show: true, size: 5 } },
    ],
    axes: [ems.timeAxis, { label: "kWh", size: 60, values: (_u, t) => t.map((wh) => (wh / 1000).toFixed(1)) }],
  }, [x, ordered.map((r) => r.import_wh), ordered.map((r) => r.import_wh_asap)]);
  ems.chart("times", document.getElementById("time-chart"), {
    series: [
      { label: "Round", value: (_u, s) => ems.format.time(s) },
      { label: "Round time", stroke: "#2563eb", width: 2, scale: "s",
        value: (_u, s) => ems.format.seconds(s), points: { show: true, size: 5 } },
      { label: "Devices planned", stroke: "#ea580c", width: 1.5, scale: "n",
        value: (_u, n) => (n == null ? "—" : n), points: { show: true, size: 5 } },
    ],
    scales: { s: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] },
      n: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
    axes: [ems.timeAxis, { scale: "s", label: "s", size: 50 },
      { scale: "n", side: 1, label: "devices", size: 50, grid: { show: false } }],
  }, [x, ordered.map((r) => r.duration_s), ordered.map((r) => r.devices_planned)]);
  savingsChart(ordered.filter((r) => r.savings), kwh);
  roundsTable(rounds);
});

function savingsChart(rounds, kwh) {
  const part = (key) => rounds.map((r) => r.savings[key]);
  ems.chart("savings", document.getElementById("savings-chart"), {
    series: [
      { label: "Round", value: (_u, s) => ems.format.time(s) },
      { label: "Shifted in time", stroke: "#2563eb", width: 2, value: kwh,
        points: { show: true, size: 5 } },
      { label: "Not used", stroke: "#16a34a", width: 2, value: kwh,
        points: { show: true, size: 5 } },
      { label: "Avoided in all", stroke: "#0f172a", width: 1, dash: [4, 4], value: kwh,
        points: { show: true, size: 4 } },
    ],
    axes: [ems.timeAxis, { label: "kWh", size: 60, values: (_u, t) => t.map((wh) => (wh / 1000).toFixed(1)) }],
  }, [rounds.map((r) => r.round_start), part("shifted_wh"), part("not_used_wh"),
    part("import_avoided_wh")]);
  savingsDays(rounds);
}

function savingsDays(rounds) {
  const f = ems.format;
  const days = new Map();
  for (const r of rounds) {
    const day = f.day(r.round_start);  // the local date, in the configured zone
    if (!days.has(day)) days.set(day, []);
    days.get(day).push(r.savings);
  }
  const mean = (list, key) => list.reduce((sum, s) => sum + s[key], 0) / list.length;
  const rows = [...days.entries()].reverse().map(([day, list]) => ems.el("tr", {},
    ems.el("td", {}, day),
    ems.el("td", { class: "num" }, list.length),
    ...["shifted_wh", "not_used_wh", "import_avoided_wh"]
      .map((key) => ems.el("td", { class: "num" }, f.kwh(mean(list, key)))),
    ems.el("td", { class: "num" }, `${mean(list, "comfort_given_up_kh").toFixed(2)} K·h`)));
  ems.table(document.getElementById("savings-days"), [
    ["Day"], ["Rounds", "num"], ["Shifted (mean)", "num"], ["Not used (mean)", "num"],
    ["Avoided (mean)", "num"], ["Comfort given up (mean)", "num"],
  ], rows.length ? rows
    : [ems.el("tr", {}, ems.el("td", { colspan: 6 }, "No round says where its savings come from yet."))]);
}

function roundsTable(rounds) {
  const f = ems.format;
  const rows = rounds.map((r) => {
    const saved = r.import_wh != null && r.import_wh_asap
      ? f.pct((r.import_wh_asap - r.import_wh) / r.import_wh_asap) : "—";
    const open = r.plan_available
      ? ems.el("a", { href: `/rounds/${r.id}`, class: "open-plan" }, "open plan")
      : ems.el("span", { class: "muted" }, r.error || "no plan file");
    return ems.el("tr", { class: r.status },
      ems.el("td", { class: "num" }, r.id),
      ems.el("td", {}, f.time(r.round_start)),
      ems.el("td", {}, f.full(r.started_at)),
      ems.el("td", {}, ems.el("span", { class: `badge ${r.status}` }, r.status)),
      ems.el("td", {}, r.solver_status ?? "—"),
      ems.el("td", { class: "num" }, f.pct(r.gap)),
      ems.el("td", { class: "num" }, f.seconds(r.duration_s)),
      ems.el("td", { class: "num" }, r.devices
        ? `${r.devices.planned + r.devices.relaxed} / ${r.devices.left_out}`
        : r.devices_planned == null ? "—" : `${r.devices_planned} / ${r.devices_skipped}`),
      ems.el("td", { class: "num" }, f.kwh(r.import_wh)),
      ems.el("td", { class: "num" }, f.kwh(r.import_wh_asap)),
      ems.el("td", { class: "num" }, saved),
      ems.el("td", { class: "plan-cell" }, open),
    );
  });
  ems.table(document.getElementById("rounds-table"), [
    ["Id", "num"], ["Round start"], ["Run at"], ["Status"], ["Solver"], ["Gap", "num"],
    ["Time", "num"], ["Planned / left out", "num"], ["Import", "num"],
    ["Without EMS", "num"], ["Saved", "num"], ["Plan"],
  ], rows.length ? rows : [ems.el("tr", {}, ems.el("td", { colspan: 12 }, "No round yet."))]);
}
