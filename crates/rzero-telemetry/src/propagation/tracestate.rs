//! `tracestate`: the combined list of every field, checked against Level 2's grammar, as
//! an SDK `TraceState`, with what that type cannot hold kept beside it.
//!
//! `TraceState` (opentelemetry 0.33) validates keys with Level 1's rule, so a list with
//! a Level 2 key such as `foo@@bar` cannot be one. Such lists are rare; for them the
//! members `TraceState` accepts go into the span context as usual and the whole list,
//! as received, rides in the context as a [`Beside`]. On injection the list is written
//! back as received when the span's `TraceState` is unchanged, and otherwise merged: the
//! members the span changed or added first (as the spec's mutation rules say), then the
//! received ones in their order, less those the span changed or deleted.

use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, TraceId, TraceState};

/// At most this many list members (W3C: `list-member 0*31( OWS "," OWS list-member )`).
const MAX_MEMBERS: usize = 32;
/// Keys and values are at most 256 characters.
const MAX_LEN: usize = 256;

/// What was received: the `TraceState` for the span context, and the full list when
/// `TraceState` could not hold all of it.
#[derive(Debug, Default)]
pub(crate) struct Received {
    pub(crate) state: TraceState,
    pub(crate) beside: Option<Beside>,
}

/// The received list, kept in the context next to a `TraceState` that holds only part
/// of it.
#[derive(Debug)]
pub(crate) struct Beside {
    trace_id: TraceId,
    /// Every member, in order, and whether `sdk` holds it.
    members: Vec<(String, String, bool)>,
    /// The `TraceState` put in the span context.
    sdk: TraceState,
    /// The list as received, joined.
    header: String,
}

/// The combined `tracestate` of `fields`; an invalid list is dropped whole (empty state).
pub(crate) fn parse(fields: &[&str], trace_id: TraceId) -> Received {
    let members = match members(fields) {
        Some(m) if !m.is_empty() => m,
        _ => return Received::default(),
    };
    if let Ok(state) = TraceState::from_key_value(members.iter().copied()) {
        return Received {
            state,
            beside: None,
        };
    }
    // Some key is Level 2 only: one check per member, on this rare path only.
    let fits: Vec<bool> = members
        .iter()
        .map(|&m| TraceState::from_key_value([m]).is_ok())
        .collect();
    let sdk = TraceState::from_key_value(
        members
            .iter()
            .zip(&fits)
            .filter(|(_, fits)| **fits)
            .map(|(m, _)| *m),
    )
    .unwrap_or_default();
    let header = join(members.iter().map(|&(k, v)| (k, v)));
    let members = members
        .iter()
        .zip(fits)
        .map(|(&(k, v), fits)| (k.to_owned(), v.to_owned(), fits))
        .collect();
    Received {
        state: sdk.clone(),
        beside: Some(Beside {
            trace_id,
            members,
            sdk,
            header,
        }),
    }
}

/// The `tracestate` to send for `sc`, the span of `cx`.
pub(crate) fn header(cx: &Context, sc: &SpanContext) -> String {
    let state = sc.trace_state();
    let Some(beside) = cx.get::<Beside>().filter(|b| b.trace_id == sc.trace_id()) else {
        return state.header();
    };
    if *state == beside.sdk {
        return beside.header.clone();
    }
    let changed = state
        .into_iter()
        .filter(|&(k, v)| beside.sdk.get(k) != Some(v));
    let kept = beside
        .members
        .iter()
        .filter(|(k, v, fits)| !fits || state.get(k) == Some(v.as_str()))
        .map(|(k, v, _)| (k.as_str(), v.as_str()));
    // Over 32, the right-most members go, as the spec says for additions.
    join(changed.chain(kept).take(MAX_MEMBERS))
}

/// The members of all `fields` combined (RFC 9110 field order), or `None` when the list
/// breaks the grammar or the limits. A repeated key keeps its first (left-most) value,
/// one of the two behaviours the spec allows.
fn members<'a>(fields: &[&'a str]) -> Option<Vec<(&'a str, &'a str)>> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    let mut count = 0;
    for member in fields.iter().flat_map(|f| f.split(',')) {
        let member = member.trim_matches([' ', '\t']);
        if member.is_empty() {
            continue;
        }
        count += 1;
        if count > MAX_MEMBERS {
            return None;
        }
        let (key, value) = member.split_once('=')?;
        if !valid_key(key) || !valid_value(value) {
            return None;
        }
        if !out.iter().any(|(k, _)| *k == key) {
            out.push((key, value));
        }
    }
    Some(out)
}

/// `key = ( lcalpha / DIGIT ) 0*255 ( keychar )`, keychar = lcalpha / DIGIT / `_-*/@`.
fn valid_key(key: &str) -> bool {
    let b = key.as_bytes();
    let Some((first, rest)) = b.split_first() else {
        return false;
    };
    b.len() <= MAX_LEN
        && matches!(first, b'a'..=b'z' | b'0'..=b'9')
        && rest
            .iter()
            .all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'*' | b'/' | b'@'))
}

/// `value = 0*255(chr) nblk-chr`: printable ASCII but `,` and `=`, not ending in a space.
fn valid_value(value: &str) -> bool {
    let b = value.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_LEN
        && b[b.len() - 1] != b' '
        && b.iter()
            .all(|c| matches!(c, 0x20..=0x2b | 0x2d..=0x3c | 0x3e..=0x7e))
}

fn join<'a>(members: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (k, v) in members {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}
