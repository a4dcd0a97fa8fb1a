//! Globals that cost nothing until a guest touches them.
//!
//! Defining two dozen globals from JavaScript costs more than the rest of a
//! sandbox's glue. Instead, QuickJS function lists install them: the
//! function globals (`setTimeout`, `fetch`, ...) are native trampolines that
//! QuickJS creates only on first access and that forward to the extras
//! chunk; the object and class globals (`console`, `Headers`, ...) are
//! accessors that load their chunk, replace themselves with a plain data
//! property, and return the value.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_int};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;

use rquickjs::{Ctx, Function, Object, Value as JsValue, qjs};

use crate::glue;

/// Function globals, by magic number.
const FUNCTIONS: [(&CStr, u8); 10] = [
    (c"setTimeout", 1),
    (c"setInterval", 1),
    (c"clearTimeout", 0),
    (c"clearInterval", 0),
    (c"queueMicrotask", 1),
    (c"structuredClone", 1),
    (c"atob", 1),
    (c"btoa", 1),
    (c"fetch", 1),
    (c"reportError", 1),
];

/// Value globals, by magic number; the first five come from extras, the
/// Web Crypto classes (the next two) from the crypto chunk, the Streams
/// classes (from `ReadableStream` on) from the streams chunk, the rest from
/// the Web API chunk.
const VALUES: [&CStr; 39] = [
    c"console",
    c"crypto",
    c"performance",
    c"navigator",
    c"QuotaExceededError",
    c"Headers",
    c"Request",
    c"Response",
    c"URL",
    c"URLSearchParams",
    c"TextEncoder",
    c"TextDecoder",
    c"Event",
    c"CustomEvent",
    c"EventTarget",
    c"AbortSignal",
    c"AbortController",
    c"Blob",
    c"File",
    c"FormData",
    c"CryptoKey",
    c"SubtleCrypto",
    c"ReadableStream",
    c"ReadableStreamDefaultReader",
    c"ReadableStreamBYOBReader",
    c"ReadableStreamDefaultController",
    c"ReadableByteStreamController",
    c"ReadableStreamBYOBRequest",
    c"WritableStream",
    c"WritableStreamDefaultWriter",
    c"WritableStreamDefaultController",
    c"TransformStream",
    c"TransformStreamDefaultController",
    c"ByteLengthQueuingStrategy",
    c"CountQueuingStrategy",
    c"TextEncoderStream",
    c"TextDecoderStream",
    c"CompressionStream",
    c"DecompressionStream",
];
const FIRST_WEB_VALUE: usize = value_index(c"Headers");
const FIRST_CRYPTO_VALUE: usize = value_index(c"CryptoKey");
const FIRST_STREAMS_VALUE: usize = value_index(c"ReadableStream");

/// The position of `name` in `VALUES` (a compile error if absent).
const fn value_index(name: &CStr) -> usize {
    let wanted = name.to_bytes();
    let mut i = 0;
    while i < VALUES.len() {
        let candidate = VALUES[i].to_bytes();
        if candidate.len() == wanted.len() {
            let mut j = 0;
            while j < wanted.len() && candidate[j] == wanted[j] {
                j += 1;
            }
            if j == wanted.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("not a value global")
}

/// `writable | configurable`, not enumerable, as Web IDL globals are.
const FLAGS: u8 = (qjs::JS_PROP_WRITABLE | qjs::JS_PROP_CONFIGURABLE) as u8;

struct List<const N: usize>([qjs::JSCFunctionListEntry; N]);

// SAFETY: the entries point only at static C strings and `extern "C"`
// functions; QuickJS reads them and never writes through them.
unsafe impl<const N: usize> Sync for List<N> {}

const fn function(
    name: &'static std::ffi::CStr,
    length: u8,
    magic: i16,
) -> qjs::JSCFunctionListEntry {
    qjs::JSCFunctionListEntry {
        name: name.as_ptr(),
        prop_flags: FLAGS,
        def_type: qjs::JS_DEF_CFUNC as u8,
        magic,
        u: qjs::JSCFunctionListEntry__bindgen_ty_1 {
            func: qjs::JSCFunctionListEntry__bindgen_ty_1__bindgen_ty_1 {
                length,
                cproto: qjs::JSCFunctionEnum_JS_CFUNC_generic_magic as u8,
                cfunc: qjs::JSCFunctionType {
                    generic_magic: Some(call_function),
                },
            },
        },
    }
}

const fn value(name: &'static std::ffi::CStr, magic: i16) -> qjs::JSCFunctionListEntry {
    qjs::JSCFunctionListEntry {
        name: name.as_ptr(),
        prop_flags: qjs::JS_PROP_CONFIGURABLE as u8,
        def_type: qjs::JS_DEF_CGETSET_MAGIC as u8,
        magic,
        u: qjs::JSCFunctionListEntry__bindgen_ty_1 {
            getset: qjs::JSCFunctionListEntry__bindgen_ty_1__bindgen_ty_2 {
                get: qjs::JSCFunctionType {
                    getter_magic: Some(get_value),
                },
                set: qjs::JSCFunctionType {
                    setter_magic: Some(set_value),
                },
            },
        },
    }
}

const GLOBAL_COUNT: usize = FUNCTIONS.len() + VALUES.len();

static GLOBALS: List<GLOBAL_COUNT> = List(entries());

#[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
const fn entries() -> [qjs::JSCFunctionListEntry; GLOBAL_COUNT] {
    let mut out = [value(c"", 0); GLOBAL_COUNT];
    let mut i = 0;
    while i < FUNCTIONS.len() {
        out[i] = function(FUNCTIONS[i].0, FUNCTIONS[i].1, i as i16);
        i += 1;
    }
    let mut j = 0;
    while j < VALUES.len() {
        out[FUNCTIONS.len() + j] = value(VALUES[j], j as i16);
        j += 1;
    }
    out
}

/// Our globals that the engine's own intrinsics already define.
const PREDEFINED: [&str; 1] = ["queueMicrotask"];

/// Installs the lazy globals on the global object.
pub(crate) fn install(ctx: &Ctx<'_>) -> rquickjs::Result<()> {
    let global = ctx.globals();
    // QuickJS aborts the process if a lazily initialised property already
    // exists: remove the namesakes QuickJS-ng defines itself. (Checking all
    // of our names instead costs measurable start-up time; a unit test
    // keeps this list equal to what the engine predefines.)
    for name in PREDEFINED {
        global.remove(name)?;
    }
    // SAFETY: `GLOBALS` is static, so it outlives every context (QuickJS
    // keeps pointers to entries for lazily created functions); `global` is
    // a live object of `ctx`.
    let rc = unsafe {
        qjs::JS_SetPropertyFunctionList(
            ctx.as_raw().as_ptr(),
            global.as_raw(),
            GLOBALS.0.as_ptr(),
            GLOBALS.0.len() as c_int,
        )
    };
    if rc < 0 {
        return Err(rquickjs::Error::Exception);
    }
    Ok(())
}

/// Runs `f` with a `Ctx` for a raw context, turning errors and panics into
/// a pending exception, as a C callback must.
///
/// # Safety
/// `ctx` must be the live context QuickJS called back with.
unsafe fn trampoline<F>(ctx: *mut qjs::JSContext, f: F) -> qjs::JSValue
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
        Ok(Err(other)) => {
            let _ = rquickjs::Exception::throw_internal(&ctx, &format!("isola: {other}"));
            qjs::JS_EXCEPTION
        }
        Err(_) => {
            let _ = rquickjs::Exception::throw_internal(&ctx, "isola: internal error in a global");
            qjs::JS_EXCEPTION
        }
    }
}

