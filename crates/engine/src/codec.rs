//! The value codec: guest values to [`Value`] and back.
//!
//! Guest values are read once, into owned data, under a depth and a size
//! limit. Type checks use the engine's class ids (not `instanceof` or
//! `Symbol.toStringTag`, which a guest can forge), and the few built-in
//! accessors used are the ones the core chunk (`glue/core.js`) captured when it loaded.
#![allow(unsafe_code)]

pub(crate) use crate::limits::CodecLimits;
use std::collections::HashSet;

use rquickjs::{Array, ArrayBuffer, Ctx, Function, Object, TypedArray, Value as JsValue, qjs};

use crate::value::{ErrorValue, StubRef, TypedArrayKind, Value};

/// workerd's message for an `RpcTarget` where only plain data may go.
const RPC_TARGET_NOT_CLONEABLE: &str = "Remote RPC references can only be serialized for RPC.";

/// Why a value could not cross.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CloneError {
    /// Not cloneable; the message is the `DataCloneError` text.
    Unclonable(String),
    /// Nested deeper than the limit.
    TooDeep(usize),
    /// Larger than the limit.
    TooLarge(usize),
    /// Guest code (a getter) threw while the value was read.
    Threw,
    /// A limit fired while the value was read; the guest is being stopped.
    Interrupted,
}

impl CloneError {
    pub(crate) fn message(&self) -> String {
        match self {
            CloneError::Unclonable(m) => m.clone(),
            CloneError::TooDeep(d) => format!(
                "Value is nested more than {d} levels deep and cannot cross the sandbox boundary."
            ),
            CloneError::TooLarge(n) => format!(
                "Value exceeds the {n}-byte limit for values crossing the sandbox boundary."
            ),
            CloneError::Threw => "Reading the value threw.".into(),
            CloneError::Interrupted => "The worker passed a limit while a value was read.".into(),
        }
    }
}

/// Guest → host.
pub(crate) struct Reader<'a, 'js> {
    ctx: &'a Ctx<'js>,
    limits: CodecLimits,
    size: usize,
    path: HashSet<usize>,
    /// `Some` when reading RPC arguments: functions and `RpcTarget`
    /// instances are exported (kept in this isolate) and their ids listed.
    exports: Option<Vec<u64>>,
    /// Asked every [`VALUES_BETWEEN_LOOKS`] values whether a limit fired:
    /// a value of a million small objects takes seconds to read.
    watchdog: Option<std::rc::Rc<crate::limits::Watchdog>>,
    values: usize,
}

/// Values read between looks at the watchdog (a look is one clock read).
const VALUES_BETWEEN_LOOKS: usize = 1024;

impl<'a, 'js> Reader<'a, 'js> {
    pub(crate) fn new(ctx: &'a Ctx<'js>, limits: CodecLimits) -> Self {
        Self {
            ctx,
            limits,
            size: 0,
            path: HashSet::new(),
            exports: None,
            watchdog: None,
            values: 0,
        }
    }

    /// Stops the read (with [`CloneError::Interrupted`]) once a limit of
    /// the running activation fires.
    pub(crate) fn watched(mut self, watchdog: std::rc::Rc<crate::limits::Watchdog>) -> Self {
        self.watchdog = Some(watchdog);
        self
    }

    /// A reader for RPC arguments, which may carry stubs.
    pub(crate) fn for_rpc(ctx: &'a Ctx<'js>, limits: CodecLimits) -> Self {
        Self {
            exports: Some(Vec::new()),
            ..Self::new(ctx, limits)
        }
    }

