//! `isola run`: one module, one fresh sandbox, one call, printed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use isola::egress::{Egress, EgressPolicy};
use isola::{
    Config, HttpRequest, Limits, Loader, Module, Outbound, Outcome, OutcomeKind, Run, Value,
    WorkerCode,
};

use crate::terminal::{inert, print_body};
use crate::{EXIT_INTERNAL, EXIT_INVALID, EXIT_LIMIT, EXIT_THREW, LogFormat, tokio_runtime};

#[derive(Args)]
pub(crate) struct RunArgs {
    /// The main module (.js, .mjs, .ts, .mts or .cjs), or `-` to read
    /// JavaScript from stdin. Its relative imports are read from disk
    /// (`./util` finds `util.ts`, `util.js`, `util.mts` or `util.mjs`).
    file: String,
    /// Another module, NAME=PATH, for names that imports do not find on
    /// disk as written; typed by NAME: .js/.mjs ES module, .ts/.mts
    /// TypeScript, .cjs CommonJS, .json JSON, .txt text, anything else bytes.
    #[arg(long = "module", value_name = "NAME=PATH")]
    modules: Vec<String>,
    /// A named export to use instead of the default export.
    #[arg(long)]
    entrypoint: Option<String>,
    /// The method to call. Without --call or --fetch, a default-exported
    /// function is called with (arg, env, ctx); a module without one just
    /// runs its top level.
    #[arg(long = "call", value_name = "METHOD", conflicts_with = "fetch")]
    call: Option<String>,
    /// An argument as JSON (repeat for several; none passes `undefined`).
    #[arg(long = "arg", value_name = "JSON")]
    args: Vec<String>,
    /// Call the fetch handler with a request to this URL.
    #[arg(long, value_name = "URL")]
    fetch: Option<String>,
    /// The request's method for --fetch (default GET, or POST with --data).
    #[arg(
        long = "method",
        short = 'X',
        value_name = "METHOD",
        requires = "fetch"
    )]
    http_method: Option<String>,
    /// A request header for --fetch, `Name: value` (repeatable).
    #[arg(
        long = "header",
        short = 'H',
        value_name = "NAME: VALUE",
        requires = "fetch"
    )]
    headers: Vec<String>,
    /// The request body for --fetch; `@FILE` reads it from a file.
    #[arg(long, short = 'd', value_name = "DATA", requires = "fetch")]
    data: Option<String>,
    /// An env string, NAME=VALUE (repeatable).
    #[arg(long = "env", value_name = "NAME=VALUE")]
    env: Vec<String>,
    /// An env value given as JSON, NAME=JSON (repeatable).
    #[arg(long = "env-json", value_name = "NAME=JSON")]
    env_json: Vec<String>,
    /// CPU limit in milliseconds.
    #[arg(long, value_name = "N")]
    cpu_ms: Option<u64>,
    /// Memory limit in MiB.
    #[arg(long, value_name = "N")]
    memory_mb: Option<usize>,
    /// Wall-clock limit in milliseconds.
    #[arg(long, value_name = "N")]
    timeout_ms: Option<u64>,
    /// Let the guest's fetch() reach these hosts (comma-separated or
    /// repeated; `*.example.com` matches subdomains; `*` any public host).
    /// Ports 80 and 443 only; private and loopback addresses stay refused.
    /// Without it fetch() is blocked.
    #[arg(long = "allow-net", value_name = "HOST", value_delimiter = ',')]
    allow_net: Vec<String>,
    /// Print one JSON object: {"outcome", "result"|"error", "logs",
    /// "stats": {"cpu_us", "wall_us", "peak_memory_bytes", "subrequests"},
    /// "host": {"peak_rss_bytes"}}.
    #[arg(long)]
    json: bool,
}

/// What the run calls.
enum Call {
    Rpc(String, Vec<Value>),
    Fetch(HttpRequest),
    /// The module itself: its default-exported function, or only its top
    /// level (through the [`RUNNER`] module).
    Main(Value),
}

