//! One isolate: a QuickJS-ng runtime and context, its glue state, its limits.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use rquickjs::context::intrinsic;
use rquickjs::{Context, Ctx, Function, Module, Object, Runtime, Value as JsValue};

use crate::alloc::MeteredAllocator;
use crate::codec::{self, CodecLimits};
use crate::dispatch;
use crate::glue::{self, Glue, GlueState};
use crate::host;
use crate::limits::{Budget, MemoryMeter, Termination, Watchdog, thread_cpu_time};
use crate::modules::{MemoryLoader, MemoryResolver};
use crate::ops::{CallResult, CallSpec, Effect, LogLevel, OpId, OpResult, TimerId};
use crate::platform::Platform;
use crate::shared::Shared;
use crate::source::WorkerSource;
use crate::value::Value;

/// The intrinsics a worker gets: everything a worker needs, nothing that
/// reaches outside (QuickJS has no `std`/`os` here; those live in
/// quickjs-libc, which isola does not build).
pub(crate) type WorkerIntrinsics = (
    intrinsic::Date,
    intrinsic::Eval,
    intrinsic::RegExpCompiler,
    intrinsic::RegExp,
    intrinsic::Json,
    intrinsic::Proxy,
    intrinsic::MapSet,
    intrinsic::TypedArrays,
    intrinsic::Promise,
    intrinsic::WeakRef,
    intrinsic::DOMException,
);

/// Settings of one isolate.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct IsolateConfig {
    /// Engine heap limit in bytes (includes the runtime's own structures).
    pub memory_limit: usize,
    /// Native stack the engine may use, in bytes. Must stay well below the
    /// stack of the thread the isolate runs on, and at most 16 MiB (above
    /// that QuickJS disables its check).
    pub stack_limit: usize,
    /// Limits on values crossing the boundary.
    pub codec: CodecLimits,
    /// Console bytes kept per call before output is dropped.
    pub max_log_bytes: usize,
    /// The `env` object: values and binding names.
    pub env: Vec<(String, EnvEntry)>,
}

impl Default for IsolateConfig {
    fn default() -> Self {
        Self {
            memory_limit: 128 << 20,
            stack_limit: 1 << 20,
            codec: CodecLimits::default(),
            max_log_bytes: 1 << 20,
            env: Vec::new(),
        }
    }
}

/// One entry of `env`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum EnvEntry {
    /// A structured-clone value.
    Value(Value),
    /// A host binding: `env.NAME.method(...)` becomes an [`crate::OpRequest::Binding`].
    Binding,
    /// A service binding to a worker's entrypoint (`[[services]]`, a
    /// `ctx.exports` loopback): `env.NAME.method(...)` and
    /// `env.NAME.fetch(...)` become [`crate::OpRequest::CallService`]; RPC
    /// arguments may carry functions and `RpcTarget`s as stubs.
    Service,
    /// A Worker Loader (`env.NAME.load(code)`, `env.NAME.get(name, cb)`),
    /// whose workers are created by [`crate::OpRequest::LoadWorker`] and
    /// called by [`crate::OpRequest::CallWorker`].
    WorkerLoader,
}

/// Why an isolate could not be created.
#[derive(Debug, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum IsolateError {
    /// The engine could not be set up (e.g. the memory limit is too small).
    #[error("failed to set up the isolate: {0}")]
    Setup(String),
    /// The isolate hit a limit while being set up.
    #[error("the isolate hit a limit while being set up: {0:?}")]
    Terminated(Termination),
}

/// A QuickJS-ng isolate running one worker.
///
/// All methods that run guest code take a [`Budget`] and return the CPU
/// time used, or the [`Termination`] that stopped the guest; after a
/// termination the isolate must be dropped.
pub struct Isolate {
    pub(crate) context: Context,
    runtime: Runtime,
    pub(crate) shared: Rc<Shared>,
    watchdog: Rc<Watchdog>,
    cpu_total: Duration,
    started: bool,
}

impl std::fmt::Debug for Isolate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Isolate")
            .field("main", &self.shared.source().map(|s| s.main.as_str()))
            .finish_non_exhaustive()
    }
}

