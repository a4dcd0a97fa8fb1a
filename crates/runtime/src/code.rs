//! Worker code as a host hands it to the loader.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use isola_engine::{CodeError, EnvEntry, ModuleSpec, Value, WorkerSource};

use crate::binding::{Binding, OutboundHandler};
use crate::config::Limits;
use crate::service::{Service, ServiceSlot, ServiceWorker};

/// The largest `env` a worker may have, as on Cloudflare.
pub(crate) const MAX_ENV_BYTES: usize = 1 << 20;

/// Where a worker's global `fetch()` goes.
#[derive(Clone, Default)]
pub enum Outbound {
    /// `fetch()` rejects with workerd's message for `globalOutbound: null`.
    /// The default: a worker reaches the world only through its bindings.
    #[default]
    Blocked,
    /// Every `fetch()` is delivered to this handler as a request; its
    /// response is what the guest sees.
    Handler(Arc<dyn OutboundHandler>),
    /// `fetch()` goes to the network, under the [`isola_egress::Egress`]'s
    /// policy (allow-lists, SSRF guard, pinned addresses, redirects
    /// re-checked, injected credentials, caps). Refusals and failures
    /// reject with a `TypeError`.
    Allow(isola_egress::Egress),
}

impl fmt::Debug for Outbound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outbound::Blocked => f.write_str("Blocked"),
            Outbound::Handler(_) => f.write_str("Handler(..)"),
            Outbound::Allow(egress) => f.debug_tuple("Allow").field(egress).finish(),
        }
    }
}

/// The message `fetch()` rejects with when outbound is blocked (workerd's).
pub(crate) const BLOCKED_MESSAGE: &str = "This worker is not permitted to access the internet via global functions like fetch(). It must use capabilities (such as bindings in 'env') to talk to the outside world.";

enum EnvItem {
    Value(Value),
    Binding(Arc<dyn Binding>),
    /// A Worker Loader; its `get` names live in this cache namespace.
    WorkerLoader(String),
    /// A service binding to an entrypoint of a worker.
    Service(Service),
}

/// Namespaces of loader bindings declared without an `id`: each binding
/// gets its own name cache, as in workerd.
static NEXT_LOADER_NAMESPACE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A worker's code, env, outbound and limits: what `Loader::load` takes.
///
/// ```
/// use isola_runtime::{Module, WorkerCode};
/// let code = WorkerCode::new("2026-03-01", "agent.js")
///     .module("agent.js", Module::Esm("export default { hi() { return 1 } }".into()))
///     .env_value("CONFIG", serde_json::json!({"tier": "free"}));
/// ```
pub struct WorkerCode {
    compatibility_date: Option<String>,
    compatibility_flags: Vec<String>,
    main: String,
    modules: Vec<(String, Result<ModuleSpec, CodeError>)>,
    env: Vec<(String, EnvItem)>,
    outbound: Outbound,
    limits: Option<Limits>,
    cordon: Option<String>,
    /// Loader binding → the cordon its workers run in.
    loader_cordons: HashMap<String, String>,
}

/// The cordon of workers that name none.
pub(crate) const MAIN_CORDON: &str = "main";

impl fmt::Debug for WorkerCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerCode")
            .field("main", &self.main)
            .field(
                "modules",
                &self.modules.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("outbound", &self.outbound)
            .finish_non_exhaustive()
    }
}

impl WorkerCode {
    /// Code whose main module is `main_module`, for a compatibility date.
    pub fn new(compatibility_date: impl Into<String>, main_module: impl Into<String>) -> Self {
        Self {
            compatibility_date: Some(compatibility_date.into()),
            compatibility_flags: Vec::new(),
            main: main_module.into(),
            modules: Vec::new(),
            env: Vec::new(),
            outbound: Outbound::Blocked,
            limits: None,
            cordon: None,
            loader_cordons: HashMap::new(),
        }
    }

    /// Code with no compatibility date (rejected at load, as on Cloudflare;
    /// exists so front ends can pass through what their users gave).
    pub fn without_compatibility_date(main_module: impl Into<String>) -> Self {
        let mut code = Self::new("", main_module);
        code.compatibility_date = None;
        code
    }

