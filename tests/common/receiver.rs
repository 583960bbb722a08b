//! A webhook receiver for tests: a real HTTP server on 127.0.0.1:0 that records every
//! request and answers from a script (then 200).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }
}

/// How to answer one request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: String::new(),
            delay: Duration::ZERO,
        }
    }
}

#[derive(Default)]
struct Shared {
    received: Vec<Received>,
    script: VecDeque<Reply>,
    /// Answer used when the script is empty; 200 when `None`.
    default: Option<Reply>,
}

#[derive(Clone)]
pub struct Receiver {
    pub address: SocketAddr,
    shared: Arc<Mutex<Shared>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        Receiver::start_scripted(Vec::new(), None).await
    }

    /// Answers with `script` in order, then with `default` (or 200).
    pub async fn start_scripted(script: Vec<Reply>, default: Option<Reply>) -> Receiver {
        let shared = Arc::new(Mutex::new(Shared {
            received: Vec::new(),
            script: script.into(),
            default,
        }));
        let app = Router::new().fallback(answer).with_state(shared.clone());
        // The accept queue as deep as the kernel allows (somaxconn, 4096 here; Go's
        // servers take the same). At tokio's 1,024, the 1,000 connections a fan-out
        // opens at once overflowed it in 4 of 23 bench runs; the dropped handshake's
        // data was sent again after the 200 ms retransmission timeout, and that one
        // straggler was the line's "last receipt" (225-245 ms against 59-123 ms).
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(4096).unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver { address, shared }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.address)
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().unwrap().received.clone()
    }

    pub fn count(&self) -> usize {
        self.shared.lock().unwrap().received.len()
    }

    /// Waits until at least `n` requests arrived; panics after `limit`.
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Received> {
        let deadline = Instant::now() + limit;
        loop {
            // Counted, not copied, while waiting: a copy of every request received so
            // far, every 10 ms and under the lock the handler needs, took a core and
            // stalled the receiver in the benchmarks' 50,000- and 100,000-request lines.
            let count = self.count();
            if count >= n {
                return self.received();
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} requests within {limit:?}, got {count}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn answer(
    State(shared): State<Arc<Mutex<Shared>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = {
        let mut shared = shared.lock().unwrap();
        shared.received.push(Received {
            headers,
            body,
            at: Instant::now(),
        });
        shared
            .script
            .pop_front()
            .or_else(|| shared.default.clone())
            .unwrap_or_else(|| Reply::status(200))
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    for (name, value) in reply.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}
