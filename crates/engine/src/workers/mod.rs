//! The Workers API: `cloudflare:workers` (`WorkerEntrypoint`, `RpcTarget`,
//! `env`, …), `navigator`, and the capability stubs a worker's `env`
//! holds (bindings, service bindings, Worker Loaders, `ctx.exports`
//! loopbacks), whose calls leave the isolate as ops. It is the Cloudflare
//! compatibility surface, registered like any extension; dispatch
//! (`crate::dispatch`) calls into it for entrypoint classes and stubs.

pub(crate) mod dynamic;

use rquickjs::Value as JsValue;

use crate::extension::{BuiltinModule, Chunk, Export, Extension, Global, HostFunction};
use crate::host::calls;
use crate::host_call::HostCall;

const CHUNK: &str = "isola:workers";

/// `host.env()`: the worker's `env`.
fn env<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    crate::glue::with(host.ctx(), |g| g.env.clone().into_value())
}

/// The Workers API extension.
pub(crate) static WORKERS: Extension = Extension::new("workers")
    .chunks(&[
        Chunk {
            name: CHUNK,
            source: include_str!("workers.js"),
        },
        Chunk {
            name: "isola:bindings",
            source: include_str!("bindings.js"),
        },
    ])
    .host_functions(&[
        HostFunction::new(c"op", 1, calls::op),
        HostFunction::new(c"env", 0, env),
    ])
    .globals(&[Global::Value {
        name: c"navigator",
        export: Export {
            chunk: CHUNK,
            name: "navigator",
        },
    }])
    .modules(&[BuiltinModule {
        specifier: "cloudflare:workers",
        namespace: Export {
            chunk: CHUNK,
            name: "workersModule",
        },
        names: &[
            "WorkerEntrypoint",
            "DurableObject",
            "WorkflowEntrypoint",
            "RpcTarget",
            "env",
        ],
    }]);
