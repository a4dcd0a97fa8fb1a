//! The seam: how a crate adds to what a guest sees.
//!
//! The engine core knows no web API by name. Everything a guest reaches
//! beyond the language itself comes from an [`Extension`], declared once
//! as a `static` and composed with the others into a [`Platform`] when the
//! process starts. An extension contributes:
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
//! Effects are the engine's own: glue asks the host for anything outside
//! the isolate with the core's `op` internal (`load("isola:core").internals`),
//! which leaves as an [`Effect`](crate::Effect).

use std::collections::HashMap;
use std::ffi::{CStr, c_int};
use std::sync::OnceLock;

use rquickjs::qjs;

use crate::host::{self, HostFn};

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
    fn name(&self) -> &'static CStr {
        match self {
            Global::Function { name, .. } | Global::Value { name, .. } => name,
        }
    }

    fn export(&self) -> Export {
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
}

/// Why extensions do not compose.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the extensions do not compose: {0}")]
pub struct PlatformError(String);

/// The extensions of this process composed: every chunk, host function,
/// global and built-in module an isolate may have, numbered. Made once per
/// process ([`Platform::new`] returns a `&'static`: QuickJS keeps pointers
/// into its tables for as long as any isolate lives).
pub struct Platform {
    extensions: Vec<&'static Extension>,
    pub(crate) chunks: Vec<ChunkSlot>,
    /// Host functions by number (the `magic` of their trampoline).
    pub(crate) host: Vec<HostFn>,
    /// Per extension, its host object's function list.
    host_lists: Vec<Box<[qjs::JSCFunctionListEntry]>>,
    /// Globals by number (the `magic` of their accessor or trampoline).
    pub(crate) globals: Vec<GlobalSlot>,
    global_list: Box<[qjs::JSCFunctionListEntry]>,
    /// Our global names the intrinsics also define (removed before the
    /// list is installed: QuickJS aborts on a lazy property that exists).
    pub(crate) predefined: Vec<&'static str>,
    modules: HashMap<&'static str, ModuleSlot>,
    pub(crate) fetch_adapter: Option<usize>,
}

