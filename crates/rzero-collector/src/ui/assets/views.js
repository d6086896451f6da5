// rzero viewer, the views beyond list and waterfall: service map, RED charts, trace
// comparison, and the critical path of a trace. Loaded before app.js, which routes to
// them; they use its helpers (el, api, fmtDuration, colour) once called. Charts are
// plain SVG built with createElementNS: no library, no CDN, and text only through
// textContent.
"use strict";

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// === critical path ===

// The spans that bound the trace's duration: from the root, the child that finishes
// last, then the one that finishes before that child starts, and so on, each walked the
// same way (Jaeger's definition). Answers a Set of span ids.
function criticalPath(spans) {
  const byId = new Map(spans.map((s) => [s.span_id, s]));
  const kids = new Map();
  for (const s of spans) {
    if (s.parent_span_id && byId.has(s.parent_span_id) && s.parent_span_id !== s.span_id) {
      if (!kids.has(s.parent_span_id)) kids.set(s.parent_span_id, []);
      kids.get(s.parent_span_id).push(s);
    }
  }
  const roots = spans.filter((s) => !s.parent_span_id || !byId.has(s.parent_span_id));
  const path = new Set();
  const walk = (span, until, depth) => {
    if (path.has(span.span_id) || depth > 256) return;
    path.add(span.span_id);
    let cursor = Math.min(span.end_unix_nanos, until);
    const children = (kids.get(span.span_id) || []).slice().sort((a, b) => b.end_unix_nanos - a.end_unix_nanos);
    for (const c of children) {
      if (c.start_unix_nanos >= cursor) continue;
      walk(c, cursor, depth + 1);
      cursor = c.start_unix_nanos;
    }
  };
  const root = roots.sort((a, b) => (b.end_unix_nanos - b.start_unix_nanos) - (a.end_unix_nanos - a.start_unix_nanos))[0];
  if (root) walk(root, root.end_unix_nanos, 0);
  return path;
}

// === time window ===

// The windows the map and RED charts offer; the chosen one is `lookback_ms` in the
// address, so a link restores it.
const WINDOWS = [["", "everything stored"], ["300000", "last 5 min"], ["900000", "last 15 min"], ["3600000", "last hour"], ["21600000", "last 6 hours"], ["86400000", "last 24 hours"]];

// A select of WINDOWS that sets `lookback_ms` in `#/<view>?<params>` when changed.
function windowPick(view, q) {
  const current = q.get("lookback_ms") || "";
  const known = WINDOWS.some(([v]) => v === current);
  const options = (known ? WINDOWS : [...WINDOWS, [current, `last ${Number(current) / 1000} s`]])
    .map(([v, label]) => el("option", { value: v, selected: v === current ? "" : null }, label));
  return el("select", { id: `${view}-window`, onchange: (e) => {
    const p = new URLSearchParams(q);
    if (e.target.value) p.set("lookback_ms", e.target.value); else p.delete("lookback_ms");
    location.hash = `#/${view}?` + p.toString();
  } }, options);
}

// === service map ===

