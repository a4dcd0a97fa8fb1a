//! Entrypoint dispatch, in Rust: finding the export and method the way
//! workerd does (with its messages), calling it with `(arg, env, ctx)` or
//! on a `WorkerEntrypoint` instance, and following the returned promise,
//! the `fetch` response and `ctx.waitUntil` work to their ends.
//!
//! Promises are followed by polling their state after each drain of the job
//! queue, never through `then`, so a guest that patches
//! `Promise.prototype.then` changes nothing here.

use rquickjs::function::{Args, This};
use rquickjs::{Ctx, Function, Object, Promise, Value as JsValue, qjs};

use crate::call_state::{Call, Stage};
use crate::codec::read_value;
use crate::codec::{self, CloneError};
use crate::glue;
use crate::host;
use crate::ops::{CallId, CallKind, CallResult, CallSpec, Effect, HttpResponse};
use crate::shared::Shared;
use crate::value::ErrorValue;

const RESERVED: [&str; 8] = [
    "fetch",
    "connect",
    "alarm",
    "webSocketMessage",
    "webSocketClose",
    "webSocketError",
    "dup",
    "constructor",
];

/// Starts a call (or queues it until the main module is ready).
pub(crate) fn start<'js>(ctx: &Ctx<'js>, shared: &Shared, spec: CallSpec) -> rquickjs::Result<()> {
    let id = spec.id;
    let stream = spec.stream;
    let ready = glue::with(ctx, |g| g.state.borrow().namespace.clone())?;
    let stage = match ready {
        None => Stage::Starting(spec),
        Some(namespace) => match begin(ctx, shared, &namespace, spec)? {
            Some(stage) => stage,
            None => Stage::Draining,
        },
    };
    glue::with(ctx, |g| {
        g.state.borrow_mut().calls.push(Call { id, stream, stage })
    })
}

/// Advances calls whose promises settled. Returns whether anything moved
/// (new jobs may then be queued).
pub(crate) fn poll<'js>(ctx: &Ctx<'js>, shared: &Shared) -> rquickjs::Result<bool> {
    let mut progressed = poll_main(ctx, shared)?;
    let calls = glue::with(ctx, |g| std::mem::take(&mut g.state.borrow_mut().calls))?;
    let namespace = glue::with(ctx, |g| g.state.borrow().namespace.clone())?;
    let mut kept = Vec::with_capacity(calls.len());
    for mut call in calls {
        let stage = std::mem::replace(&mut call.stage, Stage::Draining);
        let next = match stage {
            Stage::Starting(spec) => {
                if let Some(error) = shared.startup_error.borrow().clone() {
                    settle(shared, call.id, CallResult::StartupFailed(error));
                    progressed = true;
                    Some(Stage::Draining)
                } else if let Some(ns) = &namespace {
                    progressed = true;
                    Some(begin(ctx, shared, ns, spec)?.unwrap_or(Stage::Draining))
                } else {
                    Some(Stage::Starting(spec))
                }
            }
            Stage::Running { result, fetch } => match result.result::<JsValue>() {
                None => Some(Stage::Running { result, fetch }),
                Some(outcome) => {
                    progressed = true;
                    match outcome {
                        Ok(value) if fetch => {
                            Some(respond(ctx, shared, call.id, call.stream, value)?)
                        }
                        Ok(value) => {
                            settle_value(ctx, shared, call.id, &value);
                            Some(Stage::Draining)
                        }
                        Err(_) => {
                            settle_thrown(ctx, shared, call.id);
                            Some(Stage::Draining)
                        }
                    }
                }
            },
            Stage::Responding(parts, streamed) => match parts.result::<Object>() {
                None => Some(Stage::Responding(parts, streamed)),
                Some(outcome) => {
                    progressed = true;
                    match outcome.and_then(|parts| response(shared, &parts, !streamed)) {
                        Ok(result) => settle(shared, call.id, result),
                        Err(_) => settle_thrown(ctx, shared, call.id),
                    }
                    Some(Stage::Draining)
                }
            },
            Stage::Streaming(done) => match done.result::<JsValue>() {
                None => Some(Stage::Streaming(done)),
                Some(outcome) => {
                    progressed = true;
                    match outcome {
                        Ok(_) => settle(shared, call.id, CallResult::Streamed),
                        Err(_) => settle_thrown(ctx, shared, call.id),
                    }
                    Some(Stage::Draining)
                }
            },
            Stage::Draining => {
                let waits_done = glue::with(ctx, |g| {
                    let state = g.state.borrow();
                    state.waits.get(&call.id).is_none_or(|waits| {
                        waits
                            .iter()
                            .all(|p| !matches!(p.state(), rquickjs::promise::PromiseState::Pending))
                    })
                })?;
                if waits_done {
                    glue::with(ctx, |g| g.state.borrow_mut().waits.remove(&call.id))?;
                    shared.emit(Effect::CallFinished { call: call.id });
                    progressed = true;
                    None
                } else {
                    Some(Stage::Draining)
                }
            }
        };
        if let Some(stage) = next {
            call.stage = stage;
            kept.push(call);
        }
    }
    // Calls started while polling (none today) were pushed to the emptied list.
    glue::with(ctx, |g| {
        let mut state = g.state.borrow_mut();
        kept.append(&mut state.calls);
        state.calls = kept;
    })?;
    Ok(progressed)
}