    /// The ids of the stubs exported so far.
    pub(crate) fn take_exports(&mut self) -> Vec<u64> {
        self.exports
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Keeps `value` in this isolate and refers to it by a stub, or refuses
    /// with `refusal` when this read does not carry stubs.
    fn export(
        &mut self,
        value: &JsValue<'js>,
        callable: bool,
        refusal: &str,
    ) -> Result<Value, CloneError> {
        let Some(exports) = self.exports.as_mut() else {
            return Err(CloneError::Unclonable(refusal.to_owned()));
        };
        let export: Function = crate::glue::stubs(self.ctx)
            .and_then(|stubs| stubs.get("exportStub"))
            .map_err(|_| CloneError::Threw)?;
        // Calls back into it run as the call passing it out now.
        #[allow(clippy::cast_precision_loss)]
        let exporter = crate::io_context::current(self.ctx).map(|call| call as f64);
        let id: f64 = export
            .call((value.clone(), exporter))
            .map_err(|_| CloneError::Threw)?;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let id = id as u64;
        exports.push(id);
        Ok(Value::Stub(StubRef { id, callable }))
    }

    /// Whether `object` is an `RpcTarget` instance (its class chain holds
    /// `RpcTarget.prototype`), or a stub this isolate received.
    fn is_rpc_reference(&self, object: &Object<'js>) -> Result<bool, CloneError> {
        let Some(target) =
            crate::glue::rpc_target_prototype(self.ctx).map_err(|_| CloneError::Threw)?
        else {
            return Ok(false);
        };
        let mut proto = object.get_prototype();
        while let Some(p) = proto {
            if p == target {
                return Ok(true);
            }
            proto = p.get_prototype();
        }
        Ok(false)
    }

    fn is_received_stub(&self, value: &JsValue<'js>) -> Result<bool, CloneError> {
        if !crate::glue::loaded(self.ctx, crate::glue::BINDINGS_CHUNK).is_ok_and(|b| b.is_some()) {
            return Ok(false);
        }
        let check: Function = crate::glue::stubs(self.ctx)
            .and_then(|stubs| stubs.get("isStub"))
            .map_err(|_| CloneError::Threw)?;
        check.call((value.clone(),)).map_err(|_| CloneError::Threw)
    }

    pub(crate) fn read(&mut self, value: &JsValue<'js>) -> Result<Value, CloneError> {
        self.read_at(value, 0)
    }

    fn charge(&mut self, bytes: usize) -> Result<(), CloneError> {
        self.values += 1;
        if self.values.is_multiple_of(VALUES_BETWEEN_LOOKS)
            && self.watchdog.as_ref().is_some_and(|w| w.poll())
        {
            return Err(CloneError::Interrupted);
        }
        self.size = self.size.saturating_add(bytes + 16);
        if self.size > self.limits.max_bytes {
            return Err(CloneError::TooLarge(self.limits.max_bytes));
        }
        Ok(())
    }

    fn helper<R: rquickjs::FromJs<'js>>(
        &self,
        name: &str,
        arg: &JsValue<'js>,
    ) -> Result<R, CloneError> {
        let f = crate::glue::core_fn(self.ctx, name).map_err(|_| CloneError::Threw)?;
        f.call((arg.clone(),)).map_err(|_| CloneError::Threw)
    }

    fn read_at(&mut self, value: &JsValue<'js>, depth: usize) -> Result<Value, CloneError> {
        if depth > self.limits.max_depth {
            return Err(CloneError::TooDeep(self.limits.max_depth));
        }
        self.charge(0)?;
        use rquickjs::Type;
        let out = match value.type_of() {
            Type::Uninitialized | Type::Undefined => Value::Undefined,
            Type::Null => Value::Null,
            Type::Bool => Value::Bool(value.as_bool().unwrap_or(false)),
            Type::Int => Value::Number(f64::from(value.as_int().unwrap_or(0))),
            Type::Float => Value::Number(value.as_float().unwrap_or(f64::NAN)),
            Type::String => {
                let s = match value.as_string() {
                    Some(s) => crate::strings::js_string(s).map_err(|_| CloneError::Threw)?,
                    None => String::new(),
                };
                self.charge(s.len())?;
                Value::String(s)
            }
            Type::BigInt => {
                let coerced: rquickjs::convert::Coerced<String> =
                    rquickjs::FromJs::from_js(self.ctx, value.clone())
                        .map_err(|_| CloneError::Threw)?;
                self.charge(coerced.0.len())?;
                Value::BigInt(coerced.0)
            }
            Type::Symbol => {
                return Err(CloneError::Unclonable("Symbol could not be cloned.".into()));
            }
            Type::Function | Type::Constructor => {
                let refusal = if self.exports.is_none() {
                    let source: String = self.helper("functionSource", value)?;
                    format!("{source} could not be cloned.")
                } else {
                    String::new()
                };
                return self.export(value, true, &refusal);
            }
            Type::Promise => {
                return Err(CloneError::Unclonable(
                    "#<Promise> could not be cloned.".into(),
                ));
            }
            Type::Array | Type::Object | Type::Exception | Type::Proxy => {
                self.read_object(value, depth)?
            }
            _ => return Err(CloneError::Unclonable("Value could not be cloned.".into())),
        };
        Ok(out)
    }