    /// Adds compatibility flags.
    #[must_use]
    pub fn compatibility_flags<I, S>(mut self, flags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.compatibility_flags
            .extend(flags.into_iter().map(Into::into));
        self
    }

    /// Adds a module of an explicit type.
    #[must_use]
    pub fn module(mut self, name: impl Into<String>, module: ModuleSpec) -> Self {
        self.modules.push((name.into(), Ok(module)));
        self
    }

    /// Adds a module typed by its name: `.js`/`.mjs` ES module, `.ts`/`.mts`
    /// TypeScript. Other names are reported by `load`.
    #[must_use]
    pub fn module_source(mut self, name: impl Into<String>, source: impl Into<String>) -> Self {
        let name = name.into();
        let spec = ModuleSpec::from_name(&name, source.into());
        self.modules.push((name, spec));
        self
    }

    /// Adds a structured-clone value to `env`.
    #[must_use]
    pub fn env_value(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.env.push((name.into(), EnvItem::Value(value.into())));
        self
    }

    /// Adds a host binding to `env`.
    #[must_use]
    pub fn env_binding(mut self, name: impl Into<String>, binding: Arc<dyn Binding>) -> Self {
        self.env.push((name.into(), EnvItem::Binding(binding)));
        self
    }

    /// Adds a Worker Loader binding: `env.NAME.load(code)` and
    /// `env.NAME.get(name, getCode)` create dynamic workers with
    /// Cloudflare's JavaScript API. Its `get` cache is its own.
    #[must_use]
    pub fn worker_loader(self, name: impl Into<String>) -> Self {
        let namespace = format!(
            "loader-{}",
            NEXT_LOADER_NAMESPACE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        self.worker_loader_with_id(name, namespace)
    }

    /// Adds a Worker Loader binding whose `get` cache is shared with every
    /// other loader binding declared with the same `id`.
    #[must_use]
    pub fn worker_loader_with_id(mut self, name: impl Into<String>, id: impl Into<String>) -> Self {
        self.env.push((
            name.into(),
            EnvItem::WorkerLoader(format!("id:{}", id.into())),
        ));
        self
    }

    /// Adds a service binding to one of this worker's own entrypoints
    /// (`None`: the default export), as a wrangler `[[services]]` entry
    /// naming the worker itself: `env.NAME.method(...)` and
    /// `env.NAME.fetch(...)` call it.
    #[must_use]
    pub fn self_service(self, name: impl Into<String>, entrypoint: Option<&str>) -> Self {
        self.env_service(
            name,
            Service {
                worker: ServiceWorker::This,
                entrypoint: entrypoint_name(entrypoint),
                props: Value::Undefined,
            },
        )
    }

    /// Adds a service binding to an entrypoint (`None`: the default export)
    /// of the worker `slot` is bound to, as a wrangler `[[services]]` entry
    /// naming another worker: `env.NAME.method(...)` and
    /// `env.NAME.fetch(...)` call it. RPC arguments may carry functions and
    /// `RpcTarget`s, which the callee can call back.
    #[must_use]
    pub fn service(
        self,
        name: impl Into<String>,
        slot: &ServiceSlot,
        entrypoint: Option<&str>,
    ) -> Self {
        self.env_service(
            name,
            Service {
                worker: ServiceWorker::Bound(slot.clone()),
                entrypoint: entrypoint_name(entrypoint),
                props: Value::Undefined,
            },
        )
    }

    pub(crate) fn env_service(mut self, name: impl Into<String>, service: Service) -> Self {
        self.env.push((name.into(), EnvItem::Service(service)));
        self
    }

    /// Sets where global `fetch()` goes (default [`Outbound::Blocked`]).
    #[must_use]
    pub fn global_outbound(mut self, outbound: Outbound) -> Self {
        self.outbound = outbound;
        self
    }

    /// Lowers the limits for this worker.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// The cordon this worker runs in when the loader is jailed: workers of
    /// different cordons never share a worker process. Default: `main`
    /// (dynamic workers: their loader binding's cordon).
    #[must_use]
    pub fn cordon(mut self, cordon: impl Into<String>) -> Self {
        self.cordon = Some(cordon.into());
        self
    }

    /// The cordon the workers of the Worker Loader binding `binding` run
    /// in. Default: a cordon of that loader's own, named after its `get`
    /// namespace, never the parent's.
    #[must_use]
    pub fn loader_cordon(mut self, binding: impl Into<String>, cordon: impl Into<String>) -> Self {
        self.loader_cordons.insert(binding.into(), cordon.into());
        self
    }

    pub(crate) fn prepare(mut self) -> Result<Prepared, CodeError> {
        let mut modules = Vec::with_capacity(self.modules.len());
        for (name, spec) in self.modules {
            modules.push((name, spec?));
        }
        let source = WorkerSource::new(
            self.compatibility_date.as_deref(),
            &self.compatibility_flags,
            &self.main,
            modules,
        )?;
        let env_bytes: usize = self
            .env
            .iter()
            .map(|(name, item)| {
                name.len()
                    + if let EnvItem::Value(v) = item {
                        v.approx_size()
                    } else {
                        0
                    }
            })
            .sum();
        if env_bytes > MAX_ENV_BYTES {
            return Err(code_error(format!(
                "Dynamic Worker env size ({env_bytes} bytes) exceeds the maximum allowed size of {MAX_ENV_BYTES} bytes."
            )));
        }
        let mut env = Vec::with_capacity(self.env.len());
        let mut bindings = HashMap::new();
        let mut loaders = HashMap::new();
        let mut loader_cordons = HashMap::new();
        let mut services = HashMap::new();
        for (name, item) in self.env {
            match item {
                EnvItem::Value(v) => env.push((name, EnvEntry::Value(v))),
                EnvItem::Binding(b) => {
                    env.push((name.clone(), EnvEntry::Binding));
                    bindings.insert(name, b);
                }
                EnvItem::WorkerLoader(namespace) => {
                    env.push((name.clone(), EnvEntry::WorkerLoader));
                    let cordon = self.loader_cordons.remove(&name).unwrap_or_else(|| {
                        namespace
                            .strip_prefix("id:")
                            .unwrap_or(&namespace)
                            .to_owned()
                    });
                    loader_cordons.insert(name.clone(), Arc::from(cordon));
                    loaders.insert(name, namespace);
                }
                EnvItem::Service(service) => {
                    env.push((name.clone(), EnvEntry::Service));
                    services.insert(name, service);
                }
            }
        }
        Ok(Prepared {
            source: Arc::new(source),
            env,
            bindings,
            loaders,
            services,
            outbound: self.outbound,
            limits: self.limits,
            cordon: Arc::from(self.cordon.as_deref().unwrap_or(MAIN_CORDON)),
            loader_cordons,
        })
    }
}

fn entrypoint_name(entrypoint: Option<&str>) -> Option<String> {
    entrypoint.filter(|e| *e != "default").map(str::to_owned)
}

fn code_error(message: String) -> CodeError {
    CodeError::custom(message)
}

/// Validated code, shared by every isolate started from it.
pub(crate) struct Prepared {
    pub(crate) source: Arc<WorkerSource>,
    pub(crate) env: Vec<(String, EnvEntry)>,
    pub(crate) bindings: HashMap<String, Arc<dyn Binding>>,
    /// Worker Loader bindings: env name → `get` cache namespace.
    pub(crate) loaders: HashMap<String, String>,
    /// Service bindings: env name → the entrypoint they call.
    pub(crate) services: HashMap<String, Service>,
    pub(crate) outbound: Outbound,
    pub(crate) limits: Option<Limits>,
    /// The cordon this worker runs in (when jailed).
    pub(crate) cordon: Arc<str>,
    /// Worker Loader bindings: env name → the cordon of their workers.
    pub(crate) loader_cordons: HashMap<String, Arc<str>>,
}