/// Records the main module's namespace, or its failure, once it settles.
fn poll_main<'js>(ctx: &Ctx<'js>, shared: &Shared) -> rquickjs::Result<bool> {
    let main = glue::with(ctx, |g| {
        let state = g.state.borrow();
        if state.namespace.is_some() {
            None
        } else {
            state.main.clone()
        }
    })?;
    let Some(main) = main else { return Ok(false) };
    match main.result::<Object>() {
        None => Ok(false),
        Some(Ok(namespace)) => {
            glue::with(ctx, |g| g.state.borrow_mut().namespace = Some(namespace))?;
            Ok(true)
        }
        Some(Err(_)) => {
            let reason = ctx.catch();
            if shared.startup_error.borrow().is_none() {
                host::record_startup_error(ctx, shared, &reason);
            }
            glue::with(ctx, |g| g.state.borrow_mut().main = None)?;
            Ok(true)
        }
    }
}

/// Finds and calls the entrypoint method. `None` means the call already
/// settled (synchronously).
fn begin<'js>(
    ctx: &Ctx<'js>,
    shared: &Shared,
    namespace: &Object<'js>,
    spec: CallSpec,
) -> rquickjs::Result<Option<Stage<'js>>> {
    // The handler, and every reaction it registers, acts for this call.
    crate::io_context::run_as(ctx, Some(spec.id), || {
        begin_as(ctx, shared, namespace, spec)
    })
}

fn begin_as<'js>(
    ctx: &Ctx<'js>,
    shared: &Shared,
    namespace: &Object<'js>,
    spec: CallSpec,
) -> rquickjs::Result<Option<Stage<'js>>> {
    let id = spec.id;
    let spec_stream = spec.stream;
    match invoke(ctx, namespace, spec) {
        Ok((value, fetch)) => {
            if let Some(promise) = value.as_promise() {
                return Ok(Some(Stage::Running {
                    result: promise.clone(),
                    fetch,
                }));
            }
            if is_thenable(&value)? {
                let (ctor, resolve) =
                    glue::with(ctx, |g| (g.promise_ctor.clone(), g.promise_resolve.clone()))?;
                let promise: Promise = resolve.call((This(ctor), value))?;
                return Ok(Some(Stage::Running {
                    result: promise,
                    fetch,
                }));
            }
            if fetch {
                return respond(ctx, shared, id, spec_stream, value).map(Some);
            }
            settle_value(ctx, shared, id, &value);
            Ok(None)
        }
        Err(Failure::Guest(error)) => {
            settle(shared, id, CallResult::Threw(error));
            Ok(None)
        }
        Err(Failure::Thrown) => {
            settle_thrown(ctx, shared, id);
            Ok(None)
        }
    }
}

enum Failure {
    /// An error isola reports on the guest's behalf (workerd's messages).
    Guest(ErrorValue),
    /// An exception is pending in the context.
    Thrown,
}

impl From<rquickjs::Error> for Failure {
    fn from(error: rquickjs::Error) -> Self {
        match error {
            rquickjs::Error::Exception => Failure::Thrown,
            other => Failure::Guest(ErrorValue::new("Error", other.to_string())),
        }
    }
}

fn type_error(message: String) -> Failure {
    Failure::Guest(ErrorValue::new("TypeError", message))
}

