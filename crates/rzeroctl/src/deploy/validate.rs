//! Checks on the values that end up in a Dockerfile or a manifest.
//!
//! Every check returns a message that names the flag at fault and says what was
//! expected, so that `rzeroctl kube deploy --name Order_API` answers with the rule
//! (DNS-1035 label) rather than with an error from `kubectl apply` later. The charsets
//! are the ones Kubernetes and the OCI distribution spec define; keeping values inside
//! them is also what makes the generated text impossible to inject into (no newline,
//! quote or space can pass).

use std::fmt::Display;

/// A flag's value failed a check.
pub(super) type Invalid = String;

fn invalid(flag: &str, value: &str, why: impl Display) -> Invalid {
    format!("--{flag} {value:?}: {why}")
}

/// A DNS-1123 label: at most 63 of `a-z0-9-`, starting and ending alphanumeric
/// (namespaces, container names).
pub(super) fn dns1123_label(flag: &str, value: &str) -> Result<(), Invalid> {
    let why = "must be a DNS-1123 label: at most 63 characters of a-z, 0-9 and `-`, \
               starting and ending with a letter or digit";
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(invalid(flag, value, why))
    }
}

/// A DNS-1035 label: a DNS-1123 label that starts with a letter (Service names).
pub(super) fn dns1035_label(flag: &str, value: &str) -> Result<(), Invalid> {
    let why = "must be a DNS-1035 label (it names the Deployment and the Service): at most 63 \
               characters of a-z, 0-9 and `-`, starting with a letter and ending with a letter or digit";
    dns1123_label(flag, value).map_err(|_| invalid(flag, value, why))?;
    if value.starts_with(|c: char| c.is_ascii_lowercase()) {
        Ok(())
    } else {
        Err(invalid(flag, value, why))
    }
}

/// A DNS-1123 subdomain: dot-separated DNS-1123 labels, at most 253 characters
/// (ServiceAccount, Secret and ConfigMap names).
pub(super) fn dns1123_subdomain(flag: &str, value: &str) -> Result<(), Invalid> {
    let why = "must be a DNS-1123 subdomain: at most 253 characters of a-z, 0-9, `-` and `.`, \
               each dot-separated part starting and ending with a letter or digit";
    let ok = value.len() <= 253 && value.split('.').all(|l| dns1123_label(flag, l).is_ok());
    if ok {
        Ok(())
    } else {
        Err(invalid(flag, value, why))
    }
}

/// A cargo package name: ASCII letters, digits, `-` and `_`, starting with a letter,
/// at most 64 characters (what `cargo new` accepts, and what a binary may be called).
pub(super) fn cargo_package(flag: &str, value: &str) -> Result<(), Invalid> {
    let ok = value.len() <= 64
        && value.starts_with(|c: char| c.is_ascii_alphabetic())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            flag,
            value,
            "must be a cargo package name: at most 64 ASCII letters, digits, `-` or `_`, starting with a letter",
        ))
    }
}

/// A container image reference: `[registry[:port]/]path[:tag][@algo:hex]`, as the OCI
/// distribution spec allows (lowercase path components, tag `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`).
pub(super) fn image(flag: &str, value: &str) -> Result<(), Invalid> {
    let why = "must be an image reference such as `registry.example.com:5000/team/app:1.2.3` \
               (lowercase path, optional :tag and @sha256:digest; no spaces or quotes)";
    let fail = || invalid(flag, value, why);
    if value.is_empty() || value.len() > 512 {
        return Err(fail());
    }
    let (rest, digest) = match value.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (value, None),
    };
    if let Some(d) = digest {
        let (algo, hex) = d.split_once(':').ok_or_else(fail)?;
        let algo_ok = !algo.is_empty()
            && algo
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b));
        if !algo_ok || hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(fail());
        }
    }
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(tag) = tag {
        let ok = (1..=128).contains(&tag.len())
            && !tag.starts_with(['.', '-'])
            && tag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
        if !ok {
            return Err(fail());
        }
    }
    let mut parts = name.split('/').peekable();
    let mut first = true;
    while let Some(part) = parts.next() {
        let is_registry =
            first && parts.peek().is_some() && (part.contains(['.', ':']) || part == "localhost");
        first = false;
        let ok = if is_registry {
            let (host, port) = part.split_once(':').unwrap_or((part, "1"));
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-".contains(&b))
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
        } else {
            path_component(part)
        };
        if !ok {
            return Err(fail());
        }
    }
    Ok(())
}

/// `[a-z0-9]+` separated by `.`, `_`, `__` or `-`s.
fn path_component(part: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = part.as_bytes();
    !bytes.is_empty()
        && bytes.first().copied().is_some_and(alnum)
        && bytes.last().copied().is_some_and(alnum)
        && bytes.iter().all(|&b| alnum(b) || b"._-".contains(&b))
        && !part.contains("..")
        && !part.contains("___")
}

