//! The supervisor's side: a pool of jailed worker processes, one per
//! cordon and executor thread, and the handle a driver holds for an
//! isolate living in one.
//!
//! A driver's executor thread talks to its own process of the cordon. One
//! activation at a time is out in a process (its driver holds the slot's
//! turn); while it is out the executor thread serves its other workers,
//! so a parent in one cordon and a child in another run at once, and the
//! thread waits on the process's socket as on any other event source.
//! Everything a process answers is checked
//! as hostile: the frame size, the decoding, the message kind, that it
//! answers the request made. Anything else, a crash, or silence past the
//! deadline kills the process; its isolates are lost and the next isolate
//! gets a fresh process.

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::{Duration, Instant};

use isola_engine::{
    Budget, CallSpec, Effect, IsolateConfig, IsolateError, OpId, OpResult, Termination, TimerId,
    WorkerSource,
};
use isola_jail::{FrameError, Jail, Process};
use tokio::io::unix::AsyncFd;

use super::protocol::{Entry, MAX_REPLY_BYTES, Reply, Request, VERSION, decode, encode};
use crate::outcome::Stopped;

/// How long past an activation's wall deadline a process may take to
/// answer before it is killed. The engine stops guest code at the
/// deadline itself; only a process whose engine no longer does (or a
/// single native pass still running) gets here.
const ANSWER_GRACE: Duration = Duration::from_millis(250);

/// How long a process may take to answer a request that runs no guest
/// code (hello, create).
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

/// Crashes within [`CRASH_WINDOW`] after which a cordon's next process
/// waits: a crash now and then (a guest that found a bug) restarts at
/// once; a loop of them backs off, so it cannot burn the host.
const FREE_RESTARTS: u32 = 3;
const CRASH_WINDOW: Duration = Duration::from_secs(10);

/// The first wait once crashes keep coming; it doubles with each further
/// crash in the window, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// How much of a back-off a new isolate waits out rather than being
/// refused. Its code reached no process, so the crash was not its own: a
/// short wait (the first few back-offs) costs it less than failing, while
/// a long one (a crash loop going on) is refused at once.
const MAX_BACKOFF_WAIT: Duration = Duration::from_millis(250);

/// How often the pool looks at processes no call is using: one that died
/// meanwhile is counted and replaced off the request path.
const TEND_EVERY: Duration = Duration::from_millis(200);

/// The slots of a pool by cordon and executor thread.
type Slots = HashMap<(Arc<str>, usize), Arc<Slot>>;

/// A loader's worker processes.
pub(crate) struct Pool {
    jail: Jail,
    memory_budget: u64,
    slots: Mutex<Slots>,
    /// What the back-off deadlines below count from.
    epoch: Instant,
    /// The latest end of any slot's crash back-off, in ms since `epoch`:
    /// placement asks a slot only while one may be backing off.
    backoffs_end: Arc<AtomicU64>,
}

/// One cordon's process on one executor thread.
pub(crate) struct Slot {
    cordon: Arc<str>,
    /// Held by the driver whose activation is out in the process, and by
    /// the pool's tending: one exchange with a process at a time.
    turn: tokio::sync::Mutex<()>,
    /// Never held across an await.
    state: Mutex<SlotState>,
    restarts: AtomicU32,
    live_isolates: AtomicUsize,
    /// The running process's pid (0: none), readable while an executor
    /// holds the state for an activation.
    pid: AtomicU32,
    /// The end of this slot's crash back-off in ms since the pool's epoch
    /// (0: none), readable without the state.
    backoff_ends: AtomicU64,
    epoch: Instant,
    pool_backoffs_end: Arc<AtomicU64>,
}

struct SlotState {
    process: Option<Process>,
    /// Bumped each time a process is started: isolates of an older one
    /// are gone.
    generation: u64,
    next_isolate: u64,
    /// When this cordon's recent processes were lost (within
    /// [`CRASH_WINDOW`]).
    recent_crashes: std::collections::VecDeque<Instant>,
    /// When a new process may be started after a crash.
    not_before: Option<Instant>,
    /// The process was lost and not yet replaced: the pool's tending
    /// replaces it before a call has to.
    replace: bool,
    /// How the last lost process ended, for the isolates it took along.
    last_loss: String,
    /// The process's socket registered with the executor's event loop
    /// (a duplicate of the process's fd), made at the first activation of
    /// the process of this generation.
    reader: Option<(u64, Arc<AsyncFd<OwnedFd>>)>,
}

