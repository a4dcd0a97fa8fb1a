//! Host functions: the only Rust the guest can reach, through the glue.
//!
//! Each one treats its arguments as hostile: types are checked, values are
//! read once into owned data, and nothing here panics or blocks.
//!
//! This module holds [`HostCall`], the argument readers and limits every
//! host function gets, and the trampoline around each call (host copies
//! released, host time against the limits). The functions live with the
//! extension they serve: `calls` here (the core runtime: ops, timers,
//! console, `structuredClone`, `require`), the web platform's in `web/`.

use std::rc::Rc;
use std::time::{Duration, Instant};

use rquickjs::{Ctx, Exception, Function, Object, TypedArray, Value as JsValue, qjs};

use crate::codec::{self, CloneError, clone_error_to_js};
use crate::handles::HostState;
use crate::host_call::HostCall;
use crate::shared::{Shared, interrupted};
use crate::value::{ErrorValue, Value};

pub(crate) mod calls;

pub(crate) use calls::{request_parts, response_to_js};

impl<'a, 'js> HostCall<'a, 'js> {
    /// The bytes argument `i` views (a typed array or `DataView`), as a
    /// `Uint8Array` over the same memory; `None` when it is not a view.
    fn view_bytes(&self, i: usize) -> rquickjs::Result<Option<TypedArray<'js, u8>>> {
        if self.view_kind(i).is_none() {
            return Ok(None);
        }
        let Some(value) = self.arg(i) else {
            return Ok(None);
        };
        let view_parts: Function = crate::glue::core_fn(&self.ctx, "viewParts")?;
        let parts: rquickjs::Array = view_parts.call((value.clone(),))?;
        Ok(TypedArray::<u8>::from_value(parts.get(1)?).ok())
    }

    /// How many bytes argument `i` views, if it is a typed array or
    /// `DataView` whose buffer is not detached.
    pub fn view_len(&self, i: usize) -> rquickjs::Result<Option<usize>> {
        Ok(self
            .view_bytes(i)?
            .and_then(|view| view.as_raw().map(|raw| raw.len())))
    }

    /// Copies `bytes` over the bytes argument `i` views; a `TypeError` if
    /// it is not a view of exactly that many bytes.
    pub fn write_view(&self, i: usize, bytes: &[u8]) -> rquickjs::Result<()> {
        let view = self.view_bytes(i)?;
        let Some(raw) = view.as_ref().and_then(TypedArray::as_raw) else {
            return Err(Exception::throw_type(
                &self.ctx,
                "isola: expected a view whose buffer is not detached",
            ));
        };
        if raw.len() != bytes.len() {
            return Err(Exception::throw_type(
                &self.ctx,
                "isola: the view's length changed",
            ));
        }
        // SAFETY: `raw` points at the live bytes `view` (held above)
        // covers, `raw.len()` of them; no guest code runs while we write,
        // and the source is a distinct Rust slice of the same length.
        #[allow(unsafe_code)]
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), raw.as_ptr().cast::<u8>(), bytes.len());
        }
        Ok(())
    }

    /// Refuses `size` bytes of values leaving the isolate when over the
    /// codec's limit.
    pub fn check_size(&self, size: usize) -> rquickjs::Result<()> {
        let limit = self.shared.codec().max_bytes;
        if size > limit {
            return Err(clone_error_to_js(&self.ctx, &CloneError::TooLarge(limit)));
        }
        Ok(())
    }

    /// The export `name` of the glue chunk `chunk`, running the chunk the
    /// first time.
    pub fn export<T: rquickjs::FromJs<'js>>(&self, chunk: &str, name: &str) -> rquickjs::Result<T> {
        let index = crate::glue::platform(&self.ctx)?
            .chunk_named(chunk)
            .ok_or_else(|| {
                Exception::throw_internal(&self.ctx, &format!("isola: no glue chunk {chunk}"))
            })?;
        crate::glue::export(&self.ctx, index, name)
    }

    /// Argument `i` read as plain data by the structured-clone codec
    /// (under the isolate's codec limits; a `DataCloneError` or
    /// `RangeError` thrown when it does not clone). `undefined` when absent.
    pub fn read(&self, i: usize) -> rquickjs::Result<Value> {
        match self.arg(i) {
            Some(value) => crate::codec::read_value(&self.ctx, self.shared, value)
                .map_err(|e| clone_error_to_js(&self.ctx, &e)),
            None => Ok(Value::Undefined),
        }
    }

    /// `value` as a new JS value of this isolate.
    pub fn write(&self, value: &Value) -> rquickjs::Result<JsValue<'js>> {
        codec::write(&self.ctx, value)
    }

    /// Asks the host to carry out the effect `name` of this host
    /// function's extension with `args`, as an op of the call acting now
    /// ([`crate::OpRequest::Extension`]); returns the promise its answer
    /// settles. The arguments count against the memory limit and the
    /// codec's size limit until then.
    pub fn effect(&self, name: &str, args: Vec<Value>) -> rquickjs::Result<JsValue<'js>> {
        self.check_size(args.iter().map(Value::approx_size).sum())?;
        let request = crate::ops::OpRequest::Extension {
            extension: self.extension.to_owned(),
            name: name.to_owned(),
            args,
        };
        calls::issue(self, request, Vec::new())
    }

    /// A new guest object owning `state` (freed with the object, or by
    /// [`HostCall::close_state`]); `None` when the isolate already holds
    /// [`HostState::MAX_LIVE`] states of its kind alive, even after a
    /// garbage collection.
    pub fn open_state<T: HostState>(&self, state: T) -> rquickjs::Result<Option<JsValue<'js>>> {
        crate::handles::open(&self.ctx, &self.shared.states, state)
    }

    /// Runs `f` on the state of kind `T` that argument `i` owns; `None`
    /// when it is not such an object or its state was closed.
    pub fn with_state<T: HostState, R>(&self, i: usize, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        crate::handles::with(self.arg(i), f)
    }

    /// Frees the state argument `i` owns now, before its object is
    /// collected.
    pub fn close_state(&self, i: usize) {
        crate::handles::close(self.arg(i));
    }

    /// An exception of `name` (an `Error` subclass or a `DOMException`
    /// name) with `message`, thrown.
    pub fn throw_error(&self, name: &str, message: &str) -> rquickjs::Error {
        let thrown = (|| -> rquickjs::Result<rquickjs::Error> {
            let e = codec::error_to_js(&self.ctx, &ErrorValue::new(name, message))?;
            Ok(self.ctx.throw(e))
        })();
        thrown.unwrap_or_else(|e| e)
    }
}
/// The native trampoline of every host function: `magic` numbers it in
/// the platform. Host copies made by the call (not by calls nested in it)
/// are released when it returns, and the watchdog looks at host time.
#[allow(unsafe_code)]
pub(crate) unsafe extern "C" fn call_host(
    ctx: *mut qjs::JSContext,
    _this: qjs::JSValue,
    argc: std::ffi::c_int,
    argv: *mut qjs::JSValue,
    magic: std::ffi::c_int,
) -> qjs::JSValue {
    // SAFETY: QuickJS calls with its live context and `argc` valid values at `argv`.
    unsafe {
        crate::globals::trampoline(ctx, |ctx| {
            let (platform, shared) = crate::glue::with(ctx, |g| (g.platform, g.shared.clone()))?;
            let Some((f, extension)) = usize::try_from(magic)
                .ok()
                .and_then(|i| platform.host.get(i))
                .copied()
            else {
                return Err(Exception::throw_type(ctx, "isola: unknown host function"));
            };
            let count = usize::try_from(argc).unwrap_or(0);
            let mut args = Vec::with_capacity(count);
            for i in 0..count {
                // SAFETY: `i < argc`, so `argv.add(i)` is one of the
                // arguments; the duplicate is the reference `args` owns.
                args.push(JsValue::from_raw(
                    ctx.clone(),
                    qjs::JS_DupValue(ctx.as_raw().as_ptr(), *argv.add(i)),
                ));
            }
            let outer = shared.transient.replace(0);
            let started = Instant::now();
            let result = f(&HostCall {
                ctx: ctx.clone(),
                args: &args,
                shared: &shared,
                extension,
            });
            shared.memory.sub(shared.transient.replace(outer));
            if host_work_tripped(&shared, started.elapsed()) {
                return Err(interrupted(ctx));
            }
            result
        })
    }
}

