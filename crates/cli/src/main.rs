//! `isola`: run a worker module once, with limits, from a shell.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use isola::egress::{Egress, EgressPolicy};
use isola::{
    Config, HttpRequest, Limits, Loader, Module, Outbound, Outcome, OutcomeKind, Run, Value,
    WorkerCode,
};

#[derive(Parser)]
#[command(
    name = "isola",
    version,
    about = "Run code that AI agents write, safely: one fresh sandbox per call"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a module once in a fresh sandbox and print the result.
    ///
    /// Exit codes: 0 returned, 1 the guest threw, 2 invalid input or code,
    /// 3 a limit fired, 4 internal error.
    Run(RunArgs),
    /// Serve a Workers app over HTTP from its wrangler config.
    ///
    /// Every request goes to the main module's `fetch` handler. Readiness:
    /// `GET /__isola/healthz` answers `ok`. Stops gracefully on SIGINT or
    /// SIGTERM. Exit codes: 0 stopped, 1 could not listen, 2 invalid config
    /// or code (startup errors print file:line:column), 4 internal error.
    /// Logs: `ISOLA_LOG` (default `info`).
    Serve(ServeArgs),
    /// Code Mode as an MCP server: upstream MCP servers become typed
    /// namespaces behind two tools, `search` and `execute`.
    ///
    /// Speaks MCP over stdin/stdout by default; with `--http ADDR`, streamable
    /// HTTP at `http://ADDR/mcp`. Upstreams are connected at startup (a
    /// failing one is logged and retried on use). Exit codes: 0 stopped,
    /// 1 could not listen, 2 invalid config, 4 internal error. Logs go to
    /// stderr: `ISOLA_LOG` (default `info`).
    Mcp(McpArgs),
}

#[derive(Args)]
struct McpArgs {
    /// The Code Mode config (`[[upstream]]` entries and `[limits]`).
    #[arg(
        long,
        short = 'c',
        value_name = "FILE",
        default_value = "codemode.toml"
    )]
    config: PathBuf,
    /// Serve streamable HTTP at this address (e.g. 127.0.0.1:8788) instead
    /// of stdio. Loopback only: there is no authentication.
    #[arg(long, value_name = "ADDR")]
    http: Option<std::net::SocketAddr>,
}

#[derive(Args)]
struct ServeArgs {
    /// The config: wrangler.toml, wrangler.json or wrangler.jsonc. Repeat
    /// it to run more workers alongside the first (the one served), each
    /// reachable through `[[services]]` bindings naming it.
    #[arg(
        long,
        short = 'c',
        value_name = "FILE",
        default_value = "wrangler.toml"
    )]
    config: Vec<PathBuf>,
    /// The port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// The address to listen on. Loopback by default; binding a public
    /// address exposes the worker to the network.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Reload when a config file or a module changes; a version that fails
    /// to start is logged and the previous one keeps serving.
    #[arg(long)]
    watch: bool,
}

#[derive(Args)]
struct RunArgs {
    /// The main module (.js, .mjs, .ts or .mts).
    file: PathBuf,
    /// Another module, NAME=PATH; typed by NAME: .js/.mjs ES module, .ts/.mts
    /// TypeScript, .cjs CommonJS, .json JSON, .txt text, anything else bytes.
    #[arg(long = "module", value_name = "NAME=PATH")]
    modules: Vec<String>,
    /// A named export to call instead of the default export.
    #[arg(long)]
    entrypoint: Option<String>,
    /// The method to call.
    #[arg(long = "call", value_name = "METHOD", conflicts_with = "fetch")]
    method: Option<String>,
    /// An argument as JSON (repeat for several; none passes `undefined`).
    #[arg(long = "arg", value_name = "JSON")]
    args: Vec<String>,
    /// Call the entrypoint's fetch handler with a GET of this URL.
    #[arg(long, value_name = "URL")]
    fetch: Option<String>,
    /// An env value, NAME=JSON (repeatable).
    #[arg(long = "env", value_name = "NAME=JSON")]
    env: Vec<String>,
    /// CPU limit in milliseconds.
    #[arg(long, value_name = "N")]
    cpu_ms: Option<u64>,
    /// Memory limit in MiB.
    #[arg(long, value_name = "N")]
    memory_mb: Option<usize>,
    /// Wall-clock limit in milliseconds.
    #[arg(long, value_name = "N")]
    timeout_ms: Option<u64>,
    /// Let the guest's fetch() reach this host over the network (repeatable;
    /// `*.example.com` matches subdomains). Ports 80 and 443 only; private
    /// and loopback addresses stay refused. Without it fetch() is blocked.
    #[arg(long = "allow-net", value_name = "HOST")]
    allow_net: Vec<String>,
    /// Print one JSON object: {"outcome", "result"|"error", "logs",
    /// "stats": {"cpu_us", "wall_us", "peak_memory_bytes", "subrequests"},
    /// "host": {"peak_rss_bytes"}}.
    #[arg(long)]
    json: bool,
}

