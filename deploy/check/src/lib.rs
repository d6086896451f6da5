//! Offline validation of rzero's deployment files.
//!
//! - Kubernetes manifests (`deploy/k8s/*.yaml`) against the JSON schemas of Kubernetes
//!   [`K8S_VERSION`], strict (unknown fields rejected), with the PyPI package
//!   `kubernetes-validate`, which bundles the schemas and works offline.
//! - `deploy/docker-compose.yaml` against the compose-spec JSON schema shipped inside the
//!   PyPI wheel `docker-compose==1.29.2` (`compose/config/compose_spec.json`), with `jsonschema`.
//! - The collector config's structure, and the references between all the files
//!   (ports, ConfigMaps, Secrets, images, env vars), in Rust.
//!
//! The Python tools live in a venv at `target/deploy-venv`, made on first use by
//! [`ensure_validators`] (a few seconds with a PyPI mirror; then a no-op).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml_ng::Value;

mod dockerfile;
pub use dockerfile::{check_dockerfile, dockerfile_targets};

/// The Kubernetes version whose schemas the manifests must satisfy.
pub const K8S_VERSION: &str = "1.37.0";
const PIP_PACKAGES: &[&str] = &[
    "kubernetes-validate==1.37.0",
    "jsonschema>=4.20",
    "PyYAML>=6",
];
const COMPOSE_WHEEL: &str = "docker-compose==1.29.2";

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// Paths of the installed validators.
#[derive(Debug, Clone)]
pub struct Validators {
    /// The venv's python.
    pub python: PathBuf,
    /// The compose-spec JSON schema file.
    pub compose_schema: PathBuf,
    /// `deploy/check/validate.py`.
    pub script: PathBuf,
}

fn run(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: cannot start {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Makes sure `target/deploy-venv` holds kubernetes-validate, jsonschema, PyYAML and the
/// compose-spec schema; installs them if not. Idempotent; fast when already there.
pub fn ensure_validators() -> Result<Validators, String> {
    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root.join(p) })
        .unwrap_or_else(|| root.join("target"));
    let venv = target.join("deploy-venv");
    let python = venv.join("bin").join("python");
    let compose_schema = venv.join("compose_spec.json");
    let script = root.join("deploy/check/validate.py");
    let v = Validators {
        python: python.clone(),
        compose_schema: compose_schema.clone(),
        script,
    };
    let is_ready = || {
        compose_schema.is_file()
            && Command::new(&python)
                .args(["-c", "import kubernetes_validate, jsonschema, yaml"])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
    };
    if is_ready() {
        return Ok(v);
    }
    // One installer at a time (other test processes may share the target dir).
    fs::create_dir_all(&target).map_err(|e| format!("{}: {e}", target.display()))?;
    let lock = target.join("deploy-venv.lock");
    let started = std::time::Instant::now();
    loop {
        match fs::create_dir(&lock) {
            Ok(()) => break,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if is_ready() {
                    return Ok(v);
                }
                let stale = fs::metadata(&lock)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age.as_secs() > 900);
                if stale {
                    let _ = fs::remove_dir(&lock);
                } else if started.elapsed().as_secs() > 900 {
                    return Err(format!(
                        "waited 15 min for another installer holding {}; remove it if no test runs",
                        lock.display()
                    ));
                }
                std::thread::sleep(std::time::Duration::from_millis(500));
            }
            Err(e) => return Err(format!("{}: {e}", lock.display())),
        }
    }
    let result = install(&venv, &python, &compose_schema);
    let _ = fs::remove_dir(&lock);
    result.map(|()| v)
}