/// What the status endpoint shows of a cordon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CordonStatus {
    /// The cordon's name.
    pub name: String,
    /// The pids of its worker processes (as the supervisor sees them).
    pub pids: Vec<u32>,
    /// Isolates alive in them.
    pub live_workers: usize,
    /// Processes that died or were killed and were replaced.
    pub restarts: u32,
    /// Of its processes (one per executor thread), those lost and not
    /// restarted yet because they crashed too often lately: new isolates
    /// of the cordon go to the others meanwhile, and are refused only
    /// while all of them back off.
    pub backing_off: usize,
}

impl Pool {
    /// A pool, and the thread that tends it until the pool is dropped.
    pub(crate) fn start(jail: Jail, memory_budget: usize) -> Arc<Self> {
        let pool = Arc::new(Self {
            jail,
            memory_budget: memory_budget as u64,
            slots: Mutex::default(),
            epoch: Instant::now(),
            backoffs_end: Arc::new(AtomicU64::new(0)),
        });
        let weak = Arc::downgrade(&pool);
        let started = std::thread::Builder::new()
            .name("isola-jail-tend".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(TEND_EVERY);
                    let Some(pool) = weak.upgrade() else { return };
                    pool.tend();
                }
            });
        if let Err(error) = started {
            // Calls still notice dead processes and replace them.
            tracing::warn!(%error, "could not start the thread that tends worker processes");
        }
        pool
    }

    /// Notices processes that died while no call was using them, and
    /// replaces lost ones (outside their crash back-off). Slots in use are
    /// left to the call using them.
    fn tend(&self) {
        let slots: Vec<Arc<Slot>> = self.lock().values().cloned().collect();
        for slot in slots {
            // A slot whose process is in an exchange is the exchange's.
            let Ok(_turn) = slot.turn.try_lock() else {
                continue;
            };
            let mut state = match slot.state.try_lock() {
                Ok(state) => state,
                Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => continue,
            };
            slot.notice_exit(&mut state);
            if state.replace && state.process.is_none() && !state.backing_off() {
                state.replace = false;
                if let Err(error) = slot.ensure_process(&mut state, self) {
                    // The next call tries again and reports its own error.
                    tracing::warn!(cordon = &*slot.cordon, %error, "could not replace a sandbox process");
                }
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The slot of `cordon` on `executor`.
    pub(crate) fn slot(&self, cordon: &str, executor: usize) -> Arc<Slot> {
        let mut slots = self.lock();
        if let Some(slot) = slots.get(&(Arc::from(cordon), executor)) {
            return slot.clone();
        }
        let cordon: Arc<str> = Arc::from(cordon);
        let slot = Arc::new(Slot {
            cordon: cordon.clone(),
            turn: tokio::sync::Mutex::new(()),
            state: Mutex::new(SlotState {
                process: None,
                generation: 0,
                next_isolate: 1,
                recent_crashes: std::collections::VecDeque::new(),
                not_before: None,
                replace: false,
                last_loss: String::new(),
                reader: None,
            }),
            restarts: AtomicU32::new(0),
            live_isolates: AtomicUsize::new(0),
            pid: AtomicU32::new(0),
            backoff_ends: AtomicU64::new(0),
            epoch: self.epoch,
            pool_backoffs_end: self.backoffs_end.clone(),
        });
        slots.insert((cordon, executor), slot.clone());
        slot
    }

    /// Whether the process of `cordon` on `executor` is in its crash
    /// back-off (lost, and not to be restarted yet). New isolates are
    /// placed on another executor then, so that one process crashing in a
    /// loop costs only the isolates it holds.
    pub(crate) fn backing_off(&self, cordon: &str, executor: usize) -> bool {
        let now = millis_since(self.epoch);
        if self.backoffs_end.load(Ordering::Relaxed) <= now {
            return false;
        }
        self.lock()
            .get(&(Arc::from(cordon), executor))
            .is_some_and(|slot| slot.backoff_ends.load(Ordering::Relaxed) > now)
    }

    /// Drops the slots of `cordon`: a slot's process ends with the last
    /// isolate that holds the slot (at once when none does).
    pub(crate) fn retire(&self, cordon: &str) {
        let retired: Vec<Arc<Slot>> = {
            let mut slots = self.lock();
            let keys: Vec<_> = slots
                .keys()
                .filter(|(c, _)| &**c == cordon)
                .cloned()
                .collect();
            keys.iter().filter_map(|key| slots.remove(key)).collect()
        };
        // Ending a process waits for it (up to 20 ms each): not on the
        // caller's thread, which may be an async task's.
        if !retired.is_empty() {
            let dropped = std::thread::Builder::new()
                .name("isola-jail-retire".into())
                .spawn(move || drop(retired));
            if let Err(error) = dropped {
                tracing::warn!(%error, "could not start a thread to end a retired cordon's processes");
            }
        }
    }

    /// Starts the process of `cordon` on `executor` now, so the first
    /// request does not pay for it.
    pub(crate) fn warm(&self, cordon: &str, executor: usize) -> Result<(), String> {
        let slot = self.slot(cordon, executor);
        let mut state = slot.lock();
        slot.ensure_process(&mut state, self).map(|_| ())
    }

    /// The largest peak resident memory of this pool's live worker
    /// processes, in bytes.
    pub(crate) fn peak_rss_bytes(&self) -> u64 {
        self.lock()
            .values()
            .filter_map(|slot| {
                let state = slot.lock();
                state.process.as_ref().and_then(Process::peak_rss_bytes)
            })
            .max()
            .unwrap_or(0)
    }

    /// Every cordon's processes and counts.
    pub(crate) fn status(&self) -> Vec<CordonStatus> {
        let mut by_name: Vec<CordonStatus> = Vec::new();
        for ((cordon, _), slot) in self.lock().iter() {
            let pid = Some(slot.pid.load(Ordering::Relaxed)).filter(|&p| p != 0);
            let entry = match by_name.iter_mut().find(|c| c.name == **cordon) {
                Some(entry) => entry,
                None => {
                    by_name.push(CordonStatus {
                        name: cordon.to_string(),
                        pids: Vec::new(),
                        live_workers: 0,
                        restarts: 0,
                        backing_off: 0,
                    });
                    by_name.last_mut().expect("just pushed")
                }
            };
            entry.pids.extend(pid);
            entry.live_workers += slot.live_isolates.load(Ordering::Relaxed);
            entry.restarts += slot.restarts.load(Ordering::Relaxed);
            if slot.backoff_ends.load(Ordering::Relaxed) > millis_since(self.epoch) {
                entry.backing_off += 1;
            }
        }
        by_name.sort_by(|a, b| a.name.cmp(&b.name));
        by_name
    }
}

impl SlotState {
    /// Within the crash back-off: no new process yet.
    fn backing_off(&self) -> bool {
        self.not_before.is_some_and(|t| Instant::now() < t)
    }

    /// When the back-off ends, if it is on and ends within
    /// [`MAX_BACKOFF_WAIT`].
    fn short_backoff_ends(&self) -> Option<Instant> {
        self.not_before
            .filter(|&t| t.saturating_duration_since(Instant::now()) <= MAX_BACKOFF_WAIT)
            .filter(|_| self.backing_off())
    }
}

impl Slot {
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The running process, started (and greeted) if there is none.
    fn ensure_process<'s>(
        &self,
        state: &'s mut SlotState,
        pool: &Pool,
    ) -> Result<&'s mut Process, String> {
        // A process that died while idle is replaced before it is given a
        // new isolate: only calls in flight are lost to a crash.
        self.notice_exit(state);
        if state.process.is_none() {
            if let Some(not_before) = state.not_before.filter(|_| state.backing_off()) {
                return Err(format!(
                    "the sandbox processes of cordon {:?} keep crashing; the next one starts in {} ms",
                    &*self.cordon,
                    not_before
                        .saturating_duration_since(Instant::now())
                        .as_millis()
                ));
            }
            let mut process = pool.jail.spawn().map_err(|e| e.to_string())?;
            let hello = encode(&Request::Hello {
                version: VERSION,
                memory_budget: pool.memory_budget,
            })?;
            let setup_deadline = Instant::now() + SETUP_TIMEOUT;
            process
                .send_by(&hello, setup_deadline)
                .map_err(|e| e.to_string())?;
            let answer = process
                .recv(Some(setup_deadline), 1024)
                .map_err(|e| e.to_string())?;
            match decode::<Reply>(&answer) {
                Ok(Reply::Hello { version }) if version == VERSION => {}
                _ => return Err("a sandbox process answered its greeting wrongly".into()),
            }
            tracing::debug!(
                cordon = &*self.cordon,
                pid = process.pid(),
                "sandbox process started"
            );
            state.generation += 1;
            state.replace = false;
            state.reader = None;
            self.pid.store(process.pid(), Ordering::Relaxed);
            state.process = Some(process);
        }
        state
            .process
            .as_mut()
            .ok_or_else(|| "no sandbox process".to_owned())
    }

    /// Counts a process that died on its own (while no call used it) as
    /// lost.
    fn notice_exit(&self, state: &mut SlotState) {
        if state.process.as_mut().is_some_and(Process::exited) {
            self.lose(state, "had exited");
        }
    }

    /// Kills the process after a crash or a protocol breach; its isolates
    /// are lost.
    fn lose(&self, state: &mut SlotState, why: &str) -> String {
        let ended = state
            .process
            .take()
            .map(|mut p| p.reap_within(Duration::from_millis(100)))
            .unwrap_or_default();
        state.reader = None;
        self.pid.store(0, Ordering::Relaxed);
        self.restarts.fetch_add(1, Ordering::Relaxed);
        state.replace = true;
        let now = Instant::now();
        state.recent_crashes.push_back(now);
        while state
            .recent_crashes
            .front()
            .is_some_and(|&t| now.duration_since(t) > CRASH_WINDOW)
            || state.recent_crashes.len() > 64
        {
            state.recent_crashes.pop_front();
        }
        let crashes = u32::try_from(state.recent_crashes.len()).unwrap_or(u32::MAX);
        state.not_before = crashes.checked_sub(FREE_RESTARTS + 1).map(|extra| {
            now + FIRST_BACKOFF
                .saturating_mul(1 << extra.min(16))
                .min(MAX_BACKOFF)
        });
        if let Some(not_before) = state.not_before {
            let ends = millis_since(self.epoch).saturating_add(
                u64::try_from(not_before.saturating_duration_since(now).as_millis())
                    .unwrap_or(u64::MAX)
                    .saturating_add(1),
            );
            self.backoff_ends.store(ends, Ordering::Relaxed);
            self.pool_backoffs_end.fetch_max(ends, Ordering::Relaxed);
        }
        tracing::warn!(cordon = &*self.cordon, %why, %ended, "sandbox process lost");
        state.last_loss = format!("{why} ({ended})");
        format!("the sandbox process {why} ({ended}); the calls in flight in it were lost")
    }
}

