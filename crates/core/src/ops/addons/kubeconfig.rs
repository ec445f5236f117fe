//! IBM's admin kubeconfig ZIP, read in memory.
//!
//! `applyRBACAndGetKubeconfig` answers with a flat ZIP (the older `/config` call, with one
//! `kube*` folder): a kubeconfig (`.yaml` or `.yml`) that names its PEM files by relative name
//! (`certificate-authority: ca-....pem`, `client-certificate: admin.pem`, `client-key:
//! admin-key.pem`). kube-rs resolves relative names only for a kubeconfig read from a file,
//! so the PEMs are inlined as `*-data` here instead: the client key never touches the disk.

use std::collections::HashMap;
use std::io::Read as _;

use base64::Engine as _;
use kube::config::Kubeconfig;

/// The largest entry read (a kubeconfig and its PEMs are a few KiB).
const MAX_ENTRY: u64 = 1 << 20;

/// Why a ZIP is not a usable kubeconfig. Messages name files, never their content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum KubeconfigError {
    /// Not a ZIP, or a damaged one.
    #[error("the kubeconfig answer is not a readable ZIP: {0}")]
    NotZip(String),
    /// No `.yaml`/`.yml` inside, or more than one.
    #[error("the kubeconfig ZIP holds {0} kubeconfig files (expected one .yaml)")]
    KubeconfigCount(usize),
    /// The kubeconfig names a file that is not in the ZIP.
    #[error("the kubeconfig names '{0}', which its ZIP does not hold")]
    MissingFile(String),
    /// The YAML is not a kubeconfig.
    #[error("the kubeconfig in the ZIP cannot be read: {0}")]
    BadYaml(String),
}

/// The last path component (entries may sit in a `kube*` folder; references are relative).
fn base_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// Reads the ZIP's kubeconfig with every referenced PEM inlined.
///
/// # Errors
/// [`KubeconfigError`] for a damaged ZIP, a ZIP without exactly one kubeconfig, a reference
/// to a file it does not hold, or YAML that is not a kubeconfig.
pub(crate) fn from_zip(bytes: &[u8]) -> Result<Kubeconfig, KubeconfigError> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| KubeconfigError::NotZip(e.to_string()))?;
    let mut files: HashMap<String, Vec<u8>> = HashMap::new();
    let mut yamls: Vec<String> = Vec::new();
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(|e| KubeconfigError::NotZip(e.to_string()))?;
        if entry.is_dir() {
            continue;
        }
        let name = base_name(&entry.name().map_err(|e| KubeconfigError::NotZip(e.to_string()))?).to_owned();
        let mut content = Vec::new();
        entry.take(MAX_ENTRY).read_to_end(&mut content).map_err(|e| KubeconfigError::NotZip(e.to_string()))?;
        let ext = std::path::Path::new(&name).extension().and_then(|e| e.to_str()).unwrap_or_default();
        if ext.eq_ignore_ascii_case("yaml") || ext.eq_ignore_ascii_case("yml") {
            yamls.push(name.clone());
        }
        files.insert(name, content);
    }
    if yamls.len() != 1 {
        return Err(KubeconfigError::KubeconfigCount(yamls.len()));
    }
    let text = String::from_utf8_lossy(&files[&yamls[0]]).into_owned();
    let mut kc = Kubeconfig::from_yaml(&text).map_err(|e| KubeconfigError::BadYaml(e.to_string()))?;
    let b64 = |name: &str| -> Result<String, KubeconfigError> {
        files
            .get(base_name(name))
            .map(|c| base64::engine::general_purpose::STANDARD.encode(c))
            .ok_or_else(|| KubeconfigError::MissingFile(name.to_owned()))
    };
    for c in kc.clusters.iter_mut().filter_map(|c| c.cluster.as_mut()) {
        if let Some(path) = c.certificate_authority.take() {
            c.certificate_authority_data = Some(b64(&path)?);
        }
    }
    for a in kc.auth_infos.iter_mut().filter_map(|a| a.auth_info.as_mut()) {
        if let Some(path) = a.client_certificate.take() {
            a.client_certificate_data = Some(b64(&path)?);
        }
        if let Some(path) = a.client_key.take() {
            a.client_key_data = Some(secrecy::SecretString::from(b64(&path)?));
        }
    }
    Ok(kc)
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn zip(files: &[(&str, &str)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, content) in files {
            if name.ends_with('/') {
                w.add_directory(*name, zip::write::SimpleFileOptions::default()).unwrap();
                continue;
            }
            w.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            w.write_all(content.as_bytes()).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    const YAML: &str = "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority: ca-dal10-c1.pem\n    server: https://c100.us-south.containers.cloud.ibm.com:31234\n  name: c1\ncontexts:\n- context:\n    cluster: c1\n    user: admin\n  name: c1\ncurrent-context: c1\nkind: Config\nusers:\n- name: admin\n  user:\n    client-certificate: admin.pem\n    client-key: admin-key.pem\n";

    #[test]
    fn pems_named_by_relative_name_are_inlined() {
        for layout in ["", "kubeConfig123/"] {
            let name = |f: &str| format!("{layout}{f}");
            let mut files = vec![
                (name("kube-config-dal10-c1.yaml"), YAML),
                (name("admin.pem"), "CERT"),
                (name("admin-key.pem"), "KEY"),
                (name("ca-dal10-c1.pem"), "CA"),
            ];
            if !layout.is_empty() {
                files.insert(0, (layout.to_owned(), ""));
            }
            let refs: Vec<(&str, &str)> = files.iter().map(|(n, c)| (n.as_str(), *c)).collect();
            let kc = from_zip(&zip(&refs)).unwrap();
            let c = kc.clusters[0].cluster.as_ref().unwrap();
            assert_eq!(c.certificate_authority, None);
            assert_eq!(c.certificate_authority_data.as_deref(), Some("Q0E="));
            let a = kc.auth_infos[0].auth_info.as_ref().unwrap();
            assert_eq!((a.client_certificate.as_deref(), a.client_key.as_deref()), (None, None));
            assert_eq!(a.client_certificate_data.as_deref(), Some("Q0VSVA=="));
            let key = a.client_key_data.as_ref().map(|k| secrecy::ExposeSecret::expose_secret(k).to_owned());
            assert_eq!(key.as_deref(), Some("S0VZ"));
        }
    }

    #[test]
    fn broken_answers_are_named_without_their_content() {
        assert!(matches!(from_zip(b"<html>504</html>"), Err(KubeconfigError::NotZip(_))));
        assert!(matches!(from_zip(&zip(&[("admin.pem", "x")])), Err(KubeconfigError::KubeconfigCount(0))));
        let missing = from_zip(&zip(&[("k.yaml", YAML), ("admin.pem", "CERT"), ("ca-dal10-c1.pem", "CA")]));
        assert!(matches!(missing, Err(KubeconfigError::MissingFile(f)) if f == "admin-key.pem"));
        let e = from_zip(&zip(&[("k.yaml", "clusters: [not: valid")])).unwrap_err();
        assert!(matches!(e, KubeconfigError::BadYaml(_)), "{e:?}");
    }
}
