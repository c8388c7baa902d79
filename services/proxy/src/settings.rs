//! The proxy's settings: flags, each with an environment variable (the README's table lists
//! them). `PORT` is what Render sets; `PROXY_BIND` overrides the whole address.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use hyper::Uri;

#[derive(clap::Parser, Debug)]
#[command(name = "ephitup-proxy", version, about = "Serves the web UI and forwards /api/* to the API")]
pub struct Args {
    /// Port to listen on, on all interfaces.
    #[arg(long, env = "PORT", default_value_t = 8502)]
    pub port: u16,
    /// Full address to listen on (overrides --port), e.g. 127.0.0.1:8502.
    #[arg(long, env = "PROXY_BIND")]
    pub bind: Option<SocketAddr>,
    /// Where the API listens; `/api/*` goes there unchanged.
    #[arg(long, env = "INTERNAL_API_URL", default_value = "http://127.0.0.1:5055")]
    pub api_url: String,
    /// Directory of the web UI's files (holds index.html).
    #[arg(long, env = "WEB_ROOT", default_value = "services/web/public")]
    pub web_root: PathBuf,
    /// Time to open a connection to the API before answering 502.
    #[arg(long, env = "PROXY_CONNECT_TIMEOUT", default_value = "2s", value_parser = humantime::parse_duration)]
    pub connect_timeout: Duration,
    /// Time the API may take to start its answer (uploads included) before 504.
    #[arg(long, env = "PROXY_RESPONSE_TIMEOUT", default_value = "300s", value_parser = humantime::parse_duration)]
    pub response_timeout: Duration,
    /// Idle keep-alive connections (clients' and the API's) are closed after this; also the
    /// time a client has to send its request headers.
    #[arg(long, env = "PROXY_IDLE_TIMEOUT", default_value = "60s", value_parser = humantime::parse_duration)]
    pub idle_timeout: Duration,
    /// Worker threads (default: one per CPU); 1 runs everything on one thread.
    #[arg(long, env = "PROXY_THREADS")]
    pub threads: Option<usize>,
    /// On SIGTERM, time given to requests in flight before the proxy exits.
    #[arg(long, env = "PROXY_DRAIN_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub drain_timeout: Duration,
    /// Proxies in front of this one that append the client's address to `X-Forwarded-For`
    /// (Render's edge: 1). The client is then the entry that many places from the right; 0 (the
    /// default) believes no header: the client is the TCP peer.
    #[arg(long, env = "PROXY_TRUSTED_HOPS", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=10))]
    pub trusted_hops: u8,
}

/// Checked settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    /// `scheme://authority` of the API.
    pub api: Uri,
    pub web_root: PathBuf,
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
    pub idle_timeout: Duration,
    pub drain_timeout: Duration,
    /// `PROXY_TRUSTED_HOPS`: how many `X-Forwarded-For` entries, from the right, were written
    /// by proxies we trust.
    pub trusted_hops: usize,
}

impl Args {
    /// Checks the values: the API URL is `http://host[:port]`, the web root holds index.html.
    pub fn resolve(self) -> anyhow::Result<Settings> {
        let api: Uri = self.api_url.parse().with_context(|| format!("INTERNAL_API_URL `{}`", self.api_url))?;
        if api.scheme_str() != Some("http") || api.authority().is_none() {
            bail!("INTERNAL_API_URL `{}`: expected http://host:port", self.api_url);
        }
        if !matches!(api.path(), "" | "/") || api.query().is_some() {
            bail!("INTERNAL_API_URL `{}`: no path expected (/api/* is forwarded as is)", self.api_url);
        }
        let index = self.web_root.join("index.html");
        if !index.is_file() {
            bail!(
                "WEB_ROOT `{}` has no index.html (set WEB_ROOT to the web UI's directory, services/web/public)",
                self.web_root.display()
            );
        }
        let web_root =
            self.web_root.canonicalize().with_context(|| format!("WEB_ROOT `{}`", self.web_root.display()))?;
        Ok(Settings {
            bind: self.bind.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], self.port))),
            api,
            web_root,
            connect_timeout: self.connect_timeout,
            response_timeout: self.response_timeout,
            idle_timeout: self.idle_timeout,
            drain_timeout: self.drain_timeout,
            trusted_hops: usize::from(self.trusted_hops),
        })
    }
}