/// A CPU quantity, in millicores. goctl's flags take a bare integer meaning millicores
/// (`--requestCpu 500`); Kubernetes' own spellings `500m` and whole cores `2` written as
/// `2000m` are accepted too. Fractions (`0.5`) are refused: for goctl's users a bare
/// number already means millicores, and the two readings must not be confused.
pub(super) fn cpu_millis(flag: &str, value: &str) -> Result<u64, Invalid> {
    let digits = value.strip_suffix('m').unwrap_or(value);
    let why = "must be a CPU quantity in millicores: `500m`, or `500` as goctl takes it \
               (1 to 1000000 millicores)";
    match digits.parse::<u64>() {
        Ok(n) if digits.bytes().all(|b| b.is_ascii_digit()) && (1..=1_000_000).contains(&n) => {
            Ok(n)
        }
        _ => Err(invalid(flag, value, why)),
    }
}

/// A memory quantity, in bytes, with its canonical spelling. A bare integer means MiB, as
/// in goctl (`--requestMem 512`); otherwise one of Kubernetes' suffixes
/// `Ki Mi Gi Ti` or `k M G T`.
pub(super) fn memory(flag: &str, value: &str) -> Result<(u128, String), Invalid> {
    const UNITS: &[(&str, u128)] = &[
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("Ti", 1 << 40),
        ("k", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
        ("T", 1_000_000_000_000),
    ];
    let why = "must be a memory quantity: `512Mi`, `1Gi`, `800M`, or `512` (MiB) as goctl takes it; \
               between 1Mi and 64Ti";
    let (digits, unit, spelled) = match UNITS.iter().find(|(u, _)| value.ends_with(u)) {
        Some((u, mult)) => (&value[..value.len() - u.len()], *mult, value.to_owned()),
        None => (value, 1 << 20, format!("{value}Mi")),
    };
    let ok_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    match digits.parse::<u128>() {
        Ok(n) if ok_digits && n <= u128::from(u64::MAX) => {
            let bytes = n * unit;
            if ((1 << 20)..=(64u128 << 40)).contains(&bytes) {
                Ok((bytes, spelled))
            } else {
                Err(invalid(flag, value, why))
            }
        }
        _ => Err(invalid(flag, value, why)),
    }
}

/// A Rust toolchain version for the `rust:<version>-slim-bookworm` builder image.
pub(super) fn rust_version(flag: &str, value: &str) -> Result<(), Invalid> {
    let parts: Vec<&str> = value.split('.').collect();
    let ok = (1..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| (1..=4).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            flag,
            value,
            "must be a Rust version such as `1.88` or `1.88.0`",
        ))
    }
}

/// An IANA time zone name such as `Asia/Shanghai` or `UTC`.
pub(super) fn time_zone(flag: &str, value: &str) -> Result<(), Invalid> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value.split('/').all(|p| {
            p.starts_with(|c: char| c.is_ascii_alphabetic())
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_+-".contains(&b))
        });
    if ok {
        Ok(())
    } else {
        Err(invalid(
            flag,
            value,
            "must be an IANA time zone name such as `Asia/Shanghai` or `UTC`",
        ))
    }
}

/// A relative path inside the Docker build context: no `..`, no absolute path, only
/// `A-Za-z0-9._-/` (a Dockerfile instruction cannot quote everything safely).
pub(super) fn context_path(flag: &str, value: &str) -> Result<(), Invalid> {
    let ok = !value.is_empty()
        && value.len() <= 255
        && !value.starts_with('/')
        && value.split('/').all(|p| !p.is_empty() && p != "..")
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            flag,
            value,
            "must be a relative path inside the build context (letters, digits, `._-/`, no `..`)",
        ))
    }
}

/// An OTLP endpoint URL: `http://` or `https://`, host and port, no spaces or quotes.
pub(super) fn endpoint(flag: &str, value: &str) -> Result<(), Invalid> {
    let rest = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"));
    let ok = rest.is_some_and(|r| {
        !r.is_empty()
            && r.len() <= 255
            && r.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-:/[]".contains(&b))
    });
    if ok {
        Ok(())
    } else {
        Err(invalid(
            flag,
            value,
            "must be an http:// or https:// URL such as `http://otel-collector.observability:4317`",
        ))
    }
}

/// A value inside `OTEL_RESOURCE_ATTRIBUTES` (no `,` or `=`, which separate its pairs).
pub(super) fn attribute_value(flag: &str, value: &str) -> Result<(), Invalid> {
    let ok = (1..=63).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            flag,
            value,
            "must be at most 63 letters, digits, `.`, `_` or `-` (it goes into OTEL_RESOURCE_ATTRIBUTES)",
        ))
    }
}
