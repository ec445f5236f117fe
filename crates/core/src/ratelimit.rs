//! IBM's rate limit as one budget for every process on this machine.
//!
//! IBM limits requests per source address (200 per 10 s: a burst of 200, then 20 per second),
//! so a `prune` started while a batch `reset` runs, or a CI job's `status`, spends the same
//! budget. A limiter per process would let each start with a full burst and together meet 429s.
//! The budget's state therefore lives in a small file in the plugin folder
//! (`ratelimit.json`), read and written under an exclusive `flock`, the kind of lock the
//! `ibmcloud` CLI takes on its config (see [`crate::config_file`]).
//!
//! The state is a token bucket that may go below zero: taking a token always succeeds and
//! reserves the next free slot, and the taker sleeps until its slot comes. One lock per request,
//! and no polling: concurrent processes are served in the order they asked. A process knows how
//! many of its own reservations are still waiting; a wait longer than those explain, by a few
//! seconds, is other processes spending the budget, and that is said once (the binary prints it
//! for a person at a terminal).
//!
//! A long queue is a real queue: a hundred processes with a full pool each may reserve many
//! minutes ahead, and every one of those slots is owed. A debt is therefore never taken for a
//! corrupt state because it is large (that once restarted the bucket full under load, and the
//! burst met 429s); only a debt deeper than any machine could run up ([`MAX_DEBT`]) is cut to
//! that depth, still a wait.
//!
//! The file is advisory: a missing, unreadable or impossible state (not a number, more than a
//! full bucket, a time in the future) is started again with a full burst (what a process alone
//! would do), and a file that cannot be opened leaves the process with its own bucket. A file
//! whose lock another process holds for longer than [`LOCK_PATIENCE`] (a stopped process, a
//! hung network file system) is not waited for again: the process goes on with a budget of its
//! own at a quarter of the limit ([`Slot::fell_back`] says it once), since others may be
//! spending the rest unseen. Neither is ever fatal.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// IBM's documented limit is 200 requests per 10 s per source address, which we read as a
/// burst of 200, then 20 per second (INFERRED: IBM does not say whether the window slides; the
/// emulator enforces that bucket). We use its whole rate, and hold 10 requests of the burst
/// back: with the same rate on both sides, IBM's bucket then always has 10 tokens more than
/// ours, which absorbs requests that arrive closer together than they were sent (a request sent
/// on its slot may arrive after a later one), so that no command causes a 429 by itself,
/// however concurrent; and every process of the machine shares it (this module's [`Budget`]).
/// Holding back the rate too (19 a second, as before) cost 5% of every large run and absorbed
/// nothing more.
pub(crate) const RATE_LIMIT: (f64, f64) = (190.0, 20.0);

/// The state file's name in the plugin folder.
pub(crate) const FILE_NAME: &str = "ratelimit.json";

/// The state file of another account than the targeted one (IBM's limit is per account, so
/// each account has a budget of its own): `ratelimit.<ACCOUNT_ID>.json`, the ID kept to the
/// characters a file name may hold. The targeted account keeps [`FILE_NAME`].
pub(crate) fn file_name_for(account: &str) -> String {
    let safe: String = account.chars().filter(char::is_ascii_alphanumeric).take(64).collect();
    format!("ratelimit.{safe}.json")
}

/// How long to wait for another process's lock before going on with a budget of this process's
/// own: the lock is held for microseconds, and waiters are woken by the kernel in turn, so this
/// is reached only by a stopped or hung holder.
pub(crate) const LOCK_PATIENCE: Duration = Duration::from_secs(3);

/// The deepest debt a state may carry, in seconds of refill: an hour. A hundred processes with
/// a full pool of 128 requests each owe about eleven minutes at IBM's rate; a deeper debt is a
/// broken file, cut to this depth (a long wait, said) rather than started again full.
pub(crate) const MAX_DEBT: Duration = Duration::from_secs(3600);

/// The share of the limit a process takes alone when the shared file is locked by a process it
/// cannot wait for: the others may be spending the rest.
const FALLBACK_SHARE: f64 = 0.25;

