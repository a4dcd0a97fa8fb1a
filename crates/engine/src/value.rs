//! The data that crosses between a guest and its host.
//!
//! A [`Value`] is owned Rust data in the structured-clone data model: it is
//! what guest values become when they leave an isolate (call results, binding
//! arguments, `env` values) and what host values become when they enter one.
//! No live object ever crosses; this is the boundary the jail layer will put a
//! socket through, so every variant is plain, serialisable data.

use serde::{Deserialize, Serialize};

/// One structured-clone value.
///
/// Shared references inside a graph are copied, not preserved, and cycles are
/// rejected with a `DataCloneError`; both are documented limitations of the
/// codec.
///
/// Decoding a `Value` (from any serde format) refuses nesting deeper than
/// [`MAX_DECODE_DEPTH`], so bytes from an untrusted peer (a jailed worker
/// process) cannot overflow the decoder's stack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Value {
    /// `undefined`.
    Undefined,
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number, including `-0`, `NaN` and the infinities.
    Number(f64),
    /// A BigInt, as its decimal digits with an optional leading `-`.
    BigInt(String),
    /// A string. Lone UTF-16 surrogates are replaced with U+FFFD.
    String(String),
    /// An array (holes become `undefined`).
    Array(Vec<Value>),
    /// A plain object: its own enumerable string-keyed properties, in order.
    Object(Vec<(String, Value)>),
    /// A `Date`, as milliseconds since the epoch (may be `NaN`).
    Date(f64),
    /// A `RegExp`.
    RegExp {
        /// The pattern.
        source: String,
        /// The flags, e.g. `"gi"`.
        flags: String,
    },
    /// A `Map`, entries in insertion order.
    Map(Vec<(Value, Value)>),
    /// A `Set`, values in insertion order.
    Set(Vec<Value>),
    /// An `ArrayBuffer`'s bytes.
    ArrayBuffer(#[serde(with = "serde_bytes")] Vec<u8>),
    /// A typed array or `DataView` over its own copy of the viewed bytes.
    TypedArray {
        /// Which view.
        kind: TypedArrayKind,
        /// The viewed bytes (not the whole underlying buffer).
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
    /// An `Error` (or subclass), by name, message and stack.
    Error(ErrorValue),
    /// A function or `RpcTarget` instance passed as an RPC argument. It
    /// stays in the isolate that sent it; the receiver gets a stub whose
    /// calls travel back to it, valid until the call that carried it ends.
    Stub(StubRef),
}

/// The deepest nesting a decoded [`Value`] may have: twice the engine
/// codec's default depth limit (128), and shallow enough to decode on a
/// 2 MiB thread stack even in an unoptimized build.
pub const MAX_DECODE_DEPTH: usize = 256;

thread_local! {
    static DECODE_DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// One level of `Value` nesting being decoded on this thread.
struct DepthGuard;

impl DepthGuard {
    fn enter() -> Option<Self> {
        DECODE_DEPTH.with(|depth| {
            let next = depth.get() + 1;
            (next <= MAX_DECODE_DEPTH).then(|| {
                depth.set(next);
                DepthGuard
            })
        })
    }
}

impl Drop for DepthGuard {
    fn drop(&mut self) {
        DECODE_DEPTH.with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Some(_level) = DepthGuard::enter() else {
            return Err(serde::de::Error::custom(format!(
                "a value nested deeper than {MAX_DECODE_DEPTH} levels"
            )));
        };
        ValueShape::deserialize(deserializer)
    }
}

/// `Value`'s derived decoder; its nested values come back through the
/// guarded [`Value::deserialize`] above.
#[derive(Deserialize)]
#[serde(remote = "Value")]
enum ValueShape {
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    BigInt(String),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
    Date(f64),
    RegExp {
        source: String,
        flags: String,
    },
    Map(Vec<(Value, Value)>),
    Set(Vec<Value>),
    ArrayBuffer(#[serde(with = "serde_bytes")] Vec<u8>),
    TypedArray {
        kind: TypedArrayKind,
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
    Error(ErrorValue),
    Stub(StubRef),
}

/// Names a function or `RpcTarget` instance held by some isolate.
///
/// The engine that reads the value numbers it within its isolate; the
/// runtime renumbers it to route calls back, so an id means nothing
/// outside the layer that issued it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StubRef {
    /// The id.
    pub id: u64,
    /// A function (the stub is called) rather than an `RpcTarget` (the
    /// stub's methods are called).
    pub callable: bool,
}

/// The kinds of `ArrayBufferView` the codec carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum TypedArrayKind {
    Int8Array,
    Uint8Array,
    Uint8ClampedArray,
    Int16Array,
    Uint16Array,
    Int32Array,
    Uint32Array,
    Float16Array,
    Float32Array,
    Float64Array,
    BigInt64Array,
    BigUint64Array,
    DataView,
}

impl TypedArrayKind {
    /// The JavaScript constructor name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Int8Array => "Int8Array",
            Self::Uint8Array => "Uint8Array",
            Self::Uint8ClampedArray => "Uint8ClampedArray",
            Self::Int16Array => "Int16Array",
            Self::Uint16Array => "Uint16Array",
            Self::Int32Array => "Int32Array",
            Self::Uint32Array => "Uint32Array",
            Self::Float16Array => "Float16Array",
            Self::Float32Array => "Float32Array",
            Self::Float64Array => "Float64Array",
            Self::BigInt64Array => "BigInt64Array",
            Self::BigUint64Array => "BigUint64Array",
            Self::DataView => "DataView",
        }
    }

    /// Parses a constructor name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "Int8Array" => Self::Int8Array,
            "Uint8Array" => Self::Uint8Array,
            "Uint8ClampedArray" => Self::Uint8ClampedArray,
            "Int16Array" => Self::Int16Array,
            "Uint16Array" => Self::Uint16Array,
            "Int32Array" => Self::Int32Array,
            "Uint32Array" => Self::Uint32Array,
            "Float16Array" => Self::Float16Array,
            "Float32Array" => Self::Float32Array,
            "Float64Array" => Self::Float64Array,
            "BigInt64Array" => Self::BigInt64Array,
            "BigUint64Array" => Self::BigUint64Array,
            "DataView" => Self::DataView,
            _ => return None,
        })
    }
}

