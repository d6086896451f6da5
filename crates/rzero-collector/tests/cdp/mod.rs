//! Headless Chromium driven over the Chrome DevTools Protocol, for browser tests that
//! act as a person does: a mouse click at a point of the page (hit-tested by the
//! browser, so an element drawn over the target would take the click), typed text, and a
//! screenshot of what the page shows after it. `chrome::chromium` loads one address and
//! dumps its DOM; this keeps one page open across steps.
//!
//! Every wait is bounded (`WAIT`) and fails with what was awaited.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

/// The longest any step waits: for Chromium to start, a page to load, a condition.
const WAIT: Duration = Duration::from_secs(20);

static PROFILES: AtomicU32 = AtomicU32::new(0);

/// One browser with one page.
pub(crate) struct Browser {
    child: Child,
    profile: PathBuf,
    ws: WebSocket<TcpStream>,
    next_id: u64,
}

impl Browser {
    /// Starts `chromium` headless with a fresh profile and attaches to its page.
    pub(crate) fn launch(chromium: &str) -> Browser {
        let profile = std::env::temp_dir().join(format!(
            "rzero-cdp-{}-{}",
            std::process::id(),
            PROFILES.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&profile).expect("profile dir");
        let mut child = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1400,900",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        // Chromium says where it listens on stderr; the rest of stderr is drained so
        // that it never blocks on a full pipe.
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.split("DevTools listening on ").nth(1) {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let browser_url = match rx.recv_timeout(WAIT) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!("chromium did not open its DevTools port within {WAIT:?}");
            }
        };
        let port: u16 = browser_url
            .trim_start_matches("ws://")
            .split(['/', ':'])
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {browser_url}"));
        let page = page_socket(port);
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect DevTools");
        stream.set_read_timeout(Some(WAIT)).expect("read timeout");
        let (ws, _) = tungstenite::client(page.as_str(), stream)
            .unwrap_or_else(|e| panic!("DevTools WebSocket {page}: {e}"));
        let mut b = Browser {
            child,
            profile,
            ws,
            next_id: 0,
        };
        b.call("Page.enable", json!({}));
        b
    }

    /// One protocol call; its `result` (events in between are skipped).
    pub(crate) fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let msg = json!({ "id": id, "method": method, "params": params }).to_string();
        self.ws
            .send(Message::text(msg))
            .unwrap_or_else(|e| panic!("{method}: {e}"));
        loop {
            let msg = self
                .ws
                .read()
                .unwrap_or_else(|e| panic!("{method}: no answer: {e}"));
            let Message::Text(text) = msg else { continue };
            let v: Value = serde_json::from_str(text.as_str()).expect("DevTools JSON");
            if v["id"] == id {
                if let Some(e) = v.get("error") {
                    panic!("{method}: {e}");
                }
                return v["result"].clone();
            }
        }
    }

    /// Loads `url` and waits for the document to be complete.
    pub(crate) fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({ "url": url }));
        self.wait_for("document.readyState === 'complete'", "the page loaded");
    }

    /// The value of a JavaScript expression (promises awaited).
    pub(crate) fn eval(&mut self, expression: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("{expression}: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Polls `expression` until it is truthy; its value. Panics naming `what` after
    /// `WAIT`.
    pub(crate) fn wait_for(&mut self, expression: &str, what: &str) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let v = self.eval(expression);
            let truthy =
                !matches!(&v, Value::Null | Value::Bool(false)) && v != json!(0) && v != json!("");
            if truthy {
                return v;
            }
            if Instant::now() > deadline {
                let page = self.eval(
                    "location.href + '\\n' + (document.body ? document.body.innerText.slice(0, 800) : '')",
                );
                panic!("waited {WAIT:?} for {what} (`{expression}` is {v}); the page: {page}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A left click at the centre of the first element matching `selector`, scrolled
    /// into view; panics if another element is drawn over that point.
    pub(crate) fn click(&mut self, selector: &str) {
        let sel = serde_json::to_string(selector).expect("selector");
        let expr = format!(
            "(() => {{ const e = document.querySelector({sel}); if (!e) return null; \
             e.scrollIntoView({{ block: 'center', inline: 'center' }}); \
             const r = e.getBoundingClientRect(); const x = r.left + r.width / 2, y = r.top + r.height / 2; \
             const hit = document.elementFromPoint(x, y); \
             return {{ x, y, hit: hit === e || e.contains(hit) }}; }})()"
        );
        let at = self.wait_for(&expr, &format!("an element {selector}"));
        assert_eq!(
            at["hit"], true,
            "{selector} is covered at its centre: the click would land elsewhere"
        );
        let (x, y) = (at["x"].clone(), at["y"].clone());
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1 }),
            );
        }
    }

    /// Clicks into `selector` and types `text` there, as a keyboard would.
    pub(crate) fn type_into(&mut self, selector: &str, text: &str) {
        self.click(selector);
        self.call("Input.insertText", json!({ "text": text }));
    }

    /// A PNG of the viewport to `path`.
    pub(crate) fn screenshot(&mut self, path: &Path) {
        let r = self.call("Page.captureScreenshot", json!({ "format": "png" }));
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().expect("screenshot data"))
            .expect("base64");
        std::fs::write(path, png).expect("write screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// The WebSocket address of the browser's first page, from its `/json/list`.
fn page_socket(port: u16) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        // HTTP/1.1 (Chromium answers 1.0 with nothing) and a body read to its length
        // (it keeps the connection open).
        let listed = TcpStream::connect(("127.0.0.1", port)).and_then(|mut s| {
            s.set_read_timeout(Some(WAIT))?;
            let req = format!("GET /json/list HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n\r\n");
            s.write_all(req.as_bytes())?;
            let mut out = Vec::new();
            let mut buf = [0u8; 8192];
            loop {
                let n = s.read(&mut buf)?;
                out.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&out).into_owned();
                let complete = text.split_once("\r\n\r\n").is_some_and(|(head, body)| {
                    head.lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .is_some_and(|len| body.len() >= len)
                });
                if n == 0 || complete {
                    return Ok(text);
                }
            }
        });
        let url = listed.ok().and_then(|answer| {
            let body = answer.split_once("\r\n\r\n")?.1;
            let targets: Value = serde_json::from_str(body).ok()?;
            targets.as_array()?.iter().find(|t| t["type"] == "page")?["webSocketDebuggerUrl"]
                .as_str()
                .map(str::to_owned)
        });
        match url {
            Some(url) => return url,
            None if Instant::now() > deadline => panic!("chromium lists no page within {WAIT:?}"),
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}
