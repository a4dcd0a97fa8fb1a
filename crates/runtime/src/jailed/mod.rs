//! Isolates in jailed worker processes (the second layer): the protocol,
//! the worker process's loop, and the supervisor's pool and handles.

pub(crate) mod protocol;
pub(crate) mod supervisor;
mod worker;

pub use supervisor::CordonStatus;
pub use worker::worker_main;
