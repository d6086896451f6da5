//! Every service config we ship (each service's `etc/*.yaml`, and the ones inside the
//! Kubernetes ConfigMap) loads with that service's own config type: a misspelt key, a
//! wrong type or a missing section fails here, not at a pod's start.

use rzero_conf::{ConfError, Loader};

/// Values for the variables the files leave to the environment (secrets, mostly).
fn env(name: &str) -> Option<String> {
    match name {
        "ORDER_DB" | "USER_DB" => Some("app:secret@tcp(mysql:3306)/orders".into()),
        "JWT_SECRET" | "REDIS_PASS" => Some("secret".into()),
        _ => None,
    }
}

fn load(service: &str, name: &str, text: &str) -> Result<(), ConfError> {
    let loader = Loader::new().env(env);
    match service {
        "order-api" => loader
            .load_str::<order_api::config::Config>(name, text)
            .map(drop),
        "order-rpc" => loader
            .load_str::<order_rpc::config::Config>(name, text)
            .map(drop),
        "user-rpc" => loader
            .load_str::<user_rpc::config::Config>(name, text)
            .map(drop),
        other => panic!("no config type for service {other}"),
    }
}

#[test]
fn every_etc_file_loads_with_its_services_config_type() {
    let root = deploy_check::workspace_root();
    let mut loaded = 0;
    for service in ["order-api", "order-rpc", "user-rpc"] {
        let etc = root.join("services").join(service).join("etc");
        for entry in std::fs::read_dir(&etc).expect("etc dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "yaml") {
                let text = std::fs::read_to_string(&path).expect("read");
                let name = path.display().to_string();
                load(service, &name, &text).unwrap_or_else(|e| panic!("{e}"));
                loaded += 1;
            }
        }
    }
    assert!(loaded >= 6, "found only {loaded} config files");
}

#[test]
fn the_configmaps_service_configs_load_with_their_config_types() {
    let root = deploy_check::workspace_root();
    let path = root.join("deploy/k8s/01-config.yaml");
    let text = std::fs::read_to_string(&path).expect("read the ConfigMap file");
    let mut loaded = 0;
    for doc in serde_yaml_ng::Deserializer::from_str(&text) {
        let value = <serde_yaml_ng::Value as serde::Deserialize>::deserialize(doc)
            .expect("the ConfigMap file is YAML");
        if value.get("kind").and_then(|k| k.as_str()) != Some("ConfigMap") {
            continue;
        }
        let Some(data) = value.get("data").and_then(|d| d.as_mapping()) else {
            continue;
        };
        for (key, body) in data {
            let (Some(key), Some(body)) = (key.as_str(), body.as_str()) else {
                continue;
            };
            let service = key.trim_end_matches(".yaml");
            let name = format!("{}: {key}", path.display());
            load(service, &name, body).unwrap_or_else(|e| panic!("{e}"));
            loaded += 1;
        }
    }
    assert_eq!(loaded, 3, "one config per service in the ConfigMap");
}

#[test]
fn a_misspelt_key_in_a_shipped_config_would_be_caught() {
    let text = "Name: order-api\nPort: 8888\nOrderRpc:\n  Endpoint: [\"x:1\"]\n";
    let err = load("order-api", "broken.yaml", text).expect_err("misspelt key");
    assert!(err.to_string().contains("Endpoint"), "{err}");
}
