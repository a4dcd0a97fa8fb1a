//! The per-isolate glue state Rust keeps inside the engine: built-ins
//! captured before guest code runs, the env object, the main module,
//! pending ops and calls, and the lazily loaded JavaScript chunks.
//!
//! It lives in the context's userdata, which rquickjs drops before the
//! runtime is freed, so it may hold JS values without leaking them.

use std::cell::RefCell;
use std::collections::HashMap;

use rquickjs::{Ctx, Function, JsLifetime, Object, Promise};

use crate::call_state::Call;
use crate::ops::OpId;

pub(crate) struct Glue<'js> {
    /// The host dispatcher (see `host/mod.rs`).
    pub(crate) host_call: Function<'js>,
    /// `env` as guests see it.
    pub(crate) env: Object<'js>,
    /// `Object.prototype`, `Promise` and `Promise.resolve`, captured at setup.
    pub(crate) object_prototype: Object<'js>,
    pub(crate) promise_ctor: Function<'js>,
    pub(crate) promise_resolve: Function<'js>,
    pub(crate) state: RefCell<GlueState<'js>>,
}

#[derive(Default)]
pub(crate) struct GlueState<'js> {
    /// The main module's evaluation (resolves to its namespace).
    pub(crate) main: Option<Promise<'js>>,
    pub(crate) namespace: Option<Object<'js>>,
    pub(crate) extras: Option<Object<'js>>,
    /// The capability-stub chunk (`glue/bindings.js`), once loaded.
    pub(crate) stubs: Option<Object<'js>>,
    /// `ctx.exports`, built once the main module has evaluated.
    pub(crate) exports: Option<Object<'js>>,
    /// The prototype of every call's `ctx` (holds the `exports` getter).
    pub(crate) ctx_prototype: Option<Object<'js>>,
    /// Resolve and reject functions of ops in flight.
    pub(crate) ops: HashMap<OpId, PendingOp<'js>>,
    /// Stubs exported in an op's arguments, released when it completes.
    pub(crate) op_stubs: HashMap<OpId, Vec<u64>>,
    /// `RpcTarget.prototype`, once `cloudflare:workers` has been loaded.
    pub(crate) rpc_target_prototype: Option<Object<'js>>,
    /// Calls not yet finished.
    pub(crate) calls: Vec<Call<'js>>,
    /// `ctx.waitUntil` promises by call (kept apart from `calls`, which
    /// dispatch takes out of the state while it polls them).
    pub(crate) waits: HashMap<crate::ops::CallId, Vec<Promise<'js>>>,
    /// Promises rejected with no handler yet; reported as `Uncaught (in
    /// promise)` if still unhandled once the job queue is drained.
    pub(crate) unhandled: Vec<Rejection<'js>>,
}

/// A promise rejected with no handler (yet).
pub(crate) struct Rejection<'js> {
    pub(crate) promise: rquickjs::Value<'js>,
    pub(crate) reason: rquickjs::Value<'js>,
    /// The call whose code rejected it: the report is that call's console
    /// line, not every caller's.
    pub(crate) call: Option<crate::ops::CallId>,
}

/// An op in flight: how to settle its promise, and the call that issued it
/// (its answer runs as that call).
pub(crate) struct PendingOp<'js> {
    pub(crate) resolve: Function<'js>,
    pub(crate) reject: Function<'js>,
    pub(crate) call: Option<crate::ops::CallId>,
}

// SAFETY: every field holds values of the one context `'js`, and `Changed`
// only re-labels that lifetime, which is what `JsLifetime` requires.
#[allow(unsafe_code)]
unsafe impl<'js> JsLifetime<'js> for Glue<'js> {
    type Changed<'to> = Glue<'to>;
}

/// Runs `f` with the isolate's glue.
pub(crate) fn with<'js, R>(ctx: &Ctx<'js>, f: impl FnOnce(&Glue<'js>) -> R) -> rquickjs::Result<R> {
    let glue = ctx
        .userdata::<Glue<'js>>()
        .ok_or_else(|| rquickjs::Exception::throw_internal(ctx, "isola glue is missing"))?;
    Ok(f(&glue))
}