/// An isolate living in a jailed worker process, as its driver holds it.
pub(crate) struct RemoteIsolate {
    pool: Arc<Pool>,
    slot: Arc<Slot>,
    generation: u64,
    id: u64,
    /// The code and settings, until the first activation sends them.
    pending: Option<(Arc<WorkerSource>, IsolateConfig)>,
    memory_limit: u64,
    reset_log_budget: bool,
    effects: Vec<Effect>,
    cpu_total: Duration,
    memory_used: usize,
    peak_memory: usize,
    budget_full: bool,
}

impl RemoteIsolate {
    /// An isolate for `source` in the cordon's process on `executor`. It is
    /// made in the process together with its first activation.
    pub(crate) fn new(
        pool: &Arc<Pool>,
        cordon: &str,
        executor: usize,
        source: Arc<WorkerSource>,
        config: IsolateConfig,
    ) -> Result<Self, String> {
        let slot = pool.slot(cordon, executor);
        let (generation, id) = {
            let mut state = slot.lock();
            if let Err(why) = slot.ensure_process(&mut state, pool) {
                // In a short back-off, the first activation waits for the
                // next process (see `activate`).
                if state.short_backoff_ends().is_none() {
                    return Err(why);
                }
            }
            let id = state.next_isolate;
            state.next_isolate += 1;
            (state.generation, id)
        };
        slot.live_isolates.fetch_add(1, Ordering::Relaxed);
        Ok(Self {
            pool: pool.clone(),
            slot,
            generation,
            id,
            memory_limit: config.memory_limit as u64,
            pending: Some((source, config)),
            reset_log_budget: false,
            effects: Vec::new(),
            cpu_total: Duration::ZERO,
            memory_used: 0,
            peak_memory: 0,
            budget_full: false,
        })
    }

