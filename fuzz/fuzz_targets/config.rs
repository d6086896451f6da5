//! The config loader over the input as a YAML file for a gateway (`RestConf` with an
//! `Auth` section): a config error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, Serialize)]
struct Config {
    #[serde(flatten)]
    rest: rzero_rest::RestConf,
    #[serde(rename = "Auth", default)]
    auth: rzero_rest::jwt::JwtConf,
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let loader = rzero_conf::Loader::new().env(|name| match name {
        "PORT" => Some("8080".into()),
        "SECRET" => Some("a-secret-of-some-length".into()),
        _ => None,
    });
    if let Ok(c) = loader.load_str::<Config>("fuzz.yaml", text) {
        // What loads must also be usable: the telemetry section resolves.
        let _ = c.rest.service.telemetry_conf();
    }
});
