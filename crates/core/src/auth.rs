//! The one token source of the process.
//!
//! It hands out a valid bearer token, refreshing at most once however many requests ask at the
//! same time (an async mutex serialises the check), and at most once more after a service
//! answers 401 with a token we believed valid. For the CLI session, the refresh happens under
//! the Go SDK's lock on `config.json`, after re-reading the file: if another process (another
//! plugin, the CLI itself, a parallel run of this tool) refreshed meanwhile, its token is
//! adopted instead of spending the refresh token again, which IAM would reject because refresh
//! tokens rotate. The new tokens are written back exactly as the SDK writes them.
//! With `IBMCLOUD_API_KEY`, tokens come from the API-key grant and stay in memory.
//!
//! [`Client`] is the transport ([`crate::http`], which knows nothing of tokens) plus this token
//! source: it adds the bearer token, refuses to send it over plain HTTP to anything but
//! loopback, and answers a 401 with one refresh and one replay (a write only after the
//! service's own 401).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::sync::Mutex;
use url::Url;

use crate::api::iam_token::{self, TokenResponse};
use crate::config_file::ConfigFile;
use crate::context::{CliConfig, SessionSource};
use crate::error::{Error, Result, Service};
use crate::http::{Http, Request, Response};
use crate::jwt::{self, Identity};
use crate::secret::Secret;

#[derive(Debug, Default)]
struct State {
    /// `Bearer <jwt>`.
    token: Option<Secret>,
    generation: u64,
    /// Another account's first token, coming from a [`Chain`]: awaited on the first
    /// [`Auth::bearer`]; once it has answered, tokens are renewed the usual way.
    pending: Option<tokio::sync::oneshot::Receiver<Handoff>>,
    /// The chain's refusal of this account (account, IAM's answer): said again to every later
    /// request rather than asked again (no access does not change within a run).
    unreachable: Option<(String, String)>,
}

/// What a [`Chain`] hands one account.
#[derive(Debug)]
enum Handoff {
    /// Its token.
    Token(TokenResponse),
    /// The exchange for it failed: the account's error.
    Failed(Error),
}

#[derive(Debug, Clone)]
enum Source {
    Cli(ConfigFile),
    ApiKey(Secret),
    /// Another account than the targeted one, from the same login: tokens with `bss_account`,
    /// kept in memory only.
    Linked {
        login: Box<Source>,
        account: Linked,
    },
}

/// The account a linked token source is for.
#[derive(Debug, Clone)]
struct Linked {
    /// BSS account ID.
    bss: String,
    /// IMS account ID, when known.
    ims: Option<String>,
}

/// The token source.
#[derive(Debug)]
pub struct Auth {
    source: Source,
    http: Arc<Http>,
    iam: Url,
    state: Mutex<State>,
    refreshes: AtomicU32,
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Whether a stored token can still be sent (a readable JWT, not expired with the SDK margin).
fn usable(token: &str) -> bool {
    !token.trim().is_empty() && jwt::decode(token).is_ok_and(|id| !id.is_expired_at(now()))
}

impl Auth {
    /// A token source for a session; `initial` is the config already read by the context.
    #[must_use]
    pub(crate) fn new(session: &SessionSource, initial: Option<&CliConfig>, http: Arc<Http>, iam: Url) -> Self {
        let mut state = State::default();
        let source = match session {
            SessionSource::CliConfig(path) => {
                if let Some(c) = initial.filter(|c| !c.iam_token.is_empty()) {
                    state.token = Some(Secret::new(c.iam_token.clone()));
                    crate::secret::register(&c.iam_refresh_token);
                }
                Source::Cli(ConfigFile::new(path))
            }
            SessionSource::ApiKey(k) => Source::ApiKey(k.clone()),
        };
        Self { source, http, iam, state: Mutex::new(state), refreshes: AtomicU32::new(0) }
    }