/// The module `isola run` puts in front of one whose shape it must learn:
/// it imports the main module (running its top level), then calls the
/// export if it is a plain function, or reports what the export is.
const RUNNER: &str = "isola-run.js";

pub(crate) fn run(args: RunArgs, log_format: LogFormat, jail: Option<isola::Jail>) -> ExitCode {
    let (code, call, sources) = match prepare(&args) {
        Ok(prepared) => prepared,
        Err(message) => return invalid(&message),
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
        Err(message) => return invalid(&message),
    };
    runtime.block_on(async move {
        let loader = match Loader::new(Config::default().threads(1).limits(limits).jail(jail)) {
            Ok(loader) => loader,
            Err(e) => {
                eprintln!("isola: {e}");
                return ExitCode::from(EXIT_INTERNAL);
            }
        };
        if let Err(e) = loader.prepare_cordon("main") {
            return crate::jail_unavailable(&e);
        }
        let worker = match loader.load(code) {
            Ok(worker) => worker,
            Err(e) => {
                if json {
                    let report = serde_json::json!({"outcome": "invalid-code", "error": {"name": "Error", "message": e.to_string()}, "logs": [], "stats": null});
                    println!("{report}");
                } else {
                    let message = e.to_string();
                    eprintln!("isola: invalid code: {}", inert(&message));
                    print_code_frame(&message, &sources);
                }
                return ExitCode::from(EXIT_INVALID);
            }
        };
        let main = matches!(call, Call::Main(_));
        let entrypoint = if main {
            worker.entrypoint(None)
        } else {
            worker.entrypoint(args.entrypoint.as_deref())
        };
        // Console lines go to stderr as they are written (with --json they
        // are in the report instead).
        let entrypoint = match (json, log_format) {
            (true, _) => entrypoint,
            (false, LogFormat::Text) => {
                entrypoint.on_log(|entry| eprintln!("{}", inert(&entry.message)))
            }
            (false, LogFormat::Json) => entrypoint.on_log(|entry| eprintln!("{}", json_log(entry))),
        };
        let run = match call {
            Call::Rpc(method, call_args) => entrypoint.call_with(&method, call_args).await,
            Call::Fetch(request) => entrypoint.fetch(request).await,
            Call::Main(arg) => entrypoint.call("run", arg).await,
        };
        if let Some(message) = wrong_shape(&run.outcome, &args) {
            return invalid(&message);
        }
        let worker_rss = loader.worker_peak_rss_bytes();
        if main {
            return match unwrap_main(run, &args) {
                Ok((run, print)) => report(run, json, print, &sources, worker_rss),
                Err(message) => invalid(&message),
            };
        }
        report(run, json, true, &sources, worker_rss)
    })
}

fn invalid(message: &str) -> ExitCode {
    eprintln!("isola: error: {}", inert(message));
    ExitCode::from(EXIT_INVALID)
}

/// The code, the call, and the text of its code modules by name (for code
/// frames of errors).
type Prepared = (WorkerCode, Call, Vec<(String, String)>);

