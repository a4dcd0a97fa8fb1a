//! Host functions: the only Rust the guest can reach, through the glue.
//!
//! Each one treats its arguments as hostile: types are checked, values are
//! read once into owned data, and nothing here panics or blocks.

use std::rc::Rc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use rquickjs::{Array, Ctx, Exception, Function, Object, TypedArray, Value as JsValue, qjs};

use crate::codec::{self, CloneError};
use crate::handles::HostState;
use crate::isolate::{HostArgs, Shared, clone_error_to_js, read_value};
use crate::modules;
use crate::ops::{
    CallId, CallKind, Effect, HttpRequest, HttpResponse, LogLevel, OpRequest, RedirectMode,
};
use crate::value::{ErrorValue, Value};

/// The largest buffer `crypto.getRandomValues` fills, per the Web Crypto spec.
const RANDOM_VALUES_QUOTA: usize = 65_536;

fn arg<'a, 'js>(args: &'a HostArgs<'js>, i: usize) -> Option<&'a JsValue<'js>> {
    args.0.get(i)
}

fn string_arg(ctx: &Ctx<'_>, args: &HostArgs<'_>, i: usize) -> rquickjs::Result<String> {
    optional_string_arg(args, i)?
        .ok_or_else(|| Exception::throw_type(ctx, "isola: expected a string"))
}

/// A string argument, or `None` when it is not a string (`null`, absent).
fn optional_string_arg(args: &HostArgs<'_>, i: usize) -> rquickjs::Result<Option<String>> {
    arg(args, i)
        .and_then(|v| v.as_string())
        .map(crate::web::js_string)
        .transpose()
}

fn number_arg(args: &HostArgs<'_>, i: usize) -> f64 {
    arg(args, i).and_then(JsValue::as_number).unwrap_or(0.0)
}

/// A body length the glue declares for chunks to follow: a whole number
/// a JS number holds exactly, or `None`.
fn declared_length(value: Option<&JsValue<'_>>) -> Option<u64> {
    let n = value?.as_number()?;
    if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        return Some(n as u64);
    }
    None
}

/// A promise already fulfilled with `value`.
fn resolved<'js>(ctx: &Ctx<'js>, value: JsValue<'js>) -> rquickjs::Result<JsValue<'js>> {
    let (promise, resolve, _) = ctx.promise()?;
    resolve.call::<_, ()>((value,))?;
    Ok(promise.into_value())
}

/// `call`, if the running code acts for it: an I/O object of one call (its
/// streamed request or Response body) is not driven from another call's
/// code, nor from code that acts for none (module scope), as in workerd.
fn own_call(ctx: &Ctx<'_>, call: CallId, io_type: &str) -> rquickjs::Result<CallId> {
    if crate::io_context::current(ctx) == Some(call) {
        return Ok(call);
    }
    Err(different_request(ctx, io_type))
}

/// workerd's error for an I/O object used on behalf of another call.
fn different_request(ctx: &Ctx<'_>, io_type: &str) -> rquickjs::Error {
    Exception::throw_message(
        ctx,
        &format!(
            "Cannot perform I/O on behalf of a different request. I/O objects (such as streams, \
             request/response bodies, and others) created in the context of one request handler \
             cannot be accessed from a different request's handler. (I/O type: {io_type})"
        ),
    )
}

fn id_arg(args: &HostArgs<'_>, i: usize) -> u64 {
    let n = number_arg(args, i);
    if n.is_finite() && n >= 0.0 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        return n as u64;
    }
    0
}

/// Charges `bytes` of host-side copies (made or about to be made by the
/// host call in progress) to the isolate's memory limit until the call
/// returns. Past the limit (or the process budget) the guest is stopped as
/// by any allocation that does not fit.
fn charge(ctx: &Ctx<'_>, shared: &Shared, bytes: usize) -> rquickjs::Result<()> {
    if !shared.memory.admits(bytes) {
        return Err(Exception::throw_range(ctx, "Out of memory"));
    }
    shared.memory.add(bytes);
    shared
        .transient
        .set(shared.transient.get().saturating_add(bytes));
    Ok(())
}

fn bytes_arg(args: &HostArgs<'_>, i: usize) -> Option<Vec<u8>> {
    let view = TypedArray::<u8>::from_value(arg(args, i)?.clone()).ok()?;
    // SAFETY: copied out at once; no guest code runs in between.
    #[allow(unsafe_code)]
    let bytes = unsafe { view.as_bytes() }?.to_vec();
    Some(bytes)
}

/// A host function: the glue's arguments and the isolate's state in, a
/// value (or a thrown exception) out.
type HostFn = for<'js> fn(Ctx<'js>, &Rc<Shared>, HostArgs<'js>) -> rquickjs::Result<JsValue<'js>>;

fn next_id(cell: &std::cell::Cell<u64>) -> u64 {
    let id = cell.get();
    cell.set(id + 1);
    id
}

/// Builds the host dispatcher handed to the glue, and replaces
/// `Math.random` with a per-isolate CSPRNG-seeded generator.
pub(crate) fn install<'js>(ctx: &Ctx<'js>, shared: &Rc<Shared>) -> rquickjs::Result<Function<'js>> {
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

    let s = shared.clone();
    let dispatch = Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>, index: u32, args: HostArgs<'js>| {
            let Some((_, f)) = HOST_TABLE.get(index as usize) else {
                return Err(Exception::throw_type(&ctx, "isola: unknown host function"));
            };
            // Host copies made by this call (not by calls nested in it) are
            // released when it returns.
            let outer = s.transient.replace(0);
            let started = Instant::now();
            let result = f(ctx.clone(), &s, args);
            s.memory.sub(s.transient.replace(outer));
            if host_work_tripped(&s, started.elapsed()) {
                return Err(interrupted(&ctx));
            }
            result
        },
    )?;
    Ok(dispatch)
}

