//! isola-runtime: executor threads, the [`Loader`], workers and entrypoints.
//!
//! Isolates (from `isola-engine`) live on executor threads, one per core by
//! default, many per thread. Each worker is driven by a task on its thread
//! that carries out the isolate's effects: binding calls and outbound
//! fetches run as host futures, timers as sleeps, and every limit is
//! accounted here and enforced in the engine.

mod binding;
mod blanks;
mod children;
mod code;
mod config;
mod driver;
mod executor;
mod jailed;
mod loader;
mod outcome;
mod platform;
mod sandbox;
mod service;
mod stubs;
mod tail;
mod worker;

pub use binding::{Binding, OutboundHandler, binding_fn, outbound_fn};
pub use code::{Outbound, WorkerCode};
pub use config::{Config, Limits};
pub use executor::LocalTask;
pub use isola_jail::{Jail, WorkerInvocation, worker_invocation};
pub use jailed::{CordonStatus, worker_main};
pub use loader::{LoadError, Loader};
pub use outcome::{Outcome, OutcomeKind, Run, Stats};
pub use platform::platform;
pub use service::ServiceSlot;
pub use worker::{Entrypoint, RequestBody, ResponseStream, Worker};

pub use isola_engine::{
    ErrorValue, HttpRequest, HttpResponse, LogEntry, LogLevel, ModuleSpec as Module, RedirectMode,
    TypedArrayKind, Value,
};