fn install(venv: &Path, python: &Path, compose_schema: &Path) -> Result<(), String> {
    let hint = "deploy-check needs python3 (with the venv module: apt-get install -y python3-venv) \
                and access to PyPI (or a mirror set in PIP_INDEX_URL)";
    if !python.is_file() {
        run(
            Command::new("python3").arg("-m").arg("venv").arg(venv),
            &format!("creating {} ({hint})", venv.display()),
        )?;
    }
    run(
        Command::new(python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(PIP_PACKAGES),
        &format!("pip install {PIP_PACKAGES:?} ({hint})"),
    )?;
    let dl = venv.join("download");
    run(
        Command::new(python)
            .args([
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--disable-pip-version-check",
            ])
            .arg(COMPOSE_WHEEL)
            .arg("-d")
            .arg(&dl),
        &format!("pip download {COMPOSE_WHEEL} (source of the compose-spec schema; {hint})"),
    )?;
    let extract = "import glob,zipfile,sys\nw=glob.glob(sys.argv[1]+'/docker_compose-*.whl')[0]\n\
         open(sys.argv[2],'wb').write(zipfile.ZipFile(w).read('compose/config/compose_spec.json'))";
    run(
        Command::new(python)
            .args(["-c", extract])
            .arg(&dl)
            .arg(compose_schema),
        "extracting compose_spec.json from the docker-compose wheel",
    )?;
    Ok(())
}

impl Validators {
    fn validate(&self, mode: &str, arg: &str, files: &[PathBuf]) -> Result<(), String> {
        let out = Command::new(&self.python)
            .arg(&self.script)
            .arg(mode)
            .arg(arg)
            .args(files)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.python.display()))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// Validates Kubernetes manifests against the schemas of [`K8S_VERSION`] (strict).
    pub fn validate_k8s(&self, files: &[PathBuf]) -> Result<(), String> {
        self.validate("k8s", K8S_VERSION, files)
    }

    /// Validates compose files against the compose-spec schema.
    pub fn validate_compose(&self, files: &[PathBuf]) -> Result<(), String> {
        let schema = self.compose_schema.to_string_lossy().into_owned();
        self.validate("compose", &schema, files)
    }
}

/// The `*.yaml` files of a directory, sorted.
pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// One parsed Kubernetes object and the file it came from.
#[derive(Debug, Clone)]
pub struct Object {
    pub file: PathBuf,
    pub value: Value,
}

impl Object {
    pub fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or("")
    }
    pub fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or("")
    }
    fn at(&self) -> String {
        format!("{}: {}/{}", self.file.display(), self.kind(), self.name())
    }
}

/// Parses every document of every file.
pub fn load_objects(files: &[PathBuf]) -> Result<Vec<Object>, String> {
    let mut out = Vec::new();
    for file in files {
        let text = fs::read_to_string(file)
            .map_err(|e| format!("{}: cannot read: {e}", file.display()))?;
        for doc in serde_yaml_ng::Deserializer::from_str(&text) {
            let value = <Value as serde::Deserialize>::deserialize(doc)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            if !value.is_null() {
                out.push(Object {
                    file: file.clone(),
                    value,
                });
            }
        }
    }
    Ok(out)
}

fn seq(v: &Value) -> &[Value] {
    v.as_sequence().map(Vec::as_slice).unwrap_or(&[])
}