/// The host table: each function by the name the glue knows it by, in
/// index order. The glue calls by index: the `OP` constant of
/// `glue/bindings.js` and `HOST_NAMES` in `glue/extras.js` must match (a
/// unit test checks). Plain functions, not closures: nothing is allocated
/// per isolate for them, and the isolate's state comes in as an argument.
const HOST_TABLE: [(&str, HostFn); 27] = [
    ("op", host_op),
    ("timer", host_timer),
    ("cancelTimer", host_cancel_timer),
    ("log", host_log),
    ("clone", host_clone),
    ("btoa", host_btoa),
    ("atob", host_atob),
    ("getRandomValues", host_get_random_values),
    ("randomUUID", host_random_uuid),
    ("utf8Encode", host_utf8_encode),
    ("utf8Decode", host_utf8_decode),
    ("urlParse", host_url_parse),
    ("urlSet", host_url_set),
    ("formParse", host_form_parse),
    ("formSerialize", host_form_serialize),
    ("loadWeb", host_load_web),
    ("require", host_require),
    ("decoderOpen", host_decoder_open),
    ("decoderDecode", host_decoder_decode),
    ("loadCrypto", host_load_crypto),
    ("subtle", host_subtle),
    ("multipartParse", host_multipart_parse),
    ("loadStreams", host_load_streams),
    ("compressionOpen", host_compression_open),
    ("compressionWrite", host_compression_write),
    ("compressionFinish", host_compression_finish),
    ("compressionClose", host_compression_close),
];

