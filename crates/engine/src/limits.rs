//! What stops a guest: the memory meter, the CPU and wall clocks, and the
//! interrupt handler that turns a tripped limit into an uncatchable stop.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Why an isolate was stopped. After any of these the isolate must be
/// dropped: the guest was interrupted at an arbitrary point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Termination {
    /// The CPU budget of the current activation ran out.
    CpuLimit,
    /// The engine heap reached its limit.
    MemoryLimit,
    /// The wall-clock deadline passed while guest code was running.
    WallLimit,
}

/// A time budget for one activation of guest code.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// CPU time the activation may use.
    pub cpu: Duration,
    /// The instant after which guest code is stopped.
    pub wall_deadline: Instant,
}

impl Budget {
    /// A budget with the given CPU time and wall-clock deadline.
    pub fn new(cpu: Duration, wall_deadline: Instant) -> Self {
        Self { cpu, wall_deadline }
    }
}

/// Heap accounting shared by the allocator and the interrupt handler.
#[derive(Debug)]
pub(crate) struct MemoryMeter {
    used: Cell<usize>,
    peak: Cell<usize>,
    limit: Cell<usize>,
    exceeded: Cell<bool>,
    /// Taken from the process-wide budget (see [`crate::budget`]).
    reserved: Cell<usize>,
    /// An allocation was refused because the process budget was full.
    budget_full: Cell<bool>,
}

impl MemoryMeter {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            used: Cell::new(0),
            peak: Cell::new(0),
            limit: Cell::new(limit),
            exceeded: Cell::new(false),
            reserved: Cell::new(0),
            budget_full: Cell::new(false),
        }
    }

    /// Whether `extra` more bytes fit, in the isolate's limit and in the
    /// process's budget; records the failure if not.
    pub(crate) fn admits(&self, extra: usize) -> bool {
        let Some(total) = self
            .used
            .get()
            .checked_add(extra)
            .filter(|total| *total <= self.limit.get())
        else {
            self.exceeded.set(true);
            return false;
        };
        let reserved = self.reserved.get();
        if total > reserved {
            let step = (total - reserved).next_multiple_of(crate::budget::STEP);
            if !crate::budget::reserve(step) {
                self.budget_full.set(true);
                self.exceeded.set(true);
                return false;
            }
            self.reserved.set(reserved + step);
        }
        true
    }

    /// The system allocator itself failed (the process's address-space
    /// rlimit in a jailed worker, or the machine out of memory): it ends
    /// the isolate as its own limit would, rather than as an `out of
    /// memory` error the guest could catch and carry on from.
    pub(crate) fn refused_by_the_system(&self) {
        self.exceeded.set(true);
    }

    /// Whether an allocation was refused because the process-wide budget
    /// was full (rather than the isolate's own limit).
    pub(crate) fn budget_full(&self) -> bool {
        self.budget_full.get()
    }

    pub(crate) fn add(&self, bytes: usize) {
        let used = self.used.get().saturating_add(bytes);
        self.used.set(used);
        if used > self.peak.get() {
            self.peak.set(used);
        }
    }

    pub(crate) fn sub(&self, bytes: usize) {
        let used = self.used.get().saturating_sub(bytes);
        self.used.set(used);
        // Keep one step in hand; give back whole steps beyond four.
        let reserved = self.reserved.get();
        let keep = used.next_multiple_of(crate::budget::STEP) + crate::budget::STEP;
        if reserved > keep + 3 * crate::budget::STEP {
            crate::budget::release(reserved - keep);
            self.reserved.set(keep);
        }
    }

    pub(crate) fn set_limit(&self, limit: usize) {
        self.limit.set(limit);
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit.get()
    }

    pub(crate) fn used(&self) -> usize {
        self.used.get()
    }

    pub(crate) fn peak(&self) -> usize {
        self.peak.get()
    }

    pub(crate) fn exceeded(&self) -> bool {
        self.exceeded.get()
    }
}

impl Drop for MemoryMeter {
    fn drop(&mut self) {
        crate::budget::release(self.reserved.get());
    }
}

/// The state the interrupt handler polls.
#[derive(Debug)]
pub(crate) struct Watchdog {
    pub(crate) memory: Rc<MemoryMeter>,
    cpu_start: Cell<Duration>,
    cpu_budget: Cell<Duration>,
    wall_deadline: Cell<Option<Instant>>,
    tripped: Cell<Option<Termination>>,
    /// Bytes allocated since the allocator last looked at the clocks.
    allocated_since_look: Cell<usize>,
}

