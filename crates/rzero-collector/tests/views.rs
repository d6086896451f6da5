//! The viewer's views in a real browser (Debian's headless Chromium): the service map,
//! RED charts with click-through to traces, the critical path in the waterfall, trace
//! comparison, search by attribute, and the OTLP download; screenshots under
//! `target/artifacts/`.

use std::net::SocketAddr;
use std::path::Path;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use rzero_collector::{Collector, CollectorConfig};

mod chrome;
mod otlp;

use chrome::{CHROMIUM, artifacts, attr_values, chromium};
use otlp::{INTERNAL, MS, SERVER, span};

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

/// `(class, data-span-id)` of each waterfall row.
fn rows(dom: &str) -> Vec<(String, String)> {
    dom.split("<div class=\"span-row")
        .skip(1)
        .filter_map(|chunk| {
            let class = chunk.split('"').next()?.to_owned();
            let id = attr_values(chunk, "data-span-id").into_iter().next()?;
            Some((class, id))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_views_draw_what_the_spans_say() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("SKIPPED: {CHROMIUM} is missing; `cargo xtask test` installs Debian's chromium");
        return;
    }
    let any: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let collector = Collector::start(CollectorConfig {
        otlp_grpc: None,
        otlp_http: None,
        ui: Some(any),
        ..CollectorConfig::default()
    })
    .await
    .expect("start");
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
        // Search by duration range: gateway roots of 30..=60 ms are i = 2..=5.
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
    let expected: Vec<String> = (3..=6).map(id).collect();
    assert_eq!(ranged, expected, "roots of 30 to 60 ms");

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
