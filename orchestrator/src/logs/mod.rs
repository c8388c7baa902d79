//! Service output, relayed. Each service's stdout and stderr are read by a [`relay`] task that
//! cuts them into lines and formats them (`name | line`, or JSON); the [`sink`] writes them
//! from one thread to `ephitup`'s own stdout and stderr, together with `ephitup`'s events, so
//! lines are never spliced into each other. Optional per-service files are [`file`]s rotated
//! by size.
//!
//! Backpressure, in short: nothing is dropped. The sink holds a bounded number of bytes; a
//! relay that finds it full stops reading its pipe, and the service then blocks on its next
//! write, exactly as it would writing to a slow terminal. Room in the sink is granted
//! first-come first-served, so a flooding service gets its turn like every other service and
//! cannot delay another's line by more than one buffer's worth. `ephitup`'s own events never
//! wait for room.

pub mod file;
pub mod format;
mod lines;
pub mod recent;
pub mod relay;
pub mod sink;

pub use format::{LineFormat, Palette};
pub use recent::RecentLogs;
pub use relay::{LineWatch, RecentTarget, RelayTarget, relay};
pub use sink::{Chunk, LogSink, Stream};
