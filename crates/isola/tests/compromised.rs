//! The jail with the engine already owned: guest code is given a native
//! function (`__isolaAttack`, the engine's `attack-probe` feature) that
//! runs raw syscalls from inside its worker process, as an attacker who
//! broke QuickJS could, and tries everything an escape needs. Every
//! attempt must be refused or end only its own process; the supervisor
//! lives, the next sandbox of the same cordon works, and a bystander
//! cordon never notices.
//!
//! This binary is its own worker (`harness = false`): jailed processes run
//! it with the probe armed, so guests in them get the function. The
//! released `isola` never has it (`.ci/run` checks).

use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use isola::{Config, Jail, Loader, Module, Outcome, WorkerCode};

fn main() -> ExitCode {
    isola::engine::arm_attack_probe(isola_jail::probe::act);
    if let Some(invocation) = isola::worker_invocation() {
        isola::worker_main(invocation);
    }
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let cases: [(&str, Case); 3] = [
        (
            "the_probe_escapes_when_there_is_no_jail",
            the_probe_escapes_when_there_is_no_jail,
        ),
        (
            "an_owned_engine_gets_nothing_from_its_jail",
            an_owned_engine_gets_nothing_from_its_jail,
        ),
        (
            "an_aborting_engine_costs_only_its_call",
            an_aborting_engine_costs_only_its_call,
        ),
    ];
    let mut failed = 0;
    for (name, case) in cases {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        match case() {
            Ok(()) => println!("test {name} ... ok"),
            Err(why) => {
                failed += 1;
                println!("test {name} ... FAILED\n{why}");
            }
        }
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        println!("{failed} failed");
        ExitCode::FAILURE
    }
}

/// A test: `Err` says what broke.
type Case = fn() -> Result<(), String>;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn jailed_loader() -> Loader {
    let jail = Jail::current_exe().expect("own path");
    Loader::new(Config::default().threads(1).jail(Some(jail))).expect("the jail starts here")
}

fn attacker(cordon: &str) -> WorkerCode {
    WorkerCode::new("2026-03-01", "attack.js")
        .module(
            "attack.js",
            Module::Esm(
                "export default { run(action) { return __isolaAttack(action) }, \
                 twice(x) { return x * 2 } }"
                    .into(),
            ),
        )
        .cordon(cordon)
}

/// How one call ended: the probe's answer, or the call lost with its
/// process.
enum Ended {
    Answered(String),
    ProcessLost(String),
}

fn attack(loader: &Loader, cordon: &str, action: &str) -> Result<Ended, String> {
    let worker = loader.load(attacker(cordon)).map_err(|e| e.to_string())?;
    let run = runtime().block_on(worker.entrypoint(None).call("run", action));
    match run.outcome {
        Outcome::Returned(value) => match value.to_json() {
            serde_json::Value::String(answer) => Ok(Ended::Answered(answer)),
            other => Err(format!("{action}: the probe returned {other}")),
        },
        Outcome::Internal(message) if message.contains("sandbox process") => {
            Ok(Ended::ProcessLost(message))
        }
        other => Err(format!("{action}: unexpected outcome {other:?}")),
    }
}

/// A fresh sandbox in `cordon` computes.
fn next_sandbox_works(loader: &Loader, cordon: &str) -> Result<(), String> {
    let worker = loader.load(attacker(cordon)).map_err(|e| e.to_string())?;
    let run = runtime().block_on(worker.entrypoint(None).call("twice", 21));
    match run.outcome {
        Outcome::Returned(value) if value.to_json() == 42 => Ok(()),
        other => Err(format!("the next sandbox in {cordon}: {other:?}")),
    }
}

fn cordon_pids(loader: &Loader, cordon: &str) -> (Vec<u32>, u32) {
    loader
        .cordons()
        .into_iter()
        .find(|c| c.name == cordon)
        .map(|c| (c.pids, c.restarts))
        .unwrap_or_default()
}

/// Without the jail the same probe reads host files and sees the host's
/// pids: the attacks below would show it if they got through.
fn the_probe_escapes_when_there_is_no_jail() -> Result<(), String> {
    let loader = Loader::new(Config::default().threads(1).jail(None)).expect("loader");
    match attack(&loader, "main", "open /etc/passwd")? {
        Ended::Answered(answer) if answer.starts_with("ALLOWED") => {}
        Ended::Answered(answer) => return Err(format!("unjailed open: {answer}")),
        Ended::ProcessLost(message) => return Err(message),
    }
    match attack(&loader, "main", "getpid")? {
        Ended::Answered(answer) if answer == format!("pid {}", std::process::id()) => Ok(()),
        Ended::Answered(answer) => Err(format!("unjailed getpid: {answer}")),
        Ended::ProcessLost(message) => Err(message),
    }
}

