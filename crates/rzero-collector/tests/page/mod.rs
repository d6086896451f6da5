//! What the viewer's pages show, read from a DOM dump (`chrome::chromium`) or from a live
//! page (`cdp::Browser`).

use super::cdp;
use super::chrome::attr_values;

/// `(class, data-span-id)` of each waterfall row.
pub(crate) fn rows(dom: &str) -> Vec<(String, String)> {
    dom.split("<div class=\"span-row")
        .skip(1)
        .filter_map(|chunk| {
            let class = chunk.split('"').next()?.to_owned();
            let id = attr_values(chunk, "data-span-id").into_iter().next()?;
            Some((class, id))
        })
        .collect()
}

/// The list's trace ids once it has loaded after a navigation to `#/?...`, sorted.
pub(crate) fn listed(b: &mut cdp::Browser) -> Vec<String> {
    // The list of the address now shown: the hash changes before its `hashchange` redraws
    // the page, so the previous list may still be there.
    b.wait_for(
        "location.hash.startsWith('#/?') && (document.querySelector('#results') || {}).dataset?.query === \
         new URLSearchParams(location.hash.slice(location.hash.indexOf('?') + 1)).toString()",
        "the trace list",
    );
    let ids = b.eval(
        "[...document.querySelectorAll('#trace-list .trace-row')].map((r) => r.dataset.traceId)",
    );
    let mut ids: Vec<String> = serde_json::from_value(ids).expect("ids");
    ids.sort();
    ids
}

/// What the page fetched from its origin so far (path and query), oldest first.
pub(crate) fn fetched(b: &mut cdp::Browser) -> Vec<String> {
    let v = b.eval(
        "performance.getEntriesByType('resource').filter((e) => e.initiatorType === 'fetch')\
         .map((e) => { const u = new URL(e.name); return u.pathname + u.search; })",
    );
    serde_json::from_value(v).expect("fetches")
}

/// The parameters of the address the page is at now.
pub(crate) fn hash_params(b: &mut cdp::Browser) -> serde_json::Value {
    b.eval("Object.fromEntries(new URLSearchParams(location.hash.slice(location.hash.indexOf('?') + 1)))")
}

/// The ids of the service map's nodes once it has drawn (or said it is empty).
pub(crate) fn map_nodes(b: &mut cdp::Browser) -> Vec<String> {
    b.wait_for(
        "document.querySelector('#service-map') || document.querySelector('#map-empty')",
        "the service map",
    );
    let v = b.eval("[...document.querySelectorAll('[data-node-id]')].map((n) => n.dataset.nodeId)");
    serde_json::from_value(v).expect("node ids")
}
