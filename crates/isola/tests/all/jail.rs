//! The second layer from the supervisor's side: jailed worker processes
//! that crash, are killed, stop answering or run out of address space cost
//! only the calls in flight in them; other cordons never notice, and the
//! next call gets a fresh process.

use std::time::{Duration, Instant};

use isola::{Config, Jail, Limits, Loader, Outcome, WorkerCode};

use crate::support::{esm, isola_binary, returned, runtime};

fn jailed_loader(jail: Jail) -> Loader {
    Loader::new(Config::default().threads(1).jail(Some(jail))).expect("loader starts")
}

fn jail() -> Jail {
    Jail::new(isola_binary())
}

/// The pids of `cordon`'s worker processes as the supervisor started them.
fn pids(loader: &Loader, cordon: &str) -> Vec<u32> {
    pids_in(loader.cordons(), cordon)
}

/// The pids of `cordon` in a status list.
fn pids_in(cordons: Vec<isola::CordonStatus>, cordon: &str) -> Vec<u32> {
    cordons
        .into_iter()
        .find(|c| c.name == cordon)
        .map(|c| c.pids)
        .unwrap_or_default()
}

fn restarts(loader: &Loader, cordon: &str) -> u32 {
    loader
        .cordons()
        .into_iter()
        .find(|c| c.name == cordon)
        .map_or(0, |c| c.restarts)
}

/// The process running guest code: the supervisor's child waits for its
/// namespace's pid 1, which waits for the worker.
fn jailed_pid(pid: u32) -> u32 {
    let mut pid = pid;
    for _ in 0..2 {
        let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
            .expect("children of a worker process");
        pid = children
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a child");
    }
    pid
}

fn signal(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} {pid}");
}

fn sleeper(cordon: &str, ms: u64) -> WorkerCode {
    esm(&format!(
        "export default {{ async run() {{ await new Promise(r => setTimeout(r, {ms})); return 'slept' }} }}"
    ))
    .cordon(cordon)
}

fn internal_message(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Internal(message) => message.clone(),
        other => panic!("expected an internal outcome, got {other:?}"),
    }
}

#[test]
fn guests_run_in_jailed_processes_per_cordon() {
    let loader = jailed_loader(jail());
    assert!(loader.jailed());
    let rt = runtime();
    for cordon in ["a", "b"] {
        let worker = loader
            .load(esm("export default { run(x) { return x * 2 } }").cordon(cordon))
            .expect("valid code");
        let run = rt.block_on(worker.entrypoint(None).call("run", 21));
        assert_eq!(returned(run), 42);
    }
    let (a, b) = (pids(&loader, "a"), pids(&loader, "b"));
    assert_eq!((a.len(), b.len()), (1, 1), "{:?}", loader.cordons());
    assert_ne!(a, b, "cordons never share a process");
    assert_ne!(a[0], std::process::id());
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", jailed_pid(a[0]))).expect("status");
    assert!(status.lines().any(|l| l == "Seccomp:\t2"), "{status}");
    assert!(status.lines().any(|l| l == "NoNewPrivs:\t1"), "{status}");
}

