//! What `rzeroctl docker` and `rzeroctl kube deploy` generate passes the same checks as
//! the hand-written files in deploy/: the Kubernetes schemas (strict, offline), the
//! references between objects (with deploy/k8s's ConfigMap), the Dockerfile rules, and
//! the guide's deployment shape (probes, resources, HPA behaviour) that deploy/k8s has.

use std::fs;
use std::path::PathBuf;
use std::sync::OnceLock;

use deploy_check::*;
use rzeroctl::deploy::{DockerArgs, KubeArgs, render_dockerfile, render_kube};
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

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "deploy-check-rzeroctl-{}-{name}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn kube(flags: &[&str]) -> String {
    let args = KubeArgs::from_flags(flags).unwrap_or_else(|e| panic!("{flags:?}: {e}"));
    render_kube(&args).unwrap_or_else(|e| panic!("{flags:?}: {e}"))
}

/// The three services as deploy/k8s deploys them, but generated.
fn generated_services() -> Vec<(&'static str, String)> {
    let common = [
        "--namespace",
        "microservices",
        "--config-map",
        "rzero-config",
        "--imagePullPolicy",
        "IfNotPresent",
    ];
    let service = |name: &'static str, kind: &str, port: &str| {
        let image = format!("rzero/{name}:latest");
        let mut flags = vec![
            "--name", name, "--image", &image, "--port", port, "--kind", kind,
        ];
        flags.extend(common);
        (name, kube(&flags))
    };
    vec![
        service("order-api", "rest", "8888"),
        service("order-rpc", "rpc", "8080"),
        service("user-rpc", "rpc", "8081"),
    ]
}

/// Other shapes: NodePort, every goctl flag, a ClusterIP rpc service.
fn generated_variants() -> Vec<(&'static str, String)> {
    vec![
        (
            "nodeport",
            kube(&[
                "--name",
                "web",
                "--namespace",
                "default",
                "--image",
                "web:dev",
                "--port",
                "80",
                "--targetPort",
                "8888",
                "--nodePort",
                "30080",
            ]),
        ),
        (
            "all-flags",
            kube(&[
                "--name",
                "user-rpc",
                "--namespace",
                "prod",
                "--image",
                "registry.example.com:5000/team/user-rpc:1.2.3",
                "--port",
                "8081",
                "--kind",
                "rpc",
                "--replicas",
                "2",
                "--revisions",
                "10",
                "--requestCpu",
                "500",
                "--requestMem",
                "512",
                "--limitCpu",
                "1000",
                "--limitMem",
                "1Gi",
                "--minReplicas",
                "2",
                "--maxReplicas",
                "20",
                "--serviceAccount",
                "user-rpc",
                "--imagePullPolicy",
                "Always",
                "--secret",
                "regcred",
                "--metrics-port",
                "9464",
                "--otlp-endpoint",
                "https://otlp.example.com:4318",
                "--otlp-protocol",
                "http/protobuf",
                "--environment",
                "staging",
            ]),
        ),
        (
            "rpc-clusterip",
            kube(&[
                "--name",
                "yes",
                "--namespace",
                "123",
                "--image",
                "x",
                "--port",
                "9000",
                "--kind",
                "rpc",
                "--headless=false",
            ]),
        ),
    ]
}

fn write_all(dir: &std::path::Path, files: &[(&str, String)]) -> Vec<PathBuf> {
    files
        .iter()
        .map(|(name, text)| {
            let path = dir.join(format!("{name}.yaml"));
            fs::write(&path, text).expect("write manifest");
            path
        })
        .collect()
}