/// An isolate with the engine and isola's globals set up but no worker's
/// code or `env` yet. Creating one is most of the cost of a fresh sandbox,
/// so hosts make them ahead of time (when a thread is idle) and turn one
/// into a worker's isolate with [`BlankIsolate::into_isolate`]. It has
/// never run guest code.
pub struct BlankIsolate {
    platform: &'static Platform,
    context: Context,
    runtime: Runtime,
    shared: Rc<Shared>,
    watchdog: Rc<Watchdog>,
}

impl std::fmt::Debug for BlankIsolate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlankIsolate").finish_non_exhaustive()
    }
}

// SAFETY (both impls): an isolate owns its whole object graph. The QuickJS
// runtime and context (with rquickjs's `Rc`s), and every clone of `shared`
// and `watchdog`, live only in this struct and in closures and userdata
// that runtime owns; no public method hands out a reference into it, and
// no static or thread-local refers to it. (The one holder outside is the
// test262 `Realm`, whose host hooks share an `Rc` with it: a `Realm` is
// not `Send` and never gives its isolate away.) Moving an isolate moves
// every reference with it, so no two threads ever touch one refcount or
// cell; it is not `Sync`. QuickJS keeps one per-thread value, the native stack top its
// overflow check measures from; `use_this_thread_stack` re-reads it before
// any guest or glue code runs on the thread that now holds the isolate.
#[allow(unsafe_code)]
unsafe impl Send for BlankIsolate {}
#[allow(unsafe_code)]
unsafe impl Send for Isolate {}

/// Makes QuickJS measure native stack use from the current thread's stack
/// pointer (an isolate may have been made, or last run, on another thread).
fn use_this_thread_stack(context: &Context) {
    // SAFETY: `context` is alive, so its runtime is; JS_UpdateStackTop only
    // stores the current stack pointer and the limit derived from it.
    #[allow(unsafe_code)]
    unsafe {
        rquickjs::qjs::JS_UpdateStackTop(rquickjs::qjs::JS_GetRuntime(context.as_raw().as_ptr()));
    }
}

/// The budget for setting an isolate up (isola's own code only).
fn setup_budget() -> Budget {
    Budget::new(
        Duration::from_secs(1),
        std::time::Instant::now() + Duration::from_secs(5),
    )
}

impl BlankIsolate {
    /// A blank isolate of `platform` whose engine may use `stack_limit`
    /// bytes of native stack (see [`IsolateConfig::stack_limit`]).
    pub fn new(platform: &'static Platform, stack_limit: usize) -> Result<Self, IsolateError> {
        let defaults = IsolateConfig::default();
        let meter = Rc::new(MemoryMeter::new(defaults.memory_limit));
        let watchdog = Rc::new(Watchdog::new(meter));
        let runtime = Runtime::new_with_alloc(MeteredAllocator::new(watchdog.clone()))
            .map_err(|e| IsolateError::Setup(e.to_string()))?;
        runtime.set_max_stack_size(stack_limit.min(16 << 20));
        let poller = watchdog.clone();
        runtime.set_interrupt_handler(Some(Box::new(move || poller.poll())));
        runtime.set_host_promise_rejection_tracker(Some(Box::new(
            |ctx, promise, reason, handled| {
                let _ = glue::with(&ctx, |g| {
                    let mut state = g.state.borrow_mut();
                    if handled {
                        state
                            .unhandled
                            .retain(|rejection| rejection.promise != promise);
                    } else {
                        // Reported to the call whose code rejected it.
                        let call = crate::io_context::current(&ctx);
                        state.unhandled.push(glue::Rejection {
                            promise,
                            reason,
                            call,
                        });
                    }
                });
            },
        )));
        let context = Context::custom::<WorkerIntrinsics>(&runtime)
            .map_err(|e| IsolateError::Setup(e.to_string()))?;

        let mut seed = [0u8; 16];
        getrandom::fill(&mut seed)
            .map_err(|e| IsolateError::Setup(format!("no OS randomness: {e}")))?;
        let (a, b) = seed.split_at(8);
        let rng = (
            u64::from_le_bytes(a.try_into().unwrap_or([1; 8])) | 1,
            u64::from_le_bytes(b.try_into().unwrap_or([2; 8])),
        );
        let shared = Rc::new(Shared::new(
            rng,
            defaults.max_log_bytes,
            defaults.codec,
            watchdog.clone(),
        ));

        watchdog.arm(setup_budget());
        let result = context.with(|ctx| -> rquickjs::Result<()> {
            let global = ctx.globals();
            // Captured before any guest code runs.
            let object: Object = global.get("Object")?;
            let object_prototype: Object = object.get("prototype")?;
            let promise_ctor: Function = global.get("Promise")?;
            let promise_resolve: Function = promise_ctor.get("resolve")?;
            global.remove("SharedArrayBuffer")?;
            global.remove("Atomics")?;
            crate::callsite::hide_functions(&ctx)?;
            host::install_random(&ctx, &shared)?;
            let env = Object::new(ctx.clone())?;
            let _ = ctx.store_userdata(Glue {
                platform,
                shared: shared.clone(),
                env: env.clone(),
                object_prototype,
                promise_ctor,
                promise_resolve,
                state: RefCell::new(GlueState::default()),
            });
            crate::globals::install(&ctx, platform)?;
            #[cfg(feature = "attack-probe")]
            crate::attack_probe::install(&ctx)?;
            Ok(())
        });
        watchdog.disarm();
        if let Some(why) = watchdog.tripped() {
            return Err(IsolateError::Terminated(why));
        }
        result.map_err(|e| IsolateError::Setup(e.to_string()))?;
        Ok(Self {
            platform,
            context,
            runtime,
            shared,
            watchdog,
        })
    }

