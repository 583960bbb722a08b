//! The client attempts are sent with: hyper's pooled keep-alive client over the SSRF
//! guard's resolver, with rustls checking certificates against the system's roots.
//!
//! hyper directly rather than through reqwest: an attempt needs none of reqwest's
//! layers (redirects are never followed, the client never re-sends, no proxy, no
//! cookies), and under delivery load those layers cost about 7 % of the server's CPU
//! (perf: the redirect and retry wrappers, a URL parsed again from every response,
//! request and response conversions). The CLI still uses reqwest.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use super::address_guard::{AddressPolicy, GuardedResolver, system_lookup};
use crate::domain::tls::{TlsOptions, pem_certificates};

/// One pool of connections, for webhooks with one set of TLS options.
pub type DeliveryClient = Client<HttpsConnector<HttpConnector<GuardedResolver>>, Full<Bytes>>;

/// A client for webhooks with `tls`, or why its options cannot be used.
pub fn build(policy: &Arc<AddressPolicy>, tls: &TlsOptions) -> Result<DeliveryClient, String> {
    let mut http = HttpConnector::new_with_resolver(GuardedResolver {
        policy: policy.clone(),
        lookup: system_lookup(),
    });
    // The same connector serves https: the TLS layer wraps it.
    http.enforce_http(false);
    http.set_nodelay(true);
    let https = HttpsConnectorBuilder::new()
        .with_tls_config(tls_config(tls)?)
        .https_or_http()
        .enable_all_versions()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .build(https))
}

fn tls_config(tls: &TlsOptions) -> Result<rustls::ClientConfig, String> {
    // The process-wide provider, the one reqwest (the CLI) uses too.
    crate::init_tls();
    let provider = CryptoProvider::get_default()
        .cloned()
        .expect("init_tls installs a provider");
    let verifier: Arc<dyn ServerCertVerifier> = if tls.dangerously_skip_certificate_verification {
        Arc::new(AcceptAnyCertificate(provider.clone()))
    } else if let Some(bundle) = &tls.ca_bundle {
        let extra = pem_certificates(bundle)
            .map_err(|e| format!("the webhook's CA bundle cannot be read: {e}"))?;
        Arc::new(
            rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
                .map_err(|e| format!("the webhook's CA bundle cannot be used: {e}"))?,
        )
    } else {
        Arc::new(
            rustls_platform_verifier::Verifier::new(provider.clone())
                .map_err(|e| format!("the system's certificate roots cannot be used: {e}"))?,
        )
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| format!("no TLS version to offer: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// For a webhook that asked, loudly, for no certificate checks: any certificate
/// chain is taken. The handshake's signatures are still checked against the
/// certificate presented, so the peer holds that certificate's key.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