fn str_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// Checks references between Kubernetes objects; returns one message per problem.
///
/// - probe ports and Service `targetPort`s exist in the selected containers;
/// - ConfigMaps and Secrets (volumes, `configMapKeyRef`, `secretKeyRef`, `envFrom`, `subPath`
///   keys) exist, with the key;
/// - HPA and PDB targets exist; images `rzero/<service>` match a Dockerfile target;
/// - no secret-looking env var is set inline.
pub fn check_k8s_references(objects: &[Object], services: &BTreeSet<String>) -> Vec<String> {
    let mut errors = Vec::new();
    let by_kind = |k: &'static str| objects.iter().filter(move |o| o.kind() == k);
    let configmaps: BTreeMap<&str, &Object> = by_kind("ConfigMap").map(|o| (o.name(), o)).collect();
    let secrets: BTreeMap<&str, &Object> = by_kind("Secret").map(|o| (o.name(), o)).collect();
    let has_key = |o: &Object, key: &str| {
        ["data", "stringData", "binaryData"]
            .iter()
            .any(|f| o.value[*f].get(key).is_some())
    };
    let deployments: Vec<&Object> = by_kind("Deployment").collect();

    for d in &deployments {
        let spec = &d.value["spec"]["template"]["spec"];
        let volumes: BTreeMap<String, &Value> = seq(&spec["volumes"])
            .iter()
            .map(|v| (str_of(&v["name"]), v))
            .collect();
        for v in volumes.values() {
            if let Some(cm) = v["configMap"]["name"].as_str()
                && !configmaps.contains_key(cm)
            {
                errors.push(format!(
                    "{}: volume uses ConfigMap `{cm}`, which no manifest defines",
                    d.at()
                ));
            }
            if let Some(s) = v["secret"]["secretName"].as_str()
                && !secrets.contains_key(s)
            {
                errors.push(format!(
                    "{}: volume uses Secret `{s}`, which no manifest defines",
                    d.at()
                ));
            }
        }
        for c in seq(&spec["containers"]) {
            let cname = str_of(&c["name"]);
            let ports: Vec<(String, String)> = seq(&c["ports"])
                .iter()
                .map(|p| (str_of(&p["name"]), str_of(&p["containerPort"])))
                .collect();
            let port_ok = |p: &Value| {
                let p = str_of(p);
                ports.iter().any(|(n, num)| *n == p || *num == p)
            };
            for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                let pr = &c[probe];
                for kind in ["grpc", "httpGet", "tcpSocket"] {
                    let port = &pr[kind]["port"];
                    if !port.is_null() && !port_ok(port) {
                        errors.push(format!(
                            "{}: container `{cname}` {probe}.{kind}.port `{}` is not one of its ports {ports:?}",
                            d.at(),
                            str_of(port)
                        ));
                    }
                }
            }
            if let Some(image) = c["image"].as_str()
                && let Some(rest) = image.strip_prefix("rzero/")
            {
                let svc = rest.split(':').next().unwrap_or(rest);
                if !services.contains(svc) {
                    errors.push(format!(
                        "{}: image `{image}` matches no Dockerfile target (SERVICE one of {services:?})",
                        d.at()
                    ));
                }
            }
            for e in seq(&c["env"]) {
                let name = str_of(&e["name"]);
                if let Some(r) = e["valueFrom"]["configMapKeyRef"].as_mapping() {
                    let (n, k) = (
                        str_of(&r[&Value::from("name")]),
                        str_of(&r[&Value::from("key")]),
                    );
                    match configmaps.get(n.as_str()) {
                        Some(cm) if has_key(cm, &k) => {}
                        _ => errors.push(format!(
                            "{}: env `{name}` refers to ConfigMap `{n}` key `{k}`, which does not exist",
                            d.at()
                        )),
                    }
                }
                if let Some(r) = e["valueFrom"]["secretKeyRef"].as_mapping() {
                    let (n, k) = (
                        str_of(&r[&Value::from("name")]),
                        str_of(&r[&Value::from("key")]),
                    );
                    match secrets.get(n.as_str()) {
                        Some(s) if has_key(s, &k) => {}
                        _ => errors.push(format!(
                            "{}: env `{name}` refers to Secret `{n}` key `{k}`, which does not exist",
                            d.at()
                        )),
                    }
                }
                let upper = name.to_ascii_uppercase();
                let secretish = ["PASSWORD", "PASS", "SECRET", "TOKEN", "_DB", "DSN"]
                    .iter()
                    .any(|w| upper.ends_with(w) || upper.contains("PASSWORD"));
                if secretish && !e["value"].is_null() {
                    errors.push(format!(
                        "{}: env `{name}` is set inline; take it from a Secret (secretKeyRef)",
                        d.at()
                    ));
                }
            }
            for ef in seq(&c["envFrom"]) {
                if let Some(n) = ef["configMapRef"]["name"].as_str()
                    && !configmaps.contains_key(n)
                {
                    errors.push(format!(
                        "{}: envFrom ConfigMap `{n}` does not exist",
                        d.at()
                    ));
                }
                if let Some(n) = ef["secretRef"]["name"].as_str()
                    && !secrets.contains_key(n)
                {
                    errors.push(format!("{}: envFrom Secret `{n}` does not exist", d.at()));
                }
            }
            for m in seq(&c["volumeMounts"]) {
                let vname = str_of(&m["name"]);
                let Some(vol) = volumes.get(&vname) else {
                    errors.push(format!(
                        "{}: container `{cname}` mounts volume `{vname}`, which the pod does not declare",
                        d.at()
                    ));
                    continue;
                };
                if let (Some(sub), Some(cm)) =
                    (m["subPath"].as_str(), vol["configMap"]["name"].as_str())
                    && let Some(cm) = configmaps.get(cm)
                    && !has_key(cm, sub)
                {
                    errors.push(format!(
                        "{}: mount subPath `{sub}` is not a key of ConfigMap `{}`",
                        d.at(),
                        cm.name()
                    ));
                }
            }
        }
    }

    // Services: the selector matches a Deployment; every targetPort exists in it.
    let labels_match = |selector: &Value, d: &Object| {
        selector.as_mapping().is_some_and(|sel| {
            !sel.is_empty()
                && sel.iter().all(|(k, v)| {
                    d.value["spec"]["template"]["metadata"]["labels"].get(k) == Some(v)
                })
        })
    };
    for s in by_kind("Service") {
        let selector = &s.value["spec"]["selector"];
        let targets: Vec<&&Object> = deployments
            .iter()
            .filter(|d| labels_match(selector, d))
            .collect();
        if targets.is_empty() {
            errors.push(format!(
                "{}: selector {selector:?} matches no Deployment's pods",
                s.at()
            ));
            continue;
        }
        for p in seq(&s.value["spec"]["ports"]) {
            let tp = if p["targetPort"].is_null() {
                &p["port"]
            } else {
                &p["targetPort"]
            };
            let tp = str_of(tp);
            for d in &targets {
                let found = seq(&d.value["spec"]["template"]["spec"]["containers"])
                    .iter()
                    .flat_map(|c| seq(&c["ports"]))
                    .any(|cp| str_of(&cp["name"]) == tp || str_of(&cp["containerPort"]) == tp);
                if !found {
                    errors.push(format!(
                        "{}: port `{}` targets `{tp}`, which no container of Deployment `{}` has",
                        s.at(),
                        str_of(&p["name"]),
                        d.name()
                    ));
                }
            }
        }
    }
    for h in by_kind("HorizontalPodAutoscaler") {
        let t = &h.value["spec"]["scaleTargetRef"];
        let name = str_of(&t["name"]);
        if str_of(&t["kind"]) != "Deployment" || !deployments.iter().any(|d| d.name() == name) {
            errors.push(format!(
                "{}: scaleTargetRef `{name}` is not a Deployment defined here",
                h.at()
            ));
        }
    }
    for p in by_kind("PodDisruptionBudget") {
        let sel = &p.value["spec"]["selector"]["matchLabels"];
        if !deployments.iter().any(|d| labels_match(sel, d)) {
            errors.push(format!("{}: selector matches no Deployment's pods", p.at()));
        }
    }
    errors
}

