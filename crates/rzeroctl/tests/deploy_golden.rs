//! `rzeroctl docker` and `rzeroctl kube deploy` against expected files in
//! `tests/data/deploy/golden/`. A change in the output fails here; when it is meant,
//! `RZEROCTL_BLESS=1 cargo test -p rzeroctl --test deploy_golden` rewrites the files
//! (then review the diff).

use std::path::PathBuf;

use rzeroctl::deploy::{DockerArgs, KubeArgs, render_dockerfile, render_kube};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/deploy/golden")
}

fn check_golden(file: &str, actual: &str) {
    let path = golden_dir().join(file);
    if std::env::var_os("RZEROCTL_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(golden_dir()).expect("golden dir");
        std::fs::write(&path, actual).expect("bless");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with RZEROCTL_BLESS=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} drifted at line {}:\n  expected: {:?}\n  actual:   {:?}\n\
             (RZEROCTL_BLESS=1 rewrites it if the change is meant)\n--- actual ---\n{actual}",
            path.display(),
            line + 1,
            expected.lines().nth(line).unwrap_or("<end>"),
            actual.lines().nth(line).unwrap_or("<end>"),
        );
    }
}

fn dockerfile(flags: &[&str]) -> String {
    let args = DockerArgs::from_flags(flags).expect("flags parse");
    render_dockerfile(&args).expect("renders")
}

fn manifests(flags: &[&str]) -> String {
    let args = KubeArgs::from_flags(flags).expect("flags parse");
    render_kube(&args).expect("renders")
}

#[test]
fn docker_rest_service_matches_golden() {
    check_golden(
        "docker_rest.Dockerfile",
        &dockerfile(&[
            "--service",
            "order-api",
            "--config",
            "services/order-api/etc/order-api.yaml",
        ]),
    );
}

#[test]
fn docker_rpc_service_with_tz_exe_and_distroless_base_matches_golden() {
    check_golden(
        "docker_rpc.Dockerfile",
        &dockerfile(&[
            "--service",
            "user-rpc",
            "--kind",
            "rpc",
            "--exe",
            "user_server",
            "--port",
            "8081",
            "--base",
            "gcr.io/distroless/cc-debian12:nonroot",
            "--rust-version",
            "1.90",
            "--tz",
            "Asia/Shanghai",
        ]),
    );
}

#[test]
fn kube_rest_service_matches_golden() {
    check_golden(
        "kube_rest.yaml",
        &manifests(&[
            "--name",
            "order-api",
            "--namespace",
            "microservices",
            "--image",
            "rzero/order-api:latest",
            "--port",
            "8888",
            "--config-map",
            "rzero-config",
            "--imagePullPolicy",
            "IfNotPresent",
        ]),
    );
}

#[test]
fn kube_rpc_service_is_headless_with_grpc_probes_and_matches_golden() {
    check_golden(
        "kube_rpc.yaml",
        &manifests(&[
            "--name",
            "user-rpc",
            "--namespace",
            "microservices",
            "--image",
            "registry.example.com:5000/rzero/user-rpc:1.2.3",
            "--port",
            "8081",
            "--kind",
            "rpc",
            "--replicas",
            "2",
            "--revisions",
            "3",
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
            "--secret",
            "regcred",
            "--otlp-endpoint",
            "http://otel-collector.observability:4317",
            "--environment",
            "staging",
        ]),
    );
}

#[test]
fn kube_node_port_service_matches_golden() {
    check_golden(
        "kube_nodeport.yaml",
        &manifests(&[
            "--name",
            "order-api",
            "--namespace",
            "default",
            "--image",
            "order-api:dev",
            "--port",
            "80",
            "--targetPort",
            "8888",
            "--nodePort",
            "30080",
        ]),
    );
}
