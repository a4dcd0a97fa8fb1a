//! Blank isolates made ahead of time, per executor thread.
//!
//! Setting up an isolate (the engine's intrinsics, isola's globals) is most
//! of what a fresh sandbox costs. Each executor thread keeps a couple of
//! blank ones ([`BlankIsolate`]: never used, no code, no `env`) and makes
//! the next when the thread has nothing else ready to run, so a fresh
//! worker usually starts from one and the setup is off the request's path.

use std::cell::{Cell, RefCell};

use isola_engine::{BlankIsolate, IsolateError};

/// Blank isolates kept per thread.
const KEEP: usize = 2;

thread_local! {
    /// Blank isolates by their native stack limit.
    static BLANKS: RefCell<Vec<(usize, BlankIsolate)>> = const { RefCell::new(Vec::new()) };
    static REFILLING: Cell<bool> = const { Cell::new(false) };
}

/// A blank isolate with `stack_limit`: one made ahead of time if there is
/// one, else a new one. Schedules a refill.
pub(crate) fn take(stack_limit: usize) -> Result<BlankIsolate, IsolateError> {
    let kept = BLANKS.with(|blanks| {
        let mut blanks = blanks.borrow_mut();
        let index = blanks.iter().position(|(stack, _)| *stack == stack_limit)?;
        Some(blanks.swap_remove(index).1)
    });
    refill(stack_limit);
    match kept {
        Some(blank) => Ok(blank),
        None => BlankIsolate::new(stack_limit),
    }
}

fn kept(stack_limit: usize) -> usize {
    BLANKS.with(|blanks| {
        blanks
            .borrow()
            .iter()
            .filter(|(stack, _)| *stack == stack_limit)
            .count()
    })
}

/// Makes blank isolates up to [`KEEP`], one at a time, each when the
/// thread has no call in flight and every task ready on it has run.
fn refill(stack_limit: usize) {
    if REFILLING.with(Cell::get) || kept(stack_limit) >= KEEP {
        return;
    }
    REFILLING.with(|r| r.set(true));
    tokio::task::spawn_local(async move {
        while kept(stack_limit) < KEEP {
            // Behind the tasks ready now, and only once no call is in
            // flight on this thread: a request must not wait for a refill.
            tokio::task::yield_now().await;
            if !crate::executor::idle() {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                continue;
            }
            match BlankIsolate::new(stack_limit) {
                Ok(blank) => BLANKS.with(|blanks| blanks.borrow_mut().push((stack_limit, blank))),
                Err(e) => {
                    tracing::warn!(error = %e, "could not make a blank isolate ahead of time");
                    break;
                }
            }
        }
        REFILLING.with(|r| r.set(false));
    });
}
