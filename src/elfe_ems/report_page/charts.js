// Draws a report's charts with uPlot from the JSON of every
// <script type="application/json" data-chart="NAME">, into the element of id NAME (the format
// is report_page/charts.py's). Each chart is kept in window.reportCharts by name (the browser
// test reads them there); body[data-state] turns "ready" once all are drawn.
"use strict";

window.reportCharts = {};

(() => {
  const HEIGHT = 320;
  const BAR_SIZE = 0.35; // of a category's height, per bar (two bars side by side)
  const BAR_MAX_PX = 24;
  // rounded first: a float's -1e-15 shows as 0.00, not -0.00
  const number = (value, digits) => (Math.round(value * 10 ** digits) / 10 ** digits || 0)
    .toLocaleString("en-GB", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const shown = (digits) => (_u, value) => (value == null ? "—" : number(value, digits));
  const widthOf = (target) => Math.max(300, target.clientWidth);

  // A value axis sized to the data that always shows 0 (above: imported, below: exported).
  function withZero(_u, min, max) {
    if (min == null || max == null) return [-1, 1];
    const [low, high] = [Math.min(0, min), Math.max(0, max)];
    return low === high ? [-1, 1] : uPlot.rangeNum(low, high, 0.1, true);
  }

  // The line of value 0 of scale `scale` across the plot.
  const zeroLine = (scale) => (u) => {
    const { ctx } = u;
    const { left, top, width, height } = u.bbox;
    const at = Math.round(u.valToPos(0, scale, true));
    ctx.save();
    ctx.strokeStyle = "#5f6368";
    ctx.lineWidth = devicePixelRatio;
    ctx.beginPath();
    if (u.scales[scale].ori === 0) {
      ctx.moveTo(at, top);
      ctx.lineTo(at, top + height);
    } else {
      ctx.moveTo(left, at);
      ctx.lineTo(left + width, at);
    }
    ctx.stroke();
    ctx.restore();
  };

  // Times of day in `zone` on the x axis, the date under the first tick of each day.
  function timeAxis(zone) {
    const zoned = (s) => uPlot.tzDate(new Date(s * 1000), zone);
    const clock = uPlot.fmtDate("{HH}:{mm}");
    const day = uPlot.fmtDate("{WWW} {DD} {MMM}");
    return {
      tzDate: zoned,
      series: {
        label: `time (${zone})`,
        value: (_u, s) => (s == null ? "—" : `${day(zoned(s))} ${clock(zoned(s))}`),
      },
      axis: {
        label: `time (${zone})`,
        values: (_u, ticks) => ticks.map((s, i) => {
          const date = day(zoned(s));
          const previous = i > 0 ? day(zoned(ticks[i - 1])) : null;
          return clock(zoned(s)) + (date === previous ? "" : `\n${date}`);
        }),
      },
    };
  }

  function lines(target, spec) {
    let x = spec.x;
    let columns = spec.series.map((s) => s.values);
    if (spec.step != null) { // each value holds over its step: the last one to the end
      x = [...x, x[x.length - 1] + spec.step];
      columns = columns.map((values) => [...values, values[values.length - 1]]);
    }
    const time = spec.time_zone == null ? null : timeAxis(spec.time_zone);
    const ticks = spec.x_ticks;
    const labelled = ticks.length
      ? { splits: () => ticks.map(([at]) => at), values: () => ticks.map(([, label]) => label) }
      : {};
    return new uPlot({
      width: widthOf(target),
      height: HEIGHT,
      ...(time ? { tzDate: time.tzDate } : {}),
      scales: {
        x: { time: time != null, range: () => [x[0], x[x.length - 1]] },
        y: { range: withZero },
      },
      series: [
        time ? time.series : { label: spec.x_label, value: shown(2) },
        ...spec.series.map((s) => ({
          label: s.label, stroke: s.colour, width: 2, dash: s.dash, value: shown(2),
          points: { show: false },
          ...(spec.step == null ? {} : { paths: uPlot.paths.stepped({ align: 1 }) }),
        })),
      ],
      axes: [
        time ? time.axis : { label: spec.x_label, ...labelled },
        { label: spec.y_label, size: 60, labelSize: 20 },
      ],
      hooks: { draw: [zeroLine("y")] },
    }, [x, ...columns], target);
  }

  // Each bar's value at its end, outside the bar.
  function barLabels(u) {
    const { ctx } = u;
    const spacing = Math.abs(u.valToPos(1, "x", true) - u.valToPos(0, "x", true));
    const half = Math.min(BAR_SIZE * spacing, BAR_MAX_PX * devicePixelRatio) / 2;
    ctx.save();
    ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
    ctx.fillStyle = "#202124";
    ctx.textBaseline = "middle";
    u.series.forEach((series, k) => {
      if (k === 0 || !series.show) return;
      u.data[k].forEach((value, i) => {
        if (value == null) return;
        const across = u.valToPos(i, "x", true) + (k === 1 ? -half : half);
        const along = u.valToPos(value, "y", true) + (value >= 0 ? 4 : -4) * devicePixelRatio;
        ctx.textAlign = value >= 0 ? "left" : "right";
        ctx.fillText(number(value, 2), along, across);
      });
    });
    ctx.restore();
  }

  // Horizontal bars: categories top to bottom, two series side by side, 0 in the middle.
  function bars(target, spec) {
    const n = spec.categories.length;
    const reach = Math.max(0, ...spec.series.flatMap((s) => s.values.map((v) => Math.abs(v ?? 0))))
      || 1;
    return new uPlot({
      width: widthOf(target),
      height: 34 * n + 70,
      scales: {
        x: { time: false, ori: 1, dir: -1, range: [-0.5, n - 0.5] },
        y: { ori: 0, range: [-1.25 * reach, 1.25 * reach] },
      },
      series: [
        { label: "type", value: (_u, i) => (i == null ? "—" : spec.categories[i]) },
        ...spec.series.map((s, k) => ({
          label: s.label, stroke: s.colour, fill: s.colour, width: 0, value: shown(2),
          paths: uPlot.paths.bars({ size: [BAR_SIZE, BAR_MAX_PX], align: k === 0 ? -1 : 1 }),
          fillTo: () => 0, points: { show: false },
        })),
      ],
      axes: [
        { side: 3, size: 170, splits: () => spec.categories.map((_, i) => i),
          values: () => spec.categories, grid: { show: false }, ticks: { show: false } },
        { side: 2, label: spec.value_label },
      ],
      hooks: { draw: [zeroLine("y"), barLabels] },
    }, [spec.categories.map((_, i) => i), ...spec.series.map((s) => s.values)], target);
  }

  const kinds = { lines, bars };
  for (const data of document.querySelectorAll("script[type='application/json'][data-chart]")) {
    const name = data.dataset.chart;
    const spec = JSON.parse(data.textContent);
    const target = document.getElementById(name);
    target.replaceChildren();
    window.reportCharts[name] = kinds[spec.kind](target, spec);
  }
  window.addEventListener("resize", () => {
    for (const plot of Object.values(window.reportCharts)) {
      plot.setSize({ width: widthOf(plot.root.parentElement), height: plot.height });
    }
  });
  document.body.dataset.state = "ready";
})();
