//! Service bindings: `env.NAME` naming an entrypoint of a worker, as
//! wrangler's `[[services]]` and `ctx.exports.Name({ props })` loopbacks
//! give them. Calls (RPC methods and `fetch`) run on that entrypoint with
//! the binding's props.

use std::sync::{Arc, OnceLock, Weak};

use isola_engine::{CallKind, ErrorValue, OpResult, Value};

use crate::outcome::Outcome;
use crate::worker::{Entrypoint, Worker, WorkerInner};

/// A worker that service bindings point at, filled in once it is loaded,
/// so that workers can bind each other in any order (including cycles).
///
/// A binding holds its worker alive, as a Cloudflare service binding does;
/// two workers bound to each other stay alive together.
#[derive(Clone, Default)]
pub struct ServiceSlot(Arc<OnceLock<Worker>>);

impl std::fmt::Debug for ServiceSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceSlot")
            .field("bound", &self.0.get().is_some())
            .finish()
    }
}

impl ServiceSlot {
    /// An empty slot: calls through bindings to it fail until it is bound.
    pub fn new() -> Self {
        Self::default()
    }

    /// Binds the slot to `worker`; false if it was already bound.
    pub fn bind(&self, worker: &Worker) -> bool {
        self.0.set(worker.clone()).is_ok()
    }
}

/// Which worker a service runs on.
#[derive(Clone)]
pub(crate) enum ServiceWorker {
    /// The worker holding the binding.
    This,
    /// The worker that created the one holding the binding (a loopback);
    /// weak, so children do not keep their parent alive.
    Parent(Weak<WorkerInner>),
    /// Another worker, bound through a slot.
    Bound(ServiceSlot),
}

/// An entrypoint of a worker, with props, reachable as a binding.
#[derive(Clone)]
pub(crate) struct Service {
    pub(crate) worker: ServiceWorker,
    pub(crate) entrypoint: Option<String>,
    pub(crate) props: Value,
}

impl Service {
    /// The entrypoint calls go to; `this` is the worker holding the binding.
    pub(crate) fn entrypoint(&self, this: &Weak<WorkerInner>) -> Result<Entrypoint, ErrorValue> {
        let gone = || ErrorValue::new("Error", "The worker behind this service binding is gone.");
        let worker = match &self.worker {
            ServiceWorker::This => Worker {
                inner: this.upgrade().ok_or_else(gone)?,
            },
            ServiceWorker::Parent(parent) => Worker {
                inner: parent.upgrade().ok_or_else(gone)?,
            },
            ServiceWorker::Bound(slot) => slot.0.get().cloned().ok_or_else(|| {
                ErrorValue::new(
                    "Error",
                    "This service binding's worker has not been loaded yet.",
                )
            })?,
        };
        Ok(worker
            .entrypoint(self.entrypoint.as_deref())
            .props(self.props.clone()))
    }

    /// Runs an RPC call or a fetch on the service.
    pub(crate) async fn call(&self, this: &Weak<WorkerInner>, kind: CallKind) -> OpResult {
        match self.entrypoint(this) {
            Ok(entrypoint) => outcome_result(entrypoint.send(kind).await.outcome),
            Err(e) => OpResult::Error(e),
        }
    }
}

/// A call's outcome as the caller's op result.
pub(crate) fn outcome_result(outcome: Outcome) -> OpResult {
    match outcome {
        Outcome::Returned(value) => OpResult::Value(value),
        Outcome::Responded(response) => OpResult::Response(response),
        Outcome::Threw(e) | Outcome::InvalidCode(e) => OpResult::Error(e),
        other => OpResult::Error(ErrorValue::new(
            "Error",
            other
                .message()
                .unwrap_or_else(|| "isola internal error".into()),
        )),
    }
}