#[test]
fn a_killed_process_costs_only_its_calls_and_is_replaced() {
    let loader = jailed_loader(jail());
    let rt = runtime();
    // Start both cordons' processes, then put one call in flight in each.
    loader.prepare_cordon("victim").expect("jail");
    loader.prepare_cordon("bystander").expect("jail");
    let victim = loader.load(sleeper("victim", 1_500)).expect("valid");
    let bystander = loader.load(sleeper("bystander", 1_500)).expect("valid");
    let (victim_run, bystander_run) = rt.block_on(async {
        let (victim, bystander) = (victim.entrypoint(None), bystander.entrypoint(None));
        let a = victim.call("run", 0);
        let b = bystander.call("run", 0);
        let kill = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            signal(pids(&loader, "victim")[0], "KILL");
        };
        let (a, b, ()) = tokio::join!(a, b, kill);
        (a, b)
    });
    let message = internal_message(&victim_run.outcome);
    assert!(message.contains("sandbox process"), "{message}");
    assert_eq!(returned(bystander_run), "slept");
    assert_eq!(restarts(&loader, "victim"), 1);
    assert_eq!(restarts(&loader, "bystander"), 0);
    // The next call in the victim's cordon gets a fresh process.
    let again = loader.load(sleeper("victim", 1)).expect("valid");
    assert_eq!(
        returned(rt.block_on(again.entrypoint(None).call("run", 0))),
        "slept"
    );
    // A process killed while idle costs no call at all: neither a fresh
    // worker nor a cached one whose isolate lived there.
    let cached = loader
        .get("cached", || sleeper("victim", 1))
        .expect("valid");
    assert_eq!(
        returned(rt.block_on(cached.entrypoint(None).call("run", 0))),
        "slept"
    );
    let idle = pids(&loader, "victim");
    signal(idle[0], "KILL");
    // Noticed and replaced with no call asking: the next call does not
    // pay for the process start.
    let replaced = Instant::now();
    while pids(&loader, "victim") == idle || pids(&loader, "victim").is_empty() {
        assert!(
            replaced.elapsed() < Duration::from_secs(5),
            "a process killed while idle was not replaced: {:?}",
            loader.cordons()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(restarts(&loader, "victim"), 2);
    let fresh = loader.load(sleeper("victim", 1)).expect("valid");
    assert_eq!(
        returned(rt.block_on(fresh.entrypoint(None).call("run", 0))),
        "slept"
    );
    assert_eq!(
        returned(rt.block_on(cached.entrypoint(None).call("run", 0))),
        "slept"
    );
    assert_eq!(restarts(&loader, "victim"), 2);
}

#[test]
fn a_crash_while_guest_code_runs_ends_the_call_at_once() {
    let loader = jailed_loader(jail());
    let rt = runtime();
    let spinner = loader
        .load(
            esm("export default { run() { for (;;) {} } }")
                .cordon("spin")
                .limits(Limits {
                    cpu_ms: 20_000,
                    ..Limits::default()
                }),
        )
        .expect("valid");
    let started = Instant::now();
    let run = rt.block_on(async {
        let entrypoint = spinner.entrypoint(None);
        let call = entrypoint.call("run", 0);
        let crash = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            // The engine aborting (an assertion, a double free detected).
            signal(jailed_pid(pids(&loader, "spin")[0]), "ABRT");
        };
        let (run, ()) = tokio::join!(call, crash);
        run
    });
    let message = internal_message(&run.outcome);
    assert!(message.contains("signal 6"), "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_process_that_stops_answering_is_killed_at_the_deadline() {
    let loader = jailed_loader(jail());
    let rt = runtime();
    let spinner = loader
        .load(
            esm("export default { run() { for (;;) {} } }")
                .cordon("frozen")
                .limits(Limits {
                    cpu_ms: 60_000,
                    wall_ms: 1_000,
                    ..Limits::default()
                }),
        )
        .expect("valid");
    let started = Instant::now();
    let run = rt.block_on(async {
        let entrypoint = spinner.entrypoint(None);
        let call = entrypoint.call("run", 0);
        let freeze = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            // An engine that no longer polls its watchdog: the process is
            // alive but will never answer.
            signal(jailed_pid(pids(&loader, "frozen")[0]), "STOP");
        };
        let (run, ()) = tokio::join!(call, freeze);
        run
    });
    assert_eq!(run.outcome, Outcome::WallLimit);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(restarts(&loader, "frozen"), 1);
    let next = loader.load(sleeper("frozen", 1)).expect("valid");
    assert_eq!(
        returned(rt.block_on(next.entrypoint(None).call("run", 0))),
        "slept"
    );
}

