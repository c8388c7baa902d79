# syntax=docker/dockerfile:1
# The whole app in one image: `ephitup` (PID 1) supervises the database, the migrations, the
# API, the worker and the proxy, all built here from this workspace. Dependencies are cooked
# in their own layer (cargo-chef), so a change of our sources rebuilds only our crates.
#
#   docker build -t ephitup .
#   docker run -p 8502:8502 -v ephitup-data:/mydata ephitup

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS chef
# RocksDB's bindings need libclang; -sys crates a C/C++ toolchain. Versions follow the base image.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends clang libclang-dev g++ make pkg-config \
 && rm -rf /var/lib/apt/lists/*
RUN cargo install cargo-chef --locked --version 0.1.73
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --workspace --recipe-path recipe.json
# `ephitup`'s own profile (`supervisor`, below) has its own build of its dependencies: cooked
# here too, or every change of our sources would compile them again. Its own layer, so that a
# change here does not cook the hour of release dependencies above again.
# hadolint ignore=DL3059
RUN cargo chef cook --profile supervisor --locked -p ephitup --bin ephitup --recipe-path recipe.json
COPY . .
# `ephitup` stays resident for the container's whole life: its own profile (fat LTO, one
# codegen unit) keeps it small; it shares no heavy dependency with the services.
# Only the shipped binaries; `--workspace` keeps the features the cook above resolved (a
# narrower package selection would resolve others and build the dependencies again).
RUN cargo build --release --locked --workspace \
      --bin ephitup-db --bin ephitup-api --bin ephitup-worker --bin ephitup-proxy \
 && cargo build --profile supervisor --locked -p ephitup --bin ephitup \
 && mkdir -p /out/bin \
 && cp target/supervisor/ephitup /out/bin/ \
 && for b in ephitup-db ephitup-api ephitup-worker ephitup-proxy; do cp "target/release/$b" /out/bin/; done \
 && strip /out/bin/*

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# ca-certificates: the worker calls AI providers and S3 over TLS. Nothing else is needed.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /mydata --no-create-home --shell /usr/sbin/nologin app \
 && mkdir -p /mydata && chown app:app /mydata
COPY --from=builder /out/bin/ /usr/local/bin/
COPY services/web/public/ /usr/share/ephitup/web/
COPY ephitup.toml /etc/ephitup/ephitup.toml
# `ephitup` runs as root only to prepare the data disk (Render may mount it root-owned) and to
# be PID 1; every service runs as `app` (EPHITUP_SERVICE_USER).
ENV DATA_PATH=/mydata \
    PORT=8502 \
    EPHITUP_SERVICE_USER=app \
    EPHITUP_LOG_FORMAT=json \
    WEB_ROOT=/usr/share/ephitup/web \
    RUST_LOG=info
WORKDIR /mydata
EXPOSE 8502
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
  CMD ["ephitup", "health", "-f", "/etc/ephitup/ephitup.toml"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["ephitup", "up", "-f", "/etc/ephitup/ephitup.toml"]
