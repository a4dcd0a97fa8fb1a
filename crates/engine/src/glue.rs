//! The per-isolate glue state Rust keeps inside the engine: the platform
//! and the isolate's shared state, built-ins captured before guest code
//! runs, the env object, the main module, pending ops and calls, and the
//! glue chunks loaded so far.
//!
//! It lives in the context's userdata, which rquickjs drops before the
//! runtime is freed, so it may hold JS values without leaking them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use rquickjs::{Ctx, Function, JsLifetime, Object, Promise};

use crate::call_state::Call;
use crate::ops::OpId;
use crate::platform::Platform;
use crate::shared::Shared;

/// The engine's own chunks come first in every platform (`Platform::new`
/// puts its two extensions first; a test checks the names): the core's
/// (`glue/core.js`), then the Workers API's module-and-globals chunk and
/// its capability stubs.
pub(crate) const CORE_CHUNK: usize = 0;
pub(crate) const WORKERS_CHUNK: usize = 1;
pub(crate) const BINDINGS_CHUNK: usize = 2;

pub(crate) struct Glue<'js> {
    /// The extensions this isolate was made with.
    pub(crate) platform: &'static Platform,
    /// The state host functions share.
    pub(crate) shared: Rc<Shared>,
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
    /// Each chunk's exports once it has run, by the platform's numbering.
    pub(crate) chunks: Vec<Option<Object<'js>>>,
    /// Each extension's `host` object, once one of its chunks has run.
    pub(crate) hosts: Vec<Option<Object<'js>>>,
    /// The `load` function chunks get.
    pub(crate) load: Option<Function<'js>>,
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

// SAFETY: every field holds values of the one context `'js` (or none),
// and `Changed` only re-labels that lifetime, which is what `JsLifetime`
// requires.
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

/// The isolate's platform.
pub(crate) fn platform(ctx: &Ctx<'_>) -> rquickjs::Result<&'static Platform> {
    with(ctx, |g| g.platform)
}

/// The exports of chunk `index`, running it the first time.
pub(crate) fn chunk<'js>(ctx: &Ctx<'js>, index: usize) -> rquickjs::Result<Object<'js>> {
    let (platform, loaded) = with(ctx, |g| {
        (
            g.platform,
            g.state.borrow().chunks.get(index).cloned().flatten(),
        )
    })?;
    if let Some(exports) = loaded {
        return Ok(exports);
    }
    let slot = platform
        .chunks
        .get(index)
        .ok_or_else(|| rquickjs::Exception::throw_internal(ctx, "isola: no such glue chunk"))?;
    let host = host_object(ctx, platform, slot.extension)?;
    let load = load_function(ctx)?;
    let factory = crate::bytecode::load(ctx, slot)?;
    let exports: Object = factory.call((host, load))?;
    with(ctx, |g| {
        let mut state = g.state.borrow_mut();
        if state.chunks.len() <= index {
            state.chunks.resize(index + 1, None);
        }
        state.chunks[index] = Some(exports.clone());
    })?;
    Ok(exports)
}

/// The exports of chunk `index` if it has run, without running it.
pub(crate) fn loaded<'js>(ctx: &Ctx<'js>, index: usize) -> rquickjs::Result<Option<Object<'js>>> {
    with(ctx, |g| {
        g.state.borrow().chunks.get(index).cloned().flatten()
    })
}

/// One export of chunk `index`.
pub(crate) fn export<'js, T: rquickjs::FromJs<'js>>(
    ctx: &Ctx<'js>,
    index: usize,
    name: &str,
) -> rquickjs::Result<T> {
    chunk(ctx, index)?.get(name)
}

/// The `host` object of extension `extension`: its host functions, each
/// made by QuickJS the first time it is read.
fn host_object<'js>(
    ctx: &Ctx<'js>,
    platform: &'static Platform,
    extension: usize,
) -> rquickjs::Result<Object<'js>> {
    if let Some(host) = with(ctx, |g| {
        g.state.borrow().hosts.get(extension).cloned().flatten()
    })? {
        return Ok(host);
    }
    let host = Object::new(ctx.clone())?;
    host.set_prototype(None)?;
    Platform::install_list(ctx, &host, platform.host_list(extension))?;
    with(ctx, |g| {
        let mut state = g.state.borrow_mut();
        if state.hosts.len() <= extension {
            state.hosts.resize(extension + 1, None);
        }
        state.hosts[extension] = Some(host.clone());
    })?;
    Ok(host)
}

/// `load(name)`: another chunk's exports, for chunks to build on.
fn load_function<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Function<'js>> {
    if let Some(load) = with(ctx, |g| g.state.borrow().load.clone())? {
        return Ok(load);
    }
    let load = Function::new(ctx.clone(), |ctx: Ctx<'js>, name: String| {
        let index = platform(&ctx)?.chunk_named(&name).ok_or_else(|| {
            rquickjs::Exception::throw_reference(&ctx, &format!("isola: no glue chunk {name}"))
        })?;
        chunk(&ctx, index)
    })?
    .with_name("load")?;
    with(ctx, |g| g.state.borrow_mut().load = Some(load.clone()))?;
    Ok(load)
}

/// A function exported by the core chunk.
pub(crate) fn core_fn<'js>(ctx: &Ctx<'js>, name: &str) -> rquickjs::Result<Function<'js>> {
    export(ctx, CORE_CHUNK, name)
}

/// A function of the platform's fetch adapter (see
/// [`crate::Extension::fetch_adapter`]).
pub(crate) fn fetch_fn<'js>(ctx: &Ctx<'js>, name: &str) -> rquickjs::Result<Function<'js>> {
    let Some(index) = platform(ctx)?.fetch_adapter else {
        return Err(rquickjs::Exception::throw_internal(
            ctx,
            "isola: this platform has no fetch adapter (no web extension), so it cannot serve fetch",
        ));
    };
    export(ctx, index, name)
}

/// The capability-stub chunk (`env` binding stubs, Worker Loaders,
/// `ctx.exports` loopbacks), evaluated the first time anything needs it.
pub(crate) fn stubs<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Object<'js>> {
    chunk(ctx, BINDINGS_CHUNK)
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

/// `WorkerEntrypoint`, if `cloudflare:workers` was ever loaded; before
/// that no class can extend it.
pub(crate) fn worker_entrypoint<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Option<Function<'js>>> {
    match loaded(ctx, WORKERS_CHUNK)? {
        Some(workers) => workers.get("WorkerEntrypoint").map(Some),
        None => Ok(None),
    }
}

/// `RpcTarget.prototype`, if `cloudflare:workers` was ever loaded; before
/// that no object can be an `RpcTarget`.
pub(crate) fn rpc_target_prototype<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Option<Object<'js>>> {
    let cached = with(ctx, |g| g.state.borrow().rpc_target_prototype.clone())?;
    if cached.is_some() {
        return Ok(cached);
    }
    let Some(workers) = loaded(ctx, WORKERS_CHUNK)? else {
        return Ok(None);
    };
    let class: Object = workers.get("RpcTarget")?;
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_engines_own_chunks_come_first_in_this_order() {
        let platform = crate::test_platform();
        assert_eq!(platform.chunk_named("isola:core"), Some(super::CORE_CHUNK));
        assert_eq!(
            platform.chunk_named("isola:workers"),
            Some(super::WORKERS_CHUNK)
        );
        assert_eq!(
            platform.chunk_named("isola:bindings"),
            Some(super::BINDINGS_CHUNK)
        );
    }
}