/// Kills the `crashy` cordon's process while a spinning call runs in it,
/// until its loader refuses a call as a crash loop (or `rounds` pass);
/// the refusal's message, if any, and the calls' outcomes before it.
fn crash_until_refused(
    loader: &Loader,
    rt: &tokio::runtime::Runtime,
    rounds: usize,
) -> (Option<String>, Vec<String>) {
    // Guest code runs when the kill lands, so the call sees the crash and
    // the next one comes at once (a kill between activations is noticed
    // by the pool's tending, which waits out the back-off itself).
    let spinner = || {
        esm("export default { run() { const end = Date.now() + 2000; while (Date.now() < end) {} return 'spun' } }")
            .cordon("crashy")
    };
    let mut seen = Vec::new();
    for _ in 0..rounds {
        let worker = loader.load(spinner()).expect("valid");
        let run = rt.block_on(async {
            let entrypoint = worker.entrypoint(None);
            let call = entrypoint.call("run", 0);
            tokio::pin!(call);
            // The call may first wait out a back-off: the kill lands once
            // its guest code is running.
            loop {
                tokio::select! {
                    run = &mut call => break run,
                    () = tokio::time::sleep(Duration::from_millis(50)) => {
                        for pid in pids(loader, "crashy") {
                            if spinning(pid) {
                                signal(pid, "KILL");
                            }
                        }
                    }
                }
            }
        });
        let message = internal_message(&run.outcome);
        if message.contains("keep crashing") {
            return (Some(message), seen);
        }
        seen.push(message);
    }
    (None, seen)
}

#[test]
fn a_cordon_that_keeps_crashing_backs_off() {
    let loader = jailed_loader(jail());
    let rt = runtime();
    // The first back-offs (50, 100, 200 ms) are waited out by new
    // isolates; a longer one is refused at once.
    let (refused, seen) = crash_until_refused(&loader, &rt, 12);
    let refused = refused
        .unwrap_or_else(|| panic!("a crash loop is refused for a while; calls ended: {seen:#?}"));
    assert!(refused.contains("\"crashy\""), "{refused}");
    assert!(
        seen.len() >= 6,
        "short back-offs were refused rather than waited out: {seen:#?}"
    );
    // Other cordons are unaffected meanwhile.
    let other = loader.load(sleeper("calm", 1)).expect("valid");
    assert_eq!(
        returned(rt.block_on(other.entrypoint(None).call("run", 0))),
        "slept"
    );
}

#[test]
fn a_new_isolate_waits_out_a_short_back_off() {
    // One executor, so one process for the cordon; four crashes within
    // ten seconds start its first back-off (50 ms).
    let loader = jailed_loader(jail());
    let rt = runtime();
    let (refused, seen) = crash_until_refused(&loader, &rt, 4);
    assert_eq!(refused, None, "{seen:#?}");
    let backing_off = loader
        .cordons()
        .into_iter()
        .find(|c| c.name == "crashy")
        .map_or(0, |c| c.backing_off);
    assert_eq!(backing_off, 1, "{:?}", loader.cordons());
    // Its code reached no process, so the crashes were not its own: it
    // runs once the back-off is over, instead of failing.
    let fresh = loader
        .load(esm("export default { run() { return 'ran' } }").cordon("crashy"))
        .expect("valid");
    assert_eq!(
        returned(rt.block_on(fresh.entrypoint(None).call("run", 0))),
        "ran"
    );
}

/// Whether the jailed process under the supervisor's child `pid` has a
/// thread running (not waiting): the one with a spinning guest in it.
fn spinning(pid: u32) -> bool {
    let pid = jailed_pid(pid);
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().any(|task| {
        std::fs::read_to_string(task.path().join("stat"))
            .ok()
            .and_then(|stat| stat.rsplit_once(')')?.1.trim_start().chars().next())
            == Some('R')
    })
}

