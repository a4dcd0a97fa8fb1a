//! The parent worker: built from the config and its modules, cached in the
//! loader under the config's `name`, started once at startup.

use std::collections::HashMap;
use std::sync::Arc;

use isola_engine::ModuleSpec;
use isola_runtime::{
    Config, HttpRequest, Limits, LoadError, Loader, LogEntry, LogLevel, Outcome, RequestBody,
    ResponseStream, ServiceSlot, Value, Worker, WorkerCode,
};

use crate::ServeError;
use crate::config::WranglerConfig;
use crate::modules::Modules;

/// An entrypoint name no module can export (it is not an identifier), so
/// the warm-up call runs module evaluation and nothing else.
const WARM_UP_ENTRYPOINT: &str = "__isola warm-up__";

/// The parent worker, the workers declared alongside it (reachable through
/// `[[services]]`), and the loader they live in.
#[derive(Debug)]
pub(crate) struct App {
    loader: Loader,
    id: String,
    code: Arc<CodeParts>,
    /// The other workers, by name: loaded once, held for the server's life.
    others: Vec<(String, Worker)>,
}

/// One worker's config and modules, as read at startup.
pub(crate) struct Declared {
    pub(crate) config: WranglerConfig,
    pub(crate) modules: Modules,
}

/// Where a service binding points.
#[derive(Debug)]
enum ServiceTarget {
    /// The worker holding the binding.
    This,
    /// Another declared worker.
    Other(ServiceSlot),
}

#[derive(Debug)]
struct CodeParts {
    compatibility_date: String,
    compatibility_flags: Vec<String>,
    main: String,
    modules: Vec<(String, ModuleSpec)>,
    vars: Vec<(String, serde_json::Value)>,
    /// Worker Loader bindings, their `get` cache ids and cordons.
    loaders: Vec<(String, String, String)>,
    /// Service bindings: binding, target, entrypoint.
    services: Vec<(String, ServiceTarget, Option<String>)>,
}

impl CodeParts {
    fn new(declared: Declared, slots: &HashMap<String, ServiceSlot>) -> Self {
        let Declared { config, modules } = declared;
        Self {
            compatibility_date: config.compatibility_date.clone(),
            compatibility_flags: config.compatibility_flags.clone(),
            main: modules.main,
            modules: modules.modules.into_iter().collect(),
            vars: config.vars.clone(),
            // A loader without an `id` keeps its own cache, stable for
            // the life of the server (also across a re-load of the parent).
            loaders: config
                .worker_loaders
                .iter()
                .map(|l| {
                    let id =
                        l.id.clone()
                            .unwrap_or_else(|| format!("{}/{}", config.name, l.binding));
                    let cordon = l.cordon.clone().unwrap_or_else(|| id.clone());
                    (l.binding.clone(), id, cordon)
                })
                .collect(),
            services: config
                .services
                .iter()
                .map(|s| {
                    let target = match slots.get(&s.service) {
                        Some(slot) if s.service != config.name => {
                            ServiceTarget::Other(slot.clone())
                        }
                        _ => ServiceTarget::This,
                    };
                    (s.binding.clone(), target, s.entrypoint.clone())
                })
                .collect(),
        }
    }

    fn code(&self) -> WorkerCode {
        let mut code = WorkerCode::new(self.compatibility_date.clone(), self.main.clone())
            .compatibility_flags(self.compatibility_flags.iter().cloned());
        for (name, module) in &self.modules {
            code = code.module(name.clone(), module.clone());
        }
        for (name, value) in &self.vars {
            code = code.env_value(name.clone(), value.clone());
        }
        for (binding, id, cordon) in &self.loaders {
            code = code
                .worker_loader_with_id(binding.clone(), id.clone())
                .loader_cordon(binding.clone(), cordon.clone());
        }
        for (binding, target, entrypoint) in &self.services {
            code = match target {
                ServiceTarget::This => code.self_service(binding.clone(), entrypoint.as_deref()),
                ServiceTarget::Other(slot) => {
                    code.service(binding.clone(), slot, entrypoint.as_deref())
                }
            };
        }
        code
    }
}

