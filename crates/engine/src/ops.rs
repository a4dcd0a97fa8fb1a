//! Effects: everything an isolate wants from the world, as plain data.
//!
//! The engine performs no I/O. A guest `fetch`, a binding call or a timer
//! becomes an [`Effect`] that the layer above carries out and answers with
//! [`crate::Isolate::complete_op`] or [`crate::Isolate::fire_timer`].

use serde::{Deserialize, Serialize};

use crate::value::{ErrorValue, Value};

/// Identifies one outstanding op of one isolate.
pub type OpId = u64;
/// Identifies one call into an isolate; chosen by the caller.
pub type CallId = u64;
/// Identifies one timer of one isolate.
pub type TimerId = u64;

/// What a `fetch` does when the response is a redirect (`RequestInit.redirect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RedirectMode {
    /// Follow redirects (the default).
    #[default]
    Follow,
    /// Fail the fetch on a redirect.
    Error,
    /// Hand the redirect response itself to the guest.
    Manual,
}

impl RedirectMode {
    /// The mode named as `RequestInit.redirect` names it.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "follow" => Some(Self::Follow),
            "error" => Some(Self::Error),
            "manual" => Some(Self::Manual),
            _ => None,
        }
    }
}

/// An HTTP request as data (what a guest `fetch` sends, or what a `fetch`
/// handler receives).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HttpRequest {
    /// The method, e.g. `GET`.
    pub method: String,
    /// The absolute URL.
    pub url: String,
    /// Header name/value pairs; names are lower-case.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    #[serde(with = "serde_bytes")]
    pub body: Option<Vec<u8>>,
    /// What to do with redirects (outbound requests; ignored on inbound).
    #[serde(default)]
    pub redirect: RedirectMode,
}

impl HttpRequest {
    /// Bytes of URL, headers and body it carries.
    pub fn approx_size(&self) -> usize {
        self.url.len() + headers_size(&self.headers) + self.body.as_ref().map_or(0, Vec::len)
    }
}

/// Bytes of header names and values.
fn headers_size(headers: &[(String, String)]) -> usize {
    headers.iter().map(|(k, v)| k.len() + v.len()).sum()
}

/// An HTTP response as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The reason phrase.
    pub status_text: String,
    /// Header name/value pairs; names are lower-case.
    pub headers: Vec<(String, String)>,
    /// The body.
    #[serde(with = "serde_bytes")]
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with a status and a body, no headers.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            status_text: String::new(),
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }
}

