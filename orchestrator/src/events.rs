//! `ephitup`'s own messages (state changes, signals, failures), through `tracing`, written by
//! the same sink as the services' lines so the two never splice into each other. Pretty
//! format: `ephitup | db healthy (412ms after start)`; JSON format: one object per event with
//! `timestamp`, `level`, `message` and the fields (`service`, `state`, `pid`).

use std::fmt;
use std::io::Write;
use std::sync::Arc;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

use crate::config::LogFormat;
use crate::logs::{Chunk, LogSink, Palette, Stream};

/// Installs the global subscriber. `EPHITUP_LOG` filters (default `info`).
pub fn init(sink: Arc<LogSink>, format: LogFormat, palette: Palette, width: usize) {
    let filter = EnvFilter::try_from_env("EPHITUP_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let writer = SinkWriter { sink };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    let result = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_target(false)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.event_format(PrettyEvent { palette, width }).try_init(),
    };
    // Already installed (tests running several sets in one process): keep the first.
    let _ = result;
}

#[derive(Clone)]
struct SinkWriter {
    sink: Arc<LogSink>,
}

impl<'a> MakeWriter<'a> for SinkWriter {
    type Writer = EventWriter;

    fn make_writer(&'a self) -> EventWriter {
        EventWriter { sink: Arc::clone(&self.sink), buf: Vec::with_capacity(128) }
    }
}

/// Collects one formatted event and queues it whole when dropped.
struct EventWriter {
    sink: Arc<LogSink>,
    buf: Vec<u8>,
}

impl Write for EventWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for EventWriter {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            let console = std::mem::take(&mut self.buf);
            self.sink.send_now(Chunk { stream: Stream::Stdout, console, file: None });
        }
    }
}

struct PrettyEvent {
    palette: Palette,
    width: usize,
}

impl<S, N> FormatEvent<S, N> for PrettyEvent
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, _ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let mut message = MessageOnly(String::new());
        event.record(&mut message);
        let level = *event.metadata().level();
        let width = self.width;
        if self.palette.enabled {
            let colour = match level {
                Level::ERROR => "\x1b[1;31m",
                Level::WARN => "\x1b[1;33m",
                _ => "\x1b[1m",
            };
            writeln!(writer, "\x1b[1m{:<width$} |\x1b[0m {colour}{}\x1b[0m", "ephitup", message.0)
        } else {
            let tag = match level {
                Level::ERROR => "error: ",
                Level::WARN => "warning: ",
                _ => "",
            };
            writeln!(writer, "{:<width$} | {tag}{}", "ephitup", message.0)
        }
    }
}

struct MessageOnly(String);

impl tracing::field::Visit for MessageOnly {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.to_string();
        }
    }
}
