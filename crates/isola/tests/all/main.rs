//! All integration tests, in one binary (as wasmtime does).

mod support;

mod async_work;
mod cli;
mod codec;
mod codemode;
mod console;
mod dynamic;
mod egress;
mod entrypoints;
mod env;
mod escapes;
mod fetch_api;
mod host_memory;
mod host_state;
mod jail;
mod limits;
mod loader;
mod modules;
mod native_loops;
mod outbound;
mod rpc_stubs;
mod serve;
mod streams;
mod web;
mod webcrypto;
