//! Blank isolates made ahead of time, and ended ones freed, on a helper
//! thread of the loader's.
//!
//! Setting an isolate up (the engine's intrinsics, isola's globals) and
//! tearing it down (QuickJS frees every object after a last collection) are
//! most of what a fresh sandbox costs besides its own code. The helper
//! keeps a few blank isolates ready ([`BlankIsolate`]: no code, no `env`,
//! never run) and frees the isolates of workers that have ended, so neither
//! runs on the executor thread that serves the request. When the helper
//! falls behind, a worker makes its own blank isolate as before.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use isola_engine::{BlankIsolate, Isolate, IsolateError};

/// Blank isolates kept ready per native stack limit.
const KEEP: usize = 4;

/// A loader's helper thread, shared by its workers' drivers. The thread
/// ends when the loader closes it; isolates handed over after that are
/// freed by whoever hands them over.
#[derive(Clone)]
pub(crate) struct Blanks {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    /// Blank isolates by native stack limit.
    ready: Vec<(usize, BlankIsolate)>,
    /// The stack limits workers have asked for (kept topped up to KEEP).
    wanted: Vec<usize>,
    /// Isolates of ended workers, to free.
    ended: Vec<Isolate>,
    /// The loader is gone, or the thread could not start.
    closed: bool,
}

impl Blanks {
    /// Starts the helper thread (if it cannot start, workers make and free
    /// their isolates themselves).
    pub(crate) fn start() -> Self {
        let inner = Arc::new(Inner {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
        });
        let helper = inner.clone();
        let started = std::thread::Builder::new()
            .name("isola-blanks".into())
            .spawn(move || helper.run());
        if let Err(error) = started {
            tracing::warn!(%error, "could not start the blank-isolate thread");
            inner.lock().closed = true;
        }
        Self { inner }
    }

    /// A blank isolate with `stack_limit`: a ready one if there is one,
    /// else a new one made here. Either way the helper tops up.
    pub(crate) fn take(&self, stack_limit: usize) -> Result<BlankIsolate, IsolateError> {
        let kept = {
            let mut state = self.inner.lock();
            if !state.wanted.contains(&stack_limit) {
                state.wanted.push(stack_limit);
            }
            let index = state
                .ready
                .iter()
                .position(|(stack, _)| *stack == stack_limit);
            index.map(|i| state.ready.swap_remove(i).1)
        };
        self.inner.wake.notify_one();
        match kept {
            Some(blank) => Ok(blank),
            None => BlankIsolate::new(stack_limit),
        }
    }

    /// Frees an ended worker's isolate on the helper thread.
    pub(crate) fn free(&self, isolate: Isolate) {
        let mut state = self.inner.lock();
        if state.closed {
            drop(state);
            drop(isolate);
            return;
        }
        state.ended.push(isolate);
        drop(state);
        self.inner.wake.notify_one();
    }

    /// Ends the helper thread once it has freed what it was handed.
    pub(crate) fn close(&self) {
        self.inner.lock().closed = true;
        self.inner.wake.notify_one();
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Frees ended isolates first (their memory), then makes one blank
    /// isolate at a time, outside the lock, for a stack limit below KEEP.
    fn run(&self) {
        let mut state = self.lock();
        loop {
            if !state.ended.is_empty() {
                let ended = std::mem::take(&mut state.ended);
                drop(state);
                drop(ended);
                state = self.lock();
                continue;
            }
            if state.closed {
                let ready = std::mem::take(&mut state.ready);
                drop(state);
                drop(ready);
                return;
            }
            let short = state
                .wanted
                .iter()
                .copied()
                .find(|&stack| state.ready.iter().filter(|(s, _)| *s == stack).count() < KEEP);
            let Some(stack_limit) = short else {
                state = self
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            };
            drop(state);
            let made = BlankIsolate::new(stack_limit);
            state = self.lock();
            match made {
                Ok(blank) => state.ready.push((stack_limit, blank)),
                Err(error) => {
                    tracing::warn!(%error, "could not make a blank isolate ahead of time");
                    state.wanted.retain(|&s| s != stack_limit);
                }
            }
        }
    }
}