const EXIT_THREW: u8 = 1;
const EXIT_INVALID: u8 = 2;
const EXIT_LIMIT: u8 = 3;
const EXIT_INTERNAL: u8 = 4;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `run` prints its own results, so only warnings by default; `serve`
    // is a server, whose log is its output.
    let default_filter = match cli.command {
        Command::Run(_) => "warn",
        Command::Serve(_) => "info",
        // rmcp logs every handshake in full at info.
        Command::Mcp(_) => "info,rmcp=warn",
    };
    // `ISOLA_LOG` first, then the `RUST_LOG` Rust users reach for; the
    // same filter syntax (`info`, `isola_runtime=debug`, ...).
    let filter = tracing_subscriber::EnvFilter::try_from_env("ISOLA_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| default_filter.into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match cli.command {
        Command::Run(args) => run(args),
        Command::Serve(args) => serve(args),
        Command::Mcp(args) => mcp(args),
    }
}

fn mcp(args: McpArgs) -> ExitCode {
    let config = match isola_mcp::McpConfig::load(&args.config) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("isola: error: {}", inert(&e.to_string()));
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let runtime = match tokio_runtime(tokio::runtime::Builder::new_multi_thread()) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let served = runtime.block_on(async {
        match args.http {
            None => isola_mcp::serve_stdio(&config).await,
            Some(addr) => {
                let ready = |bound| tracing::info!("isola mcp listening on http://{bound}/mcp");
                isola_mcp::serve_http(&config, addr, ready, shutdown_signal()).await
            }
        }
    });
    // Upstream child processes and pending work are dropped with the runtime.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ isola_mcp::McpError::NotLoopback(_)) => {
            eprintln!("isola: error: {}", inert(&e.to_string()));
            ExitCode::from(EXIT_INVALID)
        }
        Err(e @ isola_mcp::McpError::Bind { .. }) => {
            eprintln!("isola: error: {}", inert(&e.to_string()));
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("isola: error: {}", inert(&e.to_string()));
            ExitCode::from(EXIT_INTERNAL)
        }
    }
}

