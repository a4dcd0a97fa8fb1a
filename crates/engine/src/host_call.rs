//! [`HostCall`]: what a host function gets. The struct and the methods
//! that need nothing above the isolate's shared state live here, low in
//! the engine, so that extensions' declarations (which name [`HostFn`])
//! sit below everything that runs them; the methods that reach the glue,
//! the codec and ops are in `host/mod.rs`.

use std::rc::Rc;

use rquickjs::{Ctx, Exception, TypedArray, Value as JsValue, qjs};

use crate::shared::{Shared, interrupted};
use crate::value::TypedArrayKind;

/// A host function: its call's arguments and limits in, a value (or a
/// thrown exception) out. See [`HostCall`].
pub type HostFn = for<'a, 'js> fn(&HostCall<'a, 'js>) -> rquickjs::Result<JsValue<'js>>;

/// One call of a host function: the only door from glue into Rust.
///
/// Arguments are hostile input: the readers check types and copy values
/// out at once, and nothing a host function does may panic or block.
/// Host-side copies are charged to the isolate's memory limit with
/// [`HostCall::charge`] (released when the call returns), values leaving
/// the isolate are held to the codec's size limit with
/// [`HostCall::check_size`], and host time counts against the CPU and wall
/// limits (the watchdog looks after every call, and long work asks
/// [`HostCall::interrupted`] as it goes).
pub struct HostCall<'a, 'js> {
    pub(crate) ctx: Ctx<'js>,
    pub(crate) args: &'a [JsValue<'js>],
    pub(crate) shared: &'a Rc<Shared>,
    /// The extension whose host function this is.
    pub(crate) extension: &'static str,
}

impl std::fmt::Debug for HostCall<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostCall")
            .field("args", &self.args.len())
            .finish_non_exhaustive()
    }
}

impl<'a, 'js> HostCall<'a, 'js> {
    /// The isolate's context.
    pub fn ctx(&self) -> &Ctx<'js> {
        &self.ctx
    }

    /// Argument `i`, if given.
    pub fn arg(&self, i: usize) -> Option<&'a JsValue<'js>> {
        self.args.get(i)
    }

    /// Argument `i` as a string (lone surrogates become U+FFFD); a
    /// `TypeError` if it is not one.
    pub fn string(&self, i: usize) -> rquickjs::Result<String> {
        self.optional_string(i)?
            .ok_or_else(|| Exception::throw_type(&self.ctx, "isola: expected a string"))
    }

    /// Argument `i` as a string, or `None` when it is not a string
    /// (`null`, absent).
    pub fn optional_string(&self, i: usize) -> rquickjs::Result<Option<String>> {
        self.arg(i)
            .and_then(|v| v.as_string())
            .map(crate::strings::js_string)
            .transpose()
    }

    /// Argument `i` as a number (0 when it is not one).
    pub fn number(&self, i: usize) -> f64 {
        self.arg(i).and_then(JsValue::as_number).unwrap_or(0.0)
    }

    /// Argument `i` as a whole non-negative number (0 when it is not one).
    pub fn id(&self, i: usize) -> u64 {
        let n = self.number(i);
        if n.is_finite() && n >= 0.0 {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            return n as u64;
        }
        0
    }

    /// A copy of argument `i`'s bytes, if it is a `Uint8Array`.
    pub fn bytes(&self, i: usize) -> Option<Vec<u8>> {
        let view = TypedArray::<u8>::from_value(self.arg(i)?.clone()).ok()?;
        // SAFETY: copied out at once; no guest code runs in between.
        #[allow(unsafe_code)]
        let bytes = unsafe { view.as_bytes() }?.to_vec();
        Some(bytes)
    }

    /// The kind of typed array argument `i` is (`DataView` for a
    /// `DataView`), or `None` for anything else.
    pub fn view_kind(&self, i: usize) -> Option<TypedArrayKind> {
        let value = self.arg(i)?;
        // SAFETY: `value` is live for this call; both predicates only read
        // its class id.
        #[allow(unsafe_code)]
        let (kind, data_view) = unsafe {
            (
                qjs::JS_GetTypedArrayType(value.as_raw()),
                qjs::JS_IsDataView(value.as_raw()),
            )
        };
        if data_view {
            return Some(TypedArrayKind::DataView);
        }
        // QuickJS's numbering (`JSTypedArrayEnum`).
        Some(match kind {
            0 => TypedArrayKind::Uint8ClampedArray,
            1 => TypedArrayKind::Int8Array,
            2 => TypedArrayKind::Uint8Array,
            3 => TypedArrayKind::Int16Array,
            4 => TypedArrayKind::Uint16Array,
            5 => TypedArrayKind::Int32Array,
            6 => TypedArrayKind::Uint32Array,
            7 => TypedArrayKind::BigInt64Array,
            8 => TypedArrayKind::BigUint64Array,
            9 => TypedArrayKind::Float16Array,
            10 => TypedArrayKind::Float32Array,
            11 => TypedArrayKind::Float64Array,
            _ => return None,
        })
    }

    /// Charges `bytes` of host-side copies (made or about to be made by
    /// this call) to the isolate's memory limit until the call returns.
    /// Past the limit (or the process budget) the guest is stopped as by
    /// any allocation that does not fit.
    pub fn charge(&self, bytes: usize) -> rquickjs::Result<()> {
        let shared = self.shared;
        if !shared.memory.admits(bytes) {
            return Err(Exception::throw_range(&self.ctx, "Out of memory"));
        }
        shared.memory.add(bytes);
        shared
            .transient
            .set(shared.transient.get().saturating_add(bytes));
        Ok(())
    }

    /// The isolate's memory limit in bytes (bounds what a host function
    /// may produce, e.g. decompressed output).
    pub fn memory_limit(&self) -> usize {
        self.shared.memory.limit()
    }

    /// Whether a limit has fired: long host work asks as it goes and
    /// stops (the call's error is then [`HostCall::interrupt`]'s).
    pub fn interrupted(&self) -> bool {
        self.shared.watchdog.poll()
    }

    /// Stops the guest as the engine's interrupt does: an error no guest
    /// `catch` or `finally` sees (the watchdog holds the limit that fired).
    pub fn interrupt(&self) -> rquickjs::Error {
        interrupted(&self.ctx)
    }

    /// The isolate's seeded generator (not for keys: those come from the
    /// OS).
    pub fn random_u64(&self) -> u64 {
        self.shared.next_random()
    }
}
