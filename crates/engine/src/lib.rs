//! isola-engine: one QuickJS-ng isolate.
//!
//! An [`Isolate`] is one QuickJS-ng runtime and one context running one
//! worker's modules. It performs no I/O: guest `fetch`es, binding calls and
//! timers leave it as [`Effect`]s (plain data) and are answered with
//! [`Isolate::complete_op`] and [`Isolate::fire_timer`]. Limits are enforced
//! inside it: a metered heap, a CPU and wall watchdog polled by the engine's
//! interrupt handler, and a native stack limit.
//!
//! What a guest sees beyond the language comes from [`Extension`]s composed
//! into a [`Platform`] once per process (see `extension.rs` for the seam):
//! a new Web API, built-in module or host function goes into an extension,
//! not into the core. The core brings two of its own (console, timers and
//! the codec's helpers; the Workers API and `env`'s capability stubs), and
//! the web platform is the `isola-web` crate's. Host functions get a
//! [`HostCall`] and reach the isolate only through it.
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
#[cfg(feature = "conformance")]
pub mod conformance;
mod core_ext;
pub mod deep;
mod dispatch;
mod extension;
mod globals;
mod glue;
mod handles;
mod host;
mod host_call;
mod http_head;
mod io_context;
mod isolate;
mod limits;
mod modules;
mod ops;
mod platform;
mod seam;
mod shared;
mod source;
mod strings;
mod timers;
mod typescript;
mod value;
mod workers;

#[cfg(feature = "attack-probe")]
pub use attack_probe::arm_attack_probe;
pub use budget::{process_memory_budget, process_memory_reserved, set_process_memory_budget};
pub use extension::{BuiltinModule, Chunk, Export, Extension, Global, HostFunction};
pub use handles::HostState;
pub use host_call::{HostCall, HostFn};
pub use isolate::{BlankIsolate, EnvEntry, Isolate, IsolateConfig, IsolateError};
pub use limits::{Budget, CodecLimits, Termination, release_freed_memory};
pub use ops::{
    CallId, CallKind, CallResult, CallSpec, Effect, HttpRequest, HttpResponse, LogEntry, LogLevel,
    OpId, OpRequest, OpResult, RedirectMode, TimerId,
};
pub use platform::{Platform, PlatformError};
pub use source::{
    CodeError, KNOWN_COMPATIBILITY_FLAGS, MAX_CODE_BYTES, ModuleSpec, NEWEST_COMPATIBILITY_DATE,
    WorkerSource,
};
pub use timers::MAX_TIMERS;
pub use value::{ErrorValue, MAX_DECODE_DEPTH, StubRef, TypedArrayKind, Value};
pub use workers::dynamic::{
    DynamicCode, DynamicLimits, DynamicOutbound, LoopbackService, read_code, read_limits,
    read_links, read_services,
};

/// The JS engine's Rust API (rquickjs), for extensions' host functions.
pub use rquickjs;

/// The platform of this crate's unit tests: the engine's own extensions.
#[cfg(test)]
pub(crate) fn test_platform() -> &'static Platform {
    static PLATFORM: std::sync::OnceLock<&'static Platform> = std::sync::OnceLock::new();
    PLATFORM.get_or_init(|| Platform::new(&[]).expect("the extensions compose"))
}