impl App {
    /// Builds the loader from the main config's limits, loads the parent
    /// and the workers declared alongside it, and binds their services.
    /// Every `[[services]]` name must already have been checked to name one
    /// of them.
    pub(crate) fn new(
        main: Declared,
        others: Vec<Declared>,
        jail: Option<isola_runtime::Jail>,
    ) -> Result<Self, ServeError> {
        let config = &main.config;
        let defaults = Limits::default();
        let isola = &config.isola;
        let limits = Limits {
            cpu_ms: config.cpu_ms.unwrap_or(defaults.cpu_ms),
            memory_bytes: isola.memory_mb.map_or(defaults.memory_bytes, mib),
            wall_ms: isola.wall_ms.unwrap_or(defaults.wall_ms),
            subrequests: isola.subrequests.unwrap_or(defaults.subrequests),
            ..defaults
        };
        let mut loader_config = Config::default().limits(limits);
        if let Some(threads) = isola.threads {
            loader_config = loader_config.threads(threads);
        }
        if let Some(budget) = isola.cache_budget_mb {
            loader_config = loader_config.cache_budget_bytes(mib(budget));
        }
        if let Some(budget) = isola.memory_budget_mb {
            loader_config = loader_config.process_memory_budget(mib(budget));
        }
        let jail = match (isola.jail, jail) {
            (Some(false), Some(_)) => {
                tracing::warn!(
                    "[isola] jail = false: guest code runs inside this process with the engine \
                     as its only boundary; an engine bug would reach everything this process can"
                );
                None
            }
            (_, jail) => jail,
        };
        let loader = Loader::new(loader_config.jail(jail))
            .map_err(|e| ServeError::Internal(e.to_string()))?;
        // Every cordon's processes start now: no request waits for one,
        // and a machine that cannot jail refuses to serve.
        let cordons = std::iter::once(&main)
            .chain(&others)
            .flat_map(|d| {
                d.config.worker_loaders.iter().map(|l| {
                    l.cordon
                        .clone()
                        .or_else(|| l.id.clone())
                        .unwrap_or_else(|| format!("{}/{}", d.config.name, l.binding))
                })
            })
            .collect::<Vec<_>>();
        for cordon in std::iter::once("main").chain(cordons.iter().map(String::as_str)) {
            loader
                .prepare_cordon(cordon)
                .map_err(|e| load_error(None, e))?;
        }
        let slots: HashMap<String, ServiceSlot> = std::iter::once(&main)
            .chain(&others)
            .map(|d| (d.config.name.clone(), ServiceSlot::new()))
            .collect();
        let id = main.config.name.clone();
        let mut loaded = Vec::with_capacity(others.len());
        for declared in others {
            let name = declared.config.name.clone();
            let parts = CodeParts::new(declared, &slots);
            let worker = loader
                .load(parts.code())
                .map_err(|e| load_error(Some(&name), e))?;
            slots[&name].bind(&worker);
            loaded.push((name, worker));
        }
        let app = Self {
            loader,
            code: Arc::new(CodeParts::new(main, &slots)),
            id,
            others: loaded,
        };
        slots[&app.id].bind(&app.worker()?);
        Ok(app)
    }

    /// What `/__isola/status` shows: whether guests are jailed, and each
    /// cordon's processes.
    pub(crate) fn status(&self) -> serde_json::Value {
        let cordons: Vec<serde_json::Value> = self
            .loader
            .cordons()
            .into_iter()
            .map(|c| {
                serde_json::json!({
                    "name": c.name,
                    "pids": c.pids,
                    "live_workers": c.live_workers,
                    "restarts": c.restarts,
                    "backing_off": c.backing_off,
                })
            })
            .collect();
        serde_json::json!({
            "jail": self.loader.jailed(),
            "live_workers": self.loader.live_workers(),
            "cordons": cordons,
        })
    }

    /// The executor thread the parent runs on, if it loads.
    pub(crate) fn parent_executor(&self) -> Option<usize> {
        self.worker().ok().map(|worker| worker.executor())
    }

    /// Runs `task()` on executor thread `executor`; `false` if that
    /// thread has stopped.
    pub(crate) fn run_on(&self, executor: usize, task: isola_runtime::LocalTask) -> bool {
        self.loader.run_on(executor, task)
    }

