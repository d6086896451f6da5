//! How every generator produces output: templates as files (goctl's `tpl` files), one
//! engine (minijinja, a maintained Jinja2 implementation), one set of naming and quoting
//! filters, and Rust output passed through `rustfmt` so that `cargo fmt --check` passes
//! in a generated crate.
//!
//! Templates live in `crates/rzeroctl/templates/<generator>/`, are embedded at build time,
//! and see these filters:
//!
//! | filter | gives |
//! |---|---|
//! | `snake`, `pascal`, `shouty` | case, identifier-safe |
//! | `ident`, `snake_ident` | a Rust identifier (`r#type`, `self_`) |
//! | `comment` | one safe line of comment text (line breaks shown as `\n`) |
//! | `rust_str`, `toml_str`, `yaml_str` | a quoted literal of that language |
//!
//! Undefined variables are errors (a template bug must not write an empty string).

mod names;
mod rustfmt;

use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

pub(crate) use names::{
    comment, ident, pascal, rust_str, shouty, snake, snake_ident, toml_str, yaml_str,
};
pub(crate) use rustfmt::format_rust;

/// Every template, by name (its path under `templates/`).
const TEMPLATES: &[(&str, &str)] = &include!(concat!(env!("OUT_DIR"), "/templates.rs"));

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // Output is code, not HTML: quoting is the filters' job, chosen per spot.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        env.add_filter("snake", |s: &str| snake(s));
        env.add_filter("pascal", |s: &str| pascal(s));
        env.add_filter("shouty", |s: &str| shouty(s));
        env.add_filter("ident", |s: &str| ident(s));
        env.add_filter("snake_ident", |s: &str| snake_ident(s));
        env.add_filter("comment", |s: &str| comment(s));
        env.add_filter("rust_str", |s: &str| rust_str(s));
        env.add_filter("toml_str", |s: &str| toml_str(s));
        env.add_filter("yaml_str", |s: &str| yaml_str(s));
        for (name, source) in TEMPLATES {
            // A template that does not parse is caught by this crate's own tests
            // (`every_template_parses`); here it would only be missing.
            let _ = env.add_template(name, source);
        }
        env
    })
}

/// The template `name` rendered with `ctx`. An error here is rzeroctl's bug, reported so.
pub(crate) fn render(name: &str, ctx: impl Serialize) -> Result<String, String> {
    let template = env()
        .get_template(name)
        .map_err(|e| format!("rzeroctl has no template {name} ({e}); please report this"))?;
    template.render(ctx).map_err(|e| {
        format!("rzeroctl's template {name} failed ({e:#}); please report this with your input")
    })
}

/// [`render`], then through rustfmt.
pub(crate) fn render_rust(name: &str, ctx: impl Serialize) -> Result<String, String> {
    let code = render(name, ctx)?;
    format_rust(&code).map_err(|e| format!("{name}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
        assert!(!TEMPLATES.is_empty());
    }

    #[test]
    fn an_undefined_variable_is_an_error() {
        let mut env = Environment::new();
        // Output is code, not HTML: quoting is the filters' job, chosen per spot.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.add_template("t", "{{ missing }}").expect("parses");
        assert!(env.get_template("t").expect("t").render(()).is_err());
    }
}