/// Replaces `Math.random` with a per-isolate CSPRNG-seeded generator.
pub(crate) fn install_random(ctx: &Ctx<'_>, shared: &Rc<Shared>) -> rquickjs::Result<()> {
    let s = shared.clone();
    let random = Function::new(ctx.clone(), move || {
        #[allow(clippy::cast_precision_loss)]
        let r = (s.next_random() >> 11) as f64 / (1u64 << 53) as f64;
        r
    })?
    .with_name("random")?;
    ctx.globals()
        .get::<_, Object>("Math")?
        .set("random", random)?;
    Ok(())
}

/// Host time between looks at the watchdog. The engine's own check runs
/// every 10,000 bytecode instructions, which a loop of a few expensive host
/// calls never reaches; host work is looked at about every millisecond.
const HOST_WORK_BETWEEN_CHECKS: Duration = Duration::from_millis(1);

/// Adds `spent` to the host work since the last look and, past
/// [`HOST_WORK_BETWEEN_CHECKS`], asks the watchdog whether a limit fired.
fn host_work_tripped(shared: &Shared, spent: Duration) -> bool {
    let work = shared.host_work.get() + spent;
    if work < HOST_WORK_BETWEEN_CHECKS {
        shared.host_work.set(work);
        return false;
    }
    shared.host_work.set(Duration::ZERO);
    shared.watchdog.poll()
}

