//! A call in flight in an isolate and the stage it is at. The calls live
//! in the glue state; `dispatch.rs` starts them and moves them along.

use rquickjs::{Promise, Value as JsValue};

use crate::ops::{CallId, CallSpec};

/// A call in flight.
pub(crate) struct Call<'js> {
    pub(crate) id: CallId,
    /// A fetch whose Response is streamed through ops.
    pub(crate) stream: bool,
    pub(crate) stage: Stage<'js>,
}

impl<'js> Call<'js> {
    /// Whether this call's settlement is `promise`: its rejection is the
    /// call's outcome, delivered to the caller, not an unhandled rejection.
    pub(crate) fn follows(&self, promise: &JsValue<'js>) -> bool {
        match &self.stage {
            Stage::Running { result, .. } => result.as_value() == promise,
            Stage::Responding(p, _) | Stage::Streaming(p) => p.as_value() == promise,
            Stage::Starting(_) | Stage::Draining => false,
        }
    }
}

/// Where a call is, from its start to its last `ctx.waitUntil` promise.
pub(crate) enum Stage<'js> {
    /// The main module has not finished evaluating.
    Starting(CallSpec),
    /// The method was called; following its result.
    Running { result: Promise<'js>, fetch: bool },
    /// A fetch handler's Response body is being read; for a streamed call
    /// (true), its body is small bytes taken whole, not held to the output
    /// limit (as the streamed body would not be).
    Responding(Promise<'js>, bool),
    /// A fetch handler's Response is being streamed to the host.
    Streaming(Promise<'js>),
    /// Settled; waiting for `ctx.waitUntil` work.
    Draining,
}