/// Bytes allocated between looks at the clocks from the allocator: a
/// native built-in that allocates as it goes is looked at every MiB (a
/// look costs one `clock_gettime`, well under a microsecond).
const ALLOCATION_BETWEEN_LOOKS: usize = 1 << 20;

impl Watchdog {
    pub(crate) fn new(memory: Rc<MemoryMeter>) -> Self {
        Self {
            memory,
            cpu_start: Cell::new(Duration::ZERO),
            cpu_budget: Cell::new(Duration::MAX),
            wall_deadline: Cell::new(None),
            tripped: Cell::new(None),
            allocated_since_look: Cell::new(0),
        }
    }

    /// Asked by the allocator before each allocation during an activation:
    /// every [`ALLOCATION_BETWEEN_LOOKS`] bytes it polls, and refuses that
    /// allocation if a limit has fired, so a native built-in that allocates
    /// as it goes fails with an out-of-memory error within a MiB instead of
    /// finishing its pass (the engine's own interrupt check then ends the
    /// guest). Small allocations between looks pass, so the host can still
    /// build the outcome; outside activations every allocation passes.
    pub(crate) fn allocation_allowed(&self, size: usize) -> bool {
        if self.wall_deadline.get().is_none() {
            return true;
        }
        let since = self.allocated_since_look.get().saturating_add(size);
        if since < ALLOCATION_BETWEEN_LOOKS {
            self.allocated_since_look.set(since);
            return true;
        }
        self.allocated_since_look.set(0);
        !self.poll()
    }

    /// Arms the watchdog for one activation; returns its CPU start.
    pub(crate) fn arm(&self, budget: Budget) -> Duration {
        let start = thread_cpu_time();
        self.cpu_start.set(start);
        self.cpu_budget.set(budget.cpu);
        self.wall_deadline.set(Some(budget.wall_deadline));
        start
    }

    /// Ends an activation: host code that touches the heap between
    /// activations (building a call's arguments, reading its result) must
    /// not be stopped by the clocks of an activation that is over. The
    /// engine polls inside native helpers too (see the vendored QuickJS
    /// patch), so a stale deadline would otherwise fire there.
    pub(crate) fn disarm(&self) {
        self.cpu_budget.set(Duration::MAX);
        self.wall_deadline.set(None);
    }

    /// Called by the engine every ~10k bytecodes, and as often in long
    /// native loops (sorting, string search, big integer arithmetic,
    /// loops over an array-like's indices); `true` stops the guest.
    pub(crate) fn poll(&self) -> bool {
        if self.tripped.get().is_some() {
            return true;
        }
        let verdict = if self.memory.exceeded() {
            Some(Termination::MemoryLimit)
        } else if thread_cpu_time().saturating_sub(self.cpu_start.get()) > self.cpu_budget.get() {
            Some(Termination::CpuLimit)
        } else if self.wall_deadline.get().is_some_and(|d| Instant::now() > d) {
            Some(Termination::WallLimit)
        } else {
            None
        };
        if verdict.is_some() {
            self.tripped.set(verdict);
        }
        verdict.is_some()
    }

    /// The limit that fired, also checking the memory meter, which can trip
    /// inside a native call that returns before the next poll.
    pub(crate) fn tripped(&self) -> Option<Termination> {
        if self.tripped.get().is_none() && self.memory.exceeded() {
            self.tripped.set(Some(Termination::MemoryLimit));
        }
        self.tripped.get()
    }

    /// Records a limit found outside the interrupt handler.
    pub(crate) fn trip(&self, why: Termination) {
        if self.tripped.get().is_none() {
            self.tripped.set(Some(why));
        }
    }
}

/// CPU time consumed by the calling thread.
pub(crate) fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and CLOCK_THREAD_CPUTIME_ID is
    // supported on every Linux the engine builds for; the call only writes `ts`.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    )
}

/// Returns freed heap memory to the operating system (`malloc_trim`), so
/// RSS measurements reflect live isolates only.
pub fn release_freed_memory() {
    // SAFETY: malloc_trim only releases free pages of the C heap; it touches
    // no live allocation.
    #[allow(unsafe_code)]
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Limits on values crossing the boundary.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct CodecLimits {
    /// Deepest nesting accepted.
    pub max_depth: usize,
    /// Largest value accepted, as [`crate::Value::approx_size`] counts.
    pub max_bytes: usize,
}

impl Default for CodecLimits {
    fn default() -> Self {
        Self {
            max_depth: 128,
            max_bytes: 32 << 20,
        }
    }
}