/// A request to the world that a guest is waiting on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OpRequest {
    /// A global `fetch()`.
    Fetch(HttpRequest),
    /// `env.<binding>.<method>(...args)`.
    Binding {
        /// The env name of the binding.
        binding: String,
        /// The method called.
        method: String,
        /// The arguments, cloned.
        args: Vec<Value>,
    },
    /// `env.<loader>.get(name, ...)`: the worker cached under `name` (or,
    /// with `code`, made and cached) under `handle`. Answers with `handle`,
    /// or `null` for a lookup (`code: None`) of a name that is not cached.
    LoadWorker {
        /// The handle it is to have, chosen by the isolate (see
        /// [`Effect::LoadWorker`]).
        handle: u64,
        /// The env name of the loader binding.
        loader: String,
        /// The cache name.
        name: String,
        /// The code, validated; `None` only asks whether `name` is cached.
        code: Option<Box<crate::workers::dynamic::DynamicCode>>,
    },
    /// A call through an entrypoint stub of a dynamic worker.
    CallWorker {
        /// The worker's handle.
        worker: u64,
        /// The named export, or `None` for the default.
        entrypoint: Option<String>,
        /// `ctx.props` in the callee.
        props: Value,
        /// `getEntrypoint(.., { limits })`.
        limits: crate::workers::dynamic::DynamicLimits,
        /// The RPC method and arguments, or a fetch.
        call: CallKind,
    },
    /// A call through a service binding in `env` (a `ctx.exports`
    /// loopback or a `[[services]]` binding): an RPC method or `fetch()`.
    CallService {
        /// The env name of the binding.
        binding: String,
        /// The RPC method and arguments, or a fetch.
        call: CallKind,
    },
    /// The status and headers of a streamed fetch call's Response;
    /// answered once the host has taken it.
    ResponseHead {
        /// The call.
        call: CallId,
        /// Status, status text, headers, and the whole body when the
        /// Response was made from bytes (then no chunks follow).
        head: HttpResponse,
        /// The body's length when it is known up front: the whole body is
        /// in `head`, or (for big bytes) chunks of exactly this many bytes
        /// in all follow. `None` for a stream of unknown length.
        length: Option<u64>,
    },
    /// The next body chunk of a streamed fetch call's Response; answered
    /// once the host has taken it (the next is read only then).
    ResponseChunk {
        /// The call.
        call: CallId,
        /// The bytes.
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
    /// The next chunk of a fetch call's streamed request body: answered
    /// with a `Uint8Array`, or `null` at its end.
    RequestChunk {
        /// The call.
        call: CallId,
    },
    /// A call through `ctx.exports.Name({ props })` in the worker itself:
    /// one of its own entrypoints, with those props.
    CallLoopback {
        /// The named export, or `None` for the default.
        entrypoint: Option<String>,
        /// `ctx.props` in the callee.
        props: Value,
        /// The RPC method and arguments, or a fetch.
        call: CallKind,
    },
    /// A call through a stub this isolate received in an RPC argument
    /// ([`crate::Value::Stub`]): back to the isolate holding the function
    /// or `RpcTarget`.
    CallStub {
        /// The stub's id, as it arrived.
        stub: u64,
        /// The `RpcTarget` method, or `None` to call a function.
        method: Option<String>,
        /// The arguments (may carry this isolate's own stubs).
        args: Vec<Value>,
    },
    /// An effect an extension asks the host to carry out
    /// ([`crate::HostCall::effect`]), answered with a value or an error by
    /// whatever the host registered for that extension.
    Extension {
        /// The extension's name ([`crate::Extension::name`]).
        extension: String,
        /// Which of its effects.
        name: String,
        /// Its arguments, plain data.
        args: Vec<Value>,
    },
}

impl OpRequest {
    /// Bytes of guest data the host holds while this op is outstanding
    /// (bodies, arguments, code); the engine charges them to the isolate's
    /// memory limit until the op is answered.
    pub fn held_bytes(&self) -> usize {
        let values = |v: &[Value]| v.iter().map(Value::approx_size).sum::<usize>();
        match self {
            Self::Fetch(request) => request.approx_size(),
            Self::Binding { args, .. }
            | Self::CallStub { args, .. }
            | Self::Extension { args, .. } => values(args),
            Self::LoadWorker { code, .. } => code.as_ref().map_or(0, |c| c.approx_size()),
            Self::CallWorker { props, call, .. } | Self::CallLoopback { props, call, .. } => {
                props.approx_size() + call.approx_size()
            }
            Self::CallService { call, .. } => call.approx_size(),
            Self::ResponseHead { head, .. } => head.body.len() + headers_size(&head.headers),
            Self::ResponseChunk { bytes, .. } => bytes.len(),
            Self::RequestChunk { .. } => 0,
        }
    }
}

/// The answer to an [`OpRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OpResult {
    /// A binding call's value.
    Value(Value),
    /// A fetch's response.
    Response(HttpResponse),
    /// The op failed; the guest's promise rejects with this error.
    Error(ErrorValue),
}

/// Log levels of the guest console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// `console.debug`
    Debug,
    /// `console.log`
    Log,
    /// `console.info`
    Info,
    /// `console.warn`
    Warn,
    /// `console.error`
    Error,
}

impl LogLevel {
    /// The level's name as the console method spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Log => "log",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// One console line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Its level.
    pub level: LogLevel,
    /// Milliseconds since the Unix epoch, whole.
    pub timestamp_ms: u64,
    /// The formatted message.
    pub message: String,
}