    /// A token source for another account the same login reaches (`bss_account`): its tokens
    /// stay in memory; nothing is written to the CLI config for it.
    #[must_use]
    pub(crate) fn linked(&self, http: Arc<Http>, bss: &str, ims: Option<&str>) -> Self {
        let login = match &self.source {
            Source::Linked { login, .. } => login.clone(),
            other => Box::new(other.clone()),
        };
        Self {
            source: Source::Linked { login, account: Linked { bss: bss.to_owned(), ims: ims.map(str::to_owned) } },
            http,
            iam: self.iam.clone(),
            state: Mutex::new(State::default()),
            refreshes: AtomicU32::new(0),
        }
    }

    /// Token sources for several other accounts of the same login, as [`Auth::linked`] makes
    /// them, whose first tokens come from one [`Chain`] when the login is the CLI session (the
    /// chain must be run; a token it does not deliver is had the usual way). With an API key
    /// the chain is empty: each account's grant is its own, in parallel.
    pub(crate) fn linked_chain(&self, accounts: Vec<(Arc<Http>, String, Option<String>)>) -> (Vec<Self>, Chain) {
        let login = match &self.source {
            Source::Linked { login, .. } => login.as_ref(),
            other => other,
        };
        let file = match login {
            Source::Cli(file) => Some(file.clone()),
            _ => None,
        };
        let mut links = Vec::new();
        let auths = accounts
            .into_iter()
            .map(|(http, bss, ims)| {
                let mut auth = self.linked(http, &bss, ims.as_deref());
                if file.is_some() {
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    auth.state.get_mut().pending = Some(rx);
                    links.push((Linked { bss, ims }, tx));
                }
                auth
            })
            .collect();
        let chain = Chain { file, http: Arc::clone(&self.http), iam: self.iam.clone(), links };
        (auths, chain)
    }

    /// How many times this process obtained a new token from IAM.
    #[must_use]
    pub fn refresh_count(&self) -> u32 {
        self.refreshes.load(Ordering::SeqCst)
    }

    /// A valid `Bearer ...` value and its generation (for [`Auth::after_unauthorized`]).
    ///
    /// # Errors
    /// [`Error::SessionExpired`], [`Error::InvalidApiKey`], [`Error::CannotRefresh`], ...
    pub(crate) async fn bearer(&self) -> Result<(Secret, u64)> {
        let mut st = self.state.lock().await;
        if let Some((account, detail)) = &st.unreachable {
            return Err(Error::AccountUnreachable { account: account.clone(), detail: detail.clone() });
        }
        if let Some(pending) = st.pending.take() {
            match pending.await {
                Ok(Handoff::Token(resp)) => {
                    self.refreshes.fetch_add(1, Ordering::SeqCst);
                    self.adopt(&mut st, &resp)?;
                }
                Ok(Handoff::Failed(e)) => {
                    if let Error::AccountUnreachable { account, detail } = &e {
                        st.unreachable = Some((account.clone(), detail.clone()));
                    }
                    return Err(e);
                }
                // The chain stopped before this account: its token the usual way, below.
                Err(_) => {}
            }
        }
        if let Some(tok) = st.token.clone()
            && usable(tok.expose())
        {
            return Ok((tok, st.generation));
        }
        let rejected = st.token.clone();
        self.renew(&mut st, rejected.as_ref()).await?;
        let tok = st.token.clone().ok_or(Error::NotLoggedIn)?;
        Ok((tok, st.generation))
    }

    /// Called when a service answered 401 to the token of `generation`: renews it once (unless
    /// another request already did) and returns the token to replay with.
    ///
    /// # Errors
    /// As [`Auth::bearer`].
    pub(crate) async fn after_unauthorized(&self, generation: u64) -> Result<Secret> {
        let mut st = self.state.lock().await;
        if st.generation == generation {
            let rejected = st.token.clone();
            self.renew(&mut st, rejected.as_ref()).await?;
        }
        st.token.clone().ok_or(Error::NotLoggedIn)
    }

    /// Who the caller is (from the current token's claims).
    ///
    /// # Errors
    /// As [`Auth::bearer`].
    pub(crate) async fn identity(&self) -> Result<Identity> {
        let (tok, _) = self.bearer().await?;
        Ok(jwt::decode(tok.expose())?)
    }

