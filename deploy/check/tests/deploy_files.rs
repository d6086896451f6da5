//! Validates deploy/: Kubernetes manifests and the compose file against their JSON schemas
//! (offline, tools in target/deploy-venv), the collector config's structure, and the
//! references between all of them.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use deploy_check::*;
use serde_yaml_ng::Value;

fn validators() -> &'static Validators {
    static V: OnceLock<Result<Validators, String>> = OnceLock::new();
    match V.get_or_init(ensure_validators) {
        Ok(v) => v,
        Err(e) => {
            panic!("could not install the offline schema validators into target/deploy-venv:\n{e}")
        }
    }
}

fn root() -> PathBuf {
    workspace_root()
}

fn k8s_files() -> Vec<PathBuf> {
    let files = yaml_files(&root().join("deploy/k8s"));
    assert!(!files.is_empty(), "no manifests in deploy/k8s");
    files
}

fn k8s_objects() -> Vec<Object> {
    load_objects(&k8s_files()).expect("manifests parse")
}

fn yaml(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("deploy-check-{}-{name}", std::process::id()));
    fs::create_dir_all(&dir).expect("temp dir");
    dir
}

// ---- schemas -------------------------------------------------------------------------

#[test]
fn every_kubernetes_manifest_passes_the_current_kubernetes_schemas_strictly() {
    if let Err(e) = validators().validate_k8s(&k8s_files()) {
        panic!("deploy/k8s does not validate against Kubernetes {K8S_VERSION}:\n{e}");
    }
}