    /// Makes this the isolate of the worker `source`, with `config`'s
    /// limits and `env`. Nothing of the guest runs until [`Isolate::start`].
    pub fn into_isolate(
        self,
        source: Arc<WorkerSource>,
        config: &IsolateConfig,
    ) -> Result<Isolate, IsolateError> {
        let Self {
            platform,
            context,
            runtime,
            shared,
            watchdog,
        } = self;
        runtime.set_max_stack_size(config.stack_limit.min(16 << 20));
        watchdog.memory.set_limit(config.memory_limit);
        shared.configure(config.max_log_bytes, config.codec);
        if shared.set_source(source.clone()).is_err() {
            return Err(IsolateError::Setup(
                "the isolate already has a worker".into(),
            ));
        }
        runtime.set_loader(
            MemoryResolver {
                platform,
                source: source.clone(),
            },
            MemoryLoader { platform, source },
        );
        watchdog.arm(setup_budget());
        use_this_thread_stack(&context);
        let result = context.with(|ctx| -> rquickjs::Result<()> {
            let env = glue::with(&ctx, |g| g.env.clone())?;
            for (name, entry) in &config.env {
                let kind = match entry {
                    EnvEntry::Value(v) => {
                        env.set(name.as_str(), codec::write(&ctx, v)?)?;
                        continue;
                    }
                    EnvEntry::Binding => "bindingStub",
                    EnvEntry::Service => "serviceStub",
                    EnvEntry::WorkerLoader => "workerLoader",
                };
                let make: Function = crate::glue::stubs(&ctx)?.get(kind)?;
                env.set(name.as_str(), make.call::<_, JsValue>((name.as_str(),))?)?;
            }
            Ok(())
        });
        watchdog.disarm();
        if let Some(why) = watchdog.tripped() {
            return Err(IsolateError::Terminated(why));
        }
        result.map_err(|e| IsolateError::Setup(e.to_string()))?;
        Ok(Isolate {
            context,
            runtime,
            shared,
            watchdog,
            cpu_total: Duration::ZERO,
            started: false,
        })
    }
}

impl Isolate {
    /// Creates an isolate of `platform` for `source`. Nothing of the guest
    /// runs until [`Isolate::start`].
    pub fn new(
        platform: &'static Platform,
        source: Arc<WorkerSource>,
        config: &IsolateConfig,
    ) -> Result<Self, IsolateError> {
        BlankIsolate::new(platform, config.stack_limit)?.into_isolate(source, config)
    }

    /// Evaluates the main module (and what it imports). A startup error is
    /// kept and reported to every call, as workerd does.
    pub fn start(&mut self, budget: Budget) -> Result<Duration, Termination> {
        self.started = true;
        let main = self
            .shared
            .source()
            .map(|s| s.main.clone())
            .unwrap_or_default();
        let shared = self.shared.clone();
        self.enter(budget, move |ctx| {
            match Module::import(ctx, main.as_str()) {
                Ok(promise) => glue::with(ctx, |g| g.state.borrow_mut().main = Some(promise)),
                Err(rquickjs::Error::Exception) => {
                    let thrown = ctx.catch();
                    host::record_startup_error(ctx, &shared, &thrown);
                    Ok(())
                }
                Err(other) => Err(other),
            }
        })
    }

