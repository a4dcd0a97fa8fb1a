//! `isola`: run a worker module once, with limits, from a shell.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

mod run;
mod terminal;

use terminal::inert;

#[derive(Parser)]
#[command(
    name = "isola",
    version,
    about = "Run code that AI agents write, safely: one fresh sandbox per call"
)]
struct Cli {
    /// How logs go to stderr: `text` for people, or `json`, one object
    /// per line, for log collectors (with `run`, console lines too).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Run guest code inside this process, with the engine as its only
    /// boundary, instead of in jailed worker processes (namespaces, an
    /// empty root, seccomp). For machines that cannot set the jail up;
    /// one engine bug then reaches everything this process can.
    #[arg(long, global = true)]
    no_jail: bool,
    #[command(subcommand)]
    command: Command,
}

/// The format of what goes to stderr.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run a module once in a fresh sandbox and print the result.
    ///
    /// Exit codes: 0 returned, 1 the guest threw, 2 invalid input or code,
    /// 3 a limit fired, 4 internal error.
    Run(Box<run::RunArgs>),
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

const EXIT_THREW: u8 = 1;
const EXIT_INVALID: u8 = 2;
const EXIT_LIMIT: u8 = 3;
const EXIT_INTERNAL: u8 = 4;

fn main() -> ExitCode {
    // A jailed worker process is this binary started by the supervisor:
    // it must jail itself before anything else runs.
    if let Some(invocation) = isola::worker_invocation() {
        isola::worker_main(invocation);
    }
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
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
    let jail = match jail(cli.no_jail) {
        Ok(jail) => jail,
        Err(code) => return code,
    };
    match cli.command {
        Command::Run(args) => run::run(*args, cli.log_format, jail),
        Command::Serve(args) => serve(args, jail),
        Command::Mcp(args) => mcp(args, jail),
    }
}

/// The jail worker processes get (this very binary), or `None` with
/// `--no-jail`, said loudly.
fn jail(no_jail: bool) -> Result<Option<isola::Jail>, ExitCode> {
    if no_jail {
        tracing::warn!(
            "--no-jail: guest code runs inside this process with the engine as its only \
             boundary; an engine bug would reach everything this process can"
        );
        return Ok(None);
    }
    match isola::Jail::current_exe() {
        Ok(jail) => Ok(Some(jail)),
        Err(e) => {
            eprintln!("isola: the jail could not be set up: cannot find this executable: {e}");
            Err(ExitCode::from(EXIT_INTERNAL))
        }
    }
}

/// What to say under an error from a jail that cannot be set up.
const NO_JAIL_HINT: &str =
    "  (--no-jail runs guest code in this process instead, without the second layer)";

/// Refuses to go on when the jail cannot be set up on this machine.
pub(crate) fn jail_unavailable(error: &isola::LoadError) -> ExitCode {
    eprintln!("isola: {}\n{NO_JAIL_HINT}", inert(&error.to_string()));
    ExitCode::from(EXIT_INTERNAL)
}

fn mcp(args: McpArgs, jail: Option<isola::Jail>) -> ExitCode {
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
            None => isola_mcp::serve_stdio(&config, jail).await,
            Some(addr) => {
                let ready = |bound| tracing::info!("isola mcp listening on http://{bound}/mcp");
                isola_mcp::serve_http(&config, jail, addr, ready, shutdown_signal()).await
            }
        }
    });
    // Upstream child processes and pending work are dropped with the runtime.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(
            e @ (isola_mcp::McpError::NotLoopback(_) | isola_mcp::McpError::UnknownTool { .. }),
        ) => {
            eprintln!("isola: error: {}", inert(&e.to_string()));
            ExitCode::from(EXIT_INVALID)
        }
        Err(e @ isola_mcp::McpError::Bind { .. }) => {
            eprintln!("isola: error: {}", inert(&e.to_string()));
            ExitCode::from(1)
        }
        Err(isola_mcp::McpError::Executor(e @ isola::LoadError::Jail(_))) => jail_unavailable(&e),
        Err(e) => {
            eprintln!("isola: error: {}", inert(&e.to_string()));
            ExitCode::from(EXIT_INTERNAL)
        }
    }
}

/// Builds the async runtime a command runs on.
pub(crate) fn tokio_runtime(
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

fn serve(args: ServeArgs, jail: Option<isola::Jail>) -> ExitCode {
    let runtime = match tokio_runtime(tokio::runtime::Builder::new_multi_thread()) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    // Module names in startup errors are relative to their config's folder.
    let roots: Vec<PathBuf> = args
        .config
        .iter()
        .map(|c| {
            c.parent()
                .map_or_else(PathBuf::new, std::path::Path::to_path_buf)
        })
        .collect();
    let mut configs = args.config.into_iter();
    let mut options = isola_serve::ServeOptions::new(configs.next().unwrap_or_default());
    options.other_configs = configs.collect();
    options.watch = args.watch;
    options.jail = jail;
    options.host = args.host;
    options.port = args.port;
    match runtime.block_on(isola_serve::serve(&options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let message = e.to_string();
            eprintln!("isola: error: {}", inert(&message));
            if matches!(e, isola_serve::ServeError::Jail(_)) {
                eprintln!("{NO_JAIL_HINT}");
            }
            if matches!(e, isola_serve::ServeError::Code(_)) {
                let from_disk = |name: &str| {
                    roots
                        .iter()
                        .find_map(|root| std::fs::read_to_string(root.join(name)).ok())
                };
                if let Some(frame) = terminal::frame_for_message(&message, from_disk) {
                    eprintln!("\n{}", frame.trim_end());
                }
            }
            ExitCode::from(e.exit_code())
        }
    }
}