    /// Whether the process holding this isolate is gone (it crashed or
    /// was killed since the isolate was made): the isolate is lost.
    pub(crate) fn lost(&self) -> bool {
        // Not made yet: it goes to whichever process runs its first
        // activation.
        if self.pending.is_some() {
            return false;
        }
        let mut state = self.slot.lock();
        self.slot.notice_exit(&mut state);
        state.generation != self.generation || state.process.is_none()
    }

    pub(crate) async fn call(
        &mut self,
        spec: CallSpec,
        budget: Budget,
    ) -> Result<Duration, Stopped> {
        self.activate(Entry::Call(spec), budget).await
    }

    pub(crate) async fn complete_op(
        &mut self,
        op: OpId,
        result: OpResult,
        budget: Budget,
    ) -> Result<Duration, Stopped> {
        self.activate(Entry::CompleteOp { op, result }, budget)
            .await
    }

    pub(crate) async fn fire_timer(
        &mut self,
        timer: TimerId,
        budget: Budget,
    ) -> Result<Duration, Stopped> {
        self.activate(Entry::FireTimer { timer }, budget).await
    }

    pub(crate) fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    pub(crate) fn reset_log_budget(&mut self) {
        self.reset_log_budget = true;
    }

    pub(crate) fn set_memory_limit(&mut self, bytes: usize) {
        self.memory_limit = bytes as u64;
    }

