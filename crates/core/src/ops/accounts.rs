//! Many accounts from one login: which accounts the identity can reach, and a [`Session`] per
//! account whose tokens carry `bss_account` (in memory only) and whose requests spend that
//! account's own rate budget (IBM's limit is per account).

use std::sync::Arc;

use crate::api::accounts::{self as list, AccountRef};
use crate::auth::Client;
use crate::error::{Error, Result};

use crate::types::AccountId;

use super::Session;

/// The accounts a login can see.
#[derive(Debug, Clone)]
pub struct Reach {
    /// Every account named: the enterprise's when it could be read, else the memberships.
    pub accounts: Vec<Account>,
    /// Where the list came from.
    pub source: Source,
}

/// Where the list of accounts came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// IBM's Enterprise Management API.
    Enterprise,
    /// The accounts the login is a member of (`ibmcloud account list`).
    Memberships,
}

/// One account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// BSS ID.
    pub id: AccountId,
    /// Name ("" when unknown).
    pub name: String,
    /// IMS ID, when known.
    pub ims: Option<String>,
    /// Whether the login is a member (a token can be had for it).
    pub member: bool,
}

/// The accounts the session's login reaches: Enterprise Management's list for the targeted
/// account's enterprise when it can be read (accounts the login is no member of are kept,
/// marked, so that they are reported rather than skipped), else the accounts the login lists.
///
/// # Errors
/// The memberships list's errors (without it nothing can be said).
pub async fn reach(session: &Session, home: &AccountId) -> Result<Reach> {
    let eps = &session.ctx.endpoints;
    let members = list::member_accounts(&session.client, eps.accounts()).await?;
    let as_member =
        |a: &AccountRef| Account { id: a.id.clone(), name: a.name.clone(), ims: a.ims.clone(), member: true };
    let enterprise = members.iter().find(|m| &m.id == home).and_then(|m| m.enterprise.clone());
    if let Some(e) = enterprise
        && let Ok(all) = list::enterprise_accounts(&session.client, eps.enterprise(), &e).await
    {
        let accounts = all
            .iter()
            .map(|a| match members.iter().find(|m| m.id == a.id) {
                Some(m) => {
                    Account { name: if a.name.is_empty() { m.name.clone() } else { a.name.clone() }, ..as_member(m) }
                }
                None => Account { id: a.id.clone(), name: a.name.clone(), ims: None, member: false },
            })
            .collect();
        return Ok(Reach { accounts, source: Source::Enterprise });
    }
    Ok(Reach { accounts: members.iter().map(as_member).collect(), source: Source::Memberships })
}

/// What an `--account` value names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// One account.
    One(Account),
    /// No account the login can read.
    Unknown,
    /// An account of the enterprise the login is no member of.
    NoAccess(Account),
    /// A name several accounts have.
    Ambiguous(Vec<Account>),
}

/// Finds `query` (an account ID, else a name, case-insensitively) among `reach`'s accounts.
#[must_use]
pub fn pick(reach: &Reach, query: &str) -> Pick {
    let q = query.trim();
    if let Some(a) = reach.accounts.iter().find(|a| a.id.as_str() == q) {
        return if a.member { Pick::One(a.clone()) } else { Pick::NoAccess(a.clone()) };
    }
    let named: Vec<Account> =
        reach.accounts.iter().filter(|a| !a.name.is_empty() && a.name.eq_ignore_ascii_case(q)).cloned().collect();
    match named.as_slice() {
        [] => Pick::Unknown,
        [a] if a.member => Pick::One(a.clone()),
        [a] => Pick::NoAccess(a.clone()),
        _ => Pick::Ambiguous(named),
    }
}

impl Session {
    /// A session for another account of the same login: its own transport (whose rate budget
    /// is that account's, shared by this machine's processes in a file keyed by the account),
    /// and a token source that asks IAM for `bss_account` tokens and keeps them in memory. The
    /// targeted account's own session is `self`, unchanged.
    ///
    /// # Errors
    /// TLS initialisation errors.
    pub fn for_account(&self, account: &Account) -> Result<Self> {
        if self.ctx.account.as_ref() == Some(&account.id) {
            return Ok(self.clone());
        }
        let mut ctx = self.ctx.clone();
        ctx.account = Some(account.id.clone());
        // The targeted resource group is the targeted account's.
        ctx.resource_group = None;
        ctx.http.rate_state = ctx
            .http
            .rate_state
            .as_ref()
            .map(|p| p.with_file_name(crate::ratelimit::file_name_for(account.id.as_str())));
        // The same client as the targeted account's (settings that shape it, such as proxies
        // and trusted certificates, are the same for every account).
        let http = Arc::new(self.client.http().sibling(&ctx.http));
        let auth = Arc::new(self.client.auth().linked(Arc::clone(&http), account.id.as_str(), account.ims.as_deref()));
        Ok(Self { client: Client::new(http, auth), ctx, warnings: Vec::new() })
    }
}

impl Session {
    /// Sessions for several accounts of the same login, in the order given, as
    /// [`Session::for_account`] makes each, and the future that obtains their first tokens.
    /// With the CLI session that future is one chain of token exchanges under one hold of the
    /// CLI config's lock (N+1 requests for N other accounts instead of 2N; each account's token
    /// is handed over as soon as it arrives, so its reads can start while the chain goes on):
    /// run it beside the accounts' reads. A token it does not deliver is had the usual way.
    /// With an API key it does nothing (each account's grant is its own, in parallel).
    ///
    /// # Errors
    /// As [`Session::for_account`].
    pub fn for_accounts(&self, accounts: &[Account]) -> Result<(Vec<Self>, impl Future<Output = ()> + use<>)> {
        let others: Vec<Self> = accounts
            .iter()
            .filter(|a| self.ctx.account.as_ref() != Some(&a.id))
            .map(|a| self.for_account(a))
            .collect::<Result<_>>()?;
        let (auths, chain) = self.client.auth().linked_chain(
            others
                .iter()
                .zip(accounts.iter().filter(|a| self.ctx.account.as_ref() != Some(&a.id)))
                .map(|(s, a)| (Arc::clone(s.client.http()), a.id.to_string(), a.ims.clone()))
                .collect(),
        );
        let mut chained = others.into_iter().zip(auths).map(|(mut s, auth)| {
            s.client = Client::new(Arc::clone(s.client.http()), Arc::new(auth));
            s
        });
        let sessions = accounts
            .iter()
            .map(|a| {
                if self.ctx.account.as_ref() == Some(&a.id) {
                    self.clone()
                } else {
                    chained.next().unwrap_or_else(|| self.clone())
                }
            })
            .collect();
        Ok((sessions, chain.run()))
    }
}

/// Whether an error says the account itself cannot be read (no access, 401/403), as opposed to
/// a failure of this machine or the network.
#[must_use]
pub fn is_no_access(e: &Error) -> bool {
    matches!(e, Error::AccountUnreachable { .. }) || matches!(e, Error::Api(a) if matches!(a.status, 401 | 403))
}
