//! The host functions of the Workers runtime itself: ops the host carries
//! out (bindings, `fetch`, dynamic workers, streamed bodies), timers,
//! console lines, `structuredClone` and CommonJS `require`.

use rquickjs::{Array, Ctx, Exception, Function, TypedArray, Value as JsValue};

use crate::codec::{self, CloneError};
use crate::codec::{clone_error_to_js, read_value};
use crate::host_call::HostCall;
use crate::modules;
use crate::ops::{
    CallId, CallKind, Effect, HttpRequest, HttpResponse, LogLevel, OpRequest, RedirectMode,
};
use crate::shared::Shared;
use crate::value::Value;

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

fn next_id(cell: &std::cell::Cell<u64>) -> u64 {
    let id = cell.get();
    cell.set(id + 1);
    id
}

/// `host.op(kind, …)`: an op the host carries out (a binding call, `fetch`, a dynamic worker's load or call, a streamed body's chunk, …), answered later by `Isolate::complete_op`.
pub(crate) fn op<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx().clone();
    let s = host.shared;
    let kind = host.string(0)?;
    // Stubs exported while reading RPC arguments, released with the op.
    let mut exported = Vec::new();
    let mut read_rpc = |i: usize| -> rquickjs::Result<Value> {
        let Some(v) = host.arg(i) else {
            return Ok(Value::Undefined);
        };
        let mut reader = crate::codec::Reader::for_rpc(&ctx, s.codec()).watched(s.watchdog.clone());
        let value = reader.read(v);
        exported.append(&mut reader.take_exports());
        value.map_err(|e| clone_error_to_js(&ctx, &e))
    };
    let request = match kind.as_str() {
        "binding" => {
            let binding = host.string(1)?;
            let method = host.string(2)?;
            let list = host
                .arg(3)
                .and_then(|v| v.clone().into_array())
                .ok_or_else(|| Exception::throw_type(&ctx, "isola: expected an argument list"))?;
            let mut values = Vec::with_capacity(list.len());
            for item in list.iter::<JsValue>() {
                values.push(read_value(&ctx, s, &item?).map_err(|e| clone_error_to_js(&ctx, &e))?);
            }
            host.check_size(values.iter().map(Value::approx_size).sum())?;
            OpRequest::Binding {
                binding,
                method,
                args: values,
            }
        }
        "fetch" => {
            let method = host.string(1)?;
            let url = host.string(2)?;
            let headers = header_list(&ctx, host.arg(3))?;
            let body = host.bytes(4);
            let redirect = host
                .arg(5)
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
            let loader = host.string(1)?;
            let name = host.optional_string(2)?;
            let code = match host.arg(3) {
                Some(v) if !v.is_undefined() => {
                    let value = read_value(&ctx, s, v).map_err(|e| clone_error_to_js(&ctx, &e))?;
                    let mut code = crate::workers::dynamic::read_code(&value)
                        .map_err(|e| Exception::throw_type(&ctx, e.message()))?;
                    if let Some(services) = host.arg(4) {
                        let services = read_value(&ctx, s, services)
                            .map_err(|e| clone_error_to_js(&ctx, &e))?;
                        code.services = crate::workers::dynamic::read_services(&services)
                            .ok_or_else(|| {
                                Exception::throw_type(&ctx, "isola: malformed services")
                            })?;
                    }
                    if let Some(links) = host.arg(5) {
                        let links =
                            read_value(&ctx, s, links).map_err(|e| clone_error_to_js(&ctx, &e))?;
                        crate::workers::dynamic::read_links(&links, &mut code).ok_or_else(
                            || Exception::throw_type(&ctx, "isola: malformed worker links"),
                        )?;
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
            s.emit(Effect::ReleaseWorker { handle: host.id(1) });
            return resolved(&ctx, JsValue::new_undefined(ctx.clone()));
        }
        "callWorker" => {
            let worker = host.id(1);
            let entrypoint = host.optional_string(2)?;
            let props = read_data(&ctx, s, host.arg(3))?;
            let limits =
                crate::workers::dynamic::read_limits(Some(&read_data(&ctx, s, host.arg(4))?))
                    .map_err(|e| Exception::throw_type(&ctx, e.message()))?;
            let call = worker_call(&read_rpc(5)?)
                .ok_or_else(|| Exception::throw_type(&ctx, "isola: malformed worker call"))?;
            check_call_size(host, props.approx_size(), &call)?;
            OpRequest::CallWorker {
                worker,
                entrypoint,
                props,
                limits,
                call,
            }
        }
        "callService" => {
            let binding = host.string(1)?;
            let call = worker_call(&read_rpc(2)?)
                .ok_or_else(|| Exception::throw_type(&ctx, "isola: malformed service call"))?;
            check_call_size(host, 0, &call)?;
            OpRequest::CallService { binding, call }
        }
        "responseHead" => {
            let call = own_call(&ctx, host.id(1), "Response body")?;
            let status = crate::http_head::status(host.number(2))
                .map_err(|m| Exception::throw_range(&ctx, &m))?;
            let status_text = host.string(3)?;
            crate::http_head::reason_phrase(&status_text)
                .map_err(|m| Exception::throw_type(&ctx, &m))?;
            let headers = header_list(&ctx, host.arg(4))?;
            let mut head = HttpResponse {
                status,
                status_text,
                headers,
                body: Vec::new(),
            };
            // The whole body, when the Response was made from small
            // bytes; or (a number) the length of big bytes that follow
            // as chunks.
            let body = host.bytes(5);
            let length = match &body {
                Some(b) => Some(b.len() as u64),
                None => declared_length(host.arg(5)),
            };
            head.body = body.unwrap_or_default();
            OpRequest::ResponseHead { call, head, length }
        }
        "requestChunk" => OpRequest::RequestChunk {
            call: own_call(&ctx, host.id(1), "request body")?,
        },
        "responseChunk" => OpRequest::ResponseChunk {
            call: own_call(&ctx, host.id(1), "Response body")?,
            bytes: host.bytes(2).unwrap_or_default(),
        },
        "callLoopback" => {
            let entrypoint = host.optional_string(1)?;
            let props = read_data(&ctx, s, host.arg(2))?;
            let call = worker_call(&read_rpc(3)?)
                .ok_or_else(|| Exception::throw_type(&ctx, "isola: malformed loopback call"))?;
            check_call_size(host, props.approx_size(), &call)?;
            OpRequest::CallLoopback {
                entrypoint,
                props,
                call,
            }
        }
        "callStub" => {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let owner = host
                .arg(4)
                .and_then(JsValue::as_number)
                .map(|n| n as CallId);
            // A stub whose call has ended is disposed: the host says so.
            let owner_in_flight =
                owner.is_some_and(|call| s.calls_in_flight.borrow().contains(&call));
            if owner_in_flight && crate::io_context::current(&ctx) != owner {
                return Err(different_request(&ctx, "RPC stub"));
            }
            let stub = host.id(1);
            let method = host.optional_string(2)?;
            let Value::Array(args) = read_rpc(3)? else {
                return Err(Exception::throw_type(
                    &ctx,
                    "isola: expected an argument list",
                ));
            };
            host.check_size(args.iter().map(Value::approx_size).sum())?;
            OpRequest::CallStub { stub, method, args }
        }
        _ => return Err(Exception::throw_type(&ctx, "isola: unknown op")),
    };
    issue(host, request, exported)
}

/// Issues `request` as an op of the call acting now: its payload charged
/// until it is answered, its promise returned (settled by
/// `Isolate::complete_op`), and `exported` stubs released with it.
pub(crate) fn issue<'js>(
    host: &HostCall<'_, 'js>,
    request: OpRequest,
    exported: Vec<u64>,
) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx();
    let s = host.shared;
    // The payload stays on the host until the op is answered: it counts
    // against the memory limit like the heap (a loop of calls with one
    // big argument must not copy it out without bound).
    let held = request.held_bytes();
    if !s.memory.admits(held) {
        return Err(Exception::throw_range(ctx, "Out of memory"));
    }
    let id = next_id(&s.next_op);
    let (promise, resolve, reject) = ctx.promise()?;
    let call = crate::io_context::current(ctx);
    if held > 0 {
        s.memory.add(held);
        s.op_holds.borrow_mut().insert(id, held);
    }
    crate::glue::with(ctx, |g| {
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
pub(crate) fn timer<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx().clone();
    let s = host.shared;
    let delay = host.number(0);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let delay_ms = if delay.is_finite() && delay > 0.0 {
        delay.min(2_147_483_647.0) as u64
    } else {
        0
    };
    let existing = host.id(1);
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
pub(crate) fn cancel_timer<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx().clone();
    let s = host.shared;
    s.timers.borrow_mut().cancel(host.id(0));
    Ok(JsValue::new_undefined(ctx))
}

/// `host.log(level, message)`: a console line of the call acting now.
pub(crate) fn log<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx().clone();
    let s = host.shared;
    let level = match host.string(0)?.as_str() {
        "debug" => LogLevel::Debug,
        "info" => LogLevel::Info,
        "warn" => LogLevel::Warn,
        "error" => LogLevel::Error,
        _ => LogLevel::Log,
    };
    s.log(level, host.string(1)?, crate::io_context::current(&ctx));
    Ok(JsValue::new_undefined(ctx))
}

/// `host.clone(value)`: `structuredClone`, through the codec.
pub(crate) fn clone<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx().clone();
    let s = host.shared;
    let value = host
        .arg(0)
        .cloned()
        .unwrap_or_else(|| JsValue::new_undefined(ctx.clone()));
    let data = read_value(&ctx, s, &value).map_err(|e| clone_error_to_js(&ctx, &e))?;
    codec::write(&ctx, &data)
}

/// `host.require(referrer, specifier)`: a CommonJS `require`.
pub(crate) fn require<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx().clone();
    let s = host.shared;
    let from = host.string(0)?;
    let specifier = host.string(1)?;
    let source = s
        .source()
        .ok_or_else(|| Exception::throw_internal(&ctx, "isola: the isolate has no worker"))?;
    modules::require(&ctx, source, &from, &specifier)
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
    let make: Function = crate::glue::fetch_fn(ctx, "makeResponse")?;
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
fn check_call_size(host: &HostCall<'_, '_>, extra: usize, call: &CallKind) -> rquickjs::Result<()> {
    let size = extra
        + match call {
            CallKind::Rpc { args, .. } | CallKind::Stub { args, .. } => {
                args.iter().map(Value::approx_size).sum()
            }
            CallKind::Fetch(r) => r.body.as_ref().map_or(0, Vec::len),
        };
    host.check_size(size)
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