    pub(crate) fn memory_used(&self) -> usize {
        self.memory_used
    }

    pub(crate) fn peak_memory(&self) -> usize {
        self.peak_memory
    }

    pub(crate) fn cpu_total(&self) -> Duration {
        self.cpu_total
    }

    pub(crate) fn memory_budget_full(&self) -> bool {
        self.budget_full
    }

    /// One activation: the request (after the isolate's creation, the
    /// first time), then its answer, before the deadline plus grace. The
    /// executor thread serves other workers while it waits.
    async fn activate(&mut self, entry: Entry, budget: Budget) -> Result<Duration, Stopped> {
        let _turn = self.slot.turn.lock().await;
        let deadline = budget.wall_deadline.max(Instant::now()) + ANSWER_GRACE;
        // The first activation carries the isolate's creation, and its
        // answer may be that the isolate could not be made.
        let creating = self.pending.is_some();
        let reader = 'activation: loop {
            let wait_until = 'attempt: {
                let mut state = self.slot.lock();
                if creating {
                    // Its code has not reached a process yet, so a process
                    // lost since it was planned took nothing of it: it is
                    // made in the cordon's current one (started now if need
                    // be), after a short back-off if the cordon is in one.
                    if let Err(why) = self.slot.ensure_process(&mut state, &self.pool) {
                        match state
                            .short_backoff_ends()
                            .filter(|&t| t < budget.wall_deadline)
                        {
                            Some(t) => break 'attempt t,
                            None => return Err(Stopped::Lost(why)),
                        }
                    }
                    self.generation = state.generation;
                }
                if state.generation != self.generation || state.process.is_none() {
                    return Err(self.lost_error(&state));
                }
                // The wall time left is taken when the process is free to
                // start: a turn waited for counts against the call.
                let wall = budget
                    .wall_deadline
                    .saturating_duration_since(Instant::now());
                let activate = Request::Activate {
                    id: self.id,
                    memory_limit: self.memory_limit,
                    reset_log_budget: std::mem::take(&mut self.reset_log_budget),
                    cpu: budget.cpu,
                    wall,
                    entry,
                };
                let mut frames = Vec::with_capacity(2);
                if let Some((source, config)) = self.pending.take() {
                    let create = Request::Create {
                        id: self.id,
                        source: std::borrow::Cow::Borrowed(&source),
                        config: std::borrow::Cow::Borrowed(&config),
                    };
                    frames.push(encode(&create).map_err(Stopped::Lost)?);
                }
                frames.push(encode(&activate).map_err(Stopped::Lost)?);
                match send(&mut state, &frames, deadline) {
                    Ok(reader) => break 'activation reader,
                    Err(failure) => return Err(self.fail(&mut state, failure)),
                }
            };
            tokio::time::sleep_until(wait_until.into()).await;
        };
        let mut unanswered = Unanswered {
            slot: self.slot.clone(),
            generation: self.generation,
            armed: true,
        };
        let answer = loop {
            let ready = tokio::time::timeout_at(deadline.into(), reader.readable()).await;
            let mut state = self.slot.lock();
            if state.generation != self.generation || state.process.is_none() {
                return Err(self.lost_error(&state));
            }
            let mut guard = match ready {
                Ok(Ok(guard)) => guard,
                Ok(Err(error)) => {
                    return Err(self.fail(&mut state, Failure::Broken(error.to_string())));
                }
                Err(_) => return Err(self.fail(&mut state, Failure::TimedOut)),
            };
            let Some(process) = state.process.as_mut() else {
                return Err(self.lost_error(&state));
            };
            match process.try_recv(MAX_REPLY_BYTES) {
                Ok(Some(frame)) => {
                    unanswered.armed = false;
                    break frame;
                }
                // Nothing whole yet: wait for more.
                Ok(None) => guard.clear_ready(),
                Err(error) => return Err(self.fail(&mut state, broken(error))),
            }
        };
        // One answer: the activation's, or, for an isolate being made, why
        // it could not be.
        let activation = match decode::<Reply>(&answer) {
            Ok(Reply::Activated(activation)) => activation,
            Ok(Reply::CreateFailed(error)) if creating => {
                return Err(match error {
                    IsolateError::Terminated(why) => Stopped::Limit(why),
                    IsolateError::Setup(message) => Stopped::Lost(message),
                });
            }
            Ok(_) => {
                let failure = Failure::Broken("answered out of turn".into());
                return Err(self.fail(&mut self.slot.lock(), failure));
            }
            Err(why) => return Err(self.fail(&mut self.slot.lock(), Failure::Broken(why))),
        };
        self.effects = activation.effects;
        self.cpu_total = activation.cpu_total;
        self.memory_used = usize::try_from(activation.memory_used).unwrap_or(usize::MAX);
        self.peak_memory = usize::try_from(activation.peak_memory).unwrap_or(usize::MAX);
        self.budget_full = activation.budget_full;
        activation.result.map_err(Stopped::Limit)
    }

    /// The error of an activation whose process is already gone.
    fn lost_error(&self, state: &SlotState) -> Stopped {
        Stopped::Lost(format!(
            "the sandbox process this worker ran in {}; its calls in flight were lost",
            state.last_loss
        ))
    }

    /// Kills the process after a failed exchange; the activation's error.
    fn fail(&self, state: &mut SlotState, failure: Failure) -> Stopped {
        match failure {
            Failure::TimedOut => {
                self.slot
                    .lose(state, "did not answer within the wall limit and was killed");
                Stopped::Limit(Termination::WallLimit)
            }
            Failure::Broken(why) => Stopped::Lost(self.slot.lose(state, &why)),
        }
    }

    /// Frees the isolate in its process (if that process still runs).
    pub(crate) fn free(self) {
        self.slot.live_isolates.fetch_sub(1, Ordering::Relaxed);
        if self.pending.is_some() {
            return;
        }
        let mut state = self.slot.lock();
        if state.generation != self.generation {
            return;
        }
        let Ok(free) = encode(&Request::Free { id: self.id }) else {
            return;
        };
        if let Some(process) = state.process.as_mut()
            && process
                .send_by(&free, Instant::now() + ANSWER_GRACE)
                .is_err()
        {
            self.slot.lose(&mut state, "closed its socket");
        }
    }
}

