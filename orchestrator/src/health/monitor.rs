//! The probe loop. Counting follows the usual container conventions: failures during
//! `start_period` are not counted; `retries` consecutive failures make the probe fail; one
//! success makes it pass. Only transitions are reported, so the supervisor hears about a
//! probe when its verdict changes, not at every interval.

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::check::{ProbeContext, run_check};
use crate::config::Probe;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeEvent {
    Passing,
    /// Failed `retries` times in a row; the last reason.
    Failing(String),
}

/// Runs until the receiver is dropped (the supervised run ended).
pub async fn monitor(probe: Probe, ctx: ProbeContext, events: mpsc::Sender<ProbeEvent>) {
    let started = Instant::now();
    let mut failures = 0u32;
    let mut passing: Option<bool> = None;
    loop {
        let outcome = run_check(&probe.check, probe.timeout, &ctx).await;
        let verdict = match outcome {
            Ok(()) => {
                failures = 0;
                Some(ProbeEvent::Passing)
            }
            Err(reason) => {
                if let Some(counters) = &ctx.failures {
                    counters.probe_failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                if started.elapsed() >= probe.start_period {
                    failures = failures.saturating_add(1);
                }
                (failures >= probe.retries).then_some(ProbeEvent::Failing(reason))
            }
        };
        if let Some(event) = verdict {
            let now_passing = event == ProbeEvent::Passing;
            if passing != Some(now_passing) {
                passing = Some(now_passing);
                if events.send(event).await.is_err() {
                    return;
                }
            }
        }
        if events.is_closed() {
            return;
        }
        tokio::time::sleep(probe.interval).await;
    }
}
