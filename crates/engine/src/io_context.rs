//! Which call the running code acts for: its I/O context.
//!
//! One isolate serves many calls at once (a cached worker, a served parent),
//! and their code interleaves at every `await`. An I/O object made for one
//! call (its streamed request body, its streamed Response) must not be
//! driven from another's code, as workerd refuses with "Cannot perform I/O
//! on behalf of a different request".
//!
//! The context is the engine's *continuation data* (isola's patch to
//! QuickJS-ng, `vendor/rquickjs-sys/ISOLA.md`): a value each promise
//! reaction captures when it is registered (`then`, `await`) and that is
//! current again while the reaction runs, whoever settles the promise. The
//! engine sets it around its own entries: a call's handler, an op's answer
//! and a timer's callback run with the context that was current when the
//! call began, the op was issued or the timer armed. So a call awaiting a
//! promise another call resolves still continues as itself, and code run at
//! module scope or by a finalizer acts for no call.

use rquickjs::{Ctx, Value as JsValue, qjs};

use crate::ops::CallId;

#[allow(unsafe_code)]
unsafe extern "C" {
    fn JS_SwapContinuationData(ctx: *mut qjs::JSContext, data: qjs::JSValue) -> qjs::JSValue;
    fn JS_GetContinuationData(ctx: *mut qjs::JSContext) -> qjs::JSValue;
}

/// The call the running code acts for, if any.
pub(crate) fn current(ctx: &Ctx<'_>) -> Option<CallId> {
    // SAFETY: `ctx` is a live context; the function returns a new reference,
    // which `from_raw` takes ownership of.
    #[allow(unsafe_code)]
    let data = unsafe {
        let raw = JS_GetContinuationData(ctx.as_raw().as_ptr());
        JsValue::from_raw(ctx.clone(), raw)
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    data.as_number().map(|n| n as CallId)
}

/// Runs `f` acting for `call` (or for no call), then restores the context
/// it replaced.
pub(crate) fn run_as<'js, R>(ctx: &Ctx<'js>, call: Option<CallId>, f: impl FnOnce() -> R) -> R {
    let outer = swap(
        ctx,
        call.map_or_else(|| JsValue::new_undefined(ctx.clone()), |id| number(ctx, id)),
    );
    let result = f();
    drop(swap(ctx, outer));
    result
}

/// A call id as the engine stores it. Ids are the host's, counted up from 1;
/// below 2^53 they survive a JavaScript number exactly.
#[allow(clippy::cast_precision_loss)]
fn number<'js>(ctx: &Ctx<'js>, id: CallId) -> JsValue<'js> {
    JsValue::new_number(ctx.clone(), id as f64)
}

/// Makes `data` current and returns what it replaced.
fn swap<'js>(ctx: &Ctx<'js>, data: JsValue<'js>) -> JsValue<'js> {
    // SAFETY: `ctx` is a live context and `data` a value of it. The engine
    // takes one reference to `data` (duplicated here, as `data` drops its
    // own) and hands back the reference it held to the one it replaced,
    // which `from_raw` takes ownership of.
    #[allow(unsafe_code)]
    unsafe {
        let raw = ctx.as_raw().as_ptr();
        let outer = JS_SwapContinuationData(raw, qjs::JS_DupValue(raw, data.as_raw()));
        JsValue::from_raw(ctx.clone(), outer)
    }
}
