//! The state an isolate's Rust side shares between its host functions,
//! dispatch and the isolate itself: effects not yet taken, timers, ids,
//! console budget, limits and what host copies and ops hold, plus the
//! helpers that read values out of the engine and throw its errors.
//!
//! It sits under everything that runs inside an isolate, so that host
//! functions and dispatch need nothing of `isolate.rs` above them.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use rquickjs::{Ctx, Exception, qjs};

use crate::limits::{CodecLimits, MemoryMeter, Watchdog};
use crate::ops::{CallId, Effect, LogEntry, LogLevel, OpId};
use crate::source::WorkerSource;
use crate::value::ErrorValue;

/// The state of one isolate shared by its host functions and dispatch.
pub(crate) struct Shared {
    /// The worker's code, set when a blank isolate becomes a worker's.
    source: std::cell::OnceCell<Arc<WorkerSource>>,
    pub(crate) effects: RefCell<Vec<Effect>>,
    /// Live timers and the timer changes not yet taken with the effects.
    pub(crate) timers: RefCell<crate::timers::Timers>,
    pub(crate) next_op: Cell<u64>,
    pub(crate) next_timer: Cell<u64>,
    /// The next dynamic worker handle (see [`Effect::LoadWorker`]).
    pub(crate) next_worker: Cell<u64>,
    pub(crate) log_bytes: Cell<usize>,
    pub(crate) log_dropped: Cell<bool>,
    max_log_bytes: Cell<usize>,
    codec: Cell<CodecLimits>,
    pub(crate) rng: Cell<(u64, u64)>,
    pub(crate) startup_error: RefCell<Option<ErrorValue>>,
    /// Host states guest objects own, counted by kind (see `handles.rs`).
    pub(crate) states: crate::handles::StateCounts,
    /// The heap meter (its limit bounds decompression output).
    pub(crate) memory: Rc<MemoryMeter>,
    /// Bytes of host-side copies charged to `memory` during the host call
    /// in progress, released when it returns (see `host::charge`).
    pub(crate) transient: Cell<usize>,
    /// The limits, checked by the host dispatcher after host work too.
    pub(crate) watchdog: Rc<Watchdog>,
    /// Wall time spent in host functions since the watchdog last looked.
    pub(crate) host_work: Cell<Duration>,
    /// Bytes charged to `memory` for each outstanding op's payload (see
    /// [`crate::ops::OpRequest::held_bytes`]), released when it is answered.
    pub(crate) op_holds: RefCell<std::collections::HashMap<OpId, usize>>,
    /// Bytes charged to `memory` for effects not taken yet that carry guest
    /// data (a [`Effect::LoadWorker`]'s code), released when taken.
    pub(crate) effect_holds: Cell<usize>,
    /// Calls started and not finished (`CallFinished` not emitted yet).
    pub(crate) calls_in_flight: RefCell<std::collections::HashSet<CallId>>,
}

impl Shared {
    /// The state of a blank isolate: no worker yet, `max_log_bytes` and
    /// `codec` until [`Shared::configure`] sets the worker's.
    pub(crate) fn new(
        rng: (u64, u64),
        max_log_bytes: usize,
        codec: CodecLimits,
        watchdog: Rc<Watchdog>,
    ) -> Self {
        Self {
            source: std::cell::OnceCell::new(),
            effects: RefCell::new(Vec::new()),
            timers: RefCell::new(crate::timers::Timers::default()),
            next_op: Cell::new(1),
            next_timer: Cell::new(1),
            next_worker: Cell::new(1),
            log_bytes: Cell::new(0),
            log_dropped: Cell::new(false),
            max_log_bytes: Cell::new(max_log_bytes),
            codec: Cell::new(codec),
            rng: Cell::new(rng),
            startup_error: RefCell::new(None),
            states: crate::handles::StateCounts::default(),
            memory: watchdog.memory.clone(),
            transient: Cell::new(0),
            watchdog,
            host_work: Cell::new(Duration::ZERO),
            op_holds: RefCell::new(std::collections::HashMap::new()),
            effect_holds: Cell::new(0),
            calls_in_flight: RefCell::new(std::collections::HashSet::new()),
        }
    }

    /// Sets the worker's console budget and codec limits.
    pub(crate) fn configure(&self, max_log_bytes: usize, codec: CodecLimits) {
        self.max_log_bytes.set(max_log_bytes);
        self.codec.set(codec);
    }

    /// Makes this the state of the worker `source` (once).
    pub(crate) fn set_source(&self, source: Arc<WorkerSource>) -> Result<(), Arc<WorkerSource>> {
        self.source.set(source)
    }

    /// The worker's code (an isolate is only handed out once it has one).
    pub(crate) fn source(&self) -> Option<&Arc<WorkerSource>> {
        self.source.get()
    }

    /// Limits on values crossing the boundary.
    pub(crate) fn codec(&self) -> CodecLimits {
        self.codec.get()
    }

    pub(crate) fn emit(&self, effect: Effect) {
        if let Effect::CallFinished { call } = &effect {
            self.calls_in_flight.borrow_mut().remove(call);
        }
        self.effects.borrow_mut().push(effect);
    }

    /// Writes a console line for `call` (see [`Effect::Log`]).
    pub(crate) fn log(&self, level: LogLevel, mut message: String, call: Option<CallId>) {
        if self.log_dropped.get() {
            return;
        }
        let used = self.log_bytes.get();
        let max = self.max_log_bytes.get();
        if used.saturating_add(message.len()) > max {
            let room = max.saturating_sub(used);
            if room < 64 {
                self.log_dropped.set(true);
                message =
                    format!("[isola] console output exceeded {max} bytes; further output dropped");
                self.emit(Effect::Log {
                    entry: LogEntry {
                        level: LogLevel::Warn,
                        timestamp_ms: now_ms(),
                        message,
                    },
                    call,
                });
                return;
            }
            let mut cut = room - 32;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push_str(" [isola: truncated]");
        }
        self.log_bytes.set(used + message.len());
        self.emit(Effect::Log {
            entry: LogEntry {
                level,
                timestamp_ms: now_ms(),
                message,
            },
            call,
        });
    }

    pub(crate) fn next_random(&self) -> u64 {
        // xorshift128+, seeded per isolate from the OS CSPRNG.
        let (mut s1, s0) = self.rng.get();
        let result = s0.wrapping_add(s1);
        s1 ^= s1 << 23;
        let s1 = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
        self.rng.set((s0, s1));
        result
    }
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Stops the guest as the engine's interrupt does: an error no guest
/// `catch` or `finally` sees (the watchdog holds the limit that fired).
pub(crate) fn interrupted(ctx: &Ctx<'_>) -> rquickjs::Error {
    let Ok(error) = Exception::from_message(ctx.clone(), "interrupted") else {
        return rquickjs::Error::Exception;
    };
    // SAFETY: `error` is a live object of this context; the call sets a flag
    // on it and takes no ownership of the value.
    #[allow(unsafe_code)]
    unsafe {
        qjs::JS_SetUncatchableError(ctx.as_raw().as_ptr(), error.as_raw());
    }
    ctx.throw(error.into_value())
}