    fn read_object(&mut self, value: &JsValue<'js>, depth: usize) -> Result<Value, CloneError> {
        let raw = value.as_raw();
        // SAFETY: `raw` is a live object owned by `value` for the whole call;
        // reading its pointer and class id does not touch its contents.
        let (identity, class) = unsafe { (qjs::JS_VALUE_GET_PTR(raw) as usize, classify(raw)) };
        if class == Class::Proxy {
            if self.is_received_stub(value)? {
                return self.export(value, false, RPC_TARGET_NOT_CLONEABLE);
            }
            return Err(CloneError::Unclonable(
                "#<Proxy> could not be cloned.".into(),
            ));
        }
        if class == Class::Plain
            && let Some(object) = value.as_object()
            && self.is_rpc_reference(object)?
        {
            return self.export(value, false, RPC_TARGET_NOT_CLONEABLE);
        }
        if !self.path.insert(identity) {
            return Err(CloneError::Unclonable(
                "Value contains a cycle; isola's codec does not preserve shared or circular references.".into(),
            ));
        }
        let result = self.read_class(value, depth, class);
        self.path.remove(&identity);
        result
    }

    #[allow(clippy::too_many_lines)]
    fn read_class(
        &mut self,
        value: &JsValue<'js>,
        depth: usize,
        class: Class,
    ) -> Result<Value, CloneError> {
        if class == Class::Date {
            return Ok(Value::Date(self.helper("dateValue", value)?));
        }
        if class == Class::RegExp {
            let parts: Array<'js> = self.helper("regexpParts", value)?;
            let source: String = parts.get(0).map_err(|_| CloneError::Threw)?;
            let flags: String = parts.get(1).map_err(|_| CloneError::Threw)?;
            self.charge(source.len())?;
            return Ok(Value::RegExp { source, flags });
        }
        if class == Class::ArrayBuffer {
            let ab = ArrayBuffer::from_value(value.clone()).ok_or(CloneError::Threw)?;
            // SAFETY: the bytes are copied out at once; no guest code runs in between.
            let bytes = unsafe { ab.as_bytes() }
                .ok_or_else(|| {
                    CloneError::Unclonable(
                        "An ArrayBuffer is detached and could not be cloned.".into(),
                    )
                })?
                .to_vec();
            self.charge(bytes.len())?;
            return Ok(Value::ArrayBuffer(bytes));
        }
        if class == Class::View {
            let parts: Array<'js> = self.helper("viewParts", value)?;
            let kind: String = parts.get(0).map_err(|_| CloneError::Threw)?;
            let view: JsValue<'js> = parts.get(1).map_err(|_| CloneError::Threw)?;
            let kind = TypedArrayKind::from_name(&kind).unwrap_or(TypedArrayKind::Uint8Array);
            let view = TypedArray::<u8>::from_value(view).map_err(|_| CloneError::Threw)?;
            // SAFETY: the bytes are copied out at once; no guest code runs in between.
            let bytes = unsafe { view.as_bytes() }
                .ok_or_else(|| {
                    CloneError::Unclonable(
                        "A typed array's buffer is detached and could not be cloned.".into(),
                    )
                })?
                .to_vec();
            self.charge(bytes.len())?;
            return Ok(Value::TypedArray { kind, bytes });
        }
        if class == Class::Map {
            let flat: Array<'js> = self.helper("mapEntries", value)?;
            let mut entries = Vec::with_capacity(flat.len() / 2);
            let mut i = 0;
            while i + 1 < flat.len() {
                let k: JsValue<'js> = flat.get(i).map_err(|_| CloneError::Threw)?;
                let v: JsValue<'js> = flat.get(i + 1).map_err(|_| CloneError::Threw)?;
                entries.push((self.read_at(&k, depth + 1)?, self.read_at(&v, depth + 1)?));
                i += 2;
            }
            return Ok(Value::Map(entries));
        }
        if class == Class::Set {
            let items: Array<'js> = self.helper("setValues", value)?;
            let mut out = Vec::with_capacity(items.len());
            for i in 0..items.len() {
                let v: JsValue<'js> = items.get(i).map_err(|_| CloneError::Threw)?;
                out.push(self.read_at(&v, depth + 1)?);
            }
            return Ok(Value::Set(out));
        }
        let obj = value.as_object().ok_or(CloneError::Threw)?;
        if class == Class::Error {
            let text = |key: &str| -> Option<String> {
                obj.get::<_, rquickjs::convert::Coerced<String>>(key)
                    .ok()
                    .map(|c| c.0)
            };
            let name = text("name").unwrap_or_else(|| "Error".into());
            let message = text("message").unwrap_or_default();
            let stack = obj
                .get::<_, Option<rquickjs::convert::Coerced<String>>>("stack")
                .ok()
                .flatten()
                .map(|c| c.0);
            self.charge(name.len() + message.len() + stack.as_ref().map_or(0, String::len))?;
            return Ok(Value::Error(ErrorValue {
                name,
                message,
                stack,
            }));
        }
        if class == Class::Array {
            let len: usize = obj.get::<_, f64>("length").map_err(|_| CloneError::Threw)? as usize;
            let mut out = Vec::with_capacity(len.min(4096));
            for i in 0..len {
                self.charge(0)?;
                let v: JsValue<'js> = obj.get(i as u32).map_err(|_| CloneError::Threw)?;
                out.push(self.read_at(&v, depth + 1)?);
            }
            return Ok(Value::Array(out));
        }
        let mut entries = Vec::new();
        for key in obj.keys::<rquickjs::String>() {
            let key = key.map_err(|_| CloneError::Threw)?;
            let v: JsValue<'js> = obj.get(key.clone()).map_err(|_| CloneError::Threw)?;
            let key = crate::strings::js_string(&key).map_err(|_| CloneError::Threw)?;
            self.charge(key.len())?;
            let v = self.read_at(&v, depth + 1)?;
            entries.push((key, v));
        }
        Ok(Value::Object(entries))
    }
}

