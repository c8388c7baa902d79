//! The public front of ephitup (`ephitup-proxy`): one hyper server that answers `/healthz`
//! itself, forwards `/api/*` to the API with streamed bodies ([`forward`]), and serves the
//! web UI's static files with the single-page-app fallback ([`assets`]).
//!
//! Request phases: [`server`] accepts and routes; [`headers`] cleans hop-by-hop headers and
//! adds `X-Forwarded-*`; [`paths`] turns a URL path into a file under the web root or refuses
//! it; [`assets`] serves the file with its caching headers and compression.

pub mod assets;
pub mod body;
pub mod forward;
pub mod headers;
pub mod paths;
pub mod server;
pub mod settings;
