//! Certificate checks per webhook: on by default, a webhook's own CA bundle, and the
//! loudly named option to skip them, against a real TLS receiver on 127.0.0.1.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{TestApp, error_fields};
use reqwest::StatusCode;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A CA and a certificate for 127.0.0.1 signed by it, made with `openssl`.
fn make_certificates(dir: &Path) -> (String, String, String) {
    let run = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=hookcast test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
    ]);
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    (read("ca.pem"), read("leaf.pem"), read("leaf.key"))
}

/// Answers every HTTPS request 200; counts them.
async fn tls_receiver(certificate: &str, key: &str) -> (String, Arc<AtomicUsize>) {
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(certificate.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://127.0.0.1:{}/hook",
        listener.local_addr().unwrap().port()
    );
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, counted) = (acceptor.clone(), counted.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                // One request per connection is all the test needs: read the head
                // and the body its content-length announces, answer, close.
                let mut seen = Vec::new();
                let mut buffer = [0u8; 8192];
                loop {
                    let Ok(n) = tls.read(&mut buffer).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buffer[..n]);
                    let text = String::from_utf8_lossy(&seen).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                let (name, value) = l.split_once(':')?;
                                name.eq_ignore_ascii_case("content-length")
                                    .then(|| value.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            break;
                        }
                    }
                }
                counted.fetch_add(1, Ordering::SeqCst);
                let _ = tls
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (url, count)
}

fn probe(url: &str, tls: Value) -> Value {
    json!({"name": "tls", "url": url, "event_types": ["dr.host.disconnected"], "tls": tls})
}

async fn send_test(app: &TestApp, body: Value) -> (bool, String) {
    let reply = app.post("/api/v1/webhooks/test", body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    (
        reply.body["ok"].as_bool().unwrap(),
        format!("{}", reply.body),
    )
}

#[tokio::test]
async fn certificates_are_checked_unless_a_webhook_says_otherwise() {
    hookcast::init_tls();
    let dir = tempfile::tempdir().unwrap();
    let (ca, leaf, key) = make_certificates(dir.path());
    let (url, count) = tls_receiver(&leaf, &key).await;
    let app = TestApp::start_with(
        &dir.path().join("data"),
        &[("HOOKCAST_ALLOWED_CIDRS", "127.0.0.0/8")],
    )
    .await;

    // On by default: a certificate from an unknown CA is refused before any request.
    let (ok, reply) = send_test(&app, probe(&url, Value::Null)).await;
    assert!(!ok, "{reply}");
    assert!(reply.contains("TLS with 127.0.0.1"), "{reply}");
    assert_eq!(count.load(Ordering::SeqCst), 0);

    // The webhook's own CA bundle makes it trusted.
    let (ok, reply) = send_test(&app, probe(&url, json!({"ca_bundle": ca}))).await;
    assert!(ok, "{reply}");
    assert_eq!(count.load(Ordering::SeqCst), 1);

    // Skipping verification reaches it without the bundle, and says so when read back.
    let created = app
        .post(
            "/api/v1/webhooks",
            probe(
                &url,
                json!({"dangerously_skip_certificate_verification": true}),
            ),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        created.body["tls"]["dangerously_skip_certificate_verification"],
        true
    );
    let id = created.body["id"].as_str().unwrap();
    let sent = app
        .post(&format!("/api/v1/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(sent.body["ok"], true, "{}", sent.text);
    assert_eq!(count.load(Ordering::SeqCst), 2);

    // Another webhook without the option is still checked.
    let (ok, _) = send_test(&app, probe(&url, Value::Null)).await;
    assert!(!ok);
    assert_eq!(count.load(Ordering::SeqCst), 2);

    // A bundle that is not PEM is refused, naming the field.
    let bad = app
        .post(
            "/api/v1/webhooks",
            probe(&url, json!({"ca_bundle": "not a certificate"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&bad), vec!["tls.ca_bundle".to_string()]);
    app.stop().await;
}
