//! The Code Mode executor: one program, one fresh isolate, tools as
//! namespaces, limits the engine enforces.

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use isola::engine::{ErrorValue, LogEntry, LogLevel, Value};
use isola::{Binding, Limits, LoadError, Loader, Outbound, OutboundHandler, Outcome, WorkerCode};
use serde::Serialize;

use crate::names;
use crate::normalize::normalize;

/// What a tool answers: JSON, or an error message the program sees as a
/// rejected promise (`new Error(message)`).
pub type ToolResult = Result<serde_json::Value, String>;

type ToolFuture = Pin<Box<dyn Future<Output = ToolResult> + Send>>;
type ToolFn = dyn Fn(serde_json::Value) -> ToolFuture + Send + Sync;

/// One namespace of async host functions, reached by a program as
/// `<name>.<tool>(input)`.
///
/// A tool receives the first argument of the call as JSON and answers JSON.
/// Binary data crosses as `{"$bytes": "<base64>"}` both ways: a
/// `Uint8Array` argument arrives in that form, and an object of exactly that
/// shape in a result reaches the program as a `Uint8Array`.
#[derive(Clone)]
pub struct Provider {
    name: String,
    tools: Vec<(String, Arc<ToolFn>)>,
    unavailable: Option<String>,
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .field(
                "tools",
                &self.tools.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Provider {
    /// An empty namespace called `name`; names are checked by [`Providers::new`].
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            tools: Vec::new(),
            unavailable: None,
        }
    }

    /// Marks the namespace as unavailable: a call to a tool it does not
    /// have rejects with `reason` instead of "not found" (for an upstream
    /// that is down and whose tools are unknown).
    #[must_use]
    pub fn unavailable(mut self, reason: impl Into<String>) -> Self {
        self.unavailable = Some(reason.into());
        self
    }

