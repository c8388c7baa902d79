//! `ephitup export`: the same declaration as a multi-service deployment for an existing
//! engine, one container per service. Built as JSON values and written as YAML by
//! `serde_yaml_ng` (no YAML is assembled by hand).
//!
//! Mappings shared by the formats:
//! - the command is the container's entrypoint (argv as it is, no shell), `env` its
//!   environment, plus `EPHITUP_SERVICE` and `EPHITUP_DATA_DIR` as `ephitup up` gives them;
//! - `data_dir` is a volume mounted at the same path (export with e.g. `DATA_PATH=/mydata` so
//!   paths in commands point inside the container);
//! - readiness (`health`) and `liveness` probes become the engine's checks; an `http` or
//!   `tcp` check that the engine cannot express runs as `ephitup probe` inside the container
//!   (so the image needs no curl); `log` probes have no equivalent and are left out (noted on
//!   stderr);
//! - dependencies become start conditions ([`compose`]), init containers ([`kubernetes`]) or
//!   pre-deploy commands ([`render`]); each format's module says how;
//! - secrets ([`secrets`] says which) are written as references, never as values: a
//!   Kubernetes `Secret` and `secretKeyRef`, compose `${NAME}` (from the shell or `.env`),
//!   Render `sync: false` or `generateValue`.

mod compose;
mod kubernetes;
mod render;
mod secrets;

use serde_json::Value;

use crate::cli::ExportFormat;
use crate::config::{Check, Config, Probe, ServiceSpec};
use secrets::Secrets;

/// The document for `format`, and notes on what could not be carried over.
pub fn render(config: &Config, format: ExportFormat, image: &str) -> anyhow::Result<String> {
    let mut notes = Vec::new();
    let secrets = Secrets::of(config)?;
    let docs = match format {
        ExportFormat::Compose => vec![compose::document(config, image, &secrets, &mut notes)],
        ExportFormat::Kubernetes => kubernetes::documents(config, image, &secrets, &mut notes),
        ExportFormat::Render => vec![render::document(config, image, &secrets, &mut notes)],
    };
    for n in &notes {
        eprintln!("note: {n}");
    }
    let mut out = String::new();
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&serde_yaml_ng::to_string(doc)?);
    }
    Ok(out)
}

/// The service's environment as `ephitup up` gives it (without the per-replica variable).
fn environment(config: &Config, spec: &ServiceSpec) -> Vec<(String, String)> {
    let mut env = spec.env.clone();
    env.push(("EPHITUP_SERVICE".into(), spec.name.clone()));
    env.push(("EPHITUP_DATA_DIR".into(), config.settings.data_dir.display().to_string()));
    env
}

/// A probe as a command run inside the container, when it can be one.
fn probe_argv(check: &Check) -> Option<Vec<String>> {
    match check {
        Check::Http(uri) => Some(vec!["ephitup".into(), "probe".into(), "--http".into(), uri.to_string()]),
        Check::Tcp(addr) => Some(vec!["ephitup".into(), "probe".into(), "--tcp".into(), addr.clone()]),
        Check::Exec(argv) => Some(argv.clone()),
        Check::Log(_) => None,
    }
}

/// Whole seconds, at least `min` (engines that count probe timing in seconds).
fn secs(d: std::time::Duration, min: u64) -> u64 {
    d.as_secs_f64().ceil().max(min as f64) as u64
}

/// A Go-style duration (`250ms`, `2s`), as compose reads them.
fn go_duration(d: std::time::Duration) -> String {
    if d.subsec_millis() == 0 { format!("{}s", d.as_secs()) } else { format!("{}ms", d.as_millis()) }
}

fn note_log_probe(spec: &ServiceSpec, what: &str, probe: &Probe, notes: &mut Vec<String>) {
    if matches!(probe.check, Check::Log(_)) {
        notes.push(format!("{}: the {what} log probe has no equivalent and is left out", spec.name));
    }
}