fn prepare(args: &RunArgs) -> Result<Prepared, String> {
    let (main_name, mut modules) = main_modules(&args.file)?;
    for spec in &args.modules {
        let (name, path) = spec
            .split_once('=')
            .ok_or_else(|| format!("--module expects NAME=PATH, got {spec:?}"))?;
        let module = module_of(name, Path::new(path))?;
        modules.retain(|(existing, _)| existing != name);
        modules.push((name.to_owned(), module));
    }
    let mut values = Vec::with_capacity(args.args.len());
    for a in &args.args {
        let json: serde_json::Value =
            serde_json::from_str(a).map_err(|e| format!("--arg {a:?}: invalid JSON: {e}"))?;
        values.push(Value::from(json));
    }
    let (main, call) = match (&args.call, &args.fetch) {
        (Some(method), None) if method != "default" => {
            if values.is_empty() {
                values.push(Value::Undefined);
            }
            (main_name, Call::Rpc(method.clone(), values))
        }
        (None, Some(url)) => (main_name, Call::Fetch(fetch_request(args, url)?)),
        // The module's own function (or, without --call, its top level).
        _ => {
            if values.len() > 1 {
                return Err(
                    "a default-exported function takes one argument: pass --arg once".into(),
                );
            }
            let export = args.entrypoint.as_deref().unwrap_or("default");
            let runner = runner_source(&main_name, export, args.call.is_some());
            modules.push((RUNNER.to_owned(), Module::Esm(runner)));
            (
                RUNNER.to_owned(),
                Call::Main(values.pop().unwrap_or(Value::Undefined)),
            )
        }
    };
    let sources = modules
        .iter()
        .filter_map(|(name, module)| match module {
            Module::Esm(text) | Module::TypeScript(text) | Module::CommonJs(text) => {
                Some((name.clone(), text.clone()))
            }
            _ => None,
        })
        .collect();
    let mut code = WorkerCode::new(isola::engine::NEWEST_COMPATIBILITY_DATE, main);
    for (name, module) in modules {
        code = code.module(name, module);
    }
    for spec in &args.env {
        let (name, value) = spec
            .split_once('=')
            .ok_or_else(|| format!("--env expects NAME=VALUE, got {spec:?}"))?;
        code = code.env_value(name, serde_json::Value::String(value.to_owned()));
    }
    for spec in &args.env_json {
        let (name, json) = spec
            .split_once('=')
            .ok_or_else(|| format!("--env-json expects NAME=JSON, got {spec:?}"))?;
        let value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| format!("--env-json {name}: invalid JSON: {e}"))?;
        code = code.env_value(name, value);
    }
    code = code.limits(run_limits(args)?);
    if !args.allow_net.is_empty() {
        code = code.global_outbound(Outbound::Allow(egress(&args.allow_net)?));
    }
    Ok((code, call, sources))
}

/// The main module's name, and it with the modules it imports from disk.
fn main_modules(file: &str) -> Result<(String, Vec<(String, Module)>), String> {
    let collected = if file == "-" {
        let mut source = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut source)
            .map_err(|e| format!("cannot read the module from stdin: {e}"))?;
        let root = std::env::current_dir().map_err(|e| format!("no current directory: {e}"))?;
        isola_serve::modules::collect_source(&root, "stdin.js", source)
    } else {
        let path = PathBuf::from(file);
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_owned)
            .ok_or_else(|| format!("{file} is not a file name"))?;
        if extension(&name) == "cjs" {
            let module = Module::CommonJs(read(&path)?);
            return Ok((name.clone(), vec![(name, module)]));
        }
        if !path.is_file() {
            return Err(format!("cannot read {file}: no such file"));
        }
        let root = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        isola_serve::modules::collect(&root, &root.join(&name))
    }
    .map_err(|e| e.to_string())?;
    Ok((collected.main, collected.modules.into_iter().collect()))
}

fn module_of(name: &str, path: &Path) -> Result<Module, String> {
    Ok(match extension(name) {
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
    })
}

/// The request `--fetch URL` sends, with `--method`, `--header`, `--data`.
fn fetch_request(args: &RunArgs, url: &str) -> Result<HttpRequest, String> {
    let body = match args.data.as_deref() {
        None => None,
        Some(data) => Some(match data.strip_prefix('@') {
            Some(file) => std::fs::read(file).map_err(|e| format!("--data @{file}: {e}"))?,
            None => data.as_bytes().to_vec(),
        }),
    };
    let method = match &args.http_method {
        Some(method) => method.to_ascii_uppercase(),
        None if body.is_some() => "POST".into(),
        None => "GET".into(),
    };
    let mut headers = Vec::with_capacity(args.headers.len());
    for header in &args.headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| format!("--header expects \"Name: value\", got {header:?}"))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    Ok(HttpRequest {
        method,
        url: url.to_owned(),
        headers,
        body,
        ..HttpRequest::default()
    })
}