    /// Adds a tool answering `<namespace>.<name>(input)`.
    #[must_use]
    pub fn tool<F, Fut>(mut self, name: impl Into<String>, tool: F) -> Self
    where
        F: Fn(serde_json::Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ToolResult> + Send + 'static,
    {
        let tool: Arc<ToolFn> = Arc::new(move |input| Box::pin(tool(input)) as ToolFuture);
        self.tools.push((name.into(), tool));
        self
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The names of its tools, in the order they were added.
    pub fn tool_names(&self) -> impl Iterator<Item = &str> {
        self.tools.iter().map(|(name, _)| name.as_str())
    }
}

/// A checked set of providers: every namespace and tool name is an
/// identifier, none is reserved, none repeats. Build it once and reuse it
/// for many runs.
#[derive(Debug, Clone)]
pub struct Providers {
    providers: Arc<[Provider]>,
    main_module: Arc<str>,
}

/// Why a set of providers was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// A namespace or tool name is unusable.
    #[error(transparent)]
    Name(#[from] names::NameError),
    /// A namespace collides with a name the executor's module uses itself.
    #[error("namespace name {0:?} is reserved by the executor")]
    ReservedByExecutor(String),
}

/// Names the executor's own module binds; a namespace must not shadow them.
const EXECUTOR_NAMES: &[&str] = &["program", "WorkerEntrypoint", "CodeExecutor"];

impl Providers {
    /// Checks the names and prepares the module the program runs under.
    pub fn new(providers: impl IntoIterator<Item = Provider>) -> Result<Self, ProviderError> {
        let providers: Vec<Provider> = providers.into_iter().collect();
        let mut namespaces = HashSet::new();
        for provider in &providers {
            names::check_identifier("namespace", &provider.name)?;
            if EXECUTOR_NAMES.contains(&provider.name.as_str()) {
                return Err(ProviderError::ReservedByExecutor(provider.name.clone()));
            }
            if !namespaces.insert(provider.name.as_str()) {
                return Err(names::NameError::Duplicate {
                    kind: "namespace",
                    name: provider.name.clone(),
                }
                .into());
            }
            let mut tools = HashSet::new();
            for (tool, _) in &provider.tools {
                // A tool is a property (`ns.fetch` is fine), so only
                // keywords are refused, as `sanitize` leaves them.
                if !names::is_identifier(tool) {
                    return Err(names::NameError::NotIdentifier {
                        kind: "tool",
                        name: tool.clone(),
                    }
                    .into());
                }
                if names::is_keyword(tool) {
                    return Err(names::NameError::Reserved {
                        kind: "tool",
                        name: tool.clone(),
                    }
                    .into());
                }
                if !tools.insert(tool.as_str()) {
                    return Err(names::NameError::Duplicate {
                        kind: "tool",
                        name: format!("{}.{tool}", provider.name),
                    }
                    .into());
                }
            }
        }
        let main_module = main_module(&providers).into();
        Ok(Self {
            providers: providers.into(),
            main_module,
        })
    }

    /// The providers, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Provider> {
        self.providers.iter()
    }
}

/// The executor's entry module: each namespace becomes a global bound to
/// its host binding (a stub whose every method is one host call, and which
/// is not a thenable), then the program runs. Only checked identifiers are
/// spliced in.
fn main_module(providers: &[Provider]) -> String {
    let mut globals = String::new();
    for provider in providers {
        let name = &provider.name;
        globals.push_str(&format!("    globalThis.{name} = this.env.{name};\n"));
    }
    format!(
        "import {{ WorkerEntrypoint }} from \"cloudflare:workers\";\n\
         import program from \"program.js\";\n\
         export default class CodeExecutor extends WorkerEntrypoint {{\n  \
           async evaluate() {{\n{globals}    return await program();\n  }}\n}}\n"
    )
}

/// How one run may behave.
#[derive(Clone)]
pub struct ExecuteOptions {
    /// CPU milliseconds for the run. Default 2,000.
    pub cpu_ms: u64,
    /// Wall-clock milliseconds for the run, including time spent waiting on
    /// tools. Default 30,000.
    pub wall_ms: u64,
    /// Engine heap bytes. Default 64 MiB.
    pub memory_bytes: usize,
    /// Tool calls per run. Default 100.
    pub max_tool_calls: u32,
    /// Bytes of console output kept. Default 64 KiB.
    pub log_bytes: usize,
    /// Bytes of the result. Default 4 MiB.
    pub output_bytes: usize,
    /// Where the program's `fetch()` goes. `None` (the default) blocks it.
    pub outbound: Option<Arc<dyn OutboundHandler>>,
    /// The cordon the run executes in: runs of different cordons never
    /// share a worker process. `None` (the default): cordon `codemode`.
    pub cordon: Option<Arc<str>>,
}

impl fmt::Debug for ExecuteOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecuteOptions")
            .field("cpu_ms", &self.cpu_ms)
            .field("wall_ms", &self.wall_ms)
            .field("memory_bytes", &self.memory_bytes)
            .field("max_tool_calls", &self.max_tool_calls)
            .field("log_bytes", &self.log_bytes)
            .field("output_bytes", &self.output_bytes)
            .field("outbound", &self.outbound.as_ref().map(|_| ".."))
            .field("cordon", &self.cordon)
            .finish()
    }
}

impl Default for ExecuteOptions {
    fn default() -> Self {
        Self {
            cpu_ms: 2_000,
            wall_ms: 30_000,
            memory_bytes: 64 << 20,
            max_tool_calls: 100,
            log_bytes: 64 << 10,
            output_bytes: 4 << 20,
            outbound: None,
            cordon: None,
        }
    }
}

/// How a run failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The code does not parse.
    Syntax,
    /// The program threw, or its promise rejected.
    Threw,
    /// The CPU limit fired.
    CpuLimit,
    /// The memory limit fired.
    MemoryLimit,
    /// The wall-clock limit fired.
    WallLimit,
    /// The program called more tools than allowed. Reported even if the
    /// program caught the refused call and returned: its result is not
    /// given, so a limit cannot be mistaken for a complete answer.
    ToolCallLimit,
    /// The program made more host requests than allowed (its `fetch`es,
    /// and calls to tools that do not exist, beyond the tool calls).
    SubrequestLimit,
    /// The result was larger than allowed, or could not be turned into JSON.
    OutputLimit,
    /// isola failed; not the program's fault.
    Internal,
}

/// Why a run produced no result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExecuteError {
    /// Which way it failed.
    pub kind: ErrorKind,
    /// What to tell the agent, e.g. `Error: boom` or `Worker exceeded CPU time limit.`
    pub message: String,
    /// Where a thrown error came from, when the engine knows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
}

impl fmt::Display for ExecuteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl ExecuteError {
    fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            stack: None,
        }
    }
}

