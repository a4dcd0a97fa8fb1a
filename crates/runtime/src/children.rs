//! Dynamic workers a worker creates through its Worker Loader bindings
//! (`env.LOADER.load`/`get`), and the calls it makes through their
//! entrypoint stubs. The parent's isolate only ever holds a numeric handle;
//! the child `Worker`s live here, in the parent's driver.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use isola_engine::{
    CallKind, DynamicCode, DynamicLimits, DynamicOutbound, ErrorValue, HttpRequest, HttpResponse,
    LoopbackService, OpResult, Value,
};

use crate::binding::OutboundHandler;
use crate::code::{Outbound, Prepared, WorkerCode};
use crate::config::Limits;
use crate::loader::LoaderHandle;
use crate::service::{Service, ServiceWorker, outcome_result};
use crate::worker::{Worker, WorkerInner};

/// Host bookkeeping of one handle, charged to the code budget with the
/// child's code so that handles of tiny or cached workers are counted too.
const HANDLE_BYTES: usize = 1024;

/// Failed `load(code)`s whose errors are kept for their calls; past it, a
/// call through a failed one gets [`TOO_MANY_FAILED`].
const MAX_FAILED: usize = 4096;

const TOO_MANY_FAILED: &str = "isola: this dynamic worker could not be created, and the worker \
     that loaded it holds so many that failed (4096) that its error was not kept. Let go of \
     the stubs of workers that failed to load.";

/// The children of one worker, by handle. Handles are the parent isolate's
/// to choose (so a fresh worker's first call needs no round trip for its
/// handle); each must be greater than the last, which keeps an engine that
/// no longer keeps its rules from naming one twice.
pub(crate) struct Children {
    loader: LoaderHandle,
    parent: Weak<WorkerInner>,
    workers: HashMap<u64, Child>,
    /// `load(code)`s that failed: the error is their calls' answer.
    failed: HashMap<u64, ErrorValue>,
    /// The greatest handle named so far.
    last: u64,
    /// The parent's executor, where its children go when it is idle.
    executor: usize,
    /// Bytes of code and `env` of the children this parent created and
    /// holds, and their ceiling (the parent's memory limit): the parent's
    /// heap holds only handles, so without it a loop of `load` calls could
    /// make the host keep any amount of code alive.
    code_bytes: usize,
    code_budget: usize,
}

/// A child and the tails that hear of its runs.
struct Child {
    worker: Worker,
    tails: Arc<Vec<Service>>,
    /// What it counts in [`Children::code_bytes`].
    code_bytes: usize,
}

fn error(name: &str, message: impl Into<String>) -> OpResult {
    OpResult::Error(ErrorValue::new(name, message))
}

/// Limits with only what `limits` sets, the rest unlimited (the loader's
/// and the caller's own limits still apply: the lowest wins).
fn limits_of(limits: DynamicLimits) -> Option<Limits> {
    if limits.cpu_ms.is_none() && limits.subrequests.is_none() {
        return None;
    }
    Some(Limits {
        cpu_ms: limits.cpu_ms.unwrap_or(u64::MAX),
        memory_bytes: usize::MAX,
        wall_ms: u64::MAX / 4,
        subrequests: limits.subrequests.unwrap_or(u32::MAX),
        output_bytes: usize::MAX,
        log_bytes: usize::MAX,
    })
}

/// A loopback as a child's `globalOutbound`: its fetches run the parent's
/// `fetch` handler, which can allow-list, log, or add credentials the
/// child never sees.
struct LoopbackOutbound(Service);

#[async_trait::async_trait]
impl OutboundHandler for LoopbackOutbound {
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, ErrorValue> {
        match self.0.call(&Weak::new(), CallKind::Fetch(request)).await {
            OpResult::Response(response) => Ok(response),
            OpResult::Error(e) => Err(e),
            OpResult::Value(_) => Err(ErrorValue::new(
                "TypeError",
                "The outbound entrypoint's fetch handler did not return a Response.",
            )),
        }
    }
}