/// `host.op(kind, …)`: an op the host carries out (a binding call, `fetch`, a dynamic worker's load or call, a streamed body's chunk, …), answered later by `Isolate::complete_op`.
fn host_op<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let kind = string_arg(&ctx, &args, 0)?;
    // Stubs exported while reading RPC arguments, released with the op.
    let mut exported = Vec::new();
    let mut read_rpc = |i: usize| -> rquickjs::Result<Value> {
        let Some(v) = arg(&args, i) else {
            return Ok(Value::Undefined);
        };
        let mut reader = crate::codec::Reader::for_rpc(&ctx, s.codec()).watched(s.watchdog.clone());
        let value = reader.read(v);
        exported.append(&mut reader.take_exports());
        value.map_err(|e| clone_error_to_js(&ctx, &e))
    };
    let request = match kind.as_str() {
        "binding" => {
            let binding = string_arg(&ctx, &args, 1)?;
            let method = string_arg(&ctx, &args, 2)?;
            let list = arg(&args, 3)
                .and_then(|v| v.clone().into_array())
                .ok_or_else(|| Exception::throw_type(&ctx, "isola: expected an argument list"))?;
            let mut values = Vec::with_capacity(list.len());
            for item in list.iter::<JsValue>() {
                values.push(read_value(&ctx, s, &item?).map_err(|e| clone_error_to_js(&ctx, &e))?);
            }
            check_size(&ctx, s, values.iter().map(Value::approx_size).sum())?;
            OpRequest::Binding {
                binding,
                method,
                args: values,
            }
        }
        "fetch" => {
            let method = string_arg(&ctx, &args, 1)?;
            let url = string_arg(&ctx, &args, 2)?;
            let headers = header_list(&ctx, arg(&args, 3))?;
            let body = bytes_arg(&args, 4);
            let redirect = arg(&args, 5)
                .and_then(|v| v.as_string())
                .and_then(|s| s.to_string().ok())
                .and_then(|s| RedirectMode::from_name(&s))
                .unwrap_or_default();
            if body.as_ref().is_some_and(|b| b.len() > s.codec().max_bytes) {
                return Err(clone_error_to_js(
                    &ctx,
                    &CloneError::TooLarge(s.codec().max_bytes),
                ));
            }
            OpRequest::Fetch(HttpRequest {
                method,
                url,
                headers,
                body,
                redirect,
            })
        }
        "loadWorker" => {
            let loader = string_arg(&ctx, &args, 1)?;
            let name = optional_string_arg(&args, 2)?;
            let code = match arg(&args, 3) {
                Some(v) if !v.is_undefined() => {
                    let value = read_value(&ctx, s, v).map_err(|e| clone_error_to_js(&ctx, &e))?;
                    let mut code = crate::dynamic::read_code(&value)
                        .map_err(|e| Exception::throw_type(&ctx, e.message()))?;
                    if let Some(services) = arg(&args, 4) {
                        let services = read_value(&ctx, s, services)
                            .map_err(|e| clone_error_to_js(&ctx, &e))?;
                        code.services =
                            crate::dynamic::read_services(&services).ok_or_else(|| {
                                Exception::throw_type(&ctx, "isola: malformed services")
                            })?;
                    }
                    if let Some(links) = arg(&args, 5) {
                        let links =
                            read_value(&ctx, s, links).map_err(|e| clone_error_to_js(&ctx, &e))?;
                        crate::dynamic::read_links(&links, &mut code).ok_or_else(|| {
                            Exception::throw_type(&ctx, "isola: malformed worker links")
                        })?;
                    }
                    Some(Box::new(code))
                }
                _ => None,
            };
            // Handles are the isolate's to choose, so a fresh worker
            // needs no answer before its first call.
            let handle = next_id(&s.next_worker);
            match (name, code) {
                (Some(name), code) => OpRequest::LoadWorker {
                    handle,
                    loader,
                    name,
                    code,
                },
                (None, Some(code)) => {
                    let held = code.approx_size();
                    if !s.memory.admits(held) {
                        return Err(Exception::throw_range(&ctx, "Out of memory"));
                    }
                    s.memory.add(held);
                    s.effect_holds.set(s.effect_holds.get() + held);
                    s.emit(Effect::LoadWorker {
                        handle,
                        loader,
                        code,
                    });
                    #[allow(clippy::cast_precision_loss)]
                    return resolved(&ctx, JsValue::new_number(ctx.clone(), handle as f64));
                }
                (None, None) => {
                    return Err(Exception::throw_type(
                        &ctx,
                        "isola: a fresh worker needs code",
                    ));
                }
            }
        }
        "releaseWorker" => {
            s.emit(Effect::ReleaseWorker {
                handle: id_arg(&args, 1),
            });
            return resolved(&ctx, JsValue::new_undefined(ctx.clone()));
        }
        "callWorker" => {
            let worker = id_arg(&args, 1);
            let entrypoint = optional_string_arg(&args, 2)?;
            let props = read_data(&ctx, s, arg(&args, 3))?;
            let limits = crate::dynamic::read_limits(Some(&read_data(&ctx, s, arg(&args, 4))?))
                .map_err(|e| Exception::throw_type(&ctx, e.message()))?;
            let call = worker_call(&read_rpc(5)?)
                .ok_or_else(|| Exception::throw_type(&ctx, "isola: malformed worker call"))?;
            check_call_size(&ctx, s, props.approx_size(), &call)?;
            OpRequest::CallWorker {
                worker,
                entrypoint,
                props,
                limits,
                call,
            }
        }
        "callService" => {
            let binding = string_arg(&ctx, &args, 1)?;
            let call = worker_call(&read_rpc(2)?)
                .ok_or_else(|| Exception::throw_type(&ctx, "isola: malformed service call"))?;
            check_call_size(&ctx, s, 0, &call)?;
            OpRequest::CallService { binding, call }
        }
        "responseHead" => {
            let call = own_call(&ctx, id_arg(&args, 1), "Response body")?;
            let status = crate::http_head::status(number_arg(&args, 2))
                .map_err(|m| Exception::throw_range(&ctx, &m))?;
            let status_text = string_arg(&ctx, &args, 3)?;
            crate::http_head::reason_phrase(&status_text)
                .map_err(|m| Exception::throw_type(&ctx, &m))?;
            let headers = header_list(&ctx, arg(&args, 4))?;
            let mut head = HttpResponse {
                status,
                status_text,
                headers,
                body: Vec::new(),
            };
            // The whole body, when the Response was made from small
            // bytes; or (a number) the length of big bytes that follow
            // as chunks.
            let body = bytes_arg(&args, 5);
            let length = match &body {
                Some(b) => Some(b.len() as u64),
                None => declared_length(arg(&args, 5)),
            };
            head.body = body.unwrap_or_default();
            OpRequest::ResponseHead { call, head, length }
        }
        "requestChunk" => OpRequest::RequestChunk {
            call: own_call(&ctx, id_arg(&args, 1), "request body")?,
        },
        "responseChunk" => OpRequest::ResponseChunk {
            call: own_call(&ctx, id_arg(&args, 1), "Response body")?,
            bytes: bytes_arg(&args, 2).unwrap_or_default(),
        },
        "callLoopback" => {
            let entrypoint = optional_string_arg(&args, 1)?;
            let props = read_data(&ctx, s, arg(&args, 2))?;
            let call = worker_call(&read_rpc(3)?)
                .ok_or_else(|| Exception::throw_type(&ctx, "isola: malformed loopback call"))?;
            check_call_size(&ctx, s, props.approx_size(), &call)?;
            OpRequest::CallLoopback {
                entrypoint,
                props,
                call,
            }
        }
        "callStub" => {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let owner = arg(&args, 4)
                .and_then(JsValue::as_number)
                .map(|n| n as CallId);
            // A stub whose call has ended is disposed: the host says so.
            let owner_in_flight =
                owner.is_some_and(|call| s.calls_in_flight.borrow().contains(&call));
            if owner_in_flight && crate::io_context::current(&ctx) != owner {
                return Err(different_request(&ctx, "RPC stub"));
            }
            let stub = id_arg(&args, 1);
            let method = optional_string_arg(&args, 2)?;
            let Value::Array(args) = read_rpc(3)? else {
                return Err(Exception::throw_type(
                    &ctx,
                    "isola: expected an argument list",
                ));
            };
            check_size(&ctx, s, args.iter().map(Value::approx_size).sum())?;
            OpRequest::CallStub { stub, method, args }
        }
        _ => return Err(Exception::throw_type(&ctx, "isola: unknown op")),
    };
    // The payload stays on the host until the op is answered: it counts
    // against the memory limit like the heap (a loop of calls with one
    // big argument must not copy it out without bound).
    let held = request.held_bytes();
    if !s.memory.admits(held) {
        return Err(Exception::throw_range(&ctx, "Out of memory"));
    }
    let id = next_id(&s.next_op);
    let (promise, resolve, reject) = ctx.promise()?;
    let call = crate::io_context::current(&ctx);
    if held > 0 {
        s.memory.add(held);
        s.op_holds.borrow_mut().insert(id, held);
    }
    crate::glue::with(&ctx, |g| {
        let mut state = g.state.borrow_mut();
        state.ops.insert(
            id,
            crate::glue::PendingOp {
                resolve,
                reject,
                call,
            },
        );
        if !exported.is_empty() {
            state.op_stubs.insert(id, exported);
        }
    })?;
    s.emit(Effect::Op { id, request });
    Ok(promise.into_value())
}

