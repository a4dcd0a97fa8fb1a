//! The task that drives one worker's isolate on its executor thread.
//!
//! It owns the isolate, starts calls, carries out effects (binding calls and
//! fetches as host futures, timers as sleeps), accounts CPU, wall time and
//! subrequests per call, and turns a tripped limit into that call's outcome.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::FutureExt as _;
use isola_engine::{
    Budget, CallKind, CallResult, CallSpec, Effect, ErrorValue, HttpResponse, IsolateConfig,
    IsolateError, LogEntry, OpRequest, OpResult, Termination, TimerId, Value,
};
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;

use crate::children::Children;
use crate::code::{BLOCKED_MESSAGE, Outbound, Prepared};
use crate::config::Limits;
use crate::outcome::Stopped;
use crate::outcome::{Outcome, Run, Stats};
use crate::sandbox::Sandbox;
use crate::stubs::{Grant, StubRegistry, stub_ids};

/// Streams a call's console lines as they are written.
pub(crate) type LogSink = Arc<dyn Fn(&LogEntry) + Send + Sync>;

/// A call sent to a worker's driver.
pub(crate) struct CallRequest {
    pub(crate) entrypoint: Option<String>,
    pub(crate) kind: CallKind,
    pub(crate) props: Value,
    pub(crate) limits: Limits,
    pub(crate) log_sink: Option<LogSink>,
    pub(crate) reply: oneshot::Sender<Run>,
    /// For a fetch: where its Response streams to.
    pub(crate) stream: Option<ResponseSink>,
    /// For a fetch: its request body, still arriving.
    pub(crate) request_body: Option<crate::worker::RequestBody>,
}

/// Where a streamed fetch's Response goes: its head once, then its body
/// chunks (a bounded channel, so a slow reader holds the guest back).
pub(crate) struct ResponseSink {
    pub(crate) head: Option<oneshot::Sender<(HttpResponse, Option<u64>)>>,
    pub(crate) chunks: mpsc::Sender<Vec<u8>>,
    /// Bytes still to come when the head declared a length: a chunk past
    /// it is refused (the length goes out as `content-length`).
    pub(crate) remaining: Option<u64>,
}

/// Everything a driver needs to run one worker.
pub(crate) struct Spawn {
    pub(crate) code: Arc<Prepared>,
    pub(crate) limits: Limits,
    pub(crate) stack_bytes: usize,
    pub(crate) calls: mpsc::UnboundedReceiver<CallRequest>,
    pub(crate) memory: Arc<AtomicUsize>,
    pub(crate) loader: crate::loader::LoaderHandle,
    /// The worker itself, weakly: loopback services its children hold call
    /// back through it without keeping it alive.
    pub(crate) this: std::sync::Weak<crate::worker::WorkerInner>,
    /// Counts this worker as live until the driver ends.
    pub(crate) live: crate::loader::LiveGuard,
    /// Routes RPC stubs between the loader's workers.
    pub(crate) stubs: Arc<StubRegistry>,
    /// The executor this worker runs on, and its count of calls in flight.
    pub(crate) executor: usize,
    pub(crate) busy: Arc<AtomicUsize>,
    /// Where blank isolates come from and ended ones go.
    pub(crate) blanks: crate::blanks::Blanks,
    /// The jailed process pool and this worker's cordon; `None` runs the
    /// isolate in this process.
    pub(crate) jail: Option<JailPlace>,
}

/// Where a jailed worker's isolate lives.
#[derive(Clone)]
pub(crate) struct JailPlace {
    pub(crate) pool: Arc<crate::jailed::supervisor::Pool>,
    pub(crate) cordon: Arc<str>,
}

enum Completion {
    Op {
        generation: u64,
        id: u64,
        result: OpResult,
    },
    Timer {
        generation: u64,
        id: TimerId,
    },
}

