//! Stopping the server: a handle that asks it to stop, and the signals
//! (SIGINT, SIGTERM) that do the same from outside.

use std::sync::Arc;

use tokio::sync::watch;

/// Asks a running server to stop accepting connections and finish the
/// requests in flight. Cheap to clone; every clone stops the same server.
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    sender: Arc<watch::Sender<bool>>,
}

impl ShutdownHandle {
    pub(crate) fn new() -> (Self, watch::Receiver<bool>) {
        let (sender, receiver) = watch::channel(false);
        (
            Self {
                sender: Arc::new(sender),
            },
            receiver,
        )
    }

    /// Starts a graceful shutdown. Idempotent.
    pub fn shutdown(&self) {
        self.sender.send_replace(true);
    }
}

/// Resolves once a shutdown was asked for (or the handle is gone).
pub(crate) async fn requested(mut receiver: watch::Receiver<bool>) {
    // An error means every handle was dropped: nobody can ask any more, so
    // keep serving until a signal arrives.
    if receiver.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub(crate) async fn signal() -> std::io::Result<&'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        tokio::select! {
            _ = terminate.recv() => Ok("SIGTERM"),
            _ = interrupt.recv() => Ok("SIGINT"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await?;
        Ok("Ctrl-C")
    }
}