    /// Starts a call; it settles later with [`Effect::CallSettled`].
    pub fn call(&mut self, spec: CallSpec, budget: Budget) -> Result<Duration, Termination> {
        if !self.started {
            self.start(budget)?;
        }
        self.shared.calls_in_flight.borrow_mut().insert(spec.id);
        if let Some(error) = self.shared.startup_error.borrow().clone() {
            self.shared.emit(Effect::CallSettled {
                call: spec.id,
                result: CallResult::StartupFailed(error),
            });
            self.shared.emit(Effect::CallFinished { call: spec.id });
            return Ok(Duration::ZERO);
        }
        let shared = self.shared.clone();
        self.enter(budget, move |ctx| dispatch::start(ctx, &shared, spec))
    }

    /// Answers an op.
    pub fn complete_op(
        &mut self,
        id: OpId,
        result: OpResult,
        budget: Budget,
    ) -> Result<Duration, Termination> {
        if let Some(held) = self.shared.op_holds.borrow_mut().remove(&id) {
            self.shared.memory.sub(held);
        }
        self.enter(budget, move |ctx| {
            glue::release_op_stubs(ctx, id)?;
            let Some(op) = glue::with(ctx, |g| g.state.borrow_mut().ops.remove(&id))? else {
                return Ok(());
            };
            // Answered as the call that issued it (stubs in the answer are
            // that call's).
            crate::io_context::run_as(ctx, op.call, || {
                let (ok, value) = match &result {
                    OpResult::Value(v) => (true, codec::write(ctx, v)?),
                    OpResult::Error(e) => (false, codec::error_to_js(ctx, e)?),
                    OpResult::Response(r) => (true, host::response_to_js(ctx, r)?),
                };
                let settle = if ok { op.resolve } else { op.reject };
                settle.call::<_, ()>((value,))
            })
        })
    }

    /// Fires a timer.
    pub fn fire_timer(&mut self, id: TimerId, budget: Budget) -> Result<Duration, Termination> {
        let call = self.shared.timers.borrow_mut().fired(id);
        self.enter(budget, move |ctx| {
            let fire = glue::core_fn(ctx, "fireTimer")?;
            crate::io_context::run_as(ctx, call, || fire.call::<_, ()>((id,)))
        })
    }

