// What every page of the dashboard shares: fetching the API, showing its errors, refreshing
// the page every minute with the time of the last round and a banner when it is late or the
// API cannot be reached, formatting times (in the configured time zone) and quantities, and
// drawing uPlot charts. Every chart is kept in window.emsCharts by name (the browser tests
// count its series there).
"use strict";

window.emsCharts = {};

const ems = (() => {
  const REFRESH_S = 60;
  const HOUR_S = 3600;
  let zone = "UTC";
  let refresh = async () => {};

  class ApiError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  async function getJson(path) {
    const response = await fetch(path, { headers: { Accept: "application/json" } });
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    if (!response.ok) {
      const detail = body && body.detail;
      const text = typeof detail === "string" ? detail : detail ? JSON.stringify(detail) : "";
      throw new ApiError(response.status, text || response.statusText);
    }
    return body;
  }

  function showError(error) {
    const box = document.getElementById("error");
    const prefix = {
      401: "Access token needed: ",
      404: "Not available: ",
      503: "A database cannot be read: ",
    }[error.status] || "Error: ";
    box.textContent = prefix + error.message;
    box.hidden = false;
  }

  function banner(text, level) {
    const box = document.getElementById("round-banner");
    box.hidden = !text;
    box.textContent = text || "";
    box.className = `banner ${level || ""}`;
  }

  // The last round's time and age, and a banner past the health checks' limits.
  function roundStatus(meta, latest) {
    const status = document.getElementById("round-status");
    if (!latest) {
      status.textContent = "No round has run yet.";
      banner("No round has run yet: there is no plan in force.", "failed");
      return;
    }
    status.textContent = `Last round: ${format.zoned(latest.started_at)} `
      + `(${format.age(latest.started_at)}), ${latest.status}.`;
    const ageS = Date.now() / 1000 - latest.started_at;
    const [warnS, failS] = meta.round_age_limits_s;
    const late = ageS > failS ? "failed" : ageS > warnS ? "warning" : null;
    banner(late && `The last round ran ${format.duration(ageS)} ago, more than `
      + `${format.duration(late === "failed" ? failS : warnS)}: plans are not renewed. `
      + "See the Health page and ems doctor.", late);
  }

  // Draw the page, then the last round; a network failure keeps what is shown and says
  // since when it dates. The scroll position survives the redraw.
  async function cycle(meta, render, shown) {
    const scroll = [window.scrollX, window.scrollY];
    try {
      await render(meta);
      const [latest] = await getJson("/api/rounds?limit=1");
      shown.at = Date.now() / 1000;
      document.getElementById("error").hidden = true;
      roundStatus(meta, latest);
      document.body.dataset.state = "ready";
    } catch (error) {
      if (error instanceof ApiError) showError(error);
      else banner(shown.at == null ? "The dashboard's API cannot be reached."
        : `The dashboard's API cannot be reached: the data shown are from `
          + `${format.zoned(shown.at)} and may be stale.`, "failed");
      document.body.dataset.state = "error";
    }
    window.scrollTo(...scroll);
  }

  // Run the page's render(meta) once the configuration is known, then every REFRESH_S;
  // body[data-state] tells when the page is done ("ready") or failed ("error"). render keeps
  // the user's choices (filters, search, page) itself.
  async function start(render) {
    for (const link of document.querySelectorAll("header nav a")) {
      const here = link.getAttribute("href");
      const active =
        here === "/" ? location.pathname === "/" : location.pathname.startsWith(here);
      link.classList.toggle("active", active);
    }
    let meta;
    try {
      meta = await getJson("/api/meta");
    } catch (error) {
      if (error instanceof ApiError) showError(error);
      else banner("The dashboard's API cannot be reached.", "failed");
      document.body.dataset.state = "error";
      return;
    }
    zone = meta.timezone;
    document.getElementById("context").textContent =
      `${meta.planning_method} · times in ${meta.timezone}`;
    const shown = { at: null };
    refresh = () => cycle(meta, render, shown);
    await refresh();
    window.setInterval(() => refresh(), REFRESH_S * 1000);
  }

  function formatter(options) {
    return () => new Intl.DateTimeFormat("en-GB", { timeZone: zone, ...options });
  }
  const dayTime = formatter({
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
  });
  const clock = formatter({ hour: "2-digit", minute: "2-digit" });
  const date = formatter({ weekday: "short", year: "numeric", month: "short", day: "numeric" });
  const full = formatter({
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    second: "2-digit",
  });
  const zoned = formatter({
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
    timeZoneName: "short",
  });

  const number = (value, digits) =>
    value.toLocaleString("en-GB", { minimumFractionDigits: digits, maximumFractionDigits: digits });

  const format = {
    time: (s) => (s == null ? "—" : dayTime().format(new Date(s * 1000))),
    clock: (s) => (s == null ? "—" : clock().format(new Date(s * 1000))),
    day: (s) => (s == null ? "—" : date().format(new Date(s * 1000))),
    full: (s) => (s == null ? "—" : full().format(new Date(s * 1000))),
    zoned: (s) => (s == null ? "—" : zoned().format(new Date(s * 1000))),
    kw: (w) => (w == null ? "—" : `${number(w / 1000, 2)} kW`),
    w: (w) => (w == null ? "—" : `${number(w, 0)} W`),
    kwh: (wh) => (wh == null ? "—" : `${number(wh / 1000, 2)} kWh`),
    seconds: (s) => (s == null ? "—" : `${number(s, s < 10 ? 2 : 1)} s`),
    pct: (x) => (x == null ? "—" : `${number(100 * x, 2)} %`),
    duration: (s) => {
      if (s == null) return "—";
      const abs = Math.abs(s);
      return abs < 120 ? `${abs.toFixed(0)} s` : abs < 7200
        ? `${(abs / 60).toFixed(0)} min` : abs < 172800
        ? `${(abs / 3600).toFixed(1)} h` : `${(abs / 86400).toFixed(1)} days`;
    },
    age: (s) => {
      const seconds = Date.now() / 1000 - s;
      const text = format.duration(seconds);
      return seconds >= 0 ? `${text} ago` : `in ${text}`;
    },
  };

  // el("td", {class: "num"}, "text", child, ...): a DOM element.
  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value != null && value !== false) node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child != null) node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function table(target, headers, rows) {
    const head = el("thead", {}, el("tr", {}, headers.map(([label, cls]) =>
      el("th", { class: cls }, label))));
    const body = el("tbody", {}, rows);
    target.replaceChildren(head, body);
  }

  // Scales sized to the data: one point gets an hour around it and a value a tenth of its
  // size (uPlot would span 1000 days or nothing); no data at all, the last hour and 0 to 1.
  // The time range is taken from the data: uPlot widens a single time itself before asking.
  function timeRange(u) {
    const times = u.data[0];
    if (!times.length) {
      const now = Date.now() / 1000;
      return [now - HOUR_S, now];
    }
    const [min, max] = [times[0], times[times.length - 1]];
    return min === max ? [min - HOUR_S, max + HOUR_S] : [min, max];
  }
  function valueRange(_u, min, max) {
    if (min == null || max == null) return [0, 1];
    if (min === max) {
      const pad = Math.max(1, Math.abs(min) / 10);
      return [min - pad, max + pad];
    }
    return uPlot.rangeNum(min, max, 0.1, true);
  }

  // The width a chart may take in its container (the page never scrolls sideways).
  const widthIn = (container) => Math.max(200, container.clientWidth);

  // A chart named `name` in `container` (any previous one of that name is replaced), as wide
  // as its container, with times on x in the configured time zone and scales sized to the
  // data (options.scales may size them otherwise).
  function chart(name, container, options, data) {
    if (window.emsCharts[name]) window.emsCharts[name].destroy();
    const plot = new uPlot(
      {
        width: widthIn(container),
        height: 300,
        tzDate: (s) => uPlot.tzDate(new Date(s * 1000), zone),
        ...options,
        scales: { x: { time: true, range: timeRange }, y: { range: valueRange },
          ...options.scales },
      },
      data,
      container,
    );
    window.emsCharts[name] = plot;
    return plot;
  }

  window.addEventListener("resize", () => {
    for (const plot of Object.values(window.emsCharts)) {
      plot.setSize({ width: widthIn(plot.root.parentElement), height: plot.height });
    }
  });

  const day = formatter({ weekday: "short", day: "numeric", month: "short" });
  const timeSeries = { label: "Time", value: (_u, s) => format.time(s) };
  // Times of day on the x axis, in the configured zone; the date under the first tick of
  // each day.
  const timeAxis = {
    values: (_u, ticks) => ticks.map((s, i) => {
      const date = day().format(new Date(s * 1000));
      const previous = i > 0 ? day().format(new Date(ticks[i - 1] * 1000)) : null;
      return format.clock(s) + (date === previous ? "" : `\n${date}`);
    }),
  };
  // kW on a y axis of W, with as many decimals as the ticks' spacing needs.
  const kwAxis = (label) => ({
    label,
    size: 60,
    labelSize: 20,
    values: (_u, ticks) => {
      const spacing = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) / 1000 : 1;
      const digits = Math.min(3, Math.max(0, Math.ceil(-Math.log10(spacing))));
      return ticks.map((w) => number(w / 1000, digits));
    },
  });
  const stepped = () => uPlot.paths.stepped({ align: 1 });

  // x values for per-step data: each step's start, and the horizon's end so the last step
  // is drawn over its whole length (its value repeated).
  function stepTimes(start, stepS, steps) {
    return Array.from({ length: steps + 1 }, (_, k) => start + k * stepS);
  }
  const extended = (values) => [...values, values[values.length - 1]];

  return {
    ApiError, getJson, start, refresh: () => refresh(), showError, format, el, table, chart,
    timeSeries, timeAxis, kwAxis, stepped, stepTimes, extended,
  };
})();
