//! Globals that cost nothing until a guest touches them.
//!
//! Defining two dozen globals from JavaScript costs more than the rest of a
//! sandbox's glue. Instead, QuickJS function lists install them: the
//! function globals (`setTimeout`, `fetch`, ...) are native trampolines that
//! QuickJS creates only on first access and that forward to an export of
//! their extension's chunk; the object and class globals (`console`,
//! `Headers`, ...) are accessors that load their chunk, replace themselves
//! with a plain data property, and return the value. Which globals exist is
//! the [`Platform`]'s list, composed from its extensions.
#![allow(unsafe_code)]

use std::ffi::c_int;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;

use rquickjs::{Ctx, Function, Value as JsValue, qjs};

use crate::glue;
use crate::platform::Platform;

/// `writable | configurable`, not enumerable, as Web IDL globals are.
const FLAGS: u8 = (qjs::JS_PROP_WRITABLE | qjs::JS_PROP_CONFIGURABLE) as u8;

/// Installs the platform's lazy globals on the global object.
pub(crate) fn install(ctx: &Ctx<'_>, platform: &'static Platform) -> rquickjs::Result<()> {
    let global = ctx.globals();
    // QuickJS aborts the process if a lazily initialised property already
    // exists: remove the namesakes QuickJS-ng defines itself.
    for name in &platform.predefined {
        global.remove(*name)?;
    }
    Platform::install_list(ctx, &global, platform.global_list())
}

/// Runs `f` with a `Ctx` for a raw context, turning errors and panics into
/// a pending exception, as a C callback must.
///
/// # Safety
/// `ctx` must be the live context QuickJS called back with.
pub(crate) unsafe fn trampoline<F>(ctx: *mut qjs::JSContext, f: F) -> qjs::JSValue
where
    F: for<'js> FnOnce(&Ctx<'js>) -> rquickjs::Result<JsValue<'js>>,
{
    let Some(raw) = NonNull::new(ctx) else {
        return qjs::JS_EXCEPTION;
    };
    // SAFETY: QuickJS passes a live context to its callbacks.
    let ctx = unsafe { Ctx::from_raw(raw) };
    match catch_unwind(AssertUnwindSafe(|| f(&ctx))) {
        // SAFETY: the duplicate is the reference QuickJS takes over; `value`
        // drops its own.
        Ok(Ok(value)) => unsafe { qjs::JS_DupValue(ctx.as_raw().as_ptr(), value.as_raw()) },
        // The exception is already pending.
        Ok(Err(rquickjs::Error::Exception)) => qjs::JS_EXCEPTION,
        // SAFETY: throwing on the live context QuickJS called back with.
        Ok(Err(rquickjs::Error::Allocation)) => unsafe {
            qjs::JS_ThrowOutOfMemory(ctx.as_raw().as_ptr())
        },
        // Values of the wrong type, as rquickjs's own functions throw them.
        Ok(Err(
            error @ (rquickjs::Error::FromJs { .. }
            | rquickjs::Error::IntoJs { .. }
            | rquickjs::Error::InvalidString(_)
            | rquickjs::Error::Utf8(_)
            | rquickjs::Error::TooManyArgs { .. }
            | rquickjs::Error::MissingArgs { .. }),
        )) => {
            let _ = rquickjs::Exception::throw_type(&ctx, &error.to_string());
            qjs::JS_EXCEPTION
        }
        Ok(Err(other)) => {
            let _ = rquickjs::Exception::throw_internal(&ctx, &format!("isola: {other}"));
            qjs::JS_EXCEPTION
        }
        Err(_) => {
            let _ = rquickjs::Exception::throw_internal(
                &ctx,
                "isola: internal error in a native function",
            );
            qjs::JS_EXCEPTION
        }
    }
}

pub(crate) unsafe extern "C" fn call_function(
    ctx: *mut qjs::JSContext,
    _this: qjs::JSValue,
    argc: c_int,
    argv: *mut qjs::JSValue,
    magic: c_int,
) -> qjs::JSValue {
    // SAFETY: QuickJS calls with its live context and `argc` valid values at `argv`.
    unsafe {
        trampoline(ctx, |ctx| {
            let target: Function =
                global_export(ctx, magic)?
                    .1
                    .into_function()
                    .ok_or_else(|| {
                        rquickjs::Exception::throw_internal(
                            ctx,
                            "isola: a function global is not a function",
                        )
                    })?;
            let count = usize::try_from(argc).unwrap_or(0);
            let mut args = rquickjs::function::Args::new(ctx.clone(), count);
            for i in 0..count {
                // SAFETY: `i < argc`, so `argv.add(i)` is one of the arguments.
                let arg = JsValue::from_raw(
                    ctx.clone(),
                    qjs::JS_DupValue(ctx.as_raw().as_ptr(), *argv.add(i)),
                );
                args.push_arg(arg)?;
            }
            target.call_arg(args)
        })
    }
}

/// The global numbered `magic`: its name and its value, loading its chunk.
fn global_export<'js>(
    ctx: &Ctx<'js>,
    magic: c_int,
) -> rquickjs::Result<(&'static str, JsValue<'js>)> {
    let platform = glue::platform(ctx)?;
    let slot = usize::try_from(magic)
        .ok()
        .and_then(|i| platform.globals.get(i))
        .ok_or(rquickjs::Error::Unknown)?;
    let value = glue::chunk(ctx, slot.chunk)?.get(slot.export)?;
    Ok((slot.name, value))
}

fn define_data<'js>(ctx: &Ctx<'js>, name: &str, value: JsValue<'js>) -> rquickjs::Result<()> {
    let global = ctx.globals();
    let name = std::ffi::CString::new(name).map_err(|_| rquickjs::Error::Unknown)?;
    let raw = ctx.as_raw().as_ptr();
    // SAFETY: `global` and `value` are live values of this context; the
    // duplicate reference is the one QuickJS takes over.
    let rc = unsafe {
        qjs::JS_DefinePropertyValueStr(
            raw,
            global.as_raw(),
            name.as_ptr(),
            qjs::JS_DupValue(raw, value.as_raw()),
            FLAGS.into(),
        )
    };
    if rc < 0 {
        return Err(rquickjs::Error::Exception);
    }
    Ok(())
}

pub(crate) unsafe extern "C" fn get_value(
    ctx: *mut qjs::JSContext,
    _this: qjs::JSValue,
    magic: c_int,
) -> qjs::JSValue {
    // SAFETY: QuickJS calls with its live context.
    unsafe {
        trampoline(ctx, |ctx| {
            let (name, value) = global_export(ctx, magic)?;
            define_data(ctx, name, value.clone())?;
            Ok(value)
        })
    }
}

pub(crate) unsafe extern "C" fn set_value(
    ctx: *mut qjs::JSContext,
    _this: qjs::JSValue,
    value: qjs::JSValue,
    magic: c_int,
) -> qjs::JSValue {
    // SAFETY: QuickJS calls with its live context and a live `value` it keeps owning.
    unsafe {
        trampoline(ctx, |ctx| {
            let platform = glue::platform(ctx)?;
            let name = usize::try_from(magic)
                .ok()
                .and_then(|i| platform.globals.get(i))
                .map(|slot| slot.name)
                .ok_or(rquickjs::Error::Unknown)?;
            let value =
                JsValue::from_raw(ctx.clone(), qjs::JS_DupValue(ctx.as_raw().as_ptr(), value));
            define_data(ctx, name, value)?;
            Ok(JsValue::new_undefined(ctx.clone()))
        })
    }
}
