// rzero trace viewer: a list of recent traces with filters, and a waterfall per trace.
// Plain DOM, no build step, no CDN. All text goes through textContent: span names and
// attributes come from whoever sends OTLP and are never interpreted as HTML. Services,
// operations, searches and traces come from Jaeger's query API (`/api/*`, what Grafana
// reads too), so what the viewer shows is what any Jaeger client gets; rzero's own API
// (`/rzero/api/*`) adds only what Jaeger's model has no place for: a trace's OTLP log
// records, its OTLP JSON, the store's counts, and the map and RED views (views.js).
"use strict";

const app = document.getElementById("app");

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k === "style") node.setAttribute("style", v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

async function api(path) {
  const res = await fetch(path);
  const body = await res.json().catch(() => ({}));
  // rzero's errors are `{code, msg}`, Jaeger's `{errors: [{code, msg}]}`.
  const msg = body.msg || (Array.isArray(body.errors) && body.errors[0] && body.errors[0].msg);
  if (!res.ok) throw new Error(msg || `${res.status} ${res.statusText}`);
  return body;
}

// === Jaeger's model, as the viewer draws it ===

// A trace of `/api/traces` in the viewer's terms: each span with its service (from its
// process), parent (its CHILD_OF reference), kind and status (from the tags Jaeger derives
// from OTLP: `span.kind`, `otel.status_code`, `error`, `otel.status_description`),
// attributes (all its tags, as Jaeger's UI shows them), events (its logs) and times in
// nanoseconds (Jaeger's are microseconds); resources are the processes.
function fromJaeger(t) {
  const procs = Object.entries(t.processes || {});
  const index = new Map(procs.map(([id], i) => [id, i]));
  const resources = procs.map(([, p]) =>
    Object.fromEntries([["service.name", p.serviceName], ...(p.tags || []).map((kv) => [kv.key, kv.value])]));
  // A Map, not an object: a tag value such as `constructor` must not find a prototype's.
  const kinds = new Map([["server", "Server"], ["client", "Client"], ["producer", "Producer"], ["consumer", "Consumer"], ["internal", "Internal"]]);
  const spans = (t.spans || []).map((s) => {
    const tags = Object.fromEntries((s.tags || []).map((kv) => [kv.key, kv.value]));
    const parent = (s.references || []).find((r) => r.refType === "CHILD_OF" && r.traceID === t.traceID);
    const code = tags["otel.status_code"];
    const i = index.has(s.processID) ? index.get(s.processID) : -1;
    return {
      span_id: s.spanID,
      parent_span_id: parent ? parent.spanID : null,
      name: s.operationName,
      service: i >= 0 ? procs[i][1].serviceName : "unknown_service",
      resource_index: i,
      kind: kinds.get(tags["span.kind"]) || "Unspecified",
      status_code: code === "ERROR" || tags.error === true ? "Error" : code === "OK" ? "Ok" : "Unset",
      status_message: tags["otel.status_description"] || "",
      attributes: tags,
      events: (s.logs || []).map((l) => {
        const fields = Object.fromEntries((l.fields || []).map((kv) => [kv.key, kv.value]));
        const name = fields.event === undefined ? "log" : String(fields.event);
        delete fields.event;
        return { name, time_unix_nanos: l.timestamp * 1000, attributes: fields };
      }),
      start_unix_nanos: s.startTime * 1000,
      end_unix_nanos: (s.startTime + s.duration) * 1000,
    };
  });
  return { trace_id: t.traceID, spans, resources };
}

// A list row: the root (the span without a parent in the trace, the earliest if several),
// the trace's extent, its span count and whether any span failed.
function summary(t) {
  const v = fromJaeger(t);
  const ids = new Set(v.spans.map((s) => s.span_id));
  const roots = v.spans.filter((s) => !s.parent_span_id || !ids.has(s.parent_span_id));
  const root = (roots.length ? roots : v.spans).reduce((a, b) => (b.start_unix_nanos < a.start_unix_nanos ? b : a));
  const start = Math.min(...v.spans.map((s) => s.start_unix_nanos));
  return {
    trace_id: v.trace_id, root_service: root.service, root_operation: root.name, start_unix_nanos: start,
    duration_nanos: Math.max(...v.spans.map((s) => s.end_unix_nanos)) - start,
    span_count: v.spans.length, error: v.spans.some((s) => s.status_code === "Error"),
  };
}

// The list's address (`#/?service=&operation=&errors=&min_duration_ms=&max_duration_ms=
// &attr=&start_ms=&end_ms=&entry=`, the viewer's stable links) as Jaeger's search: errors
// and the attribute become `tags`, milliseconds Go durations and microseconds, the end
// of `[start_ms, end_ms)` Jaeger's inclusive `end`, one microsecond earlier.
function jaegerSearch(q) {
  const p = new URLSearchParams();
  for (const k of ["service", "operation"]) if (q.get(k)) p.set(k, q.get(k));
  const tags = {};
  if (q.get("errors") === "true") tags.error = "true";
  const attr = q.get("attr");
  if (attr) {
    const at = attr.indexOf("=");
    if (at < 1) throw new Error("Attribute: expected key=value, e.g. http.route=/api/v1/orders");
    tags[attr.slice(0, at)] = attr.slice(at + 1);
  }
  if (Object.keys(tags).length) p.set("tags", JSON.stringify(tags));
  if (q.get("min_duration_ms")) p.set("minDuration", `${Number(q.get("min_duration_ms"))}ms`);
  if (q.get("max_duration_ms")) p.set("maxDuration", `${Number(q.get("max_duration_ms"))}ms`);
  if (q.get("start_ms")) p.set("start", String(Number(q.get("start_ms")) * 1000));
  if (q.get("end_ms")) p.set("end", String(Number(q.get("end_ms")) * 1000 - 1));
  if (q.get("entry") === "true") p.set("entry", "true");
  p.set("limit", q.get("limit") || "100");
  return p;
}

function fmtDuration(nanos) {
  const ms = nanos / 1e6;
  if (nanos < 999_500) return `${(nanos / 1e3).toFixed(0)} µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

function fmtTime(nanos) {
  const d = new Date(nanos / 1e6);
  return d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
}

// A stable colour per service name.
function colour(service) {
  let h = 0;
  for (const ch of service) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return `hsl(${h % 360}, 62%, 52%)`;
}

function fmtValue(v) {
  return typeof v === "string" ? v : JSON.stringify(v);
}

function kvTable(obj) {
  const keys = Object.keys(obj || {}).sort();
  if (keys.length === 0) return el("p", { class: "muted" }, "none");
  return el("table", { class: "kv" }, keys.map((k) => el("tr", {}, el("td", {}, k), el("td", {}, fmtValue(obj[k])))));
}

// === the list ===

async function showList(params) {
  const q = new URLSearchParams(params);
  const form = el("form", { class: "filters", id: "filters" });
  const service = el("select", { name: "service", id: "f-service" }, el("option", { value: "" }, "all services"));
  const operation = el("select", { name: "operation", id: "f-operation" }, el("option", { value: "" }, "all operations"));
  const errors = el("input", { type: "checkbox", name: "errors", id: "f-errors" });
  const minDur = el("input", { type: "number", name: "min_duration_ms", min: "0", step: "any", placeholder: "ms", id: "f-min" });
  const maxDur = el("input", { type: "number", name: "max_duration_ms", min: "0", step: "any", placeholder: "ms", id: "f-max" });
  const attr = el("input", { name: "attr", placeholder: "http.route=/api/v1/orders", id: "f-attr", size: 26 });
  const localTime = (ms) => { const d = new Date(Number(ms) - new Date().getTimezoneOffset() * 60000); return d.toISOString().slice(0, 19); };
  const from = el("input", { type: "datetime-local", step: "1", id: "f-start" });
  const to = el("input", { type: "datetime-local", step: "1", id: "f-end" });
  errors.checked = q.get("errors") === "true";
  minDur.value = q.get("min_duration_ms") || "";
  maxDur.value = q.get("max_duration_ms") || "";
  attr.value = q.get("attr") || "";
  if (q.get("start_ms")) from.value = localTime(q.get("start_ms"));
  if (q.get("end_ms")) to.value = localTime(q.get("end_ms"));
  form.append(
    el("label", {}, "Service", service),
    el("label", {}, "Operation", operation),
    el("label", {}, "Min duration (ms)", minDur),
    el("label", {}, "Max duration (ms)", maxDur),
    el("label", {}, "Attribute", attr),
    el("label", {}, "From", from),
    el("label", {}, "To", to),
    el("label", { class: "check" }, errors, "errors only"),
    el("button", { type: "submit" }, "Find traces"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    if (service.value) p.set("service", service.value);
    if (operation.value) p.set("operation", operation.value);
    // Kept from a RED chart's link: the operation's entry spans only (see api.rs).
    if (operation.value && q.get("entry") === "true") p.set("entry", "true");
    if (errors.checked) p.set("errors", "true");
    if (minDur.value) p.set("min_duration_ms", minDur.value);
    if (maxDur.value) p.set("max_duration_ms", maxDur.value);
    if (attr.value) p.set("attr", attr.value);
    if (from.value) p.set("start_ms", String(new Date(from.value).getTime()));
    if (to.value) p.set("end_ms", String(new Date(to.value).getTime()));
    location.hash = "#/?" + p.toString();
  });
  async function loadOperations(svc, selected) {
    operation.replaceChildren(el("option", { value: "" }, "all operations"));
    if (!svc) return;
    const ops = await api(`/api/services/${encodeURIComponent(svc)}/operations`);
    for (const op of ops.data) operation.append(el("option", { value: op, selected: op === selected ? "" : null }, op));
  }
  service.addEventListener("change", () => loadOperations(service.value, ""));

  const results = el("div", { id: "results" }, el("p", { class: "muted" }, "Loading…"));
  const bounded = ["errors", "min_duration_ms", "max_duration_ms", "start_ms", "end_ms", "attr"].some((k) => q.get(k));
  // As in Jaeger: the conditions are met by one span, not by the trace as a whole.
  const whose = `${q.get("entry") === "true" ? "entry " : ""}span of ${q.get("service") || "any service"}${q.get("operation") ? ": " + q.get("operation") : ""}`;
  const scope = bounded
    ? el("p", { class: "muted", id: "filter-scope" }, `A trace is listed when one ${whose} meets every condition, as Jaeger searches; the list shows whole traces.`)
    : null;
  app.replaceChildren(...[form, scope, results].filter(Boolean));

  try {
    const services = await api("/api/services");
    for (const s of services.data) service.append(el("option", { value: s, selected: s === q.get("service") ? "" : null }, s));
    await loadOperations(q.get("service") || "", q.get("operation") || "");
    const list = { data: (await api("/api/traces?" + jaegerSearch(q).toString())).data.filter((t) => t.spans.length).map(summary) };
    // Which search the results answer, so a reader (or a test) can tell a stale list
    // from the one of the address shown.
    results.dataset.query = q.toString();
    if (list.data.length === 0) {
      results.replaceChildren(el("div", { class: "empty" }, "No traces yet. Point an OTLP exporter at this collector (gRPC :4317, HTTP :4318)."));
      return;
    }
    const rows = list.data.map((t) =>
      el("tr", { class: "trace-row", "data-trace-id": t.trace_id, onclick: () => (location.hash = `#/trace/${t.trace_id}`) },
        el("td", {}, el("span", { class: "dot", style: `background:${colour(t.root_service)}` }), t.root_service),
        el("td", {}, el("a", { href: `#/trace/${t.trace_id}` }, t.root_operation)),
        el("td", {}, fmtTime(t.start_unix_nanos)),
        el("td", {}, fmtDuration(t.duration_nanos)),
        el("td", {}, String(t.span_count)),
        el("td", {}, t.error ? el("span", { class: "err-mark", title: "has errors" }, "● error") : ""),
        el("td", { class: "muted" }, t.trace_id),
      ));
    results.replaceChildren(el("table", { id: "trace-list" },
      el("tr", {}, ["Service", "Operation", "Start", "Duration", "Spans", "", "Trace id"].map((h) => el("th", {}, h))),
      rows));
  } catch (e) {
    results.replaceChildren(el("div", { class: "empty" }, "Could not load traces: " + e.message));
  }
}

