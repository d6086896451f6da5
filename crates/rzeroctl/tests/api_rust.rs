//! `rzeroctl api rust` end to end: generate services from the order system's `order.api`
//! and from a `.api` using every feature, build them with cargo, start them, and talk
//! HTTP to them; then fill in a logic file, regenerate, rebuild, and see the answer.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rzeroctl::cargo::RzeroSource;
use rzeroctl::files::GENERATED_HEADER;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 exchange: (status, body).
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

/// One HTTP/1.1 exchange: the head (lower-case header names) and the raw body.
fn raw(port: u16, method: &str, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    (head.to_ascii_lowercase(), body.to_owned())
}

fn start(bin: &str, env_prefix: &str) -> (Server, u16) {
    let port = free_port();
    let child = Command::new(common::binary(bin))
        .env(format!("{env_prefix}_HOST"), "127.0.0.1")
        .env(format!("{env_prefix}_PORT"), port.to_string())
        .env("OTEL_SDK_DISABLED", "true")
        .env("AUTH_SECRET", "a-test-secret-that-is-long-enough-32b")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok()
            && http(port, "GET", "/health", &[], "").0 == 200
        {
            return (server, port);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{bin} did not answer /health within 60 s");
}

fn generate(api: &Path, dir: &Path) -> Vec<rzeroctl::files::Written> {
    let spec = rzeroctl::api::load(api).unwrap_or_else(|e| panic!("{e}"));
    let files = rzeroctl::rustgen::generate(
        &spec,
        &RzeroSource::Path(common::workspace_root()),
        "test.api",
        rzeroctl::files::Existing::scan(dir),
    )
    .unwrap();
    let written = rzeroctl::rustgen::write(dir, &files).unwrap();
    // Join the test workspace: the documented way is deleting the `[workspace]` table.
    let toml = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, text.replace("\n[workspace]\n", "\n")).unwrap();
    written
}

/// The order system's contract: the one `order.api`, in `services/order-api`.
fn order_api() -> std::path::PathBuf {
    common::workspace_root().join("services/order-api/order.api")
}

