//! How a webhook checks its receiver's certificate: against the system's roots (the
//! default), also against a CA bundle of its own, or (loudly named, for one webhook
//! at a time) not at all.

use serde::{Deserialize, Serialize};

/// A CA bundle is at most this long (PEM text).
pub const MAX_CA_BUNDLE_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsOptions {
    /// PEM certificates trusted for this webhook, beside the system's roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<String>,
    /// Accept any certificate: anyone on the path can read and change the requests.
    /// Named so that nobody turns it on without reading it.
    #[serde(default)]
    pub dangerously_skip_certificate_verification: bool,
}

impl TlsOptions {
    pub fn is_default(&self) -> bool {
        *self == TlsOptions::default()
    }

    /// `Err((field, message))` naming what is wrong.
    pub fn validate(self) -> Result<TlsOptions, (String, String)> {
        if let Some(bundle) = &self.ca_bundle {
            let field = "tls.ca_bundle".to_string();
            if bundle.len() > MAX_CA_BUNDLE_BYTES {
                return Err((
                    field,
                    format!("must be at most {MAX_CA_BUNDLE_BYTES} bytes of PEM"),
                ));
            }
            // Read as the delivery client reads it (src/delivery/http_client.rs).
            match pem_certificates(bundle) {
                Ok(certificates)
                    if !certificates.is_empty()
                        && bundle.contains("-----BEGIN CERTIFICATE-----") => {}
                _ => {
                    return Err((
                        field,
                        "must be one or more PEM certificates (-----BEGIN CERTIFICATE-----)"
                            .to_string(),
                    ));
                }
            }
        }
        Ok(self)
    }
}

/// The certificates of a PEM bundle, in order; other PEM sections are skipped.
pub fn pem_certificates(
    bundle: &str,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, rustls::pki_types::pem::Error> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(bundle.as_bytes()).collect()
}
