//! The engine's own extension: what every isolate has whatever else the
//! platform holds. Console, timers, microtasks, `structuredClone`,
//! `reportError` and `QuotaExceededError` (glue/core.js), the host
//! functions behind them (host/calls.rs), and the helpers the value codec
//! uses.

use crate::extension::{Chunk, Export, Extension, Global, HostFunction};
use crate::host::calls;

const CHUNK: &str = "isola:core";

const fn function(name: &'static std::ffi::CStr, length: u8, export: &'static str) -> Global {
    Global::Function {
        name,
        length,
        export: Export {
            chunk: CHUNK,
            name: export,
        },
    }
}

/// The core extension.
pub(crate) static CORE: Extension = Extension::new("core")
    .chunks(&[Chunk {
        name: CHUNK,
        source: include_str!("glue/core.js"),
    }])
    .host_functions(&[
        HostFunction::new(c"op", 1, calls::op),
        HostFunction::new(c"timer", 2, calls::timer),
        HostFunction::new(c"cancelTimer", 1, calls::cancel_timer),
        HostFunction::new(c"log", 2, calls::log),
        HostFunction::new(c"clone", 1, calls::clone),
        HostFunction::new(c"require", 2, calls::require),
    ])
    .globals(&[
        function(c"setTimeout", 1, "setTimeout"),
        function(c"setInterval", 1, "setInterval"),
        function(c"clearTimeout", 0, "clearTimeout"),
        function(c"clearInterval", 0, "clearInterval"),
        function(c"queueMicrotask", 1, "queueMicrotask"),
        function(c"structuredClone", 1, "structuredClone"),
        function(c"reportError", 1, "reportError"),
        Global::Value {
            name: c"console",
            export: Export {
                chunk: CHUNK,
                name: "console",
            },
        },
        Global::Value {
            name: c"QuotaExceededError",
            export: Export {
                chunk: CHUNK,
                name: "QuotaExceededError",
            },
        },
    ]);
