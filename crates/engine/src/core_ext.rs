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
        HostFunction {
            name: c"op",
            length: 1,
            call: calls::op,
        },
        HostFunction {
            name: c"timer",
            length: 2,
            call: calls::timer,
        },
        HostFunction {
            name: c"cancelTimer",
            length: 1,
            call: calls::cancel_timer,
        },
        HostFunction {
            name: c"log",
            length: 2,
            call: calls::log,
        },
        HostFunction {
            name: c"clone",
            length: 1,
            call: calls::clone,
        },
        HostFunction {
            name: c"require",
            length: 2,
            call: calls::require,
        },
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
