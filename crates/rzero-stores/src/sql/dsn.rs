//! Data source names, go-zero's and URLs, turned into a driver URL and span attributes.
//!
//! go-zero hands `DataSource` to Go's MySQL driver, whose form is
//! `[user[:pass]@][net[(addr)]]/dbname[?params]` (`root:pw@tcp(127.0.0.1:3306)/orders?
//! charset=utf8mb4&parseTime=true`). As in that driver, the last `/` ends the address
//! and the last `@` before it ends the credentials, so a password may hold `@` or `:`.
//! Go-only parameters (`parseTime`, `loc`, `timeout`, ...) are dropped; `charset` is
//! kept and `tls` maps to sqlx's `ssl-mode`. URLs (`mysql://`, `mariadb://`,
//! `sqlite://file.db`, `sqlite::memory:`) pass through, with `mode=rwc` added to a
//! SQLite file so that a fresh machine starts with an empty database.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::StoreError;

/// Names each in-memory SQLite database so every pooled connection opens the same one.
static MEMORY_SEQ: AtomicUsize = AtomicUsize::new(0);

/// Which database a pool talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbSystem {
    /// MySQL or MariaDB.
    MySql,
    /// SQLite, a file or in memory.
    Sqlite,
}

/// A parsed data source: the URL the driver gets, and what spans may say about it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) system: DbSystem,
    /// Holds the password: never log it.
    pub(crate) url: String,
    pub(crate) password: String,
    pub(crate) namespace: String,
    pub(crate) address: Option<String>,
    pub(crate) port: Option<u16>,
    pub(crate) in_memory: bool,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("system", &self.system)
            .field("namespace", &self.namespace)
            .field("address", &self.address)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

// === impl Target ===

impl Target {
    /// `mysql 127.0.0.1:3306/orders`, `sqlite orders.db`: where, without credentials.
    pub(crate) fn describe(&self) -> String {
        match (&self.address, self.port) {
            (Some(a), Some(p)) => format!("{} {a}:{p}/{}", self.system.as_str(), self.namespace),
            _ => format!("{} {}", self.system.as_str(), self.namespace),
        }
    }
}

// === impl DbSystem ===

impl DbSystem {
    /// The `db.system.name` value.
    pub fn as_str(self) -> &'static str {
        match self {
            DbSystem::MySql => "mysql",
            DbSystem::Sqlite => "sqlite",
        }
    }
}

/// Parses `dsn`; errors name the form expected and never echo the password.
pub(crate) fn parse(dsn: &str) -> Result<Target, StoreError> {
    let dsn = dsn.trim();
    if dsn.is_empty() {
        return Err(StoreError::Config(
            "DataSource is empty: give `user:pass@tcp(host:3306)/db`, `mysql://...`, \
             `sqlite://file.db` or `sqlite::memory:`"
                .into(),
        ));
    }
    if let Some(rest) = dsn.strip_prefix("sqlite:") {
        return Ok(sqlite(rest.trim_start_matches("//")));
    }
    for scheme in ["mysql://", "mariadb://"] {
        if let Some(rest) = dsn.strip_prefix(scheme) {
            return mysql_url(rest);
        }
    }
    if dsn.contains("://") {
        return Err(StoreError::Config(format!(
            "DataSource `{}`: unknown scheme; rzero-stores speaks mysql:// and sqlite://",
            rzero_conf::redact_dsn(dsn)
        )));
    }
    go_dsn(dsn)
}

fn sqlite(rest: &str) -> Target {
    let (path, params) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory = path.is_empty() || path == ":memory:" || params.contains("mode=memory");
    let url = if in_memory {
        let n = MEMORY_SEQ.fetch_add(1, Ordering::Relaxed);
        format!("sqlite:file:rzero-memory-{n}?mode=memory&cache=shared")
    } else if params.contains("mode=") {
        format!("sqlite://{rest}")
    } else if params.is_empty() {
        format!("sqlite://{path}?mode=rwc")
    } else {
        format!("sqlite://{path}?{params}&mode=rwc")
    };
    Target {
        system: DbSystem::Sqlite,
        url,
        password: String::new(),
        namespace: if in_memory {
            "main".into()
        } else {
            path.into()
        },
        address: None,
        port: None,
        in_memory,
    }
}

