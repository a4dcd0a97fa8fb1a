//! isola runs code that AI agents write, safely: one fresh sandbox per call.
//!
//! A sandbox is a QuickJS-ng isolate that starts in microseconds, runs under
//! limits that hold (CPU, memory, wall time, subrequests, output), reaches
//! the world only through the capabilities its host gives it, and is thrown
//! away.
//!
//! ```no_run
//! # async fn demo() -> Result<(), isola::LoadError> {
//! use isola::{Config, Loader, Module, WorkerCode};
//! let loader = Loader::new(Config::default())?;
//! let worker = loader.load(
//!     WorkerCode::new("2026-03-01", "agent.js")
//!         .module("agent.js", Module::Esm("export default { async myAgent(p) { return p.x + 1 } }".into())),
//! )?;
//! let run = worker.entrypoint(None).call("myAgent", serde_json::json!({"x": 1})).await;
//! assert_eq!(run.json().ok(), Some(serde_json::json!(2)));
//! # Ok(()) }
//! ```
//!
//! The layers: `isola-engine` (one isolate; no I/O, effects leave as data),
//! `isola-runtime` (executor threads, the loader, bindings, outbound),
//! `isola-egress` (network fetches under a policy, re-exported as
//! [`egress`]), and this facade.

pub use isola_runtime::*;

/// Real network egress under a policy, for [`Outbound::Allow`].
pub mod egress {
    pub use isola_egress::*;
}

/// The engine layer, for hosts that drive isolates themselves.
pub mod engine {
    pub use isola_engine::*;
}
