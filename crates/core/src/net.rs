//! The network around the tool: proxies (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`)
//! and extra certificate authorities (`SSL_CERT_FILE`, `SSL_CERT_DIR`), as corporate networks
//! with TLS inspection need them.
//!
//! One decision per URL ([`ProxySettings::proxy_for`]) is used by the HTTP client, the
//! Kubernetes client and the trace, so what the trace says is what was done. Proxy credentials
//! never leave this module except inside the proxy URL handed to a client: they are registered
//! as secrets (scrubbed from any text) and [`redacted`] shows a proxy without them.

use std::net::IpAddr;
use std::path::Path;

use url::Url;

use crate::env::{self, Env};
use crate::error::{Error, Result};

/// Proxies from the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxySettings {
    /// For `https://` URLs, and the variable it came from.
    pub https: Option<(Url, &'static str)>,
    /// For `http://` URLs, and the variable it came from.
    pub http: Option<(Url, &'static str)>,
    /// `NO_PROXY` entries, lower-cased.
    pub no_proxy: Vec<String>,
}

/// A proxy URL from a variable: `host:port` means `http://host:port`; only `http` and `https`
/// proxies are supported (the two that both HTTP clients speak).
fn parse_proxy(name: &'static str, value: &str) -> Result<Url> {
    let value = value.trim();
    let with_scheme = if value.contains("://") { value.to_owned() } else { format!("http://{value}") };
    // The value is shown with its scheme but nothing else before an `@` (credentials), so that
    // a refused `socks5://user:pass@host` still says which scheme was refused.
    let shown = match value.rsplit_once('@') {
        Some((before, host)) => match before.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://{}@{host}", crate::secret::HIDDEN),
            None => format!("{}@{host}", crate::secret::HIDDEN),
        },
        None => value.to_owned(),
    };
    // Not `Error::bad_setting`'s length rule: what is left of a proxy URL is a host, not a key.
    let bad = |why: &str| Error::BadSetting {
        name: name.to_owned(),
        value: format!("'{}'", shown.chars().take(120).collect::<String>()),
        expected: why.to_owned(),
    };
    let url = Url::parse(&with_scheme).map_err(|_| bad("a proxy URL such as http://proxy.example.com:3128"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("an http:// or https:// proxy URL (other proxies are not supported)"));
    }
    if url.host_str().is_none() {
        return Err(bad("a proxy URL with a host"));
    }
    if let Some(p) = url.password() {
        crate::secret::register(p);
        // As the client sends it: percent-decoded (a `+` stays a `+`).
        if let Ok(decoded) = percent_encoding::percent_decode_str(p).decode_utf8() {
            crate::secret::register(&decoded);
        }
    }
    Ok(url)
}

impl ProxySettings {
    /// Reads the variables (lower case first, as curl does).
    ///
    /// # Errors
    /// [`Error::BadSetting`] for a proxy that is not an `http`/`https` URL.
    pub(crate) fn from_env(env: &Env) -> Result<Self> {
        let pick = |names: &[&'static str]| -> Result<Option<(Url, &'static str)>> {
            for name in names {
                if let Some(v) = env.get(name).filter(|v| !v.trim().is_empty()) {
                    return Ok(Some((parse_proxy(name, v)?, *name)));
                }
            }
            Ok(None)
        };
        let https = pick(&[env::HTTPS_PROXY_LOWER, env::HTTPS_PROXY, env::ALL_PROXY_LOWER, env::ALL_PROXY])?;
        let http = pick(&[env::HTTP_PROXY_LOWER, env::HTTP_PROXY, env::ALL_PROXY_LOWER, env::ALL_PROXY])?;
        let no_proxy = env
            .get(env::NO_PROXY_LOWER)
            .or_else(|| env.get(env::NO_PROXY))
            .unwrap_or_default()
            .split([',', ' '])
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect();
        Ok(Self { https, http, no_proxy })
    }

    /// The proxy for `url`, with the variable it came from; `None` to connect directly.
    #[must_use]
    pub(crate) fn proxy_for(&self, url: &Url) -> Option<(&Url, &'static str)> {
        let proxy = match url.scheme() {
            "https" => self.https.as_ref(),
            "http" => self.http.as_ref(),
            _ => None,
        }?;
        let host = url.host_str()?.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        let port = url.port_or_known_default();
        (!self.no_proxy.iter().any(|entry| bypasses(entry, &host, port))).then_some((&proxy.0, proxy.1))
    }
}

