//! The HTTP side of an attempt: one pooled keep-alive client, the SSRF guard, one
//! deadline over the whole attempt, capped response reads, errors worded for people.

use std::collections::HashMap;
use std::error::Error as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;
use http_body_util::{BodyExt, Full};
use url::{Host, Url};

use super::address_guard::{AddressPolicy, Blocked, DnsFailure};
use super::http_client::{self, DeliveryClient};
use super::sign::{Outgoing, truncate_utf8};
use crate::domain::delivery::{ErrorKind, READ_BODY_LIMIT, STORED_BODY_LIMIT};
use crate::domain::tls::TlsOptions;

/// What the receiver answered.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// At most [`STORED_BODY_LIMIT`] bytes (of at most [`READ_BODY_LIMIT`] read).
    pub body: String,
    pub retry_after: Option<Duration>,
}

/// Why there is no answer.
#[derive(Debug, Clone)]
pub struct Failure {
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Sent {
    pub duration: Duration,
    pub result: Result<Answer, Failure>,
}

pub struct Sender {
    /// For webhooks with the default TLS options (nearly all).
    client: DeliveryClient,
    /// One client per other TLS options in use (a client holds its trust roots).
    tls_clients: Mutex<HashMap<TlsOptions, DeliveryClient>>,
    policy: Arc<AddressPolicy>,
}

impl Sender {
    pub fn new(policy: AddressPolicy) -> Sender {
        crate::init_tls();
        let policy = Arc::new(policy);
        let client = http_client::build(&policy, &TlsOptions::default())
            .expect("the HTTP client builds with the system's roots");
        Sender {
            client,
            tls_clients: Mutex::new(HashMap::new()),
            policy,
        }
    }

    /// The client for `tls`; built the first time those options are used.
    fn client_for(&self, tls: &TlsOptions) -> Result<DeliveryClient, Failure> {
        if tls.is_default() {
            return Ok(self.client.clone());
        }
        let mut clients = self.tls_clients.lock().expect("TLS clients lock");
        if let Some(client) = clients.get(tls) {
            return Ok(client.clone());
        }
        if tls.dangerously_skip_certificate_verification {
            tracing::warn!(
                "a webhook skips certificate verification: its requests can be read and changed on the way"
            );
        }
        let client = http_client::build(&self.policy, tls).map_err(|message| Failure {
            kind: ErrorKind::Tls,
            message,
        })?;
        // Bounded: options come from stored webhooks, but never keep more than a few
        // hundred clients (and their pools) around.
        if clients.len() >= 256 {
            clients.clear();
        }
        clients.insert(tls.clone(), client.clone());
        Ok(client)
    }

    /// Sends `request` (its URL, headers and body move into the HTTP client, not
    /// copied); everything, connection included, must finish within `deadline`.
    pub async fn send(&self, request: Outgoing, tls: &TlsOptions, deadline: Duration) -> Sent {
        let started = Instant::now();
        let checked = self
            .check_literal_address(&request.url)
            .and_then(|()| self.client_for(tls));
        let result = match checked {
            Err(failure) => Err(failure),
            Ok(client) => {
                match tokio::time::timeout(deadline, self.exchange(&client, request)).await {
                    Ok(result) => result,
                    Err(_) => Err(Failure {
                        kind: ErrorKind::Timeout,
                        message: format!("no complete answer within {} ms", deadline.as_millis()),
                    }),
                }
            }
        };
        Sent {
            duration: started.elapsed(),
            result,
        }
    }

    /// Literal IPs never reach the resolver; check them here.
    fn check_literal_address(&self, url: &Url) -> Result<(), Failure> {
        let ip = match url.host() {
            Some(Host::Ipv4(v4)) => std::net::IpAddr::V4(v4),
            Some(Host::Ipv6(v6)) => std::net::IpAddr::V6(v6),
            _ => return Ok(()),
        };
        self.policy.check(ip).map_err(|reason| Failure {
            kind: ErrorKind::Blocked,
            message: Blocked {
                host: ip.to_string(),
                ip,
                reason,
            }
            .to_string(),
        })
    }

    /// A redirect is never followed, but one that points at a refused address is an
    /// attempt to reach it (the classic way past a guard that follows redirects), and
    /// is reported as `blocked` rather than as an ordinary 3xx answer.
    fn redirect_to_blocked<B>(&self, url: &Url, response: &http::Response<B>) -> Option<Failure> {
        if !response.status().is_redirection() {
            return None;
        }
        let location = response.headers().get("location")?.to_str().ok()?;
        let target = url.join(location).ok()?;
        let ip = match target.host()? {
            Host::Ipv4(v4) => std::net::IpAddr::V4(v4),
            Host::Ipv6(v6) => std::net::IpAddr::V6(v6),
            Host::Domain(_) => return None,
        };
        let reason = self.policy.check(ip).err()?;
        Some(Failure {
            kind: ErrorKind::Blocked,
            message: format!(
                "blocked: the receiver redirected to {ip}, {reason}; redirects are never followed"
            ),
        })
    }