unsafe extern "C" fn call_function(
    ctx: *mut qjs::JSContext,
    _this: qjs::JSValue,
    argc: c_int,
    argv: *mut qjs::JSValue,
    magic: c_int,
) -> qjs::JSValue {
    // SAFETY: QuickJS calls with its live context and `argc` valid values at `argv`.
    unsafe {
        trampoline(ctx, |ctx| {
            let name = usize::try_from(magic)
                .ok()
                .and_then(|m| FUNCTIONS.get(m))
                .and_then(|(name, _)| name.to_str().ok())
                .unwrap_or("");
            let globals: Object = glue::extras(ctx)?.get("globals")?;
            let target: Function = globals.get(name)?;
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

fn lookup<'js>(ctx: &Ctx<'js>, magic: c_int) -> rquickjs::Result<(&'static str, JsValue<'js>)> {
    let index = usize::try_from(magic).unwrap_or(usize::MAX);
    let name = VALUES
        .get(index)
        .and_then(|name| name.to_str().ok())
        .ok_or(rquickjs::Error::Unknown)?;
    let value = if index < FIRST_WEB_VALUE {
        glue::extras(ctx)?.get::<_, Object>("globals")?.get(name)?
    } else if index >= FIRST_STREAMS_VALUE {
        glue::streams(ctx)?.get(name)?
    } else if index >= FIRST_CRYPTO_VALUE {
        glue::crypto(ctx)?.get(name)?
    } else {
        glue::web(ctx)?.get(name)?
    };
    Ok((name, value))
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

unsafe extern "C" fn get_value(
    ctx: *mut qjs::JSContext,
    _this: qjs::JSValue,
    magic: c_int,
) -> qjs::JSValue {
    // SAFETY: QuickJS calls with its live context.
    unsafe {
        trampoline(ctx, |ctx| {
            let (name, value) = lookup(ctx, magic)?;
            define_data(ctx, name, value.clone())?;
            Ok(value)
        })
    }
}

unsafe extern "C" fn set_value(
    ctx: *mut qjs::JSContext,
    _this: qjs::JSValue,
    value: qjs::JSValue,
    magic: c_int,
) -> qjs::JSValue {
    // SAFETY: QuickJS calls with its live context and a live `value` it keeps owning.
    unsafe {
        trampoline(ctx, |ctx| {
            let index = usize::try_from(magic).unwrap_or(usize::MAX);
            let name = VALUES
                .get(index)
                .and_then(|name| name.to_str().ok())
                .ok_or(rquickjs::Error::Unknown)?;
            let value =
                JsValue::from_raw(ctx.clone(), qjs::JS_DupValue(ctx.as_raw().as_ptr(), value));
            define_data(ctx, name, value)?;
            Ok(JsValue::new_undefined(ctx.clone()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predefined_lists_exactly_the_names_the_engine_defines() {
        let runtime = rquickjs::Runtime::new().expect("runtime");
        let context = rquickjs::Context::custom::<crate::isolate::WorkerIntrinsics>(&runtime)
            .expect("context");
        context.with(|ctx| {
            let global = ctx.globals();
            let mut defined = Vec::new();
            for name in FUNCTIONS.iter().map(|(name, _)| name).chain(VALUES.iter()) {
                let name = name.to_str().expect("ascii");
                if global.contains_key(name).expect("lookup") {
                    defined.push(name);
                }
            }
            assert_eq!(defined, PREDEFINED);
        });
    }
}