#[test]
fn a_process_backing_off_leaves_its_cordon_to_the_others() {
    // Two executors, so two processes per cordon. A long call of another
    // cordon keeps the first executor busy, so that new isolates go to the
    // second, whose process the test kills in a loop until it backs off.
    let loader = Loader::new(Config::default().threads(2).jail(Some(jail()))).expect("loader");
    let rt = runtime();
    loader.prepare_cordon("crashy").expect("jail");
    let spinner = || {
        esm("export default { run() { const end = Date.now() + 400; while (Date.now() < end) {} return 'spun' } }")
            .cordon("crashy")
    };
    let backing_off = |loader: &Loader| {
        loader
            .cordons()
            .into_iter()
            .find(|c| c.name == "crashy")
            .map_or(0, |c| c.backing_off)
    };
    rt.block_on(async {
        let calm = loader.load(sleeper("calm", 20_000)).expect("valid");
        let calm = calm.entrypoint(None);
        let hold = calm.call("run", 0);
        let crash_loop = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let mut ended = Vec::new();
            while backing_off(&loader) == 0 {
                assert!(
                    ended.len() < 12,
                    "no process backed off; calls ended: {ended:#?}"
                );
                let worker = loader.load(spinner()).expect("valid");
                let entrypoint = worker.entrypoint(None);
                let call = entrypoint.call("run", 0);
                let kill = async {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    for pid in pids(&loader, "crashy") {
                        if spinning(pid) {
                            signal(pid, "KILL");
                        }
                    }
                };
                let (run, ()) = tokio::join!(call, kill);
                ended.push(format!("{:?}", run.outcome));
            }
            // One process is in its back-off (50 ms at first): a fresh
            // worker of the cordon right now runs in the other one.
            assert_eq!(backing_off(&loader), 1, "{:?}", loader.cordons());
            let worker = loader.load(spinner()).expect("valid");
            let run = worker.entrypoint(None).call("run", 0).await;
            assert_eq!(returned(run), "spun", "calls before: {ended:#?}");
        };
        tokio::select! {
            run = hold => panic!("the calm call ended first: {:?}", run.outcome),
            () = crash_loop => {}
        }
    });
}

#[test]
fn running_out_of_address_space_is_a_typed_outcome() {
    // The process may map 1 GiB; the guest may use 4 GiB of heap, so the
    // rlimit, not the meter, stops it.
    let loader = Loader::new(
        Config::default()
            .threads(1)
            .limits(Limits {
                memory_bytes: 4 << 30,
                cpu_ms: 30_000,
                ..Limits::default()
            })
            .jail(Some(jail().address_space_bytes(1 << 30))),
    )
    .expect("loader");
    let rt = runtime();
    let hog = loader
        .load(
            esm("export default { run() { const a = []; for (;;) a.push(new Uint8Array(16 << 20)) } }")
                .cordon("hog"),
        )
        .expect("valid");
    let run = rt.block_on(hog.entrypoint(None).call("run", 0));
    assert!(
        matches!(run.outcome, Outcome::MemoryLimit | Outcome::Internal(_)),
        "{:?}",
        run.outcome
    );
    let next = loader.load(sleeper("hog", 1)).expect("valid");
    assert_eq!(
        returned(rt.block_on(next.entrypoint(None).call("run", 0))),
        "slept"
    );
}

#[test]
fn a_jail_that_cannot_start_is_a_clear_error_not_an_open_door() {
    let loader = jailed_loader(Jail::new("/nonexistent/isola"));
    let error = loader
        .prepare_cordon("main")
        .expect_err("no worker program");
    assert!(
        error
            .to_string()
            .contains("could not run /nonexistent/isola"),
        "{error}"
    );
    // A call fails closed: it never runs in this process instead.
    let worker = loader.load(sleeper("main", 1)).expect("valid code");
    let run = runtime().block_on(worker.entrypoint(None).call("run", 0));
    let message = internal_message(&run.outcome);
    assert!(message.contains("could not run"), "{message}");
}

/// A stand-in for a worker process whose engine is owned: it passes the
/// handshake, then answers activations as `mode` says (see the script).
fn hostile_jail(mode: &str) -> (Jail, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt as _;
    let script = include_str!("data/hostile_worker.py");
    let path = std::env::temp_dir().join(format!("isola-hostile-{mode}-{}.py", std::process::id()));
    std::fs::write(
        &path,
        format!("#!/usr/bin/python3\nMODE = {mode:?}\n{script}"),
    )
    .expect("script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (Jail::new(&path), path)
}

fn run_against(mode: &str, limits: Limits) -> (isola::Run, u32) {
    let (jail, script) = hostile_jail(mode);
    let loader = jailed_loader(jail);
    let worker = loader
        .load(esm("export default { run() { return 1 } }").limits(limits))
        .expect("valid code");
    let started = Instant::now();
    let run = runtime().block_on(worker.entrypoint(None).call("run", 0));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{mode}: {:?}",
        started.elapsed()
    );
    let restarts = restarts(&loader, "main");
    let _ = std::fs::remove_file(script);
    (run, restarts)
}

