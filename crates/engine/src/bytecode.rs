//! The guest-side glue (core, extras, Web APIs), compiled once per process.
//!
//! Parsing ~30 KB of JavaScript for every isolate would cost more than the
//! rest of a sandbox. Each glue file is compiled once, in a scratch runtime,
//! to QuickJS bytecode that isolates then read without re-parsing. Only
//! bytecode produced here, from the sources compiled into this binary, is
//! ever loaded: isola never accepts bytecode from callers.
#![allow(unsafe_code)]

use std::sync::OnceLock;

use rquickjs::module::WriteOptions;
use rquickjs::{Context, Ctx, Function, Module, Runtime};

const CORE: &str = include_str!("glue/core.js");
const EXTRAS: &str = include_str!("glue/extras.js");
const WEB: &str = include_str!("glue/web.js");

/// Module names of the glue; the resolver never maps a guest specifier to
/// them, because they are not in any worker's module map.
const CORE_NAME: &str = "isola:core";
const EXTRAS_NAME: &str = "isola:extras";
const WEB_NAME: &str = "isola:web";

fn compile(name: &str, factory_source: &str) -> Result<Vec<u8>, String> {
    let runtime = Runtime::new().map_err(|e| e.to_string())?;
    let context = Context::full(&runtime).map_err(|e| e.to_string())?;
    context.with(|ctx| {
        let source = format!("export default {factory_source}");
        let module =
            Module::declare(ctx.clone(), name, source).map_err(|e| format!("{name}: {e}"))?;
        module
            .write(WriteOptions {
                strip_source: true,
                strip_debug: true,
                ..WriteOptions::default()
            })
            .map_err(|e| format!("{name}: {e}"))
    })
}

fn cached(
    cell: &'static OnceLock<Result<Vec<u8>, String>>,
    name: &str,
    source: &str,
) -> rquickjs::Result<&'static [u8]> {
    cell.get_or_init(|| compile(name, source))
        .as_deref()
        .map_err(|e| rquickjs::Error::new_loading_message(name, e.clone()))
}

/// Evaluates a glue module from its cached bytecode and returns its default
/// export (the factory function).
fn load<'js>(ctx: &Ctx<'js>, bytes: &'static [u8]) -> rquickjs::Result<Function<'js>> {
    // SAFETY: `bytes` is bytecode this process compiled itself from glue
    // sources embedded in the binary (see `compile`), with the same QuickJS
    // build, and it lives for the rest of the process (`'static`), which the
    // ROM-data read mode that `Module::load` uses requires.
    let module = unsafe { Module::load(ctx.clone(), bytes) }?;
    let (module, done) = module.eval()?;
    done.finish::<()>()?;
    module.get("default")
}

pub(crate) fn core<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Function<'js>> {
    static CELL: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();
    load(ctx, cached(&CELL, CORE_NAME, CORE)?)
}

pub(crate) fn extras<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Function<'js>> {
    static CELL: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();
    load(ctx, cached(&CELL, EXTRAS_NAME, EXTRAS)?)
}

pub(crate) fn web<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Function<'js>> {
    static CELL: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();
    load(ctx, cached(&CELL, WEB_NAME, WEB)?)
}