/// `host.timer(ms, id)`: arms a timer (a fresh id when `id` is 0; an
/// interval re-arms its own) for the call acting now.
fn host_timer<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let delay = number_arg(&args, 0);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let delay_ms = if delay.is_finite() && delay > 0.0 {
        delay.min(2_147_483_647.0) as u64
    } else {
        0
    };
    let existing = id_arg(&args, 1);
    let id = if existing == 0 {
        next_id(&s.next_timer)
    } else {
        existing
    };
    let call = crate::io_context::current(&ctx);
    if !s.timers.borrow_mut().arm(id, delay_ms, call) {
        return Err(Exception::throw_range(
            &ctx,
            &format!(
                "Too many timers alive in this isolate (at most {}).",
                crate::timers::MAX_TIMERS
            ),
        ));
    }
    #[allow(clippy::cast_precision_loss)]
    Ok(JsValue::new_number(ctx, id as f64))
}

/// `host.cancelTimer(id)`.
fn host_cancel_timer<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    s.timers.borrow_mut().cancel(id_arg(&args, 0));
    Ok(JsValue::new_undefined(ctx))
}

/// `host.log(level, message)`: a console line of the call acting now.
fn host_log<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let level = match string_arg(&ctx, &args, 0)?.as_str() {
        "debug" => LogLevel::Debug,
        "info" => LogLevel::Info,
        "warn" => LogLevel::Warn,
        "error" => LogLevel::Error,
        _ => LogLevel::Log,
    };
    s.log(
        level,
        string_arg(&ctx, &args, 1)?,
        crate::io_context::current(&ctx),
    );
    Ok(JsValue::new_undefined(ctx))
}

/// `host.clone(value)`: `structuredClone`, through the codec.
fn host_clone<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let value = arg(&args, 0)
        .cloned()
        .unwrap_or_else(|| JsValue::new_undefined(ctx.clone()));
    let data = read_value(&ctx, s, &value).map_err(|e| clone_error_to_js(&ctx, &e))?;
    codec::write(&ctx, &data)
}

/// `host.btoa(string)`.
fn host_btoa<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let input = string_arg(&ctx, &args, 0)?;
    // The input, its bytes and the encoding.
    charge(&ctx, s, input.len().saturating_mul(4))?;
    let mut bytes = Vec::with_capacity(input.len());
    for c in input.chars() {
        match u8::try_from(u32::from(c)) {
            Ok(b) => bytes.push(b),
            Err(_) => {
                return Err(dom_exception(
                    &ctx,
                    "InvalidCharacterError",
                    "Invalid character",
                ));
            }
        }
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    Ok(rquickjs::String::from_str(ctx, &encoded)?.into_value())
}

/// `host.atob(string)`: forgiving base64.
fn host_atob<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let input = string_arg(&ctx, &args, 0)?;
    // The input, the decoded bytes and their Latin-1 text.
    charge(&ctx, s, input.len().saturating_mul(3))?;
    match forgiving_base64_decode(&input) {
        Some(bytes) => {
            let latin1: String = bytes.into_iter().map(char::from).collect();
            Ok(rquickjs::String::from_str(ctx, &latin1)?.into_value())
        }
        None => Err(dom_exception(
            &ctx,
            "InvalidCharacterError",
            "The string to be decoded is not correctly encoded.",
        )),
    }
}

/// `host.getRandomValues(view)`: fills an integer view from the OS CSPRNG.
fn host_get_random_values<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let target = arg(&args, 0)
        .cloned()
        .unwrap_or_else(|| JsValue::new_undefined(ctx.clone()));
    // SAFETY: `target` is live for this call; the predicate reads its class id.
    #[allow(unsafe_code)]
    let kind = unsafe { qjs::JS_GetTypedArrayType(target.as_raw()) };
    // Integer arrays only: QuickJS numbers Uint8C..BigUint64 as 0..=8;
    // Float16/32/64 (9..=11) and non-views (-1) are refused.
    if !(0..=8).contains(&kind) {
        return Err(dom_exception(
            &ctx,
            "TypeMismatchError",
            "The data argument must be an integer-type TypedArray",
        ));
    }
    let view_parts = crate::glue::extras_fn(&ctx, "viewParts")?;
    let parts: Array = view_parts.call((target.clone(),))?;
    let view: JsValue = parts.get(1)?;
    let view = TypedArray::<u8>::from_value(view)?;
    let Some(raw) = view.as_raw() else {
        return Err(Exception::throw_type(
            &ctx,
            "The array's buffer is detached",
        ));
    };
    if raw.len() > RANDOM_VALUES_QUOTA {
        return Err(dom_exception(
            &ctx,
            "QuotaExceededError",
            &format!(
                "The ArrayBufferView's byte length ({}) exceeds the number of bytes of entropy available via this API ({RANDOM_VALUES_QUOTA})",
                raw.len()
            ),
        ));
    }
    let mut fill = vec![0u8; raw.len()];
    getrandom::fill(&mut fill).map_err(|_| Exception::throw_internal(&ctx, "no OS randomness"))?;
    for chunk in fill.chunks_mut(8) {
        let r = s.next_random().to_le_bytes();
        for (b, x) in chunk.iter_mut().zip(r) {
            *b ^= x;
        }
    }
    // SAFETY: `raw` points at the live bytes of `view`, which `target`
    // keeps alive; no guest code runs while we write, and the length is
    // the view's own.
    #[allow(unsafe_code)]
    unsafe {
        std::ptr::copy_nonoverlapping(fill.as_ptr(), raw.as_ptr().cast::<u8>(), fill.len());
    }
    Ok(target)
}