fn strings(items: &[String]) -> Value {
    Value::Array(items.iter().cloned().map(Value::String).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let text = r#"
[settings]
data_dir = "/mydata"
[env]
SHARED = "1"
[services.db]
command = ["db", "start"]
stop_signal = "SIGINT"
stop_timeout = "20s"
health = { http = "http://127.0.0.1:8000/ready", interval = "250ms" }
[services.migrate]
kind = "oneshot"
command = ["api", "migrate"]
depends_on = { db = "healthy" }
[services.api]
command = "api serve"
depends_on = { migrate = "completed" }
health = { tcp = "127.0.0.1:5055" }
liveness = { http = "http://127.0.0.1:5055/api/health" }
replicas = 2
[services.worker]
command = "worker"
depends_on = ["api"]
health = { log = "ready" }
"#;
        match crate::config::parse(std::path::Path::new("/app/ephitup.toml"), text, &|_| None) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    fn yaml(format: ExportFormat) -> Vec<serde_yaml_ng::Value> {
        let text = render(&config(), format, "img:1").unwrap_or_default();
        text.split("\n---\n").map(|d| serde_yaml_ng::from_str(d).unwrap_or(serde_yaml_ng::Value::Null)).collect()
    }

    #[test]
    fn compose_maps_conditions_probes_and_volume() {
        let doc = &yaml(ExportFormat::Compose)[0];
        let s = &doc["services"];
        assert_eq!(s["migrate"]["depends_on"]["db"]["condition"], "service_healthy");
        assert_eq!(s["api"]["depends_on"]["migrate"]["condition"], "service_completed_successfully");
        assert_eq!(s["worker"]["depends_on"]["api"]["condition"], "service_started");
        assert_eq!(s["db"]["healthcheck"]["interval"], "250ms");
        assert_eq!(s["db"]["stop_signal"], "SIGINT");
        assert_eq!(s["migrate"]["restart"], "no");
        assert_eq!(s["api"]["deploy"]["replicas"], 2);
        assert_eq!(s["db"]["volumes"][0], "ephitup-data:/mydata");
        assert_eq!(s["db"]["entrypoint"][0], "db");
        assert!(s["worker"]["healthcheck"].is_null());
    }

    #[test]
    fn kubernetes_has_workloads_init_containers_and_probes() {
        let docs = yaml(ExportFormat::Kubernetes);
        let kind_of = |name: &str| {
            docs.iter().find(|d| d["metadata"]["name"] == name && d["kind"] != "Service").map(|d| d["kind"].clone())
        };
        assert_eq!(kind_of("db"), Some("Deployment".into()));
        assert_eq!(kind_of("migrate"), Some("Job".into()));
        let api = docs.iter().find(|d| d["metadata"]["name"] == "api" && d["kind"] == "Deployment").unwrap();
        let pod = &api["spec"]["template"]["spec"];
        assert_eq!(api["spec"]["replicas"], 2);
        assert_eq!(pod["initContainers"][0]["name"], "run-migrate");
        assert_eq!(pod["containers"][0]["readinessProbe"]["tcpSocket"]["port"], 5055);
        assert_eq!(pod["containers"][0]["livenessProbe"]["httpGet"]["path"], "/api/health");
        let migrate = docs.iter().find(|d| d["metadata"]["name"] == "migrate").unwrap();
        let init = &migrate["spec"]["template"]["spec"]["initContainers"][0];
        assert_eq!(init["name"], "wait-for-db");
        assert!(docs.iter().any(|d| d["kind"] == "Service" && d["metadata"]["name"] == "db"));
        assert!(docs.iter().any(|d| d["kind"] == "PersistentVolumeClaim"));
    }

    #[test]
    fn secrets_are_references_in_every_format() {
        let text = r#"
[env]
DB_PASSWORD = "hunter2-is-long-enough"
[export]
secret = { PUBLIC_KEY_ID = false, OPAQUE = true }
[services.db]
command = ["db"]
env = { DB_PASS = "hunter2-is-long-enough", PUBLIC_KEY_ID = "k-1", OPAQUE = "short", PRICE = "$5" }
[services.api]
command = ["api"]
env = { API_TOKEN = "t0k3n-0123456789", ADMIN_PASSWORD = "admin-pass-123456" }
"#;
        let config = match crate::config::parse(std::path::Path::new("/app/ephitup.toml"), text, &|_| None) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        for format in [ExportFormat::Compose, ExportFormat::Kubernetes, ExportFormat::Render] {
            let out = render(&config, format, "img:1").unwrap_or_default();
            for secret in ["hunter2-is-long-enough", "t0k3n-0123456789", "short", "admin-pass-123456"] {
                assert!(!out.contains(secret), "{format:?} wrote a secret:\n{out}");
            }
            assert!(out.contains("k-1"), "marked not secret: written as it is\n{out}");
        }
        let compose = &yaml(ExportFormat::Compose)[0];
        assert!(compose["services"]["db"]["environment"].is_mapping());
        let doc = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(
            &render(&config, ExportFormat::Compose, "img:1").unwrap_or_default(),
        )
        .unwrap_or(serde_yaml_ng::Value::Null);
        let db = &doc["services"]["db"]["environment"];
        assert_eq!(
            db["DB_PASS"],
            "${DB_PASS:?DB_PASS is a secret and not in this file; set it in the environment or .env}"
        );
        assert_eq!(db["PRICE"], "$$5", "a literal dollar is escaped");
        let k8s = render(&config, ExportFormat::Kubernetes, "img:1").unwrap_or_default();
        assert!(k8s.contains("secretKeyRef") && k8s.contains("kind: Secret"), "{k8s}");
        let blueprint = render(&config, ExportFormat::Render, "img:1").unwrap_or_default();
        assert!(blueprint.contains("sync: false") && blueprint.contains("generateValue: true"), "{blueprint}");
    }

    #[test]
    fn a_secret_in_a_command_is_an_error() {
        let text =
            "[env]\nAPP_SECRET = \"s3cr3t-value-here\"\n[services.a]\ncommand = \"a --secret s3cr3t-value-here\"\n";
        let config = match crate::config::parse(std::path::Path::new("/app/ephitup.toml"), text, &|_| None) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let e = render(&config, ExportFormat::Compose, "img:1").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("secret"), "{e}");
    }

    #[test]
    fn render_blueprint_lists_services() {
        let doc = &yaml(ExportFormat::Render)[0];
        let services = doc["services"].as_sequence().unwrap();
        let names: Vec<&str> = services.iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["db", "api", "worker"]);
        let api = &services[1];
        assert_eq!(api["preDeployCommand"], "api migrate");
        assert_eq!(api["numInstances"], 2);
        assert_eq!(services[2]["type"], "worker");
        assert_eq!(services[0]["disk"]["mountPath"], "/mydata");
    }
}
