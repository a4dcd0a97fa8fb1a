//! isola-engine: one QuickJS-ng isolate.
//!
//! An [`Isolate`] is one QuickJS-ng runtime and one context running one
//! worker's modules. It performs no I/O: guest `fetch`es, binding calls and
//! timers leave it as [`Effect`]s (plain data) and are answered with
//! [`Isolate::complete_op`] and [`Isolate::fire_timer`]. Limits are enforced
//! inside it: a metered heap, a CPU and wall watchdog polled by the engine's
//! interrupt handler, and a native stack limit.
//!
//! This crate is the one place in isola with `unsafe` code: the allocator,
//! the thread CPU clock and a few class-id checks through the QuickJS FFI.

mod alloc;
#[cfg(feature = "attack-probe")]
mod attack_probe;
mod budget;
mod bytecode;
mod call_state;
mod callsite;
mod codec;
mod compression;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod deep;
mod dispatch;
mod dynamic;
mod globals;
mod glue;
mod handles;
mod host;
mod http_head;
mod io_context;
mod isolate;
mod limits;
mod modules;
mod multipart;
mod ops;
mod shared;
mod source;
mod subtle;
mod timers;
mod typescript;
mod value;
mod web;

#[cfg(feature = "attack-probe")]
pub use attack_probe::arm_attack_probe;
pub use budget::{process_memory_budget, process_memory_reserved, set_process_memory_budget};
pub use codec::CodecLimits;
pub use dynamic::{
    DynamicCode, DynamicLimits, DynamicOutbound, LoopbackService, read_code, read_limits,
    read_links, read_services,
};
pub use isolate::{BlankIsolate, EnvEntry, Isolate, IsolateConfig, IsolateError};
pub use limits::{Budget, Termination, release_freed_memory};
pub use ops::{
    CallId, CallKind, CallResult, CallSpec, Effect, HttpRequest, HttpResponse, LogEntry, LogLevel,
    OpId, OpRequest, OpResult, RedirectMode, TimerId,
};
pub use source::{
    CodeError, KNOWN_COMPATIBILITY_FLAGS, MAX_CODE_BYTES, ModuleSpec, NEWEST_COMPATIBILITY_DATE,
    WorkerSource,
};
pub use timers::MAX_TIMERS;
pub use value::{ErrorValue, MAX_DECODE_DEPTH, StubRef, TypedArrayKind, Value};
