//! The CLI side of the control API: `ephitup status`, `logs`, `start`, `stop`, `restart`,
//! `reload` and `health` talk HTTP/1 to the socket of a running `ephitup up`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;

use super::{Answer, Status};

/// A connection target: the socket, and the file it was found from (for messages).
#[derive(Debug, Clone)]
pub struct Client {
    pub socket: PathBuf,
    pub config: PathBuf,
}

/// No `ephitup up` answers on the socket.
#[derive(Debug, thiserror::Error)]
#[error("no ephitup is running for {} (socket {})", config.display(), socket.display())]
pub struct NotRunning {
    pub config: PathBuf,
    pub socket: PathBuf,
}

type Body = hyper::body::Incoming;

impl Client {
    pub fn new(socket: PathBuf, config: &Path) -> Self {
        Self { socket, config: config.to_path_buf() }
    }

    async fn send(&self, method: Method, path: &str) -> anyhow::Result<hyper::Response<Body>> {
        let stream = match tokio::net::UnixStream::connect(&self.socket).await {
            Ok(s) => s,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused) => {
                return Err(NotRunning { config: self.config.clone(), socket: self.socket.clone() }.into());
            }
            Err(e) => return Err(e).with_context(|| format!("cannot connect to {}", self.socket.display())),
        };
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.context("control socket handshake")?;
        tokio::spawn(connection);
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, "ephitup")
            .body(Empty::<Bytes>::new())
            .context("building the request")?;
        sender.send_request(request).await.context("control request")
    }

    async fn text(&self, method: Method, path: &str) -> anyhow::Result<(StatusCode, String)> {
        let response = self.send(method, path).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await.context("reading the answer")?.to_bytes();
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }

    pub async fn status(&self) -> anyhow::Result<Status> {
        let (_, text) = self.text(Method::GET, "/status").await?;
        serde_json::from_str(&text).context("decoding the status")
    }

    /// Start, stop, restart (`action`) a service; the answer's sentence, or why it failed.
    pub async fn action(&self, service: &str, action: &str) -> anyhow::Result<Result<String, String>> {
        let (_, text) = self.text(Method::POST, &format!("/services/{service}/{action}")).await?;
        decode_answer(&text)
    }

    pub async fn reload(&self) -> anyhow::Result<Result<String, String>> {
        let (_, text) = self.text(Method::POST, "/reload").await?;
        decode_answer(&text)
    }

    /// Whether every critical service is ready, and the reason when not.
    pub async fn ready(&self) -> anyhow::Result<(bool, String)> {
        let (status, text) = self.text(Method::GET, "/readyz").await?;
        Ok((status == StatusCode::OK, text))
    }

    /// Writes the recent lines (and, with `follow`, every new one until interrupted) to `out`.
    pub async fn logs(
        &self,
        service: Option<&str>,
        lines: usize,
        follow: bool,
        out: &mut impl Write,
    ) -> anyhow::Result<()> {
        let mut path = format!("/logs?lines={lines}&follow={follow}");
        if let Some(s) = service {
            path.push_str("&service=");
            path.push_str(s);
        }
        let response = self.send(Method::GET, &path).await?;
        if response.status() != StatusCode::OK {
            let bytes = response.into_body().collect().await.context("reading the answer")?.to_bytes();
            anyhow::bail!("{}", String::from_utf8_lossy(&bytes).trim_end());
        }
        let mut body = response.into_body();
        while let Some(frame) = body.frame().await {
            let frame = frame.context("reading logs")?;
            if let Some(data) = frame.data_ref() {
                out.write_all(data).context("writing logs")?;
                out.flush().context("writing logs")?;
            }
        }
        Ok(())
    }
}

fn decode_answer(text: &str) -> anyhow::Result<Result<String, String>> {
    let answer: Answer = serde_json::from_str(text).with_context(|| format!("unexpected answer: {text}"))?;
    Ok(match (answer.message, answer.error) {
        (_, Some(e)) => Err(e),
        (Some(m), None) => Ok(m),
        (None, None) => Ok(String::new()),
    })
}

/// `ephitup status` as a table.
pub fn render_status(status: &Status) -> String {
    let mut rows = vec![[
        "SERVICE".to_string(),
        "STATE".into(),
        "PID".into(),
        "UPTIME".into(),
        "RESTARTS".into(),
        "HEALTH".into(),
        "MEM".into(),
        "CPU".into(),
        "LAST EXIT".into(),
    ]];
    for s in &status.services {
        for i in &s.instances {
            let health = match (&s.health, i.ready) {
                (None, _) => "-".to_string(),
                (Some(_), true) => "ready".to_string(),
                (Some(_), false) => "not ready".to_string(),
            };
            rows.push([
                i.label.clone(),
                i.state.clone(),
                i.pid.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
                i.uptime_ms
                    .map(|ms| humantime::format_duration(std::time::Duration::from_secs(ms / 1000)).to_string())
                    .unwrap_or_else(|| "-".into()),
                i.restarts.to_string(),
                health,
                i.memory_bytes
                    .map(|b| bytesize::ByteSize::b(b).display().iec_short().to_string())
                    .unwrap_or_else(|| "-".into()),
                i.cpu_seconds.map(|c| format!("{c:.2}s")).unwrap_or_else(|| "-".into()),
                i.last_exit.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
    }
    // Scheduled one-shots add their next run.
    let scheduled = status.services.iter().flat_map(|s| &s.instances).any(|i| i.next_run_ms.is_some());
    if scheduled {
        rows[0][1] = "STATE (NEXT RUN)".into();
        let mut n = 1;
        for s in &status.services {
            for i in &s.instances {
                if let Some(next) = i.next_run_ms {
                    let secs = next.saturating_sub(crate::history::now_ms()) / 1000;
                    let when = humantime::format_rfc3339_seconds(
                        std::time::UNIX_EPOCH + std::time::Duration::from_millis(next),
                    );
                    let last = match i.last_run_ok {
                        Some(true) => "; last run completed",
                        Some(false) => "; last run failed",
                        None => "",
                    };
                    rows[n][1] = format!(
                        "{} (next {when}, in {}{last})",
                        i.state,
                        humantime::format_duration(std::time::Duration::from_secs(secs))
                    );
                }
                n += 1;
            }
        }
    }
    let widths: Vec<usize> = (0..9).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for r in &rows {
        let line: Vec<String> = r.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out.push_str(&format!(
        "ephitup pid {}, up {}, {}\n",
        status.pid,
        humantime::format_duration(std::time::Duration::from_secs(status.uptime_ms / 1000)),
        if status.ready { "ready" } else { "not ready" }
    ));
    out
}
