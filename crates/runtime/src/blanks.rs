//! Blank isolates made ahead of time, and ended ones freed, on a helper
//! thread of the loader's.
//!
//! Setting an isolate up (the engine's intrinsics, isola's globals) and
//! tearing it down (QuickJS frees every object after a last collection) are
//! most of what a fresh sandbox costs besides its own code. The helper
//! keeps a few blank isolates ready ([`BlankIsolate`]: no code, no `env`,
//! never run) and frees the isolates of workers that have ended, so neither
//! runs on the executor thread that serves the request.
//!
//! At low load the helper runs on a core that would otherwise idle. Under
//! saturation it falls behind, and executors make and free isolates
//! themselves, as they would without it: few ended isolates may wait for
//! it (freeing is cheapest on the thread that allocated, and waiting ones
//! hold memory), and executors never wait for its lock, they only try it.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, TryLockError};

use isola_engine::{BlankIsolate, Isolate, IsolateError};

/// Blank isolates kept ready per native stack limit.
const KEEP: usize = 4;

/// Ended isolates that may wait for the helper; past this (it is behind)
/// whoever ends one frees it.
const MAX_WAITING: usize = 4;

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
        let kept = self.inner.try_lock().and_then(|mut state| {
            if !state.wanted.contains(&stack_limit) {
                state.wanted.push(stack_limit);
            }
            let index = state
                .ready
                .iter()
                .position(|(stack, _)| *stack == stack_limit);
            index.map(|i| state.ready.swap_remove(i).1)
        });
        self.inner.wake.notify_one();
        match kept {
            Some(blank) => Ok(blank),
            None => BlankIsolate::new(crate::platform::platform(), stack_limit),
        }
    }

    /// Frees an ended worker's isolate on the helper thread.
    pub(crate) fn free(&self, isolate: Isolate) {
        match self.inner.try_lock() {
            Some(mut state) if !state.closed && state.ended.len() < MAX_WAITING => {
                state.ended.push(isolate);
                drop(state);
                self.inner.wake.notify_one();
            }
            _ => drop(isolate),
        }
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

    /// The state if nobody holds it: a helper descheduled while holding
    /// the lock must not hold up an executor.
    fn try_lock(&self) -> Option<MutexGuard<'_, State>> {
        match self.state.try_lock() {
            Ok(state) => Some(state),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
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
            let made = BlankIsolate::new(crate::platform::platform(), stack_limit);
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

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use isola_engine::{IsolateConfig, ModuleSpec as Module};

    use super::*;
    use crate::code::WorkerCode;

    const STACK: usize = 1 << 20;

    /// Waits up to 10 s for `done` to hold of the helper's state.
    fn eventually(blanks: &Blanks, done: impl Fn(&State) -> bool) -> bool {
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if done(&blanks.inner.lock()) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    fn isolate(blank: BlankIsolate) -> Option<Isolate> {
        let code = WorkerCode::new("2026-03-01", "a.js")
            .module("a.js", Module::Esm("export default {}".into()))
            .prepare()
            .ok()?;
        blank
            .into_isolate(code.source.clone(), &IsolateConfig::default())
            .ok()
    }

    #[test]
    fn the_helper_keeps_blanks_ready_and_frees_ended_isolates() {
        let blanks = Blanks::start();
        assert!(blanks.take(STACK).is_ok());
        let ready = |state: &State| state.ready.iter().filter(|(s, _)| *s == STACK).count();
        assert!(eventually(&blanks, |state| ready(state) == KEEP));

        let ended = blanks.take(STACK).ok().and_then(isolate);
        assert!(ended.is_some());
        if let Some(ended) = ended {
            blanks.free(ended);
        }
        assert!(eventually(&blanks, |state| state.ended.is_empty()
            && ready(state) == KEEP));

        // After closing, the helper is gone: an ended isolate is freed by
        // whoever hands it over, and nothing waits.
        blanks.close();
        assert!(eventually(&blanks, |state| state.ready.is_empty()));
        if let Some(ended) = blanks.take(STACK).ok().and_then(isolate) {
            blanks.free(ended);
        }
        assert!(blanks.inner.lock().ended.is_empty());
    }
}
