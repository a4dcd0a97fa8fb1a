//! `CallSite.getFunction()` returns `undefined`, as V8's does for strict
//! code.
//!
//! QuickJS-ng hands `Error.prepareStackTrace` one `CallSite` per frame, and
//! its `getFunction()` returns the frame's live function. Frames of the
//! runtime's own JavaScript (the host-call wrappers, the private `op`
//! entry) sit under guest callbacks, so without this a guest could take
//! hold of internal functions that the public API never hands out. The
//! method is replaced on the prototype before any guest code runs.

use std::sync::OnceLock;

use rquickjs::object::Property;
use rquickjs::{Ctx, Function, Object, Value as JsValue, qjs};

/// Evaluated once per process to learn the engine's `CallSite` class id
/// (builtin class ids are the same in every runtime): the first frame's
/// `CallSite` of a stack trace with `prepareStackTrace` set. The engine's
/// `prepareStackTrace` is an accessor over context state, so it is reset
/// through the setter (`delete` would remove the accessor and leave the
/// probe's function in place).
const PROBE: &str = "(() => {\n\
    const E = Error;\n\
    E.prepareStackTrace = (_, sites) => sites;\n\
    const sites = new E().stack;\n\
    E.prepareStackTrace = undefined;\n\
    return sites[0];\n\
})()";

fn callsite_class(ctx: &Ctx<'_>) -> rquickjs::Result<qjs::JSClassID> {
    static CLASS: OnceLock<qjs::JSClassID> = OnceLock::new();
    if let Some(class) = CLASS.get() {
        return Ok(*class);
    }
    let site: Object = ctx.eval(PROBE)?;
    // SAFETY: `site` is a live object of this context; reading its class id
    // does not touch anything else.
    #[allow(unsafe_code)]
    let class = unsafe { qjs::JS_GetClassID(site.as_raw()) };
    Ok(*CLASS.get_or_init(|| class))
}

/// Replaces `CallSite.prototype.getFunction` in `ctx` with one that
/// returns `undefined`.
pub(crate) fn hide_functions(ctx: &Ctx<'_>) -> rquickjs::Result<()> {
    let class = callsite_class(ctx)?;
    // SAFETY: `ctx` is live and `class` a class id of this engine;
    // `JS_GetClassProto` returns a new reference, which `from_raw` owns.
    #[allow(unsafe_code)]
    let prototype = unsafe {
        JsValue::from_raw(
            ctx.clone(),
            qjs::JS_GetClassProto(ctx.as_raw().as_ptr(), class),
        )
    };
    let prototype = prototype
        .into_object()
        .ok_or_else(|| rquickjs::Exception::throw_internal(ctx, "isola: no CallSite prototype"))?;
    if !prototype.contains_key("getFunction")? {
        return Err(rquickjs::Exception::throw_internal(
            ctx,
            "isola: CallSite has no getFunction to replace",
        ));
    }
    let get_function =
        Function::new(ctx.clone(), || rquickjs::Undefined)?.with_name("getFunction")?;
    prototype.prop(
        "getFunction",
        Property::from(get_function).writable().configurable(),
    )
}

#[cfg(test)]
mod tests {
    use rquickjs::{Context, Runtime};

    use super::*;

    /// The probe leaves the context as it found it: stacks are strings and
    /// `Error.prepareStackTrace` is still the engine's accessor.
    #[test]
    fn the_probe_leaves_no_trace_and_get_function_is_hidden() {
        let runtime = Runtime::new().expect("runtime");
        let context = Context::full(&runtime).expect("context");
        context.with(|ctx| {
            let _: Object = ctx.eval(PROBE).expect("probe");
            hide_functions(&ctx).expect("hidden");
            let check: Vec<bool> = ctx
                .eval(
                    "[typeof new Error('x').stack === 'string',\n\
                      typeof Object.getOwnPropertyDescriptor(Error, 'prepareStackTrace').set === 'function',\n\
                      (() => { Error.prepareStackTrace = (_, s) => s; const s = new Error().stack;\n\
                               Error.prepareStackTrace = undefined; return s[0].getFunction() === undefined })()]",
                )
                .expect("checks");
            assert_eq!(check, vec![true, true, true]);
        });
    }
}