/// Host → guest.
pub(crate) fn write<'js>(ctx: &Ctx<'js>, value: &Value) -> rquickjs::Result<JsValue<'js>> {
    let call1 = |name: &str, args: (JsValue<'js>,)| -> rquickjs::Result<JsValue<'js>> {
        crate::glue::core_fn(ctx, name)?.call(args)
    };
    Ok(match value {
        Value::Undefined => JsValue::new_undefined(ctx.clone()),
        Value::Null => JsValue::new_null(ctx.clone()),
        Value::Bool(b) => JsValue::new_bool(ctx.clone(), *b),
        Value::Number(n) if *n == 0.0 && n.is_sign_negative() => {
            JsValue::new_float(ctx.clone(), *n)
        }
        Value::Number(n) => JsValue::new_number(ctx.clone(), *n),
        Value::BigInt(digits) => {
            let f: Function<'js> = ctx.globals().get("BigInt")?;
            f.call((digits.as_str(),))?
        }
        Value::String(s) => rquickjs::String::from_str(ctx.clone(), s)?.into_value(),
        Value::Array(items) => {
            let arr = Array::new(ctx.clone())?;
            for (i, item) in items.iter().enumerate() {
                arr.set(i, write(ctx, item)?)?;
            }
            arr.into_value()
        }
        Value::Object(entries) => {
            let obj = Object::new(ctx.clone())?;
            for (k, v) in entries {
                // A JS string key keeps embedded NULs (a `&str` key would not).
                obj.set(rquickjs::String::from_str(ctx.clone(), k)?, write(ctx, v)?)?;
            }
            obj.into_value()
        }
        Value::Date(ms) => call1("makeDate", (JsValue::new_number(ctx.clone(), *ms),))?,
        Value::RegExp { source, flags } => {
            let f = crate::glue::core_fn(ctx, "makeRegExp")?;
            f.call((source.as_str(), flags.as_str()))?
        }
        Value::Map(entries) => {
            let flat = Array::new(ctx.clone())?;
            for (i, (k, v)) in entries.iter().enumerate() {
                flat.set(2 * i, write(ctx, k)?)?;
                flat.set(2 * i + 1, write(ctx, v)?)?;
            }
            call1("makeMap", (flat.into_value(),))?
        }
        Value::Set(items) => {
            let arr = Array::new(ctx.clone())?;
            for (i, item) in items.iter().enumerate() {
                arr.set(i, write(ctx, item)?)?;
            }
            call1("makeSet", (arr.into_value(),))?
        }
        Value::ArrayBuffer(bytes) => ArrayBuffer::new_copy(ctx.clone(), bytes)?.into_value(),
        Value::TypedArray { kind, bytes } => {
            let view = TypedArray::<u8>::new_copy(ctx.clone(), bytes)?;
            let f = crate::glue::core_fn(ctx, "makeView")?;
            f.call((kind.name(), view))?
        }
        Value::Error(e) => error_to_js(ctx, e)?,
        Value::Stub(stub) => {
            let make: Function = crate::glue::stubs(ctx)?.get("makeStub")?;
            // A stub belongs to the call that received it, as in workerd.
            #[allow(clippy::cast_precision_loss)]
            let owner = crate::io_context::current(ctx).map(|call| call as f64);
            #[allow(clippy::cast_precision_loss)]
            make.call((stub.id as f64, stub.callable, owner))?
        }
    })
}