struct CallState {
    started: Instant,
    deadline: Instant,
    limits: Limits,
    cpu: Duration,
    subrequests: u32,
    logs: Vec<LogEntry>,
    log_sink: Option<LogSink>,
    reply: Option<oneshot::Sender<Run>>,
    /// Stubs this call's arguments carried: the only ones it may call.
    granted: Vec<u64>,
    /// A streamed fetch's sink, until the call settles.
    stream: Option<ResponseSink>,
    /// A streamed request body, read as the guest asks.
    request_body: Option<Arc<tokio::sync::Mutex<crate::worker::RequestBody>>>,
    /// Console bytes delivered to this call (the engine caps them too;
    /// this holds when the engine is not trusted).
    log_bytes: usize,
}

struct Driver {
    code: Arc<Prepared>,
    limits: Limits,
    stack_bytes: usize,
    memory: Arc<AtomicUsize>,
    isolate: Option<Sandbox>,
    generation: u64,
    next_call: u64,
    calls: HashMap<u64, CallState>,
    timers: HashMap<TimerId, AbortHandle>,
    tasks: Vec<AbortHandle>,
    done_tx: mpsc::UnboundedSender<Completion>,
    /// Ops answered at once, completed before the driver waits again.
    ready: std::collections::VecDeque<Completion>,
    children: Children,
    /// The worker itself, weakly (for service bindings to its own
    /// entrypoints, and as the exporter of the stubs it passes).
    this: std::sync::Weak<crate::worker::WorkerInner>,
    stubs: Arc<StubRegistry>,
    busy: Arc<AtomicUsize>,
    blanks: crate::blanks::Blanks,
    jail: Option<JailPlace>,
    executor: usize,
    /// The isolate's `cpu_total` when its last activation ended well: a
    /// stopped activation's CPU is the difference.
    cpu_seen: Duration,
}

pub(crate) async fn drive(spawn: Spawn) {
    let Spawn {
        code,
        limits,
        stack_bytes,
        mut calls,
        memory,
        loader,
        this,
        live,
        stubs,
        executor,
        busy,
        blanks,
        jail,
    } = spawn;
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let mut driver = Driver {
        code,
        limits,
        stack_bytes,
        memory,
        isolate: None,
        generation: 0,
        next_call: 1,
        calls: HashMap::new(),
        timers: HashMap::new(),
        tasks: Vec::new(),
        done_tx,
        ready: std::collections::VecDeque::new(),
        children: Children::new(loader, this.clone(), executor, limits.memory_bytes),
        this,
        stubs,
        busy,
        blanks,
        jail,
        executor,
        cpu_seen: Duration::ZERO,
    };
    let mut open = true;
    loop {
        while let Some(done) = driver.ready.pop_front() {
            driver.complete(done).await;
        }
        if !open && driver.calls.is_empty() {
            break;
        }
        let deadline = driver.calls.values().map(|c| c.deadline).min();
        let event = tokio::select! {
            request = calls.recv(), if open => match request {
                Some(request) => Event::Call(request),
                None => Event::Closed,
            },
            Some(done) = done_rx.recv() => Event::Done(done),
            () = sleep_until(deadline), if deadline.is_some() => Event::Deadline,
        };
        match event {
            Event::Call(request) => driver.start_call(request).await,
            Event::Closed => open = false,
            Event::Done(done) => driver.complete(done).await,
            Event::Deadline => driver.terminate(Termination::WallLimit),
        }
    }
    driver.dispose();
    drop(live);
}

/// What woke the driver. It lives on the stack for one turn of the loop:
/// boxing the call would cost an allocation per call for nothing.
#[allow(clippy::large_enum_variant)]
enum Event {
    Call(CallRequest),
    /// The worker's handle is gone: no new calls.
    Closed,
    Done(Completion),
    Deadline,
}

async fn sleep_until(deadline: Option<Instant>) {
    if let Some(deadline) = deadline {
        tokio::time::sleep_until(deadline.into()).await;
    }
}

