//! The seam: how a crate adds to what a guest sees.
//!
//! The engine core knows no web API by name. Everything a guest reaches
//! beyond the language itself comes from an [`Extension`], declared once
//! as a `static` and composed with the others into a
//! [`Platform`](crate::Platform) when the process starts. An extension
//! contributes:
//!
//! - **JS glue chunks** ([`Chunk`]): scripts of the form
//!   `(function (host, load) { …; return exports; })`, compiled once per
//!   process to bytecode and run in an isolate the first time something
//!   needs them. `host` holds the extension's own host functions (and only
//!   those); `load(name)` returns another chunk's exports.
//! - **host functions** ([`HostFunction`]): the only Rust a guest can
//!   reach, called from the glue as `host.name(…)`. Each gets a
//!   [`HostCall`](crate::HostCall), which reads its arguments as hostile
//!   input and charges host-side copies to the isolate's limits.
//! - **globals** ([`Global`]): a function or a value (an object, a class)
//!   exported by one of its chunks. None costs anything until a guest
//!   touches it: functions are native trampolines created on first access,
//!   values are accessors that load their chunk and then become plain
//!   data properties.
//! - **built-in modules** ([`BuiltinModule`]): a specifier such as
//!   `cloudflare:workers`, whose namespace is a chunk's export.
//! - the **fetch adapter** ([`Extension::fetch_adapter`]): the chunk that
//!   turns the host's requests into guest `Request`s and guest `Response`s
//!   back into plain data, for `fetch` handlers and `fetch()` answers.
//!
//! - **effects**: what an extension needs the host to carry out (storage,
//!   a socket) leaves the isolate as an op ([`crate::OpRequest::Extension`],
//!   issued with [`HostCall::effect`](crate::HostCall::effect)) like every
//!   other effect, and its answer settles the guest's promise. The host
//!   answers it in `complete_op`; the runtime refuses effects of an
//!   extension it has no handler for.
//!
//! Glue reaches the core's own effects (`fetch`, bindings, timers) through
//! the core's internals (`load("isola:core").internals.op`).

use std::ffi::CStr;

use crate::host_call::HostFn;

/// A script of JS glue: `(function (host, load) { …; return exports; })`.
#[derive(Debug, Clone, Copy)]
pub struct Chunk {
    /// Its name, unique in the platform, as stack traces show it
    /// (`isola:web`).
    pub name: &'static str,
    /// The source, usually `include_str!` of a file next to the Rust that
    /// serves it.
    pub source: &'static str,
}

/// A value one chunk exports.
#[derive(Debug, Clone, Copy)]
pub struct Export {
    /// The chunk's name.
    pub chunk: &'static str,
    /// The property of its exports.
    pub name: &'static str,
}

/// A host function: `host.<name>(…)` in the extension's glue.
#[derive(Clone, Copy)]
pub struct HostFunction {
    /// The name the glue calls it by.
    pub name: &'static CStr,
    /// Its `length`.
    pub length: u8,
    /// The Rust behind it.
    pub call: HostFn,
}

impl HostFunction {
    /// `host.<name>(…)`, with `length`, calling `call`.
    pub const fn new(name: &'static CStr, length: u8, call: HostFn) -> Self {
        Self { name, length, call }
    }
}

impl std::fmt::Debug for HostFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostFunction")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A global a guest sees.
#[derive(Debug, Clone, Copy)]
pub enum Global {
    /// A function (`fetch`, `setTimeout`): a native trampoline that calls
    /// the export, made the first time the global is read.
    Function {
        /// The global's name.
        name: &'static CStr,
        /// Its `length`.
        length: u8,
        /// The function it forwards to.
        export: Export,
    },
    /// An object or a class (`console`, `Headers`): read, it loads its
    /// chunk and becomes a plain data property holding the export.
    Value {
        /// The global's name.
        name: &'static CStr,
        /// The value.
        export: Export,
    },
}

impl Global {
    pub(crate) fn name(&self) -> &'static CStr {
        match self {
            Global::Function { name, .. } | Global::Value { name, .. } => name,
        }
    }

    pub(crate) fn export(&self) -> Export {
        match self {
            Global::Function { export, .. } | Global::Value { export, .. } => *export,
        }
    }
}

/// A module guests import by a fixed specifier.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinModule {
    /// The specifier (`cloudflare:workers`).
    pub specifier: &'static str,
    /// The namespace object: its properties are the module's exports, and
    /// it is also the default export.
    pub namespace: Export,
    /// The names exported one by one (`import { RpcTarget } from …`).
    pub names: &'static [&'static str],
}

/// What one crate adds to the platform. Declare it as a `static` with the
/// `const` builder:
///
/// ```
/// use isola_engine::{Chunk, Export, Extension, Global};
/// static HELLO: Extension = Extension::new("hello")
///     .chunks(&[Chunk {
///         name: "hello:glue",
///         source: "(function (host, load) { return { hello: () => 'hi' }; })",
///     }])
///     .globals(&[Global::Function {
///         name: c"hello",
///         length: 0,
///         export: Export { chunk: "hello:glue", name: "hello" },
///     }]);
/// ```
#[derive(Debug)]
pub struct Extension {
    name: &'static str,
    chunks: &'static [Chunk],
    host_functions: &'static [HostFunction],
    globals: &'static [Global],
    modules: &'static [BuiltinModule],
    fetch_adapter: Option<&'static str>,
}

impl Extension {
    /// An extension that adds nothing yet.
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            chunks: &[],
            host_functions: &[],
            globals: &[],
            modules: &[],
            fetch_adapter: None,
        }
    }

    /// Its glue chunks.
    #[must_use]
    pub const fn chunks(mut self, chunks: &'static [Chunk]) -> Self {
        self.chunks = chunks;
        self
    }

    /// Its host functions, the `host` object of its chunks.
    #[must_use]
    pub const fn host_functions(mut self, functions: &'static [HostFunction]) -> Self {
        self.host_functions = functions;
        self
    }

    /// The globals it defines.
    #[must_use]
    pub const fn globals(mut self, globals: &'static [Global]) -> Self {
        self.globals = globals;
        self
    }

    /// The built-in modules it provides.
    #[must_use]
    pub const fn modules(mut self, modules: &'static [BuiltinModule]) -> Self {
        self.modules = modules;
        self
    }

    /// Names the chunk of this extension that adapts HTTP for `fetch`
    /// handlers and `fetch()` answers. It exports `makeRequest(url,
    /// method, headers, body)`, `makeStreamingRequest(url, method, headers,
    /// call)`, `responseParts(response)`, `wholeResponse(response)`,
    /// `streamResponse(call, response)` and `makeResponse(status,
    /// statusText, headers, body, url)`. One extension of a platform may.
    #[must_use]
    pub const fn fetch_adapter(mut self, chunk: &'static str) -> Self {
        self.fetch_adapter = Some(chunk);
        self
    }

    /// Its name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    pub(crate) fn parts(&self) -> Parts {
        Parts {
            chunks: self.chunks,
            host_functions: self.host_functions,
            globals: self.globals,
            modules: self.modules,
            fetch_adapter: self.fetch_adapter,
        }
    }
}

/// What an extension declares, for the platform to compose.
pub(crate) struct Parts {
    pub(crate) chunks: &'static [Chunk],
    pub(crate) host_functions: &'static [HostFunction],
    pub(crate) globals: &'static [Global],
    pub(crate) modules: &'static [BuiltinModule],
    pub(crate) fetch_adapter: Option<&'static str>,
}