/// The extras chunk, evaluated the first time anything needs it.
pub(crate) fn extras<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Object<'js>> {
    if let Some(extras) = with(ctx, |g| g.state.borrow().extras.clone())? {
        return Ok(extras);
    }
    let (host_call, env) = with(ctx, |g| (g.host_call.clone(), g.env.clone()))?;
    let factory = crate::bytecode::extras(ctx)?;
    let extras: Object = factory.call((host_call, env))?;
    with(ctx, |g| g.state.borrow_mut().extras = Some(extras.clone()))?;
    Ok(extras)
}

/// The Web API chunk (loaded and cached by extras).
pub(crate) fn web<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Object<'js>> {
    let load: Function = extras(ctx)?.get("loadWeb")?;
    load.call(())
}

/// The Web Crypto chunk (loaded and cached by extras).
pub(crate) fn crypto<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Object<'js>> {
    let load: Function = extras(ctx)?.get("loadCrypto")?;
    load.call(())
}

/// The Streams chunk (loaded and cached by extras).
pub(crate) fn streams<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Object<'js>> {
    let load: Function = extras(ctx)?.get("loadStreams")?;
    load.call(())
}

/// The capability-stub chunk (`env` binding stubs, Worker Loaders,
/// `ctx.exports` loopbacks), evaluated the first time anything needs it.
pub(crate) fn stubs<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Object<'js>> {
    if let Some(stubs) = with(ctx, |g| g.state.borrow().stubs.clone())? {
        return Ok(stubs);
    }
    let host_call = with(ctx, |g| g.host_call.clone())?;
    let factory = crate::bytecode::bindings(ctx)?;
    let stubs: Object = factory.call((host_call,))?;
    with(ctx, |g| g.state.borrow_mut().stubs = Some(stubs.clone()))?;
    Ok(stubs)
}

/// `ctx.exports` of this isolate: one loopback factory per entrypoint of
/// the main module (`ctx.exports.Name({ props })`).
pub(crate) fn exports<'js>(
    ctx: &Ctx<'js>,
    namespace: &Object<'js>,
) -> rquickjs::Result<Object<'js>> {
    if let Some(exports) = with(ctx, |g| g.state.borrow().exports.clone())? {
        return Ok(exports);
    }
    let make: Function = stubs(ctx)?.get("loopbackExports")?;
    let exports: Object = make.call((namespace.clone(), worker_entrypoint(ctx)?))?;
    with(ctx, |g| {
        g.state.borrow_mut().exports = Some(exports.clone())
    })?;
    Ok(exports)
}

/// A function exported by the extras chunk.
pub(crate) fn extras_fn<'js>(ctx: &Ctx<'js>, name: &str) -> rquickjs::Result<Function<'js>> {
    extras(ctx)?.get(name)
}

/// `WorkerEntrypoint`, if `cloudflare:workers` (or anything else in
/// extras) was ever loaded; before that no class can extend it.
pub(crate) fn worker_entrypoint<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Option<Function<'js>>> {
    let extras = with(ctx, |g| g.state.borrow().extras.clone())?;
    match extras {
        Some(extras) => extras.get("WorkerEntrypoint").map(Some),
        None => Ok(None),
    }
}

/// `RpcTarget.prototype`, if extras (which define `RpcTarget`) were ever
/// loaded; before that no object can be an `RpcTarget`.
pub(crate) fn rpc_target_prototype<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Option<Object<'js>>> {
    let (cached, extras) = with(ctx, |g| {
        let state = g.state.borrow();
        (state.rpc_target_prototype.clone(), state.extras.clone())
    })?;
    if cached.is_some() {
        return Ok(cached);
    }
    let Some(extras) = extras else {
        return Ok(None);
    };
    let class: Object = extras.get("RpcTarget")?;
    let prototype: Object = class.get("prototype")?;
    with(ctx, |g| {
        g.state.borrow_mut().rpc_target_prototype = Some(prototype.clone())
    })?;
    Ok(Some(prototype))
}

/// Releases the stubs exported in op `id`'s arguments.
pub(crate) fn release_op_stubs(ctx: &Ctx<'_>, id: OpId) -> rquickjs::Result<()> {
    let Some(ids) = with(ctx, |g| g.state.borrow_mut().op_stubs.remove(&id))? else {
        return Ok(());
    };
    let release: Function = stubs(ctx)?.get("releaseStubs")?;
    #[allow(clippy::cast_precision_loss)]
    let ids: Vec<f64> = ids.into_iter().map(|id| id as f64).collect();
    release.call((ids,))
}
