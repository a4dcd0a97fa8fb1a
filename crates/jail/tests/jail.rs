//! The jail, assuming the engine inside it is already owned: a probe
//! process jails itself exactly as a worker does and then tries what an
//! attacker with code execution would. Each attempt must fail, either with
//! an error or by seccomp killing the process (SIGSYS).
//!
//! These tests need user namespaces and seccomp; where the machine lacks
//! them they fail with the jail's own message, never skip.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use isola_jail::{FrameError, Jail, Process};

fn jail() -> Jail {
    Jail::new(env!("CARGO_BIN_EXE_isola-jail-probe"))
}

fn spawn() -> Process {
    match jail().spawn() {
        Ok(process) => process,
        Err(error) => panic!("{error}"),
    }
}

fn ask(process: &mut Process, action: &str) -> Result<String, FrameError> {
    process.send(action.as_bytes())?;
    let answer = process.recv(Some(Instant::now() + Duration::from_secs(10)), 1 << 20)?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// The action fails with an error inside the jail; the process lives on.
fn refused(action: &str) {
    let mut process = spawn();
    let answer = ask(&mut process, action).expect("an answer");
    assert!(answer.starts_with("denied"), "{action}: {answer}");
    assert_eq!(ask(&mut process, "ping").expect("alive"), "pong");
}

/// The action is not on the allowlist: seccomp kills the process.
fn killed(action: &str) {
    let mut process = spawn();
    let answer = ask(&mut process, action);
    assert!(
        matches!(answer, Err(FrameError::Closed)),
        "{action}: {answer:?}"
    );
    let status = process.reap_within(Duration::from_secs(5));
    assert_eq!(status, "killed by signal 31", "{action} ended as: {status}");
}

#[test]
fn a_worker_reports_its_jail() {
    let process = spawn();
    let report = process.report().expect("a report");
    assert_eq!(report.seccomp_programs, 3);
    assert!(!report.landlock.is_empty());
}

#[test]
fn no_host_file_can_be_opened() {
    for path in [
        "/etc/passwd",
        "/proc/1/environ",
        "/proc/self/environ",
        "/",
        env!("CARGO_MANIFEST_DIR"),
    ] {
        refused(&format!("open {path}"));
    }
    refused("create /x");
}

#[test]
fn no_socket_can_be_made() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    killed(&format!("tcp {port}"));
    killed("udp");
    killed("unix");
    killed("socketpair");
    listener.set_nonblocking(true).expect("nonblocking");
    assert!(
        listener.accept().is_err(),
        "nothing connected to the test's server"
    );
}

#[test]
fn no_process_can_be_started_or_touched() {
    killed("exec");
    killed("fork");
    killed("ptrace 1");
    killed("kill -1");
}

#[test]
fn no_way_back_out_of_the_namespaces() {
    for action in [
        "mount",
        "unshare",
        "setns",
        "keyctl",
        "bpf",
        "perf_event_open",
        "io_uring_setup",
        "process_vm_readv",
    ] {
        killed(action);
    }
}

#[test]
fn memory_never_becomes_executable() {
    killed("mmap_exec");
}

#[test]
fn limits_cannot_be_raised_and_hold() {
    killed("raise_nofile");
    let mut process = Jail::new(env!("CARGO_BIN_EXE_isola-jail-probe"))
        .address_space_bytes(1 << 30)
        .spawn()
        .expect("spawn");
    let answer = ask(&mut process, "allocate 2048").expect("an answer");
    assert!(answer.starts_with("denied"), "{answer}");
    // Threads stop at the jail's limit, also when the supervisor is root
    // (whose processes the kernel exempts from RLIMIT_NPROC).
    let mut process = Jail::new(env!("CARGO_BIN_EXE_isola-jail-probe"))
        .max_threads(16)
        .spawn()
        .expect("spawn");
    let answer = ask(&mut process, "threads 200").expect("an answer");
    let started = isola_jail::probe::threads_before_refusal(&answer)
        .unwrap_or_else(|| panic!("the thread burst was not stopped: {answer}"));
    assert!(started < 16, "{answer}");
    assert_eq!(ask(&mut process, "thread").expect("thread"), "thread ok");
}