/// Calls the method; returns its result and whether this is a fetch.
fn invoke<'js>(
    ctx: &Ctx<'js>,
    namespace: &Object<'js>,
    spec: CallSpec,
) -> Result<(JsValue<'js>, bool), Failure> {
    if let CallKind::Stub { stub, method, args } = spec.kind {
        return invoke_stub(ctx, stub, method.as_deref(), &args).map(|value| (value, false));
    }
    let name = spec.entrypoint.as_deref().unwrap_or("default");
    if !namespace.contains_key(name)? {
        let message = match &spec.entrypoint {
            None => "Worker has no default entrypoint.".to_owned(),
            Some(name) => format!("Worker has no such entrypoint: {name}"),
        };
        return Err(Failure::Guest(ErrorValue::new("Error", message)));
    }
    let exported: JsValue = namespace.get(name)?;
    let env = glue::with(ctx, |g| g.env.clone())?;
    let props = codec::write(ctx, &spec.props)?;
    let context = make_ctx(ctx, spec.id, props)?;
    let (fetch, request, method, mut args) = match spec.kind {
        CallKind::Fetch(request) => {
            let (url, method, headers, body) = host::request_parts(ctx, &request)?;
            let request: JsValue = if spec.stream_request && method != "GET" && method != "HEAD" {
                let make: Function = glue::fetch_fn(ctx, "makeStreamingRequest")?;
                #[allow(clippy::cast_precision_loss)]
                make.call((url, method, headers, spec.id as f64))?
            } else {
                let make: Function = glue::fetch_fn(ctx, "makeRequest")?;
                make.call((url, method, headers, body))?
            };
            (true, Some(request), String::new(), Vec::new())
        }
        CallKind::Rpc { method, args } => (false, None, method, write_args(ctx, &args)?),
        CallKind::Stub { .. } => unreachable!("stub calls return above"),
    };
    let entrypoint_class = match exported.as_function() {
        Some(f) => extends_worker_entrypoint(ctx, f)?,
        None => false,
    };
    let (receiver, function, argv): (JsValue, JsValue, Vec<JsValue>) = if entrypoint_class {
        let class = exported
            .as_constructor()
            .ok_or_else(|| type_error("entrypoint is not a class".into()))?;
        let receiver: Object = class.construct((context, env))?;
        if let Some(request) = request {
            (
                receiver.clone().into_value(),
                fetch_handler(ctx, &receiver, false)?,
                vec![request],
            )
        } else {
            let function = rpc_method(ctx, &receiver, &method, false)?;
            (receiver.into_value(), function, std::mem::take(&mut args))
        }
    } else if let Some(receiver) = exported
        .as_object()
        .filter(|_| exported.type_of() == rquickjs::Type::Object)
    {
        if let Some(request) = request {
            let function = fetch_handler(ctx, receiver, true)?;
            (
                exported.clone(),
                function,
                vec![request, env.into_value(), context.into_value()],
            )
        } else {
            let function = rpc_method(ctx, receiver, &method, true)?;
            if args.len() != 1 {
                return Err(type_error(format!(
                    "Attempted to call RPC function \"{method}\" with the wrong number of arguments. When calling a top-level handler function that is not declared as part of a class, you must always send exactly one argument. In order to support variable numbers of arguments, the server must use class-based syntax (extending WorkerEntrypoint) instead."
                )));
            }
            let arg = args.remove(0);
            (
                exported.clone(),
                function,
                vec![arg, env.into_value(), context.into_value()],
            )
        }
    } else {
        return Err(type_error(format!(
            "Failed to start Worker:\nUncaught TypeError: Incorrect type for map entry '{name}': the provided value is not of type 'function or ExportedHandler'."
        )));
    };
    Ok((apply(ctx, receiver, function, argv)?, fetch))
}

fn write_args<'js>(ctx: &Ctx<'js>, args: &[crate::Value]) -> rquickjs::Result<Vec<JsValue<'js>>> {
    args.iter().map(|arg| codec::write(ctx, arg)).collect()
}

/// Calls `function` on `receiver` with `argv`.
fn apply<'js>(
    ctx: &Ctx<'js>,
    receiver: JsValue<'js>,
    function: JsValue<'js>,
    argv: Vec<JsValue<'js>>,
) -> Result<JsValue<'js>, Failure> {
    let function = function
        .into_function()
        .ok_or_else(|| type_error("not a function".into()))?;
    let mut call_args = Args::new(ctx.clone(), argv.len());
    call_args.this(receiver)?;
    for arg in argv {
        call_args.push_arg(arg)?;
    }
    Ok(function.call_arg(call_args)?)
}

