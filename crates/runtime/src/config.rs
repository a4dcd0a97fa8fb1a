//! Loader configuration and limits.

use std::time::Duration;

/// Resource limits of a run. Where several apply (the loader's defaults,
/// the worker code's, a call's), the lower of each wins.
///
/// Precision, honestly stated:
/// - **CPU** is the executor thread's CPU clock while the guest runs,
///   polled by the engine about every 10,000 bytecodes; one native call
///   (a huge `sort`, a regex) may overshoot until its next poll. It cannot be
///   caught by `try`/`finally`. With several calls in flight in one worker,
///   CPU used is charged to each of them.
/// - **Memory** is the engine heap (everything the guest allocates, plus
///   roughly 180 KiB of runtime structures), per isolate. A call's lower
///   `memory_bytes` applies while that call is in flight; since the heap is
///   shared by the isolate's module state, what a cached worker already
///   holds counts against it.
/// - **Wall** time runs from the start of a call and includes time spent
///   waiting on host calls and timers; it also bounds `ctx.waitUntil` work.
/// - **Subrequests** count guest `fetch`es and binding calls per call.
/// - **Output** caps a call's result (and fetch request bodies) in bytes.
///
/// Any limit ends the run with its own [`crate::Outcome`] and discards the
/// isolate (the next call starts a fresh one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// CPU milliseconds per call. Default 1,000.
    pub cpu_ms: u64,
    /// Engine heap bytes per isolate. Default 128 MiB, as on Cloudflare.
    pub memory_bytes: usize,
    /// Wall-clock milliseconds per call. Default 30,000.
    pub wall_ms: u64,
    /// Fetches plus binding calls per call. Default 1,000.
    pub subrequests: u32,
    /// Bytes of a call's result. Default 32 MiB.
    pub output_bytes: usize,
    /// Bytes of console output kept per call. Default 1 MiB.
    pub log_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            cpu_ms: 1_000,
            memory_bytes: 128 << 20,
            wall_ms: 30_000,
            subrequests: 1_000,
            output_bytes: 32 << 20,
            log_bytes: 1 << 20,
        }
    }
}

impl Limits {
    /// Each limit the lower of the two.
    #[must_use]
    pub fn min(self, other: Limits) -> Limits {
        Limits {
            cpu_ms: self.cpu_ms.min(other.cpu_ms),
            memory_bytes: self.memory_bytes.min(other.memory_bytes),
            wall_ms: self.wall_ms.min(other.wall_ms),
            subrequests: self.subrequests.min(other.subrequests),
            output_bytes: self.output_bytes.min(other.output_bytes),
            log_bytes: self.log_bytes.min(other.log_bytes),
        }
    }

    pub(crate) fn cpu(&self) -> Duration {
        Duration::from_millis(self.cpu_ms)
    }

    pub(crate) fn wall(&self) -> Duration {
        Duration::from_millis(self.wall_ms)
    }
}

/// How a [`crate::Loader`] runs.
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) threads: usize,
    pub(crate) limits: Limits,
    pub(crate) cache_budget_bytes: usize,
    pub(crate) stack_bytes: usize,
    pub(crate) process_memory_budget: usize,
    pub(crate) jail: Option<isola_jail::Jail>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            threads: std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            limits: Limits::default(),
            cache_budget_bytes: 512 << 20,
            stack_bytes: 1 << 20,
            process_memory_budget: default_process_memory_budget(),
            jail: None,
        }
    }
}

impl Config {
    /// A configuration with the defaults: one executor thread per core,
    /// [`Limits::default`], a 512 MiB budget for cached named workers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Executor threads (at least one). Each hosts many isolates.
    #[must_use]
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The default limits, which are also the ceiling: worker code and calls
    /// can only lower them.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Engine memory that named workers from [`crate::Loader::get`] may hold
    /// together; past it the least recently used are evicted (their next
    /// `get` runs the code callback again).
    #[must_use]
    pub fn cache_budget_bytes(mut self, bytes: usize) -> Self {
        self.cache_budget_bytes = bytes;
        self
    }

    /// The engine heap all isolates of this process may hold together
    /// (default: three quarters of the machine's memory). Isolates that
    /// outlive their request (`ctx.waitUntil` work, cached named workers)
    /// count too. Past it, the guest whose allocation does not fit is
    /// stopped with [`crate::Outcome::MemoryLimit`] (and a warning is
    /// logged), and new isolates cannot start. The budget is process-wide:
    /// the last [`crate::Loader`] created sets it.
    #[must_use]
    pub fn process_memory_budget(mut self, bytes: usize) -> Self {
        self.process_memory_budget = bytes;
        self
    }

    /// Native stack the engine may use per isolate (default 1 MiB; capped at
    /// 4 MiB, the executor threads run with 8 MiB). Deeper guest recursion
    /// gets a `RangeError`.
    #[must_use]
    pub fn stack_bytes(mut self, bytes: usize) -> Self {
        self.stack_bytes = bytes.clamp(64 << 10, 4 << 20);
        self
    }
}

/// Three quarters of the machine's memory (`MemTotal`), or no ceiling
/// where that cannot be read.
impl Config {
    /// Runs every isolate in jailed worker processes started by `jail`
    /// (the second layer: see `isola_jail`), or, with `None` (the
    /// default), in this process with the engine as the only boundary.
    /// Workers of different cordons ([`crate::WorkerCode::cordon`]) never
    /// share a process.
    #[must_use]
    pub fn jail(mut self, jail: Option<isola_jail::Jail>) -> Self {
        self.jail = jail;
        self
    }
}

fn default_process_memory_budget() -> usize {
    let total_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("MemTotal:"))?
                .split_whitespace()
                .nth(1)?
                .parse::<usize>()
                .ok()
        });
    total_kib.map_or(usize::MAX, |kib| kib.saturating_mul(1024) / 4 * 3)
}
