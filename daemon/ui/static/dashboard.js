/* Argus dashboard: one page, hash routes, the daemon's REST API through the session cookie.
 *
 * No build step and no framework: DOM built with textContent (data never becomes HTML), uPlot
 * (vendored) for charts. Live: GET /status (public, unlimited) every few seconds; a new
 * prediction cycle refreshes the open view, no more often than the view's rate limits allow.
 */
"use strict";

(() => {
  const CONFIG = JSON.parse(document.getElementById("argus-config").textContent);
  const CSRF = document.querySelector('meta[name="csrf-token"]').content;
  const LEVELS = ["critical", "warning", "degraded", "healthy"];
  const STATUS_POLL_MS = 4000;
  const STALE_MINUTES = 15; // a server whose newest sample is this far behind the cycle is stale
  const RANGES = ["30m", "1h", "8h", "1d", "1w", "1M"];

  const state = {
    view: null, // {name, params, spec, el, loadedAt, timer}
    cycle: null, // last seen prediction_cycles
    fleet: { sort: "risk", dir: -1, profile: "", level: "", q: "" },
    historyRange: "1d",
  };

  // ---------- small helpers ----------

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function clear(el, ...children) {
    el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined));
  }

  class ApiError extends Error {
    constructor(status, detail, body) {
      super(detail);
      this.status = status;
      this.body = body;
    }
  }

  async function api(path, method = "GET") {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = CSRF;
    const res = await fetch(path, { method, headers, credentials: "same-origin", cache: "no-store" });
    let body = null;
    try {
      body = await res.json();
    } catch (_) {
      body = null;
    }
    if (res.status === 401) {
      // The session ended (logout elsewhere, expiry, key rotated): the server shows the form.
      window.location.reload();
    }
    if (!res.ok) throw new ApiError(res.status, (body && body.detail) || res.statusText, body);
    return body;
  }

  // Several requests; a failed one becomes an ApiError value instead of failing them all.
  function settle(paths) {
    return Promise.all(paths.map((p) => api(p).catch((e) => (e instanceof ApiError ? e : Promise.reject(e)))));
  }

  const enc = encodeURIComponent;
  const fmt = (v, d = 1) => (v === null || v === undefined || Number.isNaN(v) ? "–" : Number(v).toFixed(d));
  const pct = (v) => (v === null || v === undefined ? "–" : (100 * v).toFixed(1) + " %");
  const time = (iso) => (iso ? iso.replace("T", " ").slice(0, 16) : "–");
  const levelOf = (name) => CONFIG.levels[name] || CONFIG.levels.healthy;
  // The API's times are naive UTC; one with a zone is taken as written.
  const utcMs = (iso) => Date.parse(/(Z|[+-]\d\d:?\d\d)$/i.test(iso) ? iso : iso + "Z");
  const title = (s) => s.charAt(0).toUpperCase() + s.slice(1);

  function badge(level, label) {
    const lv = levelOf(level);
    // colour AND text: the emoji and the word tell the level without colour
    return h("span", { class: "badge lvl-" + level, "data-level": level }, label || `${lv.emoji} ${title(level)}`);
  }

  function serverLink(name) {
    return h("a", { href: "#/server/" + enc(name), class: "server-link" }, name);
  }

  function problem(err, what) {
    if (err && err.status === 503) {
      const b = err.body || {};
      const progress = b.records !== undefined ? ` (${b.records} of ${b.required} records)` : "";
      return h("p", { class: "notice" }, `Waiting for data: ${what} starts after warm-up${progress}.`);
    }
    if (err && err.status === 429) return h("p", { class: "notice" }, `Rate limited; ${what} will refresh shortly.`);
    return h("p", { class: "error", role: "alert" }, `${what}: ${err ? err.message : "unavailable"}`);
  }

  function table(headers, rows, attrs) {
    return h(
      "div",
      { class: "table-wrap" },
      h("table", attrs || {}, h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))), h("tbody", {}, rows)),
    );
  }

  function td(label, ...content) {
    return h("td", { "data-label": label }, ...content);
  }

  function card(label, value, extra) {
    return h("div", { class: "card " + (extra || "") }, h("div", { class: "card-value" }, value), h("div", { class: "card-label" }, label));
  }

  // ---------- charts ----------

  const charts = new Set();

  function destroyCharts() {
    for (const c of charts) c.destroy();
    charts.clear();
  }

  function chartWidth(el) {
    return Math.max(260, Math.floor(el.getBoundingClientRect().width || 600) - 4);
  }

  const resizer = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const plot = entry.target._plot;
      if (plot) plot.setSize({ width: chartWidth(entry.target), height: plot.height });
    }
  });

  // Axes in UTC, like every time the API returns and the page prints.
  const utc = (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC");

  function mountChart(el, opts, data) {
    opts.width = chartWidth(el);
    opts.tzDate = utc;
    const plot = new uPlot(opts, data, el);
    el._plot = plot;
    charts.add(plot);
    resizer.observe(el);
    return plot;
  }

  // History of the last day + the 8-hour P50 with its P10–P90 band and the two thresholds.
  function forecastChart(el, target, hist, fc, limits) {
    const points = new Map();
    const put = (iso, idx, v) => {
      const t = utcMs(iso) / 1000;
      if (!points.has(t)) points.set(t, [null, null, null, null]);
      points.get(t)[idx] = v;
    };
    hist.timestamps.forEach((ts, i) => put(ts, 0, hist.targets[target][i]));
    fc.timestamps.forEach((ts, i) => {
      put(ts, 1, fc[target][i]);
      put(ts, 2, fc.p10[target][i]);
      put(ts, 3, fc.p90[target][i]);
    });
    const xs = [...points.keys()].sort((a, b) => a - b);
    const col = (i) => xs.map((x) => points.get(x)[i]);
    const [warn, crit] = limits;
    const data = [xs, col(0), col(1), col(2), col(3), xs.map(() => warn), xs.map(() => crit)];
    const opts = {
      height: 220,
      cursor: { drag: { x: false, y: false } },
      legend: { show: true, live: false },
      scales: { x: { time: true } },
      series: [
        {},
        { label: "history", stroke: "#4a90d9", width: 1.5 },
        { label: "P50 forecast", stroke: "#7b3fbf", width: 2 },
        { label: "P10", stroke: "rgba(123,63,191,0.35)", width: 1 },
        { label: "P90", stroke: "rgba(123,63,191,0.35)", width: 1 },
        { label: `warning ${warn}`, stroke: CONFIG.levels.warning.color, dash: [6, 4], width: 1.5, points: { show: false } },
        { label: `critical ${crit}`, stroke: CONFIG.levels.critical.color, dash: [2, 3], width: 1.5, points: { show: false } },
      ],
      bands: [{ series: [4, 3], fill: "rgba(123,63,191,0.18)" }], // P10–P90
      axes: [{ space: 70 }, { size: 50 }],
    };
    el.dataset.bands = opts.bands.map((b) => b.series.map((s) => opts.series[s].label).join("-")).join(",");
    return mountChart(el, opts, data);
  }

  function lineChart(el, xsIso, series, height) {
    const xs = xsIso.map((ts) => utcMs(ts) / 1000);
    const opts = {
      height: height || 200,
      legend: { show: true, live: false },
      // one cycle alone would make uPlot span years around it: show an hour instead
      scales: { x: { time: true, range: (u, lo, hi) => (xs.length && xs[0] === xs[xs.length - 1] ? [xs[0] - 1800, xs[0] + 1800] : [lo, hi]) } },
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, scale: s.scale || "y" }))],
      axes: [{ space: 70 }, { size: 50 }],
    };
    return mountChart(el, opts, [xs, ...series.map((s) => s.values)]);
  }

  // ---------- Fleet ----------

  function sortValue(key, name, p) {
    switch (key) {
      case "name":
        return name;
      case "level":
        return -LEVELS.indexOf(p.alert.level);
      case "profile":
        return p.profile;
      case "dominant":
        return p.dominant_metric;
      case "tti":
        return p.time_to_issue_minutes === null ? Infinity : p.time_to_issue_minutes;
      case "cpu":
        return parseFloat(p.display_metrics.cpu);
      case "mem":
        return parseFloat(p.display_metrics.memory);
      default:
        return p.risk_score;
    }
  }

  function isStale(p, cycleTime) {
    if (typeof p.stale === "boolean") return p.stale; // the API's own verdict, where it gives one
    return utcMs(cycleTime) - utcMs(p.last_sample) > STALE_MINUTES * 60000;
  }

  const FLEET_COLUMNS = [
    ["name", "Server"],
    ["level", "Level"],
    ["risk", "Risk"],
    ["profile", "Profile"],
    ["dominant", "Dominant metric"],
    ["tti", "Time to issue"],
    ["cpu", "CPU"],
    ["mem", "Memory"],
  ];

  const fleetView = {
    minInterval: 3, // /predictions/current allows 30 requests a minute
    mount(el) {
      const f = state.fleet;
      this.summary = h("section", { class: "cards", "aria-label": "Fleet summary" });
      this.profileSel = h("select", { id: "f-profile", onchange: (e) => ((f.profile = e.target.value), this.draw()) });
      this.levelSel = h(
        "select",
        { id: "f-level", onchange: (e) => ((f.level = e.target.value), this.draw()) },
        h("option", { value: "" }, "all levels"),
        LEVELS.map((l) => h("option", { value: l }, `${levelOf(l).emoji} ${title(l)}`)),
      );
      this.levelSel.value = f.level;
      const search = h("input", { id: "f-q", type: "search", placeholder: "server name", value: f.q, oninput: (e) => ((f.q = e.target.value), this.draw()) });
      this.sortSel = h(
        "select",
        { id: "f-sort", onchange: (e) => this.sortBy(e.target.value) },
        FLEET_COLUMNS.map(([key, label]) => h("option", { value: key }, label)),
      );
      this.body = h("div", { class: "fleet-body" });
      this.count = h("span", { class: "muted", role: "status" });
      clear(
        el,
        h("h1", {}, "Fleet"),
        this.summary,
        h(
          "div",
          { class: "filters" },
          h("label", { for: "f-profile" }, "Profile ", this.profileSel),
          h("label", { for: "f-level" }, "Level ", this.levelSel),
          h("label", { for: "f-q" }, "Search ", search),
          h("label", { for: "f-sort" }, "Sort by ", this.sortSel),
          this.count,
        ),
        this.body,
      );
    },
    async refresh() {
      try {
        this.data = await api("/predictions/current");
        this.error = null;
      } catch (e) {
        this.error = e;
      }
      this.draw();
    },
    draw() {
      if (this.error || !this.data) {
        clear(this.summary);
        clear(this.body, problem(this.error, "Predictions"));
        return;
      }
      const d = this.data;
      const s = d.summary;
      clear(
        this.summary,
        card("Servers", s.total_servers),
        LEVELS.map((l) => card(`${levelOf(l).emoji} ${title(l)}`, s[l], "lvl-card lvl-" + l)),
        card("Fleet health", fmt(s.fleet_health)),
        card("P(critical in 30 min)", pct(s.prob_30m)),
        card("P(critical in 8 h)", pct(s.prob_8h)),
      );
      const profiles = [...new Set(Object.values(d.predictions).map((p) => p.profile))].sort();
      const f = state.fleet;
      clear(this.profileSel, h("option", { value: "" }, "all profiles"), profiles.map((p) => h("option", { value: p }, p)));
      this.profileSel.value = profiles.includes(f.profile) ? f.profile : "";
      let rows = Object.entries(d.predictions).filter(
        ([name, p]) => (!f.profile || p.profile === f.profile) && (!f.level || p.alert.level === f.level) && (!f.q || name.includes(f.q)),
      );
      rows.sort(([an, ap], [bn, bp]) => {
        const a = sortValue(f.sort, an, ap);
        const b = sortValue(f.sort, bn, bp);
        return (a < b ? -1 : a > b ? 1 : an < bn ? -1 : 1) * f.dir;
      });
      this.sortSel.value = f.sort;
      this.count.textContent = `${rows.length} of ${Object.keys(d.predictions).length} servers · cycle of ${time(d.timestamp)} UTC`;
      const head = FLEET_COLUMNS.map(([key, label]) => {
        const active = f.sort === key;
        const th = h(
          "th",
          { scope: "col", "aria-sort": active ? (f.dir > 0 ? "ascending" : "descending") : null },
          h("button", { type: "button", class: "sort", "data-key": key, onclick: () => this.sortBy(key) }, label, active ? (f.dir > 0 ? " ▲" : " ▼") : ""),
        );
        return th;
      });
      const body = rows.map(([name, p]) => {
        const stale = isStale(p, d.timestamp);
        return h(
          "tr",
          { class: "lvl-row lvl-" + p.alert.level + (stale ? " stale" : ""), "data-server": name },
          td("Server", serverLink(name), stale ? h("span", { class: "stale-tag", title: "no sample since " + time(p.last_sample) }, " ⏸ stale") : null),
          td("Level", badge(p.alert.level, p.alert.label)),
          td("Risk", h("span", { class: "num" }, fmt(p.risk_score))),
          td("Profile", p.profile),
          td("Dominant metric", p.dominant_metric),
          td("Time to issue", p.time_to_issue || "–"),
          td("CPU", p.display_metrics.cpu),
          td("Memory", p.display_metrics.memory),
        );
      });
      // servers without recent data: the API lists them apart (no forecast, no risk)
      const staleRows = Object.entries(d.stale_servers || {})
        .filter(([name, p]) => (!f.profile || p.profile === f.profile) && (!f.level || f.level === "stale") && (!f.q || name.includes(f.q)))
        .sort(([an], [bn]) => (an < bn ? -1 : 1))
        .map(([name, p]) =>
          h(
            "tr",
            { class: "lvl-row stale", "data-server": name },
            td("Server", serverLink(name), h("span", { class: "stale-tag", title: "no sample since " + time(p.last_sample) }, " ⏸ stale")),
            td("Level", h("span", { class: "badge" }, "⏸ Stale")),
            td("Risk", "–"),
            td("Profile", p.profile),
            td("Dominant metric", "–"),
            td("Time to issue", p.message),
            td("CPU", "–"),
            td("Memory", "–"),
          ),
        );
      clear(
        this.body,
        h(
          "div",
          { class: "table-wrap" },
          h("table", { class: "fleet", id: "fleet-table" }, h("thead", {}, h("tr", {}, head)), h("tbody", {}, body, staleRows)),
        ),
      );
    },
    sortBy(key) {
      const f = state.fleet;
      if (f.sort === key) f.dir = -f.dir;
      else {
        f.sort = key;
        f.dir = ["name", "profile", "dominant", "tti"].includes(key) ? 1 : -1;
      }
      this.draw();
      const btn = this.body.querySelector(`th button[data-key="${key}"]`);
      if (btn) btn.focus(); // keyboard users keep their place after sorting
    },
  };

  // ---------- Server ----------

  const serverView = {
    minInterval: 10, // /explain runs the model: at most a few times a minute
    mount(el, params) {
      this.name = params[0];
      this.head = h("section", { class: "server-head" });
      this.alertBox = h("section", { class: "alert-box", "aria-label": "Current alert" });
      this.chartsEl = h("section", { class: "charts", "aria-label": "Forecasts" });
      this.explainEl = h("section", { class: "explain", "aria-label": "Explanation" });
      clear(
        el,
        h("p", {}, h("a", { href: "#/fleet" }, "← Fleet")),
        h("h1", {}, this.name),
        this.head,
        this.alertBox,
        h("h2", {}, "Last day and 8-hour forecast"),
        h("p", { class: "muted" }, "History (5-minute means), P50 forecast with its P10–P90 band, warning and critical thresholds dashed."),
        this.chartsEl,
        h("h2", {}, "Why this risk"),
        this.explainEl,
      );
    },
    async refresh() {
      const n = enc(this.name);
      const [pred, hist, alerts, expl] = await settle([
        "/predictions/current",
        `/historical/server/${n}/metrics?time_range=1d`,
        "/alerts/active",
        `/explain/${n}`,
      ]);
      this.drawHead(pred, alerts);
      this.drawCharts(pred, hist);
      this.drawExplain(expl);
    },
    drawHead(pred, alerts) {
      if (pred instanceof ApiError) return clear(this.head, problem(pred, "Predictions"));
      const p = pred.predictions[this.name];
      if (!p) return clear(this.head, h("p", { class: "error" }, `${this.name} is not in the latest prediction cycle.`));
      clear(
        this.head,
        h(
          "div",
          { class: "cards" },
          card("Level", badge(p.alert.level, p.alert.label)),
          card("Risk", fmt(p.risk_score)),
          card("Time to issue", p.time_to_issue || "none in 8 h"),
          card("Dominant metric", p.dominant_metric),
          card("Profile", p.profile),
          card("Model", p.model),
          card("Last sample (UTC)", time(p.last_sample), isStale(p, pred.timestamp) ? "stale-card" : ""),
        ),
        h("p", { class: "message" }, p.message),
      );
      const active = alerts instanceof ApiError ? null : alerts.alerts.find((a) => a.server_name === this.name);
      clear(
        this.alertBox,
        h("h2", {}, "Current alert"),
        active
          ? h(
              "div",
              { class: "alert lvl-row lvl-" + active.level, id: "current-alert" },
              badge(active.level),
              ` ${active.message} · risk ${fmt(active.risk_score)} · open since ${time(active.since)}, at this level since ${time(active.level_since)} UTC`,
            )
          : h("p", { id: "current-alert" }, alerts instanceof ApiError ? "Alerts unavailable." : "No active alert."),
      );
    },
    drawCharts(pred, hist) {
      destroyCharts();
      if (pred instanceof ApiError) return clear(this.chartsEl, problem(pred, "Forecast"));
      const p = pred.predictions[this.name];
      if (!p) return clear(this.chartsEl);
      const history = hist instanceof ApiError ? { timestamps: [], targets: {} } : hist;
      const limits = CONFIG.thresholds[p.profile] || CONFIG.thresholds.Generic;
      const boxes = Object.entries(CONFIG.targets).map(([target, label]) => {
        const plot = h("div", { class: "chart", "data-target": target, role: "img", "aria-label": `${label}: last day and 8-hour forecast` });
        const last = p.forecast[target].length - 1;
        const summary = `In 8 h: P50 ${fmt(p.forecast[target][last])} (P10 ${fmt(p.forecast.p10[target][last])} – P90 ${fmt(p.forecast.p90[target][last])}); warning ${limits[target][0]}, critical ${limits[target][1]}.`;
        const box = h("figure", { class: "chart-box" }, h("figcaption", {}, label), plot, h("p", { class: "chart-note" }, summary));
        box._plot = plot;
        return [target, box];
      });
      clear(this.chartsEl, boxes.map(([, b]) => b));
      if (!history.targets.cpu_pct) this.chartsEl.prepend(problem(hist, "History"));
      for (const [target, box] of boxes) {
        const hs = history.targets[target] ? history : { timestamps: [], targets: { [target]: [] } };
        forecastChart(box._plot, target, hs, p.forecast, limits[target]);
      }
    },
    drawExplain(expl) {
      if (expl instanceof ApiError) return clear(this.explainEl, problem(expl, "Explanation"));
      const feats = expl.shap.top_features.map((f) =>
        h(
          "tr",
          {},
          td("Feature", f.label || f.feature),
          td("Importance", h("span", { class: "stars", "aria-label": `${Math.round(f.importance * 5)} of 5` }, f.stars), " ", fmt(f.importance, 2)),
        ),
      );
      const cfs = expl.counterfactuals.map((c) =>
        h(
          "tr",
          { class: c.helps ? "helps" : "" },
          td("What if", c.scenario),
          td("Risk", `${fmt(c.risk_before)} → ${fmt(c.risk_after)}`),
          td("Impact", c.impact),
          td("Recommendation", c.recommendation),
        ),
      );
      clear(
        this.explainEl,
        h("div", { class: "cols" },
          h("div", {}, h("h3", {}, "Feature importance"), table(["Feature", "Importance"], feats), h("p", { class: "muted" }, `method: ${expl.shap.method}`)),
          h(
            "div",
            {},
            h("h3", {}, "Attention"),
            h("ul", {}, expl.attention.focus_periods.map((p, i) => h("li", {}, p, expl.attention.shares[i] ? ` (${pct(expl.attention.shares[i])})` : ""))),
            h("p", {}, expl.attention.analysis),
          ),
        ),
        h("h3", {}, "What-if scenarios"),
        table(["What if", "Risk", "Impact", "Recommendation"], cfs, { id: "whatif" }),
        h("p", { class: "muted" }, expl.counterfactual_summary),
      );
    },
  };

  // ---------- Alerts ----------

  function transitionsTable(events, limit) {
    const rows = [...events].reverse().slice(0, limit).map((e) =>
      h(
        "tr",
        { class: "lvl-row lvl-" + e.level },
        td("Time (UTC)", time(e.timestamp)),
        td("Server", serverLink(e.server_name)),
        td("Event", e.event),
        td("Level", e.previous_level === e.level ? badge(e.level) : h("span", {}, badge(e.previous_level), " → ", badge(e.level))),
        td("Risk", fmt(e.risk_score)),
        td("Message", e.message),
      ),
    );
    if (!rows.length) return h("p", { class: "muted" }, "No alert transitions in this range.");
    return table(["Time (UTC)", "Server", "Event", "Level", "Risk", "Message"], rows, { class: "transitions" });
  }

  const alertsView = {
    minInterval: 3,
    mount(el) {
      this.active = h("section", { "aria-label": "Active alerts" });
      this.recent = h("section", { "aria-label": "Recent transitions" });
      clear(el, h("h1", {}, "Alerts"), this.active, h("h2", {}, "Newest transitions (8 h)"), this.recent);
    },
    async refresh() {
      const [active, recent] = await settle(["/alerts/active", "/historical/alerts?time_range=8h"]);
      if (active instanceof ApiError) clear(this.active, problem(active, "Active alerts"));
      else {
        const rows = active.alerts.map((a) =>
          h(
            "tr",
            { class: "lvl-row lvl-" + a.level, "data-server": a.server_name },
            td("Level", badge(a.level)),
            td("Server", serverLink(a.server_name)),
            td("Risk", fmt(a.risk_score)),
            td("Message", a.message),
            td("Time to issue", a.time_to_issue || "–"),
            td("Since (UTC)", time(a.since)),
          ),
        );
        clear(
          this.active,
          h("h2", {}, `Active (${active.count})`),
          rows.length ? table(["Level", "Server", "Risk", "Message", "Time to issue", "Since (UTC)"], rows, { id: "active-alerts" }) : h("p", { class: "ok" }, "🟢 No active alerts."),
        );
      }
      clear(this.recent, recent instanceof ApiError ? problem(recent, "Alert history") : transitionsTable(recent.events, 50));
    },
  };

  // ---------- Cascades ----------

  const cascadesView = {
    minInterval: 5,
    mount(el) {
      this.body = h("div", {});
      clear(el, h("h1", {}, "Cascades"), this.body);
    },
    async refresh() {
      const [health, status] = await settle(["/cascade/health", "/cascade/status"]);
      if (status instanceof ApiError) return clear(this.body, problem(status, "Cascade detection"));
      const c = status.current_status;
      const cards = health instanceof ApiError ? [] : [
        card("Fleet health", fmt(health.health_score)),
        card("Status", health.status),
        card("Cascade risk", health.cascade_risk),
        card("Anomalous servers", `${health.anomalous_servers} / ${health.total_servers}`),
        card("Correlation", fmt(health.correlation_score, 2)),
      ];
      const groups = c.cascades.map((g) =>
        h(
          "tr",
          {},
          td("Metric", g.metric),
          td("Rule", g.rule),
          td("Severity", g.severity),
          td("Servers", h("span", {}, g.affected_servers.map((s, i) => [i ? ", " : "", serverLink(s)]))),
        ),
      );
      const events = status.recent_events.map((e) =>
        h(
          "li",
          { class: "event sev-" + e.severity },
          h("time", { datetime: e.timestamp }, time(e.timestamp)),
          e.ongoing ? " (ongoing)" : [" – ", h("time", { datetime: e.last_seen }, time(e.last_seen))],
          h("strong", {}, ` ${e.severity} `),
          e.origin ? ["from ", serverLink(e.origin), " · "] : "",
          `${e.affected_servers.length} servers · ${[...new Set(e.cascades.map((x) => x.metric))].join(", ")} · correlation ${fmt(e.correlation_score, 2)}`,
        ),
      );
      clear(
        this.body,
        h("section", { class: "cards" }, cards),
        h(
          "p",
          { class: c.cascade_detected ? "notice" : "ok", id: "cascade-state" },
          c.cascade_detected
            ? `⚠ Cascade detected at ${time(c.timestamp)}: origin ${c.origin || "unknown"}${c.origin_profile ? ` (${c.origin_profile})` : ""}, ${c.affected_servers.length} servers affected.`
            : `✓ No cascade at ${time(c.timestamp)} (${c.servers_with_anomalies} of ${c.total_servers} servers anomalous).`,
        ),
        groups.length ? [h("h2", {}, "Groups"), table(["Metric", "Rule", "Severity", "Servers"], groups)] : null,
        c.recommendations.length ? [h("h2", {}, "Recommendations"), h("ul", {}, c.recommendations.map((r) => h("li", {}, r)))] : null,
        h("h2", {}, `Recent events (${status.event_count} stored)`),
        events.length ? h("ol", { class: "timeline" }, events) : h("p", { class: "muted" }, "No cascade episodes stored yet."),
      );
    },
  };

  // ---------- Model ----------

  const modelView = {
    minInterval: 15, // admin routes allow 10 requests a minute
    mount(el) {
      this.drift = h("section", { "aria-label": "Drift" });
      this.training = h("section", { "aria-label": "Training" });
      this.models = h("section", { "aria-label": "Models" });
      this.msg = h("p", { role: "status", class: "action-msg" });
      const epochs = h("input", { id: "epochs", type: "number", min: 1, max: 500, value: 10 });
      const incremental = h("input", { id: "incremental", type: "checkbox" });
      clear(
        el,
        h("h1", {}, "Model"),
        this.drift,
        h("h2", {}, "Training"),
        this.training,
        h(
          "div",
          { class: "actions" },
          h("label", { for: "epochs" }, "Epochs ", epochs),
          h("label", { for: "incremental" }, incremental, " incremental"),
          h("button", { type: "button", id: "retrain", onclick: () => this.act(`/admin/trigger-training?epochs=${enc(epochs.value)}&incremental=${incremental.checked}`, "Training started") }, "Retrain"),
          h("button", { type: "button", id: "cancel-training", onclick: () => this.act("/admin/cancel-training", "Training cancelled") }, "Cancel training"),
          h("button", { type: "button", id: "reload", onclick: () => this.act("/admin/reload-model", "Model reloaded") }, "Reload current model"),
        ),
        this.msg,
        h("h2", {}, "Models"),
        this.models,
      );
    },
    async act(path, done) {
      this.msg.textContent = "…";
      try {
        const r = await api(path, "POST");
        this.msg.textContent = `${done}${r && r.model ? `: ${r.model}` : ""}.`;
      } catch (e) {
        this.msg.textContent = `Refused (${e.status}): ${e.message}`;
      }
      state.view.loadedAt = 0;
      refreshView(true);
    },
    // a training run moves without new data: follow it even when no prediction cycle runs
    pollAgain() {
      return this.trainingLive;
    },
    async refresh() {
      const [report, status, training, models] = await settle(["/drift/report", "/drift/status", "/admin/training-status", "/admin/models"]);
      this.drawDrift(report, status);
      if (training instanceof ApiError) clear(this.training, problem(training, "Training status"));
      else {
        const t = training;
        this.trainingLive = t.live;
        const pctDone = t.percent === null ? 0 : t.percent;
        clear(
          this.training,
          h("p", {}, `Status: ${t.status}${t.reason ? ` (${t.reason})` : ""}${t.model_name ? ` · ${t.model_name}` : ""}${t.epoch !== null ? ` · epoch ${t.epoch} of ${t.total_epochs}` : ""}${t.eta_minutes !== null ? ` · ETA ${fmt(t.eta_minutes)} min` : ""}`),
          h("progress", { id: "training-progress", max: 100, value: pctDone, "aria-label": "training progress" }, `${fmt(pctDone, 0)} %`),
          h("span", {}, ` ${fmt(pctDone, 0)} %`),
          t.detail ? h("p", { class: "muted" }, t.detail) : null,
        );
      }
      if (models instanceof ApiError) clear(this.models, problem(models, "Models"));
      else {
        const rows = models.models.map((m) =>
          h(
            "tr",
            {},
            td("Name", m.name, m.serving ? " (serving)" : "", m.current ? " ★ current" : ""),
            td("Created", m.created_at || "–"),
            td("Backtest", m.backtest ? JSON.stringify(m.backtest).slice(0, 80) : "–"),
            td("", h("button", { type: "button", onclick: () => this.act(`/admin/reload-model?model_path=${enc(m.name)}`, `Serving ${m.name}`) }, "Serve this")),
          ),
        );
        clear(this.models, h("p", {}, `Serving: ${models.serving}`), rows.length ? table(["Name", "Created", "Backtest", ""], rows) : h("p", { class: "muted" }, "No trained model yet: the seasonal-naive fallback serves."));
      }
    },
    drawDrift(report, status) {
      if (report instanceof ApiError) return clear(this.drift, problem(report, "Drift report"));
      const rows = Object.entries(report.metrics).map(([name, m]) => {
        const share = m.value === null ? 0 : Math.min(1, m.value / m.threshold);
        return h(
          "tr",
          { class: "drift-" + m.status },
          td("Metric", name.toUpperCase()),
          td("Value", fmt(m.value, 3)),
          td("Threshold", fmt(m.threshold, 3)),
          td("Status", m.status),
          td("Of threshold", h("meter", { min: 0, max: 1, low: 0.75, high: 0.999, optimum: 0, value: share }, pct(share))),
        );
      });
      const meta = status instanceof ApiError ? "" : ` · model ${status.model} · checked ${time(status.checked_at)} · next ${time(status.next_check)} · auto-retrain ${status.auto_retrain_enabled ? "on" : "off"}`;
      clear(
        this.drift,
        h("h2", {}, "Drift"),
        h("p", {}, `Overall: ${report.overall_health}${report.needs_retraining ? " — retraining needed" : ""}${meta}`),
        table(["Metric", "Value", "Threshold", "Status", "Of threshold"], rows, { id: "drift-metrics" }),
        report.recommendations.length ? h("ul", {}, report.recommendations.map((r) => h("li", {}, r))) : null,
      );
    },
  };

  // ---------- History ----------

  const historyView = {
    minInterval: 15,
    mount(el) {
      const sel = h(
        "select",
        { id: "h-range", onchange: (e) => ((state.historyRange = e.target.value), (state.view.loadedAt = 0), refreshView(true)) },
        RANGES.map((r) => h("option", { value: r }, r)),
      );
      sel.value = state.historyRange;
      this.summary = h("section", { class: "cards", "aria-label": "Summary" });
      this.chart = h("div", { class: "chart", role: "img", "aria-label": "Fleet health and alert counts per cycle" });
      this.exports = h("p", { class: "exports" });
      this.timeline = h("section", { "aria-label": "Alert timeline" });
      clear(
        el,
        h("h1", {}, "History"),
        h("div", { class: "filters" }, h("label", { for: "h-range" }, "Range ", sel)),
        this.summary,
        h("h2", {}, "Fleet per prediction cycle"),
        h("figure", { class: "chart-box" }, this.chart),
        h("h2", {}, "Export"),
        this.exports,
        h("h2", {}, "Alert timeline"),
        this.timeline,
      );
    },
    async refresh() {
      const r = enc(state.historyRange);
      const [summary, env, alerts] = await settle([`/historical/summary?time_range=${r}`, `/historical/environment?time_range=${r}`, `/historical/alerts?time_range=${r}`]);
      if (summary instanceof ApiError) clear(this.summary, problem(summary, "Summary"));
      else {
        clear(
          this.summary,
          card("Alerts opened", summary.total_alerts),
          LEVELS.slice(0, 3).map((l) => card(`${levelOf(l).emoji} ${title(l)} reached`, summary.alerts_by_level[l] || 0, "lvl-card lvl-" + l)),
          card("Avg resolution (min)", fmt(summary.avg_resolution_time_minutes)),
          card("Incidents prevented", summary.incidents_prevented),
          card("Avg fleet health", fmt(summary.fleet_health_avg)),
        );
      }
      destroyCharts();
      if (env instanceof ApiError) clear(this.chart, problem(env, "Fleet history"));
      else if (!env.snapshots.length) clear(this.chart, h("p", { class: "muted" }, "No prediction cycles in this range."));
      else {
        clear(this.chart);
        const s = env.snapshots;
        lineChart(this.chart, s.map((x) => x.timestamp), [
          { label: "fleet health", color: "#2b7a2b", values: s.map((x) => x.fleet_health) },
          { label: "critical", color: CONFIG.levels.critical.color, values: s.map((x) => x.critical) },
          { label: "warning", color: CONFIG.levels.warning.color, values: s.map((x) => x.warning) },
          { label: "P(crit 8 h) %", color: "#7b3fbf", values: s.map((x) => 100 * x.prob_8h) },
        ]);
      }
      clear(
        this.exports,
        ["alerts", "environment", "metrics", "predictions"].map((t) => [
          h("span", { class: "export" }, `${t}: `, ["csv", "json", "parquet"].map((f, i) => [i ? " · " : "", h("a", { href: `/historical/export/${t}?time_range=${r}&format=${f}`, download: "" }, f)])),
        ]),
      );
      clear(this.timeline, alerts instanceof ApiError ? problem(alerts, "Alert history") : transitionsTable(alerts.events, 200));
    },
  };

  // ---------- routing and live refresh ----------

  const VIEWS = { fleet: fleetView, server: serverView, alerts: alertsView, cascades: cascadesView, model: modelView, history: historyView };

  function parseHash() {
    const parts = (window.location.hash || "#/fleet").replace(/^#\/?/, "").split("/").map(decodeURIComponent);
    const name = VIEWS[parts[0]] ? parts[0] : "fleet";
    return { name, params: parts.slice(1) };
  }

  function route() {
    const { name, params } = parseHash();
    if (state.view && state.view.timer) clearTimeout(state.view.timer);
    destroyCharts();
    const el = document.getElementById("view");
    const spec = VIEWS[name];
    state.view = { name, params, spec, el, loadedAt: 0, timer: null };
    for (const a of document.querySelectorAll(".tabs a")) {
      const current = a.dataset.tab === name || (name === "server" && a.dataset.tab === "fleet");
      if (current) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    document.title = `Argus · ${name === "server" ? params[0] : title(name)}`;
    spec.mount(el, params);
    refreshView(true);
  }

  async function refreshView(force) {
    const v = state.view;
    if (!v) return;
    const wait = v.loadedAt + v.spec.minInterval * 1000 - Date.now();
    if (!force && wait > 0) {
      if (!v.timer) v.timer = setTimeout(() => ((v.timer = null), refreshView(true)), wait);
      return;
    }
    v.loadedAt = Date.now();
    try {
      await v.spec.refresh();
      if (state.view === v) v.el.dataset.cycle = String(state.cycle);
      if (state.view === v && v.spec.pollAgain && v.spec.pollAgain() && !v.timer) {
        v.timer = setTimeout(() => ((v.timer = null), refreshView(true)), v.spec.minInterval * 1000);
      }
    } catch (e) {
      console.error(e);
    }
  }

  async function pollStatus() {
    const live = document.getElementById("live");
    try {
      const res = await fetch("/status", { cache: "no-store" });
      const s = await res.json();
      live.className = "live on";
      live.textContent = `● live · ${s.servers_tracked} servers · data ${time(s.data_time)} UTC · cycle ${s.prediction_cycles}`;
      if (state.cycle !== null && s.prediction_cycles !== state.cycle) {
        state.cycle = s.prediction_cycles;
        refreshView(false);
      }
      state.cycle = s.prediction_cycles;
    } catch (_) {
      live.className = "live off";
      live.textContent = "○ daemon unreachable";
    }
    setTimeout(pollStatus, STATUS_POLL_MS);
  }

  window.addEventListener("hashchange", () => {
    route();
    document.getElementById("view").focus({ preventScroll: true });
  });
  route();
  pollStatus();
})();