/// Reads a thrown value as an [`ErrorValue`] (non-errors become `Error`
/// with the value's string form).
pub(crate) fn error_value<'js>(
    ctx: &Ctx<'js>,
    shared: &Shared,
    thrown: &JsValue<'js>,
) -> ErrorValue {
    let limits = codec::CodecLimits {
        max_depth: 2,
        max_bytes: 1 << 20,
    };
    // A thrown object that is not an Error (e.g. test262's `Test262Error`)
    // is named by its constructor.
    // SAFETY: reading the class id of a live value.
    #[allow(unsafe_code)]
    let is_error = unsafe { qjs::JS_IsError(thrown.as_raw()) } || codec::is_dom_exception(thrown);
    if let (false, Some(object)) = (is_error, thrown.as_object()) {
        let constructor = object
            .get::<_, Object>("constructor")
            .and_then(|c| c.get::<_, String>("name"))
            .ok()
            .filter(|name| !name.is_empty() && name != "Object");
        if let Some(name) = constructor {
            let message = object
                .get::<_, Option<rquickjs::convert::Coerced<String>>>("message")
                .ok()
                .flatten()
                .map(|m| m.0)
                .unwrap_or_default();
            return ErrorValue::new(name, message);
        }
    }
    let read = codec::Reader::new(ctx, limits).read(thrown).ok();
    match read {
        Some(Value::Error(mut e)) => {
            e.stack = match (e.stack, shared.source()) {
                (Some(stack), Some(source)) => Some(source.remap_stack(&stack)),
                (stack, _) => stack,
            };
            e
        }
        Some(Value::String(s)) => ErrorValue::new("Error", s),
        Some(other) => ErrorValue::new("Error", crate::strings::describe(&other)),
        None => ErrorValue::new("Error", "<unreadable thrown value>"),
    }
}

/// Keeps a startup failure in workerd's shape:
/// `Failed to start Worker:\nUncaught SyntaxError: <msg>\n  at agent.js:1:26`.
pub(crate) fn record_startup_error<'js>(ctx: &Ctx<'js>, shared: &Shared, thrown: &JsValue<'js>) {
    let error = error_value(ctx, shared, thrown);
    let location = error.stack.as_deref().and_then(first_frame_location);
    let mut message = format!("Failed to start Worker:\nUncaught {error}");
    if let Some(location) = location {
        message.push_str("\n  at ");
        message.push_str(&location);
    }
    *shared.startup_error.borrow_mut() = Some(ErrorValue {
        name: "Error".into(),
        message,
        stack: error.stack,
    });
}

/// `agent.js:1:26` from the first stack frame that names a guest module.
fn first_frame_location(stack: &str) -> Option<String> {
    stack.lines().find_map(|line| {
        let frame = line.trim().strip_prefix("at ")?;
        let location = match (frame.rfind('('), frame.ends_with(')')) {
            (Some(open), true) => &frame[open + 1..frame.len() - 1],
            _ => frame,
        };
        (!location.starts_with("isola:") && location.contains(':')).then(|| location.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_locations_are_extracted() {
        assert_eq!(
            first_frame_location("    at agent.js:1:26\n").as_deref(),
            Some("agent.js:1:26")
        );
        assert_eq!(
            first_frame_location("    at f (lib/a.js:3:9)\n    at agent.js:1:1\n").as_deref(),
            Some("lib/a.js:3:9")
        );
        assert_eq!(
            first_frame_location("    at start (isola:core:10:2)\n").as_deref(),
            None
        );
    }
}
