//! The extensions of a process composed: every chunk, host function,
//! global and built-in module an isolate may have, numbered, with the
//! QuickJS function lists that install them. Low in the engine: it points
//! at the native trampolines it is given (see [`Natives`]) rather than
//! naming them, and the engine's own extensions are added by
//! [`Platform::new`] (in `seam.rs`).

use std::collections::HashMap;
use std::ffi::{CStr, c_int};
use std::sync::OnceLock;

use rquickjs::qjs;

use crate::extension::{Chunk, Export, Extension, Global};
use crate::host_call::HostFn;

/// Why extensions do not compose.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the extensions do not compose: {0}")]
pub struct PlatformError(String);

impl PlatformError {
    pub(crate) fn new(message: String) -> Self {
        Self(message)
    }
}

/// The extensions of this process composed: every chunk, host function,
/// global and built-in module an isolate may have, numbered. Made once per
/// process ([`Platform::new`] returns a `&'static`: QuickJS keeps pointers
/// into its tables for as long as any isolate lives).
pub struct Platform {
    extensions: Vec<&'static Extension>,
    pub(crate) chunks: Vec<ChunkSlot>,
    /// Host functions by number (the `magic` of their trampoline), with
    /// their extension's name.
    pub(crate) host: Vec<(HostFn, &'static str)>,
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
                &self.extensions.iter().map(|e| e.name()).collect::<Vec<_>>(),
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

/// The native functions the platform's function lists point at: every
/// host function's trampoline, a function global's, and a value global's
/// getter and setter (they live above the platform, in `host/` and
/// `globals.rs`).
pub(crate) struct Natives {
    pub(crate) host: NativeFn,
    pub(crate) function: NativeFn,
    pub(crate) get: Getter,
    pub(crate) set: Setter,
}

/// A native function QuickJS calls with a `magic` number.
pub(crate) type NativeFn = unsafe extern "C" fn(
    *mut qjs::JSContext,
    qjs::JSValue,
    c_int,
    *mut qjs::JSValue,
    c_int,
) -> qjs::JSValue;
/// A native getter QuickJS calls with a `magic` number.
pub(crate) type Getter =
    unsafe extern "C" fn(*mut qjs::JSContext, qjs::JSValue, c_int) -> qjs::JSValue;
/// A native setter QuickJS calls with a `magic` number.
pub(crate) type Setter =
    unsafe extern "C" fn(*mut qjs::JSContext, qjs::JSValue, qjs::JSValue, c_int) -> qjs::JSValue;

impl Platform {
    /// Composes `extensions` in order, their lists pointing at `natives`.
    /// The names the intrinsics already define are filled in by the caller.
    pub(crate) fn compose(
        extensions: Vec<&'static Extension>,
        natives: &Natives,
    ) -> Result<Platform, PlatformError> {
        let fail = |message: String| Err(PlatformError(message));
        let mut chunks = Vec::new();
        let mut chunk_index = HashMap::new();
        for (e, extension) in extensions.iter().enumerate() {
            for chunk in extension.parts().chunks {
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
            let parts = extension.parts();
            let mut list = Vec::with_capacity(parts.host_functions.len());
            for function in parts.host_functions {
                if !names.insert(function.name) {
                    return fail(format!(
                        "extension {} has two host functions named {:?}",
                        extension.name(),
                        function.name
                    ));
                }
                let Ok(magic) = i16::try_from(host.len()) else {
                    return fail("too many host functions".into());
                };
                host.push((function.call, extension.name()));
                list.push(native_function(
                    function.name,
                    function.length,
                    magic,
                    natives.host,
                ));
            }
            host_lists.push(list.into_boxed_slice());
        }

        let mut globals = Vec::new();
        let mut global_list = Vec::new();
        let mut global_names = std::collections::HashSet::new();
        for extension in &extensions {
            for global in extension.parts().globals {
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
                        native_function(name, *length, magic, natives.function)
                    }
                    Global::Value { .. } => lazy_value(name, magic, natives),
                });
            }
        }

        let mut modules = HashMap::new();
        for extension in &extensions {
            for module in extension.parts().modules {
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
            if let Some(chunk) = extension.parts().fetch_adapter {
                if fetch_adapter.is_some() {
                    return fail("two extensions adapt fetch".into());
                }
                fetch_adapter = Some(find(Export { chunk, name: "" })?);
            }
        }

        Ok(Platform {
            extensions,
            chunks,
            host,
            host_lists,
            globals,
            global_list: global_list.into_boxed_slice(),
            predefined: Vec::new(),
            modules,
            fetch_adapter,
        })
    }

    /// The names of the composed extensions, the engine's own first.
    pub fn extensions(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.extensions.iter().map(|e| e.name())
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

/// The function-list entry of a value global: an accessor that loads the
/// value, then replaces itself with a data property.
fn lazy_value(name: &'static CStr, magic: i16, natives: &Natives) -> qjs::JSCFunctionListEntry {
    qjs::JSCFunctionListEntry {
        name: name.as_ptr(),
        prop_flags: qjs::JS_PROP_CONFIGURABLE as u8,
        def_type: qjs::JS_DEF_CGETSET_MAGIC as u8,
        magic,
        u: qjs::JSCFunctionListEntry__bindgen_ty_1 {
            getset: qjs::JSCFunctionListEntry__bindgen_ty_1__bindgen_ty_2 {
                get: qjs::JSCFunctionType {
                    getter_magic: Some(natives.get),
                },
                set: qjs::JSCFunctionType {
                    setter_magic: Some(natives.set),
                },
            },
        },
    }
}

/// A function-list entry for a native function `call(magic)`.
fn native_function(
    name: &'static CStr,
    length: u8,
    magic: i16,
    call: NativeFn,
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