/// An error as data: its class name, message and stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorValue {
    /// The class name, e.g. `TypeError`.
    pub name: String,
    /// The message.
    pub message: String,
    /// The stack, in the engine's `    at fn (module.js:line:col)` form.
    pub stack: Option<String>,
}

impl ErrorValue {
    /// An error with no stack.
    pub fn new(name: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            message: message.into(),
            stack: None,
        }
    }
}

impl std::fmt::Display for ErrorValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.message.is_empty() {
            f.write_str(&self.name)
        } else {
            write!(f, "{}: {}", self.name, self.message)
        }
    }
}

impl Value {
    /// Converts to JSON the way `JSON.stringify` would, with extensions that
    /// keep information `JSON.stringify` drops: BigInts become decimal
    /// strings, Maps arrays of pairs, Sets arrays, binary data
    /// `{"$bytes": "<base64>"}`, errors `{"name","message","stack"}`.
    /// `undefined` and non-finite numbers become `null`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Undefined | Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => number_to_json(*n),
            Value::BigInt(digits) => J::String(digits.clone()),
            Value::String(s) => J::String(s.clone()),
            Value::Array(items) | Value::Set(items) => {
                J::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Object(entries) => J::Object(
                entries
                    .iter()
                    .filter(|(_, v)| !matches!(v, Value::Undefined))
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
            Value::Date(ms) => match iso_date(*ms) {
                Some(s) => J::String(s),
                None => J::Null,
            },
            Value::RegExp { .. } => J::Object(Default::default()),
            Value::Map(entries) => J::Array(
                entries
                    .iter()
                    .map(|(k, v)| J::Array(vec![k.to_json(), v.to_json()]))
                    .collect(),
            ),
            Value::ArrayBuffer(bytes) | Value::TypedArray { bytes, .. } => {
                use base64::Engine as _;
                let mut map = serde_json::Map::new();
                map.insert(
                    "$bytes".into(),
                    J::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
                );
                J::Object(map)
            }
            Value::Error(e) => {
                let mut map = serde_json::Map::new();
                map.insert("name".into(), J::String(e.name.clone()));
                map.insert("message".into(), J::String(e.message.clone()));
                if let Some(stack) = &e.stack {
                    map.insert("stack".into(), J::String(stack.clone()));
                }
                J::Object(map)
            }
            Value::Stub(stub) => {
                let mut map = serde_json::Map::new();
                map.insert("$stub".into(), J::from(stub.id));
                J::Object(map)
            }
        }
    }