/// Whether one `NO_PROXY` entry covers `host`: `*`; a domain, which covers its subdomains (a
/// leading `.` or `*.` changes nothing); an IP address or CIDR block; any of them with `:port`.
fn bypasses(entry: &str, host: &str, port: Option<u16>) -> bool {
    if entry == "*" {
        return true;
    }
    // `host:port` (an IPv6 entry keeps its colons unless bracketed).
    let (name, entry_port) = match entry.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') || h.ends_with(']') => (h, p.parse::<u16>().ok()),
        _ => (entry, None),
    };
    if entry_port.is_some_and(|p| Some(p) != port) {
        return false;
    }
    let name = name.trim_start_matches('[').trim_end_matches(']');
    if let Some((net, bits)) = name.split_once('/') {
        return match (net.parse::<IpAddr>(), bits.parse::<u8>(), host.parse::<IpAddr>()) {
            (Ok(net), Ok(bits), Ok(ip)) => in_cidr(ip, net, bits),
            _ => false,
        };
    }
    if let (Ok(a), Ok(b)) = (name.parse::<IpAddr>(), host.parse::<IpAddr>()) {
        return a == b;
    }
    let domain = name.trim_start_matches("*.").trim_start_matches('.');
    !domain.is_empty() && (host == domain || host.ends_with(&format!(".{domain}")))
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - u32::from(bits)) };
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - u32::from(bits)) };
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// A proxy URL without its credentials, for the trace and messages.
#[must_use]
pub(crate) fn redacted(url: &Url) -> String {
    let mut shown = url.clone();
    if !url.username().is_empty() || url.password().is_some() {
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        let text = shown.as_str().trim_end_matches('/').to_owned();
        return text.replacen("://", &format!("://{}@", crate::secret::HIDDEN), 1);
    }
    shown.as_str().trim_end_matches('/').to_owned()
}