/// The jailed worker's pid outside: the supervisor's child waits for the
/// namespace's pid 1, which waits for the worker.
fn jailed_pid(process: &Process) -> String {
    let mut pid = process.pid().to_string();
    for _ in 0..2 {
        let children =
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).expect("children");
        pid = children
            .split_whitespace()
            .next()
            .expect("a child")
            .to_owned();
    }
    pid
}

#[test]
fn only_the_supervisor_socket_is_open() {
    let process = spawn();
    let jailed = jailed_pid(&process);
    let fds: Vec<String> = std::fs::read_dir(format!("/proc/{jailed}/fd"))
        .expect("fd dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(fds, ["3"]);
}

#[test]
fn the_worker_is_pid_two_of_its_own_namespace_and_may_start_threads() {
    let mut process = spawn();
    assert_eq!(ask(&mut process, "getpid").expect("pid"), "pid 2");
    // Threads work (the worker needs them); processes do not (above).
    assert_eq!(ask(&mut process, "thread").expect("thread"), "thread ok");
    let jailed = jailed_pid(&process);
    for namespace in ["user", "mnt", "pid", "net", "ipc", "uts", "cgroup"] {
        let ours = std::fs::read_link(format!("/proc/self/ns/{namespace}")).expect("ns");
        let theirs = std::fs::read_link(format!("/proc/{jailed}/ns/{namespace}")).expect("ns");
        assert_ne!(ours, theirs, "{namespace} namespace shared");
    }
    let root = std::fs::read_dir(format!("/proc/{jailed}/root"))
        .expect("root")
        .count();
    assert_eq!(root, 0, "the root is empty");
}

#[test]
fn the_kernel_shows_seccomp_and_no_new_privs() {
    let process = spawn();
    let jailed = jailed_pid(&process);
    let status = std::fs::read_to_string(format!("/proc/{jailed}/status")).expect("status");
    assert!(status.lines().any(|l| l == "Seccomp:\t2"), "{status}");
    assert!(status.lines().any(|l| l == "NoNewPrivs:\t1"), "{status}");
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("CapEff:\t0000000000000000")),
        "{status}"
    );
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("CapBnd:\t0000000000000000")),
        "{status}"
    );
}

#[test]
fn a_crash_ends_the_process_and_the_socket() {
    let mut process = spawn();
    assert!(matches!(
        ask(&mut process, "abort"),
        Err(FrameError::Closed)
    ));
    assert_eq!(
        process.reap_within(Duration::from_secs(5)),
        "killed by signal 6"
    );
}

#[test]
fn killing_the_process_closes_its_socket() {
    let mut process = spawn();
    assert_eq!(ask(&mut process, "ping").expect("ping"), "pong");
    // SAFETY-free: kill(1) through the command line, as an operator would.
    let status = std::process::Command::new("kill")
        .args(["-9", &process.pid().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    process.reap_within(Duration::from_secs(5));
    // The jailed worker is the namespace's grandchild: it dies with the
    // killed process (its pid namespace's init goes, and the parent-death
    // signal), but not in the same instant, and may answer once more while
    // it is torn down. Within a bound, the socket is closed.
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        match ask(&mut process, "ping") {
            Err(FrameError::Closed) => break,
            Ok(answer) if answer == "pong" && Instant::now() < until => {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => panic!("the socket did not close: {other:?}"),
        }
    }
}

#[test]
fn a_program_that_cannot_be_run_is_a_clear_error() {
    let error = Jail::new("/nonexistent/isola")
        .spawn()
        .expect_err("no program");
    assert!(
        error
            .to_string()
            .contains("could not run /nonexistent/isola"),
        "{error}"
    );
    let mut unused = Vec::new();
    let _ = std::io::stdin().take(0).read_to_end(&mut unused);
    let _ = std::io::stdout().flush();
}