impl Driver {
    async fn start_call(&mut self, mut request: CallRequest) {
        let granted = match &mut request.kind {
            CallKind::Rpc { args, .. } | CallKind::Stub { args, .. } => stub_ids(args),
            CallKind::Fetch(_) => Vec::new(),
        };
        let streamed_response = request.stream.is_some();
        let streamed_request = request.request_body.is_some();
        let id = self.next_call;
        self.next_call += 1;
        let limits = self.limits.min(request.limits);
        let started = Instant::now();
        self.busy.fetch_add(1, Ordering::Relaxed);
        self.calls.insert(
            id,
            CallState {
                started,
                deadline: started + limits.wall(),
                limits,
                cpu: Duration::ZERO,
                subrequests: 0,
                logs: Vec::new(),
                log_sink: request.log_sink,
                reply: Some(request.reply),
                granted,
                stream: request.stream,
                request_body: request
                    .request_body
                    .map(|body| Arc::new(tokio::sync::Mutex::new(body))),
                log_bytes: 0,
            },
        );
        // An isolate whose process died while no call was in flight is
        // gone with it; this call gets a new one, as after a limit.
        if self.calls.len() == 1
            && matches!(&self.isolate, Some(Sandbox::Jailed(remote)) if remote.lost())
        {
            self.dispose();
        }
        if self.isolate.is_none() {
            let config = IsolateConfig {
                memory_limit: self.limits.memory_bytes,
                stack_limit: self.stack_bytes,
                codec: isola_engine::CodecLimits {
                    max_depth: 128,
                    max_bytes: self.limits.output_bytes,
                },
                max_log_bytes: self.limits.log_bytes,
                env: self.code.env.clone(),
            };
            let sandbox = match &self.jail {
                Some(place) => crate::jailed::supervisor::RemoteIsolate::new(
                    &place.pool,
                    &place.cordon,
                    self.executor,
                    self.code.source.clone(),
                    config,
                )
                .map(Sandbox::Jailed)
                .map_err(Stopped::Lost),
                None => self
                    .blanks
                    .take(self.stack_bytes)
                    .and_then(|blank| blank.into_isolate(self.code.source.clone(), &config))
                    .map(Sandbox::Local)
                    .map_err(|error| match error {
                        IsolateError::Terminated(why) => Stopped::Limit(why),
                        IsolateError::Setup(message) => Stopped::Lost(message),
                    }),
            };
            match sandbox {
                Ok(sandbox) => {
                    self.isolate = Some(sandbox);
                    self.cpu_seen = Duration::ZERO;
                    self.generation += 1;
                }
                Err(Stopped::Limit(why)) => return self.end_all(outcome_of(why)),
                Err(Stopped::Lost(message)) => {
                    return self.end_all(Outcome::Internal(message));
                }
            }
        }
        if self.calls.len() == 1
            && let Some(isolate) = self.isolate.as_mut()
        {
            isolate.reset_log_budget();
        }
        let spec = CallSpec {
            id,
            entrypoint: request.entrypoint,
            kind: request.kind,
            props: request.props,
            stream: streamed_response,
            stream_request: streamed_request,
        };
        let budget = self.budget();
        let result = match self.isolate.as_mut() {
            Some(isolate) => isolate.call(spec, budget).await,
            None => return,
        };
        self.after_entry(result);
    }

    async fn complete(&mut self, done: Completion) {
        let budget = self.budget();
        let result = match (done, self.isolate.as_mut()) {
            (
                Completion::Op {
                    generation,
                    id,
                    result,
                },
                Some(isolate),
            ) if generation == self.generation => isolate.complete_op(id, result, budget).await,
            (Completion::Timer { generation, id }, Some(isolate))
                if generation == self.generation =>
            {
                self.timers.remove(&id);
                isolate.fire_timer(id, budget).await
            }
            _ => return,
        };
        self.after_entry(result);
    }

