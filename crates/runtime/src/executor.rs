//! Executor threads: each runs a single-threaded tokio runtime hosting many
//! isolates (as workerd runs many isolates per thread).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::thread::JoinHandle;

use tokio::sync::mpsc;

use crate::driver::{self, Spawn};

/// A task a front end runs on an executor thread (see
/// [`crate::Loader::run_on`]): made on that thread, so it need not be
/// `Send` once made.
pub type LocalTask = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()>>> + Send>;

/// What an executor thread is handed.
enum Job {
    /// A worker's driver.
    Worker(Box<Spawn>),
    /// A front end's task.
    Task(LocalTask),
}

/// Native stack of executor threads: well above the engine's stack limit,
/// so guest recursion always ends in a `RangeError`.
const THREAD_STACK_BYTES: usize = 8 << 20;

pub(crate) struct Executor {
    jobs: mpsc::UnboundedSender<Job>,
    thread: Option<JoinHandle<()>>,
    /// Calls in flight on this thread's workers (kept by their drivers).
    pub(crate) busy: Arc<AtomicUsize>,
}

impl Executor {
    pub(crate) fn start(index: usize) -> std::io::Result<Self> {
        let (jobs, mut receiver) = mpsc::unbounded_channel::<Job>();
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
                    while let Some(job) = receiver.recv().await {
                        match job {
                            Job::Worker(spawn) => tokio::task::spawn_local(driver::drive(*spawn)),
                            Job::Task(task) => tokio::task::spawn_local(task()),
                        };
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
        self.jobs.send(Job::Worker(Box::new(spawn))).is_ok()
    }

    pub(crate) fn run(&self, task: LocalTask) -> bool {
        self.jobs.send(Job::Task(task)).is_ok()
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        // Closing `jobs` ends the accept loop; the thread exits once every
        // worker on it is gone. Detach rather than block the dropping thread.
        drop(self.thread.take());
    }
}