/// Every answer from a worker process is hostile input: garbage, a huge
/// announced frame, the wrong kind of answer, a value nested 100,000 deep,
/// silence, more timers than the engine ever keeps. Each ends that call
/// with a typed outcome, and the process is killed where it broke the
/// protocol; the supervisor (this test process) carries on.
#[test]
fn a_hostile_worker_process_never_takes_the_supervisor_down() {
    let short = Limits {
        wall_ms: 1_000,
        ..Limits::default()
    };
    for mode in ["garbage", "huge", "wrong-kind", "deep"] {
        let (run, restarts) = run_against(mode, short);
        let message = internal_message(&run.outcome);
        assert!(message.contains("sandbox process"), "{mode}: {message}");
        assert_eq!(restarts, 1, "{mode}: the process was killed");
    }
    let (run, restarts) = run_against("silent", short);
    assert_eq!(run.outcome, Outcome::WallLimit);
    assert_eq!(restarts, 1, "silent: the process was killed");
    let (run, _) = run_against("timers", short);
    let message = internal_message(&run.outcome);
    assert!(message.contains("more than its limits"), "{message}");
    // Results for call ids that do not exist change nothing.
    let (run, _) = run_against("forged-ids", short);
    assert_eq!(returned(run), "fine");
    // A console flood is capped by the supervisor, not by the engine.
    let (run, _) = run_against(
        "log-flood",
        Limits {
            log_bytes: 64 << 10,
            ..short
        },
    );
    let kept: usize = run.logs.iter().map(|l| l.message.len()).sum();
    assert!(kept <= (64 << 10) + 1024, "{kept} bytes of console kept");
    assert_eq!(returned(run), "done");
    // And a real sandbox still runs.
    let loader = jailed_loader(jail());
    let worker = loader.load(sleeper("main", 1)).expect("valid");
    assert_eq!(
        returned(runtime().block_on(worker.entrypoint(None).call("run", 0))),
        "slept"
    );
}

/// A process that stops reading cannot hold the supervisor: sending it a
/// worker's code (4 MiB, more than the socket holds) ends at the call's
/// deadline, and the process is killed.
#[test]
fn a_process_that_stops_reading_cannot_hold_the_supervisor() {
    let (jail, script) = hostile_jail("deaf");
    let loader = jailed_loader(jail);
    let padding = "x".repeat(4 << 20);
    let code = format!("export default {{ run() {{ return 1 }} }}\n// {padding}\n");
    let worker = loader
        .load(esm(&code).limits(Limits {
            wall_ms: 500,
            ..Limits::default()
        }))
        .expect("valid code");
    let started = Instant::now();
    let run = runtime().block_on(worker.entrypoint(None).call("run", 0));
    let took = started.elapsed();
    let _ = std::fs::remove_file(script);
    assert_eq!(run.outcome, Outcome::WallLimit);
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(restarts(&loader, "main"), 1, "the process was killed");
}

/// While one worker's activation is out in its process, the executor
/// thread serves the others: with a single executor thread, a quick call
/// in another cordon answers while a guest in the first spins.
#[test]
fn the_executor_serves_other_workers_while_an_activation_is_out() {
    let loader = jailed_loader(jail());
    loader.prepare_cordon("busy").expect("jail");
    loader.prepare_cordon("quick").expect("jail");
    let spinner = loader
        .load(
            esm("export default { run(ms) { const end = Date.now() + ms; while (Date.now() < end) {} return 'spun' } }")
                .cordon("busy"),
        )
        .expect("valid");
    let quick = loader
        .load(esm("export default { run() { return 'quick' } }").cordon("quick"))
        .expect("valid");
    let rt = runtime();
    // Both isolates exist before the race, so neither pays for its start.
    assert_eq!(
        returned(rt.block_on(spinner.entrypoint(None).call("run", 0))),
        "spun"
    );
    assert_eq!(
        returned(rt.block_on(quick.entrypoint(None).call("run", 0))),
        "quick"
    );
    let (spun_at, quick_at) = rt.block_on(async {
        let spin = async {
            let run = spinner.entrypoint(None).call("run", 600).await;
            assert_eq!(returned(run), "spun");
            Instant::now()
        };
        let ask = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let run = quick.entrypoint(None).call("run", 0).await;
            assert_eq!(returned(run), "quick");
            Instant::now()
        };
        tokio::join!(spin, ask)
    });
    assert!(
        quick_at < spun_at,
        "the quick call waited for the spinning one ({:?} after it)",
        quick_at - spun_at
    );
}

