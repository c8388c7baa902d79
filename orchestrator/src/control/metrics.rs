//! `GET /metrics`: the set in the Prometheus text format (OpenMetrics), per service and
//! instance (labels `service` and `instance`, the replica number): ready, up, restarts,
//! memory (RSS of the whole process group) and CPU time, failed probe runs, last exit code.
//!
//! Built fresh at each scrape from the board, the counters and the services' process trees
//! in `/proc` ([`crate::process::usage`]): nothing is kept between scrapes, and an idle `ephitup`
//! spends nothing on metrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::AtomicU64;

use crate::handle::Handle;
use crate::process::usage;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Labels {
    service: String,
    instance: String,
}

/// The content type of [`render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub fn render(handle: &Handle) -> Result<String, std::fmt::Error> {
    let board = handle.board.borrow().clone();
    let leaders: Vec<i32> = board.values().flatten().filter_map(|i| i.pid).collect();
    let groups = usage::of_groups(&leaders);

    let ready = Family::<Labels, Gauge>::default();
    let up = Family::<Labels, Gauge>::default();
    let restarts = Family::<Labels, Counter>::default();
    let memory = Family::<Labels, Gauge>::default();
    let cpu = Family::<Labels, Counter<f64, AtomicU64>>::default();
    let probe_failures = Family::<Labels, Counter>::default();
    let exit_code = Family::<Labels, Gauge>::default();

    for (service, instances) in &board {
        for (replica, i) in instances.iter().enumerate() {
            let labels = Labels { service: service.clone(), instance: replica.to_string() };
            ready.get_or_create(&labels).set(i64::from(i.ready));
            up.get_or_create(&labels).set(i64::from(i.pid.is_some()));
            restarts.get_or_create(&labels).inc_by(u64::from(i.restarts));
            let used = i.pid.and_then(|pid| groups.get(&pid)).copied().unwrap_or_default();
            memory.get_or_create(&labels).set(i64::try_from(used.rss_bytes).unwrap_or(i64::MAX));
            cpu.get_or_create(&labels).inc_by(used.cpu_seconds);
            let failures = handle.counters.of(service, replica as u32).probe_failures();
            probe_failures.get_or_create(&labels).inc_by(failures);
            if let Some(exit) = &i.exit {
                let code = match (exit.code, exit.signal.as_deref()) {
                    (Some(c), _) => i64::from(c),
                    (None, Some(sig)) => sig.parse::<nix::sys::signal::Signal>().map_or(-1, |s| 128 + s as i64),
                    (None, None) => -1,
                };
                exit_code.get_or_create(&labels).set(code);
            }
        }
    }

    let mut registry = Registry::with_prefix("ephitup_service");
    registry.register(
        "ready",
        "1 when the instance is ready (its readiness probe passes, or it has none and runs)",
        ready,
    );
    registry.register("up", "1 when the instance has a process", up);
    registry.register("restarts", "Restarts of the instance since ephitup started", restarts);
    registry.register_with_unit("memory", "Resident memory of the instance's whole process group", Unit::Bytes, memory);
    registry.register_with_unit(
        "cpu",
        "CPU time (user and system) of the instance's current process group",
        Unit::Seconds,
        cpu,
    );
    registry.register("probe_failures", "Failed probe runs (readiness and liveness) of the instance", probe_failures);
    registry.register(
        "last_exit_code",
        "Exit code of the instance's last process (128 + signal number when killed; -1 when it could not start)",
        exit_code,
    );
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry)?;
    Ok(text)
}