// === one trace ===

function depths(spans) {
  const byId = new Map(spans.map((s) => [s.span_id, s]));
  const memo = new Map();
  const depth = (s, guard = 0) => {
    if (memo.has(s.span_id)) return memo.get(s.span_id);
    const parent = s.parent_span_id && byId.get(s.parent_span_id);
    const d = parent && guard < 256 ? depth(parent, guard + 1) + 1 : 0;
    memo.set(s.span_id, d);
    return d;
  };
  return spans.map((s) => depth(s));
}

function details(span, resources) {
  return el("div", { class: "details", id: "span-details", "data-span-id": span.span_id },
    el("h2", {}, `${span.service}: ${span.name}`),
    el("p", { class: "muted" }, `${span.kind} · ${fmtDuration(span.end_unix_nanos - span.start_unix_nanos)} · status ${span.status_code}${span.status_message ? ": " + span.status_message : ""} · span ${span.span_id}`),
    el("h3", {}, "Attributes"), kvTable(span.attributes),
    el("h3", {}, "Events"),
    span.events.length === 0 ? el("p", { class: "muted" }, "none") :
      el("table", { class: "kv" }, span.events.map((ev) => el("tr", {}, el("td", {}, `${ev.name} (+${fmtDuration(Math.max(0, ev.time_unix_nanos - span.start_unix_nanos))})`), el("td", {}, kvTable(ev.attributes))))),
    el("h3", {}, "Resource"), kvTable(resources[span.resource_index] || {}),
  );
}