    /// The budget of the next activation: the tightest of the calls in
    /// flight. Also applies their tightest memory limit to the isolate.
    fn budget(&mut self) -> Budget {
        let memory = self
            .calls
            .values()
            .map(|c| c.limits.memory_bytes)
            .min()
            .unwrap_or(self.limits.memory_bytes);
        if let Some(isolate) = self.isolate.as_mut() {
            isolate.set_memory_limit(memory.min(self.limits.memory_bytes));
        }
        let now = Instant::now();
        let cpu = self
            .calls
            .values()
            .map(|c| c.limits.cpu().saturating_sub(c.cpu))
            .min()
            .unwrap_or_else(|| self.limits.cpu());
        let wall = self
            .calls
            .values()
            .map(|c| c.deadline)
            .min()
            .unwrap_or_else(|| now + self.limits.wall());
        Budget::new(cpu, wall)
    }

    fn after_entry(&mut self, result: Result<Duration, Stopped>) {
        match result {
            Ok(cpu) => {
                for call in self.calls.values_mut() {
                    call.cpu += cpu;
                }
                if let Some(isolate) = &self.isolate {
                    self.cpu_seen = isolate.cpu_total();
                }
                if let Some(isolate) = &self.isolate {
                    self.memory.store(isolate.memory_used(), Ordering::Relaxed);
                }
                self.handle_effects();
            }
            Err(Stopped::Lost(message)) => {
                // The process holding the isolate is gone, and with it
                // whatever the guest had written since its last answer.
                self.terminate_with(Outcome::Internal(message));
            }
            Err(Stopped::Limit(why)) => {
                // The guest was stopped mid-flight: whatever it settled while
                // being interrupted is not a result. Its logs and the CPU it
                // used until the stop still count.
                if let Some(isolate) = self.isolate.as_mut() {
                    let cpu = isolate.cpu_total().saturating_sub(self.cpu_seen);
                    for call in self.calls.values_mut() {
                        call.cpu += cpu;
                    }
                    for effect in isolate.take_effects() {
                        if let Effect::Log { entry, call } = effect {
                            self.deliver_log(&entry, call);
                        }
                    }
                }
                self.terminate(why);
            }
        }
    }

    fn handle_effects(&mut self) {
        let Some(isolate) = self.isolate.as_mut() else {
            return;
        };
        let effects = isolate.take_effects();
        let peak = isolate.peak_memory();
        for effect in effects {
            // A limit ended the worker part-way through its effects.
            if self.isolate.is_none() {
                return;
            }
            match effect {
                Effect::Log { entry, call } => self.deliver_log(&entry, call),
                Effect::CallSettled { call, result } => {
                    let outcome = match result {
                        CallResult::Value(v) => Outcome::Returned(v),
                        CallResult::Response(r) => Outcome::Responded(r),
                        CallResult::Streamed => Outcome::Streamed,
                        CallResult::Threw(e) => Outcome::Threw(e),
                        CallResult::StartupFailed(e) => Outcome::InvalidCode(e),
                        CallResult::TooLarge { .. } => Outcome::OutputLimit,
                    };
                    if let Some(state) = self.calls.get_mut(&call) {
                        // The body has ended (or never will): close it.
                        let outcome = match (outcome, state.stream.take()) {
                            (Outcome::Responded(response), Some(sink)) if sink.head.is_some() => {
                                stream_whole(sink, response)
                            }
                            (outcome, _) => outcome,
                        };
                        reply(state, outcome, peak);
                    }
                }
                Effect::CallFinished { call } => {
                    if self.calls.remove(&call).is_some() {
                        self.busy.fetch_sub(1, Ordering::Relaxed);
                    }
                }
                Effect::LoadWorker {
                    handle,
                    loader,
                    code,
                } => {
                    // Creating a dynamic worker is not a subrequest; calling one is.
                    if !self.children.claim(handle) {
                        self.terminate_with(Outcome::Internal(BROKE_LIMITS.into()));
                        return;
                    }
                    let loaded = self
                        .children
                        .load(handle, &self.code, &loader, None, Some(code));
                    self.children.fail(handle, loaded);
                }
                Effect::ReleaseWorker { handle } => self.children.release(handle),
                Effect::Op { id, request } => {
                    let free = matches!(
                        request,
                        OpRequest::LoadWorker { .. }
                            | OpRequest::ResponseHead { .. }
                            | OpRequest::ResponseChunk { .. }
                            | OpRequest::RequestChunk { .. }
                    );
                    if !free && !self.charge_subrequest() {
                        self.terminate_with(Outcome::SubrequestLimit);
                        return;
                    }
                    self.run_op(id, request);
                }
                Effect::Timer { id, delay_ms } => {
                    if let Some(old) = self.timers.remove(&id) {
                        old.abort();
                    }
                    // The engine never has more live: more is an engine
                    // that no longer keeps its limits.
                    if self.timers.len() >= isola_engine::MAX_TIMERS {
                        self.terminate_with(Outcome::Internal(BROKE_LIMITS.into()));
                        return;
                    }
                    let done = self.done_tx.clone();
                    let generation = self.generation;
                    let handle = tokio::task::spawn_local(async move {
                        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                        let _ = done.send(Completion::Timer { generation, id });
                    });
                    self.timers.insert(id, handle.abort_handle());
                }
                Effect::CancelTimer { id } => {
                    if let Some(handle) = self.timers.remove(&id) {
                        handle.abort();
                    }
                }
            }
        }
    }