/// `host.randomUUID()`: a version 4 UUID.
fn host_random_uuid<'js>(
    ctx: Ctx<'js>,
    _s: &Rc<Shared>,
    _args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|_| Exception::throw_internal(&ctx, "no OS randomness"))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    let uuid = format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    Ok(rquickjs::String::from_str(ctx, &uuid)?.into_value())
}

/// `host.utf8Encode(string)`: `TextEncoder`.
fn host_utf8_encode<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let text = arg(&args, 0)
        .and_then(|v| v.as_string())
        .map(crate::web::js_string)
        .transpose()?
        .unwrap_or_default();
    charge(&ctx, s, text.len())?;
    Ok(TypedArray::<u8>::new(ctx, text.into_bytes())?.into_value())
}

/// `host.utf8Decode(bytes, fatal, ignoreBOM)`: one-shot `TextDecoder`.
fn host_utf8_decode<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let bytes = bytes_arg(&args, 0).unwrap_or_default();
    // The bytes and their text (an invalid byte becomes three).
    charge(&ctx, s, bytes.len().saturating_mul(4))?;
    let fatal = arg(&args, 1).and_then(JsValue::as_bool).unwrap_or(false);
    let ignore_bom = arg(&args, 2).and_then(JsValue::as_bool).unwrap_or(false);
    let body = if !ignore_bom && bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        &bytes[3..]
    } else {
        &bytes[..]
    };
    let text = if fatal {
        std::str::from_utf8(body)
            .map_err(|_| {
                Exception::throw_type(&ctx, "The encoded data was not valid for encoding utf-8")
            })?
            .to_owned()
    } else {
        String::from_utf8_lossy(body).into_owned()
    };
    Ok(rquickjs::String::from_str(ctx, &text)?.into_value())
}

/// `host.urlParse(input, base)`: WHATWG URL parsing, the parts as a list.
fn host_url_parse<'js>(
    ctx: Ctx<'js>,
    _s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let input = string_arg(&ctx, &args, 0)?;
    let base = arg(&args, 1)
        .and_then(|v| v.as_string())
        .map(rquickjs::String::to_string)
        .transpose()?;
    match crate::web::parse_url(&input, base.as_deref()) {
        Some(parts) => string_array(&ctx, &parts),
        None => Ok(JsValue::new_null(ctx)),
    }
}

/// `host.urlSet(href, part, value)`: a URL setter, the new parts.
fn host_url_set<'js>(
    ctx: Ctx<'js>,
    _s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let href = string_arg(&ctx, &args, 0)?;
    let part = string_arg(&ctx, &args, 1)?;
    let value = string_arg(&ctx, &args, 2)?;
    match crate::web::set_url_part(&href, &part, &value) {
        Some(parts) => string_array(&ctx, &parts),
        None => Ok(JsValue::new_null(ctx)),
    }
}

/// `host.formParse(string)`: `application/x-www-form-urlencoded` pairs.
fn host_form_parse<'js>(
    ctx: Ctx<'js>,
    _s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let input = string_arg(&ctx, &args, 0)?;
    let list = Array::new(ctx.clone())?;
    for (i, (k, v)) in
        url::form_urlencoded::parse(input.strip_prefix('?').unwrap_or(&input).as_bytes())
            .enumerate()
    {
        let pair = Array::new(ctx.clone())?;
        pair.set(0, k.as_ref())?;
        pair.set(1, v.as_ref())?;
        list.set(i, pair)?;
    }
    Ok(list.into_value())
}

/// `host.formSerialize(pairs)`.
fn host_form_serialize<'js>(
    ctx: Ctx<'js>,
    _s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let list = arg(&args, 0)
        .and_then(|v| v.clone().into_array())
        .ok_or_else(|| Exception::throw_type(&ctx, "isola: expected a list"))?;
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for pair in list.iter::<Array>() {
        let pair = pair?;
        let k: String = pair.get(0)?;
        let v: String = pair.get(1)?;
        out.append_pair(&k, &v);
    }
    Ok(rquickjs::String::from_str(ctx, &out.finish())?.into_value())
}

/// `host.loadWeb(host, extras)`: evaluates the Web API chunk (compiled
/// once per process) for this isolate.
fn host_load_web<'js>(
    ctx: Ctx<'js>,
    _s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    // The caller (extras) caches the result and passes `host` back in: a
    // closure holding it would be a cycle the collector cannot see.
    let factory = crate::bytecode::web(&ctx)?;
    factory.call((arg(&args, 0).cloned(), arg(&args, 1).cloned()))
}

/// `host.require(referrer, specifier)`: a CommonJS `require`.
fn host_require<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let from = string_arg(&ctx, &args, 0)?;
    let specifier = string_arg(&ctx, &args, 1)?;
    let source = s
        .source()
        .ok_or_else(|| Exception::throw_internal(&ctx, "isola: the isolate has no worker"))?;
    modules::require(&ctx, source, &from, &specifier)
}