/// A wait at least this much longer than this process's own waiting requests explain is said.
pub(crate) const SHARED_WAIT: Duration = Duration::from_secs(3);

/// The bucket: tokens (negative: slots reserved ahead) as of a time.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
struct State {
    tokens: f64,
    /// Unix time in milliseconds.
    at_ms: u64,
}

/// One rate budget: a burst, a refill rate, and where it is shared.
#[derive(Debug)]
pub(crate) struct Budget {
    burst: f64,
    per_sec: f64,
    /// The shared state file, opened on first use; `None` inside once it proved unusable.
    shared: tokio::sync::Mutex<Shared>,
    /// This process's own bucket, when the file cannot be used (a quarter of the limit once
    /// the file's lock was held too long: see [`Shared::Held`]).
    local: std::sync::Mutex<(f64, Instant)>,
    /// This process's reservations still waiting for their slot.
    waiting: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

#[derive(Debug)]
enum Shared {
    /// Not opened yet.
    Closed(PathBuf),
    /// Open, with its path (for the message when its lock is held too long).
    Open(File, PathBuf),
    /// No file (no plugin folder), or it could not be opened: this process is alone as far as
    /// it can tell, and has the whole limit.
    Unusable,
    /// Its lock was held longer than [`LOCK_PATIENCE`]: other processes exist and cannot be
    /// seen, so this one keeps to [`FALLBACK_SHARE`] of the limit from now on.
    Held,
}

/// What taking a slot cost. Dropping it (once the request is sent, or abandoned) ends its
/// reservation in this process's count of waiting ones.
#[derive(Debug)]
pub struct Slot {
    /// How long the caller must wait before sending.
    pub wait: Duration,
    /// Whether the machine-wide budget was used (else this process's own).
    pub shared: bool,
    /// How much of the wait this process's own waiting reservations do not explain: other
    /// processes' requests.
    pub others: Duration,
    /// Set on the first slot after the shared file's lock was held too long: from it on, the
    /// process uses a budget of its own at a quarter of the limit (to be said once).
    pub fell_back: Option<PathBuf>,
    _waiting: Option<Waiting>,
}

/// One of this process's reservations that is still waiting for its slot.
#[derive(Debug)]
struct Waiting(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Budget {
    /// A budget of `burst` requests, refilled at `per_sec`, shared through `file` when given.
    #[must_use]
    pub(crate) fn new((burst, per_sec): (f64, f64), file: Option<PathBuf>) -> Self {
        let burst = burst.max(1.0);
        let per_sec = per_sec.max(0.001);
        Self {
            burst,
            per_sec,
            shared: tokio::sync::Mutex::new(file.map_or(Shared::Unusable, Shared::Closed)),
            local: std::sync::Mutex::new((burst, Instant::now())),
            waiting: std::sync::Arc::default(),
        }
    }

    /// Takes the next slot: from the shared file when it can be used, else from this process's
    /// bucket. Returns without waiting for the slot: the caller sleeps `wait`, keeping the slot
    /// until the request is sent.
    pub(crate) async fn reserve(&self) -> Slot {
        let (wait, shared, fell_back) = self.take_slot().await;
        if wait.is_zero() {
            return Slot { wait, shared, others: Duration::ZERO, fell_back, _waiting: None };
        }
        // The slots this process reserved before this one come first: that much of the wait
        // is its own.
        let before = self.waiting.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        #[allow(clippy::cast_precision_loss, reason = "a count of requests in flight")]
        let own = Duration::from_secs_f64((before as f64 + 1.0) / self.per_sec);
        Slot {
            wait,
            shared,
            others: wait.saturating_sub(own),
            fell_back,
            _waiting: Some(Waiting(self.waiting.clone())),
        }
    }

    async fn take_slot(&self) -> (Duration, bool, Option<PathBuf>) {
        let mut shared = self.shared.lock().await;
        if let Shared::Closed(path) = &*shared {
            let path = path.clone();
            *shared = open(&path).map_or(Shared::Unusable, |file| Shared::Open(file, path));
        }
        if let Shared::Open(file, path) = &*shared {
            match lock(file, LOCK_PATIENCE).await {
                Ok(()) => {
                    let wait = self.take(file);
                    let _ = file.unlock();
                    if let Some(wait) = wait {
                        return (wait, true, None);
                    }
                    // Not readable or writable after all: this process's bucket from now on.
                    *shared = Shared::Unusable;
                }
                Err(Locked::Held) => {
                    // Others exist and cannot be seen: a small share of the limit, for the rest
                    // of the run, instead of waiting this long again for every request.
                    let path = path.clone();
                    *shared = Shared::Held;
                    drop(shared);
                    return (self.take_local(FALLBACK_SHARE), false, Some(path));
                }
                // The file system does not lock: this process's bucket from now on.
                Err(Locked::Unsupported) => *shared = Shared::Unusable,
            }
        }
        let share = if matches!(*shared, Shared::Held) { FALLBACK_SHARE } else { 1.0 };
        drop(shared);
        (self.take_local(share), false, None)
    }

    /// Takes a token from the state in `file` (locked), and writes the state back.
    fn take(&self, mut file: &File) -> Option<Duration> {
        let mut text = String::new();
        file.seek(SeekFrom::Start(0)).ok()?;
        file.read_to_string(&mut text).ok()?;
        let now = now_ms();
        let state = serde_json::from_str::<State>(&text).ok().filter(|s| self.plausible(s, now));
        let (next, wait) = self.spend(state, now);
        let out = serde_json::to_string(&next).ok()?;
        // In place, like the config: a reader holds the same lock, so it never sees half.
        file.seek(SeekFrom::Start(0)).ok()?;
        file.set_len(0).ok()?;
        file.write_all(out.as_bytes()).ok()?;
        Some(wait)
    }

    /// A state another process could have written: a number, at most a full bucket, and a time
    /// not in the future. Any debt is possible (see the module's documentation): a deep one is
    /// cut to [`MAX_DEBT`] by [`Budget::spend`], never taken for a full bucket.
    fn plausible(&self, s: &State, now: u64) -> bool {
        s.tokens.is_finite() && s.tokens <= self.burst && s.at_ms <= now + 1_000
    }

    /// The bucket after one more token is taken at `now` (a missing state is a full bucket),
    /// and how long the taker waits for its slot.
    fn spend(&self, state: Option<State>, now: u64) -> (State, Duration) {
        let deepest = -MAX_DEBT.as_secs_f64() * self.per_sec;
        let tokens = match state {
            #[allow(clippy::cast_precision_loss, reason = "milliseconds between two requests")]
            Some(s) => {
                (s.tokens.max(deepest) + now.saturating_sub(s.at_ms) as f64 / 1000.0 * self.per_sec).min(self.burst)
            }
            None => self.burst,
        };
        let tokens = tokens - 1.0;
        let wait = if tokens >= 0.0 { Duration::ZERO } else { Duration::from_secs_f64(-tokens / self.per_sec) };
        (State { tokens, at_ms: now.max(state.map_or(0, |s| s.at_ms)) }, wait)
    }

    /// A token from this process's own bucket, which has `share` of the limit (its burst and
    /// its rate).
    fn take_local(&self, share: f64) -> Duration {
        let (burst, per_sec) = ((self.burst * share).max(1.0), self.per_sec * share);
        let mut st = self.local.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        let (tokens, last) = *st;
        let tokens = (tokens.min(burst) + now.duration_since(last).as_secs_f64() * per_sec).min(burst) - 1.0;
        *st = (tokens, now);
        if tokens >= 0.0 { Duration::ZERO } else { Duration::from_secs_f64(-tokens / per_sec) }
    }
}

/// Why the state file's lock was not taken.
#[derive(Debug)]
enum Locked {
    /// Another process held it for longer than the patience given.
    Held,
    /// The file system cannot lock.
    Unsupported,
}

/// Takes `file`'s exclusive lock, waiting up to `patience`. The wait is the kernel's (a blocking
/// `flock` on a thread of its own), so waiters are woken as the lock is released, instead of
/// polling and losing the race to processes that poll faster (under a hundred processes, polling
/// once let some wait past any patience). A lock that comes after the patience ran out is
/// released at once by the thread that got it.
async fn lock(file: &File, patience: Duration) -> Result<(), Locked> {
    use std::sync::atomic::{AtomicU8, Ordering};
    const WAITING: u8 = 0;
    const LOCKED: u8 = 1;
    const ABANDONED: u8 = 2;
    match file.try_lock() {
        Ok(()) => return Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => {}
        Err(std::fs::TryLockError::Error(_)) => return Err(Locked::Unsupported),
    }
    let Ok(waiter) = file.try_clone() else { return Err(Locked::Unsupported) };
    let state = std::sync::Arc::new(AtomicU8::new(WAITING));
    let seen = std::sync::Arc::clone(&state);
    // A thread of its own, not tokio's blocking pool: a runtime waits for its blocking tasks
    // when it shuts down, and a lock that never comes would keep the process from exiting.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new().name(String::from("ratelimit-lock")).spawn(move || {
        let got = waiter.lock();
        if got.is_ok() && seen.compare_exchange(WAITING, LOCKED, Ordering::SeqCst, Ordering::SeqCst).is_err() {
            // Given up on meanwhile: nobody will use it or release it but this thread.
            let _ = waiter.unlock();
        }
        let _ = tx.send(got);
    });
    if spawned.is_err() {
        return Err(Locked::Unsupported);
    }
    match tokio::time::timeout(patience, rx).await {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(_)) | Err(_)) => Err(Locked::Unsupported),
        Err(_) => {
            if state.compare_exchange(WAITING, ABANDONED, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                Err(Locked::Held)
            } else {
                // Taken just as the patience ran out: the lock is this process's, use it.
                Ok(())
            }
        }
    }
}