async function showMap(params) {
  const q = new URLSearchParams(params);
  const lookback = q.get("lookback_ms");
  app.replaceChildren(el("p", { class: "muted" }, "Loading…"));
  let body;
  try {
    body = await api("/rzero/api/service-map" + (lookback ? `?lookback_ms=${encodeURIComponent(lookback)}` : ""));
  } catch (e) {
    app.replaceChildren(el("div", { class: "empty" }, "Could not load the service map: " + e.message));
    return;
  }
  const { nodes, edges } = body.data;
  const head = [
    el("h1", { class: "view-title" }, "Service map"),
    el("div", { class: "filters" }, el("label", {}, "Window", windowPick("map", q))),
  ];
  if (nodes.length === 0) {
    app.replaceChildren(...head, el("div", { class: "empty", id: "map-empty" }, "No spans in this window: the map draws itself from the traces received."));
    return;
  }
  // Columns by call depth (longest path from a node nothing calls), rows in name order.
  const depth = new Map(nodes.map((n) => [n.id, 0]));
  for (let round = 0; round < nodes.length; round++) {
    let changed = false;
    for (const e of edges) {
      const d = depth.get(e.from) + 1;
      if (e.from !== e.to && d > depth.get(e.to) && d < nodes.length) { depth.set(e.to, d); changed = true; }
    }
    if (!changed) break;
  }
  const columns = [];
  for (const n of nodes) (columns[depth.get(n.id)] ||= []).push(n);
  const W = 190, H = 46, GX = 260, GY = 40;
  const pos = new Map();
  columns.forEach((col, x) => col.forEach((n, y) => pos.set(n.id, { x: 20 + x * (W + GX), y: 20 + y * (H + GY) })));
  const width = 40 + columns.length * (W + GX);
  const height = 40 + Math.max(...columns.map((c) => c.length)) * (H + GY);
  const lines = edges.map((e) => {
    const a = pos.get(e.from), b = pos.get(e.to);
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
    const label = `${e.calls} calls · ${(e.error_rate * 100).toFixed(0)}% err · p50 ${e.p50_ms.toFixed(1)} / p99 ${e.p99_ms.toFixed(1)} ms`;
    return svg("g", { class: "edge" + (e.errors > 0 ? " failing" : ""), "data-edge": `${e.from}->${e.to}`, "data-calls": String(e.calls),
        onclick: () => (location.hash = `#/?service=${encodeURIComponent(e.from)}`) },
      svg("line", { x1, y1, x2, y2, "marker-end": "url(#arrow)" }),
      svg("text", { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 6, "text-anchor": "middle" }, label),
      svg("title", {}, `${e.from} → ${e.to}: ${label}`));
  });
  const boxes = nodes.map((n) => {
    const p = pos.get(n.id);
    return svg("g", { class: `node ${n.kind}`, "data-node-id": n.id, "data-kind": n.kind,
        onclick: () => { if (n.kind === "service") location.hash = `#/red?service=${encodeURIComponent(n.id)}`; } },
      svg("rect", { x: p.x, y: p.y, width: W, height: H, rx: n.kind === "service" ? 6 : 20, style: n.kind === "service" ? `stroke:${colour(n.id)}` : null }),
      svg("text", { x: p.x + W / 2, y: p.y + 20, "text-anchor": "middle", class: "name" }, n.id),
      svg("text", { x: p.x + W / 2, y: p.y + 36, "text-anchor": "middle", class: "kind" }, n.kind));
  });
  app.replaceChildren(
    ...head,
    el("p", { class: "muted" }, "From the stored spans: services, the databases and caches they call, and peers that send no spans. Click a service for its RED charts, an edge for its traces."),
    el("div", { class: "map-wrap" },
      svg("svg", { id: "service-map", width, height, viewBox: `0 0 ${width} ${height}` },
        svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: "auto" },
          svg("path", { d: "M0,0 L10,5 L0,10 z" }))),
        lines, boxes)));
}

// === RED charts ===

function barChart(buckets, value, cls, fmt, onpick) {
  const W = 420, H = 110, pad = 26;
  const max = Math.max(1e-9, ...buckets.map(value));
  const step = (W - pad) / Math.max(1, buckets.length);
  const bars = buckets.map((b, i) => {
    const h = ((H - 20) * value(b)) / max;
    return svg("rect", { class: cls, x: pad + i * step + 1, y: H - 14 - h, width: Math.max(2, step - 2), height: Math.max(0, h),
        "data-bucket-start": String(b.start_unix_ms), "data-count": String(b.count), onclick: () => onpick(b) },
      svg("title", {}, `${new Date(b.start_unix_ms).toLocaleTimeString([], { hour12: false })}: ${fmt(value(b))}`));
  });
  return svg("svg", { class: "chart", width: W, height: H },
    svg("text", { x: 2, y: 12, class: "axis-label" }, fmt(max)), bars,
    svg("line", { x1: pad, y1: H - 14, x2: W, y2: H - 14, class: "base" }));
}