    async fn renew(&self, st: &mut State, rejected: Option<&Secret>) -> Result<()> {
        match &self.source {
            Source::Linked { login, account } => {
                let resp = self.linked_token(login, account).await?;
                self.refreshes.fetch_add(1, Ordering::SeqCst);
                self.adopt(st, &resp)?;
            }
            Source::ApiKey(key) => {
                let resp = iam_token::api_key_grant(&self.http, &self.iam, key).await.map_err(map_api_key_error)?;
                self.refreshes.fetch_add(1, Ordering::SeqCst);
                self.adopt(st, &resp)?;
            }
            Source::Cli(file) => {
                let mut locked = file.lock().await?;
                let mut map = locked.read()?;
                let cfg = CliConfig::from_map(&map.view());
                let on_disk = cfg.iam_token.clone();
                let rejected = rejected.map(Secret::expose);
                if rejected != Some(on_disk.as_str()) && usable(&on_disk) {
                    // Someone else refreshed since we read the file: use theirs.
                    st.token = Some(Secret::new(on_disk));
                    st.generation += 1;
                    return Ok(());
                }
                if cfg.iam_refresh_token.is_empty() {
                    return Err(if cfg.is_logged_in_as_cri || !on_disk.is_empty() {
                        Error::CannotRefresh
                    } else {
                        Error::NotLoggedIn
                    });
                }
                if !locked.writable() {
                    // Refreshing spends the refresh token; if the new one cannot be saved, the
                    // session would be lost for every later command. Refuse instead.
                    return Err(Error::Io {
                        path: locked.path().to_owned(),
                        source: std::io::Error::new(
                            std::io::ErrorKind::PermissionDenied,
                            "the expired session cannot be refreshed because the file is read-only",
                        ),
                    });
                }
                let refresh = Secret::new(cfg.iam_refresh_token.clone());
                let resp = iam_token::refresh(&self.http, &self.iam, &refresh).await.map_err(map_refresh_error)?;
                self.refreshes.fetch_add(1, Ordering::SeqCst);
                let bearer = format!("{} {}", resp.token_type_or_bearer(), resp.access_token.expose());
                map.set("IAMToken", &Value::from(bearer));
                if let Some(rt) = resp.refresh_token.as_ref().filter(|r| r.expose() != "not_supported") {
                    map.set("IAMRefreshToken", &Value::from(rt.expose()));
                }
                map.set("LastSessionUpdateTime", &Value::from(now()));
                locked.write(&map)?;
                drop(locked);
                self.adopt(st, &resp)?;
            }
        }
        Ok(())
    }

    /// A token for `account` from the login. With an API key: the API-key grant with
    /// `bss_account`. With the CLI session: IAM's refresh tokens rotate, so spending the stored
    /// one for another account would end the targeted session; under the CLI config's lock the
    /// stored refresh token is exchanged for the other account's token, and the refresh token
    /// that comes with it is exchanged straight back for the targeted account's tokens, which
    /// are written to the config exactly as a refresh writes them. Two token requests, and the
    /// config always holds a valid session for the account it targets.
    async fn linked_token(&self, login: &Source, account: &Linked) -> Result<TokenResponse> {
        let target = Some((account.bss.as_str(), account.ims.as_deref()));
        match login {
            Source::ApiKey(key) => iam_token::api_key_grant_in(&self.http, &self.iam, key, target)
                .await
                .map_err(|e| map_link_error(e, &account.bss)),
            Source::Linked { login, .. } => Box::pin(self.linked_token(login, account)).await,
            Source::Cli(file) => {
                let mut locked = file.lock().await?;
                let mut map = locked.read()?;
                let cfg = CliConfig::from_map(&map.view());
                if cfg.iam_refresh_token.is_empty() {
                    return Err(Error::CannotRefresh);
                }
                if !locked.writable() {
                    return Err(Error::Io {
                        path: locked.path().to_owned(),
                        source: std::io::Error::new(
                            std::io::ErrorKind::PermissionDenied,
                            "another account's session needs the CLI session refreshed, and the file is read-only",
                        ),
                    });
                }
                let refresh = Secret::new(cfg.iam_refresh_token.clone());
                let theirs = iam_token::refresh_in(&self.http, &self.iam, &refresh, target)
                    .await
                    .map_err(|e| map_link_error(e, &account.bss))?;
                // Back to the targeted account, so that the config's session stays valid.
                let back =
                    theirs.refresh_token.as_ref().filter(|r| r.expose() != "not_supported").ok_or_else(|| {
                        Error::RefreshFailed {
                            detail: String::from("IAM gave no refresh token with another account's token"),
                            spent: true,
                        }
                    })?;
                // The targeted account by its BSS ID alone (the CLI config keeps no IMS ID).
                let home = cfg.account_id.as_deref().filter(|a| !a.is_empty()).map(|a| (a, None));
                let ours = iam_token::refresh_in(&self.http, &self.iam, back, home).await.map_err(map_refresh_error)?;
                let bearer = format!("{} {}", ours.token_type_or_bearer(), ours.access_token.expose());
                map.set("IAMToken", &Value::from(bearer));
                if let Some(rt) = ours.refresh_token.as_ref().filter(|r| r.expose() != "not_supported") {
                    map.set("IAMRefreshToken", &Value::from(rt.expose()));
                }
                map.set("LastSessionUpdateTime", &Value::from(now()));
                locked.write(&map)?;
                Ok(theirs)
            }
        }
    }