/// `ctx.exports.Name({ props })` of the parent `this`.
fn loopback(this: &Weak<WorkerInner>, service: LoopbackService) -> Service {
    Service {
        worker: ServiceWorker::Parent(this.clone()),
        entrypoint: service.entrypoint,
        props: service.props,
    }
}

fn worker_code(
    code: DynamicCode,
    parent: &Prepared,
    this: &Weak<WorkerInner>,
    cordon: &str,
) -> WorkerCode {
    let mut worker = match code.compatibility_date {
        Some(date) => WorkerCode::new(date, code.main_module),
        None => WorkerCode::without_compatibility_date(code.main_module),
    }
    .compatibility_flags(code.compatibility_flags);
    for (name, module) in code.modules {
        worker = worker.module(name, module);
    }
    for (name, value) in code.env {
        worker = worker.env_value(name, value);
    }
    for service in code.services {
        let binding = service.binding.clone();
        worker = worker.env_service(binding, loopback(this, service));
    }
    worker = worker.global_outbound(match code.global_outbound {
        DynamicOutbound::Inherit => parent.outbound.clone(),
        DynamicOutbound::Blocked => Outbound::Blocked,
        DynamicOutbound::Loopback { entrypoint, props } => {
            Outbound::Handler(Arc::new(LoopbackOutbound(Service {
                worker: ServiceWorker::Parent(this.clone()),
                entrypoint,
                props,
            })))
        }
    });
    if let Some(limits) = limits_of(code.limits) {
        worker = worker.limits(limits);
    }
    worker.cordon(cordon)
}

impl Children {
    pub(crate) fn new(
        loader: LoaderHandle,
        parent: Weak<WorkerInner>,
        executor: usize,
        code_budget: usize,
    ) -> Self {
        Self {
            loader,
            parent,
            workers: HashMap::new(),
            failed: HashMap::new(),
            last: 0,
            executor,
            code_bytes: 0,
            code_budget,
        }
    }

    /// Takes `handle` for a new worker; false if it is not greater than
    /// every handle named before (the engine chooses them in order).
    pub(crate) fn claim(&mut self, handle: u64) -> bool {
        if handle <= self.last {
            return false;
        }
        self.last = handle;
        true
    }

    /// A `load(code)` that failed: calls through `handle` answer `error`
    /// (kept for at most [`MAX_FAILED`] handles at once).
    pub(crate) fn fail(&mut self, handle: u64, error: OpResult) {
        if let OpResult::Error(error) = error
            && self.failed.len() < MAX_FAILED
        {
            self.failed.insert(handle, error);
        }
    }

    /// Forgets every child: the isolate that held their handles is gone.
    pub(crate) fn clear(&mut self) {
        self.workers.clear();
        self.failed.clear();
        self.code_bytes = 0;
        self.last = 0;
    }

    fn adopt(
        &mut self,
        handle: u64,
        worker: Worker,
        tails: Vec<LoopbackService>,
        code_bytes: usize,
    ) -> OpResult {
        let code_bytes = code_bytes + HANDLE_BYTES;
        self.code_bytes += code_bytes;
        let tails = tails
            .into_iter()
            .map(|t| loopback(&self.parent, t))
            .collect();
        self.workers.insert(
            handle,
            Child {
                worker,
                tails: Arc::new(tails),
                code_bytes,
            },
        );
        #[allow(clippy::cast_precision_loss)]
        OpResult::Value(Value::Number(handle as f64))
    }