#[test]
fn generated_manifests_pass_the_current_kubernetes_schemas_strictly() {
    let dir = scratch("schemas");
    let mut all = generated_services();
    all.extend(generated_variants());
    let files = write_all(&dir, &all);
    if let Err(e) = validators().validate_k8s(&files) {
        panic!(
            "rzeroctl kube deploy output does not validate against Kubernetes {K8S_VERSION}:\n{e}"
        );
    }
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn generated_manifests_references_resolve_with_deploy_k8s_config() {
    let root = workspace_root();
    let dir = scratch("refs");
    let mut files = write_all(&dir, &generated_services());
    files.push(root.join("deploy/k8s/01-config.yaml"));
    let objects = load_objects(&files).expect("generated manifests parse");
    assert_eq!(
        objects.iter().filter(|o| o.kind() == "Deployment").count(),
        3
    );
    let errors = check_k8s_references(&objects, &dockerfile_targets(&root));
    assert!(errors.is_empty(), "{errors:#?}");

    let variants = load_objects(&write_all(&dir, &generated_variants())).expect("parse");
    let errors = check_k8s_references(&variants, &dockerfile_targets(&root));
    assert!(errors.is_empty(), "{errors:#?}");
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn generated_deployments_match_deploy_k8s_in_probes_ports_resources_env_and_hpa() {
    let root = workspace_root();
    let hand = load_objects(&yaml_files(&root.join("deploy/k8s"))).expect("deploy/k8s parses");
    let dir = scratch("shape");
    let generated = load_objects(&write_all(&dir, &generated_services())).expect("parse");
    let find = |objs: &[Object], kind: &str, name: &str| -> Value {
        objs.iter()
            .find(|o| {
                o.kind() == kind
                    && (o.name() == name
                        || o.value["spec"]["scaleTargetRef"]["name"].as_str() == Some(name))
            })
            .unwrap_or_else(|| panic!("{kind} {name}"))
            .value
            .clone()
    };
    for name in ["order-api", "order-rpc", "user-rpc"] {
        let (h, g) = (
            find(&hand, "Deployment", name),
            find(&generated, "Deployment", name),
        );
        let (hc, gc) = (
            &h["spec"]["template"]["spec"]["containers"][0],
            &g["spec"]["template"]["spec"]["containers"][0],
        );
        for field in [
            "ports",
            "livenessProbe",
            "readinessProbe",
            "resources",
            "args",
            "image",
            "imagePullPolicy",
        ] {
            assert_eq!(hc[field], gc[field], "{name}: container.{field}");
        }
        let env_names = |c: &Value| -> Vec<String> {
            c["env"]
                .as_sequence()
                .into_iter()
                .flatten()
                .filter_map(|e| e["name"].as_str().map(str::to_owned))
                .filter(|n| n.starts_with("OTEL_") || n == "POD_NAME")
                .collect()
        };
        assert_eq!(env_names(hc), env_names(gc), "{name}: OTEL env");
        let otel = |c: &Value, var: &str| {
            c["env"]
                .as_sequence()
                .into_iter()
                .flatten()
                .find(|e| e["name"].as_str() == Some(var))
                .map(|e| e["value"].clone())
        };
        for var in [
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_RESOURCE_ATTRIBUTES",
            "OTEL_SERVICE_NAME",
        ] {
            assert_eq!(otel(hc, var), otel(gc, var), "{name}: {var}");
        }
        assert_eq!(
            h["spec"]["template"]["metadata"]["annotations"],
            g["spec"]["template"]["metadata"]["annotations"],
            "{name}: pod annotations (Prometheus scraping)"
        );
        let (hs, gs) = (
            &h["spec"]["template"]["spec"],
            &g["spec"]["template"]["spec"],
        );
        for (k, v) in hs["securityContext"]
            .as_mapping()
            .expect("pod securityContext")
        {
            assert_eq!(
                gs["securityContext"].get(k),
                Some(v),
                "{name}: pod securityContext {k:?}"
            );
        }
        for (k, v) in hc["securityContext"].as_mapping().expect("securityContext") {
            assert_eq!(
                gc["securityContext"].get(k),
                Some(v),
                "{name}: securityContext {k:?}"
            );
        }
        let mount = |c: &Value| {
            c["volumeMounts"]
                .as_sequence()
                .expect("mounts")
                .iter()
                .find(|m| m["name"].as_str() == Some("config"))
                .cloned()
        };
        assert_eq!(mount(hc), mount(gc), "{name}: config mount");

        let (hh, gh) = (
            find(&hand, "HorizontalPodAutoscaler", name),
            find(&generated, "HorizontalPodAutoscaler", name),
        );
        for field in [
            "metrics",
            "behavior",
            "minReplicas",
            "maxReplicas",
            "scaleTargetRef",
        ] {
            assert_eq!(hh["spec"][field], gh["spec"][field], "{name}: HPA {field}");
        }
        let (hsv, gsv) = (
            find(&hand, "Service", name),
            find(&generated, "Service", name),
        );
        if name.ends_with("-rpc") {
            assert_eq!(hsv["spec"], gsv["spec"], "{name}: headless Service");
        }
    }
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn the_hand_written_dockerfile_passes_the_dockerfile_rules() {
    let text =
        fs::read_to_string(workspace_root().join("deploy/docker/Dockerfile")).expect("Dockerfile");
    let errors = check_dockerfile("deploy/docker/Dockerfile", &text);
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn generated_dockerfiles_pass_the_same_rules_and_copy_files_that_exist() {
    let root = workspace_root();
    for (service, kind, config) in [
        ("order-api", "rest", "services/order-api/etc/order-api.yaml"),
        ("order-rpc", "rpc", "services/order-rpc/etc/order.yaml"),
        ("user-rpc", "rpc", "services/user-rpc/etc/user.yaml"),
    ] {
        let args = DockerArgs::from_flags([
            "--service",
            service,
            "--kind",
            kind,
            "--config",
            config,
            "--tz",
            "Asia/Shanghai",
        ])
        .expect("flags");
        let text = render_dockerfile(&args).expect("renders");
        let errors = check_dockerfile(&format!("{service}/Dockerfile"), &text);
        assert!(errors.is_empty(), "{errors:#?}\n{text}");
        assert!(
            text.contains(&format!("cargo build --release --locked -p {service}")),
            "{text}"
        );
        assert!(
            dockerfile_targets(&root).contains(service),
            "{service} is a workspace package"
        );
        assert!(
            root.join(config).is_file(),
            "{config} exists in the build context"
        );
        assert!(
            text.contains(&format!("install -D -m 0644 {config} ")),
            "{text}"
        );
    }
}

#[test]
fn the_dockerfile_rules_catch_root_shell_form_and_missing_metrics_port() {
    let bad = "FROM rust:1.88 AS builder\nRUN cargo build --release -p x\nFROM debian:bookworm-slim\nUSER root\nEXPOSE 8080\nENTRYPOINT /app/x\nCMD []\n";
    let errors = check_dockerfile("bad/Dockerfile", bad).join("\n");
    for want in [
        "cargo build --release --locked",
        "not named `runtime`",
        "runs the service as root",
        "9090",
        "exec form",
        "-f",
    ] {
        assert!(errors.contains(want), "missing {want:?} in:\n{errors}");
    }
}