// One trace, from Jaeger's `/api/traces/{id}` (the viewer's model, see fromJaeger); its
// log records from rzero's `/rzero/api/traces/{id}/logs`, since Jaeger has no logs.
async function jaegerTrace(id) {
  const full = id.toLowerCase().padStart(32, "0");
  try {
    return fromJaeger((await api(`/api/traces/${encodeURIComponent(full)}`)).data[0]);
  } catch (e) {
    throw new Error(`Trace ${full}: ${e.message} (never received, or evicted from the store)`);
  }
}

async function fetchTrace(id) {
  const full = id.toLowerCase().padStart(32, "0");
  const [data, logs] = await Promise.all([
    jaegerTrace(full),
    api(`/rzero/api/traces/${encodeURIComponent(full)}/logs`).then((l) => l.data, (e) => e),
  ]);
  return { data, logs };
}

async function showTrace(id, selectedSpan) {
  app.replaceChildren(el("p", { class: "muted" }, "Loading…"));
  let body;
  try {
    body = await fetchTrace(id);
  } catch (e) {
    app.replaceChildren(el("div", { class: "empty" }, e.message), el("p", {}, el("a", { href: "#/" }, "← all traces")));
    return;
  }
  const spans = body.data.spans;
  const start = Math.min(...spans.map((s) => s.start_unix_nanos));
  const end = Math.max(...spans.map((s) => s.end_unix_nanos));
  const total = Math.max(1, end - start);
  const ds = depths(spans);
  const critical = criticalPath(spans);
  const services = [...new Set(spans.map((s) => s.service))];
  const errors = spans.filter((s) => s.status_code === "Error").length;

  const ticks = el("div", { class: "ticks" }, [0, 0.25, 0.5, 0.75, 1].map((f) =>
    el("span", { class: "tick" + (f === 0 ? " first" : f === 1 ? " last" : ""), style: `left:${f * 100}%` }, fmtDuration(f * total))));
  const panel = el("div", { id: "panel" });
  const rows = spans.map((s, i) => {
    const left = ((s.start_unix_nanos - start) / total) * 100;
    const width = Math.max(0.2, ((s.end_unix_nanos - s.start_unix_nanos) / total) * 100);
    const row = el("div", {
        class: "span-row" + (s.status_code === "Error" ? " error" : "") + (critical.has(s.span_id) ? " critical" : ""),
        "data-span-id": s.span_id, "data-parent-id": s.parent_span_id || "", "data-depth": String(ds[i]),
        "data-service": s.service, title: `${s.service}: ${s.name}`,
      },
      el("div", { class: "span-label", style: `padding-left:${8 + ds[i] * 16}px` },
        el("span", { class: "dot", style: `background:${colour(s.service)}` }),
        el("span", { class: "svc" }, s.service), el("span", { class: "name" }, s.name),
        s.status_code === "Error" ? el("span", { class: "err-mark", title: "error" }, " !") : null),
      el("div", { class: "span-track" },
        el("div", { class: "span-bar", style: `left:${left}%;width:${width}%;background:${colour(s.service)}` }),
        // The duration sits after the bar, or before it when the bar ends near the edge.
        left + width > 85 && width > 30
          ? el("span", { class: "span-dur inside", style: `right:${100 - left - width}%` }, fmtDuration(s.end_unix_nanos - s.start_unix_nanos))
          : left + width > 85
          ? el("span", { class: "span-dur before", style: `right:${100 - left}%` }, fmtDuration(s.end_unix_nanos - s.start_unix_nanos))
          : el("span", { class: "span-dur", style: `left:${left + width}%` }, fmtDuration(s.end_unix_nanos - s.start_unix_nanos))));
    row.addEventListener("click", () => {
      // The selection is part of the address, so a link can point at one span.
      history.replaceState(null, "", `#/trace/${body.data.trace_id}/${s.span_id}`);
      select(s);
    });
    return row;
  });

  const logs = Array.isArray(body.logs) ? body.logs : [];
  const spanName = new Map(spans.map((s) => [s.span_id, s.name]));
  const logTable = body.logs instanceof Error ? el("p", { class: "empty" }, "Could not load the logs: " + body.logs.message) :
    logs.length === 0 ? el("p", { class: "muted" }, "No logs carry this trace id.") :
    el("table", { id: "trace-logs" }, el("tr", {}, ["Time", "Service", "Level", "Span", "Message"].map((h) => el("th", {}, h))),
      logs.map((l) => el("tr", {}, el("td", {}, fmtTime(l.time_unix_nanos)), el("td", {}, l.service),
        el("td", { class: "sev-" + l.severity }, l.severity), el("td", {}, spanName.get(l.span_id) || l.span_id), el("td", {}, l.body))));

  app.replaceChildren(
    el("div", { class: "trace-head" },
      el("p", {}, el("a", { href: "#/" }, "← all traces")),
      el("h1", { id: "trace-title" }, `${spans[0].service}: ${spans[0].name}`),
      el("div", { class: "meta" }, `trace ${body.data.trace_id} · ${fmtDuration(total)} · ${spans.length} spans · ${services.length} services` + (errors ? ` · ${errors} error${errors === 1 ? "" : "s"}` : "")),
      el("div", { class: "actions" },
        el("a", { href: `/rzero/api/traces/${body.data.trace_id}/otlp`, download: `trace-${body.data.trace_id}.json`, id: "download-otlp" }, "Download as OTLP JSON"),
        el("button", { type: "button", id: "copy-otlp", onclick: () => copyOtlp(body.data.trace_id) }, "Copy as OTLP JSON"),
        el("span", { id: "copy-status", class: "muted" }),
        el("a", { href: `#/compare/${body.data.trace_id}/`, id: "compare-link" }, "Compare with another trace"),
        el("a", { href: `#/trace/${body.data.trace_id}`, id: "permalink" }, "Link to this trace")),
      el("div", { class: "legend" }, el("span", { class: "crit" }), `critical path: ${critical.size} span${critical.size === 1 ? "" : "s"} that bound the duration`)),
    el("div", { class: "waterfall", id: "waterfall" },
      el("div", { class: "axis" }, el("div", { class: "span-label" }, "Service: operation"), ticks),
      rows),
    panel,
    el("div", { class: "logs" }, el("h3", {}, "Logs"), logTable),
  );
  function select(span) {
    for (const r of document.querySelectorAll(".span-row.selected")) r.classList.remove("selected");
    const row = document.querySelector(`.span-row[data-span-id="${span.span_id}"]`);
    if (row) row.classList.add("selected");
    panel.replaceChildren(details(span, body.data.resources || []));
  }
  const chosen = spans.find((s) => s.span_id === selectedSpan) || spans[0];
  if (chosen) select(chosen);
}

