// The forecast page: the measured net load and its forecasts per horizon, their errors and
// scores. The period is chosen with the selector; /forecast?end=UNIX_S shows an older one.
"use strict";

const HORIZON_COLOURS = ["#16a34a", "#2563eb", "#ea580c", "#9333ea", "#0891b2"];
const horizonLabel = (h) => (h === 0 ? "Latest before the step" : `${h} h ahead`);

const select = document.getElementById("days");
const params = new URLSearchParams(location.search);
if (params.has("days")) select.value = params.get("days");
select.addEventListener("change", () => ems.refresh());

ems.start(async () => {
  const query = new URLSearchParams({ days: select.value });
  if (params.has("end")) query.set("end", params.get("end"));
  draw(await ems.getJson(`/api/forecast?${query}`));
});

function draw(view) {
  const f = ems.format;
  document.getElementById("period").textContent =
    `${f.time(view.start)} → ${f.time(view.end)}: ${view.step_starts.length} measured steps`;
  const x = view.step_starts;
  const value = (_u, w) => f.kw(w);
  const horizons = view.horizons.map((h, i) => ({ ...h, colour: HORIZON_COLOURS[i % 5] }));
  ems.chart("forecast", document.getElementById("forecast-chart"), {
    series: [
      ems.timeSeries,
      { label: "Measured net load", stroke: "#0f172a", width: 2, value, paths: ems.stepped() },
      ...horizons.map((h) => ({ label: horizonLabel(h.horizon_h), stroke: h.colour, width: 1.2,
        value, paths: ems.stepped() })),
    ],
    axes: [ems.timeAxis, ems.kwAxis("kW, above 0 imported")],
  }, [x, view.measured_net_load_w, ...horizons.map((h) => h.forecast_net_load_w)]);
  const errors = horizons.map((h) => h.forecast_net_load_w.map((w, k) =>
    (w == null ? null : w - view.measured_net_load_w[k])));
  ems.chart("errors", document.getElementById("error-chart"), {
    height: 220,
    series: [
      ems.timeSeries,
      ...horizons.map((h) => ({ label: horizonLabel(h.horizon_h), stroke: h.colour,
        width: 1.2, value, paths: ems.stepped() })),
    ],
    axes: [ems.timeAxis, ems.kwAxis("kW, above 0: more import")],
  }, [x, ...errors]);
  const rows = horizons.map((h) => ems.el("tr", {},
    ems.el("td", {}, ems.el("span", { class: "swatch", style: `background:${h.colour}` }),
      horizonLabel(h.horizon_h)),
    ems.el("td", { class: "num" }, f.w(h.mae_w)),
    ems.el("td", { class: "num" }, f.w(h.bias_w)),
    ems.el("td", { class: "num" }, `${h.steps_scored} / ${x.length}`)));
  ems.table(document.getElementById("scores-table"), [
    ["Forecast"], ["Mean absolute error", "num"], ["Bias (mean error)", "num"],
    ["Steps forecast", "num"],
  ], rows);
}
