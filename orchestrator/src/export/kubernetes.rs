//! Kubernetes manifests: a Deployment per daemon (a Job per one-shot), a Service for each
//! service whose readiness probe names a port (so others reach it by name), and one
//! PersistentVolumeClaim for `data_dir`. Probes map to `readinessProbe`/`livenessProbe`
//! (`httpGet`, `tcpSocket`, `exec`; timings rounded up to seconds). Pods have no start order,
//! so dependencies become init containers: `healthy` waits with `ephitup probe --wait` on the
//! dependency's Service, `completed` runs the one-shot's own command first (one-shots are meant
//! to be safe to run twice), `started` has no equivalent (the dependent must retry).
//!
//! Addresses in commands and env stay as written (often 127.0.0.1): across pods they must
//! name the Services instead. Secrets come from one `Secret`, [`SECRET`], through
//! `secretKeyRef`; the manifest declares it without data (the keys it needs are in an
//! annotation), so applying the export never writes or overwrites a value: the operator
//! fills it with `kubectl create secret generic` (see the note printed on export).

use serde_json::{Map, Value, json};

use super::secrets::Secrets;
use super::{environment, note_log_probe, secs, strings};
use crate::config::{Check, Condition, Config, Probe, RestartPolicy, ServiceKind, ServiceSpec};

const VOLUME: &str = "data";
const CLAIM: &str = "ephitup-data";
/// The `Secret` every secret variable is read from.
pub const SECRET: &str = "ephitup-secrets";

pub fn documents(config: &Config, image: &str, secrets: &Secrets, notes: &mut Vec<String>) -> Vec<Value> {
    let mut docs = vec![json!({
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": { "name": CLAIM },
        "spec": { "accessModes": ["ReadWriteOnce"], "resources": { "requests": { "storage": "1Gi" } } }
    })];
    let names: Vec<&str> = secrets.names().into_iter().collect();
    if !names.is_empty() {
        docs.push(json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": { "name": SECRET, "annotations": { "ephitup.dev/keys": names.join(",") } },
            "type": "Opaque"
        }));
        let literals: Vec<String> = names.iter().map(|n| format!("--from-literal={n}=...")).collect();
        notes.push(format!("fill the secrets first: kubectl create secret generic {SECRET} {}", literals.join(" ")));
    }
    for spec in &config.services {
        docs.push(workload(config, spec, image, secrets, notes));
        if let Some(port) = spec.health.as_ref().and_then(|p| port_of(&p.check)) {
            docs.push(json!({
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": { "name": spec.name, "labels": { "app": spec.name } },
                "spec": { "selector": { "app": spec.name }, "ports": [{ "port": port, "targetPort": port }] }
            }));
        }
    }
    docs
}

fn container(
    config: &Config,
    secrets: &Secrets,
    spec: &ServiceSpec,
    name: &str,
    image: &str,
    command: &[String],
) -> Map<String, Value> {
    let env: Vec<Value> = environment(config, spec)
        .into_iter()
        .map(|(k, v)| match secrets.reference(&spec.name, &k) {
            Some(key) => json!({ "name": k, "valueFrom": { "secretKeyRef": { "name": SECRET, "key": key } } }),
            None => json!({ "name": k, "value": v }),
        })
        .collect();
    let mut c = Map::new();
    c.insert("name".into(), json!(name));
    c.insert("image".into(), json!(image));
    c.insert("command".into(), strings(command));
    c.insert("env".into(), Value::Array(env));
    c.insert(
        "volumeMounts".into(),
        json!([{ "name": VOLUME, "mountPath": config.settings.data_dir.display().to_string() }]),
    );
    c
}