/// Opens (creating) the state file, private to the user like the rest of the plugin folder.
fn open(path: &Path) -> Option<File> {
    if let Some(dir) = path.parent() {
        crate::fsutil::create_private_dir(dir).ok()?;
    }
    let mut options = File::options();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(file: Option<PathBuf>) -> Budget {
        Budget::new((5.0, 10.0), file)
    }

    #[test]
    fn a_missing_or_implausible_state_is_a_full_bucket() {
        let b = budget(None);
        let now = 1_000_000;
        assert_eq!(b.spend(None, now), (State { tokens: 4.0, at_ms: now }, Duration::ZERO));
        for bad in [
            State { tokens: f64::NAN, at_ms: now },
            State { tokens: 99.0, at_ms: now },
            State { tokens: 1.0, at_ms: now + 3_600_000 },
        ] {
            assert!(!b.plausible(&bad, now), "{bad:?}");
        }
    }

    #[test]
    fn a_long_queue_is_a_wait_never_a_full_bucket() {
        // 5 per burst, 10 per second: ten minutes of reservations ahead is 6,000 tokens owed.
        let b = budget(None);
        let now = 1_000_000;
        let owed = State { tokens: -6_000.0, at_ms: now };
        assert!(b.plausible(&owed, now));
        let (next, wait) = b.spend(Some(owed), now);
        assert_eq!(wait, Duration::from_millis(600_100));
        assert!((next.tokens + 6_001.0).abs() < 1e-9, "{next:?}");
        // A debt no machine could run up is cut to an hour's refill: still a wait, never a burst.
        let (next, wait) = b.spend(Some(State { tokens: -1e12, at_ms: now }), now);
        assert_eq!(wait, MAX_DEBT + Duration::from_millis(100));
        assert!(next.tokens < 0.0, "{next:?}");
    }

    #[test]
    fn a_spent_bucket_reserves_slots_ahead_and_refills() {
        let b = budget(None);
        let now = 1_000_000;
        let mut s = State { tokens: 0.0, at_ms: now };
        // Two more requests at the same moment: the first waits 0.1 s, the second 0.2 s.
        let (next, wait) = b.spend(Some(s), now);
        assert_eq!(wait, Duration::from_millis(100));
        s = next;
        let (next, wait) = b.spend(Some(s), now);
        assert_eq!(wait, Duration::from_millis(200));
        // A second later the debt is paid and 8 tokens came back, capped at the burst.
        let (next, wait) = b.spend(Some(next), now + 1_000);
        assert_eq!(wait, Duration::ZERO);
        assert!((next.tokens - 4.0).abs() < 1e-9, "{next:?}");
    }

    #[tokio::test]
    async fn two_budgets_on_one_file_share_it_and_a_corrupt_file_is_recovered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugin").join(FILE_NAME);
        let (a, b) = (budget(Some(path.clone())), budget(Some(path.clone())));
        // Five tokens between them: the sixth request, whoever sends it, has to wait.
        let mut waits = Vec::new();
        for i in 0..6 {
            let slot = if i % 2 == 0 { a.reserve().await } else { b.reserve().await };
            assert!(slot.shared);
            waits.push(slot.wait);
            if i == 5 {
                // One slot's wait (0.1 s at 10/s) is never put down to others.
                assert_eq!(slot.others, Duration::ZERO);
            }
        }
        assert!(waits[..5].iter().all(Duration::is_zero), "{waits:?}");
        assert!(waits[5] > Duration::from_millis(50), "{waits:?}");
        // Two budgets with files of their own would not have waited (the control).
        let c = budget(Some(dir.path().join("other").join(FILE_NAME)));
        for _ in 0..5 {
            assert!(c.reserve().await.wait.is_zero());
        }
        // A corrupt file: started again with a full bucket, and written back readable.
        std::fs::write(&path, b"{\"tokens\": \"lots\"").unwrap();
        let d = budget(Some(path.clone()));
        let slot = d.reserve().await;
        assert!(slot.shared && slot.wait.is_zero(), "{slot:?}");
        let state: State = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!((state.tokens - 4.0).abs() < 1e-6, "{state:?}");
    }

    #[tokio::test]
    async fn a_file_that_cannot_be_made_leaves_the_process_its_own_bucket() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the folder should be.
        std::fs::write(dir.path().join("plugin"), b"").unwrap();
        let b = budget(Some(dir.path().join("plugin").join(FILE_NAME)));
        let slot = b.reserve().await;
        assert!(!slot.shared && slot.wait.is_zero(), "{slot:?}");
    }
}