#[test]
fn a_manifest_with_an_unknown_field_and_a_wrong_type_is_rejected_naming_file_and_field() {
    let dir = scratch("bad-k8s");
    let file = dir.join("broken.yaml");
    fs::write(
        &file,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicas: three\n  \
         selector:\n    matchLabels: {app: x}\n  template:\n    metadata:\n      labels: {app: x}\n    \
         spec:\n      containers:\n        - name: x\n          image: x\n          portz: []\n",
    )
    .expect("write");
    let err = validators()
        .validate_k8s(std::slice::from_ref(&file))
        .expect_err("must be rejected");
    assert!(err.contains("broken.yaml"), "{err}");
    assert!(err.contains("replicas") || err.contains("portz"), "{err}");
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn the_compose_file_passes_the_compose_spec_schema() {
    let file = root().join("deploy/docker-compose.yaml");
    if let Err(e) = validators().validate_compose(&[file]) {
        panic!(
            "deploy/docker-compose.yaml does not validate against the compose-spec schema:\n{e}"
        );
    }
}

#[test]
fn a_compose_file_with_a_misspelt_key_is_rejected_naming_the_field() {
    let dir = scratch("bad-compose");
    let file = dir.join("compose.yaml");
    fs::write(&file, "services:\n  web:\n    image: x\n    depends_on: {db: {condition: sometimes}}\n    portz: [80]\n  db: {image: y}\n")
        .expect("write");
    let err = validators()
        .validate_compose(std::slice::from_ref(&file))
        .expect_err("must be rejected");
    assert!(
        err.contains("compose.yaml") && err.contains("services.web"),
        "{err}"
    );
    let _ = fs::remove_dir_all(dir);
}

// ---- collector -----------------------------------------------------------------------

#[test]
fn the_collector_takes_otlp_and_sends_traces_to_jaeger_metrics_to_prometheus_logs_to_debug() {
    let file = root().join("deploy/otel/otel-collector-config.yaml");
    let cfg = yaml(&file);
    let errors = check_collector_config("deploy/otel/otel-collector-config.yaml", &cfg);
    assert!(errors.is_empty(), "{errors:#?}");
    let jaeger = cfg["exporters"]["otlp/jaeger"]["endpoint"]
        .as_str()
        .unwrap_or("");
    assert_eq!(jaeger, "jaeger:4317");
}

#[test]
fn the_kubernetes_collector_configmap_holds_the_same_config_as_compose() {
    let objects = k8s_objects();
    let cm = objects
        .iter()
        .find(|o| o.kind() == "ConfigMap" && o.name() == "otel-collector-config")
        .expect("ConfigMap otel-collector-config");
    let text = cm.value["data"]["otel-collector-config.yaml"]
        .as_str()
        .expect("config key");
    let in_cluster: Value =
        serde_yaml_ng::from_str(text).expect("embedded collector config parses");
    let compose = yaml(&root().join("deploy/otel/otel-collector-config.yaml"));
    assert_eq!(
        in_cluster, compose,
        "deploy/k8s/20-otel-collector.yaml drifted from deploy/otel/otel-collector-config.yaml"
    );
}

#[test]
fn a_collector_pipeline_naming_an_undefined_exporter_is_reported() {
    let cfg: Value = serde_yaml_ng::from_str(
        "receivers: {otlp: {protocols: {grpc: {endpoint: 0.0.0.0:4317}, http: {endpoint: 0.0.0.0:4318}}}}\n\
         exporters: {debug: {}}\n\
         service: {pipelines: {traces: {receivers: [otlp], exporters: [otlp/tempo]}, logs: {receivers: [otlp], exporters: [debug]}}}\n",
    )
    .expect("yaml");
    let errors = check_collector_config("c.yaml", &cfg).join("\n");
    assert!(
        errors.contains("service.pipelines.traces.exporters names `otlp/tempo`"),
        "{errors}"
    );
    assert!(
        errors.contains("service.pipelines.metrics.exporters"),
        "{errors}"
    );
}

// ---- references ----------------------------------------------------------------------

#[test]
fn kubernetes_ports_configmaps_secrets_and_images_all_resolve() {
    let errors = check_k8s_references(&k8s_objects(), &dockerfile_targets(&root()));
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn a_probe_on_a_missing_port_a_missing_secret_and_an_unknown_image_are_reported() {
    let mut objects = k8s_objects();
    let d = objects
        .iter_mut()
        .find(|o| o.kind() == "Deployment" && o.name() == "order-rpc")
        .expect("order-rpc Deployment");
    let c = &mut d.value["spec"]["template"]["spec"]["containers"][0];
    c["livenessProbe"]["grpc"]["port"] = Value::from(9999);
    c["image"] = Value::from("rzero/payment-rpc:latest");
    c["env"]
        .as_sequence_mut()
        .expect("env")
        .push(serde_yaml_ng::from_str("{name: ORDER_DB, value: 'root:pw@tcp(db)/x'}").expect("y"));
    objects.retain(|o| o.kind() != "Secret");
    let errors = check_k8s_references(&objects, &dockerfile_targets(&root())).join("\n");
    assert!(
        errors.contains("11-order-rpc.yaml: Deployment/order-rpc"),
        "{errors}"
    );
    assert!(
        errors.contains("livenessProbe.grpc.port `9999`"),
        "{errors}"
    );
    assert!(errors.contains("Secret `rzero-secrets`"), "{errors}");
    assert!(
        errors.contains("image `rzero/payment-rpc:latest`"),
        "{errors}"
    );
}

#[test]
fn the_compose_file_dependencies_mounts_and_builds_resolve() {
    let file = root().join("deploy/docker-compose.yaml");
    let errors = check_compose(&file, &yaml(&file), &dockerfile_targets(&root()));
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn a_compose_dependency_on_an_unknown_or_unhealthchecked_service_is_reported() {
    let file = root().join("deploy/docker-compose.yaml");
    let mut doc = yaml(&file);
    doc["services"]["order-api"]["depends_on"]["payments"] =
        serde_yaml_ng::from_str("{condition: service_started}").expect("y");
    doc["services"]["order-api"]["depends_on"]["jaeger"] =
        serde_yaml_ng::from_str("{condition: service_healthy}").expect("y");
    let errors = check_compose(&file, &doc, &dockerfile_targets(&root())).join("\n");
    assert!(errors.contains("unknown service `payments`"), "{errors}");
    assert!(errors.contains("`jaeger` has no healthcheck"), "{errors}");
}

#[test]
fn the_dockerfile_targets_are_the_three_services() {
    let targets = dockerfile_targets(&root());
    let want: BTreeSet<String> = ["order-api", "order-rpc", "user-rpc"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(targets, want);
}

#[test]
fn the_dockerfile_builds_a_release_binary_and_runs_it_as_a_non_root_user() {
    let df = fs::read_to_string(root().join("deploy/docker/Dockerfile")).expect("Dockerfile");
    assert!(
        df.contains("cargo build --release --locked -p ${SERVICE}"),
        "release build of one service"
    );
    assert!(
        df.contains("FROM debian:bookworm-slim AS runtime"),
        "slim runtime image"
    );
    let user = df
        .lines()
        .rev()
        .find(|l| l.starts_with("USER "))
        .expect("a USER line");
    assert!(
        !user.contains("root") && !user.trim_end().ends_with(" 0"),
        "{user}"
    );
    assert!(root().join(".dockerignore").is_file());
    let ignore = fs::read_to_string(root().join(".dockerignore")).expect("dockerignore");
    assert!(
        ignore.lines().any(|l| l.trim() == "target/"),
        ".dockerignore must drop target/"
    );
}

// ---- the guide's deployment shape ----------------------------------------------------

#[test]
fn service_deployments_follow_the_guide_replicas_resources_probes_otel_env_and_metrics() {
    let objects = k8s_objects();
    for name in ["order-api", "order-rpc", "user-rpc"] {
        let d = objects
            .iter()
            .find(|o| o.kind() == "Deployment" && o.name() == name)
            .unwrap_or_else(|| panic!("Deployment {name}"));
        let at = format!("{}: Deployment/{name}", d.file.display());
        assert_eq!(
            d.value["spec"]["replicas"].as_u64(),
            Some(3),
            "{at}: replicas"
        );
        let pod = &d.value["spec"]["template"];
        let ann = &pod["metadata"]["annotations"];
        assert_eq!(ann["prometheus.io/scrape"].as_str(), Some("true"), "{at}");
        assert_eq!(ann["prometheus.io/port"].as_str(), Some("9090"), "{at}");
        let c = &pod["spec"]["containers"][0];
        let r = &c["resources"];
        assert_eq!(
            (
                r["requests"]["memory"].as_str(),
                r["requests"]["cpu"].as_str(),
                r["limits"]["memory"].as_str(),
                r["limits"]["cpu"].as_str()
            ),
            (Some("256Mi"), Some("250m"), Some("512Mi"), Some("500m")),
            "{at}: resources"
        );
        let ports: Vec<(&str, u64)> = c["ports"]
            .as_sequence()
            .expect("ports")
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap_or(""),
                    p["containerPort"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        assert!(ports.contains(&("metrics", 9090)), "{at}: {ports:?}");
        let env: Vec<&str> = c["env"]
            .as_sequence()
            .expect("env")
            .iter()
            .filter_map(|e| e["name"].as_str())
            .collect();
        for var in [
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_SERVICE_NAME",
            "OTEL_RESOURCE_ATTRIBUTES",
        ] {
            assert!(env.contains(&var), "{at}: env {var}");
        }
        if name == "order-api" {
            assert!(ports.contains(&("http", 8888)), "{at}");
            assert_eq!(
                c["livenessProbe"]["httpGet"]["path"].as_str(),
                Some("/health"),
                "{at}"
            );
            assert_eq!(
                c["readinessProbe"]["httpGet"]["path"].as_str(),
                Some("/ready"),
                "{at}"
            );
        } else {
            assert!(ports.iter().any(|(n, _)| *n == "grpc"), "{at}");
            assert_eq!(
                c["livenessProbe"]["grpc"]["port"].as_u64(),
                ports.iter().find(|p| p.0 == "grpc").map(|p| p.1),
                "{at}"
            );
            assert!(
                !c["readinessProbe"]["grpc"].is_null(),
                "{at}: gRPC readiness probe"
            );
        }
        // The in-cluster config exposes metrics on 9090.
        let cm = objects
            .iter()
            .find(|o| o.kind() == "ConfigMap" && o.name() == "rzero-config")
            .expect("rzero-config");
        let conf: Value = serde_yaml_ng::from_str(
            cm.value["data"][format!("{name}.yaml").as_str()]
                .as_str()
                .expect("config"),
        )
        .expect("config parses");
        assert_eq!(
            conf["Prometheus"]["Port"].as_u64(),
            Some(9090),
            "rzero-config {name}.yaml"
        );
    }
    let api_svc = objects
        .iter()
        .find(|o| o.kind() == "Service" && o.name() == "order-api")
        .expect("Service order-api");
    assert_eq!(api_svc.value["spec"]["type"].as_str(), Some("LoadBalancer"));
    assert!(objects.iter().any(|o| o.kind() == "PodDisruptionBudget"));
    assert!(objects.iter().any(|o| o.kind() == "Namespace"));
}

#[test]
fn every_service_has_an_hpa_at_70_cpu_80_memory_with_the_guides_behaviour() {
    let objects = k8s_objects();
    for name in ["order-api", "order-rpc", "user-rpc"] {
        let h = objects
            .iter()
            .find(|o| {
                o.kind() == "HorizontalPodAutoscaler"
                    && o.value["spec"]["scaleTargetRef"]["name"].as_str() == Some(name)
            })
            .unwrap_or_else(|| panic!("no HPA for {name}"));
        let s = &h.value["spec"];
        let util = |res: &str| {
            s["metrics"]
                .as_sequence()
                .expect("metrics")
                .iter()
                .find(|m| m["resource"]["name"].as_str() == Some(res))
                .and_then(|m| m["resource"]["target"]["averageUtilization"].as_u64())
        };
        assert_eq!(
            (util("cpu"), util("memory")),
            (Some(70), Some(80)),
            "HPA {name}"
        );
        let b = &s["behavior"];
        assert_eq!(
            b["scaleDown"]["stabilizationWindowSeconds"].as_u64(),
            Some(300)
        );
        assert_eq!(b["scaleDown"]["policies"][0]["value"].as_u64(), Some(50));
        assert_eq!(b["scaleUp"]["stabilizationWindowSeconds"].as_u64(), Some(0));
        assert_eq!(b["scaleUp"]["policies"][1]["value"].as_u64(), Some(4));
        assert_eq!(b["scaleUp"]["selectPolicy"].as_str(), Some("Max"));
    }
}

// ---- docs ----------------------------------------------------------------------------

#[test]
fn every_env_var_the_services_and_deploy_files_use_is_documented_in_operations_md() {
    let root = root();
    let mut vars = BTreeSet::new();
    for svc in ["order-api", "order-rpc", "user-rpc"] {
        for f in yaml_files(&root.join("services").join(svc).join("etc")) {
            vars.extend(config_env_vars(&fs::read_to_string(f).expect("config")));
        }
    }
    for o in k8s_objects() {
        if o.kind() == "ConfigMap" && o.name() == "rzero-config" {
            for (_, text) in o.value["data"].as_mapping().expect("data") {
                vars.extend(config_env_vars(text.as_str().unwrap_or("")));
            }
        }
    }
    for o in k8s_objects() {
        for c in o.value["spec"]["template"]["spec"]["containers"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            for e in c["env"].as_sequence().into_iter().flatten() {
                let name = e["name"].as_str().unwrap_or("");
                if o.value["metadata"]["labels"]["app.kubernetes.io/part-of"].as_str()
                    == Some("rzero")
                {
                    vars.insert(name.to_owned());
                }
            }
        }
    }
    let compose = yaml(&root.join("deploy/docker-compose.yaml"));
    for svc in ["order-api", "order-rpc", "user-rpc"] {
        for (k, _) in compose["services"][svc]["environment"]
            .as_mapping()
            .expect("environment map")
        {
            if let Some(k) = k.as_str().filter(|k| *k != "<<") {
                vars.insert(k.to_owned());
            }
        }
    }
    for (k, _) in compose["x-rzero-env"].as_mapping().expect("x-rzero-env") {
        vars.insert(k.as_str().unwrap_or("").to_owned());
    }
    let otel = fs::read_to_string(root.join("crates/rzero-telemetry/src/settings/vars.rs"))
        .expect("vars.rs");
    let otel = quoted_otel_vars(&otel);
    assert!(otel.len() > 5, "found only {otel:?} in vars.rs");
    vars.extend(otel);
    let docs = fs::read_to_string(root.join("docs/operations.md")).expect("docs/operations.md");
    let missing: Vec<&String> = vars
        .iter()
        .filter(|v| !docs.contains(&format!("`{v}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/operations.md does not document (as `NAME`): {missing:?}"
    );
}

#[test]
fn env_var_scanning_finds_names_with_and_without_defaults() {
    let v = config_env_vars("a: ${A_B:-x}\nb: ${C}\nc: $D {E}\n");
    assert_eq!(
        v.into_iter().collect::<Vec<_>>(),
        vec!["A_B".to_string(), "C".to_string()]
    );
}