/// Env var names used as `${VAR...}` in a config text.
pub fn config_env_vars(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        rest = &rest[i + 2..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end > 0 {
            out.insert(rest[..end].to_owned());
        }
        rest = &rest[end..];
    }
    out
}

/// `OTEL_*` names quoted in a Rust source file.
pub fn quoted_otel_vars(text: &str) -> BTreeSet<String> {
    text.split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with("OTEL_") && s.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .map(str::to_owned)
        .collect()
}

/// Checks the collector config's structure: OTLP in on 4317/4318; every pipeline names
/// defined components; traces go out over OTLP, metrics to Prometheus, logs to debug.
pub fn check_collector_config(file: &str, cfg: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let mut err = |m: String| errors.push(format!("{file}: {m}"));
    let otlp = &cfg["receivers"]["otlp"]["protocols"];
    for (proto, port) in [("grpc", ":4317"), ("http", ":4318")] {
        let ep = otlp[proto]["endpoint"].as_str().unwrap_or("");
        if !ep.ends_with(port) {
            err(format!(
                "receivers.otlp.protocols.{proto}.endpoint is `{ep}`, expected *{port}"
            ));
        }
    }
    let defined = |section: &str, name: &str| cfg[section].get(name).is_some();
    let pipelines = cfg["service"]["pipelines"].as_mapping();
    let Some(pipelines) = pipelines else {
        err("service.pipelines is missing".into());
        return errors;
    };
    for (pname, p) in pipelines {
        let pname = str_of(pname);
        for (field, section) in [
            ("receivers", "receivers"),
            ("processors", "processors"),
            ("exporters", "exporters"),
        ] {
            if field != "processors" && seq(&p[field]).is_empty() {
                err(format!("service.pipelines.{pname}.{field} is empty"));
            }
            for c in seq(&p[field]) {
                let c = str_of(c);
                if !defined(section, &c) {
                    err(format!(
                        "service.pipelines.{pname}.{field} names `{c}`, which `{section}` does not define"
                    ));
                }
            }
        }
    }
    for e in seq(&cfg["service"]["extensions"]) {
        if !defined("extensions", &str_of(e)) {
            err(format!(
                "service.extensions names `{}`, which `extensions` does not define",
                str_of(e)
            ));
        }
    }
    let exporters_of = |p: &str| -> Vec<String> {
        seq(&cfg["service"]["pipelines"][p]["exporters"])
            .iter()
            .map(str_of)
            .collect()
    };
    let want = [
        ("traces", "otlp"),
        ("metrics", "prometheus"),
        ("logs", "debug"),
    ];
    for (p, kind) in want {
        let ex = exporters_of(p);
        if !ex
            .iter()
            .any(|e| e == kind || e.starts_with(&format!("{kind}/")))
        {
            err(format!(
                "service.pipelines.{p}.exporters {ex:?} has no `{kind}` exporter"
            ));
        }
    }
    errors
}