    /// Hands a console line to the call whose code wrote it (none, if that
    /// call has ended: another caller must not read it), or to every call
    /// in flight when it belongs to no call (module scope).
    fn deliver_log(&mut self, entry: &LogEntry, from: Option<u64>) {
        tracing::debug!(level = entry.level.as_str(), message = %entry.message, "guest console");
        for (id, call) in &mut self.calls {
            if from.is_some_and(|from| from != *id) {
                continue;
            }
            // A jailed engine cannot be trusted to keep its console budget:
            // past it (plus the engine's own notice line), lines are dropped.
            call.log_bytes = call.log_bytes.saturating_add(entry.message.len());
            if call.log_bytes > call.limits.log_bytes.saturating_add(1024) {
                continue;
            }
            if let Some(sink) = &call.log_sink {
                sink(entry);
            }
            if call.reply.is_some() {
                call.logs.push(entry.clone());
            }
        }
    }

    /// Counts one subrequest against every call in flight; false if one of
    /// them is over its limit.
    fn charge_subrequest(&mut self) -> bool {
        let mut within = true;
        for call in self.calls.values_mut() {
            call.subrequests += 1;
            if call.subrequests > call.limits.subrequests {
                within = false;
            }
        }
        within
    }

    fn run_op(&mut self, id: u64, request: OpRequest) {
        let done = self.done_tx.clone();
        let generation = self.generation;
        let future: std::pin::Pin<Box<dyn std::future::Future<Output = OpResult>>> = match request {
            OpRequest::Binding {
                binding,
                method,
                args,
            } => match self.code.bindings.get(&binding) {
                Some(b) => {
                    let b = b.clone();
                    Box::pin(async move {
                        match AssertUnwindSafe(b.call(&method, args)).catch_unwind().await {
                            Ok(Ok(v)) => OpResult::Value(v),
                            Ok(Err(e)) => OpResult::Error(e),
                            Err(_) => {
                                tracing::error!(%binding, %method, "host binding panicked");
                                OpResult::Error(ErrorValue::new(
                                    "Error",
                                    "The host binding failed.",
                                ))
                            }
                        }
                    })
                }
                None => Box::pin(std::future::ready(OpResult::Error(ErrorValue::new(
                    "TypeError",
                    format!("env.{binding} is not a binding"),
                )))),
            },
            OpRequest::CallService { binding, call } => match self.code.services.get(&binding) {
                Some(service) => self.call_service(service.clone(), call),
                None => Box::pin(std::future::ready(OpResult::Error(ErrorValue::new(
                    "TypeError",
                    format!("env.{binding} is not a service binding"),
                )))),
            },
            OpRequest::CallStub { stub, method, args } => self.call_stub(stub, method, args),
            // No extension of this runtime's platform issues effects of its
            // own; one that did would register their handler here. Refused
            // (a jailed process could still send one).
            OpRequest::Extension {
                extension, name, ..
            } => Box::pin(std::future::ready(OpResult::Error(ErrorValue::new(
                "Error",
                format!(
                    "isola: this host carries out no effect {name} of the extension {extension}"
                ),
            )))),
            OpRequest::CallLoopback {
                entrypoint,
                props,
                call,
            } => {
                let service = crate::service::Service {
                    worker: crate::service::ServiceWorker::This,
                    entrypoint,
                    props,
                };
                self.call_service(service, call)
            }
            OpRequest::ResponseHead {
                call,
                mut head,
                length,
            } => {
                let body = std::mem::take(&mut head.body);
                let sent = self
                    .calls
                    .get_mut(&call)
                    .and_then(|c| c.stream.as_mut())
                    .is_some_and(|sink| {
                        // A whole body goes ahead of the head: the channel
                        // is empty and has room.
                        sink.remaining = length.map(|l| l.saturating_sub(body.len() as u64));
                        let queued = body.is_empty() || sink.chunks.try_send(body).is_ok();
                        queued
                            && sink
                                .head
                                .take()
                                .is_some_and(|tx| tx.send((head, length)).is_ok())
                    });
                Box::pin(std::future::ready(if sent {
                    OpResult::Value(Value::Undefined)
                } else {
                    client_gone()
                }))
            }
            OpRequest::RequestChunk { call } => {
                let body = self.calls.get(&call).and_then(|c| c.request_body.clone());
                Box::pin(async move {
                    let Some(body) = body else {
                        return OpResult::Value(Value::Null);
                    };
                    match body.lock().await.next().await {
                        Some(Ok(bytes)) => OpResult::Value(Value::TypedArray {
                            kind: isola_engine::TypedArrayKind::Uint8Array,
                            bytes,
                        }),
                        Some(Err(message)) => {
                            OpResult::Error(ErrorValue::new("TypeError", message))
                        }
                        None => OpResult::Value(Value::Null),
                    }
                })
            }
            OpRequest::ResponseChunk { call, bytes } => {
                let sink = self.calls.get_mut(&call).and_then(|c| c.stream.as_mut());
                let mut past_length = false;
                let chunks = sink.map(|sink| {
                    if let Some(remaining) = sink.remaining.as_mut() {
                        match remaining.checked_sub(bytes.len() as u64) {
                            Some(left) => *remaining = left,
                            None => past_length = true,
                        }
                    }
                    sink.chunks.clone()
                });
                if past_length {
                    Box::pin(std::future::ready(OpResult::Error(ErrorValue::new(
                        "TypeError",
                        "The body is longer than the length its Response declared.",
                    ))))
                } else {
                    Box::pin(async move {
                        match chunks {
                            Some(tx) if tx.send(bytes).await.is_ok() => {
                                OpResult::Value(Value::Undefined)
                            }
                            _ => client_gone(),
                        }
                    })
                }
            }
            OpRequest::LoadWorker {
                handle,
                loader,
                name,
                code,
            } => {
                let result = if self.children.claim(handle) {
                    self.children
                        .load(handle, &self.code, &loader, Some(name), code)
                } else {
                    self.terminate_with(Outcome::Internal(BROKE_LIMITS.into()));
                    return;
                };
                Box::pin(std::future::ready(result))
            }
            OpRequest::CallWorker {
                worker,
                entrypoint,
                props,
                limits,
                mut call,
            } => {
                let grant = self.export_stubs(&mut call);
                match self.children.call(worker, entrypoint, props, limits, call) {
                    Ok(call) => Box::pin(async move {
                        let result = call.await;
                        drop(grant);
                        result
                    }),
                    Err(error) => Box::pin(std::future::ready(error)),
                }
            }
            OpRequest::Fetch(request) => match &self.code.outbound {
                Outbound::Blocked => Box::pin(std::future::ready(OpResult::Error(
                    ErrorValue::new("Error", BLOCKED_MESSAGE),
                ))),
                Outbound::Handler(handler) => {
                    let handler = handler.clone();
                    Box::pin(async move { guarded_fetch(handler.fetch(request)).await })
                }
                Outbound::Allow(egress) => {
                    let egress = egress.clone();
                    Box::pin(async move { guarded_fetch(egress.fetch(request)).await })
                }
            },
        };
        // Ops answered at once (a response head, a release, a load) are
        // completed in this turn, without a task and a channel hop: under
        // load that hop made calls wait behind new requests.
        let mut future = future;
        let waker = futures_util::task::noop_waker();
        let mut context = std::task::Context::from_waker(&waker);
        if let std::task::Poll::Ready(result) = future.as_mut().poll(&mut context) {
            self.ready.push_back(Completion::Op {
                generation,
                id,
                result,
            });
            return;
        }
        self.tasks.retain(|t| !t.is_finished());
        if self.tasks.len() >= MAX_OPS_IN_FLIGHT {
            self.terminate_with(Outcome::Internal(BROKE_LIMITS.into()));
            return;
        }
        let handle = tokio::task::spawn_local(async move {
            let result = future.await;
            let _ = done.send(Completion::Op {
                generation,
                id,
                result,
            });
        });
        self.tasks.push(handle.abort_handle());
    }