/// What a call asks of an entrypoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CallKind {
    /// An RPC method call with arguments.
    Rpc {
        /// The method name.
        method: String,
        /// The arguments.
        args: Vec<Value>,
    },
    /// The entrypoint's `fetch(request, env, ctx)` handler.
    Fetch(HttpRequest),
    /// A function or `RpcTarget` this isolate exported as a stub
    /// ([`crate::Value::Stub`]), called back through it. The entrypoint
    /// and props of the call are ignored.
    Stub {
        /// The id the isolate gave the stub.
        stub: u64,
        /// The `RpcTarget` method, or `None` to call the function.
        method: Option<String>,
        /// The arguments.
        args: Vec<Value>,
    },
}

impl CallKind {
    /// Bytes of arguments or body it carries.
    pub fn approx_size(&self) -> usize {
        match self {
            Self::Rpc { args, .. } | Self::Stub { args, .. } => {
                args.iter().map(Value::approx_size).sum()
            }
            Self::Fetch(request) => request.approx_size(),
        }
    }
}

/// A call into an isolate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallSpec {
    /// The caller's id for it; [`Effect::CallSettled`] names it.
    pub id: CallId,
    /// The named export, or `None` for the default export.
    pub entrypoint: Option<String>,
    /// What to call.
    pub kind: CallKind,
    /// `ctx.props` in the guest.
    pub props: Value,
    /// For a fetch: stream the Response through [`OpRequest::ResponseHead`]
    /// and [`OpRequest::ResponseChunk`] ops (settling with
    /// [`CallResult::Streamed`]) instead of returning it whole.
    #[serde(default)]
    pub stream: bool,
    /// For a fetch: the request body arrives through
    /// [`OpRequest::RequestChunk`] ops as the guest reads it (the
    /// request's own `body` is ignored).
    #[serde(default)]
    pub stream_request: bool,
}

/// How a call settled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CallResult {
    /// An RPC method's returned value.
    Value(Value),
    /// A `fetch` handler's Response.
    Response(HttpResponse),
    /// The guest threw (or its promise rejected).
    Threw(ErrorValue),
    /// The worker failed to start (syntax error, missing module, top-level
    /// throw); the message is workerd's `Failed to start Worker: ...`.
    StartupFailed(ErrorValue),
    /// A streamed fetch's Response was handed over in full through its
    /// head and chunk ops.
    Streamed,
    /// The returned value exceeded the size limit for values leaving the
    /// isolate.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

/// Something the isolate wants done or wants known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Effect {
    /// Carry out an op and answer with `complete_op`.
    Op {
        /// Its id.
        id: OpId,
        /// What it asks.
        request: OpRequest,
    },
    /// Call `fire_timer(id)` after `delay_ms`.
    Timer {
        /// Its id.
        id: TimerId,
        /// Whole milliseconds to wait.
        delay_ms: u64,
    },
    /// The timer was cleared; firing it now is harmless but pointless.
    CancelTimer {
        /// Its id.
        id: TimerId,
    },
    /// A console line, and the call whose code wrote it (`None`: code that
    /// acts for no call, such as module scope; it concerns every call).
    Log {
        /// The line.
        entry: LogEntry,
        /// The call it belongs to.
        call: Option<CallId>,
    },
    /// A call's returned promise settled.
    CallSettled {
        /// The call.
        call: CallId,
        /// How.
        result: CallResult,
    },
    /// Every `ctx.waitUntil` promise of the call settled (emitted after
    /// `CallSettled`).
    CallFinished {
        /// The call.
        call: CallId,
    },
    /// `env.<loader>.load(code)`: make a dynamic worker under `handle`.
    /// Wants no answer: the isolate chose the handle (each one greater than
    /// the last, per isolate), so its first call can leave in the same
    /// activation; a failure to make it is that call's answer.
    LoadWorker {
        /// The handle, greater than every handle this isolate used before.
        handle: u64,
        /// The env name of the loader binding.
        loader: String,
        /// The code, validated.
        code: Box<crate::workers::dynamic::DynamicCode>,
    },
    /// The guest can no longer reach dynamic worker `handle`'s stubs: drop
    /// it (the worker goes once nothing else holds it). Wants no answer.
    ReleaseWorker {
        /// The handle.
        handle: u64,
    },
}