/// Builds the async runtime a command runs on.
fn tokio_runtime(
    mut builder: tokio::runtime::Builder,
) -> Result<tokio::runtime::Runtime, ExitCode> {
    builder.enable_all().build().map_err(|e| {
        eprintln!("isola: internal error: {e}");
        ExitCode::from(EXIT_INTERNAL)
    })
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

fn serve(args: ServeArgs) -> ExitCode {
    let runtime = match tokio_runtime(tokio::runtime::Builder::new_multi_thread()) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let mut configs = args.config.into_iter();
    let mut options = isola_serve::ServeOptions::new(configs.next().unwrap_or_default());
    options.other_configs = configs.collect();
    options.watch = args.watch;
    options.host = args.host;
    options.port = args.port;
    match runtime.block_on(isola_serve::serve(&options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("isola: error: {}", inert(&e.to_string()));
            ExitCode::from(e.exit_code())
        }
    }
}

fn run(args: RunArgs) -> ExitCode {
    let (code, call) = match prepare(&args) {
        Ok(prepared) => prepared,
        Err(message) => {
            eprintln!("isola: error: {message}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let runtime = match tokio_runtime(tokio::runtime::Builder::new_current_thread()) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let json = args.json;
    // The flags are the ceiling too: the loader's defaults must not lower
    // what the user asked for.
    let limits = match run_limits(&args) {
        Ok(limits) => limits,
        Err(message) => {
            eprintln!("isola: error: {message}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    runtime.block_on(async move {
        let loader = match Loader::new(Config::default().threads(1).limits(limits)) {
            Ok(loader) => loader,
            Err(e) => {
                eprintln!("isola: {e}");
                return ExitCode::from(EXIT_INTERNAL);
            }
        };
        let worker = match loader.load(code) {
            Ok(worker) => worker,
            Err(e) => {
                if json {
                    let report = serde_json::json!({"outcome": "invalid-code", "error": {"name": "Error", "message": e.to_string()}, "logs": [], "stats": null});
                    println!("{report}");
                } else {
                    eprintln!("isola: invalid code: {}", inert(&e.to_string()));
                }
                return ExitCode::from(EXIT_INVALID);
            }
        };
        let entrypoint = worker.entrypoint(args.entrypoint.as_deref());
        let stream_logs = !json;
        let entrypoint = if stream_logs { entrypoint.on_log(|entry| eprintln!("{}", inert(&entry.message))) } else { entrypoint };
        let run = match call {
            Call::Rpc(method, call_args) => entrypoint.call_with(&method, call_args).await,
            Call::Fetch(request) => entrypoint.fetch(request).await,
        };
        report(run, json)
    })
}

enum Call {
    Rpc(String, Vec<Value>),
    Fetch(HttpRequest),
}

fn prepare(args: &RunArgs) -> Result<(WorkerCode, Call), String> {
    let main_name = file_name(&args.file)?;
    let main_source = read(&args.file)?;
    let mut code = WorkerCode::new(isola::engine::NEWEST_COMPATIBILITY_DATE, main_name.clone());
    code = match extension(&main_name) {
        "cjs" => code.module(main_name, Module::CommonJs(main_source)),
        _ => code.module_source(main_name, main_source),
    };
    for spec in &args.modules {
        let (name, path) = spec
            .split_once('=')
            .ok_or_else(|| format!("--module expects NAME=PATH, got {spec:?}"))?;
        let path = Path::new(path);
        let module = match extension(name) {
            "js" | "mjs" => Module::Esm(read(path)?),
            "ts" | "mts" => Module::TypeScript(read(path)?),
            "cjs" => Module::CommonJs(read(path)?),
            "json" => Module::Json(
                serde_json::from_str(&read(path)?)
                    .map_err(|e| format!("{}: invalid JSON: {e}", path.display()))?,
            ),
            "txt" | "md" | "html" | "css" | "csv" => Module::Text(read(path)?),
            _ => Module::Data(
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?,
            ),
        };
        code = code.module(name, module);
    }
    for spec in &args.env {
        let (name, json) = spec
            .split_once('=')
            .ok_or_else(|| format!("--env expects NAME=JSON, got {spec:?}"))?;
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| format!("--env {name}: invalid JSON: {e}"))?;
        code = code.env_value(name, value);
    }
    code = code.limits(run_limits(args)?);
    let call = match (&args.method, &args.fetch) {
        (Some(method), None) => {
            let mut values = Vec::with_capacity(args.args.len());
            for a in &args.args {
                let json: serde_json::Value = serde_json::from_str(a)
                    .map_err(|e| format!("--arg {a:?}: invalid JSON: {e}"))?;
                values.push(Value::from(json));
            }
            if values.is_empty() {
                values.push(Value::Undefined);
            }
            Call::Rpc(method.clone(), values)
        }
        (None, Some(url)) => Call::Fetch(HttpRequest {
            method: "GET".into(),
            url: url.clone(),
            ..HttpRequest::default()
        }),
        _ => return Err("pass --call METHOD or --fetch URL".into()),
    };
    if !args.allow_net.is_empty() {
        let policy = args
            .allow_net
            .iter()
            .fold(EgressPolicy::new(), |policy, host| policy.allow_host(host));
        let egress = Egress::new(policy).map_err(|e| format!("--allow-net: {e}"))?;
        code = code.global_outbound(Outbound::Allow(egress));
    }
    Ok((code, call))
}

/// The most engine heap `--memory-mb` may ask for, in MiB.
const MAX_MEMORY_MB: usize = 16 << 10;

/// The run's limits from the flags, each checked: zero or more memory than
/// [`MAX_MEMORY_MB`] is an error, never silently changed.
fn run_limits(args: &RunArgs) -> Result<Limits, String> {
    let defaults = Limits::default();
    let positive = |flag: &str, value: Option<u64>, default: u64| match value {
        Some(0) => Err(format!("{flag} must be at least 1")),
        Some(n) => Ok(n),
        None => Ok(default),
    };
    let memory_mb = match args.memory_mb {
        Some(0) => return Err("--memory-mb must be at least 1".into()),
        Some(mb) if mb > MAX_MEMORY_MB => {
            return Err(format!(
                "--memory-mb {mb} is more than the {MAX_MEMORY_MB} MiB isola allows"
            ));
        }
        Some(mb) => mb,
        None => defaults.memory_bytes >> 20,
    };
    Ok(Limits {
        cpu_ms: positive("--cpu-ms", args.cpu_ms, defaults.cpu_ms)?,
        memory_bytes: memory_mb << 20,
        wall_ms: positive("--timeout-ms", args.timeout_ms, defaults.wall_ms)?,
        ..defaults
    })
}

fn report(run: Run, json: bool) -> ExitCode {
    let kind = run.outcome.kind();
    let code = match kind {
        OutcomeKind::Returned => 0,
        OutcomeKind::Threw => EXIT_THREW,
        OutcomeKind::InvalidCode => EXIT_INVALID,
        OutcomeKind::Internal => EXIT_INTERNAL,
        _ => EXIT_LIMIT,
    };
    if json {
        let mut report = serde_json::Map::new();
        report.insert("outcome".into(), kind.as_str().into());
        match &run.outcome {
            Outcome::Returned(v) => {
                report.insert("result".into(), v.to_json());
            }
            Outcome::Responded(r) => {
                report.insert(
                    "result".into(),
                    serde_json::json!({
                        "status": r.status,
                        "headers": r.headers,
                        "body": String::from_utf8_lossy(&r.body),
                    }),
                );
            }
            Outcome::Threw(e) | Outcome::InvalidCode(e) => {
                report.insert("error".into(), Value::Error(e.clone()).to_json());
            }
            other => {
                report.insert(
                    "error".into(),
                    serde_json::json!({"message": other.message()}),
                );
            }
        }
        report.insert(
            "logs".into(),
            run.logs
                .iter()
                .map(|l| serde_json::json!({"level": l.level.as_str(), "timestamp": l.timestamp_ms, "message": l.message}))
                .collect(),
        );
        report.insert(
            "stats".into(),
            serde_json::to_value(run.stats).unwrap_or_default(),
        );
        if let Some(peak) = peak_rss_bytes() {
            report.insert("host".into(), serde_json::json!({"peak_rss_bytes": peak}));
        }
        println!("{}", serde_json::Value::Object(report));
    } else {
        match &run.outcome {
            Outcome::Returned(v) => println!("{}", v.to_json()),
            Outcome::Responded(r) => {
                eprintln!("HTTP {} {}", r.status, inert(&r.status_text));
                print_body(&r.body);
            }
            Outcome::Threw(e) => {
                eprintln!("Uncaught {}", inert(&e.to_string()));
                if let Some(stack) = &e.stack {
                    eprintln!("{}", inert(stack.trim_end()));
                }
            }
            other => eprintln!("isola: {}", inert(&other.message().unwrap_or_default())),
        }
    }
    ExitCode::from(code)
}

/// The most resident memory this process has had (Linux's `VmHWM`): what
/// the run cost the host, beyond what the engine's own meter counts.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// A response body on stdout: as the guest sent it when piped (so that
/// `> file` keeps the bytes), made inert for a terminal.
fn print_body(body: &[u8]) {
    use std::io::{IsTerminal, Write};
    let mut stdout = std::io::stdout().lock();
    let _ = if stdout.is_terminal() {
        stdout.write_all(inert(&String::from_utf8_lossy(body)).as_bytes())
    } else {
        stdout.write_all(body)
    };
    let _ = stdout.flush();
}

/// Guest text made safe for a terminal: control characters other than
/// newline and tab are escaped, so a guest cannot drive the host's TTY.
fn inert(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

fn file_name(path: &Path) -> Result<String, String> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| format!("{} is not a file name", path.display()))
}

fn extension(name: &str) -> &str {
    name.rsplit_once('.').map_or("", |(_, e)| e)
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}
