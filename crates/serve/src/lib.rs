//! `isola serve`: a Workers runtime. It serves a *parent* worker over HTTP
//! from a wrangler configuration, the way `wrangler dev` or workerd would.
//!
//! # Configuration
//!
//! `wrangler.toml`, `wrangler.json` or `wrangler.jsonc` (JSON with comments
//! and trailing commas). The subset isola reads:
//!
//! | key | meaning |
//! |---|---|
//! | `name` | the worker's name (default `"worker"`) |
//! | `main` | the main module, relative to the config file: `.js`, `.mjs`, `.ts`, `.mts` (required) |
//! | `compatibility_date` | required, as on Cloudflare |
//! | `compatibility_flags` | passed to the engine, which rejects unknown flags |
//! | `[vars]` | each value (any JSON/TOML value) becomes an `env` value |
//! | `[[worker_loaders]]` | `binding`, optional `id`: `env.BINDING` is a Worker Loader with Cloudflare's API; loaders with the same `id` share their `get` cache |
//! | `[[services]]` | `binding`, `service`, optional `entrypoint`: `service` names this worker or another one passed with a further `--config`; `env.BINDING.method(...)` and `env.BINDING.fetch(...)` call that entrypoint, and RPC arguments may carry functions and `RpcTarget`s |
//! | `[limits] cpu_ms` | CPU milliseconds per request (default 1,000) |
//! | `[isola]` | isola's own settings, see [`IsolaSettings`] |
//!
//! The `[isola]` table: `memory_mb` (engine heap per isolate, default 128),
//! `wall_ms` (wall clock per request, default 30,000), `subrequests` (per
//! request, default 1,000), `cache_budget_mb` (memory of cached named
//! workers, default 512), `memory_budget_mb` (memory of all isolates
//! together, lingering `waitUntil` work included; default three quarters of
//! the machine's), `threads` (executor threads, default one per core),
//! `max_body_mb` (largest request body, default 32; larger is `413`).
//!
//! Every other key is reported at startup as a warning with its dotted path
//! (`kv_namespaces`, `limits.foo`, `services[0].props`) and returned by
//! [`config::parse_file`]; wrong types and a missing `main` or
//! `compatibility_date` are errors naming the file and key (syntax errors
//! with `line:column`).
//!
//! More workers can run alongside the served one, each from its own config
//! ([`ServeOptions::other_configs`], `isola serve -c main.toml -c
//! auth.toml`): they are not served over HTTP, only reached through
//! `[[services]]` bindings that name them. Loader-wide settings (`[limits]`,
//! `[isola]`) come from the first config.
//!
//! With [`ServeOptions::watch`] (`--watch`), the config files and modules
//! are polled every 300 ms; on a change the app is rebuilt and swapped in
//! once its modules have evaluated, and a failed rebuild is logged while
//! the previous version keeps serving.
//!
//! # Modules
//!
//! From `main`, relative imports are followed through the module graph with
//! the `oxc` parser (see [`modules`]); module names are paths relative to
//! the config file's directory. Specifiers resolve exactly as written,
//! extension included; npm packages are not bundled.
//!
//! # Serving
//!
//! Every request goes to the parent's default `fetch` handler, on one named
//! worker from `Loader::get`, so module state persists across requests as
//! on Workers. A throw, a limit or an internal failure is a bare `500
//! Internal Server Error` with the reason in the log, never in the body.
//! The parent's outbound `fetch` is blocked. [`HEALTH_PATH`]
//! (`/__isola/healthz`) answers `200 ok` once the server listens, which it
//! does only after the parent's modules have evaluated: [`start`] makes a
//! warm-up call so startup errors (syntax, missing module, top-level throw)
//! fail startup with their `file:line:column`.

mod app;
mod body;
pub mod config;
mod http;
pub mod modules;
mod shutdown;
mod watch;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use app::inert;
pub use config::{ConfigError, IsolaSettings, Parsed, WranglerConfig};
pub use http::{HEALTH_PATH, STATUS_PATH};
pub use modules::ModuleError;
pub use shutdown::ShutdownHandle;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The config file is missing, malformed or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The modules could not be read.
    #[error(transparent)]
    Modules(#[from] ModuleError),
    /// The parent worker's code is invalid or failed to start; the message
    /// is the engine's, with the position of the error.
    #[error("{0}")]
    Code(String),
    /// The address could not be bound.
    #[error("{}", bind_message(*addr, source))]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The signal handlers could not be installed, or another I/O failure.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The jail could not be set up on this machine; the message says
    /// what is missing.
    #[error("{0}")]
    Jail(String),
    /// isola failed.
    #[error("isola internal error: {0}")]
    Internal(String),
}

