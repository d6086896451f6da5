# {{ crate_name }}: a gRPC service on rzero from its proto. rzeroctl wrote this file once;
# yours to edit.
[package]
name = {{ crate_name | toml_str }}
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
{{ rzero_dependency }}
prost = "{{ v.prost }}"
{% if well_known %}
prost-types = "{{ v.prost }}"
{% endif %}
serde = { version = "{{ v.serde }}", features = ["derive"] }
tokio = { version = "{{ v.tokio }}", features = ["rt-multi-thread", "macros", "signal"] }
tonic = "{{ v.tonic }}"
tonic-prost = "{{ v.tonic }}"

[build-dependencies]
protoc-bin-vendored = "{{ v.protoc_bin_vendored }}"
tonic-prost-build = "{{ v.tonic }}"

# A crate of its own, as goctl's services are; delete this table to make the crate a
# member of an enclosing workspace.
[workspace]