/// An activation sent and not yet answered. If it is dropped before its
/// answer is read (its executor shutting down mid-activation), the process
/// is killed: its answer would otherwise be read as the next activation's.
struct Unanswered {
    slot: Arc<Slot>,
    generation: u64,
    armed: bool,
}

impl Drop for Unanswered {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let mut state = self.slot.lock();
        // A failed exchange has already lost the process.
        if state.generation == self.generation && state.process.is_some() {
            self.slot
                .lose(&mut state, "was left with an answer nobody read");
        }
    }
}

enum Failure {
    TimedOut,
    /// Crashed, closed, or said something it should not have.
    Broken(String),
}

/// Sends an activation's frames (a `Create` first when the isolate is
/// being made) before the deadline; the process's socket as the executor's
/// event loop watches it.
fn send(
    state: &mut SlotState,
    frames: &[Vec<u8>],
    deadline: Instant,
) -> Result<Arc<AsyncFd<OwnedFd>>, Failure> {
    let generation = state.generation;
    let Some(process) = state.process.as_mut() else {
        return Err(Failure::Broken("is gone".into()));
    };
    for frame in frames {
        process.send_by(frame, deadline).map_err(broken)?;
    }
    if let Some((made_for, reader)) = &state.reader
        && *made_for == generation
    {
        return Ok(reader.clone());
    }
    let reader = process
        .watch()
        .map(Arc::new)
        .map_err(|e| Failure::Broken(format!("could not watch its socket: {e}")))?;
    state.reader = Some((generation, reader.clone()));
    Ok(reader)
}

fn broken(error: FrameError) -> Failure {
    match error {
        FrameError::TimedOut => Failure::TimedOut,
        FrameError::Closed => Failure::Broken("crashed".into()),
        other => Failure::Broken(other.to_string()),
    }
}

/// Whole milliseconds from `epoch` to now.
fn millis_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}