/// "127.0.0.1:8787 is already in use", or the OS's reason.
fn bind_message(addr: std::net::SocketAddr, error: &std::io::Error) -> String {
    if error.kind() == std::io::ErrorKind::AddrInUse {
        format!(
            "{addr} is already in use (another server is listening there; pick one with --port)"
        )
    } else {
        format!("cannot listen on {addr}: {error}")
    }
}

impl ServeError {
    /// The process exit code for this error: 2 invalid config or code,
    /// 1 an I/O failure (the port is taken), 4 internal.
    pub fn exit_code(&self) -> u8 {
        match self {
            ServeError::Config(_) | ServeError::Modules(_) | ServeError::Code(_) => 2,
            ServeError::Io(_) | ServeError::Bind { .. } => 1,
            ServeError::Internal(_) | ServeError::Jail(_) => 4,
        }
    }
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The wrangler config file of the worker served over HTTP.
    pub config: PathBuf,
    /// Config files of other workers, run alongside it and reachable only
    /// through `[[services]]` bindings naming them (as `wrangler dev -c a
    /// -c b`).
    pub other_configs: Vec<PathBuf>,
    /// The address to bind (default loopback, `127.0.0.1`).
    pub host: IpAddr,
    /// The port (default 8787, as `wrangler dev`; 0 picks a free one).
    pub port: u16,
    /// How long a client may take to send a request's headers (default
    /// 10 s); slower connections are closed.
    pub header_read_timeout: Duration,
    /// How long requests in flight may take to finish after a shutdown was
    /// asked for (default 30 s, the default wall limit).
    pub shutdown_grace: Duration,
    /// Reload when a config file or a module changes (default off): the
    /// new app replaces the old one once it has started; if it fails to
    /// start, the error is logged and the old one keeps serving.
    pub watch: bool,
    /// Run guest code in jailed worker processes started by this jail
    /// (the `isola` binary jails by default), or with `None` (the
    /// library's default) inside this process. `[isola] jail = false`
    /// turns a given jail off.
    pub jail: Option<isola_runtime::Jail>,
}

impl ServeOptions {
    /// Options with the defaults for a config file.
    pub fn new(config: impl Into<PathBuf>) -> Self {
        Self {
            config: config.into(),
            other_configs: Vec::new(),
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8787,
            header_read_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(30),
            watch: false,
            jail: None,
        }
    }
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    unknown_keys: Vec<String>,
    shutdown: ShutdownHandle,
    task: JoinHandle<()>,
}

impl Server {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The config keys isola did not understand (each was logged).
    pub fn unknown_keys(&self) -> &[String] {
        &self.unknown_keys
    }

    /// A handle that stops the server gracefully.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// Waits until the server has stopped: a shutdown was asked for and the
    /// requests in flight finished (or the grace period ended).
    pub async fn wait(self) -> Result<(), ServeError> {
        self.task
            .await
            .map_err(|e| ServeError::Internal(format!("the server task failed: {e}")))
    }
}

/// Binds (a taken port fails at once), reads the config, collects and
/// starts the parent worker, and serves in a task on the current tokio runtime. Returns once the server
/// accepts connections.
pub async fn start(options: &ServeOptions) -> Result<Server, ServeError> {
    let wanted = std::net::SocketAddr::new(options.host, options.port);
    let listener = TcpListener::bind(wanted)
        .await
        .map_err(|source| ServeError::Bind {
            addr: wanted,
            source,
        })?;
    let addr = listener.local_addr()?;
    let built = build(options).await?;
    let config = built.config;
    let limits = http::HttpLimits {
        max_body_bytes: config.isola.max_body_mb.map_or(32 << 20, |mb| {
            usize::try_from(mb)
                .unwrap_or(usize::MAX)
                .saturating_mul(1 << 20)
        }),
        header_read_timeout: options.header_read_timeout,
        shutdown_grace: options.shutdown_grace,
    };
    let (shutdown, stop) = ShutdownHandle::new();
    let current = Arc::new(watch::Current::new(built.app));
    if options.watch {
        tokio::spawn(watch::run(
            options.clone(),
            current.clone(),
            built.files,
            stop.clone(),
        ));
    }
    let task = tokio::spawn(http::accept_loop(listener, current, limits, stop));
    tracing::info!(worker = %config.name, "listening on http://{addr}");
    Ok(Server {
        addr,
        unknown_keys: built.unknown_keys,
        shutdown,
        task,
    })
}

