//! Access to the guest-side glue from Rust: the eager core, and the extras
//! and Web API chunks that load on first use.

use rquickjs::{Ctx, Function, Object};

use crate::isolate::Internals;

/// The core's internals object (always present after isolate setup).
pub(crate) fn core<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Object<'js>> {
    Internals::get(ctx)
}

/// The extras chunk, evaluated the first time anything needs it.
pub(crate) fn extras<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Object<'js>> {
    let core = core(ctx)?;
    if let Ok(extras) = core.get::<_, Object>("extras") {
        return Ok(extras);
    }
    let factory = crate::bytecode::extras(ctx)?;
    let host_call: Function = core.get("hostCall")?;
    let extras: Object = factory.call((host_call, core.clone()))?;
    core.set("extras", extras.clone())?;
    Ok(extras)
}

/// The Web API chunk (through extras, which hands it its helpers).
pub(crate) fn web<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Object<'js>> {
    let load: Function = extras(ctx)?.get("loadWeb")?;
    load.call(())
}

/// A function exported by the extras chunk.
pub(crate) fn extras_fn<'js>(ctx: &Ctx<'js>, name: &str) -> rquickjs::Result<Function<'js>> {
    extras(ctx)?.get(name)
}
