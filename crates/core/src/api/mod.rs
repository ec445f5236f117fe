//! Typed clients for the IBM Cloud REST APIs the tool uses, written from IBM's published
//! definitions (IBM's API docs and platform-services SDKs). Unknown fields are ignored everywhere;
//! fields whose presence is not guaranteed are optional.

pub(crate) mod account_management;
pub(crate) mod accounts;
pub mod containers;
pub(crate) mod iam_access;
pub mod iam_identity;
pub(crate) mod iam_token;
pub mod resource_manager;
pub mod user_management;

/// Percent-encodes one path segment: a cluster name can hold characters that mean something
/// in a URL, and `.`/`..` would be resolved away by URL normalisation, so dots-only segments
/// are encoded too.
#[must_use]
pub(crate) fn segment(s: &str) -> String {
    let dots_only = !s.is_empty() && s.bytes().all(|b| b == b'.');
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'~') || (b == b'.' && !dots_only) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A guard against a server whose `next` never ends.
pub(crate) const MAX_PAGES: usize = 1000;

/// The next page of a list: the one rule for every paged list (API keys, service IDs, policies,
/// access groups). Only the path and query of the answer's `next` are used, on the host we
/// called: a confused or hostile answer cannot send our token elsewhere, and a `next` written
/// for another name of the same service (a private endpoint answering with the public host, or
/// http for https) does not cut the list short. `None` at the end.
///
/// # Errors
/// A `next` that is not a URL; a list that goes on past [`MAX_PAGES`] (silently stopping would
/// report part of it as the whole).
pub(crate) fn next_page(
    called: &url::Url,
    next: Option<&str>,
    pages: usize,
    service: crate::error::Service,
    what: &str,
) -> crate::error::Result<Option<url::Url>> {
    let Some(next) = next.filter(|n| !n.is_empty()) else { return Ok(None) };
    let bad = |detail: String| crate::Error::BadResponse { service, detail };
    let theirs = called.join(next).map_err(|_| bad(format!("the {what} list's next page is not a URL")))?;
    if pages >= MAX_PAGES {
        return Err(bad(format!("the {what} list goes on past {MAX_PAGES} pages")));
    }
    let mut ours = called.clone();
    ours.set_path(theirs.path());
    ours.set_query(theirs.query());
    Ok(Some(ours))
}

/// Builds `base` + `path` where `path` is already encoded.
pub(crate) fn url(base: &url::Url, path: &str) -> url::Url {
    crate::endpoints::join(base, path)
}

#[cfg(test)]
mod tests {
    #[test]
    fn segments_are_encoded() {
        assert_eq!(super::segment("my-cluster_1.x"), "my-cluster_1.x");
        assert_eq!(super::segment("a/b c?d#e%"), "a%2Fb%20c%3Fd%23e%25");
        assert_eq!(super::segment(".."), "%2E%2E");
        assert_eq!(super::segment("é"), "%C3%A9");
    }

    #[test]
    fn encoded_segments_survive_url_building() {
        let base = url::Url::parse("http://127.0.0.1:1/global").unwrap();
        let u = super::url(&base, &format!("/v1/logging/{}/clusterkeyowner", super::segment("../../x")));
        assert_eq!(u.path(), "/global/v1/logging/..%2F..%2Fx/clusterkeyowner");
    }
}
