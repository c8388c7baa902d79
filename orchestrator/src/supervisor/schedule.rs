//! Scheduled one-shots (`schedule = { every = "24h" }` or `{ cron = "0 3 * * *" }`): the
//! instance waits for its next run time (shown by `status`), then runs as any one-shot does
//! (its dependencies waited for, restarted by its policy), and waits again. Runs never
//! overlap: one instance task runs them one after another, and a run time that passes while
//! the previous run still goes is skipped, and said so.

use std::time::Duration;

use super::instance::Instance;
use crate::board::State;
use crate::config::Schedule;
use crate::history::now_ms;
use crate::process::cgroup::Cgroup;

/// At most this many missed run times are counted after a long run (a tiny interval after a
/// day-long run would otherwise be counted one by one).
const MAX_SKIPPED_COUNTED: u32 = 100_000;

/// Runs `instance` on `schedule` until it is stopped; its final state and why.
pub(super) async fn run(instance: &mut Instance, schedule: &Schedule, cgroup: Option<&Cgroup>) -> (State, String) {
    // `every` counts from when the instance was started.
    let anchor = now_ms();
    let mut next = schedule.next_after(anchor, anchor);
    loop {
        let Some(due) = next else {
            return (State::Completed, format!("no run time left in {}", schedule.describe()));
        };
        instance.set(|s| {
            s.state = State::Scheduled;
            s.next_run_ms = Some(due);
        });
        instance.event(State::Scheduled, format!("next run at {} ({})", at(due), schedule.describe()));
        let mut shutdown = instance.shared.shutdown.subscribe();
        let mut stop = instance.stop.clone();
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(due.saturating_sub(now_ms()))) => {}
            _ = shutdown.wait_for(|down| *down) => return (State::Stopped, "stopped".into()),
            _ = stop.wait_for(Option::is_some) => return (State::Stopped, "stopped".into()),
        }
        instance.set(|s| s.next_run_ms = None);
        let (state, message) = instance.run_to_end(cgroup).await;
        match state {
            State::Stopped | State::Blocked => return (state, message),
            State::Completed => instance.event(State::Completed, format!("run due at {} {message}", at(due))),
            _ => instance.event(state, format!("run due at {} {message}; next run as scheduled", at(due))),
        }
        // Run times that passed while this run went are skipped: runs never overlap.
        let now = now_ms();
        let mut skipped = 0u32;
        next = schedule.next_after(anchor, due);
        while let Some(t) = next.filter(|t| *t <= now) {
            skipped += 1;
            next = if skipped >= MAX_SKIPPED_COUNTED {
                schedule.next_after(anchor, now)
            } else {
                schedule.next_after(anchor, t)
            };
        }
        if skipped > 0 {
            tracing::warn!(
                service = %instance.label,
                skipped,
                "{} skipped {skipped} run(s) due while its previous run was still going (runs never overlap)",
                instance.label
            );
            instance.shared.history.record(
                &instance.spec.name,
                &instance.label,
                State::Scheduled.as_str(),
                &format!("skipped {skipped} run(s): the previous run was still going"),
            );
        }
    }
}

/// A time for messages: RFC 3339, UTC, to the second.
pub fn at(ms: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}
