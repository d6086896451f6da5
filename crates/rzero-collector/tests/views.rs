//! The viewer's views in a real browser (Debian's headless Chromium): the service map,
//! RED charts (from spans, or from the services' OTLP metrics) with click-through to traces, the critical path in the waterfall, trace
//! comparison (what grew, is new, is missing), search by attribute, the OTLP download
//! and copy, and the map's and RED's time window kept in the address; screenshots under
//! `target/artifacts/`. Clicks and typed searches go through the DevTools protocol
//! (`cdp`): a real click on a RED chart's point, a real submit of the search form.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::metrics::v1::{
    Histogram, HistogramDataPoint, Metric, ResourceMetrics, ScopeMetrics, metric,
};

mod cdp;
mod chrome;
mod otlp;
mod page;

use chrome::{CHROMIUM, artifacts, attr_values, chromium};
use otlp::{CLIENT, INTERNAL, MS, SERVER, span};
use page::{fetched, hash_params, listed, map_nodes, rows};

const CRIT: u8 = 0xcc;

/// The shop's ten traces (ids 1..=10, see `otlp::shop`) three minutes ago, and trace
/// 0xcc, whose critical path the test knows: root 0-100 ms; A 0-30; B 20-90 (ends last);
/// C 35-50 (inside B's time, off the path); B1 60-85 under B.
fn data(now: u64) -> Vec<ExportTraceServiceRequest> {
    let minute = 60_000 * MS;
    let base = (now / minute - 3) * minute;
    let c = base + 30_000 * MS;
    let crit = vec![
        span((CRIT, 1, None, "GET /slow", SERVER, c, 100, false, &[])),
        span((CRIT, 2, Some(1), "A", INTERNAL, c, 30, false, &[])),
        span((CRIT, 3, Some(1), "B", INTERNAL, c + 20 * MS, 70, false, &[])),
        span((CRIT, 4, Some(1), "C", INTERNAL, c + 35 * MS, 15, false, &[])),
        span((
            CRIT,
            5,
            Some(3),
            "B1",
            INTERNAL,
            c + 60 * MS,
            25,
            false,
            &[],
        )),
    ];
    let mut out = otlp::shop(base).to_vec();
    out.push(otlp::export("slow-svc", crit));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_views_draw_what_the_spans_say() {
    if !chrome::available() {
        return;
    }
    let collector = chrome::ui_collector().await;
    let now = otlp::now();
    for r in data(now) {
        collector.store().ingest_traces(&r);
    }
    let ui = collector.ui_addr().expect("ui");
    let base = format!("http://{ui}");
    let id = |t: u8| format!("{t:02x}").repeat(16);
    let minute = 60_000 * MS;
    let first = (now / minute - 3) * minute / MS;
    let urls = [
        format!("{base}/#/map"),
        format!("{base}/#/red?service=gateway"),
        format!("{base}/#/trace/{}", id(CRIT)),
        format!("{base}/#/compare/{}/{}", id(1), id(10)),
        format!("{base}/#/?attr=db.system%3Dredis"),
        // Where a click on the first minute's latency point leads (`toTraces` in
        // views.js): that operation's traces of that bucket.
        format!(
            "{base}/#/?service=gateway&operation=POST%20%2Forders&start_ms={first}&end_ms={}",
            first + 60_000
        ),
        // Search by duration range, met by one span as in Jaeger: gateway's roots of
        // 30..=60 ms (i = 2..=5) and its calls to orders, 6 * (i + 1) ms (i = 4..=9).
        format!("{base}/#/?service=gateway&min_duration_ms=30&max_duration_ms=60"),
    ];
    let dir = artifacts();
    let shots = [
        "viewer-map.png",
        "viewer-red.png",
        "viewer-critical-path.png",
        "viewer-compare.png",
        "viewer-search.png",
        "viewer-bucket-traces.png",
        "viewer-duration-search.png",
    ];
    let doms = tokio::task::spawn_blocking(move || {
        let doms: Vec<String> = urls.iter().map(|u| chromium(u, None)).collect();
        for (u, name) in urls.iter().zip(shots) {
            chromium(u, Some(&dir.join(name)));
        }
        doms
    })
    .await
    .expect("join");
    let (map, red, trace, compare, search) = (&doms[0], &doms[1], &doms[2], &doms[3], &doms[4]);
    let (bucket, by_duration) = (&doms[5], &doms[6]);

    let nodes: Vec<String> = attr_values(map, "data-node-id");
    assert_eq!(
        nodes,
        [
            "gateway",
            "mysql (db1)",
            "orders",
            "payments.example",
            "redis (cache1)",
            "slow-svc"
        ],
        "{map}"
    );
    let edges = attr_values(map, "data-edge");
    assert!(
        edges.contains(&"gateway-&gt;orders".to_owned())
            || edges.contains(&"gateway->orders".to_owned()),
        "{edges:?}"
    );
    assert!(map.contains("10 calls · 20% err"), "edge label");

    assert_eq!(
        attr_values(red, "data-operation"),
        ["POST /orders"],
        "entry spans of gateway"
    );
    let counts = attr_values(red, "data-count");
    assert!(
        counts.contains(&"6".to_owned()) && counts.contains(&"4".to_owned()),
        "{counts:?}"
    );

    let hex = |b: u8| format!("{b:02x}").repeat(8);
    let critical: Vec<String> = rows(trace)
        .into_iter()
        .filter(|(class, _)| class.contains("critical"))
        .map(|(_, id)| id)
        .collect();
    assert_eq!(
        critical,
        [hex(1), hex(2), hex(3), hex(5)],
        "root, A, B, B1; not C"
    );
    assert!(trace.contains("id=\"download-otlp\""), "download link");

    assert!(
        compare.contains("data-key=\"orders: SET\" data-count-a=\"1\" data-count-b=\"0\""),
        "{compare}"
    );
    assert!(compare.contains("cmp-row diff"), "differences marked");
    // Trace 10 against trace 1: no Redis call (missing), every call ten times longer
    // (grew), the payments call the same 3 ms (unchanged).
    let change = |key: &str| {
        compare
            .split(&format!("data-key=\"{key}\""))
            .nth(1)
            .and_then(|rest| attr_values(rest, "data-change").into_iter().next())
    };
    assert_eq!(change("orders: SET").as_deref(), Some("missing"));
    assert_eq!(change("gateway: POST /orders").as_deref(), Some("grew"));
    assert_eq!(change("gateway: POST payments").as_deref(), Some(""));
    assert!(compare.contains("3 grew, 0 new, 1 missing"), "{compare}");

    // The latency points carry their bucket, which the click puts in the list's link;
    // the card links the example traces (the slowest of the last minute: trace 10).
    let starts = attr_values(red, "data-bucket-start");
    assert!(starts.contains(&first.to_string()), "{starts:?}");
    assert!(
        red.contains(&format!("href=\"#/trace/{}\"", id(10))),
        "example trace linked"
    );
    let mut in_bucket = attr_values(bucket, "data-trace-id");
    in_bucket.sort();
    let first_minute: Vec<String> = (1..=6).map(id).collect();
    assert_eq!(in_bucket, first_minute, "the six traces of that minute");
    let mut ranged = attr_values(by_duration, "data-trace-id");
    ranged.sort();
    let expected: Vec<String> = (3..=10).map(id).collect();
    assert_eq!(ranged, expected, "a gateway span of 30 to 60 ms");

    let listed = attr_values(search, "data-trace-id");
    assert_eq!(
        listed.len(),
        5,
        "the five traces with a Redis call: {listed:?}"
    );

    let otlp = otlp::get_raw(ui, &format!("/rzero/api/traces/{}/otlp", id(CRIT))).await;
    assert!(otlp.contains("attachment; filename=\"trace-"), "{otlp}");
    assert!(otlp.contains("\"resourceSpans\""), "OTLP JSON: {otlp}");
    for name in shots {
        assert!(artifacts().join(name).exists(), "{name} saved");
    }
}

/// Trace 0xb0 crosses a minute: its root starts 1 ms before the second minute, its
/// orders.Create call (7 ms) at the second minute's first instant. Trace 0xe0's call
/// (9 ms) starts at the third minute's first instant, the end of the second bucket.
fn across_minutes(base: u64) -> Vec<ExportTraceServiceRequest> {
    let at = |ms: u64| base + ms * MS;
    let gateway = vec![
        span((
            0xb0,
            1,
            None,
            "POST /orders",
            SERVER,
            at(59_999),
            10,
            false,
            &[],
        )),
        span((
            0xe0,
            1,
            None,
            "POST /orders",
            SERVER,
            at(119_999),
            11,
            false,
            &[],
        )),
    ];
    let orders = vec![
        span((
            0xb0,
            4,
            Some(1),
            "orders.Create",
            SERVER,
            at(60_000),
            7,
            false,
            &[],
        )),
        span((
            0xe0,
            4,
            Some(1),
            "orders.Create",
            SERVER,
            at(120_000),
            9,
            false,
            &[],
        )),
        // A client span of the same service and name is not a call the chart counts.
        span((
            0xe0,
            5,
            Some(4),
            "orders.Create",
            CLIENT,
            at(60_500),
            1,
            false,
            &[],
        )),
    ];
    vec![
        otlp::export("gateway", gateway),
        otlp::export("orders", orders),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_click_on_a_red_chart_lists_the_calls_of_that_moment() {
    if !chrome::available() {
        return;
    }
    let collector = chrome::ui_collector().await;
    let minute = 60_000 * MS;
    let base = (otlp::now() / minute - 3) * minute;
    for r in otlp::shop(base).iter().chain(&across_minutes(base)) {
        collector.store().ingest_traces(r);
    }
    let ui = collector.ui_addr().expect("ui");
    let (first, second) = (base / MS, base / MS + 60_000);
    let dir = artifacts();
    let id = |t: u8| format!("{t:02x}").repeat(16);
    let ids = |ts: &[u8]| -> Vec<String> {
        let mut v: Vec<String> = ts.iter().map(|t| id(*t)).collect();
        v.sort();
        v
    };

    let got = tokio::task::spawn_blocking(move || {
        let mut b = cdp::Browser::launch(CHROMIUM);
        let red = format!("http://{ui}/#/red?service=orders");
        let card = "[data-operation=\"orders.Create\"]";
        let open_red = |b: &mut cdp::Browser| {
            b.goto(&red);
            b.wait_for(&format!("document.querySelector('{card} circle.pick')"), "the chart");
        };
        // orders.Create in the first minute: 5, 10, ..., 30 ms; its p50 (nearest rank)
        // is 15 ms, so the point lists the four calls of 15 ms or more.
        open_red(&mut b);
        b.screenshot(&dir.join("viewer-red-before-click.png"));
        b.click(&format!("{card} circle.pick.p50[data-bucket-start=\"{first}\"]"));
        let p50_first = (listed(&mut b), hash_params(&mut b));
        b.screenshot(&dir.join("viewer-red-click-p50.png"));
        // The second minute's rate bar: every call that started in [1 min, 2 min).
        open_red(&mut b);
        b.click(&format!("{card} rect.rate[data-bucket-start=\"{second}\"]"));
        let rate_second = (listed(&mut b), hash_params(&mut b));
        b.screenshot(&dir.join("viewer-red-click-rate.png"));
        // The first minute's error bar: the one failed call.
        open_red(&mut b);
        b.click(&format!("{card} rect.errors[data-bucket-start=\"{first}\"]"));
        let errors_first = (listed(&mut b), hash_params(&mut b));

        // The search form, filled and submitted as a person does: gateway traces of
        // 40 to 80 ms that started in the second minute.
        b.goto(&format!("http://{ui}/#/"));
        b.wait_for("document.querySelector('#f-service option[value=\"gateway\"]')", "services");
        b.eval("(() => { const s = document.getElementById('f-service'); s.value = 'gateway'; s.dispatchEvent(new Event('change')); })()");
        b.type_into("#f-min", "40");
        b.type_into("#f-max", "80");
        let local = |ms: u64| {
            format!(
                "new Date({ms} - new Date({ms}).getTimezoneOffset() * 60000).toISOString().slice(0, 19)"
            )
        };
        b.eval(&format!(
            "document.getElementById('f-start').value = {}; document.getElementById('f-end').value = {};",
            local(second),
            local(second + 60_000)
        ));
        b.click("#filters button[type=submit]");
        b.wait_for("location.hash.includes('min_duration_ms')", "the submitted search");
        let form = (listed(&mut b), hash_params(&mut b));
        b.screenshot(&dir.join("viewer-range-search.png"));
        (p50_first, rate_second, errors_first, form, fetched(&mut b))
    })
    .await
    .expect("join");
    let (p50_first, rate_second, errors_first, form, fetches) = got;

    let bucket = |end: u64| (end - 60_000).to_string();
    assert_eq!(p50_first.1["service"], "orders", "{:?}", p50_first.1);
    assert_eq!(p50_first.1["operation"], "orders.Create");
    assert_eq!(p50_first.1["entry"], "true", "the calls RED counted");
    assert_eq!(p50_first.1["start_ms"], bucket(second));
    assert_eq!(
        p50_first.1["end_ms"],
        second.to_string(),
        "bounded to the bucket"
    );
    assert_eq!(p50_first.1["min_duration_ms"], "15", "the point's p50");
    assert_eq!(
        p50_first.0,
        ids(&[3, 4, 5, 6]),
        "calls of 15..30 ms in minute one"
    );

    assert_eq!(rate_second.1["start_ms"], second.to_string());
    assert_eq!(rate_second.1["end_ms"], (second + 60_000).to_string());
    assert!(
        rate_second.1.get("min_duration_ms").is_none(),
        "a bar gives no duration"
    );
    // 0xb0's trace started in the first minute, its call in the second: it is listed.
    // 0xe0's call started at the bucket's end: it is not.
    assert_eq!(
        rate_second.0,
        ids(&[7, 8, 9, 10, 0xb0]),
        "{:?}",
        rate_second.1
    );

    assert_eq!(errors_first.1["errors"], "true");
    assert_eq!(errors_first.0, ids(&[4]), "the failed call of minute one");

    assert_eq!(form.1["service"], "gateway", "{:?}", form.1);
    assert_eq!(
        (
            form.1["min_duration_ms"].as_str(),
            form.1["max_duration_ms"].as_str()
        ),
        (Some("40"), Some("80"))
    );
    assert_eq!(
        form.1["start_ms"],
        second.to_string(),
        "From, in local time"
    );
    assert_eq!(form.1["end_ms"], (second + 60_000).to_string());
    // Gateway spans of 40..80 ms: roots of i = 3..7 and orders calls of i = 6..9 (42 to
    // 60 ms); of those, i = 6..9 started in minute two.
    assert_eq!(form.0, ids(&[7, 8, 9, 10]));
    // The lists came from Jaeger's search (the RED click's with rzero's `entry`), none
    // from rzero's own list.
    assert!(
        fetches
            .iter()
            .any(|f| f.starts_with("/api/traces?") && f.contains("entry=true")),
        "{fetches:?}"
    );
    assert!(
        !fetches.iter().any(|f| f.starts_with("/rzero/api/traces")),
        "{fetches:?}"
    );
    for name in [
        "viewer-red-before-click.png",
        "viewer-red-click-p50.png",
        "viewer-red-click-rate.png",
        "viewer-range-search.png",
    ] {
        assert!(artifacts().join(name).exists(), "{name} saved");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_live_in_the_address_and_a_trace_copies_as_otlp() {
    if !chrome::available() {
        return;
    }
    let collector = chrome::ui_collector().await;
    let minute = 60_000 * MS;
    let base = (otlp::now() / minute - 3) * minute;
    for r in otlp::shop(base) {
        collector.store().ingest_traces(&r);
    }
    // Two hours ago: a batch job calling the orders service, outside the last hour.
    let old = base - 120 * minute;
    collector.store().ingest_traces(&otlp::export(
        "batch",
        vec![span((
            0x0b,
            1,
            None,
            "nightly",
            SERVER,
            old,
            40,
            false,
            &[],
        ))],
    ));
    collector.store().ingest_traces(&otlp::export(
        "orders",
        vec![span((
            0x0b,
            2,
            Some(1),
            "orders.Sweep",
            SERVER,
            old + MS,
            20,
            false,
            &[],
        ))],
    ));
    let ui = collector.ui_addr().expect("ui");
    let dir = artifacts();
    let trace = format!("{:02x}", 1u8).repeat(16);
    let open = format!("http://{ui}/#/trace/{trace}");

    let got = tokio::task::spawn_blocking(move || {
        let mut b = cdp::Browser::launch(CHROMIUM);
        b.goto(&format!("http://{ui}/#/map"));
        let all = map_nodes(&mut b);
        // The window chosen in the page goes into the address...
        b.eval("(() => { const s = document.getElementById('map-window'); s.value = '3600000'; s.dispatchEvent(new Event('change')); })()");
        b.wait_for("location.hash === '#/map?lookback_ms=3600000'", "the window in the address");
        b.wait_for("!document.querySelector('[data-node-id=\"batch\"]')", "the map redrawn");
        let hour = map_nodes(&mut b);
        let href = b.eval("location.href");
        // ... and the address alone restores it, in a fresh load.
        b.goto("about:blank");
        b.goto(href.as_str().expect("href"));
        let restored = map_nodes(&mut b);
        let select = b.eval("document.getElementById('map-window').value");
        b.screenshot(&dir.join("viewer-map-last-hour.png"));

        // RED of the orders service: the sweep is only in the whole store.
        let ops = |b: &mut cdp::Browser, url: &str| -> Vec<String> {
            b.goto(url);
            b.wait_for("document.querySelector('.red-card') || document.querySelector('.empty')", "RED");
            let v = b.eval("[...document.querySelectorAll('.red-card')].map((c) => c.dataset.operation)");
            serde_json::from_value(v).expect("operations")
        };
        let red_all = ops(&mut b, &format!("http://{ui}/#/red?service=orders"));
        let red_hour = ops(&mut b, &format!("http://{ui}/#/red?service=orders&lookback_ms=3600000"));
        let red_select = b.eval("document.getElementById('red-window').value");
        b.screenshot(&dir.join("viewer-red-last-hour.png"));

        // Copy as OTLP JSON: what lands on the clipboard is the download's JSON.
        b.call(
            "Browser.grantPermissions",
            serde_json::json!({
                "origin": format!("http://{ui}"),
                "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
            }),
        );
        b.goto(&open);
        b.click("#copy-otlp");
        let status = b.wait_for(
            "(document.getElementById('copy-status') || {}).textContent",
            "the copy's outcome",
        );
        let copied = b.eval("navigator.clipboard.readText()");
        b.screenshot(&dir.join("viewer-copy-otlp.png"));
        let fetches = fetched(&mut b);
        let got = (all, hour, restored, select, red_all, red_hour, red_select);
        (got, status, copied, fetches)
    })
    .await
    .expect("join");
    let ((all, hour, restored, select, red_all, red_hour, red_select), status, copied, fetches) =
        got;
    // The trace page read Jaeger's trace and rzero's extras for it: its logs, its OTLP.
    for path in [
        format!("/api/traces/{trace}"),
        format!("/rzero/api/traces/{trace}/logs"),
        format!("/rzero/api/traces/{trace}/otlp"),
    ] {
        assert!(fetches.contains(&path), "{path} in {fetches:?}");
    }
    assert!(
        !fetches.contains(&format!("/rzero/api/traces/{trace}")),
        "{fetches:?}"
    );

    assert!(all.contains(&"batch".to_owned()), "{all:?}");
    assert!(!hour.contains(&"batch".to_owned()), "{hour:?}");
    assert!(hour.contains(&"gateway".to_owned()) && hour.contains(&"orders".to_owned()));
    assert_eq!(restored, hour, "the link restores the window");
    assert_eq!(select, "3600000", "and the page shows which");
    assert_eq!(red_all, ["orders.Create", "orders.Sweep"]);
    assert_eq!(red_hour, ["orders.Create"]);
    assert_eq!(red_select, "3600000");

    assert!(
        status.as_str().is_some_and(|s| s.starts_with("copied")),
        "{status}"
    );
    let copied: serde_json::Value =
        serde_json::from_str(copied.as_str().expect("clipboard text")).expect("OTLP JSON");
    let (_, body) = otlp::get_json(ui, &format!("/rzero/api/traces/{trace}/otlp")).await;
    assert_eq!(copied, body, "the clipboard holds the download");
    let spans: usize = copied["resourceSpans"]
        .as_array()
        .expect("resourceSpans")
        .iter()
        .flat_map(|r| r["scopeSpans"].as_array().into_iter().flatten())
        .map(|s| s["spans"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(spans, 6, "trace 1: gateway's three spans, orders' three");
    for name in [
        "viewer-map-last-hour.png",
        "viewer-red-last-hour.png",
        "viewer-copy-otlp.png",
    ] {
        assert!(artifacts().join(name).exists(), "{name} saved");
    }
}

/// One cumulative `http.server.request.duration` histogram of `checkout`'s `POST /pay`,
/// at `time`: 6 calls answered 200, 2 answered 500, in bounds of 5, 10 and 50 ms.
fn pay_metrics(time: u64) -> ExportMetricsServiceRequest {
    let point = |status: i64, counts: Vec<u64>| HistogramDataPoint {
        attributes: vec![
            otlp::kv("http.request.method", "POST"),
            otlp::kv("http.route", "/pay"),
            otlp::kv_of(
                "http.response.status_code",
                any_value::Value::IntValue(status),
            ),
        ],
        start_time_unix_nano: time - 60_000 * MS,
        time_unix_nano: time,
        count: counts.iter().sum(),
        bucket_counts: counts,
        explicit_bounds: vec![0.005, 0.01, 0.05],
        ..Default::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(otlp::resource("checkout", Vec::new())),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "http.server.request.duration".into(),
                    unit: "s".into(),
                    data: Some(metric::Data::Histogram(Histogram {
                        data_points: vec![
                            point(200, vec![2, 3, 1, 0]),
                            point(500, vec![0, 0, 2, 0]),
                        ],
                        aggregation_temporality: 2,
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn red_charts_draw_the_services_own_metrics() {
    if !chrome::available() {
        return;
    }
    let collector = chrome::ui_collector().await;
    let minute = 60_000 * MS;
    let base = (otlp::now() / minute - 3) * minute;
    // Checkout sends its metrics and one sampled span; the shop sends spans only.
    collector
        .store()
        .ingest_metrics(&pay_metrics(base + 30_000 * MS));
    collector.store().ingest_traces(&otlp::export(
        "checkout",
        vec![span((
            0x0c,
            1,
            None,
            "POST /pay",
            SERVER,
            base,
            7,
            false,
            &[],
        ))],
    ));
    for r in otlp::shop(base) {
        collector.store().ingest_traces(&r);
    }
    let ui = collector.ui_addr().expect("ui");
    let url = format!("http://{ui}/#/red?service=checkout");
    let shot = artifacts().join("viewer-red-from-metrics.png");
    let (dom, gateway) = tokio::task::spawn_blocking(move || {
        let dom = chromium(&url, None);
        chromium(&url, Some(&shot));
        let gateway = chromium(&format!("http://{ui}/#/red?service=gateway"), None);
        (dom, gateway)
    })
    .await
    .expect("join");
    assert_eq!(attr_values(&dom, "data-operation"), ["POST /pay"], "{dom}");
    assert_eq!(
        attr_values(&dom, "data-source"),
        ["metrics"],
        "the histogram, not the one span"
    );
    assert!(dom.contains("from the service's OTLP metrics"), "{dom}");
    // Every call the histogram counted (8), where the store holds one span.
    let counts = attr_values(&dom, "data-count");
    assert!(counts.iter().all(|c| c == "8"), "{counts:?}");
    assert!(!counts.is_empty());
    assert_eq!(attr_values(&gateway, "data-source"), ["spans"]);
    assert!(artifacts().join("viewer-red-from-metrics.png").exists());
}