/// Checks the compose file's own references: `depends_on` targets exist (and have a
/// healthcheck when `service_healthy` is asked), bind-mounted files exist, built images
/// are Dockerfile targets.
pub fn check_compose(file: &Path, doc: &Value, services: &BTreeSet<String>) -> Vec<String> {
    let mut errors = Vec::new();
    let base = file.parent().unwrap_or(Path::new("."));
    let f = file.display();
    let Some(svcs) = doc["services"].as_mapping() else {
        return vec![format!("{f}: services is missing")];
    };
    for (name, s) in svcs {
        let name = str_of(name);
        if let Some(deps) = s["depends_on"].as_mapping() {
            for (dep, cond) in deps {
                let dep = str_of(dep);
                match svcs.get(dep.as_str()) {
                    None => errors.push(format!(
                        "{f}: services.{name}.depends_on names unknown service `{dep}`"
                    )),
                    Some(d) => {
                        if cond["condition"].as_str() == Some("service_healthy")
                            && d["healthcheck"].is_null()
                        {
                            errors.push(format!(
                                "{f}: services.{name}.depends_on.{dep} waits for service_healthy, but `{dep}` has no healthcheck"
                            ));
                        }
                    }
                }
            }
        }
        for v in seq(&s["volumes"]) {
            let src = str_of(v).split(':').next().unwrap_or("").to_owned();
            if (src.starts_with("./") || src.starts_with("../")) && !base.join(&src).exists() {
                errors.push(format!(
                    "{f}: services.{name}.volumes mounts `{src}`, which does not exist"
                ));
            }
        }
        if !s["build"].is_null() {
            let df = str_of(&s["build"]["dockerfile"]);
            let ctx = base.join(str_of(&s["build"]["context"]));
            if !ctx.join(&df).is_file() {
                errors.push(format!(
                    "{f}: services.{name}.build.dockerfile `{df}` does not exist"
                ));
            }
            let arg = str_of(&s["build"]["args"]["SERVICE"]);
            if !services.contains(&arg) {
                errors.push(format!(
                    "{f}: services.{name}.build.args.SERVICE `{arg}` is not a Dockerfile target {services:?}"
                ));
            }
            let image = str_of(&s["image"]);
            if image
                .strip_prefix("rzero/")
                .and_then(|r| r.split(':').next())
                != Some(arg.as_str())
            {
                errors.push(format!(
                    "{f}: services.{name}.image `{image}` does not match its build SERVICE `{arg}`"
                ));
            }
        }
    }
    errors
}