    #[allow(clippy::unused_self, reason = "adopting a token is the token source's business")]
    fn adopt(&self, st: &mut State, resp: &TokenResponse) -> Result<()> {
        let bearer = Secret::new(format!("{} {}", resp.token_type_or_bearer(), resp.access_token.expose()));
        // A new token that is not a readable JWT is an error now, not at its first use.
        jwt::decode(bearer.expose())?;
        st.token = Some(bearer);
        st.generation += 1;
        Ok(())
    }
}

/// The first tokens of several other accounts from the CLI session in one chain of refresh
/// exchanges under one hold of the CLI config's lock: the stored refresh token for account A
/// (which comes with A's refresh token), that one for B, ..., and the last one back for the
/// targeted account, whose tokens are written to the config as [`Auth::linked_token`] writes
/// them. N accounts cost N+1 token requests instead of 2N, and each account's reads start as
/// soon as its token arrives.
///
/// Safety (the config always holds a working session): an exchange IAM answers with an error
/// (no access, 5xx, 429) stops the chain there, that account gets the error, the chain goes back
/// to the targeted account with the last refresh token still live, and the accounts after it
/// get their tokens the usual way (two exchanges each) once the lock is released. An exchange
/// whose answer was lost may have spent the refresh token it sent, as a lost refresh may: one
/// try back home with it (the stored one is spent already if an earlier exchange succeeded);
/// if that fails too, nothing is written and the accounts not served get the error a lost
/// refresh gives, without a request.
#[derive(Debug)]
pub(crate) struct Chain {
    /// The CLI config (`None`: not a CLI session, nothing to do).
    file: Option<ConfigFile>,
    http: Arc<Http>,
    iam: Url,
    links: Vec<(Linked, tokio::sync::oneshot::Sender<Handoff>)>,
}

/// Whether an exchange's outcome is unknown: the request went out and no readable answer came
/// back, so IAM may have spent the refresh token (as [`map_refresh_error`] treats a lost refresh).
fn answer_lost(e: &Error) -> bool {
    matches!(e, Error::Transport { not_sent: false, .. } | Error::BadResponse { .. })
}

impl Chain {
    /// Runs the chain (nothing when there is no account to chain).
    pub(crate) async fn run(self) {
        let Self { file, http, iam, links } = self;
        let Some(file) = file.filter(|_| !links.is_empty()) else { return };
        // Any problem before the first exchange: the accounts get their tokens the usual way,
        // which reports it (dropping the senders says so).
        let Ok(mut locked) = file.lock().await else { return };
        let Ok(mut map) = locked.read() else { return };
        let cfg = CliConfig::from_map(&map.view());
        if cfg.iam_refresh_token.is_empty() || !locked.writable() {
            return;
        }
        // OPEN (inferred from IBM's Go SDK, not documented): a refresh token that came with
        // another account's token (`bss_account=A`) can be exchanged again with
        // `bss_account=B`. bluemix-go's `RefreshTokenToLinkAccounts` sends whatever refresh
        // token the config holds, which after a previous `ibmcloud target -c A` is A's; this
        // chain relies on the same. The emulator treats it as any refresh.
        let mut live = Secret::new(cfg.iam_refresh_token.clone());
        let mut links = links.into_iter();
        // The last account served is handed its token only once the config holds the new
        // session: if going back fails, that account gets the error, as with two exchanges.
        let mut held: Option<(tokio::sync::oneshot::Sender<Handoff>, TokenResponse)> = None;
        // Why the chain stopped early, when it did.
        let mut stop = Stop::Done;
        for (account, tx) in links.by_ref() {
            let target = Some((account.bss.as_str(), account.ims.as_deref()));
            match iam_token::refresh_in(&http, &iam, &live, target).await {
                Ok(resp) => {
                    let Some(next) = resp.refresh_token.clone().filter(|r| r.expose() != "not_supported") else {
                        // `live` is spent and nothing replaces it.
                        let detail = String::from("IAM gave no refresh token with another account's token");
                        let _ = tx.send(Handoff::Failed(Error::RefreshFailed { detail: detail.clone(), spent: true }));
                        stop = Stop::Spent(detail);
                        break;
                    };
                    live = next;
                    if let Some((tx, resp)) = held.replace((tx, resp)) {
                        let _ = tx.send(Handoff::Token(resp));
                    }
                }
                Err(e) if answer_lost(&e) => {
                    let e = map_refresh_error(e);
                    stop = Stop::Lost(e.to_string());
                    let _ = tx.send(Handoff::Failed(e));
                    break;
                }
                Err(e) => {
                    let _ = tx.send(Handoff::Failed(map_link_error(e, &account.bss)));
                    stop = Stop::Refused;
                    break;
                }
            }
        }
        let back = match &stop {
            // No exchange succeeded and none may have: the stored refresh token is untouched.
            Stop::Done | Stop::Refused if held.is_none() => return,
            Stop::Spent(_) => None,
            // Back to the targeted account with the last live refresh token. After a lost
            // answer that is the token the lost exchange sent, which IAM may have spent: one
            // try, because the stored one is spent already when an earlier exchange succeeded,
            // and a refusal changes nothing (the config is written only on success).
            _ => {
                // The targeted account by its BSS ID alone (the CLI config keeps no IMS ID).
                let home = cfg.account_id.as_deref().filter(|a| !a.is_empty()).map(|a| (a, None));
                Some(match iam_token::refresh_in(&http, &iam, &live, home).await.map_err(map_refresh_error) {
                    Ok(ours) => {
                        let bearer = format!("{} {}", ours.token_type_or_bearer(), ours.access_token.expose());
                        map.set("IAMToken", &Value::from(bearer));
                        if let Some(rt) = ours.refresh_token.as_ref().filter(|r| r.expose() != "not_supported") {
                            map.set("IAMRefreshToken", &Value::from(rt.expose()));
                        }
                        map.set("LastSessionUpdateTime", &Value::from(now()));
                        locked.write(&map).map(|_| ())
                    }
                    Err(e) => Err(e),
                })
            }
        };
        drop(locked);
        match (stop, back) {
            // The session may be spent: the accounts not served get the error a lost refresh
            // gives (asking again with a spent token gains nothing); the last one served has a
            // valid token.
            (Stop::Spent(detail) | Stop::Lost(detail), None | Some(Err(_))) => {
                for (_, tx) in links {
                    let _ = tx.send(Handoff::Failed(Error::RefreshFailed { detail: detail.clone(), spent: true }));
                }
                if let Some((tx, resp)) = held {
                    let _ = tx.send(Handoff::Token(resp));
                }
            }
            // Going back failed after a complete or refused chain: the last account served gets
            // the error, as with two exchanges for it; the accounts after a refused one get
            // their tokens the usual way (dropping their senders).
            (_, Some(Err(e))) => {
                if let Some((tx, _)) = held {
                    let _ = tx.send(Handoff::Failed(e));
                }
            }
            // The config holds the new session: the last account served gets its token, the
            // accounts after a refused or lost exchange theirs the usual way.
            (_, _) => {
                if let Some((tx, resp)) = held {
                    let _ = tx.send(Handoff::Token(resp));
                }
            }
        }
    }
}

/// Why a [`Chain`] stopped.
enum Stop {
    /// Every account was served.
    Done,
    /// IAM refused an exchange: the refresh token it was sent is still live.
    Refused,
    /// An exchange's answer was lost: the refresh token it was sent may be spent.
    Lost(String),
    /// The refresh token is spent and IAM gave no other.
    Spent(String),
}

/// IAM's codes for a refresh token that can never work again (invalid, expired, session
/// inactive): only these, or a 401, mean "log in again".
const SESSION_OVER: [&str; 3] = ["BXNIM0407E", "BXNIM0408E", "BXNIM0439E"];

fn map_refresh_error(e: Error) -> Error {
    match e {
        Error::Api(api) if api.service == Service::IamToken && (400..500).contains(&api.status) => {
            let over = api.status == 401 || api.code.as_deref().is_some_and(|c| SESSION_OVER.contains(&c));
            if over {
                Error::SessionExpired { code: api.code }
            } else {
                // A 429, or a 400 that does not say the token is dead: the next run may well
                // work, so "your session has expired" would be wrong.
                Error::RefreshFailed { detail: format!("IAM did not refresh the session: {api}"), spent: false }
            }
        }
        // The request went out and its answer was lost: IAM may have rotated the refresh
        // token, in which case the stored one is spent.
        Error::Transport { message, not_sent: false, .. } => Error::RefreshFailed {
            detail: format!("The answer to the session refresh was lost: {message}"),
            spent: true,
        },
        other => other,
    }
}

/// IAM's refusal to give a token for another account (400, 401 or 403): the identity cannot
/// reach that account. OPEN: IBM's exact status and code for this are not documented.
fn map_link_error(e: Error, account: &str) -> Error {
    match e {
        Error::Api(api) if api.service == Service::IamToken && matches!(api.status, 400 | 401 | 403) => {
            Error::AccountUnreachable { account: account.to_owned(), detail: api.to_string() }
        }
        other => other,
    }
}

fn map_api_key_error(e: Error) -> Error {
    match e {
        Error::Api(api) if api.service == Service::IamToken && (400..500).contains(&api.status) => {
            let what = match api.code {
                Some(c) => format!("{} ({c})", api.description),
                None => api.description,
            };
            Error::InvalidApiKey(what)
        }
        other => other,
    }
}

/// An authenticated client: the transport plus the token source.
#[derive(Debug, Clone)]
pub struct Client {
    http: Arc<Http>,
    auth: Arc<Auth>,
}

impl Client {
    /// A client over a transport and a token source.
    #[must_use]
    pub(crate) fn new(http: Arc<Http>, auth: Arc<Auth>) -> Self {
        Self { http, auth }
    }