/// Extra certificate authorities: every certificate in `SSL_CERT_FILE` and in the files of
/// `SSL_CERT_DIR` (PEM), as DER, plus a warning per path that could not be used. The system's
/// trust store stays in use; these are added to it.
#[must_use]
pub(crate) fn extra_roots(env: &Env) -> (Vec<Vec<u8>>, Vec<String>) {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let mut roots = Vec::new();
    let mut warnings = Vec::new();
    let read = |path: &Path, name: &str, single: bool, roots: &mut Vec<Vec<u8>>, warnings: &mut Vec<String>| {
        match std::fs::read(path) {
            Ok(bytes) => {
                let before = roots.len();
                roots.extend(
                    CertificateDer::pem_slice_iter(&bytes).filter_map(std::result::Result::ok).map(|c| c.to_vec()),
                );
                if single && roots.len() == before {
                    warnings.push(format!("{name} ({}) holds no PEM certificate; it was ignored.", path.display()));
                }
            }
            Err(e) => warnings.push(format!("{name} ({}) cannot be read ({e}); it was ignored.", path.display())),
        }
    };
    if let Some(f) = env.get(env::SSL_CERT_FILE).filter(|f| !f.is_empty()) {
        read(Path::new(f), env::SSL_CERT_FILE, true, &mut roots, &mut warnings);
    }
    if let Some(dirs) = env.get(env::SSL_CERT_DIR).filter(|d| !d.is_empty()) {
        // A list, as OpenSSL reads it (':' on Unix, ';' on Windows).
        let sep = if cfg!(windows) { ';' } else { ':' };
        for dir in dirs.split(sep).filter(|d| !d.is_empty()) {
            match std::fs::read_dir(dir) {
                Ok(entries) => {
                    let mut files: Vec<_> = entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
                    files.sort();
                    for f in files {
                        read(&f, env::SSL_CERT_DIR, false, &mut roots, &mut warnings);
                    }
                }
                Err(e) => warnings.push(format!("{} ({dir}) cannot be read ({e}); it was ignored.", env::SSL_CERT_DIR)),
            }
        }
    }
    roots.sort();
    roots.dedup();
    (roots, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> ProxySettings {
        ProxySettings::from_env(&Env::from_pairs(pairs.iter().copied())).unwrap()
    }

    fn via(s: &ProxySettings, url: &str) -> Option<String> {
        s.proxy_for(&Url::parse(url).unwrap()).map(|(u, name)| format!("{} {name}", redacted(u)))
    }

    #[test]
    fn the_variables_pick_a_proxy_per_scheme() {
        let s = settings(&[("HTTPS_PROXY", "http://p:3128"), ("http_proxy", "q:8080")]);
        assert_eq!(via(&s, "https://iam.cloud.ibm.com/identity/token").as_deref(), Some("http://p:3128 HTTPS_PROXY"));
        assert_eq!(via(&s, "http://example.com/").as_deref(), Some("http://q:8080 http_proxy"));
        let lower_first = settings(&[("HTTPS_PROXY", "http://upper:1"), ("https_proxy", "http://lower:2")]);
        assert_eq!(via(&lower_first, "https://x/").as_deref(), Some("http://lower:2 https_proxy"));
        let all = settings(&[("ALL_PROXY", "http://all:3")]);
        assert_eq!(via(&all, "https://x/").as_deref(), Some("http://all:3 ALL_PROXY"));
        assert_eq!(via(&settings(&[]), "https://x/"), None);
    }

    #[test]
    fn no_proxy_covers_domains_addresses_blocks_and_ports() {
        let s = settings(&[
            ("HTTPS_PROXY", "http://p:3128"),
            ("NO_PROXY", ".internal.example, cloud.ibm.com,10.0.0.0/8 ,::1, 127.0.0.1:9443"),
        ]);
        for direct in [
            "https://containers.cloud.ibm.com/global",
            "https://cloud.ibm.com/",
            "https://a.internal.example/",
            "https://10.1.2.3/",
            "https://[::1]:8443/",
            "https://127.0.0.1:9443/",
        ] {
            assert_eq!(via(&s, direct), None, "{direct}");
        }
        for proxied in
            ["https://notcloud.ibm.com.evil/", "https://11.0.0.1/", "https://127.0.0.1:9444/", "https://ibm.com/"]
        {
            assert!(via(&s, proxied).is_some(), "{proxied}");
        }
        assert_eq!(via(&settings(&[("HTTPS_PROXY", "p:1"), ("no_proxy", "*")]), "https://x/"), None);
    }

    #[test]
    fn credentials_are_never_shown_and_odd_proxies_are_refused() {
        let s = settings(&[("HTTPS_PROXY", "http://alice:s3cret-proxy-pass@p:3128")]);
        let shown = via(&s, "https://x/").unwrap();
        assert_eq!(shown, "http://[PRIVATE DATA HIDDEN]@p:3128 HTTPS_PROXY");
        assert!(!crate::secret::scrub("login s3cret-proxy-pass failed").contains("s3cret"));
        for bad in ["socks5://p:1080", "http://"] {
            let e = ProxySettings::from_env(&Env::from_pairs([("HTTPS_PROXY", bad)])).unwrap_err();
            assert!(matches!(e, Error::BadSetting { ref name, .. } if name == "HTTPS_PROXY"), "{bad}: {e}");
        }
        // A refused proxy with credentials: the scheme is said, the credentials are not.
        let e = ProxySettings::from_env(&Env::from_pairs([("https_proxy", "socks5://al:pw-secret@p:1080")]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "https_proxy is 'socks5://[PRIVATE DATA HIDDEN]@p:1080', not an http:// or https:// proxy URL \
             (other proxies are not supported)."
        );
    }

    #[test]
    fn extra_roots_come_from_a_file_and_a_folder() {
        let dir = tempfile::tempdir().unwrap();
        let pki = |cn: &str| {
            // A syntactically valid PEM block is enough here: only its DER bytes are carried.
            let der = format!("not-really-der-{cn}");
            let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, der.as_bytes());
            (format!("-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n"), der.into_bytes())
        };
        let (a, a_der) = pki("a");
        let (b, b_der) = pki("b");
        std::fs::write(dir.path().join("bundle.pem"), &a).unwrap();
        let certs = dir.path().join("certs");
        std::fs::create_dir(&certs).unwrap();
        std::fs::write(certs.join("b.0"), &b).unwrap();
        std::fs::write(certs.join("README"), "not a certificate").unwrap();
        let file = dir.path().join("bundle.pem");
        let env =
            Env::from_pairs([("SSL_CERT_FILE", file.to_str().unwrap()), ("SSL_CERT_DIR", certs.to_str().unwrap())]);
        let (roots, warnings) = extra_roots(&env);
        assert_eq!(roots, {
            let mut v = vec![a_der, b_der];
            v.sort();
            v
        });
        assert!(warnings.is_empty(), "{warnings:?}");
        let env = Env::from_pairs([("SSL_CERT_FILE", "/nonexistent/ca.pem")]);
        let (roots, warnings) = extra_roots(&env);
        assert!(roots.is_empty());
        assert!(warnings[0].contains("SSL_CERT_FILE (/nonexistent/ca.pem) cannot be read"), "{warnings:?}");
    }
}
