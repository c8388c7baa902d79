//! The arithmetic of scheduled one-shots (`schedule = { every = "24h" }` or `{ cron = ... }`):
//! which run comes next after a run, and how many were skipped meanwhile. The instance task
//! ([`super::instance`]) runs them one after another, so runs never overlap; this module
//! knows nothing of instances.

use std::time::Duration;

use crate::config::Schedule;

/// At most this many missed run times are counted after a long run (a tiny interval after a
/// day-long run would otherwise be counted one by one).
const MAX_SKIPPED_COUNTED: u32 = 100_000;

/// The next run after a run that was due at `due` ended at `now`, and how many run times
/// passed meanwhile (skipped: runs never overlap). `every` counts from `anchor`.
pub fn after_run(schedule: &Schedule, anchor: u64, due: u64, now: u64) -> (Option<u64>, u32) {
    let mut skipped = 0u32;
    let mut next = schedule.next_after(anchor, due);
    while let Some(t) = next.filter(|t| *t <= now) {
        skipped += 1;
        next = if skipped >= MAX_SKIPPED_COUNTED {
            schedule.next_after(anchor, now)
        } else {
            schedule.next_after(anchor, t)
        };
    }
    (next, skipped)
}

/// A time for messages: RFC 3339, UTC, to the second.
pub fn at(ms: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_passed_during_a_run_are_skipped() {
        let every = Schedule::Every(Duration::from_millis(100));
        assert_eq!(after_run(&every, 0, 100, 150), (Some(200), 0));
        assert_eq!(after_run(&every, 0, 100, 450), (Some(500), 3));
        assert_eq!(after_run(&every, 0, 100, 500), (Some(600), 4));
        let cron = Schedule::Cron(Box::new("0 0 3 * * *".parse().unwrap()), "0 3 * * *".into());
        let day = 24 * 3600 * 1000;
        let three = 3 * 3600 * 1000;
        assert_eq!(after_run(&cron, 0, three, three + 1000), (Some(day + three), 0));
        assert_eq!(after_run(&cron, 0, three, 2 * day + three + 5), (Some(3 * day + three), 2));
    }
}