    async fn exchange(
        &self,
        client: &DeliveryClient,
        request: Outgoing,
    ) -> Result<Answer, Failure> {
        let Outgoing { url, headers, body } = request;
        // A URL is a valid URI (the url crate writes hosts in their ASCII form).
        let uri = http::Uri::try_from(url.as_str()).map_err(|e| Failure {
            kind: ErrorKind::Connect,
            message: format!("cannot send to {url}: {e}"),
        })?;
        let mut outgoing = http::Request::new(Full::new(Bytes::from(body)));
        *outgoing.method_mut() = http::Method::POST;
        *outgoing.uri_mut() = uri;
        *outgoing.headers_mut() = headers;
        // As common HTTP clients send it; some receivers refuse a request without it.
        outgoing
            .headers_mut()
            .entry(http::header::ACCEPT)
            .or_insert(http::HeaderValue::from_static("*/*"));
        let response = client
            .request(outgoing)
            .await
            .map_err(|e| describe(&e, &url))?;
        let status = response.status().as_u16();
        if let Some(failure) = self.redirect_to_blocked(&url, &response) {
            return Err(failure);
        }
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    v.to_str().unwrap_or("<binary>").to_string(),
                )
            })
            .collect();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let mut incoming = response.into_body();
        let mut body = Vec::new();
        // Read at most READ_BODY_LIMIT bytes; a receiver cannot make us buffer more.
        while body.len() < READ_BODY_LIMIT {
            match incoming.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(chunk) = frame.into_data() {
                        let room = READ_BODY_LIMIT - body.len();
                        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    }
                }
                None => break,
                // The status is what counts; a body cut short does not change it.
                Some(Err(_)) => break,
            }
        }
        Ok(Answer {
            status,
            headers,
            body: truncate_utf8(&String::from_utf8_lossy(&body), STORED_BODY_LIMIT),
            retry_after,
        })
    }
}

/// `Retry-After` as seconds or as an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?.to_utc();
    Some((at - Utc::now()).to_std().unwrap_or(Duration::ZERO))
}

/// A transport error in words a person can act on, with its kind.
fn describe(error: &hyper_util::client::legacy::Error, url: &Url) -> Failure {
    let host = url.host_str().unwrap_or("?");
    let port = url.port_or_known_default().unwrap_or(0);
    let mut kind = ErrorKind::Connect;
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(blocked) = cause.downcast_ref::<Blocked>() {
            return Failure {
                kind: ErrorKind::Blocked,
                message: blocked.to_string(),
            };
        }
        if let Some(dns) = cause.downcast_ref::<DnsFailure>() {
            return Failure {
                kind: ErrorKind::Dns,
                message: dns.to_string(),
            };
        }
        if let Some(tls) = rustls_error(cause) {
            return Failure {
                kind: ErrorKind::Tls,
                message: format!("TLS with {host}:{port} failed: {tls}"),
            };
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::TimedOut {
                kind = ErrorKind::Timeout;
            }
            let what = match io.kind() {
                std::io::ErrorKind::ConnectionRefused => Some("connection refused by"),
                std::io::ErrorKind::ConnectionReset => Some("connection reset by"),
                std::io::ErrorKind::HostUnreachable | std::io::ErrorKind::NetworkUnreachable => {
                    Some("no route to")
                }
                _ => None,
            };
            if let Some(what) = what {
                return Failure {
                    kind: ErrorKind::Connect,
                    message: format!("{what} {host}:{port}"),
                };
            }
        }
        source = cause.source();
    }
    Failure {
        kind,
        message: format!("cannot reach {host}:{port}: {}", innermost(error)),
    }
}

/// A rustls error in `error`, looking through the io::Errors it arrives wrapped in
/// (an io::Error's `source` skips what it wraps).
fn rustls_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current = error;
    loop {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        let inner = current.downcast_ref::<std::io::Error>()?.get_ref()?;
        current = inner;
    }
}

fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        let soon = (Utc::now() + chrono::Duration::seconds(120)).to_rfc2822();
        let parsed = parse_retry_after(&soon).unwrap();
        assert!(
            parsed > Duration::from_secs(100) && parsed <= Duration::from_secs(120),
            "{parsed:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
