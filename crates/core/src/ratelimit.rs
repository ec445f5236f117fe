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
//! seconds, is other processes spending the budget, and that is said once (the binary prints it).
//!
//! The file is advisory: a missing, unreadable or implausible state is started again with a full
//! burst (what a process alone would do), and a file that cannot be opened or locked in time
//! leaves the process with its own bucket. Neither is ever fatal.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The state file's name in the plugin folder.
pub const FILE_NAME: &str = "ratelimit.json";

/// How long to wait for another process's lock before falling back to this process's bucket:
/// the lock is held for microseconds, so this is reached only by a stopped holder.
const LOCK_PATIENCE: Duration = Duration::from_secs(2);

/// A wait at least this much longer than this process's own waiting requests explain is said.
pub const SHARED_WAIT: Duration = Duration::from_secs(3);

/// The bucket: tokens (negative: slots reserved ahead) as of a time.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
struct State {
    tokens: f64,
    /// Unix time in milliseconds.
    at_ms: u64,
}

/// One rate budget: a burst, a refill rate, and where it is shared.
#[derive(Debug)]
pub struct Budget {
    burst: f64,
    per_sec: f64,
    /// The shared state file, opened on first use; `None` inside once it proved unusable.
    shared: tokio::sync::Mutex<Shared>,
    /// This process's own bucket, when the file cannot be used.
    local: std::sync::Mutex<(f64, Instant)>,
    /// This process's reservations still waiting for their slot.
    waiting: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

#[derive(Debug)]
enum Shared {
    /// Not opened yet.
    Closed(PathBuf),
    Open(File),
    /// No file (no plugin folder), or it could not be opened.
    Unusable,
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
    pub fn new((burst, per_sec): (f64, f64), file: Option<PathBuf>) -> Self {
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
    pub async fn reserve(&self) -> Slot {
        let (wait, shared) = self.take_slot().await;
        if wait.is_zero() {
            return Slot { wait, shared, others: Duration::ZERO, _waiting: None };
        }
        // The slots this process reserved before this one come first: that much of the wait
        // is its own.
        let before = self.waiting.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        #[allow(clippy::cast_precision_loss, reason = "a count of requests in flight")]
        let own = Duration::from_secs_f64((before as f64 + 1.0) / self.per_sec);
        Slot { wait, shared, others: wait.saturating_sub(own), _waiting: Some(Waiting(self.waiting.clone())) }
    }

    async fn take_slot(&self) -> (Duration, bool) {
        let mut shared = self.shared.lock().await;
        if let Shared::Closed(path) = &*shared {
            *shared = open(path).map_or(Shared::Unusable, Shared::Open);
        }
        if let Shared::Open(file) = &*shared {
            let deadline = Instant::now() + LOCK_PATIENCE;
            loop {
                match file.try_lock() {
                    Ok(()) => {
                        let wait = self.take(file);
                        let _ = file.unlock();
                        if let Some(wait) = wait {
                            return (wait, true);
                        }
                        // Not readable or writable after all: this process's bucket from now on.
                        *shared = Shared::Unusable;
                        break;
                    }
                    Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    // Held too long (a stopped process) or not lockable: this request only.
                    Err(_) => break,
                }
            }
        }
        drop(shared);
        (self.take_local(), false)
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

    /// A state another process could have written: tokens within the bucket's range (at most a
    /// minute of reservations ahead) and a time not in the future.
    fn plausible(&self, s: &State, now: u64) -> bool {
        s.tokens.is_finite() && s.tokens <= self.burst && s.tokens >= -60.0 * self.per_sec && s.at_ms <= now + 1_000
    }

    /// The bucket after one more token is taken at `now` (a missing state is a full bucket),
    /// and how long the taker waits for its slot.
    fn spend(&self, state: Option<State>, now: u64) -> (State, Duration) {
        let tokens = match state {
            #[allow(clippy::cast_precision_loss, reason = "milliseconds between two requests")]
            Some(s) => (s.tokens + now.saturating_sub(s.at_ms) as f64 / 1000.0 * self.per_sec).min(self.burst),
            None => self.burst,
        };
        let tokens = tokens - 1.0;
        let wait = if tokens >= 0.0 { Duration::ZERO } else { Duration::from_secs_f64(-tokens / self.per_sec) };
        (State { tokens, at_ms: now.max(state.map_or(0, |s| s.at_ms)) }, wait)
    }

    fn take_local(&self) -> Duration {
        let mut st = self.local.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        let (tokens, last) = *st;
        let tokens = (tokens + now.duration_since(last).as_secs_f64() * self.per_sec).min(self.burst) - 1.0;
        *st = (tokens, now);
        if tokens >= 0.0 { Duration::ZERO } else { Duration::from_secs_f64(-tokens / self.per_sec) }
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
            State { tokens: -1e9, at_ms: now },
            State { tokens: 1.0, at_ms: now + 3_600_000 },
        ] {
            assert!(!b.plausible(&bad, now), "{bad:?}");
        }
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
