//! Forwarding `/api/*` to the API. Bodies are streamed in both directions (an upload reaches
//! the API while the client is still sending; audio reaches the client while the API is still
//! reading its file), connections to the API are pooled and reused, and failures become the
//! API's own error shape: 400 when the client's own body is malformed (a broken chunked
//! encoding), 502 when the API cannot be reached (down, restarting), 504 when it does not
//! answer in time.

use std::net::IpAddr;

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::body::{ProxyBody, Watched, boxed, json_error};
use crate::headers::{add_forwarded, client_address, remove_hop_by_hop};
use crate::settings::Settings;

/// The pooled HTTP client to the API and where the API is.
#[derive(Clone)]
pub struct Upstream {
    client: Client<HttpConnector, ProxyBody>,
    base: Uri,
    response_timeout: std::time::Duration,
    trusted_hops: usize,
}

impl Upstream {
    pub fn new(settings: &Settings) -> Upstream {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(settings.connect_timeout));
        connector.set_nodelay(true);
        connector.enforce_http(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(settings.idle_timeout)
            .build(connector);
        Upstream {
            client,
            base: settings.api.clone(),
            response_timeout: settings.response_timeout,
            trusted_hops: settings.trusted_hops,
        }
    }

    /// Sends `request` on to the API and returns its answer, or a JSON error.
    pub async fn forward(&self, request: Request<Incoming>, client: IpAddr) -> Response<ProxyBody> {
        let (mut parts, body) = request.into_parts();
        let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let mut uri = self.base.clone().into_parts();
        uri.path_and_query = match path_and_query.parse() {
            Ok(p) => Some(p),
            Err(_) => return json_error(StatusCode::BAD_REQUEST, "Malformed request path"),
        };
        parts.uri = match Uri::from_parts(uri) {
            Ok(u) => u,
            Err(_) => return json_error(StatusCode::BAD_REQUEST, "Malformed request path"),
        };
        // Always HTTP/1.1 to the API, whatever the client spoke.
        parts.version = hyper::Version::HTTP_11;
        let original_host = parts.headers.get(header::HOST).cloned();
        remove_hop_by_hop(&mut parts.headers);
        let client = client_address(&parts.headers, client, self.trusted_hops);
        add_forwarded(&mut parts.headers, client, original_host.as_ref());
        if let Some(authority) = self.base.authority().and_then(|a| HeaderValue::from_str(a.as_str()).ok()) {
            parts.headers.insert(header::HOST, authority);
        }
        let (body, body_failed) = Watched::new(body);
        let upstream_request = Request::from_parts(parts, boxed(body));
        let answer = tokio::time::timeout(self.response_timeout, self.client.request(upstream_request)).await;
        match answer {
            Ok(Ok(response)) => {
                let (mut parts, body) = response.into_parts();
                remove_hop_by_hop(&mut parts.headers);
                Response::from_parts(parts, boxed(body))
            }
            Ok(Err(_)) if body_failed.load(std::sync::atomic::Ordering::Acquire) => {
                let mut response = json_error(StatusCode::BAD_REQUEST, "Malformed request body");
                // The rest of the stream cannot be read as requests either.
                response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
                response
            }
            Ok(Err(e)) if e.is_connect() => {
                tracing::warn!("API at {} not reachable: {e:#}", self.base);
                let mut response = json_error(
                    StatusCode::BAD_GATEWAY,
                    "The API is not reachable right now (starting or restarting); try again in a moment",
                );
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
                response
            }
            Ok(Err(e)) => {
                tracing::warn!("API at {} failed the request: {}", self.base, error_chain(&e));
                json_error(StatusCode::BAD_GATEWAY, "The API closed the connection before answering")
            }
            Err(_) => {
                tracing::warn!("API at {} did not answer within {:?}", self.base, self.response_timeout);
                json_error(StatusCode::GATEWAY_TIMEOUT, "The API did not answer in time")
            }
        }
    }
}

/// An error and its causes on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