// Each percentile's point of each bucket is a link: `onpick(bucket, key)`.
function lineChart(buckets, series, onpick) {
  const W = 420, H = 110, pad = 26;
  const max = Math.max(1e-9, ...buckets.flatMap((b) => series.map(([k]) => b[k])));
  const step = (W - pad) / Math.max(1, buckets.length);
  const x = (i) => pad + i * step + step / 2;
  const y = (v) => H - 14 - ((H - 20) * v) / max;
  return svg("svg", { class: "chart", width: W, height: H },
    svg("text", { x: 2, y: 12, class: "axis-label" }, `${max.toFixed(1)} ms`),
    series.map(([k, cls]) => svg("polyline", { class: `lat ${cls}`, points: buckets.map((b, i) => `${x(i)},${y(b[k])}`).join(" ") })),
    series.flatMap(([k, cls]) => buckets.map((b, i) => svg("circle", { class: `pick ${cls}`, cx: x(i), cy: y(b[k]), r: cls === "p99" ? 4 : 3,
        "data-bucket-start": String(b.start_unix_ms), "data-quantile": cls, "data-ms": String(b[k]), onclick: () => onpick(b, k) },
      svg("title", {}, `${new Date(b.start_unix_ms).toLocaleTimeString([], { hour12: false })} ${cls} ${b[k]} ms: the traces at or above it`)))),
    svg("line", { x1: pad, y1: H - 14, x2: W, y2: H - 14, class: "base" }));
}

async function showRed(params) {
  const q = new URLSearchParams(params);
  const bucket = q.get("bucket_ms") || "60000";
  const lookback = q.get("lookback_ms");
  app.replaceChildren(el("p", { class: "muted" }, "Loading…"));
  let body, services;
  try {
    [body, services] = await Promise.all([
      api(`/rzero/api/red?bucket_ms=${encodeURIComponent(bucket)}` + (q.get("service") ? `&service=${encodeURIComponent(q.get("service"))}` : "") +
        (lookback ? `&lookback_ms=${encodeURIComponent(lookback)}` : "")),
      api("/api/services"),
    ]);
  } catch (e) {
    app.replaceChildren(el("div", { class: "empty" }, "Could not load RED series: " + e.message));
    return;
  }
  const pick = el("select", { id: "red-service", onchange: (e) => {
      const p = new URLSearchParams(q);
      p.set("service", e.target.value);
      p.set("bucket_ms", bucket);
      location.hash = "#/red?" + p.toString();
    } },
    el("option", { value: "" }, "all services"),
    services.data.map((s) => el("option", { value: s, selected: s === q.get("service") ? "" : null }, s)));
  const width = body.bucket_ms;
  const cards = body.data.map((s) => {
    // A click on a bucket lists the calls it counted: that operation's entry spans that
    // started in [start, start + width) (the list's bounds are the operation span's when
    // it has an operation); the error bars add `errors`, a latency point its percentile
    // as the least duration. Percentiles from metrics are interpolated inside histogram
    // buckets and need not match any stored span, so there the point gives the bucket.
    const toTraces = (b, extra) => {
      const p = new URLSearchParams({ service: s.service, operation: s.operation, entry: "true", start_ms: String(b.start_unix_ms), end_ms: String(b.start_unix_ms + width) });
      for (const [k, v] of Object.entries(extra || {})) p.set(k, String(v));
      location.hash = "#/?" + p.toString();
    };
    const atLeast = (b, key) => toTraces(b, s.source === "spans" ? { min_duration_ms: b[key] } : {});
    const examples = s.buckets.flatMap((b) => b.example_trace_ids).slice(-3);
    return el("div", { class: "red-card", "data-service": s.service, "data-operation": s.operation, "data-source": s.source },
      el("h3", {}, el("span", { class: "dot", style: `background:${colour(s.service)}` }), `${s.service}: ${s.operation}`,
        el("span", { class: "muted source" }, s.source === "metrics" ? " · from the service's OTLP metrics" : " · from spans")),
      el("div", { class: "charts" },
        el("figure", {}, el("figcaption", {}, "Rate (calls/s)"), barChart(s.buckets, (b) => b.rate_per_s, "rate", (v) => v.toFixed(2) + "/s", (b) => toTraces(b))),
        el("figure", {}, el("figcaption", {}, "Errors"), barChart(s.buckets, (b) => b.errors, "errors", (v) => String(Math.round(v)), (b) => toTraces(b, { errors: "true" }))),
        el("figure", {}, el("figcaption", {}, "Duration p50 / p95 / p99"), lineChart(s.buckets, [["p50_ms", "p50"], ["p95_ms", "p95"], ["p99_ms", "p99"]], atLeast))),
      el("p", { class: "muted" }, "Examples: ", examples.map((id) => el("a", { href: `#/trace/${id}`, class: "example" }, id.slice(0, 8) + "… "))));
  });
  app.replaceChildren(
    el("h1", { class: "view-title" }, "RED: rate, errors, duration"),
    el("div", { class: "filters" }, el("label", {}, "Service", pick), el("label", {}, "Window", windowPick("red", q)), el("span", { class: "muted" }, `buckets of ${width / 1000} s; click a bar for its traces, a latency point for those at or above it`)),
    ...(cards.length ? cards : [el("div", { class: "empty" }, "No duration metrics and no entry spans (SERVER, CONSUMER or roots) yet.")]));
}

