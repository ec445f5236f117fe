//! Ctrl-C and SIGTERM once a reset has been sent.
//!
//! Before the POST, the default behaviour is right: the process ends and nothing has changed.
//! After it, a silent death would hide a reset that happened, so from
//! [`Interrupts::listen`] on the first signal only asks the command to stop waiting and say what
//! it knows; a second one ends the process at once with 130, as a shell expects.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;

/// Whether [`Interrupts::listen`] answers signals from now on.
static LISTENING: AtomicBool = AtomicBool::new(false);
/// Whether a question is waiting for its answer ([`AtPrompt`]).
static PROMPTING: AtomicBool = AtomicBool::new(false);
/// Whether the stand-in for the default action runs ([`AtPrompt::new`]).
static DEFAULT_KEPT: std::sync::Once = std::sync::Once::new();

/// Ctrl-C and SIGTERM while a question waits for its answer, for [`crate::ui::Ui::confirm`]
/// to say that nothing was changed before it ends the run. Once a handler is installed, the
/// default action (the end of the process) is gone for good, so from the first question on a
/// task stands in for it, for signals outside a question until [`Interrupts::listen`].
pub struct AtPrompt(Option<Signals>);

impl AtPrompt {
    pub fn new() -> Self {
        DEFAULT_KEPT.call_once(|| {
            tokio::spawn(async {
                let Some(mut signals) = Signals::new() else { return };
                loop {
                    signals.recv().await;
                    if !LISTENING.load(Ordering::SeqCst) && !PROMPTING.load(Ordering::SeqCst) {
                        std::process::exit(130);
                    }
                }
            });
        });
        PROMPTING.store(true, Ordering::SeqCst);
        Self(Signals::new())
    }

    /// Completes at a signal (never, when no handler could be installed).
    pub async fn wait(&mut self) {
        match &mut self.0 {
            Some(signals) => signals.recv().await,
            None => std::future::pending().await,
        }
    }
}

impl Drop for AtPrompt {
    fn drop(&mut self) {
        PROMPTING.store(false, Ordering::SeqCst);
    }
}

/// Signals seen since [`Interrupts::listen`].
#[derive(Debug, Clone)]
pub struct Interrupts {
    rx: watch::Receiver<bool>,
}

impl Interrupts {
    /// Starts listening for SIGINT and SIGTERM (Ctrl-C on Windows). When the handlers cannot be
    /// installed, the default behaviour stays, and [`Interrupts::first`] never completes.
    pub fn listen() -> Self {
        let (tx, rx) = watch::channel(false);
        LISTENING.store(true, Ordering::SeqCst);
        tokio::spawn(async move {
            let Some(mut next) = Signals::new() else { return };
            next.recv().await;
            let _ = tx.send(true);
            next.recv().await;
            crate::ui::eprint_text("\nInterrupted again: exiting now. The outcome above is not final.\n");
            std::process::exit(130);
        });
        Self { rx }
    }

    /// Completes at the first signal (at once if one was already seen).
    pub async fn first(&self) {
        let mut rx = self.rx.clone();
        if rx.wait_for(|seen| *seen).await.is_err() {
            // The listener is gone (no handlers): never complete.
            std::future::pending::<()>().await;
        }
    }

    /// A flag that turns true at the first signal, for batches that stop starting work then.
    pub fn stop_flag(&self) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (set, watcher) = (std::sync::Arc::clone(&flag), self.clone());
        tokio::spawn(async move {
            watcher.first().await;
            set.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        flag
    }

    /// Whether a signal has been seen.
    pub fn seen(&self) -> bool {
        *self.rx.borrow()
    }
}

#[cfg(unix)]
struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn new() -> Option<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Some(Self { int: signal(SignalKind::interrupt()).ok()?, term: signal(SignalKind::terminate()).ok()? })
    }

    async fn recv(&mut self) {
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn new() -> Option<Self> {
        Some(Self)
    }

    async fn recv(&mut self) {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
