//! Render blueprint (`render.yaml`): one service per long-running ephitup service, all from
//! the same image. A service whose readiness probe names a port (http, tcp) is a private
//! service (`pserv`), any other a `worker`. Render has no start ordering: a one-shot that others wait for
//! (`completed`) becomes their `preDeployCommand` (it must be safe to run more than once, as
//! ephitup's one-shots are meant to be); `healthy`/`started` waits are left to the services'
//! own retries. Every service gets a disk at `data_dir`. A secret is `sync: false` (Render asks
//! for its value when the blueprint is applied), or `generateValue: true` for a password or
//! secret of our own that only one place uses (a random value is then as good as any).

use serde_json::{Map, Value, json};

use super::environment;
use super::secrets::{Secrets, generated};
use crate::config::{Check, Condition, Config, ServiceKind};

pub fn document(config: &Config, image: &str, secrets: &Secrets, notes: &mut Vec<String>) -> Value {
    let data_dir = config.settings.data_dir.display().to_string();
    let mut services = Vec::new();
    for spec in config.services.iter().filter(|s| s.kind == ServiceKind::Daemon) {
        let mut s = Map::new();
        // A private service is reached on a port; the readiness probe says which.
        let listens = spec.health.as_ref().is_some_and(|p| matches!(p.check, Check::Http(_) | Check::Tcp(_)));
        let kind = if listens { "pserv" } else { "worker" };
        s.insert("type".into(), json!(kind));
        s.insert("name".into(), json!(spec.name));
        s.insert("runtime".into(), json!("image"));
        s.insert("image".into(), json!({ "url": image }));
        s.insert(
            "dockerCommand".into(),
            json!(shlex::try_join(spec.command.iter().map(String::as_str)).unwrap_or_default()),
        );
        let env: Vec<Value> = environment(config, spec)
            .into_iter()
            .map(|(k, v)| match secrets.reference(&spec.name, &k) {
                Some(name) if secrets.uses(name) == 1 && generated(name) => {
                    json!({ "key": k, "generateValue": true })
                }
                Some(_) => json!({ "key": k, "sync": false }),
                None => json!({ "key": k, "value": v }),
            })
            .collect();
        s.insert("envVars".into(), Value::Array(env));
        if spec.replicas > 1 {
            s.insert("numInstances".into(), json!(spec.replicas));
        }
        let pre: Vec<String> = spec
            .depends_on
            .iter()
            .filter(|d| d.condition == Condition::Completed)
            .filter_map(|d| config.service(&d.service))
            .map(|o| shlex::try_join(o.command.iter().map(String::as_str)).unwrap_or_default())
            .collect();
        if !pre.is_empty() {
            s.insert("preDeployCommand".into(), json!(pre.join(" && ")));
        }
        let waits: Vec<&str> = spec
            .depends_on
            .iter()
            .filter(|d| d.condition != Condition::Completed)
            .map(|d| d.service.as_str())
            .collect();
        if !waits.is_empty() {
            notes.push(format!(
                "{}: Render does not order starts; it must retry until {} answer",
                spec.name,
                waits.join(", ")
            ));
        }
        s.insert("disk".into(), json!({ "name": format!("{}-data", spec.name), "mountPath": data_dir, "sizeGB": 1 }));
        services.push(Value::Object(s));
    }
    let names = secrets.names();
    if !names.is_empty() {
        notes.push(format!(
            "Render asks for the secrets when the blueprint is applied (give each the same value everywhere): {}",
            names.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    json!({ "services": services })
}
