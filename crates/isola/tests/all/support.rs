//! Shared helpers.

use std::path::PathBuf;
use std::sync::OnceLock;

use isola::{Config, Loader, Module, Outcome, Run, Value, WorkerCode};

/// The loader most tests share: isolates in this process, or, with
/// `ISOLA_TEST_JAIL=1`, in jailed worker processes (the whole suite then
/// runs through the second layer).
pub(crate) fn loader() -> &'static Loader {
    static LOADER: OnceLock<Loader> = OnceLock::new();
    LOADER.get_or_init(|| {
        let jail = std::env::var_os("ISOLA_TEST_JAIL")
            .filter(|v| v == "1")
            .map(|_| isola::Jail::new(isola_binary()));
        Loader::new(Config::default().threads(2).jail(jail)).expect("loader starts")
    })
}

pub(crate) fn repository_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `isola` binary, built first: cargo builds binaries for the
/// integration tests of their own package only, so this works from a
/// clean checkout. It is also what jailed worker processes run.
pub(crate) fn isola_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = repository_root();
            let status = std::process::Command::new(env!("CARGO"))
                .args(["build", "--quiet", "-p", "isola-cli"])
                .current_dir(&root)
                .status()
                .expect("cargo runs");
            assert!(status.success(), "building isola-cli failed");
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(|| root.join("target"), PathBuf::from);
            target.join("debug/isola")
        })
        .clone()
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

pub(crate) fn esm(src: &str) -> WorkerCode {
    WorkerCode::new("2026-03-01", "agent.js").module("agent.js", Module::Esm(src.into()))
}

/// Loads `code` fresh and calls `method` with one argument.
pub(crate) fn call(code: WorkerCode, method: &str, arg: impl Into<Value>) -> Run {
    let worker = loader().load(code).expect("valid code");
    runtime().block_on(worker.entrypoint(None).call(method, arg))
}

pub(crate) fn returned(run: Run) -> serde_json::Value {
    match run.outcome {
        Outcome::Returned(v) => v.to_json(),
        other => panic!("expected a return, got {other:?} (logs: {:?})", run.logs),
    }
}

pub(crate) fn threw(run: Run) -> isola::ErrorValue {
    match run.outcome {
        Outcome::Threw(e) => e,
        other => panic!("expected a throw, got {other:?}"),
    }
}

/// The sandbox still works after whatever just happened.
pub(crate) fn assert_next_sandbox_works() {
    let run = call(esm("export default { ok(x) { return x * 2 } }"), "ok", 21);
    assert_eq!(returned(run), serde_json::json!(42));
}

/// A worker whose `run` passes one 30 MiB argument to 40 loopback calls in
/// flight at once: the host would hold 40 copies if they were not charged.
pub(crate) const FORTY_CALLS_WITH_ONE_BIG_ARGUMENT: &str = r#"import { WorkerEntrypoint } from "cloudflare:workers";
export default class extends WorkerEntrypoint {
  async run() {
    const big = new Uint8Array(30 << 20);
    const calls = [];
    for (let i = 0; i < 40; i++) calls.push(this.ctx.exports.default({}).size(big));
    return (await Promise.all(calls)).length;
  }
  size(bytes) { return bytes.length; }
}"#;
