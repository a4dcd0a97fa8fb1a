//! Handles to a running worker and its entrypoints.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use isola_engine::{CallKind, HttpRequest, LogEntry, Value};
use tokio::sync::{mpsc, oneshot};

use crate::config::Limits;
use crate::driver::{CallRequest, LogSink};
use crate::outcome::{Outcome, Run};

pub(crate) struct WorkerInner {
    pub(crate) calls: mpsc::UnboundedSender<CallRequest>,
    pub(crate) memory: Arc<AtomicUsize>,
}

/// A loaded worker. Calls through the same `Worker` (and its clones) share
/// one isolate and its module state; the isolate is disposed when the last
/// clone is dropped and its in-flight work (including `ctx.waitUntil`) ends.
#[derive(Clone)]
pub struct Worker {
    pub(crate) inner: Arc<WorkerInner>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("memory_bytes", &self.memory_bytes())
            .finish()
    }
}

impl Worker {
    /// The default export (`None`) or a named export as an entrypoint.
    /// Resolution is lazy: an unknown name fails at call time, as on
    /// Cloudflare.
    pub fn entrypoint(&self, name: Option<&str>) -> Entrypoint {
        Entrypoint {
            worker: self.clone(),
            name: name.filter(|n| *n != "default").map(str::to_owned),
            props: Value::Undefined,
            limits: None,
            log_sink: None,
        }
    }

    /// Engine heap bytes the worker's isolate holds (0 if none is live).
    pub fn memory_bytes(&self) -> usize {
        self.inner.memory.load(Ordering::Relaxed)
    }
}

/// An entrypoint of a worker, with the props and limits its calls carry.
#[derive(Clone)]
pub struct Entrypoint {
    worker: Worker,
    name: Option<String>,
    props: Value,
    limits: Option<Limits>,
    log_sink: Option<LogSink>,
}

impl std::fmt::Debug for Entrypoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entrypoint")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Entrypoint {
    /// `ctx.props` for calls through this entrypoint.
    #[must_use]
    pub fn props(mut self, props: impl Into<Value>) -> Self {
        self.props = props.into();
        self
    }

    /// Lowers the limits of calls through this entrypoint.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// Streams console lines to `sink` as the guest writes them (they are
    /// also returned in [`Run::logs`]).
    #[must_use]
    pub fn on_log(mut self, sink: impl Fn(&LogEntry) + Send + Sync + 'static) -> Self {
        self.log_sink = Some(Arc::new(sink));
        self
    }

    /// Calls `method` with one argument (as a plain-object handler needs).
    pub async fn call(&self, method: &str, arg: impl Into<Value>) -> Run {
        self.call_with(method, vec![arg.into()]).await
    }

    /// Calls `method` with any number of arguments (for `WorkerEntrypoint`
    /// classes).
    pub async fn call_with(&self, method: &str, args: Vec<Value>) -> Run {
        self.send(CallKind::Rpc {
            method: method.to_owned(),
            args,
        })
        .await
    }

    /// Calls the entrypoint's `fetch(request, env, ctx)` handler; a
    /// successful run ends in [`Outcome::Responded`].
    pub async fn fetch(&self, request: HttpRequest) -> Run {
        self.send(CallKind::Fetch(request)).await
    }

    pub(crate) async fn send(&self, kind: CallKind) -> Run {
        let (reply, response) = oneshot::channel();
        let request = CallRequest {
            entrypoint: self.name.clone(),
            kind,
            props: self.props.clone(),
            limits: self.limits.unwrap_or(Limits {
                cpu_ms: u64::MAX,
                memory_bytes: usize::MAX,
                wall_ms: u64::MAX / 4,
                subrequests: u32::MAX,
                output_bytes: usize::MAX,
                log_bytes: usize::MAX,
            }),
            log_sink: self.log_sink.clone(),
            reply,
        };
        if self.worker.inner.calls.send(request).is_err() {
            return internal("the worker's executor thread has stopped");
        }
        response
            .await
            .unwrap_or_else(|_| internal("the worker stopped before answering"))
    }
}

fn internal(message: &str) -> Run {
    Run {
        outcome: Outcome::Internal(message.to_owned()),
        logs: Vec::new(),
        stats: crate::Stats::default(),
    }
}