// SAFETY: the function lists hold pointers only to `'static` C strings
// and `extern "C"` functions; QuickJS reads them and never writes through
// them. Everything else is plain owned data and `OnceLock`s.
#[allow(unsafe_code)]
unsafe impl Sync for Platform {}
#[allow(unsafe_code)]
unsafe impl Send for Platform {}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform")
            .field(
                "extensions",
                &self.extensions.iter().map(|e| e.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

pub(crate) struct ChunkSlot {
    pub(crate) chunk: Chunk,
    /// The extension whose `host` the chunk gets.
    pub(crate) extension: usize,
    pub(crate) bytecode: OnceLock<Result<Vec<u8>, String>>,
}

pub(crate) struct GlobalSlot {
    pub(crate) name: &'static str,
    pub(crate) chunk: usize,
    pub(crate) export: &'static str,
}

pub(crate) struct ModuleSlot {
    pub(crate) chunk: usize,
    pub(crate) export: &'static str,
    /// The module's source: its names re-exported from `import.meta.isola`.
    pub(crate) declaration: String,
}

/// `writable | configurable`, not enumerable, as Web IDL globals are.
const FUNCTION_FLAGS: u8 = (qjs::JS_PROP_WRITABLE | qjs::JS_PROP_CONFIGURABLE) as u8;

impl Platform {
    /// Composes the engine's own extensions (the core runtime and the
    /// Workers API) with `extensions`. Names must not collide: chunks,
    /// globals, specifiers and each extension's host functions; every
    /// export must name a chunk of the platform.
    pub fn new(extensions: &[&'static Extension]) -> Result<&'static Platform, PlatformError> {
        let mut all: Vec<&'static Extension> =
            vec![&crate::core_ext::CORE, &crate::workers::WORKERS];
        all.extend_from_slice(extensions);
        let platform = Self::compose(all)?;
        Ok(Box::leak(Box::new(platform)))
    }

    fn compose(extensions: Vec<&'static Extension>) -> Result<Platform, PlatformError> {
        let fail = |message: String| Err(PlatformError(message));
        let mut chunks = Vec::new();
        let mut chunk_index = HashMap::new();
        for (e, extension) in extensions.iter().enumerate() {
            for chunk in extension.chunks {
                if chunk_index.insert(chunk.name, chunks.len()).is_some() {
                    return fail(format!("two chunks are named {}", chunk.name));
                }
                chunks.push(ChunkSlot {
                    chunk: *chunk,
                    extension: e,
                    bytecode: OnceLock::new(),
                });
            }
        }
        let find = |export: Export| {
            chunk_index.get(export.chunk).copied().ok_or_else(|| {
                PlatformError(format!(
                    "{} names the chunk {}, which no extension has",
                    export.name, export.chunk
                ))
            })
        };

        let mut host = Vec::new();
        let mut host_lists = Vec::new();
        for extension in &extensions {
            let mut names = std::collections::HashSet::new();
            let mut list = Vec::with_capacity(extension.host_functions.len());
            for function in extension.host_functions {
                if !names.insert(function.name) {
                    return fail(format!(
                        "extension {} has two host functions named {:?}",
                        extension.name, function.name
                    ));
                }
                let Ok(magic) = i16::try_from(host.len()) else {
                    return fail("too many host functions".into());
                };
                host.push(function.call);
                list.push(native_function(
                    function.name,
                    function.length,
                    magic,
                    host::call_host,
                ));
            }
            host_lists.push(list.into_boxed_slice());
        }

        let mut globals = Vec::new();
        let mut global_list = Vec::new();
        let mut global_names = std::collections::HashSet::new();
        for extension in &extensions {
            for global in extension.globals {
                let name = global.name();
                let Ok(text) = name.to_str() else {
                    return fail(format!("the global {name:?} is not UTF-8"));
                };
                if !global_names.insert(text) {
                    return fail(format!("two extensions define the global {text}"));
                }
                let Ok(magic) = i16::try_from(globals.len()) else {
                    return fail("too many globals".into());
                };
                let export = global.export();
                globals.push(GlobalSlot {
                    name: text,
                    chunk: find(export)?,
                    export: export.name,
                });
                global_list.push(match global {
                    Global::Function { length, .. } => {
                        native_function(name, *length, magic, crate::globals::call_function)
                    }
                    Global::Value { .. } => crate::globals::lazy_value(name, magic),
                });
            }
        }

        let mut modules = HashMap::new();
        for extension in &extensions {
            for module in extension.modules {
                let declaration = format!(
                    "const m = import.meta.isola;\nexport const {{ {} }} = m;\nexport default m;\n",
                    module.names.join(", ")
                );
                let slot = ModuleSlot {
                    chunk: find(module.namespace)?,
                    export: module.namespace.name,
                    declaration,
                };
                if modules.insert(module.specifier, slot).is_some() {
                    return fail(format!("two modules are named {}", module.specifier));
                }
            }
        }

        let mut fetch_adapter = None;
        for extension in &extensions {
            if let Some(chunk) = extension.fetch_adapter {
                if fetch_adapter.is_some() {
                    return fail("two extensions adapt fetch".into());
                }
                fetch_adapter = Some(find(Export { chunk, name: "" })?);
            }
        }

        let predefined = crate::globals::predefined(&globals)
            .map_err(|e| PlatformError(format!("the engine could not be inspected: {e}")))?;
        Ok(Platform {
            extensions,
            chunks,
            host,
            host_lists,
            globals,
            global_list: global_list.into_boxed_slice(),
            predefined,
            modules,
            fetch_adapter,
        })
    }

    /// The names of the composed extensions, the engine's own first.
    pub fn extensions(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.extensions.iter().map(|e| e.name)
    }

    /// The names of every global the platform defines.
    pub fn global_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.globals.iter().map(|g| g.name)
    }

    /// The chunk named `name`.
    pub(crate) fn chunk_named(&self, name: &str) -> Option<usize> {
        self.chunks.iter().position(|c| c.chunk.name == name)
    }

    /// The built-in module `specifier`, if there is one.
    pub(crate) fn module(&self, specifier: &str) -> Option<&ModuleSlot> {
        self.modules.get(specifier)
    }

    /// Whether `specifier` names a built-in module.
    pub(crate) fn is_builtin(&self, specifier: &str) -> bool {
        self.modules.contains_key(specifier)
    }

    /// The function list of extension `index`'s host object.
    pub(crate) fn host_list(
        &'static self,
        extension: usize,
    ) -> &'static [qjs::JSCFunctionListEntry] {
        self.host_lists.get(extension).map_or(&[], |list| &list[..])
    }

    /// The list that installs every global.
    pub(crate) fn global_list(&'static self) -> &'static [qjs::JSCFunctionListEntry] {
        &self.global_list
    }

    /// Installs `list` on `object` (QuickJS makes each entry on first use).
    pub(crate) fn install_list(
        ctx: &rquickjs::Ctx<'_>,
        object: &rquickjs::Object<'_>,
        list: &'static [qjs::JSCFunctionListEntry],
    ) -> rquickjs::Result<()> {
        // SAFETY: `list` lives as long as the platform, which is `'static`
        // (QuickJS keeps pointers to entries for lazily made properties);
        // `object` is a live object of `ctx`.
        #[allow(unsafe_code)]
        let rc = unsafe {
            qjs::JS_SetPropertyFunctionList(
                ctx.as_raw().as_ptr(),
                object.as_raw(),
                list.as_ptr(),
                c_int::try_from(list.len()).unwrap_or(0),
            )
        };
        if rc < 0 {
            return Err(rquickjs::Error::Exception);
        }
        Ok(())
    }
}

/// A function-list entry for a native function `call(magic)`.
fn native_function(
    name: &'static CStr,
    length: u8,
    magic: i16,
    call: crate::globals::NativeFn,
) -> qjs::JSCFunctionListEntry {
    qjs::JSCFunctionListEntry {
        name: name.as_ptr(),
        prop_flags: FUNCTION_FLAGS,
        def_type: qjs::JS_DEF_CFUNC as u8,
        magic,
        u: qjs::JSCFunctionListEntry__bindgen_ty_1 {
            func: qjs::JSCFunctionListEntry__bindgen_ty_1__bindgen_ty_1 {
                length,
                cproto: qjs::JSCFunctionEnum_JS_CFUNC_generic_magic as u8,
                cfunc: qjs::JSCFunctionType {
                    generic_magic: Some(call),
                },
            },
        },
    }
}