/// `host.decoderOpen(label, fatal, ignoreBOM)`: a streaming `TextDecoder`, counted against the isolate's decoders.
fn host_decoder_open<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let label = string_arg(&ctx, &args, 0)?;
    let fatal = arg(&args, 1).and_then(JsValue::as_bool).unwrap_or(false);
    let ignore_bom = arg(&args, 2).and_then(JsValue::as_bool).unwrap_or(false);
    let Some(state) = crate::web::TextDecoderState::open(&label, fatal, ignore_bom) else {
        return Ok(JsValue::new_null(ctx));
    };
    let name = state.name();
    let handle =
        crate::handles::open(&ctx, &s.decoders, HostState::Decoder(state))?.ok_or_else(|| {
            Exception::throw_range(&ctx, "Too many TextDecoders alive in this isolate.")
        })?;
    let pair = Array::new(ctx.clone())?;
    pair.set(0, handle)?;
    pair.set(1, name)?;
    Ok(pair.into_value())
}

/// `host.decoderDecode(handle, bytes, stream)`.
fn host_decoder_decode<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let bytes = bytes_arg(&args, 1).unwrap_or_default();
    charge(&ctx, s, bytes.len().saturating_mul(4))?;
    let stream = arg(&args, 2).and_then(JsValue::as_bool).unwrap_or(false);
    let decoded = crate::handles::with(arg(&args, 0), |state| match state {
        HostState::Decoder(decoder) => Some(decoder.decode(&bytes, stream)),
        HostState::Codec(_) => None,
    })
    .flatten()
    .ok_or_else(|| Exception::throw_type(&ctx, "Illegal invocation"))?;
    match decoded {
        Ok(text) => Ok(rquickjs::String::from_str(ctx, &text)?.into_value()),
        Err(()) => Err(Exception::throw_type(
            &ctx,
            "The encoded data was not valid for encoding",
        )),
    }
}

/// `host.loadCrypto(host)`: evaluates the Web Crypto chunk.
fn host_load_crypto<'js>(
    ctx: Ctx<'js>,
    _s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let factory = crate::bytecode::crypto(&ctx)?;
    factory.call((arg(&args, 0).cloned(),))
}

/// `host.subtle(operation, …)`: one `crypto.subtle` operation, run by `isola-webcrypto`.
fn host_subtle<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let op = string_arg(&ctx, &args, 0)?;
    let params = arg(&args, 1)
        .cloned()
        .unwrap_or_else(|| JsValue::new_undefined(ctx.clone()));
    let params = read_value(&ctx, s, &params).map_err(|e| clone_error_to_js(&ctx, &e))?;
    // Long operations look at the limits between units of work; when
    // one fired, the dispatcher turns the result into the stop.
    let interrupt = || s.watchdog.poll();
    match crate::subtle::run(&op, params, &interrupt) {
        Ok(value) => codec::write(&ctx, &value),
        Err(e) if e.name == "TypeError" => Err(Exception::throw_type(&ctx, &e.message)),
        Err(e) => Err(dom_exception(&ctx, e.name, &e.message)),
    }
}

/// `host.multipartParse(bytes, contentType)`: a `multipart/form-data` body's parts.
fn host_multipart_parse<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let body = bytes_arg(&args, 0).unwrap_or_default();
    // The body and its parts.
    charge(&ctx, s, body.len().saturating_mul(2))?;
    let content_type = string_arg(&ctx, &args, 1)?;
    let parts = crate::multipart::boundary(&content_type)
        .and_then(|boundary| crate::multipart::parse(&body, &boundary));
    let Some(parts) = parts else {
        return Ok(JsValue::new_null(ctx));
    };
    let list = Array::new(ctx.clone())?;
    for (i, part) in parts.into_iter().enumerate() {
        let entry = Array::new(ctx.clone())?;
        entry.set(0, part.name)?;
        match part.filename {
            Some(filename) => {
                entry.set(1, TypedArray::<u8>::new(ctx.clone(), part.body)?)?;
                entry.set(2, filename)?;
                entry.set(3, part.content_type)?;
            }
            None => entry.set(1, String::from_utf8_lossy(&part.body).into_owned())?,
        }
        list.set(i, entry)?;
    }
    Ok(list.into_value())
}

/// `host.loadStreams(host, extras)`: evaluates the Streams chunk.
fn host_load_streams<'js>(
    ctx: Ctx<'js>,
    _s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let factory = crate::bytecode::streams(&ctx)?;
    factory.call((arg(&args, 0).cloned(), arg(&args, 1).cloned()))
}

/// `host.compressionOpen(format, compress)`: a `CompressionStream` or
/// `DecompressionStream` codec, counted against the isolate's codecs.
fn host_compression_open<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let format = string_arg(&ctx, &args, 0)?;
    let compress = arg(&args, 1).and_then(JsValue::as_bool).unwrap_or(false);
    let Some(format) = crate::compression::Format::parse(&format) else {
        return Err(Exception::throw_type(
            &ctx,
            &format!("Unsupported compression format: '{format}'"),
        ));
    };
    let cap = crate::compression::decompressed_cap(s.memory.limit());
    let state = crate::compression::CodecState::new(format, compress, cap);
    crate::handles::open(&ctx, &s.codecs, HostState::Codec(state))?.ok_or_else(|| {
        Exception::throw_range(
            &ctx,
            "Too many open CompressionStreams and DecompressionStreams in this isolate.",
        )
    })
}