/// What a run produced. Exactly one of `result` (on success) and `error`
/// is meaningful; `logs` holds the console output either way, as
/// `@cloudflare/codemode` formats it (`[warn] ` and `[error] ` prefixes).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecuteResult {
    /// The program's return value as JSON (`undefined` becomes `null`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    /// Why there is no result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ExecuteError>,
    /// Console output, one entry per call.
    pub logs: Vec<String>,
    /// Tool calls the program made.
    #[serde(skip)]
    pub tool_calls: u32,
}

impl ExecuteResult {
    fn failed(error: ExecuteError) -> Self {
        Self {
            result: None,
            error: Some(error),
            logs: Vec::new(),
            tool_calls: 0,
        }
    }
}

/// Runs Code Mode programs, each in a fresh isolate.
///
/// Cheap to clone; clones share the executor threads.
#[derive(Debug, Clone)]
pub struct Executor {
    loader: Loader,
}

/// The cordon runs execute in: never the host's own.
const CORDON: &str = "codemode";

impl Executor {
    /// An executor with its own executor threads (one per core), whose
    /// runs are bounded only by their [`ExecuteOptions`]. Runs execute
    /// inside this process; see [`Executor::jailed`].
    pub fn new() -> Result<Self, LoadError> {
        Self::jailed(None)
    }

    /// [`Executor::new`], with every run in a jailed worker process started
    /// by `jail` (cordon `codemode`), or in this process with `None`. The
    /// cordon's processes start here: an error says what the machine
    /// lacks to set the jail up.
    pub fn jailed(jail: Option<isola::Jail>) -> Result<Self, LoadError> {
        // Far above any sensible run, but still usable in deadline arithmetic.
        let ceiling = Limits {
            cpu_ms: 3_600_000,
            memory_bytes: 64 << 30,
            wall_ms: 86_400_000,
            subrequests: u32::MAX,
            output_bytes: 1 << 32,
            log_bytes: 1 << 32,
        };
        let loader = Loader::new(isola::Config::default().limits(ceiling).jail(jail))?;
        loader.prepare_cordon(CORDON)?;
        Ok(Self { loader })
    }

    /// Ends the worker processes of `cordon` (one [`ExecuteOptions::cordon`]
    /// named) once its runs are over; see [`Loader::retire_cordon`].
    pub fn retire_cordon(&self, cordon: &str) {
        self.loader.retire_cordon(cordon);
    }

    /// The cordons' worker processes (empty when runs are not jailed).
    pub fn cordons(&self) -> Vec<isola::CordonStatus> {
        self.loader.cordons()
    }

    /// An executor sharing `loader`'s threads. The loader's limits are a
    /// ceiling: a run gets the lower of them and its [`ExecuteOptions`]
    /// (`Config::default()` caps CPU at 1 s and memory at 128 MiB).
    pub fn with_loader(loader: Loader) -> Self {
        Self { loader }
    }

    /// Runs `code` (normalized first, see [`crate::normalize`]) with each
    /// provider as a global namespace. Never panics for anything the code
    /// does: every failure is an [`ExecuteError`].
    pub async fn execute(
        &self,
        code: &str,
        providers: &Providers,
        options: &ExecuteOptions,
    ) -> ExecuteResult {
        let program = match normalize(code) {
            Ok(program) => program,
            Err(error) => {
                return ExecuteResult::failed(ExecuteError::new(
                    ErrorKind::Syntax,
                    error.to_string(),
                ));
            }
        };
        let counter = Arc::new(ToolCalls {
            made: AtomicU32::new(0),
            max: options.max_tool_calls,
            exceeded: AtomicBool::new(false),
        });
        let limits = Limits {
            cpu_ms: options.cpu_ms,
            memory_bytes: options.memory_bytes,
            wall_ms: options.wall_ms,
            // Tool calls are counted (and reported) by the executor itself;
            // this caps what is left, the program's fetches.
            subrequests: options.max_tool_calls.saturating_add(1_000),
            output_bytes: options.output_bytes,
            log_bytes: options.log_bytes,
        };
        let mut worker = WorkerCode::new("2026-03-01", "executor.js")
            .module_source("executor.js", providers.main_module.to_string())
            .module_source("program.js", format!("export default (\n{program}\n);\n"))
            .global_outbound(match &options.outbound {
                Some(handler) => Outbound::Handler(handler.clone()),
                None => Outbound::Blocked,
            })
            .limits(limits)
            .cordon(options.cordon.as_deref().unwrap_or(CORDON));
        for provider in providers.iter() {
            let binding: Arc<dyn Binding> = Arc::new(Namespace {
                provider: provider.clone(),
                calls: counter.clone(),
            });
            worker = worker.env_binding(provider.name.clone(), binding);
        }
        let worker = match self.loader.load(worker) {
            Ok(worker) => worker,
            Err(error) => {
                return ExecuteResult::failed(ExecuteError::new(
                    ErrorKind::Internal,
                    error.to_string(),
                ));
            }
        };
        let run = worker
            .entrypoint(None)
            .call_with("evaluate", Vec::new())
            .await;
        let logs = run.logs.iter().map(format_log).collect();
        let tool_calls = counter
            .made
            .load(Ordering::Relaxed)
            .min(options.max_tool_calls);
        let (result, error) = if counter.exceeded.load(Ordering::Relaxed) {
            (None, Some(tool_call_limit(options.max_tool_calls)))
        } else {
            match run.outcome {
                Outcome::Returned(value) => (Some(value.to_json()), None),
                other => (None, Some(outcome_error(other))),
            }
        };
        ExecuteResult {
            result,
            error,
            logs,
            tool_calls,
        }
    }
}

