//! `ephitup-api`: the app's REST API (axum) on the shared store, and the migrations command.
//! Handlers read like the contract in `API.md`: authentication and validation at the edge
//! (extractors), one error type that renders `{"detail": ...}`, repositories behind.

pub mod audio;
pub mod auth;
pub mod client;
pub mod error;
pub mod json;
pub mod layers;
pub mod openapi;
pub mod room;
pub mod routes;
pub mod settings;
pub mod sse;
pub mod state;
pub mod upload;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use ephitup_store::{AudioStore, DbSettings, SecretBox, connect_app, migrate};

use crate::settings::ApiSettings;
use crate::state::AppState;

/// Largest JSON body accepted (uploads have their own limit).
const JSON_LIMIT: usize = 2 << 20;

/// Serves the API until SIGTERM or SIGINT, then finishes the requests in flight.
pub async fn serve() -> anyhow::Result<()> {
    let settings = ApiSettings::from_env()?;
    let db_settings = DbSettings::from_env()?;
    let secrets = SecretBox::from_env(&settings.data_path)?;
    let audio = AudioStore::from_env(&settings.data_path)?;
    tracing::info!("podcast audio: {}", audio.describe());
    let db = connect_app(&db_settings).await?;
    tracing::info!("database: {} connections of {} queries in flight", db.connections(), db_settings.pool_in_flight);
    let migrations = migrate::embedded()?.len();
    let health = layers::DbHealth::start(db.clone(), migrations, &db_settings.url);
    let shed = layers::shed::Shed::new(settings.max_in_flight, settings.queue_timeout, health.clone());
    let state = AppState {
        db,
        keys: Arc::new(auth::token::Keys::new(&settings.jwt_secret, settings.jwt_expires_minutes)),
        limits: Arc::new(auth::rate::Limits::default()),
        passwords: Arc::new(auth::password::Passwords::new(
            settings.password_hash_concurrency,
            settings.password_hash_wait,
        )),
        secrets: Arc::new(secrets),
        audio: Arc::new(audio),
        ai_clients: ephitup_store::ai::Clients::new(settings.allow_private_provider_urls)?,
        ai_fallback: Arc::new(ephitup_store::ai::Fallback::from_env()),
        migrations,
        health,
        users: Arc::default(),
        streams: room::Room::new(
            settings.max_streams,
            std::time::Duration::ZERO,
            "too many answers are being written at once; try again shortly",
        ),
        searches: room::Room::new(
            settings.max_searches,
            settings.queue_timeout,
            "too many searches are running; try again shortly",
        ),
        settings: Arc::new(settings),
    };
    let bind = state.settings.bind;
    // Outermost first: the access log sees every answer, the shed ones too.
    let app = routes::router(state)
        .layer(DefaultBodyLimit::max(JSON_LIMIT))
        .layer(axum::middleware::from_fn_with_state(shed, layers::shed::limit))
        .layer(axum::middleware::from_fn(layers::access::log));
    let listener =
        tokio::net::TcpListener::bind(bind).await.map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
    tracing::info!("listening on http://{bind}");
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    tracing::info!("stopping: finishing requests in flight");
}