/// A call back into a function or `RpcTarget` this isolate exported as a
/// stub. `RpcTarget` methods are found on its class chain, as workerd
/// exposes them (own instance properties are not callable).
fn invoke_stub<'js>(
    ctx: &Ctx<'js>,
    stub: u64,
    method: Option<&str>,
    args: &[crate::Value],
) -> Result<JsValue<'js>, Failure> {
    let lookup: Function = glue::stubs(ctx)?.get("stubTarget")?;
    #[allow(clippy::cast_precision_loss)]
    let target: JsValue = lookup.call((stub as f64,))?;
    if target.is_undefined() {
        return Err(Failure::Guest(ErrorValue::new(
            "Error",
            "RPC stub used after being disposed.",
        )));
    }
    // A call back into what a call passed out runs as that call (as in
    // workerd): its I/O and the stubs it received stay usable there. A
    // stub this isolate received and passed on runs as the call that
    // received it. The host, not this call's code, routed the call here.
    let stubs = glue::stubs(ctx)?;
    let owner = match stubs
        .get::<_, Function>("stubOwner")?
        .call::<_, Option<f64>>((target.clone(),))?
    {
        Some(owner) => Some(owner),
        #[allow(clippy::cast_precision_loss)]
        None => stubs
            .get::<_, Function>("stubExporter")?
            .call::<_, Option<f64>>((stub as f64,))?,
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let owner = owner.map(|call| call as CallId);
    let invoke = || {
        let argv = write_args(ctx, args)?;
        match method {
            None => apply(ctx, JsValue::new_undefined(ctx.clone()), target, argv),
            Some(method) => {
                let receiver = target
                    .as_object()
                    .filter(|_| !target.is_function())
                    .ok_or_else(|| {
                        type_error("The RPC stub is a function; call it directly.".into())
                    })?
                    .clone();
                let function = rpc_method(ctx, &receiver, method, false)?;
                apply(ctx, target, function, argv)
            }
        }
    };
    match owner {
        Some(owner) => crate::io_context::run_as(ctx, Some(owner), invoke),
        None => invoke(),
    }
}

/// `ctx` for a call: `props`, `waitUntil`, `passThroughOnException`.
fn make_ctx<'js>(ctx: &Ctx<'js>, id: CallId, props: JsValue<'js>) -> rquickjs::Result<Object<'js>> {
    let context = Object::new(ctx.clone())?;
    context.set_prototype(Some(&ctx_prototype(ctx)?))?;
    context.set("props", props)?;
    let wait_until = Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>, promise: JsValue<'js>| -> rquickjs::Result<()> {
            let (ctor, resolve) = glue::with(&ctx, |g| {
                (g.promise_ctor.clone(), g.promise_resolve.clone())
            })?;
            let promise: Promise = resolve.call((This(ctor), promise))?;
            glue::with(&ctx, |g| {
                g.state
                    .borrow_mut()
                    .waits
                    .entry(id)
                    .or_default()
                    .push(promise)
            })
        },
    )?
    .with_name("waitUntil")?;
    context.set("waitUntil", wait_until)?;
    context.set(
        "passThroughOnException",
        Function::new(ctx.clone(), || ())?.with_name("passThroughOnException")?,
    )?;
    Ok(context)
}

/// The prototype of `ctx` objects, made once per isolate: it holds the
/// `exports` getter, so a call that never reads `ctx.exports` pays nothing
/// for it.
fn ctx_prototype<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Object<'js>> {
    if let Some(proto) = glue::with(ctx, |g| g.state.borrow().ctx_prototype.clone())? {
        return Ok(proto);
    }
    let proto = Object::new(ctx.clone())?;
    let getter = |ctx: Ctx<'js>| -> rquickjs::Result<JsValue<'js>> {
        match glue::with(&ctx, |g| g.state.borrow().namespace.clone())? {
            Some(namespace) => Ok(glue::exports(&ctx, &namespace)?.into_value()),
            None => Ok(JsValue::new_undefined(ctx)),
        }
    };
    proto.prop(
        "exports",
        rquickjs::object::Accessor::new_get(getter).configurable(),
    )?;
    glue::with(ctx, |g| {
        g.state.borrow_mut().ctx_prototype = Some(proto.clone())
    })?;
    Ok(proto)
}

fn extends_worker_entrypoint<'js>(ctx: &Ctx<'js>, class: &Function<'js>) -> rquickjs::Result<bool> {
    let Some(base) = glue::worker_entrypoint(ctx)? else {
        return Ok(false);
    };
    let target: Object = base.get("prototype")?;
    let mut proto: Option<Object> = class.get::<_, Option<Object>>("prototype")?;
    while let Some(p) = proto {
        if p == target {
            return Ok(true);
        }
        proto = p.get_prototype();
    }
    Ok(false)
}