fn data(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

#[test]
fn generated_services_build_and_answer_http() {
    let ws = common::scratch("api-rust");
    std::fs::write(
        ws.join("Cargo.toml"),
        "[workspace]\nresolver = \"3\"\nmembers = [\"order-api\", \"every-api\"]\n",
    )
    .unwrap();
    generate(&order_api(), &ws.join("order-api"));
    generate(&data("rustgen/every_feature.api"), &ws.join("every-api"));
    // The SSE group's logic, filled in: two events, then the end of the stream.
    std::fs::write(
        ws.join("every-api/src/logic/live/watch_items.rs"),
        "use rzero::rest::Error;\nuse rzero::rest::sse::Sender;\nuse crate::svc::ServiceContext;\n\
         use crate::types::{Item, ListReq};\n\
         pub async fn watch_items(_ctx: &ServiceContext, req: ListReq, client: Sender<Item>) -> Result<(), Error> {\n\
         for n in [\"first\", \"second\"] {\n\
         client.send(Item { name: format!(\"{n}-{}\", req.kind), price: 1.0, note: None }).await?;\n}\nOk(())\n}\n",
    )
    .unwrap();
    common::cargo(&ws, &["build", "--workspace", "--quiet"]);

    // order.api: the contract is enforced before the (empty) logic runs.
    {
        let (_s, port) = start("order-api", "ORDER_API");
        let (st, body) = http(
            port,
            "POST",
            "/api/v1/orders",
            &[],
            r#"{"user_id":1,"product_id":1,"amount":9.5}"#,
        );
        assert_eq!(st, 501, "{body}");
        assert!(
            body.contains("fill in src/logic/order/create_order.rs"),
            "{body}"
        );
        let (st, body) = http(port, "POST", "/api/v1/orders", &[], r#"{"user_id":"x"}"#);
        assert_eq!(st, 400, "{body}");
        let (st, body) = http(port, "GET", "/api/v1/orders/abc", &[], "");
        assert_eq!(st, 400, "{body}");
        assert!(body.contains("order_id"), "{body}");
    }

    // every_feature.api: JWT, validation from tags, limits, routes without bodies.
    {
        let (_s, port) = start("every-api", "EVERY_API");
        let (st, _) = http(port, "GET", "/api/v1/items?kind=book", &[], "");
        assert_eq!(st, 401, "jwt group without a token");
        let conf: rzero_rest::jwt::JwtConf = serde_json::from_str(
            r#"{"AccessSecret":"a-test-secret-that-is-long-enough-32b","AccessExpire":3600}"#,
        )
        .unwrap();
        let mut claims = serde_json::Map::new();
        claims.insert("uid".into(), 7.into());
        let token = conf.issue(claims).unwrap();
        let auth = format!("Bearer {token}");
        let h = [("Authorization", auth.as_str())];
        let (st, body) = http(port, "GET", "/api/v1/items?kind=book&page=2", &h, "");
        assert_eq!(st, 501, "{body}");
        let (st, body) = http(port, "GET", "/api/v1/items?kind=music", &h, "");
        assert_eq!(st, 400, "{body}");
        assert!(body.contains("kind"), "{body}");
        let (st, body) = http(port, "GET", "/api/v1/items?kind=film&page=0", &h, "");
        assert_eq!(st, 400, "{body}");
        assert!(body.contains("page"), "{body}");
        let (st, body) = http(
            port,
            "PUT",
            "/api/v1/items/0",
            &h,
            r#"{"item":{"name":"a","price":1}}"#,
        );
        assert_eq!(st, 400, "id range [1:]: {body}");
        let big = format!(r#"{{"item":{{"name":"{}","price":1}}}}"#, "x".repeat(5000));
        let (st, _) = http(port, "PUT", "/api/v1/items/3", &h, &big);
        assert_eq!(st, 413, "maxBytes 4096");
        let (st, body) = http(port, "GET", "/ping", &[], "");
        assert_eq!(st, 501, "{body}");
        let (st, _) = http(port, "POST", "/echo", &[], "\"hi\"");
        assert_eq!(st, 501);

        // The SSE group: a stream of events, chunked, ended when the logic returns.
        let (head, body) = raw(port, "GET", "/api/v1/live/items?kind=book");
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert!(head.contains("content-type: text/event-stream"), "{head}");
        let first = body.find(r#"data: {"name":"first-book","price":1.0}"#);
        let second = body.find(r#"data: {"name":"second-book","price":1.0}"#);
        assert!(first.is_some() && first < second, "{body}");
        assert!(body.ends_with("0\r\n\r\n"), "a clean end: {body}");
        // Unfilled SSE logic: the stream says so in an `error` event.
        let (head, body) = raw(port, "GET", "/api/v1/live/heartbeat");
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert!(body.contains("event: error\ndata: {\"code\":501"), "{body}");
    }

    // Fill in a logic file, change the .api, regenerate: the logic survives, the
    // generated files follow the .api, and the route answers.
    let logic = ws.join("order-api/src/logic/order/create_order.rs");
    std::fs::write(
        &logic,
        "use rzero::rest::Error;\nuse crate::svc::ServiceContext;\nuse crate::types::{CreateOrderReq, CreateOrderResp};\n\
         pub async fn create_order(_ctx: &ServiceContext, req: CreateOrderReq) -> Result<CreateOrderResp, Error> {\n\
         Ok(CreateOrderResp { order_id: req.user_id * 100, status: \"created\".into(), created_at: 1 })\n}\n",
    )
    .unwrap();
    let mut api = std::fs::read_to_string(order_api()).unwrap();
    assert!(
        api.contains("\t@handler GetOrder"),
        "the test edits order.api's GetOrder"
    );
    api = api.replace(
        "\t@handler GetOrder",
        "\t@handler CancelOrder\n\tpost /orders/:order_id/cancel (GetOrderReq) returns (GetOrderResp)\n\n\t@handler GetOrder",
    );
    let changed = ws.join("order-changed.api");
    std::fs::write(&changed, api).unwrap();
    generate(&changed, &ws.join("order-api"));
    assert!(
        std::fs::read_to_string(&logic)
            .unwrap()
            .contains("req.user_id * 100")
    );
    assert!(
        ws.join("order-api/src/logic/order/cancel_order.rs")
            .exists()
    );
    let routes = std::fs::read_to_string(ws.join("order-api/src/routes.rs")).unwrap();
    assert!(routes.starts_with(GENERATED_HEADER) && routes.contains("/orders/:order_id/cancel"));
    common::cargo(&ws, &["build", "--workspace", "--quiet"]);
    let (_s, port) = start("order-api", "ORDER_API");
    let (st, body) = http(
        port,
        "POST",
        "/api/v1/orders",
        &[],
        r#"{"user_id":3,"product_id":1,"amount":9.5}"#,
    );
    assert_eq!(st, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["order_id"], 300);
    assert_eq!(v["status"], "created");
    let (st, body) = http(port, "POST", "/api/v1/orders/5/cancel", &[], "");
    assert_eq!(st, 501, "{body}");
}

#[test]
fn a_file_rzeroctl_did_not_write_is_not_overwritten() {
    let dir = common::scratch("api-rust-foreign");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/routes.rs"), "// mine\n").unwrap();
    let spec = rzeroctl::api::load(&order_api()).unwrap();
    let files = rzeroctl::rustgen::generate(
        &spec,
        &RzeroSource::detect(),
        "order.api",
        Default::default(),
    )
    .unwrap();
    let err = rzeroctl::rustgen::write(&dir, &files)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("routes.rs") && err.contains("not generated by rzeroctl"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("src/routes.rs")).unwrap(),
        "// mine\n"
    );
}