    /// The parent, from the loader's cache (loaded again if it was evicted).
    fn worker(&self) -> Result<Worker, ServeError> {
        let code = self.code.clone();
        self.loader
            .get(&self.id, move || code.code())
            .map_err(|e| load_error(None, e))
    }
}

/// A load failure; `name` is given for the workers declared alongside the
/// parent, so the message says which one.
fn load_error(name: Option<&str>, error: LoadError) -> ServeError {
    match error {
        LoadError::InvalidCode(e) => ServeError::Code(match name {
            Some(name) => format!("worker \"{name}\": {e}"),
            None => e.to_string(),
        }),
        LoadError::Internal(m) => ServeError::Internal(m),
        LoadError::Jail(m) => ServeError::Jail(m),
    }
}

/// Evaluates a worker's modules (see [`App::warm_up`]).
async fn warm_up_worker(name: &str, worker: &Worker) -> Result<(), ServeError> {
    let run = worker
        .entrypoint(Some(WARM_UP_ENTRYPOINT))
        .call("fetch", Value::Undefined)
        .await;
    for entry in &run.logs {
        log(name, entry);
    }
    match run.outcome {
        // The module evaluated; the made-up entrypoint does not exist.
        Outcome::Threw(_) | Outcome::Returned(_) | Outcome::Responded(_) => Ok(()),
        Outcome::InvalidCode(e) => {
            // The engine's message already says where (`at file:line:col`);
            // the stack is added only when it says more.
            let stack = e.stack.as_deref().map_or("", str::trim);
            Err(ServeError::Code(
                if stack.is_empty() || e.message.contains(stack) || says_where(&e.message, stack) {
                    e.message
                } else {
                    format!("{}\n{stack}", e.message)
                },
            ))
        }
        Outcome::Internal(m) => Err(ServeError::Internal(m)),
        limit => Err(ServeError::Code(format!(
            "Failed to start Worker: {}",
            limit.message().unwrap_or_default()
        ))),
    }
}

impl App {
    /// Starts every worker's isolate so startup errors (syntax errors, a
    /// missing module, a top-level throw) surface now, with their position,
    /// rather than at the first request.
    pub(crate) async fn warm_up(&self) -> Result<(), ServeError> {
        for (name, worker) in &self.others {
            warm_up_worker(name, worker).await?;
        }
        warm_up_worker(&self.id, &self.worker()?).await
    }

    /// Serves one request through the parent's default `fetch` handler.
    /// Its Response streams: the head as soon as the handler returns it,
    /// the body as the parent produces it.
    pub(crate) fn fetch(
        &self,
        request: HttpRequest,
        body: Option<RequestBody>,
    ) -> Result<ResponseStream, ServeError> {
        // Console lines become `tracing` events as the guest writes them
        // (a streaming body's and `ctx.waitUntil` work's too), not when
        // the call ends.
        let worker = self.id.clone();
        Ok(self
            .worker()?
            .entrypoint(None)
            .on_log(move |entry| log(&worker, entry))
            .fetch_streaming(request, body))
    }
}

fn log(worker: &str, entry: &LogEntry) {
    let message = inert(&entry.message);
    match entry.level {
        LogLevel::Debug => tracing::debug!(target: "isola::worker", %worker, "{message}"),
        LogLevel::Log | LogLevel::Info => {
            tracing::info!(target: "isola::worker", %worker, "{message}");
        }
        LogLevel::Warn => tracing::warn!(target: "isola::worker", %worker, "{message}"),
        LogLevel::Error => tracing::error!(target: "isola::worker", %worker, "{message}"),
    }
}

/// Whether `message` already names the location of `stack`'s first frame
/// (`at agent.js:1:7` against `at <anonymous> (agent.js:1:7)`).
fn says_where(message: &str, stack: &str) -> bool {
    let first = stack.lines().next().unwrap_or_default();
    let location = first
        .rsplit_once('(')
        .map_or(first, |(_, rest)| rest.trim_end_matches(')'))
        .trim_start_matches("at ")
        .trim();
    !location.is_empty() && message.contains(location)
}

/// Guest text made safe for a terminal: control characters other than
/// newline and tab are escaped.
pub fn inert(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn mib(n: u64) -> usize {
    usize::try_from(n)
        .unwrap_or(usize::MAX)
        .saturating_mul(1 << 20)
}