    /// Takes the effects produced so far.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        self.shared.memory.sub(self.shared.effect_holds.replace(0));
        let mut effects = std::mem::take(&mut *self.shared.effects.borrow_mut());
        self.shared.timers.borrow_mut().take(&mut effects);
        effects
    }

    /// Starts a new console budget (call it when a call starts on an idle isolate).
    pub fn reset_log_budget(&mut self) {
        self.shared.log_bytes.set(0);
        self.shared.log_dropped.set(false);
    }

    /// Changes the heap limit (e.g. to a call's lower limit). Allocations
    /// past it fail and end the run with the memory-limit outcome.
    pub fn set_memory_limit(&mut self, bytes: usize) {
        self.watchdog.memory.set_limit(bytes);
    }

    /// Bytes the engine heap holds now.
    pub fn memory_used(&self) -> usize {
        self.watchdog.memory.used()
    }

    /// Whether an allocation was refused because the process-wide memory
    /// budget ([`crate::set_process_memory_budget`]) was full, rather than
    /// this isolate's own limit.
    pub fn memory_budget_full(&self) -> bool {
        self.watchdog.memory.budget_full()
    }

    /// The most bytes the engine heap has held.
    pub fn peak_memory(&self) -> usize {
        self.watchdog.memory.peak()
    }

    /// CPU time guest code has used in this isolate.
    pub fn cpu_total(&self) -> Duration {
        self.cpu_total
    }

    /// The limit that stopped this isolate, if one did.
    pub fn terminated(&self) -> Option<Termination> {
        self.watchdog.tripped()
    }

    /// Runs a garbage collection (e.g. before measuring memory).
    pub fn collect_garbage(&self) {
        self.runtime.run_gc();
    }

    pub(crate) fn enter<F>(&mut self, budget: Budget, f: F) -> Result<Duration, Termination>
    where
        F: for<'js> FnOnce(&Ctx<'js>) -> rquickjs::Result<()>,
    {
        if let Some(why) = self.watchdog.tripped() {
            return Err(why);
        }
        let start = self.watchdog.arm(budget);
        let shared = self.shared.clone();
        let watchdog = self.watchdog.clone();
        use_this_thread_stack(&self.context);
        self.context.with(|ctx| {
            if let Err(e) = f(&ctx) {
                report_uncaught(&ctx, &shared, &watchdog, &e);
            }
        });
        // Drain the job queue, then let dispatch follow settled promises;
        // repeat while that queues more work.
        loop {
            while self.watchdog.tripped().is_none() {
                match self.runtime.execute_pending_job() {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(job) => {
                        let shared = self.shared.clone();
                        let watchdog = self.watchdog.clone();
                        job.0.with(|ctx| {
                            report_uncaught(&ctx, &shared, &watchdog, &rquickjs::Error::Exception)
                        });
                    }
                }
            }
            if self.watchdog.tripped().is_some() {
                break;
            }
            let shared = self.shared.clone();
            let watchdog = self.watchdog.clone();
            let progressed = self.context.with(|ctx| {
                // Before results are reported, so these lines belong to the call.
                report_unhandled_rejections(&ctx, &shared);
                match dispatch::poll(&ctx, &shared) {
                    Ok(progressed) => progressed,
                    Err(e) => {
                        report_uncaught(&ctx, &shared, &watchdog, &e);
                        false
                    }
                }
            });
            if !progressed && !self.runtime.is_job_pending() {
                break;
            }
        }
        // A last look: a native call that returned past the limit before
        // any check ran still ends the activation with its limit.
        self.watchdog.poll();
        let used = thread_cpu_time().saturating_sub(start);
        self.cpu_total += used;
        self.watchdog.disarm();
        match self.watchdog.tripped() {
            Some(why) => Err(why),
            None => Ok(used),
        }
    }
}

/// Logs rejections still unhandled after the job queue drained, as workerd
/// does: `Uncaught (in promise) Error: ...`.
fn report_unhandled_rejections(ctx: &Ctx<'_>, shared: &Shared) {
    // The main module's evaluation is followed by dispatch, which reports
    // its failure as the startup error: not an unhandled rejection.
    // A call's own result is reported to its caller, not as unhandled.
    let Ok((unhandled, main)) = glue::with(ctx, |g| {
        let mut state = g.state.borrow_mut();
        let unhandled: Vec<_> = std::mem::take(&mut state.unhandled)
            .into_iter()
            .filter(|rejection| {
                !state
                    .calls
                    .iter()
                    .any(|call| call.follows(&rejection.promise))
            })
            .collect();
        (unhandled, state.main.clone())
    }) else {
        return;
    };
    for rejection in unhandled {
        if main
            .as_ref()
            .is_some_and(|main| rejection.promise == *main.as_value())
        {
            continue;
        }
        let e = host::error_value(ctx, shared, &rejection.reason);
        let text = e
            .stack
            .as_deref()
            .map_or_else(|| e.to_string(), |s| format!("{e}\n{s}"));
        shared.log(
            LogLevel::Error,
            format!("Uncaught (in promise) {text}"),
            rejection.call,
        );
    }
}

fn report_uncaught(ctx: &Ctx<'_>, shared: &Shared, watchdog: &Watchdog, error: &rquickjs::Error) {
    if watchdog.tripped().is_some() {
        let _ = ctx.catch();
        return;
    }
    let message = match error {
        rquickjs::Error::Exception => {
            let thrown = ctx.catch();
            let e = host::error_value(ctx, shared, &thrown);
            if e.name == "InternalError" && e.message.contains("out of memory") {
                watchdog.trip(Termination::MemoryLimit);
                return;
            }
            format!(
                "Uncaught {}",
                e.stack
                    .as_deref()
                    .map_or_else(|| e.to_string(), |s| format!("{e}\n{s}"))
            )
        }
        other => format!("isola internal error: {other}"),
    };
    shared.log(LogLevel::Error, message, crate::io_context::current(ctx));
}