pub(crate) fn error_to_js<'js>(ctx: &Ctx<'js>, e: &ErrorValue) -> rquickjs::Result<JsValue<'js>> {
    let f = crate::glue::core_fn(ctx, "makeError")?;
    let stack = match &e.stack {
        Some(s) => rquickjs::String::from_str(ctx.clone(), s)?.into_value(),
        None => JsValue::new_undefined(ctx.clone()),
    };
    f.call((e.name.as_str(), e.message.as_str(), stack))
}

/// The engine class of an object, as far as the codec cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Proxy,
    Date,
    RegExp,
    Map,
    Set,
    Error,
    Array,
    ArrayBuffer,
    View,
    Plain,
}

/// QuickJS-ng's class id for `DOMException` (not in its public header):
/// read once per process from a scratch context. `u32::MAX` if that fails,
/// which only makes DOMExceptions clone as plain objects.
fn dom_exception_class() -> u32 {
    static CLASS: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *CLASS.get_or_init(|| {
        let probe = || -> rquickjs::Result<u32> {
            let runtime = rquickjs::Runtime::new()?;
            let context = rquickjs::Context::full(&runtime)?;
            context.with(|ctx| {
                let value: JsValue = ctx.eval("new DOMException()")?;
                // SAFETY: `value` is live for this closure; this reads its class id.
                Ok(unsafe { qjs::JS_GetClassID(value.as_raw()) })
            })
        };
        probe().unwrap_or(u32::MAX)
    })
}

/// Whether `value` is a `DOMException` (by class id, not prototype).
pub(crate) fn is_dom_exception(value: &JsValue<'_>) -> bool {
    // SAFETY: `value` is live; this reads its class id.
    let class = unsafe { qjs::JS_GetClassID(value.as_raw()) };
    class == dom_exception_class()
}

/// # Safety
/// `raw` must be a live value.
unsafe fn classify(raw: qjs::JSValue) -> Class {
    // SAFETY: the caller guarantees `raw` is live; each predicate only reads
    // its class id.
    unsafe {
        if qjs::JS_IsProxy(raw) {
            Class::Proxy
        } else if qjs::JS_IsDate(raw) {
            Class::Date
        } else if qjs::JS_IsRegExp(raw) {
            Class::RegExp
        } else if qjs::JS_IsMap(raw) {
            Class::Map
        } else if qjs::JS_IsSet(raw) {
            Class::Set
        } else if qjs::JS_IsError(raw) || qjs::JS_GetClassID(raw) == dom_exception_class() {
            Class::Error
        } else if qjs::JS_IsArray(raw) {
            Class::Array
        } else if qjs::JS_IsArrayBuffer(raw) {
            Class::ArrayBuffer
        } else if qjs::JS_GetTypedArrayType(raw) >= 0 || qjs::JS_IsDataView(raw) {
            Class::View
        } else {
            Class::Plain
        }
    }
}

/// The error a failed clone throws (`DataCloneError`, or `RangeError` for
/// a limit; an interrupt stays uncatchable).
pub(crate) fn clone_error_to_js<'js>(ctx: &Ctx<'js>, error: &CloneError) -> rquickjs::Error {
    if matches!(error, CloneError::Interrupted) {
        return crate::shared::interrupted(ctx);
    }
    let name = match error {
        CloneError::TooLarge(_) | CloneError::TooDeep(_) => "RangeError",
        _ => "DataCloneError",
    };
    let thrown = (|| -> rquickjs::Result<rquickjs::Error> {
        let e = error_to_js(ctx, &ErrorValue::new(name, error.message()))?;
        Ok(ctx.throw(e))
    })();
    thrown.unwrap_or_else(|e| e)
}

/// Reads `value` under the isolate's codec limits, watched by its
/// watchdog.
pub(crate) fn read_value<'js>(
    ctx: &Ctx<'js>,
    shared: &crate::shared::Shared,
    value: &JsValue<'js>,
) -> Result<Value, CloneError> {
    Reader::new(ctx, shared.codec())
        .watched(shared.watchdog.clone())
        .read(value)
}
