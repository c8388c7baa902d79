//! The status page: one self-contained HTML document (inline CSS and SVG, no script, no
//! external asset) with a table of the services and, for each, a timeline of its states
//! since `ephitup` started: starts, restarts, health changes, stops. It refreshes itself.

use std::fmt::Write;

use super::Status;
use crate::handle::Handle;
use crate::history::now_ms;

const WIDTH: f64 = 900.0;

fn colour(state: &str) -> &'static str {
    match state {
        "running" => "#2e9d5b",
        "starting" | "waiting" => "#d9b23a",
        "unhealthy" | "backoff" | "stopping" => "#e07b2a",
        "failed" | "fatal" | "blocked" => "#c8372d",
        "completed" => "#4a7fc1",
        _ => "#9a9a9a",
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn ago(ms: u64) -> String {
    humantime::format_duration(std::time::Duration::from_secs(ms / 1000)).to_string()
}

/// The last exit of each instance, with its last lines: what a crash left behind.
fn exits(html: &mut String, status: &Status, now: u64) {
    let exits: Vec<_> =
        status.services.iter().flat_map(|s| &s.instances).filter_map(|i| i.exit.as_ref().map(|e| (i, e))).collect();
    if exits.is_empty() {
        return;
    }
    html.push_str("<h2>Last exits</h2>");
    for (i, e) in exits {
        let _ = write!(
            html,
            "<h3>{}</h3><p>{} · {} ago{}</p>",
            escape(&i.label),
            escape(&e.status),
            ago(now.saturating_sub(e.at_ms)),
            e.reason.as_deref().map(|r| format!(" · {}", escape(r))).unwrap_or_default()
        );
        if e.output.is_empty() {
            html.push_str(
                "<p><i>no output kept here (services' output is shown only through the control socket)</i></p>",
            );
        } else {
            let _ = write!(html, "<pre>{}</pre>", escape(&e.output.join("\n")));
        }
    }
}

pub fn render(status: &Status, handle: &Handle) -> String {
    let now = now_ms();
    let start = handle.started_ms;
    let span = (now.saturating_sub(start)).max(1) as f64;
    let x = |t: u64| ((t.saturating_sub(start)) as f64 / span * WIDTH).clamp(0.0, WIDTH);
    let mut html = String::new();
    let _ = write!(
        html,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>ephitup status</title><style>
body{{font:14px system-ui,sans-serif;margin:1.5em;color:#222}} table{{border-collapse:collapse;margin-bottom:1.5em}}
td,th{{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}} .s{{font-weight:600}}
.tl{{margin:.2em 0 1em}} pre{{background:#f4f4f4;padding:.5em;overflow-x:auto;max-width:100%}} .legend span{{display:inline-block;margin-right:1em}} .sw{{display:inline-block;width:.9em;height:.9em;vertical-align:middle;margin-right:.3em}}
</style></head><body><h1>ephitup</h1><p>{} · pid {} · up {} · <b>{}</b></p>
<table><tr><th>service</th><th>state</th><th>pid</th><th>uptime</th><th>restarts</th><th>health</th><th>last exit</th></tr>"#,
        escape(&status.config),
        status.pid,
        ago(status.uptime_ms),
        if status.ready { "ready" } else { "not ready" }
    );
    for s in &status.services {
        for i in &s.instances {
            let _ = write!(
                html,
                r#"<tr><td>{}{}</td><td class="s" style="color:{}">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                escape(&i.label),
                if s.critical { " ★" } else { "" },
                colour(&i.state),
                escape(&match i.next_run_ms {
                    Some(next) => format!(
                        "{} (next {})",
                        i.state,
                        humantime::format_rfc3339_seconds(
                            std::time::UNIX_EPOCH + std::time::Duration::from_millis(next)
                        )
                    ),
                    None => i.state.clone(),
                }),
                i.pid.map(|p| p.to_string()).unwrap_or_default(),
                i.uptime_ms.map(ago).unwrap_or_default(),
                i.restarts,
                escape(s.health.as_deref().unwrap_or("")),
                escape(i.last_exit.as_deref().unwrap_or("")),
            );
        }
    }
    html.push_str("</table>");
    exits(&mut html, status, now);
    let _ = write!(
        html,
        "<h2>Timeline</h2><p>From ephitup's start ({} ago, left) to now (right).</p><div class=\"legend\">",
        ago(status.uptime_ms)
    );
    for state in ["waiting", "running", "unhealthy", "stopped", "failed", "completed"] {
        let _ = write!(html, r#"<span><i class="sw" style="background:{}"></i>{state}</span>"#, colour(state));
    }
    html.push_str("</div>");
    for s in &status.services {
        let entries = handle.history.of(&s.name);
        let _ = write!(
            html,
            r#"<div class="tl"><div>{}</div><svg width="{WIDTH}" height="22" role="img" aria-label="timeline of {}">"#,
            escape(&s.name),
            escape(&s.name)
        );
        let _ = write!(html, r##"<rect x="0" y="4" width="{WIDTH}" height="14" fill="#eee"/>"##);
        for (n, e) in entries.iter().enumerate() {
            let until = entries.get(n + 1).map_or(now, |next| next.at_ms);
            let (x0, x1) = (x(e.at_ms), x(until));
            let _ = write!(
                html,
                r#"<rect x="{x0:.1}" y="4" width="{:.1}" height="14" fill="{}"><title>{} {}</title></rect>"#,
                (x1 - x0).max(1.0),
                colour(e.state),
                escape(&e.label),
                escape(&e.message)
            );
            if e.message.starts_with("started") {
                let _ = write!(html, r##"<line x1="{x0:.1}" x2="{x0:.1}" y1="0" y2="22" stroke="#222"/>"##);
            }
        }
        html.push_str("</svg></div>");
    }
    html.push_str("<p>Hover a segment for its event. Starts are marked with a line.</p></body></html>\n");
    html
}
