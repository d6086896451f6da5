//! The manifests of `rzeroctl kube deploy`: `deploy/k8s/1x-*.yaml` for one service.
//!
//! goctl's `deployment.tpl` gives the shape and the flags (Deployment, Service, HPA);
//! `deploy/k8s` gives what an rzero service needs on top: gRPC or HTTP probes, the
//! metrics port with Prometheus annotations, `OTEL_*` env, a non-root, read-only pod,
//! one autoscaling/v2 HPA on CPU and memory with the guide's scaling behaviour (goctl
//! still writes a removed `v2beta2` one), and a PDB.
//!
//! The YAML is a template (`templates/deploy/kube.yaml.tpl`), like goctl's
//! `deployment.tpl`, rather than a serializer's output: it reads as the hand-written
//! manifests do (comments included). Every value was checked by `validate.rs`, and every
//! string goes through the `yaml_str` filter, which double-quotes what is not plainly
//! safe, so no value can change the document's structure.

use super::docker::APP_UID;
use super::validate::{self, Invalid};
use super::{Kind, KubeArgs};

/// Checked `rzeroctl kube deploy` options.
#[derive(Debug)]
pub(super) struct Spec<'a> {
    args: &'a KubeArgs,
    target_port: u16,
    headless: bool,
    request_cpu: u64,
    limit_cpu: u64,
    request_mem: String,
    limit_mem: String,
    otlp_endpoint: String,
}

// === impl Spec ===

impl<'a> Spec<'a> {
    /// Checks every option; the first failure names its flag.
    pub(super) fn new(a: &'a KubeArgs) -> Result<Self, Invalid> {
        validate::dns1035_label("name", &a.name)?;
        validate::dns1123_label("namespace", &a.namespace)?;
        validate::image("image", &a.image)?;
        if let Some(sa) = &a.pod.service_account {
            validate::dns1123_subdomain("serviceAccount", sa)?;
        }
        if let Some(secret) = &a.pod.secret {
            validate::dns1123_subdomain("secret", secret)?;
        }
        if let Some(cm) = &a.pod.config_map {
            validate::dns1123_subdomain("config-map", cm)?;
        }
        validate::attribute_value("environment", &a.pod.environment)?;
        let otlp_endpoint = a
            .pod
            .otlp_endpoint
            .clone()
            .unwrap_or_else(|| format!("http://otel-collector.{}:4317", a.namespace));
        validate::endpoint("otlp-endpoint", &otlp_endpoint)?;

        let target_port = a.target_port.unwrap_or(a.port);
        if a.metrics_port == target_port {
            return Err(format!(
                "--metrics-port {} is the container's service port too (--targetPort/--port); give them different ports",
                a.metrics_port
            ));
        }
        if a.metrics_port == a.port {
            return Err(format!(
                "--metrics-port {} is the Service's --port too; give them different ports",
                a.metrics_port
            ));
        }
        let headless = a
            .headless
            .unwrap_or(a.kind == Kind::Rpc && a.node_port.is_none());
        if headless && a.node_port.is_some() {
            return Err(
                "--nodePort and --headless exclude each other: a headless Service has no \
                        cluster IP to expose on the nodes"
                    .into(),
            );
        }
        if a.min_replicas > a.max_replicas {
            return Err(format!(
                "--minReplicas {} is above --maxReplicas {}",
                a.min_replicas, a.max_replicas
            ));
        }

        let request_cpu = validate::cpu_millis("requestCpu", &a.pod.request_cpu)?;
        let limit_cpu = validate::cpu_millis("limitCpu", &a.pod.limit_cpu)?;
        let (req_mem_bytes, request_mem) = validate::memory("requestMem", &a.pod.request_mem)?;
        let (lim_mem_bytes, limit_mem) = validate::memory("limitMem", &a.pod.limit_mem)?;
        if request_cpu > limit_cpu {
            return Err(format!(
                "--requestCpu {} is above --limitCpu {}; Kubernetes rejects requests above limits",
                a.pod.request_cpu, a.pod.limit_cpu
            ));
        }
        if req_mem_bytes > lim_mem_bytes {
            return Err(format!(
                "--requestMem {} is above --limitMem {}; Kubernetes rejects requests above limits",
                a.pod.request_mem, a.pod.limit_mem
            ));
        }
        Ok(Spec {
            args: a,
            target_port,
            headless,
            request_cpu,
            limit_cpu,
            request_mem,
            limit_mem,
            otlp_endpoint,
        })
    }
}

