// The plan page: the current plan (/) or a round's plan (/rounds/ID). A summary, the net load
// before and after placing, one lane per device and the devices' table, both filtered by
// type, search and warnings, a page of devices at a time.
"use strict";

const TYPE_COLOURS = {
  machine: "#2563eb",
  water_heater: "#dc2626",
  ev: "#16a34a",
  pilot_wire_heater: "#ea580c",
  thermostatic_heater: "#9333ea",
};
const TYPE_NAMES = {
  machine: "Machines",
  water_heater: "Water heaters",
  ev: "Electric vehicles",
  pilot_wire_heater: "Pilot-wire heaters",
  thermostatic_heater: "Thermostatic heaters",
};
const colour = (type) => TYPE_COLOURS[type] || "#64748b";
const typeName = (type) => TYPE_NAMES[type] || type;
const LANE_FILL = 0.8; // share of a lane a device at its peak power fills
const PAGE_SIZE = 25; // devices per page of lanes and table (?per_page=N changes it)

// What the user chose: kept across the minute's refreshes, and in the URL (?q=&page=).
const query = new URLSearchParams(location.search);
const choice = {
  hidden: new Set(),  // device types unchecked
  search: query.get("q") || "",
  page: Math.max(0, Number(query.get("page") || 1) - 1),
  perPage: Math.max(1, Number(query.get("per_page")) || PAGE_SIZE),
};
let current = null;  // the plan shown and the meta: what a choice redraws

const searchBox = document.getElementById("device-search");
const warnedOnly = document.getElementById("warned-only");
searchBox.value = choice.search;
searchBox.addEventListener("input", () => {
  choice.search = searchBox.value;
  choice.page = 0;
  redraw();
});
warnedOnly.addEventListener("change", () => {
  choice.page = 0;
  redraw();
});
for (const [id, step] of [["page-previous", -1], ["page-next", 1]]) {
  document.getElementById(id).addEventListener("click", () => {
    choice.page += step;
    redraw();
  });
}

ems.start(async (meta) => {
  const match = location.pathname.match(/^\/rounds\/(\d+)$/);
  const plan = await ems.getJson(match ? `/api/rounds/${match[1]}/plan` : "/api/plan/current");
  document.getElementById("title").textContent = match
    ? `Plan of round ${plan.round.id}` : "Current plan";
  const times = ems.stepTimes(plan.round_start, plan.step_s, plan.steps);
  summary(plan);
  balanceChart(plan, times);
  const devices = [...plan.devices].sort((a, b) => a.type.localeCompare(b.type) || a.id - b.id);
  current = { plan, meta, times, devices };
  typeFilter(devices);
  redraw();
});

// "111" → "washing machine (111)"; a code the API does not name → "type 221 (unknown)".
function machineTypeName(meta, code) {
  if (code == null) return "—";
  const name = meta.machine_type_names[code];
  return name ? `${name} (${code})` : `type ${code} (unknown)`;
}

function matches(device, meta, words) {
  const text = `#${device.id} ${device.type} ${typeName(device.type)} `
    + machineTypeName(meta, device.machine_type);
  return words.every((word) => text.toLowerCase().includes(word));
}

function redraw() {
  if (!current) return;
  const { plan, meta, times, devices } = current;
  const words = choice.search.toLowerCase().split(/\s+/).filter(Boolean);
  const selected = devices.filter((d) => !choice.hidden.has(d.type)
    && (!warnedOnly.checked || d.warnings.length) && matches(d, meta, words));
  const pages = Math.max(1, Math.ceil(selected.length / choice.perPage));
  choice.page = Math.min(Math.max(0, choice.page), pages - 1);
  const first = choice.page * choice.perPage;
  const shown = selected.slice(first, first + choice.perPage);
  document.getElementById("page-text").textContent = selected.length
    ? `Devices ${first + 1}–${first + shown.length} of ${selected.length} `
      + `(page ${choice.page + 1} of ${pages})` : `No device of ${devices.length} matches.`;
  document.getElementById("page-previous").disabled = choice.page === 0;
  document.getElementById("page-next").disabled = choice.page >= pages - 1;
  const url = new URLSearchParams(location.search);
  for (const [key, value, unset] of [["q", choice.search, ""], ["page", choice.page + 1, 1]]) {
    if (value === unset) url.delete(key); else url.set(key, value);
  }
  const search = url.toString();
  history.replaceState(null, "", `${location.pathname}${search ? `?${search}` : ""}`);
  devicesChart(plan, times, shown);
  devicesTable(plan, meta, shown);
}

