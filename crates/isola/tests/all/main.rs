//! All integration tests, in one binary (as wasmtime does).

mod support;

mod async_work;
mod cli;
mod codec;
mod console;
mod entrypoints;
mod env;
mod escapes;
mod limits;
mod loader;
mod modules;
mod outbound;
mod streams;
mod web;
mod webcrypto;
