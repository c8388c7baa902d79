//! Docker compose: one service per ephitup service. `depends_on` conditions map one to one
//! (`started` → `service_started`, `healthy` → `service_healthy`, `completed` →
//! `service_completed_successfully`); the readiness probe (or else the liveness probe) is
//! the healthcheck; `restart` maps to `always`, `on-failure`, `no`; replicas to
//! `deploy.replicas`; `data_dir` to the named volume `ephitup-data`. A secret is
//! `${NAME:?...}`, which compose takes from the shell or the `.env` file beside the compose
//! file (and refuses to start without); a `$` in any other value is written `$$`.

use serde_json::{Map, Value, json};

use super::secrets::Secrets;
use super::{environment, go_duration, note_log_probe, probe_argv, strings};
use crate::config::{Condition, Config, RestartPolicy};

pub fn document(config: &Config, image: &str, secrets: &Secrets, notes: &mut Vec<String>) -> Value {
    let data_dir = config.settings.data_dir.display().to_string();
    let mut services = Map::new();
    for spec in &config.services {
        let mut s = Map::new();
        s.insert("image".into(), json!(image));
        s.insert("entrypoint".into(), strings(&spec.command));
        let env: Map<String, Value> = environment(config, spec)
            .into_iter()
            .map(|(k, v)| {
                let value = match secrets.reference(&spec.name, &k) {
                    Some(name) => {
                        format!(
                            "${{{name}:?{name} is a secret and not in this file; set it in the environment or .env}}"
                        )
                    }
                    None => v.replace('$', "$$"),
                };
                (k, json!(value))
            })
            .collect();
        s.insert("environment".into(), Value::Object(env));
        s.insert("volumes".into(), json!([format!("ephitup-data:{data_dir}")]));
        s.insert(
            "restart".into(),
            json!(match spec.restart {
                RestartPolicy::Always => "always",
                RestartPolicy::OnFailure => "on-failure",
                RestartPolicy::Never => "no",
            }),
        );
        s.insert("stop_signal".into(), json!(spec.stop_signal.as_str()));
        s.insert("stop_grace_period".into(), json!(go_duration(spec.stop_timeout)));
        if spec.replicas > 1 {
            s.insert("deploy".into(), json!({ "replicas": spec.replicas }));
        }
        if let Some(user) = &spec.user {
            s.insert("user".into(), json!(user.name));
        }
        for (what, probe) in [("readiness", &spec.health), ("liveness", &spec.liveness)] {
            if let Some(p) = probe {
                note_log_probe(spec, what, p, notes);
            }
        }
        let probe =
            [&spec.health, &spec.liveness].into_iter().flatten().find_map(|p| probe_argv(&p.check).map(|a| (p, a)));
        if let Some((p, argv)) = probe {
            let mut test = vec!["CMD".to_string()];
            test.extend(argv);
            s.insert(
                "healthcheck".into(),
                json!({
                    "test": test,
                    "interval": go_duration(p.interval),
                    "timeout": go_duration(p.timeout),
                    "retries": p.retries,
                    "start_period": go_duration(p.start_period),
                }),
            );
        }
        if !spec.depends_on.is_empty() {
            let deps: Map<String, Value> = spec
                .depends_on
                .iter()
                .map(|d| {
                    let condition = match d.condition {
                        Condition::Started => "service_started",
                        Condition::Healthy => "service_healthy",
                        Condition::Completed => "service_completed_successfully",
                    };
                    (d.service.clone(), json!({ "condition": condition }))
                })
                .collect();
            s.insert("depends_on".into(), Value::Object(deps));
        }
        if spec.critical {
            notes.push(format!("{}: `critical` has no compose equivalent (the others keep running)", spec.name));
        }
        services.insert(spec.name.clone(), Value::Object(s));
    }
    let names = secrets.names();
    if !names.is_empty() {
        notes.push(format!(
            "secrets are read from the environment or .env when compose starts: {}",
            names.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    json!({ "services": services, "volumes": { "ephitup-data": {} } })
}
