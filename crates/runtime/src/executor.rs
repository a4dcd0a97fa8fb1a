//! Executor threads: each runs a single-threaded tokio runtime hosting many
//! isolates (as workerd runs many isolates per thread).

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::thread::JoinHandle;

use tokio::sync::mpsc;

use crate::driver::{self, Spawn};

/// Native stack of executor threads: well above the engine's stack limit,
/// so guest recursion always ends in a `RangeError`.
const THREAD_STACK_BYTES: usize = 8 << 20;

pub(crate) struct Executor {
    jobs: mpsc::UnboundedSender<Spawn>,
    thread: Option<JoinHandle<()>>,
    /// Calls in flight on this thread's workers (kept by their drivers).
    pub(crate) busy: Arc<AtomicUsize>,
}

impl Executor {
    pub(crate) fn start(index: usize) -> std::io::Result<Self> {
        let (jobs, mut receiver) = mpsc::unbounded_channel::<Spawn>();
        let busy = Arc::new(AtomicUsize::new(0));
        let thread = std::thread::Builder::new()
            .name(format!("isola-executor-{index}"))
            .stack_size(THREAD_STACK_BYTES)
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    // Outbound::Allow fetches use sockets on this thread.
                    .enable_io()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(error) => {
                        tracing::error!(%error, "executor thread could not start its event loop");
                        return;
                    }
                };
                let local = tokio::task::LocalSet::new();
                local.block_on(&runtime, async move {
                    while let Some(spawn) = receiver.recv().await {
                        tokio::task::spawn_local(driver::drive(spawn));
                    }
                });
                // The loader is gone; let workers still held by callers finish.
                runtime.block_on(local);
            })?;
        Ok(Self {
            jobs,
            thread: Some(thread),
            busy,
        })
    }

    pub(crate) fn submit(&self, spawn: Spawn) -> bool {
        self.jobs.send(spawn).is_ok()
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        // Closing `jobs` ends the accept loop; the thread exits once every
        // worker on it is gone. Detach rather than block the dropping thread.
        drop(self.thread.take());
    }
}
