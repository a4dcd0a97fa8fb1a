//! The Loader: creates workers from code, fresh (`load`) or cached by id
//! (`get`), and places their isolates on executor threads.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use isola_engine::CodeError;
use tokio::sync::mpsc;

use crate::code::WorkerCode;
use crate::config::Config;
use crate::driver::Spawn;
use crate::executor::Executor;
use crate::worker::{Worker, WorkerInner};

/// Why a worker could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The code's shape is invalid; the message is workerd's where it has one.
    #[error("{0}")]
    InvalidCode(#[from] CodeError),
    /// The loader could not start or reach an executor thread.
    #[error("isola internal error: {0}")]
    Internal(String),
    /// The jail could not be set up; the message says what is missing.
    #[error("{0}")]
    Jail(String),
}

/// Creates sandboxes. Cheap to clone; `Send + Sync`; usable from any thread
/// or async runtime. Dropping the last clone stops the executor threads once
/// the workers still held elsewhere are done.
#[derive(Clone)]
pub struct Loader {
    inner: Arc<LoaderInner>,
}

/// A loader as its own workers' drivers hold it: weakly, so a worker
/// creating children does not keep the loader (and its threads) alive.
#[derive(Clone)]
pub(crate) struct LoaderHandle(std::sync::Weak<LoaderInner>);

impl LoaderHandle {
    pub(crate) fn upgrade(&self) -> Option<Loader> {
        self.0.upgrade().map(|inner| Loader { inner })
    }
}

/// Counts one live worker until dropped (with its driver).
pub(crate) struct LiveGuard(Arc<AtomicUsize>);

impl LiveGuard {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count.clone())
    }
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

struct LoaderInner {
    config: Config,
    executors: Vec<Executor>,
    next: AtomicUsize,
    cache: Mutex<Cache>,
    /// Workers whose driver is running (a `Worker` or its work is alive).
    live: Arc<AtomicUsize>,
    /// Functions and `RpcTarget`s passed between this loader's workers.
    stubs: Arc<crate::stubs::StubRegistry>,
    /// Makes blank isolates and frees ended ones off the executor threads.
    blanks: crate::blanks::Blanks,
    /// The jailed worker processes, when the loader is jailed.
    pool: Option<Arc<crate::jailed::supervisor::Pool>>,
}

impl Drop for LoaderInner {
    fn drop(&mut self) {
        self.blanks.close();
    }
}

#[derive(Default)]
struct Cache {
    entries: HashMap<String, CacheEntry>,
    clock: u64,
}

impl Cache {
    /// Advances the clock and returns the worker under `id`, marked as just used.
    fn touch(&mut self, id: &str) -> Option<Worker> {
        self.clock += 1;
        let now = self.clock;
        self.entries.get_mut(id).map(|entry| {
            entry.last_used = now;
            entry.worker.clone()
        })
    }
}

struct CacheEntry {
    worker: Worker,
    last_used: u64,
}

impl std::fmt::Debug for Loader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loader")
            .field("threads", &self.inner.executors.len())
            .finish_non_exhaustive()
    }
}

