//! isola-jail: the second layer.
//!
//! Guest code runs in worker processes that jail themselves before they
//! read a byte of it: fresh namespaces, an empty root, rlimits, no
//! capabilities, landlock and a seccomp allowlist ([`enter`](crate) order
//! in ARCHITECTURE.md). The supervisor (the isola process) talks to each
//! over one UNIX socket carrying length-prefixed [frames](frame).
//!
//! This crate knows nothing of isolates: it starts, jails, frames and kills
//! processes. What runs inside is the runtime's business.
//!
//! A binary that can be a worker calls [`worker_invocation`] first thing
//! in `main`; the supervisor starts it through a [`Jail`].

#![allow(unsafe_code)] // namespaces, mounts, rlimits and capabilities are FFI

mod enter;
pub mod frame;
#[doc(hidden)]
pub mod probe;
mod seccomp;
mod spawn;

pub use frame::{Channel, FrameError, MAX_FRAME_BYTES};
pub use seccomp::{ALLOWED as ALLOWED_SYSCALLS, DENIED_QUIETLY as SYSCALLS_DENIED_WITH_EACCES};
pub use spawn::{Jail, JailError, Process};

/// The first argument that makes a binary a worker process.
pub const WORKER_ARG: &str = "__isola-jail-worker";

/// The worker's end of the socket, placed here by the supervisor.
pub(crate) const SOCKET_FD: libc::c_int = 3;

/// Settings the supervisor passes on a worker's command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Settings {
    pub(crate) address_space_bytes: u64,
    pub(crate) max_threads: u64,
}

/// What a worker applied, as it reports it once jailed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Landlock's state: fully, partially or not enforced.
    pub landlock: String,
    /// Seccomp programs installed.
    pub seccomp_programs: usize,
}

/// This process was started as a worker: jail it now, before anything
/// else runs.
#[derive(Debug)]
pub struct WorkerInvocation {
    settings: Settings,
}

/// `Some` when this process was started by a [`Jail`] as a worker. Call
/// it first thing in `main`, before any thread starts or file is opened.
pub fn worker_invocation() -> Option<WorkerInvocation> {
    let mut args = std::env::args_os().skip(1);
    if args.next()? != WORKER_ARG {
        return None;
    }
    let mut number = || -> Option<u64> { args.next()?.to_str()?.parse().ok() };
    let settings = Settings {
        address_space_bytes: number()?,
        max_threads: number()?,
    };
    Some(WorkerInvocation { settings })
}

impl WorkerInvocation {
    /// Jails this process and returns its socket to the supervisor. If the
    /// jail cannot be applied, tells the supervisor why and exits: a worker
    /// never runs unjailed.
    pub fn enter(self) -> Channel {
        match enter::enter(&self.settings) {
            Ok((mut channel, report)) => {
                let line = format!(
                    "ok\nlandlock={}\nseccomp={}",
                    report.landlock, report.seccomp_programs
                );
                if channel.send(line.as_bytes()).is_err() {
                    std::process::exit(1);
                }
                channel
            }
            Err(message) => {
                use std::os::fd::FromRawFd;
                // SAFETY: fd 3 is the supervisor socket; if the failure came
                // before it was checked, the write below just fails.
                let stream = unsafe { std::os::unix::net::UnixStream::from_raw_fd(SOCKET_FD) };
                let mut channel = Channel::new(stream);
                let _ = channel.send(format!("error\n{message}").as_bytes());
                std::process::exit(1);
            }
        }
    }
}