/// An own property as found by `[[GetOwnProperty]]`.
enum Own<'js> {
    Data(JsValue<'js>),
    Accessor(JsValue<'js>),
}

/// Reads an own property descriptor without consulting prototypes (a guest
/// can define `value` or `get` on `Object.prototype`).
fn own_property<'js>(
    ctx: &Ctx<'js>,
    object: &Object<'js>,
    name: &str,
) -> rquickjs::Result<Option<Own<'js>>> {
    let raw = ctx.as_raw().as_ptr();
    let mut desc = std::mem::MaybeUninit::<qjs::JSPropertyDescriptor>::uninit();
    // SAFETY: `object` is a live value of this context and the atom is freed
    // after use; on a
    // return of 1 QuickJS fills `desc` with owned values that are handed to
    // `JsValue`s (which free them) right away.
    #[allow(unsafe_code)]
    unsafe {
        let atom = qjs::JS_NewAtomLen(raw, name.as_ptr().cast(), name.len() as _);
        let found = qjs::JS_GetOwnProperty(raw, desc.as_mut_ptr(), object.as_raw(), atom);
        qjs::JS_FreeAtom(raw, atom);
        if found < 0 {
            return Err(rquickjs::Error::Exception);
        }
        if found == 0 {
            return Ok(None);
        }
        let desc = desc.assume_init();
        let value = JsValue::from_raw(ctx.clone(), desc.value);
        let getter = JsValue::from_raw(ctx.clone(), desc.getter);
        let _setter = JsValue::from_raw(ctx.clone(), desc.setter);
        if desc.flags & qjs::JS_PROP_GETSET as i32 != 0 {
            Ok(Some(Own::Accessor(getter)))
        } else {
            Ok(Some(Own::Data(value)))
        }
    }
}

/// Finds a method the way workerd's RPC does: inherited through the class
/// chain (or own, for plain objects), never from `Object.prototype`.
fn find_method<'js>(
    ctx: &Ctx<'js>,
    receiver: &Object<'js>,
    name: &str,
    own_allowed: bool,
) -> rquickjs::Result<Option<JsValue<'js>>> {
    let object_prototype = glue::with(ctx, |g| g.object_prototype.clone())?;
    let mut holder = if own_allowed {
        Some(receiver.clone())
    } else {
        receiver.get_prototype()
    };
    while let Some(h) = holder {
        if h == object_prototype {
            break;
        }
        match own_property(ctx, &h, name)? {
            Some(Own::Data(value)) => return Ok(Some(value)),
            Some(Own::Accessor(getter)) => {
                return match getter.into_function() {
                    Some(get) => get.call((This(receiver.clone()),)).map(Some),
                    None => Ok(Some(JsValue::new_undefined(ctx.clone()))),
                };
            }
            None => holder = h.get_prototype(),
        }
    }
    Ok(None)
}

fn rpc_method<'js>(
    ctx: &Ctx<'js>,
    receiver: &Object<'js>,
    method: &str,
    own_allowed: bool,
) -> Result<JsValue<'js>, Failure> {
    if RESERVED.contains(&method) {
        return Err(type_error(format!(
            "'{method}' is a reserved method and cannot be called over RPC."
        )));
    }
    match find_method(ctx, receiver, method, own_allowed)? {
        None => Err(type_error(format!(
            "The RPC receiver does not implement the method \"{method}\"."
        ))),
        Some(f) if f.is_function() => Ok(f),
        Some(_) => Err(type_error(format!("\"{method}\" is not a function."))),
    }
}

fn fetch_handler<'js>(
    ctx: &Ctx<'js>,
    receiver: &Object<'js>,
    own_allowed: bool,
) -> Result<JsValue<'js>, Failure> {
    match find_method(ctx, receiver, "fetch", own_allowed)? {
        Some(f) if f.is_function() => Ok(f),
        _ => Err(Failure::Guest(ErrorValue::new(
            "Error",
            "Handler does not export a fetch() function.",
        ))),
    }
}

fn is_thenable(value: &JsValue<'_>) -> rquickjs::Result<bool> {
    match value.as_object() {
        Some(object) if value.type_of() == rquickjs::Type::Object => {
            Ok(object.get::<_, JsValue>("then")?.is_function())
        }
        _ => Ok(false),
    }
}