/// A loaded, warmed-up app and what it was built from.
struct Built {
    app: Arc<app::App>,
    config: config::WranglerConfig,
    unknown_keys: Vec<String>,
    /// The config files and modules it was read from.
    files: Vec<PathBuf>,
}

/// Reads every config and module, loads the workers and evaluates their
/// modules.
async fn build(options: &ServeOptions) -> Result<Built, ServeError> {
    let main = declare(&options.config)?;
    let mut others = Vec::with_capacity(options.other_configs.len());
    for path in &options.other_configs {
        others.push(declare(path)?);
    }
    let unknown_keys = main.1.clone();
    let main = main.0;
    let others: Vec<app::Declared> = others.into_iter().map(|(d, _)| d).collect();
    check_names(&options.config, &main, &others)?;
    let mut files = vec![options.config.clone()];
    files.extend(options.other_configs.iter().cloned());
    for (path, declared) in
        std::iter::once((&options.config, &main)).chain(options.other_configs.iter().zip(&others))
    {
        let root = config::root_of(path);
        files.extend(declared.modules.modules.keys().map(|name| root.join(name)));
    }
    let config = main.config.clone();
    let app = Arc::new(app::App::new(main, others, options.jail.clone())?);
    app.warm_up().await?;
    Ok(Built {
        app,
        config,
        unknown_keys,
        files,
    })
}

/// Reads one worker's config and collects its modules; unknown keys are
/// logged and returned.
fn declare(path: &std::path::Path) -> Result<(app::Declared, Vec<String>), ServeError> {
    let parsed = config::parse_file(path)?;
    let shown = path.display().to_string();
    for key in &parsed.unknown_keys {
        tracing::warn!(config = %shown, %key, "unknown config key ignored (not supported by isola)");
    }
    let config = parsed.config;
    let root = config::root_of(path);
    let modules = modules::collect(&root, &config.main)?;
    tracing::info!(worker = %config.name, main = %modules.main, modules = modules.modules.len(), "loading the worker");
    Ok((app::Declared { config, modules }, parsed.unknown_keys))
}

/// Worker names must be distinct, and every `[[services]]` entry must name
/// one of the workers.
fn check_names(
    main_path: &std::path::Path,
    main: &app::Declared,
    others: &[app::Declared],
) -> Result<(), ServeError> {
    let all: Vec<&app::Declared> = std::iter::once(main).chain(others).collect();
    let mut names = std::collections::BTreeSet::new();
    for declared in &all {
        if !names.insert(declared.config.name.as_str()) {
            return Err(ServeError::Code(format!(
                "two configs declare a worker named \"{}\"; worker names must be distinct.",
                declared.config.name
            )));
        }
    }
    for declared in &all {
        for service in &declared.config.services {
            if !names.contains(service.service.as_str()) {
                let known: Vec<&str> = names.iter().copied().collect();
                return Err(ServeError::Code(format!(
                    "{}: [[services]] binding {} names the worker \"{}\", which is not declared; isola serve runs {} (pass more workers with another --config).",
                    if std::ptr::eq(*declared, main) {
                        main_path.display().to_string()
                    } else {
                        format!("worker \"{}\"", declared.config.name)
                    },
                    service.binding,
                    service.service,
                    known
                        .iter()
                        .map(|n| format!("\"{n}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
    }
    Ok(())
}

/// [`start`], then serve until SIGINT or SIGTERM, then shut down gracefully.
pub async fn serve(options: &ServeOptions) -> Result<(), ServeError> {
    let server = start(options).await?;
    let handle = server.shutdown_handle();
    let signal = shutdown::signal();
    tokio::pin!(signal);
    let task = server.wait();
    tokio::pin!(task);
    tokio::select! {
        result = &mut task => return result,
        received = &mut signal => {
            let name = received?;
            tracing::info!(signal = name, "shutting down");
            handle.shutdown();
        }
    }
    task.await
}
