[package]
name = "{{crate}}"
version = "0.1.0"
edition = "2024"
publish = false

# A service of its own, as goctl's are; remove this table to make the crate a member of
# an enclosing workspace.
[workspace]

[dependencies]
{{rzero}}
prost = "{{prost}}"
{{prost_types}}serde = { version = "{{serde}}", features = ["derive"] }
tokio = { version = "{{tokio}}", features = ["rt-multi-thread", "macros"] }
tonic = "{{tonic}}"
tonic-prost = "{{tonic}}"

[build-dependencies]
protoc-bin-vendored = "{{protoc}}"
tonic-prost-build = "{{tonic}}"
