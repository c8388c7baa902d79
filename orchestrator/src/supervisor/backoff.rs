//! When to restart: exponential delays with jitter, reset after a long enough good run, and
//! the give-up rule (more than `max_restarts` restarts within `restart_window` is fatal).

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use crate::config::Backoff;

#[derive(Debug)]
pub struct RestartBudget {
    backoff: Backoff,
    max_restarts: u32,
    window: Duration,
    /// Consecutive restarts since the last reset: the exponent.
    attempt: u32,
    recent: VecDeque<Instant>,
}

impl RestartBudget {
    pub fn new(backoff: Backoff, max_restarts: u32, window: Duration) -> Self {
        Self { backoff, max_restarts, window, attempt: 0, recent: VecDeque::new() }
    }

    /// Records a restart about to happen after a run that was good (running, and ready if
    /// probed) for `good_for`. `None` means give up; otherwise the delay to wait.
    pub fn next(&mut self, now: Instant, good_for: Duration) -> Option<Duration> {
        while self.recent.front().is_some_and(|t| now.duration_since(*t) > self.window) {
            self.recent.pop_front();
        }
        if self.recent.len() >= self.max_restarts as usize {
            return None;
        }
        self.recent.push_back(now);
        if good_for >= self.backoff.reset_after {
            self.attempt = 0;
        }
        let delay = delay_for(&self.backoff, self.attempt, fastrand::f64());
        self.attempt = self.attempt.saturating_add(1);
        Some(delay)
    }
}

/// `initial * 2^attempt`, capped at `max`, then moved by up to ±`jitter` of itself
/// (`unit` is a random number in 0..1), and capped again.
pub fn delay_for(backoff: &Backoff, attempt: u32, unit: f64) -> Duration {
    let factor = 2f64.powi(attempt.min(62) as i32);
    let base = backoff.initial.as_secs_f64() * factor;
    let base = base.min(backoff.max.as_secs_f64());
    let jittered = base * (1.0 + backoff.jitter * (2.0 * unit - 1.0));
    Duration::from_secs_f64(jittered.clamp(0.0, backoff.max.as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff(jitter: f64) -> Backoff {
        Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            jitter,
            reset_after: Duration::from_secs(10),
        }
    }

    #[test]
    fn delays_double_up_to_the_cap() {
        let b = backoff(0.0);
        let delays: Vec<_> = (0..6).map(|n| delay_for(&b, n, 0.5).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let b = backoff(0.2);
        assert_eq!(delay_for(&b, 0, 0.0).as_millis(), 80);
        assert_eq!(delay_for(&b, 0, 1.0).as_millis(), 120);
    }

    #[test]
    fn a_good_run_resets_the_delay_and_the_window_bounds_restarts() {
        let mut budget = RestartBudget::new(backoff(0.0), 3, Duration::from_secs(60));
        let t0 = Instant::now();
        assert_eq!(budget.next(t0, Duration::ZERO), Some(Duration::from_millis(100)));
        assert_eq!(budget.next(t0, Duration::ZERO), Some(Duration::from_millis(200)));
        assert_eq!(budget.next(t0, Duration::from_secs(11)), Some(Duration::from_millis(100)));
        assert_eq!(budget.next(t0, Duration::ZERO), None, "a fourth restart within the window gives up");
        assert!(budget.next(t0 + Duration::from_secs(61), Duration::ZERO).is_some(), "old restarts leave the window");
    }
}
