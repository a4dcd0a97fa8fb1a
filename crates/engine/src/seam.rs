//! [`Platform::new`]: the engine's own extensions first, then the given
//! ones, wired to the native trampolines of `host/` and `globals.rs`. It
//! sits above everything it composes, so the platform's tables below need
//! not name any of it.

use crate::extension::Extension;
use crate::platform::{GlobalSlot, Natives, Platform, PlatformError};

impl Platform {
    /// Composes the engine's own extensions (the core runtime and the
    /// Workers API) with `extensions`. Names must not collide: chunks,
    /// globals, specifiers and each extension's host functions; every
    /// export must name a chunk of the platform. Made once per process:
    /// QuickJS keeps pointers into the platform's tables for as long as
    /// any isolate lives, so it is never freed.
    pub fn new(extensions: &[&'static Extension]) -> Result<&'static Platform, PlatformError> {
        let mut all: Vec<&'static Extension> =
            vec![&crate::core_ext::CORE, &crate::workers::WORKERS];
        all.extend_from_slice(extensions);
        let natives = Natives {
            host: crate::host::call_host,
            function: crate::globals::call_function,
            get: crate::globals::get_value,
            set: crate::globals::set_value,
        };
        let mut platform = Self::compose(all, &natives)?;
        platform.predefined = predefined(&platform.globals)
            .map_err(|e| PlatformError::new(format!("the engine could not be inspected: {e}")))?;
        Ok(Box::leak(Box::new(platform)))
    }
}

/// Which of `globals` the engine's own intrinsics already define (found
/// once per process, in a scratch context).
fn predefined(globals: &[GlobalSlot]) -> rquickjs::Result<Vec<&'static str>> {
    let runtime = rquickjs::Runtime::new()?;
    let context = rquickjs::Context::custom::<crate::isolate::WorkerIntrinsics>(&runtime)?;
    context.with(|ctx| {
        let global = ctx.globals();
        let mut defined = Vec::new();
        for slot in globals {
            if global.contains_key(slot.name)? {
                defined.push(slot.name);
            }
        }
        Ok(defined)
    })
}