function card(label, value, detail) {
  return ems.el("div", { class: "card" },
    ems.el("div", { class: "label" }, label),
    ems.el("div", { class: "value" }, value),
    detail ? ems.el("div", { class: "detail" }, detail) : null);
}

function summary(plan) {
  const f = ems.format;
  const round = plan.round;
  const saved = plan.import_wh_asap - plan.import_wh;
  const share = plan.import_wh_asap > 0 ? ` (${f.pct(saved / plan.import_wh_asap)})` : "";
  const skipped = round.devices_skipped ? `, ${round.devices_skipped} skipped` : "";
  document.getElementById("summary").replaceChildren(
    card("Horizon", `${f.time(plan.round_start)} → ${f.time(plan.round_start + plan.steps * plan.step_s)}`,
      `round ${round.id}, planned ${f.age(round.started_at)}`),
    card("Import with the plan", f.kwh(plan.import_wh),
      `lower bound ${f.kwh(plan.solver.lower_bound_wh)}`),
    card("Import without the EMS", f.kwh(plan.import_wh_asap), "every device as early as allowed"),
    card("Saved", f.kwh(saved), share.trim() || null),
    card("Solver", plan.solver.status,
      `gap ${f.pct(plan.solver.gap)}, solved in ${f.seconds(plan.solver.solve_ms / 1000)}`),
    devicesCard(plan, round, skipped),
  );
  accounting(round.devices);
  savings(round);
  staleBanner(round.input_freshness);
}

function savings(round) {
  const panel = document.getElementById("savings");
  panel.hidden = !round.savings;
  if (!round.savings) return;
  const f = ems.format;
  document.getElementById("savings-text").replaceChildren(
    ...round.savings_text.map((line) => ems.el("li", {}, line)));
  const kh = (x) => (x == null ? "" : `${x.toFixed(2)} K·h`);
  const rows = round.savings.by_type.map((t) => ems.el("tr", {},
    ems.el("td", {}, typeName(t.type)),
    ems.el("td", { class: "num" }, t.devices),
    ...[t.shifted_wh, t.not_used_wh, t.import_avoided_wh, t.energy_wh, t.energy_asap_wh]
      .map((wh) => ems.el("td", { class: "num" }, f.kwh(wh))),
    ems.el("td", { class: "num" }, kh(t.band_miss_kh)),
    ems.el("td", { class: "num" }, kh(t.band_miss_asap_kh))));
  const all = round.savings;
  rows.push(ems.el("tr", { class: "total" },
    ems.el("td", {}, "All"), ems.el("td", {}),
    ...[all.shifted_wh, all.not_used_wh, all.import_avoided_wh]
      .map((wh) => ems.el("td", { class: "num" }, f.kwh(wh))),
    ems.el("td", {}), ems.el("td", {}),
    ems.el("td", { class: "num", colspan: 2 }, `given up ${kh(all.comfort_given_up_kh)}`)));
  ems.table(document.getElementById("savings-table"), [
    ["Type"], ["Devices", "num"], ["Shifted", "num"], ["Not used", "num"], ["Avoided", "num"],
    ["Energy", "num"], ["Energy without EMS", "num"], ["Band missed", "num"],
    ["Without EMS", "num"],
  ], rows);
}

