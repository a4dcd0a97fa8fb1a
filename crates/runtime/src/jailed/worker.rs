//! The loop of a jailed worker process: isolates on one thread, run when
//! the supervisor says, their effects sent back as data.
//!
//! The process trusts the supervisor (it started it); it owns nothing the
//! guest could use: no file, no socket but the supervisor's, no secret.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use isola_engine::{Budget, Isolate, IsolateError};
use isola_jail::{Channel, WorkerInvocation};

use super::protocol::{Activation, Entry, Reply, Request, VERSION, decode, encode};

/// The thread isolates run on: the stack an executor thread has.
const THREAD_STACK_BYTES: usize = 8 << 20;

/// Jails this process, then serves the supervisor until it closes the
/// socket. Never returns.
pub fn worker_main(invocation: WorkerInvocation) -> ! {
    let channel = invocation.enter();
    let served = std::thread::Builder::new()
        .name("isola-jailed".into())
        .stack_size(THREAD_STACK_BYTES)
        .spawn(move || serve(channel))
        .map(|thread| thread.join().is_ok());
    std::process::exit(if matches!(served, Ok(true)) { 0 } else { 1 });
}

fn serve(mut channel: Channel) {
    let blanks = crate::blanks::Blanks::start();
    let mut isolates: HashMap<u64, Isolate> = HashMap::new();
    // Creations that failed, answered at the isolate's first activation.
    let mut failed: HashMap<u64, IsolateError> = HashMap::new();
    while let Ok(frame) = channel.recv(None, isola_jail::MAX_FRAME_BYTES) {
        let Ok(request) = decode::<Request<'_>>(&frame) else {
            return;
        };
        let reply = match request {
            Request::Hello {
                version,
                memory_budget,
            } => {
                isola_engine::set_process_memory_budget(
                    usize::try_from(memory_budget).unwrap_or(usize::MAX),
                );
                if version != VERSION {
                    return;
                }
                Reply::Hello { version: VERSION }
            }
            Request::Create { id, source, config } => {
                let config = config.into_owned();
                let made = blanks
                    .take(config.stack_limit)
                    .and_then(|blank| blank.into_isolate(Arc::new(source.into_owned()), &config));
                match made {
                    Ok(isolate) => {
                        isolates.insert(id, isolate);
                    }
                    Err(error) => {
                        failed.insert(id, error);
                    }
                }
                continue;
            }
            Request::Activate {
                id,
                memory_limit,
                reset_log_budget,
                cpu,
                wall,
                entry,
            } => {
                let Some(isolate) = isolates.get_mut(&id) else {
                    // The supervisor names only isolates it asked for.
                    let Some(error) = failed.remove(&id) else {
                        return;
                    };
                    if !send(&mut channel, &Reply::CreateFailed(error)) {
                        return;
                    }
                    continue;
                };
                isolate.set_memory_limit(usize::try_from(memory_limit).unwrap_or(usize::MAX));
                if reset_log_budget {
                    isolate.reset_log_budget();
                }
                let budget = Budget::new(cpu, Instant::now() + wall);
                let result = match entry {
                    Entry::Call(spec) => isolate.call(spec, budget),
                    Entry::CompleteOp { op, result } => isolate.complete_op(op, result, budget),
                    Entry::FireTimer { timer } => isolate.fire_timer(timer, budget),
                };
                Reply::Activated(Activation {
                    result,
                    effects: isolate.take_effects(),
                    cpu_total: isolate.cpu_total(),
                    memory_used: isolate.memory_used() as u64,
                    peak_memory: isolate.peak_memory() as u64,
                    budget_full: isolate.memory_budget_full(),
                })
            }
            Request::Free { id } => {
                if let Some(isolate) = isolates.remove(&id) {
                    blanks.free(isolate);
                }
                continue;
            }
        };
        // The reply's values are freed before it is sent: the process
        // never holds a payload three times.
        let Ok(bytes) = encode(&reply) else { return };
        drop(reply);
        if channel.send(&bytes).is_err() {
            return;
        }
    }
}

fn send(channel: &mut Channel, reply: &Reply) -> bool {
    encode(reply).is_ok_and(|bytes| channel.send(&bytes).is_ok())
}
