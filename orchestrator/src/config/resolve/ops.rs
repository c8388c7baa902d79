//! Resolution of the operations keys of a service: `limits` and `schedule`. A child of
//! [`super`], so it uses the resolver's own parsing (sizes, durations, errors with spans).

use std::time::Duration;

use toml::Spanned;

use super::Resolver;
use crate::config::diagnostic::clip;
use crate::config::model::{Limits, Schedule, ServiceKind};
use crate::config::raw::{RawLimits, RawSchedule};

/// The largest memory limit (past it, surely a typo).
pub const MAX_MEMORY: u64 = 1 << 40;

impl Resolver<'_> {
    pub(super) fn limits(&mut self, key: &str, raw: Option<&Spanned<RawLimits>>) -> Limits {
        let Some(raw) = raw else { return Limits::default() };
        let memory = raw.get_ref().memory.as_ref().map(|m| self.size(&format!("{key}.memory"), Some(m), 1, MAX_MEMORY));
        Limits { memory }
    }

    pub(super) fn schedule(
        &mut self,
        key: &str,
        raw: Option<&Spanned<RawSchedule>>,
        kind: ServiceKind,
    ) -> Option<Schedule> {
        let raw = raw?;
        if kind != ServiceKind::Oneshot {
            self.error(key, raw.span(), "only a oneshot (`kind = \"oneshot\"`) can have a schedule");
            return None;
        }
        match (&raw.get_ref().every, &raw.get_ref().cron) {
            (Some(every), None) => {
                let d = self.duration(&format!("{key}.every"), Some(every), Duration::ZERO);
                if d.is_zero() {
                    self.error(&format!("{key}.every"), every.span(), "the interval must be longer than zero");
                    return None;
                }
                Some(Schedule::Every(d))
            }
            (None, Some(cron)) => {
                let text = self.text(&format!("{key}.cron"), cron)?;
                let text = text.trim().to_string();
                // Five fields (minute hour day month weekday) as in crontab; the crate wants
                // seconds first, so a five-field expression runs at second 0.
                let full = if text.split_whitespace().count() == 5 { format!("0 {text}") } else { text.clone() };
                match full.parse::<cron::Schedule>() {
                    Ok(s) => Some(Schedule::Cron(Box::new(s), text)),
                    Err(e) => {
                        self.error(
                            &format!("{key}.cron"),
                            cron.span(),
                            format!("`{}` is not a cron expression ({e}; e.g. \"0 3 * * *\")", clip(&text)),
                        );
                        None
                    }
                }
            }
            _ => {
                self.error(key, raw.span(), "give exactly one of `every` (a duration) or `cron` (an expression)");
                None
            }
        }
    }
}
