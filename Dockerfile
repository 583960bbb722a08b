# hookcast in a container: `docker build -t hookcast .` then
#   docker run -p 8080:8080 -v hookcast-data:/var/lib/hookcast hookcast
# The first start prints the generated admin token (docker logs); it is also kept in
# the volume, in /var/lib/hookcast/admin-token.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
COPY migrations ./migrations
RUN cargo build --release --locked --bin hookcast

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/hookcast --create-home --shell /usr/sbin/nologin hookcast
COPY --from=build /src/target/release/hookcast /usr/local/bin/hookcast
USER hookcast
WORKDIR /var/lib/hookcast
ENV HOOKCAST_LISTEN=0.0.0.0:8080 \
    HOOKCAST_DATA_DIR=/var/lib/hookcast \
    HOOKCAST_LOG_FORMAT=json
VOLUME /var/lib/hookcast
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/hookcast"]
CMD ["serve"]
