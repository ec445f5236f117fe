//! The emulator's own PKI and HTTPS serving: a CA generated at start (`rcgen`), a server
//! certificate for `127.0.0.1` and `localhost`, and client certificates for the admin
//! kubeconfigs the containers API hands out. The Kubernetes API of every emulated cluster is
//! served over HTTPS and asks for such a client certificate, as an IBM cluster master does.
//!
//! rustls runs with the ring provider, named explicitly: a test process may link a second
//! provider (its own HTTP clients), and a process-wide default would then be ambiguous.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::ConnectInfo;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};

/// A client certificate issued by the emulator's CA: what an admin kubeconfig carries.
#[derive(Debug, Clone)]
pub(crate) struct ClientCert {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Its private key, PEM (PKCS#8).
    pub key_pem: String,
    /// SHA-256 of the certificate's DER, hex: how the server recognises it.
    pub fingerprint: String,
}

/// The fingerprint of the client certificate a TLS connection presented, as a request extension.
#[derive(Debug, Clone)]
pub(crate) struct PeerCert(pub String);

/// The emulator's certificate authority and server identity.
pub(crate) struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: Vec<u8>,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pki").finish_non_exhaustive()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// SHA-256 of DER bytes, hex.
#[must_use]
pub(crate) fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der).iter().fold(String::with_capacity(64), |mut s, b| {
        s.push_str(&format!("{b:02x}"));
        s
    })
}

impl Pki {
    /// A new CA (P-256) and a server certificate for `127.0.0.1`, `::1` and `localhost`.
    ///
    /// # Errors
    /// When key generation or signing fails.
    pub(crate) fn new() -> Result<Self, rcgen::Error> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.distinguished_name.push(DnType::CommonName, "cluster-api-key emulator CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "::1".to_owned(), "localhost".to_owned()])?;
        params.distinguished_name.push(DnType::CommonName, "127.0.0.1");
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &ca)?;
        Ok(Self { server_chain: vec![cert.der().clone(), ca.der().clone()], server_key: key.serialize_der(), ca })
    }

    /// The CA certificate, PEM: what a client must trust.
    #[must_use]
    pub(crate) fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// Issues a client certificate (`CN=common_name`, `O=organization`).
    ///
    /// # Errors
    /// When key generation or signing fails.
    pub(crate) fn issue_client(&self, common_name: &str, organization: &str) -> Result<ClientCert, rcgen::Error> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.distinguished_name.push(DnType::OrganizationName, organization);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.ca)?;
        Ok(ClientCert { cert_pem: cert.pem(), key_pem: key.serialize_pem(), fingerprint: fingerprint(cert.der()) })
    }

    /// A rustls server configuration; with `client_auth`, a client certificate signed by this
    /// CA is required.
    ///
    /// # Errors
    /// When rustls refuses the configuration.
    pub(crate) fn server_config(&self, client_auth: bool) -> Result<rustls::ServerConfig, rustls::Error> {
        let builder = rustls::ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
        let builder = if client_auth {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(self.ca.der().clone())?;
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .map_err(|e| rustls::Error::General(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key.clone()));
        let mut config = builder.with_single_cert(self.server_chain.clone(), key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

/// Serves `app` over TLS on `listener` until the task is dropped. Each request carries the
/// peer address (`ConnectInfo`) and, when one was presented, the client certificate's
/// fingerprint ([`PeerCert`]).
pub(crate) async fn serve(listener: tokio::net::TcpListener, config: rustls::ServerConfig, app: Router) {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    loop {
        let Ok((tcp, peer)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            // A client that gives up on the handshake (an untrusted CA, no certificate) is its
            // own business; the connection just ends.
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let cert = tls.get_ref().1.peer_certificates().and_then(|c| c.first()).map(|c| fingerprint(c));
            let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                if let Some(c) = &cert {
                    req.extensions_mut().insert(PeerCert(c.clone()));
                }
                tower::ServiceExt::oneshot(app.clone(), req.map(axum::body::Body::new))
            });
            let io = hyper_util::rt::TokioIo::new(tls);
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
        });
    }
}
