//! The parent worker: built from the config and its modules, cached in the
//! loader under the config's `name`, started once at startup.

use std::sync::Arc;

use isola_engine::ModuleSpec;
use isola_runtime::{
    Config, HttpRequest, Limits, LoadError, Loader, LogEntry, LogLevel, Outcome, Run, Value,
    Worker, WorkerCode,
};

use crate::ServeError;
use crate::config::WranglerConfig;
use crate::modules::Modules;

/// An entrypoint name no module can export (it is not an identifier), so
/// the warm-up call runs module evaluation and nothing else.
const WARM_UP_ENTRYPOINT: &str = "__isola warm-up__";

/// The parent worker and the loader it lives in.
#[derive(Debug)]
pub(crate) struct App {
    loader: Loader,
    id: String,
    code: Arc<CodeParts>,
}

#[derive(Debug)]
struct CodeParts {
    compatibility_date: String,
    compatibility_flags: Vec<String>,
    main: String,
    modules: Vec<(String, ModuleSpec)>,
    vars: Vec<(String, serde_json::Value)>,
    /// Worker Loader bindings and their `get` cache ids.
    loaders: Vec<(String, String)>,
    /// Service bindings to this worker's own entrypoints.
    services: Vec<(String, Option<String>)>,
}

impl CodeParts {
    fn code(&self) -> WorkerCode {
        let mut code = WorkerCode::new(self.compatibility_date.clone(), self.main.clone())
            .compatibility_flags(self.compatibility_flags.iter().cloned());
        for (name, module) in &self.modules {
            code = code.module(name.clone(), module.clone());
        }
        for (name, value) in &self.vars {
            code = code.env_value(name.clone(), value.clone());
        }
        for (binding, id) in &self.loaders {
            code = code.worker_loader_with_id(binding.clone(), id.clone());
        }
        for (binding, entrypoint) in &self.services {
            code = code.self_service(binding.clone(), entrypoint.as_deref());
        }
        code
    }
}

impl App {
    /// Builds the loader from the config's limits and loads the parent.
    pub(crate) fn new(config: &WranglerConfig, modules: Modules) -> Result<Self, ServeError> {
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
        let loader = Loader::new(loader_config).map_err(|e| ServeError::Internal(e.to_string()))?;
        let app = Self {
            loader,
            id: config.name.clone(),
            code: Arc::new(CodeParts {
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
                        (l.binding.clone(), id)
                    })
                    .collect(),
                services: config
                    .services
                    .iter()
                    .map(|s| (s.binding.clone(), s.entrypoint.clone()))
                    .collect(),
            }),
        };
        app.worker()?;
        Ok(app)
    }

    /// The parent, from the loader's cache (loaded again if it was evicted).
    fn worker(&self) -> Result<Worker, ServeError> {
        let code = self.code.clone();
        self.loader
            .get(&self.id, move || code.code())
            .map_err(|e| match e {
                LoadError::InvalidCode(e) => ServeError::Code(e.to_string()),
                LoadError::Internal(m) => ServeError::Internal(m),
            })
    }

    /// Starts the parent's isolate so startup errors (syntax errors, a
    /// missing module, a top-level throw) surface now, with their position,
    /// rather than at the first request.
    pub(crate) async fn warm_up(&self) -> Result<(), ServeError> {
        let run = self
            .worker()?
            .entrypoint(Some(WARM_UP_ENTRYPOINT))
            .call("fetch", Value::Undefined)
            .await;
        self.forward_logs(&run);
        match run.outcome {
            // The module evaluated; the made-up entrypoint does not exist.
            Outcome::Threw(_) | Outcome::Returned(_) | Outcome::Responded(_) => Ok(()),
            Outcome::InvalidCode(e) => {
                // The engine's message already says where (`at file:line:col`);
                // the stack is added only when it says more.
                let stack = e.stack.as_deref().map_or("", str::trim);
                Err(ServeError::Code(
                    if stack.is_empty() || e.message.contains(stack) {
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

    /// Serves one request through the parent's default `fetch` handler.
    pub(crate) async fn fetch(&self, request: HttpRequest) -> Run {
        let run = match self.worker() {
            Ok(worker) => worker.entrypoint(None).fetch(request).await,
            Err(e) => Run {
                outcome: Outcome::Internal(e.to_string()),
                logs: Vec::new(),
                stats: Default::default(),
            },
        };
        self.forward_logs(&run);
        run
    }

    /// The parent's console output, as `tracing` events.
    fn forward_logs(&self, run: &Run) {
        for entry in &run.logs {
            log(&self.id, entry);
        }
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

/// Guest text made safe for a terminal: control characters other than
/// newline and tab are escaped.
pub(crate) fn inert(text: &str) -> String {
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
