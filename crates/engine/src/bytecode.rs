//! The extensions' JS glue chunks, compiled once per process.
//!
//! Parsing ~30 KB of JavaScript for every isolate would cost more than the
//! rest of a sandbox. Each glue file is compiled once, in a scratch runtime,
//! to QuickJS bytecode that isolates then read without re-parsing. Only
//! bytecode produced here, from the sources compiled into this binary, is
//! ever loaded: isola never accepts bytecode from callers.
#![allow(unsafe_code)]

use std::ffi::CString;

use rquickjs::{Context, Ctx, Function, Runtime, Value as JsValue, qjs};

use crate::platform::ChunkSlot;

fn compile(name: &str, factory_source: &str) -> Result<Vec<u8>, String> {
    let runtime = Runtime::new().map_err(|e| e.to_string())?;
    let context = Context::full(&runtime).map_err(|e| e.to_string())?;
    context.with(|ctx| {
        let source = CString::new(factory_source).map_err(|e| e.to_string())?;
        let file = CString::new(name).map_err(|e| e.to_string())?;
        let raw = ctx.as_raw().as_ptr();
        // SAFETY: `raw` is the live context of this closure; `source` and
        // `file` are NUL-terminated and outlive the call. Compiling a script
        // (not a module) yields a function object we own.
        let function = unsafe {
            qjs::JS_Eval(
                raw,
                source.as_ptr(),
                factory_source.len() as _,
                file.as_ptr(),
                (qjs::JS_EVAL_TYPE_GLOBAL
                    | qjs::JS_EVAL_FLAG_COMPILE_ONLY
                    | qjs::JS_EVAL_FLAG_STRICT) as i32,
            )
        };
        // SAFETY: reading the tag of a value we own.
        if unsafe { qjs::JS_VALUE_GET_TAG(function) } == qjs::JS_TAG_EXCEPTION {
            let error = ctx.catch();
            return Err(format!("{name} does not compile: {error:?}"));
        }
        let mut len = 0;
        let flags = qjs::JS_WRITE_OBJ_BYTECODE
            | qjs::JS_WRITE_OBJ_STRIP_SOURCE
            | qjs::JS_WRITE_OBJ_STRIP_DEBUG;
        // SAFETY: `function` is a live value of this context; the buffer
        // QuickJS returns is `len` bytes long and freed with `js_free` after
        // it is copied.
        let bytes = unsafe {
            let buf = qjs::JS_WriteObject(raw, &raw mut len, function, flags as i32);
            qjs::JS_FreeValue(raw, function);
            if buf.is_null() {
                return Err(format!("{name}: bytecode could not be written"));
            }
            let bytes = std::slice::from_raw_parts(buf, len as usize).to_vec();
            qjs::js_free(raw, buf.cast());
            bytes
        };
        Ok(bytes)
    })
}

/// Runs a glue script from its cached bytecode and returns its value (the
/// factory function).
fn run<'js>(ctx: &Ctx<'js>, bytes: &'static [u8]) -> rquickjs::Result<Function<'js>> {
    let raw = ctx.as_raw().as_ptr();
    // SAFETY: `bytes` is bytecode this process compiled itself (see
    // `compile`) from glue sources embedded in the binary, with the same
    // QuickJS build; QuickJS copies what it reads. `JS_EvalFunction` takes
    // ownership of the function object and returns a value we own.
    let value = unsafe {
        let function = qjs::JS_ReadObject(
            raw,
            bytes.as_ptr(),
            bytes.len() as _,
            qjs::JS_READ_OBJ_BYTECODE as i32,
        );
        if qjs::JS_VALUE_GET_TAG(function) == qjs::JS_TAG_EXCEPTION {
            return Err(rquickjs::Error::Exception);
        }
        let value = qjs::JS_EvalFunction(raw, function);
        if qjs::JS_VALUE_GET_TAG(value) == qjs::JS_TAG_EXCEPTION {
            return Err(rquickjs::Error::Exception);
        }
        JsValue::from_raw(ctx.clone(), value)
    };
    value
        .into_function()
        .ok_or_else(|| rquickjs::Error::new_loading_message("isola glue", "not a function"))
}

/// The factory of a glue chunk, from its bytecode (compiled the first
/// time any isolate of the process needs it).
pub(crate) fn load<'js>(
    ctx: &Ctx<'js>,
    slot: &'static ChunkSlot,
) -> rquickjs::Result<Function<'js>> {
    let name = slot.chunk.name;
    let bytes = slot
        .bytecode
        .get_or_init(|| compile(name, slot.chunk.source))
        .as_deref()
        .map_err(|e| rquickjs::Error::new_loading_message(name, e.clone()))?;
    run(ctx, bytes)
}