function staleBanner(inputs) {
  const banner = document.getElementById("stale-banner");
  const stale = (inputs || []).filter((i) => i.state !== "fresh");
  banner.hidden = stale.length === 0;
  if (!stale.length) return;
  const f = ems.format;
  const text = stale.map((i) => i.state === "missing" ? `${i.name}: missing`
    : `${i.name}: ${f.duration(i.age_s)} old (stale after ${f.duration(i.limit_s)})` +
      (i.coverage != null && i.coverage < 1 ? `, ${f.pct(i.coverage)} of the horizon` : "") +
      (i.stale_items && i.stale_items.length
        ? `, ${i.stale_items.length} items stale (${i.stale_items.slice(0, 5).join(", ")}` +
          `${i.stale_items.length > 5 ? ", …" : ""})` : ""));
  banner.textContent = `This plan was made on stale inputs: ${text.join("; ")}. ` +
    "The round planned with what it had; see ems doctor.";
}

function devicesCard(plan, round, skipped) {
  const counts = round.devices;
  if (!counts) {  // a round logged before devices were accounted for
    return card("Devices", `${plan.devices.length} planned`,
      `${plan.devices.filter((d) => d.warnings.length).length} with warnings${skipped}`);
  }
  const problems = counts.left_out_for_a_problem
    ? `, ${counts.left_out_for_a_problem} of them for a problem` : "";
  return card("Devices", `${counts.planned + counts.relaxed} of ${counts.total} planned`,
    `${counts.relaxed} relaxed, ${counts.left_out} left out${problems}`);
}

function accounting(counts) {
  const section = document.getElementById("accounting");
  section.hidden = !counts;
  if (!counts) return;
  const problems = new Set(counts.problem_reasons);
  const ids = (list) => list.slice(0, 12).join(", ") + (list.length > 12 ? ", …" : "");
  const row = (outcome, reason, count, list, problem) => ems.el("tr", { class: problem ? "problem" : "" },
    ems.el("td", {}, outcome), ems.el("td", {}, reason || "—"),
    ems.el("td", { class: "num" }, count), ems.el("td", {}, ids(list)));
  const rows = [
    row("planned as asked", "", counts.planned, [], false),
    ...Object.entries(counts.relaxed_by_reason).map(([r, l]) => row("relaxed", r, l.length, l, false)),
    ...Object.entries(counts.left_out_by_reason)
      .map(([r, l]) => row("left out", r, l.length, l, problems.has(r))),
  ];
  ems.table(document.getElementById("accounting-table"),
    [["Outcome"], ["Reason"], ["Devices", "num"], ["Ids"]], rows);
  document.getElementById("accounting-total").textContent =
    `${counts.total} devices in the coordination database: ${counts.planned} planned as asked, ` +
    `${counts.relaxed} relaxed, ${counts.left_out} left out.`;
}

function balanceChart(plan, times) {
  const source = plan.balance.source === "published"
    ? "As published in the output database (what the control daemon reads)."
    : "From the round's saved scenario and plan files.";
  document.getElementById("balance-source").textContent = source;
  const value = (_u, w) => ems.format.kw(w);
  ems.chart("balance", document.getElementById("balance-chart"), {
    series: [
      ems.timeSeries,
      { label: "Net load before placing the devices", stroke: "#64748b", width: 1.5,
        dash: [6, 4], paths: ems.stepped(), value },
      { label: "After placing them", stroke: "#16a34a", fill: "rgba(22, 163, 74, 0.08)",
        width: 2, paths: ems.stepped(), value },
    ],
    axes: [ems.timeAxis, ems.kwAxis("kW, above 0 imported")],
  }, [times, ems.extended(plan.balance.net_load_before_w),
    ems.extended(plan.balance.net_load_after_w)]);
}

// One checkbox per type with its device count, checked unless the user unchecked it.
function typeFilter(devices) {
  const counts = {};
  for (const d of devices) counts[d.type] = (counts[d.type] || 0) + 1;
  const box = document.getElementById("type-filter");
  box.replaceChildren(box.querySelector("legend"));
  for (const [type, count] of Object.entries(counts)) {
    const input = ems.el("input", { type: "checkbox", value: type,
      checked: !choice.hidden.has(type) });
    input.addEventListener("change", () => {
      if (input.checked) choice.hidden.delete(type); else choice.hidden.add(type);
      choice.page = 0;
      redraw();
    });
    box.append(ems.el("label", { class: "filter" }, input,
      ems.el("span", { class: "swatch", style: `background:${colour(type)}` }),
      `${typeName(type)} (${count})`));
  }
}