fn an_owned_engine_gets_nothing_from_its_jail() -> Result<(), String> {
    let loader = jailed_loader();
    let supervisor = std::process::id();
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let connections = Arc::new(AtomicUsize::new(0));
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let repository_file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");

    // The bystander: a cordon that must never notice any of it.
    next_sandbox_works(&loader, "bystander")?;
    let bystander = cordon_pids(&loader, "bystander");

    // Inside, the guest is pid 2 of a namespace of its own.
    match attack(&loader, "inside", "getpid")? {
        Ended::Answered(answer) if answer == "pid 2" => {}
        Ended::Answered(answer) => return Err(format!("jailed getpid: {answer}")),
        Ended::ProcessLost(message) => return Err(message),
    }

    let actions = [
        "open /etc/passwd".to_owned(),
        "open /proc/1/environ".to_owned(),
        "open /proc/self/mem".to_owned(),
        format!("open {}", repository_file.display()),
        "create /tmp/isola-owned".to_owned(),
        format!("tcp {port}"),
        "udp".to_owned(),
        "unix".to_owned(),
        "socketpair".to_owned(),
        "exec".to_owned(),
        "fork".to_owned(),
        format!("ptrace {supervisor}"),
        format!("kill {supervisor}"),
        "kill 1".to_owned(),
        "mount".to_owned(),
        "unshare".to_owned(),
        "setns".to_owned(),
        "chroot".to_owned(),
        "keyctl".to_owned(),
        "bpf".to_owned(),
        "perf_event_open".to_owned(),
        "io_uring_setup".to_owned(),
        "process_vm_readv".to_owned(),
        "process_vm_writev".to_owned(),
        "mmap_exec".to_owned(),
        "raise_nofile".to_owned(),
        "allocate 65536".to_owned(),
        "threads 1000".to_owned(),
        "socket_garbage forged".to_owned(),
    ];
    let mut broken = Vec::new();
    for (i, action) in actions.iter().enumerate() {
        // A cordon per attack: one that crashes repeatedly is slowed down
        // on purpose, which is not what this test is about.
        let cordon = format!("attack-{i}");
        let ended = attack(&loader, &cordon, action)?;
        let verdict = match &ended {
            Ended::Answered(answer) => {
                println!("  {action}: {answer}");
                match answer.strip_prefix("denied: ") {
                    Some(_) if action.starts_with("threads") => {
                        threads_within_limit(answer).map_err(|e| format!("{action}: {e}"))
                    }
                    Some(_) => Ok(()),
                    None => Err(format!("{action} got through: {answer}")),
                }
            }
            Ended::ProcessLost(message) => {
                println!("  {action}: process killed ({message})");
                Ok(())
            }
        };
        if let Err(why) = verdict {
            broken.push(why);
        }
        if let Err(why) = next_sandbox_works(&loader, &cordon) {
            broken.push(format!("after {action}: {why}"));
        }
        if cordon_pids(&loader, "bystander") != bystander {
            broken.push(format!(
                "after {action}: the bystander cordon was disturbed"
            ));
        }
        while listener.accept().is_ok() {
            connections.fetch_add(1, Ordering::Relaxed);
        }
    }
    next_sandbox_works(&loader, "bystander")?;
    if connections.load(Ordering::Relaxed) > 0 {
        broken.push("a worker process reached the test's loopback server".into());
    }
    if broken.is_empty() {
        Ok(())
    } else {
        Err(broken.join("\n"))
    }
}

/// `denied: … after N threads` with N within the jail's thread limit.
fn threads_within_limit(answer: &str) -> Result<(), String> {
    match isola_jail::probe::threads_before_refusal(answer) {
        Some(count) if count < 64 => Ok(()),
        Some(count) => Err(format!("{count} threads started, the limit is 64")),
        None => Err(format!("no thread count in {answer:?}")),
    }
}

/// An engine that aborts (a failed assertion, a double free detected)
/// takes down its process only: the call ends with the typed outcome, the
/// process is replaced, other cordons keep their process.
fn an_aborting_engine_costs_only_its_call() -> Result<(), String> {
    let loader = jailed_loader();
    next_sandbox_works(&loader, "bystander")?;
    let bystander = cordon_pids(&loader, "bystander");
    next_sandbox_works(&loader, "victim")?;
    match attack(&loader, "victim", "abort")? {
        Ended::ProcessLost(message) if message.contains("were lost") => {}
        Ended::ProcessLost(message) => return Err(format!("abort: {message}")),
        Ended::Answered(answer) => return Err(format!("abort answered {answer}")),
    }
    next_sandbox_works(&loader, "victim")?;
    let (_, restarts) = cordon_pids(&loader, "victim");
    if restarts != 1 {
        return Err(format!("victim restarts: {restarts}"));
    }
    if cordon_pids(&loader, "bystander") != bystander {
        return Err("the bystander cordon was disturbed".into());
    }
    Ok(())
}