impl Loader {
    /// Starts the executor threads.
    pub fn new(config: Config) -> Result<Self, LoadError> {
        isola_engine::set_process_memory_budget(config.process_memory_budget);
        let pool = config
            .jail
            .clone()
            .map(|jail| crate::jailed::supervisor::Pool::start(jail, config.process_memory_budget));
        if pool.is_none() {
            tracing::debug!("guest isolates run in this process: no jail");
        }
        let executors = (0..config.threads)
            .map(Executor::start)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| LoadError::Internal(format!("could not start an executor thread: {e}")))?;
        Ok(Self {
            inner: Arc::new(LoaderInner {
                config,
                executors,
                next: AtomicUsize::new(0),
                cache: Mutex::new(Cache::default()),
                live: Arc::new(AtomicUsize::new(0)),
                stubs: Arc::default(),
                blanks: crate::blanks::Blanks::start(),
                pool,
            }),
        })
    }

    /// Whether this loader runs isolates in jailed worker processes.
    pub fn jailed(&self) -> bool {
        self.inner.pool.is_some()
    }

    /// Starts the worker processes of `cordon` (one per executor thread)
    /// now, so that no request waits for one, and proves the jail can be
    /// set up here: the error says what the machine lacks.
    pub fn prepare_cordon(&self, cordon: &str) -> Result<(), LoadError> {
        let Some(pool) = &self.inner.pool else {
            return Ok(());
        };
        for executor in 0..self.inner.executors.len() {
            pool.warm(cordon, executor).map_err(LoadError::Jail)?;
        }
        Ok(())
    }

    /// The largest peak resident memory of a live worker process, in
    /// bytes (0 when not jailed): what a guest cost on the far side of the
    /// jail.
    pub fn worker_peak_rss_bytes(&self) -> u64 {
        self.inner.pool.as_ref().map_or(0, |p| p.peak_rss_bytes())
    }

    /// Forgets `cordon`: its worker processes end as soon as no isolate uses
    /// them, and a later worker of that cordon starts new ones. For cordons
    /// made for something that ended (a client session), so that they do
    /// not pile up.
    pub fn retire_cordon(&self, cordon: &str) {
        if let Some(pool) = &self.inner.pool {
            pool.retire(cordon);
        }
    }

    /// The cordons' worker processes (empty when not jailed).
    pub fn cordons(&self) -> Vec<crate::jailed::CordonStatus> {
        self.inner
            .pool
            .as_ref()
            .map(|p| p.status())
            .unwrap_or_default()
    }

    /// A fresh worker: it shares nothing with any other load. Shape errors
    /// are returned here; startup errors (syntax, top-level throw) at the
    /// first call, as on Cloudflare.
    pub fn load(&self, code: WorkerCode) -> Result<Worker, LoadError> {
        self.load_near(code, None)
    }

    /// Which executor a new worker of `cordon` goes to: `near` (its
    /// creator's) when that thread has at most its creator's own call in
    /// flight — no thread hop at low load — otherwise the least busy one
    /// (round robin among equals). An executor whose process of the
    /// cordon is in its crash back-off is passed over while another is
    /// not: a process crashing in a loop loses its own isolates, not the
    /// loads that come after.
    fn place(&self, near: Option<usize>, cordon: &str) -> usize {
        let executors = &self.inner.executors;
        let backing_off = |executor: usize| {
            self.inner
                .pool
                .as_ref()
                .is_some_and(|pool| pool.backing_off(cordon, executor))
        };
        if let Some(near) = near.filter(|&n| n < executors.len())
            && executors[near].busy.load(Ordering::Relaxed) <= 1
            && !backing_off(near)
        {
            return near;
        }
        let start = self.inner.next.fetch_add(1, Ordering::Relaxed);
        (0..executors.len())
            .map(|i| (start + i) % executors.len())
            .min_by_key(|&i| (backing_off(i), executors[i].busy.load(Ordering::Relaxed)))
            .unwrap_or(0)
    }

    /// [`Loader::load`], placed near the executor `near`.
    pub(crate) fn load_near(
        &self,
        code: WorkerCode,
        near: Option<usize>,
    ) -> Result<Worker, LoadError> {
        let prepared = Arc::new(code.prepare()?);
        let limits = prepared.limits.map_or(self.inner.config.limits, |l| {
            self.inner.config.limits.min(l)
        });
        let (calls, receiver) = mpsc::unbounded_channel();
        let memory = Arc::new(AtomicUsize::new(0));
        let index = self.place(near, &prepared.cordon);
        let inner = Arc::new(WorkerInner {
            calls,
            memory: memory.clone(),
            executor: index,
        });
        let jail = self
            .inner
            .pool
            .as_ref()
            .map(|pool| crate::driver::JailPlace {
                pool: pool.clone(),
                cordon: prepared.cordon.clone(),
            });
        let spawn = Spawn {
            code: prepared,
            limits,
            stack_bytes: self.inner.config.stack_bytes,
            calls: receiver,
            memory: memory.clone(),
            loader: LoaderHandle(Arc::downgrade(&self.inner)),
            this: Arc::downgrade(&inner),
            live: LiveGuard::new(&self.inner.live),
            stubs: self.inner.stubs.clone(),
            executor: index,
            busy: self.inner.executors[index].busy.clone(),
            blanks: self.inner.blanks.clone(),
            jail,
        };
        if !self.inner.executors[index].submit(spawn) {
            return Err(LoadError::Internal("an executor thread has stopped".into()));
        }
        Ok(Worker { inner })
    }

    /// Runs the future `task()` makes on executor thread `executor` (see
    /// [`Worker::executor`]), among the workers' drivers there; `false`
    /// when there is no such thread (or it stopped). Front ends use it to
    /// serve a worker's connections on its own thread.
    pub fn run_on(&self, executor: usize, task: crate::executor::LocalTask) -> bool {
        self.inner
            .executors
            .get(executor)
            .is_some_and(|e| e.run(task))
    }

    /// The worker cached under `id`, or a new one from `code()` on a miss.
    /// Calls share its module state. Least recently used workers are evicted
    /// when the cache holds more engine memory than the configured budget;
    /// a `get` after eviction runs `code()` again.
    pub fn get<F>(&self, id: &str, code: F) -> Result<Worker, LoadError>
    where
        F: FnOnce() -> WorkerCode,
    {
        self.get_near(id, code, None)
    }

    /// [`Loader::get`], a new worker placed near the executor `near`.
    pub(crate) fn get_near<F>(
        &self,
        id: &str,
        code: F,
        near: Option<usize>,
    ) -> Result<Worker, LoadError>
    where
        F: FnOnce() -> WorkerCode,
    {
        let mut cache = self.lock_cache();
        if let Some(worker) = cache.touch(id) {
            return Ok(worker);
        }
        let now = cache.clock;
        let worker = self.load_near(code(), near)?;
        cache.entries.insert(
            id.to_owned(),
            CacheEntry {
                worker: worker.clone(),
                last_used: now,
            },
        );
        evict(&mut cache, self.inner.config.cache_budget_bytes, id);
        Ok(worker)
    }

    /// The worker cached under `id`, if any (marked as recently used).
    pub(crate) fn cached(&self, id: &str) -> Option<Worker> {
        self.lock_cache().touch(id)
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.inner
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How many workers are alive: held by a [`Worker`] (or a dynamic
    /// worker's stub), or finishing `ctx.waitUntil` work.
    pub fn live_workers(&self) -> usize {
        self.inner.live.load(Ordering::Relaxed)
    }

    /// How many named workers the cache holds.
    pub fn cached_workers(&self) -> usize {
        self.inner.cache.lock().map_or(0, |c| c.entries.len())
    }
}

fn evict(cache: &mut Cache, budget: usize, keep: &str) {
    loop {
        let total: usize = cache
            .entries
            .values()
            .map(|e| e.worker.memory_bytes())
            .sum();
        if total <= budget {
            return;
        }
        let victim = cache
            .entries
            .iter()
            .filter(|(id, _)| id.as_str() != keep)
            .min_by_key(|(_, e)| e.last_used)
            .map(|(id, _)| id.clone());
        match victim {
            Some(id) => {
                tracing::debug!(%id, "evicting a cached worker");
                cache.entries.remove(&id);
            }
            None => return,
        }
    }
}