/// A sandbox whose code has not reached its process yet (its first call
/// waits for the process, busy with another call) is not lost with that
/// process: it starts in the replacement.
#[test]
fn a_sandbox_not_yet_in_a_lost_process_starts_in_the_next_one() {
    let loader = jailed_loader(jail());
    loader.prepare_cordon("shared").expect("jail");
    let spinner = loader
        .load(
            esm("export default { run() { for (;;) {} } }")
                .cordon("shared")
                .limits(Limits {
                    cpu_ms: 20_000,
                    ..Limits::default()
                }),
        )
        .expect("valid");
    let waiting = loader
        .load(
            esm("export default { run() { return 'made in the next process' } }").cordon("shared"),
        )
        .expect("valid");
    let rt = runtime();
    let (spun, waited) = rt.block_on(async {
        let entrypoint = spinner.entrypoint(None);
        let spin = entrypoint.call("run", 0);
        let wait = async {
            // Queued behind the spinning call, on the same process.
            tokio::time::sleep(Duration::from_millis(200)).await;
            waiting.entrypoint(None).call("run", 0).await
        };
        let kill = async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            signal(jailed_pid(pids(&loader, "shared")[0]), "KILL");
        };
        let (spun, waited, ()) = tokio::join!(spin, wait, kill);
        (spun, waited)
    });
    let message = internal_message(&spun.outcome);
    assert!(message.contains("signal 9"), "{message}");
    assert_eq!(returned(waited), "made in the next process");
    assert_eq!(restarts(&loader, "shared"), 1);
}

/// `isola mcp` with `[sandbox] cordon = "per-session"`: each client
/// session's runs get worker processes of their own, never shared with
/// another session's, and they end with the session; past `max_sessions`
/// a session is told why it cannot run code.
#[test]
fn mcp_sessions_with_cordons_of_their_own_share_no_process() {
    let config = isola_mcp::McpConfig::parse(
        "[sandbox]\ncordon = \"per-session\"\nmax_sessions = 2\n",
        std::path::Path::new("codemode.toml"),
        &|_| None,
    )
    .expect("valid config");
    let executor = isola_codemode::Executor::jailed(Some(jail())).expect("jail starts");
    let state = isola_mcp::CodeMode::new(&config, executor);
    let rt = runtime();
    let run = |handler: &isola_mcp::Handler| {
        let cordon = handler.cordon().expect("a cordon");
        let outcome = rt.block_on(state.execute("async () => 6 * 7", None, cordon.clone()));
        assert_eq!(outcome.result, Some(serde_json::json!(42)), "{outcome:?}");
        cordon.expect("a session cordon").to_string()
    };
    let pids_of = |cordon: &str| pids_in(state.cordons(), cordon);
    let first = isola_mcp::Handler::new(state.clone());
    let second = isola_mcp::Handler::new(state.clone());
    let (a, b) = (run(&first), run(&second));
    assert_ne!(a, b);
    assert_eq!(run(&first), a, "a session keeps its cordon");
    let (pids_a, pids_b) = (pids_of(&a), pids_of(&b));
    assert!(
        !pids_a.is_empty() && !pids_b.is_empty(),
        "{:?}",
        state.cordons()
    );
    assert!(
        pids_a.iter().all(|pid| !pids_b.contains(pid)),
        "{pids_a:?} {pids_b:?}"
    );

    // At the limit, a third session is refused with the reason.
    let third = isola_mcp::Handler::new(state.clone());
    let refused = third.cordon().expect_err("over max_sessions");
    assert!(refused.contains("max_sessions"), "{refused}");

    // The first session ends: its cordon and processes go, and its place
    // is free for a new session.
    drop(first);
    assert!(pids_of(&a).is_empty(), "{:?}", state.cordons());
    let deadline = Instant::now() + Duration::from_secs(5);
    while pids_a
        .iter()
        .any(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists())
    {
        assert!(Instant::now() < deadline, "{pids_a:?} still run");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(pids_of(&b), pids_b, "the other session keeps its process");
    // The refused session gets a cordon of its own at its next run.
    assert_ne!(run(&third), a);
}