fn workload(config: &Config, spec: &ServiceSpec, image: &str, secrets: &Secrets, notes: &mut Vec<String>) -> Value {
    let mut main = container(config, secrets, spec, &spec.name, image, &spec.command);
    for (key, what, probe) in
        [("readinessProbe", "readiness", &spec.health), ("livenessProbe", "liveness", &spec.liveness)]
    {
        if let Some(p) = probe {
            note_log_probe(spec, what, p, notes);
            if let Some(k8s) = probe_of(p) {
                main.insert(key.into(), k8s);
            }
        }
    }
    if spec.stop_signal != nix::sys::signal::Signal::SIGTERM {
        notes.push(format!("{}: Kubernetes stops containers with SIGTERM, not {}", spec.name, spec.stop_signal));
    }
    let mut init = Vec::new();
    for d in &spec.depends_on {
        let Some(dep) = config.service(&d.service) else { continue };
        match d.condition {
            Condition::Completed => {
                let name = format!("run-{}", dep.name);
                init.push(Value::Object(container(config, secrets, dep, &name, image, &dep.command)));
            }
            Condition::Healthy => match dep.health.as_ref().and_then(|p| wait_argv(&dep.name, &p.check)) {
                Some(argv) => {
                    let mut c = Map::new();
                    c.insert("name".into(), json!(format!("wait-for-{}", dep.name)));
                    c.insert("image".into(), json!(image));
                    c.insert("command".into(), strings(&argv));
                    init.push(Value::Object(c));
                }
                None => notes.push(format!(
                    "{}: waiting for {} to be healthy has no init step (its probe is not http or tcp)",
                    spec.name, dep.name
                )),
            },
            Condition::Started => {
                notes.push(format!("{}: `{} = \"started\"` has no Kubernetes equivalent", spec.name, dep.name))
            }
        }
    }
    let mut pod = Map::new();
    if !init.is_empty() {
        pod.insert("initContainers".into(), Value::Array(init));
    }
    pod.insert("containers".into(), json!([main]));
    pod.insert("volumes".into(), json!([{ "name": VOLUME, "persistentVolumeClaim": { "claimName": CLAIM } }]));
    pod.insert("terminationGracePeriodSeconds".into(), json!(secs(spec.stop_timeout, 1)));
    let labels = json!({ "app": spec.name });
    match spec.kind {
        ServiceKind::Daemon => json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": { "name": spec.name, "labels": labels },
            "spec": {
                "replicas": spec.replicas,
                "selector": { "matchLabels": labels },
                "template": { "metadata": { "labels": labels }, "spec": pod }
            }
        }),
        ServiceKind::Oneshot => {
            pod.insert(
                "restartPolicy".into(),
                json!(if spec.restart == RestartPolicy::Never { "Never" } else { "OnFailure" }),
            );
            json!({
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": { "name": spec.name, "labels": labels },
                "spec": {
                    "backoffLimit": spec.max_restarts,
                    "completions": spec.replicas,
                    "template": { "metadata": { "labels": labels }, "spec": pod }
                }
            })
        }
    }
}

fn port_of(check: &Check) -> Option<u16> {
    match check {
        Check::Http(uri) => uri.port_u16().or(Some(if uri.scheme_str() == Some("https") { 443 } else { 80 })),
        Check::Tcp(addr) => addr.rsplit_once(':').and_then(|(_, p)| p.parse().ok()),
        _ => None,
    }
}

fn probe_of(p: &Probe) -> Option<Value> {
    let mut probe = match &p.check {
        Check::Http(uri) => {
            let path = uri.path_and_query().map_or("/", |pq| pq.as_str());
            json!({ "httpGet": { "path": path, "port": port_of(&p.check)? } })
        }
        Check::Tcp(_) => json!({ "tcpSocket": { "port": port_of(&p.check)? } }),
        Check::Exec(argv) => json!({ "exec": { "command": argv } }),
        Check::Log(_) => return None,
    };
    if let Value::Object(m) = &mut probe {
        m.insert("periodSeconds".into(), json!(secs(p.interval, 1)));
        m.insert("timeoutSeconds".into(), json!(secs(p.timeout, 1)));
        m.insert("failureThreshold".into(), json!(p.retries.max(1)));
        m.insert("initialDelaySeconds".into(), json!(secs(p.start_period, 0)));
    }
    Some(probe)
}

/// `ephitup probe --wait` on the dependency's Service instead of its local address.
fn wait_argv(service: &str, check: &Check) -> Option<Vec<String>> {
    let port = port_of(check)?;
    let (flag, target) = match check {
        Check::Http(uri) => {
            let path = uri.path_and_query().map_or("/", |pq| pq.as_str());
            ("--http", format!("{}://{service}:{port}{path}", uri.scheme_str().unwrap_or("http")))
        }
        Check::Tcp(_) => ("--tcp", format!("{service}:{port}")),
        _ => return None,
    };
    Some(vec!["ephitup".into(), "probe".into(), "--wait".into(), flag.into(), target])
}