/// The manifests' text: Deployment, Service, HPA, PDB, separated by `---`.
pub(super) fn render(s: &Spec<'_>) -> Result<String, String> {
    crate::render::render("deploy/kube.yaml.tpl", context(s))
}

/// What `kube.yaml.tpl` reads.
fn context(s: &Spec<'_>) -> serde_json::Value {
    let a = s.args;
    let (kind, port_name) = match a.kind {
        // The service port's name: it also picks the Service's `appProtocol`.
        Kind::Rest => ("rest", "http"),
        Kind::Rpc => ("rpc", "grpc"),
    };
    let attributes = format!(
        "service.namespace={ns},deployment.environment={env},k8s.namespace.name={ns},k8s.pod.name=$(POD_NAME)",
        ns = a.namespace,
        env = a.pod.environment
    );
    serde_json::json!({
            "app": a.name,
            "namespace": a.namespace,
            "kind": kind,
            "port_name": port_name,
            "image": a.image,
            "image_pull_policy": a.pod.image_pull_policy,
            "service_account": a.pod.service_account,
            "secret": a.pod.secret,
            "config_map": a.pod.config_map,
            "replicas": a.replicas,
            "revisions": a.revisions,
            "min_replicas": a.min_replicas,
            "max_replicas": a.max_replicas,
            "port": a.port,
            "target_port": s.target_port,
            "node_port": a.node_port,
            "metrics_port": a.metrics_port,
            "headless": s.headless,
            "uid": APP_UID,
            "otlp_endpoint": s.otlp_endpoint,
            "otlp_protocol": a.pod.otlp_protocol,
            "attributes": attributes,
            "request_cpu": s.request_cpu,
            "limit_cpu": s.limit_cpu,
            "request_mem": s.request_mem,
            "limit_mem": s.limit_mem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::KubeArgs;

    /// The checks in `validate.rs` keep such values out; the template must not depend on
    /// them: every string a flag sets, hostile, still gives four documents holding it.
    #[test]
    fn hostile_strings_cannot_change_the_documents_structure() {
        let args = KubeArgs::from_flags([
            "--name",
            "a",
            "--namespace",
            "ns",
            "--image",
            "x",
            "--port",
            "80",
            "--serviceAccount",
            "sa",
            "--secret",
            "s",
            "--config-map",
            "cm",
        ])
        .expect("flags");
        let spec = Spec::new(&args).expect("valid");
        let hostile = "x\n---\nkind: Secret\n# */ \"q\" 'q' : - [ { & * ! | > % @ ` \u{2028}\u{0}";
        let mut ctx = context(&spec);
        for key in [
            "app",
            "namespace",
            "image",
            "service_account",
            "secret",
            "config_map",
            "otlp_endpoint",
            "otlp_protocol",
            "attributes",
            "request_mem",
            "limit_mem",
            "image_pull_policy",
        ] {
            ctx[key] = hostile.into();
        }
        let text = crate::render::render("deploy/kube.yaml.tpl", &ctx).expect("renders");
        let docs: Vec<serde_yaml_ng::Value> = serde_yaml_ng::Deserializer::from_str(&text)
            .map(|d| serde::Deserialize::deserialize(d).expect("each document parses"))
            .collect();
        assert_eq!(docs.len(), 4, "{text}");
        let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
        assert_eq!(
            kinds,
            [
                "Deployment",
                "Service",
                "HorizontalPodAutoscaler",
                "PodDisruptionBudget"
            ]
        );
        assert_eq!(docs[0]["metadata"]["name"].as_str(), Some(hostile));
        assert_eq!(docs[0]["metadata"]["namespace"].as_str(), Some(hostile));
        let c = &docs[0]["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["image"].as_str(), Some(hostile));
        assert_eq!(c["imagePullPolicy"].as_str(), Some(hostile));
        assert_eq!(docs[1]["spec"]["selector"]["app"].as_str(), Some(hostile));
    }
}
