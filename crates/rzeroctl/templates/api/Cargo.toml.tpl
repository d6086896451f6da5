# {{ crate_name }}: a service on rzero from its .api. rzeroctl wrote this file once;
# yours to edit.
[package]
name = {{ crate_name | toml_str }}
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
{{ rzero_dependency }}
serde = { version = "{{ v.serde }}", features = ["derive"] }
serde_json = "{{ v.serde_json }}"
tokio = { version = "{{ v.tokio }}", features = ["rt-multi-thread", "macros", "signal"] }

# A crate of its own, as goctl's services are; delete this table to make the crate a
# member of an enclosing workspace.
[workspace]