    /// The transport.
    #[must_use]
    pub fn http(&self) -> &Arc<Http> {
        &self.http
    }

    /// The token source.
    #[must_use]
    pub fn auth(&self) -> &Arc<Auth> {
        &self.auth
    }

    /// Sends with `Authorization: Bearer ...`; a 401 leads to one refresh and one replay. A
    /// request that is not idempotent (a reset's POST mints a key) is replayed only after a 401
    /// that is demonstrably the service's own refusal: a gateway's 401 (an HTML page, an empty
    /// body) says nothing about whether the backend did it, and the caller must look first.
    ///
    /// # Errors
    /// [`Error::InsecureEndpoint`] for plain HTTP to a non-loopback host, and as [`Http::send`].
    pub(crate) async fn send(&self, service: Service, req: Request) -> Result<Response> {
        crate::endpoints::require_secure(&req.url)?;
        let (token, generation) = self.auth.bearer().await?;
        let first = self.http.send(service, &with_auth(&req, token.expose())).await;
        match first {
            Err(Error::Api(e)) if e.status == 401 && (req.idempotent || e.is_own_answer()) => {
                let token = self.auth.after_unauthorized(generation).await?;
                self.http.send(service, &with_auth(&req, token.expose())).await
            }
            other => other,
        }
    }
}

fn with_auth(req: &Request, token: &str) -> Request {
    let mut r = req.clone();
    r.headers.retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
    r.headers.insert(0, ("Authorization".into(), token.to_owned()));
    r
}