// The trace's OTLP JSON (what the download gives) onto the clipboard. The Clipboard API
// needs a secure context (https or localhost); a viewer opened over plain http on
// another host falls back to a selected textarea and execCommand.
async function copyOtlp(traceId) {
  const status = document.getElementById("copy-status");
  try {
    const res = await fetch(`/rzero/api/traces/${traceId}/otlp`);
    if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
    const text = await res.text();
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
    } else {
      const area = el("textarea", { style: "position:fixed;left:-9999px" });
      area.value = text;
      document.body.append(area);
      area.select();
      const ok = document.execCommand("copy");
      area.remove();
      if (!ok) throw new Error("the browser refused to copy");
    }
    status.textContent = `copied (${text.length} bytes)`;
  } catch (e) {
    status.textContent = "could not copy: " + e.message;
  }
}

async function stats() {
  try {
    const s = await api("/rzero/api/stats");
    document.getElementById("stats").textContent = `${s.data.traces} traces · ${s.data.spans} spans stored`;
  } catch (_) { /* the header is decoration */ }
}

function route() {
  const hash = location.hash || "#/";
  const m = hash.match(/^#\/trace\/([0-9a-fA-F]{1,64})(?:\/([0-9a-f]{16}))?/);
  const query = hash.includes("?") ? hash.slice(hash.indexOf("?") + 1) : "";
  const cmp = hash.match(/^#\/compare(?:\/([0-9a-fA-F]*)(?:\/([0-9a-fA-F]*))?)?/);
  stats();
  if (m) showTrace(m[1], m[2]);
  else if (/^#\/map\b/.test(hash)) showMap(query);
  else if (/^#\/red\b/.test(hash)) showRed(query);
  else if (cmp) showCompare(cmp[1], cmp[2]);
  else showList(query);
}

window.addEventListener("hashchange", route);
route();