#[cfg(test)]
mod held_lock {
    use super::*;

    #[tokio::test]
    async fn a_lock_held_too_long_is_given_up_once_for_a_quarter_of_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        // Another holder of the same lock (a second open file, as another process has).
        let holder = open(&path).unwrap();
        holder.lock().unwrap();
        let b = Budget::new((8.0, 4.0), Some(path.clone()));
        let first = b.reserve().await;
        assert_eq!(first.fell_back.as_deref(), Some(path.as_path()), "{first:?}");
        assert!(!first.shared && first.wait.is_zero(), "{first:?}");
        // Said once; the lock is not waited for again. A quarter of a burst of 8 is 2: the
        // third request waits for a quarter of the rate (1 per second).
        let second = b.reserve().await;
        assert!(second.fell_back.is_none() && !second.shared && second.wait.is_zero(), "{second:?}");
        let third = b.reserve().await;
        assert!(third.wait > Duration::from_millis(900), "{third:?}");
        // The holder's lock was never taken from it, nor left taken by the abandoned waiter.
        holder.unlock().unwrap();
        // (It takes it as it is released and lets go at once: a moment, not for ever.)
        let again = open(&path).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while again.try_lock().is_err() {
            assert!(Instant::now() < deadline, "the abandoned waiter kept the lock");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[cfg(test)]
mod own_waits {
    use super::*;

    #[tokio::test]
    async fn a_process_is_not_told_that_its_own_requests_are_others() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let own = Budget::new((2.0, 1.0), Some(path.clone()));
        // Twenty reservations of its own, all waiting: the last waits 18 s, all of it its own.
        let slots: Vec<Slot> = futures_util::future::join_all((0..20).map(|_| own.reserve())).await;
        let last = slots.last().unwrap();
        assert!(last.wait >= Duration::from_secs(17), "{last:?}");
        assert!(last.others < Duration::from_secs(1), "{last:?}");
        drop(slots);
        // Another process's debt of 30 s: a new process's first wait is all others'.
        let other = Budget::new((2.0, 1.0), Some(path));
        let slot = other.reserve().await;
        assert!(slot.others >= SHARED_WAIT, "{slot:?}");
    }
}