fn tool_call_limit(max: u32) -> ExecuteError {
    ExecuteError::new(
        ErrorKind::ToolCallLimit,
        format!("Too many tool calls: at most {max} per run."),
    )
}

fn outcome_error(outcome: Outcome) -> ExecuteError {
    let kind = match &outcome {
        Outcome::Threw(error) => {
            return ExecuteError {
                kind: ErrorKind::Threw,
                message: error.to_string(),
                stack: error.stack.clone(),
            };
        }
        Outcome::InvalidCode(_) => ErrorKind::Syntax,
        Outcome::CpuLimit => ErrorKind::CpuLimit,
        Outcome::MemoryLimit => ErrorKind::MemoryLimit,
        Outcome::WallLimit => ErrorKind::WallLimit,
        Outcome::OutputLimit => ErrorKind::OutputLimit,
        Outcome::SubrequestLimit => ErrorKind::SubrequestLimit,
        Outcome::Returned(_) | Outcome::Responded(_) | Outcome::Streamed | Outcome::Internal(_) => {
            ErrorKind::Internal
        }
    };
    ExecuteError::new(kind, outcome.message().unwrap_or_default())
}

fn format_log(entry: &LogEntry) -> String {
    match entry.level {
        LogLevel::Warn => format!("[warn] {}", entry.message),
        LogLevel::Error => format!("[error] {}", entry.message),
        LogLevel::Debug | LogLevel::Log | LogLevel::Info => entry.message.clone(),
    }
}

struct ToolCalls {
    made: AtomicU32,
    max: u32,
    exceeded: AtomicBool,
}

/// One provider as the guest's `env` binding.
struct Namespace {
    provider: Provider,
    calls: Arc<ToolCalls>,
}

#[async_trait::async_trait]
impl Binding for Namespace {
    async fn call(&self, method: &str, args: Vec<Value>) -> Result<Value, ErrorValue> {
        let Some((_, tool)) = self.provider.tools.iter().find(|(name, _)| name == method) else {
            let message = match &self.provider.unavailable {
                Some(reason) => reason.clone(),
                None => format!("Tool \"{method}\" not found"),
            };
            return Err(ErrorValue::new("Error", message));
        };
        if self.calls.made.fetch_add(1, Ordering::Relaxed) >= self.calls.max {
            self.calls.exceeded.store(true, Ordering::Relaxed);
            return Err(ErrorValue::new(
                "Error",
                tool_call_limit(self.calls.max).message,
            ));
        }
        let input = args
            .into_iter()
            .next()
            .map_or(serde_json::Value::Null, |v| v.to_json());
        match tool(input).await {
            Ok(output) => Ok(json_to_value(output)),
            Err(message) => Err(ErrorValue::new("Error", message)),
        }
    }
}

/// JSON into a guest value, with `{"$bytes": "<base64>"}` as a `Uint8Array`.
fn json_to_value(json: serde_json::Value) -> Value {
    use base64::Engine as _;
    use serde_json::Value as J;
    match json {
        J::Array(items) => Value::Array(items.into_iter().map(json_to_value).collect()),
        J::Object(map) => {
            if map.len() == 1
                && let Some(J::String(encoded)) = map.get("$bytes")
                && let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(encoded)
            {
                return Value::TypedArray {
                    kind: isola::engine::TypedArrayKind::Uint8Array,
                    bytes,
                };
            }
            Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, json_to_value(v)))
                    .collect(),
            )
        }
        other => Value::from(other),
    }
}