// === compare two traces ===

async function showCompare(a, b) {
  const form = el("form", { class: "filters", id: "compare-form" },
    el("label", {}, "Trace A", el("input", { id: "cmp-a", value: a || "", size: 34 })),
    el("label", {}, "Trace B", el("input", { id: "cmp-b", value: b || "", size: 34 })),
    el("button", { type: "submit" }, "Compare"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = `#/compare/${document.getElementById("cmp-a").value.trim()}/${document.getElementById("cmp-b").value.trim()}`;
  });
  app.replaceChildren(el("h1", { class: "view-title" }, "Compare traces"), form);
  if (!a || !b) return;
  let ta, tb;
  try {
    [ta, tb] = await Promise.all([jaegerTrace(a), jaegerTrace(b)]);
  } catch (e) {
    app.append(el("div", { class: "empty" }, e.message));
    return;
  }
  // Per service and operation: how many spans and how long in all, in each trace.
  const tally = (t) => {
    const m = new Map();
    for (const s of t.spans) {
      const k = `${s.service}: ${s.name}`;
      const v = m.get(k) || { n: 0, ns: 0 };
      v.n += 1; v.ns += s.end_unix_nanos - s.start_unix_nanos;
      m.set(k, v);
    }
    return m;
  };
  const total = (t) => Math.max(...t.spans.map((s) => s.end_unix_nanos)) - Math.min(...t.spans.map((s) => s.start_unix_nanos));
  const [ma, mb] = [tally(ta), tally(tb)];
  const keys = [...new Set([...ma.keys(), ...mb.keys()])].sort();
  const rows = keys.map((k) => {
    const x = ma.get(k) || { n: 0, ns: 0 }, y = mb.get(k) || { n: 0, ns: 0 };
    const diff = y.ns - x.ns;
    const changed = x.n !== y.n || Math.abs(diff) > 0.2 * Math.max(x.ns, y.ns);
    // In words: only in B, only in A, more or fewer calls, or over 20% more or less time.
    const change = x.n === 0 ? "new" : y.n === 0 ? "missing" : x.n !== y.n ? (y.n > x.n ? "more calls" : "fewer calls")
      : !changed ? "" : diff > 0 ? "grew" : "shrank";
    return el("tr", { class: "cmp-row" + (changed ? " diff" : ""), "data-key": k, "data-count-a": String(x.n), "data-count-b": String(y.n), "data-change": change },
      el("td", {}, k), el("td", {}, String(x.n)), el("td", {}, String(y.n)),
      el("td", {}, fmtDuration(x.ns)), el("td", {}, fmtDuration(y.ns)),
      el("td", { class: diff > 0 ? "slower" : "faster" }, (diff > 0 ? "+" : "−") + fmtDuration(Math.abs(diff))),
      el("td", { class: "change" }, change === "new" ? "new in B" : change === "missing" ? "missing in B" : change));
  });
  const count = (c) => rows.filter((r) => r.dataset.change === c).length;
  app.append(
    el("p", { class: "meta", id: "cmp-summary" }, `A: ${fmtDuration(total(ta))}, ${ta.spans.length} spans · B: ${fmtDuration(total(tb))}, ${tb.spans.length} spans · ` +
      `${count("grew")} grew, ${count("new")} new, ${count("missing")} missing`),
    el("table", { id: "compare" }, el("tr", {}, ["Service: operation", "Spans A", "Spans B", "Time A", "Time B", "B − A", "Change"].map((h) => el("th", {}, h))), rows),
    el("p", {}, el("a", { href: `#/trace/${a}` }, "open A"), " · ", el("a", { href: `#/trace/${b}` }, "open B")));
}
