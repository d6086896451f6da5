//! The Dockerfile checks: which services the parameterised Dockerfile can build, and the
//! rules every Dockerfile (hand-written or from `rzeroctl docker`) must follow.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// The service packages the parameterised Dockerfile can build: `services/<name>` that has
/// an `etc/` directory (the Dockerfile copies it) and whose package name is `<name>`.
pub fn dockerfile_targets(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for dir in fs::read_dir(root.join("services"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let p = dir.path();
        let name = dir.file_name().to_string_lossy().into_owned();
        let manifest = fs::read_to_string(p.join("Cargo.toml")).unwrap_or_default();
        if p.join("etc").is_dir() && manifest.contains(&format!("name = \"{name}\"")) {
            out.insert(name);
        }
    }
    out
}

/// Checks a service Dockerfile against the rules `deploy/docker/Dockerfile` follows
/// (and `rzeroctl docker` must too): a locked release build of one cargo package, a final
/// stage named `runtime`, a non-root `USER` last, the metrics port 9090 exposed, and an
/// exec-form `ENTRYPOINT` with the config passed as `-f` in `CMD`.
pub fn check_dockerfile(file: &str, text: &str) -> Vec<String> {
    let mut errors = Vec::new();
    // Continuation lines joined, comments dropped: one instruction per entry.
    let mut instructions: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('#') && current.is_empty() {
            continue;
        }
        match t.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(t);
                if !current.trim().is_empty() {
                    instructions.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    let keyword = |i: &String| {
        i.split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase()
    };
    let with =
        |k: &str| -> Vec<&String> { instructions.iter().filter(|i| keyword(i) == k).collect() };
    let mut err = |m: String| errors.push(format!("{file}: {m}"));

    if !with("RUN")
        .iter()
        .any(|r| r.contains("cargo build --release --locked -p "))
    {
        err("no `cargo build --release --locked -p <package>` step".into());
    }
    let froms = with("FROM");
    match froms.last() {
        Some(last)
            if last
                .to_ascii_lowercase()
                .trim_end()
                .ends_with(" as runtime") => {}
        Some(last) => err(format!("the last stage `{last}` is not named `runtime`")),
        None => err("no FROM".into()),
    }
    if froms.len() < 2 {
        err("not a multi-stage build (builder + runtime)".into());
    }
    match with("USER").last() {
        None => err("no USER: the service would run as root".into()),
        Some(u) => {
            let who = u.split_whitespace().nth(1).unwrap_or("");
            let user = who.split(':').next().unwrap_or("");
            if user.is_empty() || user == "root" || user == "0" {
                err(format!("`{u}` runs the service as root"));
            }
        }
    }
    let exposed: Vec<&str> = with("EXPOSE")
        .iter()
        .flat_map(|e| e.split_whitespace().skip(1))
        .collect();
    if !exposed.iter().any(|p| p.trim_end_matches("/tcp") == "9090") {
        err(format!("EXPOSE {exposed:?} lacks the metrics port 9090"));
    }
    match with("ENTRYPOINT").last() {
        Some(e) if e["ENTRYPOINT".len()..].trim().starts_with('[') => {}
        Some(e) => err(format!(
            "`{e}` is not in exec form (a JSON array): signals would not reach the service"
        )),
        None => err("no ENTRYPOINT".into()),
    }
    match with("CMD").last() {
        Some(c) if c.contains("\"-f\"") => {}
        _ => err("CMD does not pass the config file with `-f`".into()),
    }
    errors
}