    /// Makes the stubs in a call's arguments routable back to this worker
    /// for as long as the returned grant is held.
    fn export_stubs(&self, call: &mut CallKind) -> Grant {
        match call {
            CallKind::Rpc { args, .. } | CallKind::Stub { args, .. } => {
                self.stubs.export(&self.this, args)
            }
            CallKind::Fetch(_) => self.stubs.export(&self.this, &mut []),
        }
    }

    /// A call through a service binding; stubs in its arguments stay
    /// routable until it ends.
    fn call_service(
        &self,
        service: crate::service::Service,
        mut call: CallKind,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = OpResult>>> {
        let grant = self.export_stubs(&mut call);
        let this = self.this.clone();
        Box::pin(async move {
            let result = service.call(&this, call).await;
            drop(grant);
            result
        })
    }

    /// A call through a stub this worker was handed: back to the worker
    /// holding the function or `RpcTarget`.
    fn call_stub(
        &self,
        stub: u64,
        method: Option<String>,
        args: Vec<Value>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = OpResult>>> {
        let disposed = || {
            Box::pin(std::future::ready(OpResult::Error(ErrorValue::new(
                "Error",
                "RPC stub used after being disposed.",
            ))))
        };
        if !self.calls.values().any(|c| c.granted.contains(&stub)) {
            return disposed();
        }
        let Some((worker, local)) = self.stubs.resolve(stub) else {
            return disposed();
        };
        let mut call = CallKind::Stub {
            stub: local,
            method,
            args,
        };
        let grant = self.export_stubs(&mut call);
        Box::pin(async move {
            let run = worker.entrypoint(None).send(call).await;
            drop(grant);
            crate::service::outcome_result(run.outcome)
        })
    }

    fn terminate(&mut self, why: Termination) {
        self.terminate_with(outcome_of(why));
    }

    /// Ends every call in flight with `outcome` and discards the isolate:
    /// the guest was stopped at an arbitrary point.
    fn terminate_with(&mut self, outcome: Outcome) {
        if self
            .isolate
            .as_ref()
            .is_some_and(Sandbox::memory_budget_full)
        {
            tracing::warn!(
                budget_bytes = isola_engine::process_memory_budget(),
                reserved_bytes = isola_engine::process_memory_reserved(),
                "worker stopped: the process-wide memory budget is full"
            );
        }
        tracing::info!(
            outcome = outcome.kind().as_str(),
            "worker stopped by a limit"
        );
        self.end_all(outcome);
        self.dispose();
    }

    fn end_all(&mut self, outcome: Outcome) {
        let peak = self.isolate.as_ref().map_or(0, Sandbox::peak_memory);
        for (_, mut call) in self.calls.drain() {
            self.busy.fetch_sub(1, Ordering::Relaxed);
            reply(&mut call, outcome.clone(), peak);
        }
    }

    fn dispose(&mut self) {
        for (_, handle) in self.timers.drain() {
            handle.abort();
        }
        for handle in self.tasks.drain(..) {
            handle.abort();
        }
        self.ready.clear();
        // The handles were the isolate's: its successor starts afresh.
        self.children.clear();
        match self.isolate.take() {
            Some(Sandbox::Local(isolate)) => self.blanks.free(isolate),
            Some(Sandbox::Jailed(remote)) => remote.free(),
            None => {}
        }
        self.memory.store(0, Ordering::Relaxed);
    }
}

/// Ops one worker may have in flight. Subrequests and the code budget keep
/// an honest engine far below it; an engine that passes it is ended.
const MAX_OPS_IN_FLIGHT: usize = 100_000;

/// Why a worker whose engine broke the limits it keeps was ended.
const BROKE_LIMITS: &str = "the sandbox asked for more than its limits allow and was stopped";

/// The error a streamed Response's writes reject with once nobody reads it.
fn client_gone() -> OpResult {
    OpResult::Error(ErrorValue::new(
        "Error",
        "The response body's reader went away.",
    ))
}

/// A streamed fetch whose Response came whole (its body small bytes, see
/// the engine's `wholeResponse`): the head and the body go to the stream
/// as if they had been streamed, with no op and no activation for the
/// head, and the call ends `Streamed`.
fn stream_whole(mut sink: ResponseSink, mut response: HttpResponse) -> Outcome {
    let body = std::mem::take(&mut response.body);
    let length = body.len() as u64;
    // Nothing was streamed before: the channel is empty and has room. A
    // reader that went away takes neither; nobody waits for the run then.
    let queued = body.is_empty() || sink.chunks.try_send(body).is_ok();
    if queued && let Some(head) = sink.head.take() {
        let _ = head.send((response, Some(length)));
    }
    Outcome::Streamed
}

/// A host fetch as the guest's op result; a panic in it rejects the
/// guest's `fetch` instead of taking the executor down.
async fn guarded_fetch(
    fetch: impl std::future::Future<Output = Result<HttpResponse, ErrorValue>>,
) -> OpResult {
    match AssertUnwindSafe(fetch).catch_unwind().await {
        Ok(Ok(response)) => OpResult::Response(response),
        Ok(Err(e)) => OpResult::Error(e),
        Err(_) => {
            tracing::error!("outbound fetch panicked");
            OpResult::Error(ErrorValue::new("TypeError", "fetch failed"))
        }
    }
}

fn reply(call: &mut CallState, outcome: Outcome, peak_memory_bytes: usize) {
    if let Some(reply) = call.reply.take() {
        let stats = Stats {
            cpu: call.cpu,
            wall: call.started.elapsed(),
            peak_memory_bytes,
            subrequests: call.subrequests,
        };
        let _ = reply.send(Run {
            outcome,
            logs: std::mem::take(&mut call.logs),
            stats,
        });
    }
}

fn outcome_of(why: Termination) -> Outcome {
    match why {
        Termination::CpuLimit => Outcome::CpuLimit,
        Termination::MemoryLimit => Outcome::MemoryLimit,
        Termination::WallLimit => Outcome::WallLimit,
    }
}