/// `user:pass@host:port/db?params` (after `mysql://`).
fn mysql_url(rest: &str) -> Result<Target, StoreError> {
    let head = rest.split_once('?').map_or(rest, |(head, _)| head);
    let (auth_host, db) = head.split_once('/').unwrap_or((head, ""));
    let (userinfo, hostport) = match auth_host.rfind('@') {
        Some(at) => (&auth_host[..at], &auth_host[at + 1..]),
        None => ("", auth_host),
    };
    let (_, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let (address, port) = split_host_port(hostport)?;
    Ok(Target {
        system: DbSystem::MySql,
        url: format!("mysql://{rest}"),
        password: percent_decode(password),
        namespace: db.to_owned(),
        address: Some(address),
        port: Some(port),
        in_memory: false,
    })
}

/// Go's `[user[:pass]@][net[(addr)]]/dbname[?params]`.
fn go_dsn(dsn: &str) -> Result<Target, StoreError> {
    let bad = || {
        StoreError::Config(format!(
            "DataSource `{}`: expected `user:pass@tcp(host:port)/db[?params]`",
            rzero_conf::redact_dsn(dsn)
        ))
    };
    let slash = dsn.rfind('/').ok_or_else(bad)?;
    let (head, tail) = (&dsn[..slash], &dsn[slash + 1..]);
    let (db, params) = tail.split_once('?').unwrap_or((tail, ""));
    let (userinfo, netaddr) = match head.rfind('@') {
        Some(at) => (&head[..at], &head[at + 1..]),
        None => ("", head),
    };
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let (net, addr) = match netaddr.split_once('(') {
        Some((net, addr)) => (net, addr.strip_suffix(')').ok_or_else(bad)?),
        None if netaddr.is_empty() => ("tcp", "127.0.0.1:3306"),
        None => (netaddr, ""),
    };
    let mut query = Vec::new();
    for pair in params.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "charset" => query.push(format!("charset={}", v.split(',').next().unwrap_or(v))),
            "tls" => query.push(format!("ssl-mode={}", ssl_mode(v))),
            // Go-driver knobs with no sqlx meaning: parseTime, loc, timeout, ...
            _ => {}
        }
    }
    let (host, address, port) = match net {
        "tcp" | "tcp6" => {
            let (address, port) =
                split_host_port(if addr.is_empty() { "127.0.0.1" } else { addr })?;
            (format!("{address}:{port}"), Some(address), Some(port))
        }
        "unix" => {
            query.push(format!("socket={addr}"));
            ("localhost".to_owned(), None, None)
        }
        _ => return Err(bad()),
    };
    let credentials = match (user.is_empty(), password.is_empty()) {
        (true, _) => String::new(),
        (false, true) => format!("{}@", encode(user)),
        (false, false) => format!("{}:{}@", encode(user), encode(password)),
    };
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{}", query.join("&"))
    };
    Ok(Target {
        system: DbSystem::MySql,
        url: format!("mysql://{credentials}{host}/{db}{query}"),
        password: password.to_owned(),
        namespace: db.to_owned(),
        address,
        port,
        in_memory: false,
    })
}

fn ssl_mode(go: &str) -> &'static str {
    match go {
        "true" => "verify_identity",
        "skip-verify" => "required",
        "false" => "disabled",
        _ => "preferred",
    }
}

fn split_host_port(hostport: &str) -> Result<(String, u16), StoreError> {
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (h, Some(p)),
        _ => (hostport, None),
    };
    let port = match port {
        Some(p) => p
            .parse()
            .map_err(|_| StoreError::Config(format!("DataSource: port `{p}` is not a number")))?,
        None => 3306,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok((
        if host.is_empty() { "127.0.0.1" } else { host }.to_owned(),
        port,
    ))
}

/// Percent-encodes all but RFC 3986's unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_zero_dsn_becomes_a_mysql_url() {
        let t = parse(
            "root:p@ss:w/rd@tcp(db.local:3307)/orders?charset=utf8mb4&parseTime=true&loc=Local",
        )
        .expect("parses");
        assert_eq!(t.system, DbSystem::MySql);
        assert_eq!(
            t.url,
            "mysql://root:p%40ss%3Aw%2Frd@db.local:3307/orders?charset=utf8mb4"
        );
        assert_eq!(t.password, "p@ss:w/rd");
        assert_eq!(t.namespace, "orders");
        assert_eq!(t.address.as_deref(), Some("db.local"));
        assert_eq!(t.port, Some(3307));
    }

    #[test]
    fn go_zero_dsn_without_password_or_port() {
        let t = parse("root@tcp(127.0.0.1)/test").expect("parses");
        assert_eq!(t.url, "mysql://root@127.0.0.1:3306/test");
        assert_eq!(t.port, Some(3306));
    }

    #[test]
    fn mysql_url_keeps_its_form_and_finds_the_password() {
        let t = parse("mysql://u:s%40cret@h:3306/db").expect("parses");
        assert_eq!(t.url, "mysql://u:s%40cret@h:3306/db");
        assert_eq!(t.password, "s@cret");
        assert_eq!(t.namespace, "db");
    }

    #[test]
    fn sqlite_files_are_created_and_memory_is_shared_by_name() {
        let f = parse("sqlite://orders.db").expect("parses");
        assert_eq!(f.url, "sqlite://orders.db?mode=rwc");
        assert_eq!(f.namespace, "orders.db");
        let m = parse("sqlite::memory:").expect("parses");
        assert!(m.in_memory);
        assert!(m.url.starts_with("sqlite:file:rzero-memory-"));
    }

    #[test]
    fn bad_dsn_says_the_expected_form_without_the_password() {
        let e = parse("root:hunter2@tcp(h:port)/db").expect_err("bad port");
        assert!(!e.to_string().contains("hunter2"));
        let e = parse("root:hunter2@carrier-pigeon").expect_err("no db");
        assert!(e.to_string().contains("tcp(host:port)"), "{e}");
        assert!(!e.to_string().contains("hunter2"));
        assert!(parse("").is_err());
    }
}