// Lane i (from the top) spans [n - 1 - i, n - i) on y; the device's power fills it.
function devicesChart(plan, times, devices) {
  const n = devices.length;
  const base = (i) => n - 1 - i;
  const series = [ems.timeSeries];
  const data = [times];
  devices.forEach((d, i) => {
    const peak = Math.max(...d.power_w);
    const level = peak > 0 ? d.power_w.map((w) => w / peak) : d.decisions.map((x) => (x ? 1 : 0));
    data.push(ems.extended(level.map((x) => base(i) + LANE_FILL * x)));
    series.push({
      label: `#${d.id}`, stroke: colour(d.type), fill: `${colour(d.type)}55`, width: 1,
      paths: ems.stepped(), fillTo: () => base(i), points: { show: false },
    });
  });
  const container = document.getElementById("devices-chart");
  const info = document.getElementById("cursor-info");
  ems.chart("devices", container, {
    height: Math.max(140, 26 * n + 60),
    series,
    legend: { show: false },
    cursor: { points: { show: false }, drag: { x: false, y: false } },
    scales: { y: { range: () => [0, Math.max(n, 1)] } },
    axes: [
      ems.timeAxis,
      {
        size: 70,
        splits: () => devices.map((_, i) => base(i) + 0.4),
        values: (_u, splits) => splits.map((y) => `#${devices[n - 1 - Math.floor(y)].id}`),
        grid: { show: false },
      },
    ],
    hooks: { setCursor: [(u) => describe(u, plan, devices, info)] },
  }, data);
  container.classList.toggle("empty", n === 0);
}

function describe(u, plan, devices, info) {
  const { idx, top } = u.cursor;
  const lane = top == null || top < 0 ? -1 : Math.floor(u.posToVal(top, "y"));
  const device = devices[devices.length - 1 - lane];
  if (idx == null || idx >= plan.steps || !device) {
    info.textContent = "\u00a0";
    return;
  }
  const step = plan.round_start + idx * plan.step_s;
  info.textContent = `#${device.id} ${typeName(device.type)} · `
    + `${ems.format.time(step)}–${ems.format.clock(step + plan.step_s)} · decision `
    + `${device.decisions[idx]} · ${ems.format.kw(device.power_w[idx])}`;
}

function devicesTable(plan, meta, devices) {
  const f = ems.format;
  const stepH = plan.step_s / 3600;
  const rows = devices.map((d) => {
    const first = d.decisions.findIndex((x) => x > 0);
    const energy = d.power_w.reduce((sum, w) => sum + w * stepH, 0);
    return ems.el("tr", { class: d.warnings.length ? "warned" : null },
      ems.el("td", { class: "num" }, `#${d.id}`),
      ems.el("td", {}, ems.el("span", { class: "swatch", style: `background:${colour(d.type)}` }),
        typeName(d.type)),
      ems.el("td", {}, machineTypeName(meta, d.machine_type)),
      ems.el("td", {}, ems.el("span", { class: `badge ${d.status}` }, d.status)),
      ems.el("td", {}, first < 0 ? "—" : f.time(plan.round_start + first * plan.step_s)),
      ems.el("td", { class: "num" }, d.decisions.filter((x) => x > 0).length),
      ems.el("td", { class: "num" }, f.kwh(energy)),
      ems.el("td", { class: "num" }, f.kw(Math.max(...d.power_w))),
      ems.el("td", { class: "warnings" }, d.warnings.length
        ? ems.el("ul", {}, d.warnings.map((w) => ems.el("li", {}, w))) : "none"),
    );
  });
  ems.table(document.getElementById("devices-table"), [
    ["Device", "num"], ["Type"], ["Machine type"], ["Status"], ["First decision 1"],
    ["Steps at 1", "num"], ["Energy", "num"], ["Peak", "num"], ["Warnings"],
  ], rows.length ? rows : [ems.el("tr", {}, ems.el("td", { colspan: 9 }, "No device shown."))]);
}