/// A fetch handler's value: a Response whose body is then read (or
/// streamed to the host, for a streamed call).
fn respond<'js>(
    ctx: &Ctx<'js>,
    shared: &Shared,
    id: CallId,
    stream: bool,
    value: JsValue<'js>,
) -> rquickjs::Result<Stage<'js>> {
    let started =
        crate::io_context::run_as(ctx, Some(id), || read_response(ctx, id, stream, value));
    match started {
        Ok(stage) => Ok(stage),
        Err(rquickjs::Error::Exception) => {
            settle_thrown(ctx, shared, id);
            Ok(Stage::Draining)
        }
        Err(other) => Err(other),
    }
}

/// Starts reading (or streaming) a fetch handler's Response, as `id`.
fn read_response<'js>(
    ctx: &Ctx<'js>,
    id: CallId,
    stream: bool,
    value: JsValue<'js>,
) -> rquickjs::Result<Stage<'js>> {
    if stream {
        // A Response whose whole body is at hand settles as a whole (the
        // host streams it): its head costs no op and no activation.
        let whole: Function = glue::fetch_fn(ctx, "wholeResponse")?;
        match whole.call::<_, Option<Promise>>((value.clone(),)) {
            Ok(Some(parts)) => Ok(Stage::Responding(parts, true)),
            Ok(None) => {
                let pump: Function = glue::fetch_fn(ctx, "streamResponse")?;
                #[allow(clippy::cast_precision_loss)]
                pump.call::<_, Promise>((id as f64, value))
                    .map(Stage::Streaming)
            }
            Err(error) => Err(error),
        }
    } else {
        let parts: Function = glue::fetch_fn(ctx, "responseParts")?;
        parts
            .call::<_, Promise>((value,))
            .map(|parts| Stage::Responding(parts, false))
    }
}

fn response(shared: &Shared, parts: &Object<'_>, limited: bool) -> rquickjs::Result<CallResult> {
    let status = parts.get::<_, f64>(0)?;
    let status_text: String = parts.get(1)?;
    let pairs: rquickjs::Array = parts.get(2)?;
    let mut headers = Vec::with_capacity(pairs.len());
    for pair in pairs.iter::<rquickjs::Array>() {
        let pair = pair?;
        headers.push((pair.get::<String>(0)?, pair.get::<String>(1)?));
    }
    let checked = crate::http_head::status(status).and_then(|status| {
        crate::http_head::reason_phrase(&status_text)?;
        crate::http_head::headers(&headers)?;
        Ok(status)
    });
    let status = match checked {
        Ok(status) => status,
        Err(message) => {
            return Ok(CallResult::Threw(ErrorValue::new("TypeError", message)));
        }
    };
    let body: rquickjs::TypedArray<u8> = parts.get(3)?;
    // SAFETY: copied out at once; no guest code runs in between.
    #[allow(unsafe_code)]
    let body = unsafe { body.as_bytes() }
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    if limited && body.len() > shared.codec().max_bytes {
        return Ok(CallResult::TooLarge {
            limit: shared.codec().max_bytes,
        });
    }
    Ok(CallResult::Response(HttpResponse {
        status,
        status_text,
        headers,
        body,
    }))
}

fn settle(shared: &Shared, call: CallId, result: CallResult) {
    shared.emit(Effect::CallSettled { call, result });
}

fn settle_value<'js>(ctx: &Ctx<'js>, shared: &Shared, call: CallId, value: &JsValue<'js>) {
    let result = match read_value(ctx, shared, value) {
        Ok(v) => CallResult::Value(v),
        Err(CloneError::TooLarge(limit)) => CallResult::TooLarge { limit },
        Err(e) => CallResult::Threw(ErrorValue::new(
            if matches!(e, CloneError::TooDeep(_)) {
                "RangeError"
            } else {
                "DataCloneError"
            },
            e.message(),
        )),
    };
    settle(shared, call, result);
}

/// Settles with the pending exception (or the promise rejection just
/// thrown by `Promise::result`).
fn settle_thrown(ctx: &Ctx<'_>, shared: &Shared, call: CallId) {
    let thrown = ctx.catch();
    let result = match shared.startup_error.borrow().clone() {
        Some(startup) => CallResult::StartupFailed(startup),
        None => CallResult::Threw(host::error_value(ctx, shared, &thrown)),
    };
    settle(shared, call, result);
}