    /// `load(code)` (`name: None`) or a `get` lookup (`code: None`) or
    /// creation, under `handle` (claimed). Synchronous: creating a worker
    /// only validates its code and hands it to an executor thread.
    pub(crate) fn load(
        &mut self,
        handle: u64,
        parent: &Prepared,
        binding: &str,
        name: Option<String>,
        code: Option<Box<DynamicCode>>,
    ) -> OpResult {
        let Some(namespace) = parent.loaders.get(binding) else {
            return error("TypeError", format!("env.{binding} is not a Worker Loader"));
        };
        let cordon = parent
            .loader_cordons
            .get(binding)
            .map_or_else(|| binding.to_owned(), |c| c.to_string());
        let Some(loader) = self.loader.upgrade() else {
            return error("Error", "isola internal error: the loader has shut down");
        };
        let key = name.map(|name| format!("{namespace}\u{0}{name}"));
        let tails = code.as_ref().map(|c| c.tails.clone()).unwrap_or_default();
        let size = code.as_ref().map_or(0, |c| c.approx_size());
        if self.code_bytes.saturating_add(size + HANDLE_BYTES) > self.code_budget {
            return error(
                "RangeError",
                format!(
                    "isola: the dynamic workers this worker holds carry {} KiB of code and env \
                     (with 1 KiB per worker); {} KiB more would pass its memory limit of {} KiB. \
                     Let go of the stubs of workers it no longer needs.",
                    self.code_bytes >> 10,
                    (size + HANDLE_BYTES).div_ceil(1024),
                    self.code_budget >> 10
                ),
            );
        }
        // A `get` that finds its name cached creates nothing new.
        let created = std::cell::Cell::new(false);
        let loaded = match (key, code) {
            (Some(key), None) => {
                return match loader.cached(&key) {
                    Some(worker) => self.adopt(handle, worker, Vec::new(), 0),
                    None => OpResult::Value(Value::Null),
                };
            }
            (Some(key), Some(code)) => loader.get_near(
                &key,
                || {
                    created.set(true);
                    worker_code(*code, parent, &self.parent, &cordon)
                },
                Some(self.executor),
            ),
            (None, Some(code)) => {
                created.set(true);
                loader.load_near(
                    worker_code(*code, parent, &self.parent, &cordon),
                    Some(self.executor),
                )
            }
            (None, None) => return error("TypeError", "isola: a fresh worker needs code"),
        };
        match loaded {
            Ok(worker) => self.adopt(handle, worker, tails, if created.get() { size } else { 0 }),
            Err(e) => error("TypeError", e.to_string()),
        }
    }

    /// Drops a handle whose stub the parent can no longer reach.
    pub(crate) fn release(&mut self, handle: u64) {
        if let Some(child) = self.workers.remove(&handle) {
            self.code_bytes -= child.code_bytes;
        }
        self.failed.remove(&handle);
    }

    /// A call through an entrypoint stub, as a future that outlives the
    /// borrow of `self` (the child's driver runs it; this only waits).
    pub(crate) fn call(
        &self,
        handle: u64,
        entrypoint: Option<String>,
        props: Value,
        limits: DynamicLimits,
        call: CallKind,
    ) -> Result<impl std::future::Future<Output = OpResult> + 'static, OpResult> {
        let Some(child) = self.workers.get(&handle) else {
            return Err(match self.failed.get(&handle) {
                Some(error) => OpResult::Error(error.clone()),
                // Claimed, and neither alive nor released (a stub cannot
                // call a released worker): a failure past MAX_FAILED.
                None if handle <= self.last => error("RangeError", TOO_MANY_FAILED),
                None => error("TypeError", "isola: no such dynamic worker"),
            });
        };
        let worker = child.worker.clone();
        let tails = child.tails.clone();
        Ok(async move {
            let mut stub = worker.entrypoint(entrypoint.as_deref()).props(props);
            if let Some(limits) = limits_of(limits) {
                stub = stub.limits(limits);
            }
            let started = crate::tail::now_ms();
            let event = match &call {
                CallKind::Rpc { method, .. } => crate::tail::rpc_event(method),
                CallKind::Fetch(request) => crate::tail::fetch_event(request),
                CallKind::Stub { .. } => crate::tail::rpc_event("(stub)"),
            };
            let run = stub.send(call).await;
            if !tails.is_empty() {
                let events = crate::tail::events(entrypoint.as_deref(), event, started, &run);
                // Tails run after the call, without delaying its answer.
                tokio::task::spawn_local(async move {
                    for tail in tails.iter() {
                        let call = CallKind::Rpc {
                            method: "tail".into(),
                            args: vec![events.clone()],
                        };
                        if let OpResult::Error(e) = tail.call(&Weak::new(), call).await {
                            tracing::warn!(error = %e, "a tail failed");
                        }
                    }
                });
            }
            outcome_result(run.outcome)
        })
    }
}