    /// Calls `f` on every stub inside this value.
    pub fn visit_stubs_mut(&mut self, f: &mut impl FnMut(&mut StubRef)) {
        match self {
            Value::Stub(stub) => f(stub),
            Value::Array(items) | Value::Set(items) => {
                items.iter_mut().for_each(|v| v.visit_stubs_mut(f));
            }
            Value::Object(entries) => entries.iter_mut().for_each(|(_, v)| v.visit_stubs_mut(f)),
            Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
                k.visit_stubs_mut(f);
                v.visit_stubs_mut(f);
            }),
            _ => {}
        }
    }

    /// A rough count of the bytes this value holds, used to enforce size caps
    /// on host-side buffers.
    pub fn approx_size(&self) -> usize {
        const SLOT: usize = 16;
        SLOT + match self {
            Value::Undefined
            | Value::Null
            | Value::Bool(_)
            | Value::Number(_)
            | Value::Date(_)
            | Value::Stub(_) => 0,
            Value::BigInt(s) | Value::String(s) => s.len(),
            Value::Array(items) | Value::Set(items) => items.iter().map(Value::approx_size).sum(),
            Value::Object(entries) => entries.iter().map(|(k, v)| k.len() + v.approx_size()).sum(),
            Value::RegExp { source, flags } => source.len() + flags.len(),
            Value::Map(entries) => entries
                .iter()
                .map(|(k, v)| k.approx_size() + v.approx_size())
                .sum(),
            Value::ArrayBuffer(b) | Value::TypedArray { bytes: b, .. } => b.len(),
            Value::Error(e) => {
                e.name.len() + e.message.len() + e.stack.as_ref().map_or(0, String::len)
            }
        }
    }
}

fn number_to_json(n: f64) -> serde_json::Value {
    if !n.is_finite() {
        return serde_json::Value::Null;
    }
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        // Whole numbers print without a trailing ".0", as in JavaScript.
        #[allow(clippy::cast_possible_truncation)]
        return serde_json::Value::from(n as i64);
    }
    serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

impl From<serde_json::Value> for Value {
    fn from(json: serde_json::Value) -> Self {
        use serde_json::Value as J;
        match json {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(b),
            J::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            J::String(s) => Value::String(s),
            J::Array(items) => Value::Array(items.into_iter().map(Value::from).collect()),
            J::Object(map) => {
                Value::Object(map.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}

impl From<i32> for Value {
    fn from(n: i32) -> Self {
        Value::Number(f64::from(n))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<Vec<u8>> for Value {
    fn from(bytes: Vec<u8>) -> Self {
        Value::ArrayBuffer(bytes)
    }
}

/// Formats epoch milliseconds as `Date.prototype.toISOString` does.
pub(crate) fn iso_date(ms: f64) -> Option<String> {
    if !ms.is_finite() || ms.abs() > 8.64e15 {
        return None;
    }
    #[allow(clippy::cast_possible_truncation)]
    let ms = ms as i64;
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    let year = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else {
        format!("{year:+07}")
    };
    Some(format!(
        "{year}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_match_javascript() {
        assert_eq!(iso_date(0.0).as_deref(), Some("1970-01-01T00:00:00.000Z"));
        assert_eq!(
            iso_date(1_700_000_000_123.0).as_deref(),
            Some("2023-11-14T22:13:20.123Z")
        );
        assert_eq!(iso_date(-1.0).as_deref(), Some("1969-12-31T23:59:59.999Z"));
        assert_eq!(iso_date(f64::NAN), None);
    }

    #[test]
    fn json_view_keeps_integers_integral() {
        assert_eq!(Value::Number(2.0).to_json(), serde_json::json!(2));
        assert_eq!(Value::Number(0.5).to_json(), serde_json::json!(0.5));
        assert_eq!(Value::Number(f64::NAN).to_json(), serde_json::Value::Null);
    }
}