/// `host.compressionWrite(handle, bytes)`: the output so far.
fn host_compression_write<'js>(
    ctx: Ctx<'js>,
    _s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let chunk = arg(&args, 1).is_some_and(|v| !v.is_undefined());
    let bytes = if chunk { bytes_arg(&args, 1) } else { None };
    codec_pull(&ctx, arg(&args, 0), bytes, false)
}

/// `host.compressionFinish(handle)`: the last output.
fn host_compression_finish<'js>(
    ctx: Ctx<'js>,
    _s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    codec_pull(&ctx, arg(&args, 0), None, true)
}

/// `host.compressionClose(handle)`.
fn host_compression_close<'js>(
    ctx: Ctx<'js>,
    _s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    crate::handles::close(arg(&args, 0));
    Ok(JsValue::new_undefined(ctx))
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

/// Stops the guest as the engine's interrupt does: an error no guest
/// `catch` or `finally` sees (the watchdog holds the limit that fired).
pub(crate) fn interrupted(ctx: &Ctx<'_>) -> rquickjs::Error {
    let Ok(error) = Exception::from_message(ctx.clone(), "interrupted") else {
        return rquickjs::Error::Exception;
    };
    // SAFETY: `error` is a live object of this context; the call sets a flag
    // on it and takes no ownership of the value.
    #[allow(unsafe_code)]
    unsafe {
        qjs::JS_SetUncatchableError(ctx.as_raw().as_ptr(), error.as_raw());
    }
    ctx.throw(error.into_value())
}

/// Feeds `bytes` (if any) to a compression state and returns its next
/// output slice, or null when it has none; the state is freed when it
/// fails or, with `finish`, has nothing more.
fn codec_pull<'js>(
    ctx: &Ctx<'js>,
    handle: Option<&JsValue<'js>>,
    bytes: Option<Vec<u8>>,
    finish: bool,
) -> rquickjs::Result<JsValue<'js>> {
    let result = crate::handles::with(handle, |state| match state {
        HostState::Codec(codec) => {
            if let Some(bytes) = bytes {
                codec.push(&bytes);
            }
            Some(codec.pull(finish))
        }
        HostState::Decoder(_) => None,
    })
    .flatten()
    .ok_or_else(|| Exception::throw_type(ctx, "The stream is closed"))?;
    if result.is_err() || (finish && matches!(result, Ok(None))) {
        crate::handles::close(handle);
    }
    match result {
        Ok(Some(out)) => Ok(TypedArray::<u8>::new(ctx.clone(), out)?.into_value()),
        Ok(None) => Ok(JsValue::new_null(ctx.clone())),
        Err(message) => Err(Exception::throw_type(ctx, &message)),
    }
}

fn string_array<'js>(ctx: &Ctx<'js>, parts: &[String]) -> rquickjs::Result<JsValue<'js>> {
    let array = Array::new(ctx.clone())?;
    for (i, p) in parts.iter().enumerate() {
        array.set(i, p.as_str())?;
    }
    Ok(array.into_value())
}

fn dom_exception(ctx: &Ctx<'_>, name: &str, message: &str) -> rquickjs::Error {
    let thrown = (|| -> rquickjs::Result<rquickjs::Error> {
        let e = codec::error_to_js(ctx, &ErrorValue::new(name, message))?;
        Ok(ctx.throw(e))
    })();
    thrown.unwrap_or_else(|e| e)
}

fn header_list(
    ctx: &Ctx<'_>,
    value: Option<&JsValue<'_>>,
) -> rquickjs::Result<Vec<(String, String)>> {
    let Some(list) = value.and_then(|v| v.clone().into_array()) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(list.len());
    for pair in list.iter::<Array>() {
        let pair = pair?;
        let name: String = pair.get(0)?;
        let value: String = pair.get(1)?;
        crate::http_head::header_name(&name)
            .and_then(|()| crate::http_head::header_value(&value))
            .map_err(|m| Exception::throw_type(ctx, &m))?;
        out.push((name.to_ascii_lowercase(), value));
    }
    Ok(out)
}

/// `(url, method, headers, body)` for the glue to build a Request from.
pub(crate) fn request_parts<'js>(
    ctx: &Ctx<'js>,
    request: &HttpRequest,
) -> rquickjs::Result<(String, String, Array<'js>, JsValue<'js>)> {
    let headers = Array::new(ctx.clone())?;
    for (i, (k, v)) in request.headers.iter().enumerate() {
        let pair = Array::new(ctx.clone())?;
        pair.set(0, k.as_str())?;
        pair.set(1, v.as_str())?;
        headers.set(i, pair)?;
    }
    let body = match &request.body {
        Some(body) if request.method != "GET" && request.method != "HEAD" => {
            TypedArray::<u8>::new_copy(ctx.clone(), body)?.into_value()
        }
        _ => JsValue::new_undefined(ctx.clone()),
    };
    Ok((request.url.clone(), request.method.clone(), headers, body))
}

pub(crate) fn response_to_js<'js>(
    ctx: &Ctx<'js>,
    response: &HttpResponse,
) -> rquickjs::Result<JsValue<'js>> {
    let web = crate::glue::web(ctx)?;
    let make: Function = web.get("makeResponse")?;
    let headers = Array::new(ctx.clone())?;
    for (i, (k, v)) in response.headers.iter().enumerate() {
        let pair = Array::new(ctx.clone())?;
        pair.set(0, k.as_str())?;
        pair.set(1, v.as_str())?;
        headers.set(i, pair)?;
    }
    let body = TypedArray::<u8>::new_copy(ctx.clone(), &response.body)?;
    make.call((
        response.status,
        response.status_text.as_str(),
        headers,
        body,
        "",
    ))
}

