//! One memory budget for every isolate of the process together.
//!
//! Each isolate's heap has its own limit, but a host runs many isolates at
//! once, and some outlive their request (`ctx.waitUntil` work, cached named
//! workers): without a ceiling on the sum, enough tenants within their own
//! limits exhaust the machine. Each isolate's meter reserves its heap from
//! this budget in 1 MiB steps (so the shared counter is touched once per
//! MiB, not per allocation) and gives it back as the heap shrinks and when
//! the isolate is dropped. An allocation that would take the process past
//! the budget fails like one past the isolate's own limit: the guest is
//! stopped with a memory-limit outcome, and an isolate cannot be created.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The step in which isolates reserve from the budget.
pub(crate) const STEP: usize = 1 << 20;

static BUDGET: AtomicUsize = AtomicUsize::new(usize::MAX);
static RESERVED: AtomicUsize = AtomicUsize::new(0);

/// Sets the ceiling on the engine heap of all isolates in this process
/// together (the default is no ceiling). It is process-wide: every
/// [`crate::Isolate`] counts against it, whichever loader made it.
pub fn set_process_memory_budget(bytes: usize) {
    BUDGET.store(bytes, Ordering::Relaxed);
}

/// The ceiling set by [`set_process_memory_budget`].
pub fn process_memory_budget() -> usize {
    BUDGET.load(Ordering::Relaxed)
}

/// Engine heap reserved by all live isolates now (at most one [`STEP`]
/// or so per isolate above what they use).
pub fn process_memory_reserved() -> usize {
    RESERVED.load(Ordering::Relaxed)
}

/// Takes `bytes` from the budget; `false`, taking nothing, if that would
/// pass it.
pub(crate) fn reserve(bytes: usize) -> bool {
    let before = RESERVED.fetch_add(bytes, Ordering::Relaxed);
    if before.saturating_add(bytes) > BUDGET.load(Ordering::Relaxed) {
        RESERVED.fetch_sub(bytes, Ordering::Relaxed);
        return false;
    }
    true
}

/// Gives `bytes` back.
pub(crate) fn release(bytes: usize) {
    RESERVED.fetch_sub(bytes, Ordering::Relaxed);
}