/// The egress for `--allow-net`: `*` alone is any public host.
fn egress(hosts: &[String]) -> Result<Egress, String> {
    let hosts: Vec<&str> = hosts
        .iter()
        .map(|h| h.trim())
        .filter(|h| !h.is_empty())
        .collect();
    let policy = if hosts.contains(&"*") {
        if hosts.len() > 1 {
            return Err("--allow-net '*' already allows every public host; drop the others".into());
        }
        EgressPolicy::new()
    } else {
        hosts
            .iter()
            .fold(EgressPolicy::new(), |policy, host| policy.allow_host(*host))
    };
    Egress::new(policy).map_err(|e| format!("--allow-net: {e}"))
}

/// The runner module's source: see [`RUNNER`]. `call_default` (`--call
/// default`) also calls a `default` method of an exported object.
fn runner_source(main: &str, export: &str, call_default: bool) -> String {
    let quote = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
    format!(
        r#"import * as main from {main};
const name = {export};
const exported = main[name];
const isClass = (f) => /^class[\s{{]/.test(Function.prototype.toString.call(f));
export default {{
  async run(arg, env, ctx) {{
    if (typeof exported === "function" && !isClass(exported)) return {{ kind: "called", value: await exported(arg, env, ctx) }};
    if ({call_default} && exported !== null && typeof exported === "object" && typeof exported.default === "function") {{
      return {{ kind: "called", value: await exported.default(arg, env, ctx) }};
    }}
    if (name !== "default" && !(name in main)) return {{ kind: "missing" }};
    if (exported !== null && (typeof exported === "object" || typeof exported === "function")) {{
      const names = typeof exported === "function"
        ? Object.getOwnPropertyNames(exported.prototype ?? {{}}).filter((n) => n !== "constructor")
        : Object.keys(exported).filter((k) => typeof exported[k] === "function");
      return {{ kind: "handlers", names }};
    }}
    return {{ kind: "top-level" }};
  }}
}};
"#,
        main = quote(&format!("./{main}")),
        export = quote(export),
    )
}

/// The run of the module itself, as its own: the function's value, or
/// nothing to print after a top level; an error for a shape that needs
/// `--call` or `--fetch`.
fn unwrap_main(mut run: Run, args: &RunArgs) -> Result<(Run, bool), String> {
    let Outcome::Returned(report) = &run.outcome else {
        return Ok((run, true));
    };
    let member = |key: &str| match report {
        Value::Object(entries) => entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone()),
        _ => None,
    };
    let kind = match member("kind") {
        Some(Value::String(kind)) => kind,
        _ => return Ok((run, true)),
    };
    let export = args.entrypoint.as_deref().unwrap_or("default");
    match kind.as_str() {
        "called" => {
            run.outcome = Outcome::Returned(member("value").unwrap_or(Value::Undefined));
            Ok((run, true))
        }
        "top-level" if args.call.is_none() => {
            run.outcome = Outcome::Returned(Value::Undefined);
            Ok((run, false))
        }
        "missing" => Err(format!("{} has no export named {export}", args.file)),
        "handlers" => {
            let names = match member("names") {
                Some(Value::Array(names)) => names
                    .iter()
                    .filter_map(|n| match n {
                        Value::String(n) => Some(n.as_str()),
                        _ => None,
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => String::new(),
            };
            let names = if names.is_empty() {
                "none".to_owned()
            } else {
                names
            };
            let what = if export == "default" {
                "its default export".to_owned()
            } else {
                format!("its export {export}")
            };
            if args.call.is_some() {
                return Err(format!(
                    "--call default needs a default-exported function; {} exports handlers as {what} (methods: {names}): pass --call METHOD to call one.",
                    args.file
                ));
            }
            Err(format!(
                "{} exports handlers, not a function, as {what} (methods: {names}). Pass --call METHOD (with --arg JSON) or --fetch URL to call one.",
                args.file
            ))
        }
        _ => Err(format!(
            "--call default needs a default-exported function; {} has none",
            args.file
        )),
    }
}

/// The engine's answer when the module does not have the shape the call
/// needs (no such entrypoint, method or fetch handler), as an input error
/// that says what `isola run` expects. Those errors come from the host,
/// not from guest code, so they carry no stack.
fn wrong_shape(outcome: &Outcome, args: &RunArgs) -> Option<String> {
    let Outcome::Threw(error) = outcome else {
        return None;
    };
    if error.stack.is_some() {
        return None;
    }
    let message = error.message.as_str();
    let method = args.call.as_deref().unwrap_or("");
    let shape = message == "Worker has no default entrypoint."
        || message.starts_with("Worker has no such entrypoint: ")
        || message.contains("Incorrect type for map entry")
        || message.starts_with("The RPC receiver does not implement the method")
        || message == format!("\"{method}\" is not a function.")
        || message.starts_with("Attempted to call RPC function")
        || message == "Handler does not export a fetch() function.";
    shape.then(|| {
        let expected = if args.fetch.is_some() {
            "--fetch calls the fetch(request, env, ctx) method of the default export (or of --entrypoint NAME's export)"
        } else {
            "--call METHOD calls a method of the default export (or of --entrypoint NAME's export): an object of methods, which take one --arg, or a class extending WorkerEntrypoint"
        };
        format!("{}: {message}\n{expected}.", args.file)
    })
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

/// Prints the run (its value only when `print_value`) and picks the exit
/// code.
/// `worker_rss`: the jailed worker process's peak resident memory.
fn report(
    run: Run,
    json: bool,
    print_value: bool,
    sources: &[(String, String)],
    worker_rss: u64,
) -> ExitCode {
    let kind = run.outcome.kind();
    let code = match kind {
        OutcomeKind::Returned => 0,
        OutcomeKind::Threw => EXIT_THREW,
        OutcomeKind::InvalidCode => EXIT_INVALID,
        OutcomeKind::Internal => EXIT_INTERNAL,
        _ => EXIT_LIMIT,
    };
    if json {
        println!("{}", json_report(&run, worker_rss));
    } else {
        match &run.outcome {
            Outcome::Returned(v) if print_value => println!("{}", v.to_json()),
            Outcome::Returned(_) => {}
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
            other => {
                let message = other.message().unwrap_or_default();
                eprintln!("isola: {}", inert(&message));
                print_code_frame(&message, sources);
            }
        }
    }
    ExitCode::from(code)
}

/// A code frame under an error whose message ends with a position in one
/// of the modules (a syntax error, a failed import).
fn print_code_frame(message: &str, sources: &[(String, String)]) {
    let source_of = |name: &str| {
        sources
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, text)| text.clone())
    };
    if let Some(frame) = crate::terminal::frame_for_message(message, source_of) {
        eprintln!("\n{}", frame.trim_end());
    }
}

fn json_report(run: &Run, worker_peak_rss: u64) -> serde_json::Value {
    let mut report = serde_json::Map::new();
    report.insert("outcome".into(), run.outcome.kind().as_str().into());
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
        let peak = peak.max(worker_peak_rss);
        report.insert("host".into(), serde_json::json!({"peak_rss_bytes": peak}));
    }
    serde_json::Value::Object(report)
}

/// A console line in the shape of isola's own JSON logs (`tracing`'s JSON
/// format): an RFC 3339 timestamp, the level, the fields, the target.
fn json_log(entry: &isola::LogEntry) -> serde_json::Value {
    let timestamp = i64::try_from(entry.timestamp_ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    let level = match entry.level {
        isola::LogLevel::Debug => "DEBUG",
        isola::LogLevel::Log | isola::LogLevel::Info => "INFO",
        isola::LogLevel::Warn => "WARN",
        isola::LogLevel::Error => "ERROR",
    };
    serde_json::json!({
        "timestamp": timestamp,
        "level": level,
        "fields": {"message": entry.message, "console": entry.level.as_str()},
        "target": "isola::guest",
    })
}

/// The most resident memory this process has had (Linux's `VmHWM`): what
/// the run cost the host, beyond what the engine's own meter counts. (The
/// report takes the larger of it and the jailed worker process's.)
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn extension(name: &str) -> &str {
    name.rsplit_once('.').map_or("", |(_, e)| e)
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}