/// A plain-data argument (no stubs), `undefined` when absent.
fn read_data<'js>(
    ctx: &Ctx<'js>,
    shared: &Shared,
    value: Option<&JsValue<'js>>,
) -> rquickjs::Result<Value> {
    match value {
        Some(v) => read_value(ctx, shared, v).map_err(|e| clone_error_to_js(ctx, &e)),
        None => Ok(Value::Undefined),
    }
}

/// Refuses a call whose arguments or body exceed the codec's size limit.
fn check_call_size(
    ctx: &Ctx<'_>,
    shared: &Shared,
    extra: usize,
    call: &CallKind,
) -> rquickjs::Result<()> {
    let size = extra
        + match call {
            CallKind::Rpc { args, .. } | CallKind::Stub { args, .. } => {
                args.iter().map(Value::approx_size).sum()
            }
            CallKind::Fetch(r) => r.body.as_ref().map_or(0, Vec::len),
        };
    check_size(ctx, shared, size)
}

/// Refuses `size` bytes of values leaving the isolate when over the
/// codec's limit.
fn check_size(ctx: &Ctx<'_>, shared: &Shared, size: usize) -> rquickjs::Result<()> {
    let limit = shared.codec().max_bytes;
    if size > limit {
        return Err(clone_error_to_js(ctx, &CloneError::TooLarge(limit)));
    }
    Ok(())
}

/// A call descriptor from the loader glue: `["rpc", method, args]` or
/// `["fetch", method, url, [[name, value]...], body?]`.
fn worker_call(value: &Value) -> Option<CallKind> {
    let Value::Array(items) = value else {
        return None;
    };
    let text = |i: usize| match items.get(i) {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    match text(0)?.as_str() {
        "rpc" => {
            let Some(Value::Array(args)) = items.get(2) else {
                return None;
            };
            Some(CallKind::Rpc {
                method: text(1)?,
                args: args.clone(),
            })
        }
        "fetch" => {
            let Some(Value::Array(pairs)) = items.get(3) else {
                return None;
            };
            let mut headers = Vec::with_capacity(pairs.len());
            for pair in pairs {
                let Value::Array(pair) = pair else {
                    return None;
                };
                match (pair.first(), pair.get(1)) {
                    (Some(Value::String(k)), Some(Value::String(v))) => {
                        headers.push((k.to_ascii_lowercase(), v.clone()));
                    }
                    _ => return None,
                }
            }
            let body = match items.get(4) {
                Some(Value::TypedArray { bytes, .. } | Value::ArrayBuffer(bytes)) => {
                    Some(bytes.clone())
                }
                _ => None,
            };
            Some(CallKind::Fetch(HttpRequest {
                method: text(1)?,
                url: text(2)?,
                headers,
                body,
                ..HttpRequest::default()
            }))
        }
        _ => None,
    }
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
        Some(other) => ErrorValue::new("Error", crate::web::describe(&other)),
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

/// WHATWG "forgiving-base64 decode".
fn forgiving_base64_decode(input: &str) -> Option<Vec<u8>> {
    let mut data: String = input
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\x0C' | '\r' | ' '))
        .collect();
    if data.len().is_multiple_of(4) {
        if data.ends_with("==") {
            data.truncate(data.len() - 2);
        } else if data.ends_with('=') {
            data.truncate(data.len() - 1);
        }
    }
    if data.len() % 4 == 1
        || !data
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
    {
        return None;
    }
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(data.as_bytes())
        .ok()
        .or_else(|| {
            // Non-zero trailing bits are allowed by the spec; mask them.
            let engine = base64::engine::GeneralPurpose::new(
                &base64::alphabet::STANDARD,
                base64::engine::GeneralPurposeConfig::new()
                    .with_decode_allow_trailing_bits(true)
                    .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone),
            );
            engine.decode(data.as_bytes()).ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glue_host_indices_match_the_host_table() {
        let extras = include_str!("glue/extras.js");
        let start = extras
            .find("const HOST_NAMES = [")
            .expect("HOST_NAMES in extras.js");
        let list = &extras[start..];
        let list = &list[list.find('[').expect("[") + 1..list.find("];").expect("];")];
        let names: Vec<&str> = list
            .split(',')
            .map(|n| n.trim().trim_matches('"'))
            .filter(|n| !n.is_empty())
            .collect();
        let table: Vec<&str> = HOST_TABLE.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, table);
        assert_eq!(HOST_TABLE[0].0, "op");
        assert!(include_str!("glue/bindings.js").contains("const OP = 0;"));
    }

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
            first_frame_location("    at start (isola:extras:10:2)\n").as_deref(),
            None
        );
    }

    #[test]
    fn base64_is_forgiving_as_the_spec_says() {
        assert_eq!(
            forgiving_base64_decode(" aGk= ").as_deref(),
            Some(&b"hi"[..])
        );
        assert_eq!(forgiving_base64_decode("aGk").as_deref(), Some(&b"hi"[..]));
        assert_eq!(forgiving_base64_decode("a"), None);
        assert_eq!(forgiving_base64_decode("aG=k"), None);
    }
}
