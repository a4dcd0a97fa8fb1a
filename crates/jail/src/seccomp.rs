//! The worker process's seccomp-bpf policy: an allowlist.
//!
//! Two filters are installed. The first allows the syscalls below (some only
//! with the arguments shown) and kills the whole process on any other. The
//! second turns the file-opening and file-inspecting calls, which libraries
//! probe on their own (the standard library's CPU count reads cgroup files),
//! into `EACCES`: the process has an empty root and landlock anyway, and
//! failing is what such probes handle. When filters disagree the kernel
//! takes the stricter action, so the second can only deny.
//!
//! Every entry says why the worker needs it. The list is what a worker
//! hosting QuickJS isolates does: read and write its socket, allocate,
//! run helper threads, read clocks and randomness, and die.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

/// Why a syscall is allowed, for ARCHITECTURE.md and the tests.
pub const ALLOWED: &[(&str, &str)] = &[
    ("read", "frames from the supervisor socket"),
    ("write", "frames to the supervisor socket"),
    (
        "recvfrom",
        "frames from the supervisor socket (the standard library's read): fd 3 only",
    ),
    (
        "sendto",
        "frames to the supervisor socket (the standard library's write): fd 3, no address",
    ),
    (
        "poll",
        "waiting for the supervisor socket to be readable (with a deadline)",
    ),
    ("ppoll", "as poll, where the C library uses ppoll"),
    ("close", "the standard library closes what it owns"),
    ("mmap", "the allocator and thread stacks; never PROT_EXEC"),
    ("munmap", "the allocator"),
    ("mremap", "the allocator growing large blocks"),
    ("mprotect", "thread stack guard pages; never PROT_EXEC"),
    ("madvise", "the allocator returning memory"),
    ("brk", "the allocator"),
    (
        "futex",
        "locks and condition variables between the worker's threads",
    ),
    (
        "clone",
        "threads only: CLONE_THREAD must be set, so no new process",
    ),
    ("set_robust_list", "thread start (glibc)"),
    ("rseq", "thread start (glibc)"),
    ("rt_sigprocmask", "thread start and abort (glibc)"),
    ("rt_sigaction", "abort() resets SIGABRT before raising it"),
    (
        "rt_sigreturn",
        "returning from the stack-overflow signal handler",
    ),
    (
        "sigaltstack",
        "the standard library's stack-overflow handler per thread",
    ),
    ("sched_yield", "spin loops in locks"),
    ("sched_getaffinity", "the standard library's CPU count"),
    (
        "getrandom",
        "Math.random seeds, crypto.getRandomValues, key generation",
    ),
    (
        "clock_gettime",
        "CPU-time limits (thread CPU clock) and wall clocks",
    ),
    ("clock_getres", "clock resolution queries"),
    ("gettimeofday", "wall clock"),
    ("clock_nanosleep", "timed waits"),
    ("nanosleep", "timed waits"),
    ("getpid", "abort() and tgkill to itself"),
    ("gettid", "abort() and thread ids"),
    ("tgkill", "abort() signals its own thread group only"),
    ("prctl", "PR_SET_NAME only: thread names"),
    ("exit", "a thread ends"),
    ("exit_group", "the process ends"),
];

/// Calls answered with `EACCES` instead of killing: probes by libraries.
pub const DENIED_QUIETLY: &[&str] = &[
    "openat",
    "open",
    "statx",
    "newfstatat",
    "fstat",
    "stat",
    "lstat",
    "readlink",
    "readlinkat",
    "access",
    "faccessat",
    "faccessat2",
];

fn number(name: &str) -> Option<i64> {
    let n = match name {
        "read" => libc::SYS_read,
        "write" => libc::SYS_write,
        "close" => libc::SYS_close,
        #[cfg(target_arch = "x86_64")]
        "poll" => libc::SYS_poll,
        "ppoll" => libc::SYS_ppoll,
        "recvfrom" => libc::SYS_recvfrom,
        "sendto" => libc::SYS_sendto,
        "mmap" => libc::SYS_mmap,
        "munmap" => libc::SYS_munmap,
        "mremap" => libc::SYS_mremap,
        "mprotect" => libc::SYS_mprotect,
        "madvise" => libc::SYS_madvise,
        "brk" => libc::SYS_brk,
        "futex" => libc::SYS_futex,
        "clone" => libc::SYS_clone,
        "set_robust_list" => libc::SYS_set_robust_list,
        "rseq" => libc::SYS_rseq,
        "rt_sigprocmask" => libc::SYS_rt_sigprocmask,
        "rt_sigaction" => libc::SYS_rt_sigaction,
        "rt_sigreturn" => libc::SYS_rt_sigreturn,
        "sigaltstack" => libc::SYS_sigaltstack,
        "sched_yield" => libc::SYS_sched_yield,
        "sched_getaffinity" => libc::SYS_sched_getaffinity,
        "getrandom" => libc::SYS_getrandom,
        "clock_gettime" => libc::SYS_clock_gettime,
        "clock_getres" => libc::SYS_clock_getres,
        "gettimeofday" => libc::SYS_gettimeofday,
        "clock_nanosleep" => libc::SYS_clock_nanosleep,
        "nanosleep" => libc::SYS_nanosleep,
        "getpid" => libc::SYS_getpid,
        "gettid" => libc::SYS_gettid,
        "tgkill" => libc::SYS_tgkill,
        "prctl" => libc::SYS_prctl,
        "exit" => libc::SYS_exit,
        "exit_group" => libc::SYS_exit_group,
        "openat" => libc::SYS_openat,
        "statx" => libc::SYS_statx,
        "newfstatat" => libc::SYS_newfstatat,
        "fstat" => libc::SYS_fstat,
        "readlinkat" => libc::SYS_readlinkat,
        "faccessat" => libc::SYS_faccessat,
        "faccessat2" => libc::SYS_faccessat2,
        #[cfg(target_arch = "x86_64")]
        "open" => libc::SYS_open,
        #[cfg(target_arch = "x86_64")]
        "stat" => libc::SYS_stat,
        #[cfg(target_arch = "x86_64")]
        "lstat" => libc::SYS_lstat,
        #[cfg(target_arch = "x86_64")]
        "readlink" => libc::SYS_readlink,
        #[cfg(target_arch = "x86_64")]
        "access" => libc::SYS_access,
        _ => return None,
    };
    Some(n)
}

fn arch() -> Result<TargetArch, String> {
    TargetArch::try_from(std::env::consts::ARCH)
        .map_err(|_| format!("seccomp: no policy for {}", std::env::consts::ARCH))
}

fn condition(arg: u8, op: SeccompCmpOp, value: u64) -> Result<SeccompCondition, String> {
    SeccompCondition::new(arg, SeccompCmpArgLen::Qword, op, value).map_err(|e| e.to_string())
}

fn rule(conditions: Vec<SeccompCondition>) -> Result<SeccompRule, String> {
    SeccompRule::new(conditions).map_err(|e| e.to_string())
}

/// The rules that restrict a syscall's arguments; `None` allows any.
fn restrictions(name: &str, pid: u32) -> Result<Vec<SeccompRule>, String> {
    const SOCKET: u64 = crate::SOCKET_FD as u64;
    let exec = libc::PROT_EXEC as u64;
    Ok(match name {
        // Memory may never become executable: no code injection through
        // the allocator, even with the engine owned.
        "mmap" | "mprotect" => vec![rule(vec![condition(2, SeccompCmpOp::MaskedEq(exec), 0)?])?],
        // A thread, never a process: fork and vfork are clone without it.
        "clone" => vec![rule(vec![condition(
            0,
            SeccompCmpOp::MaskedEq(libc::CLONE_THREAD as u64),
            libc::CLONE_THREAD as u64,
        )?])?],
        // Signals to its own thread group only.
        "tgkill" => vec![rule(vec![condition(0, SeccompCmpOp::Eq, u64::from(pid))?])?],
        // The supervisor socket only; no address, so no datagram elsewhere.
        "recvfrom" => vec![rule(vec![condition(0, SeccompCmpOp::Eq, SOCKET)?])?],
        "sendto" => vec![rule(vec![
            condition(0, SeccompCmpOp::Eq, SOCKET)?,
            condition(4, SeccompCmpOp::Eq, 0)?,
        ])?],
        "prctl" => vec![rule(vec![condition(
            0,
            SeccompCmpOp::Eq,
            libc::PR_SET_NAME as u64,
        )?])?],
        _ => Vec::new(),
    })
}

fn compile(
    rules: BTreeMap<i64, Vec<SeccompRule>>,
    mismatch: SeccompAction,
    matched: SeccompAction,
    arch: TargetArch,
) -> Result<BpfProgram, String> {
    SeccompFilter::new(rules, mismatch, matched, arch)
        .map_err(|e| e.to_string())?
        .try_into()
        .map_err(|e: seccompiler::BackendError| e.to_string())
}

/// The programs to install, in order; `pid` is the process's own pid as it
/// sees it. The kernel runs every installed program and takes the
/// strictest answer.
pub(crate) fn programs(pid: u32) -> Result<Vec<BpfProgram>, String> {
    let arch = arch()?;
    let mut allow = BTreeMap::new();
    for (name, _) in ALLOWED {
        let n = number(name).ok_or_else(|| format!("seccomp: no number for {name}"))?;
        allow.insert(n, restrictions(name, pid)?);
    }
    // Opening is allowed by the allowlist and denied by a second program,
    // so that probes fail softly.
    let mut quiet = BTreeMap::new();
    for name in DENIED_QUIETLY {
        if let Some(n) = number(name) {
            allow.insert(n, Vec::new());
            quiet.insert(n, Vec::new());
        }
    }
    // clone3 passes its flags in memory, where a filter cannot look:
    // ENOSYS makes glibc fall back to clone, whose flags are checked.
    allow.insert(libc::SYS_clone3, Vec::new());
    let nosys = BTreeMap::from([(libc::SYS_clone3, Vec::new())]);
    Ok(vec![
        compile(
            nosys,
            SeccompAction::Allow,
            SeccompAction::Errno(libc::ENOSYS as u32),
            arch,
        )?,
        compile(
            quiet,
            SeccompAction::Allow,
            SeccompAction::Errno(libc::EACCES as u32),
            arch,
        )?,
        compile(
            allow,
            SeccompAction::KillProcess,
            SeccompAction::Allow,
            arch,
        )?,
    ])
}

/// Installs one program on the calling thread (and threads it starts).
pub(crate) fn install(program: &BpfProgram) -> Result<(), String> {
    seccompiler::apply_filter(program).map_err(|e| format!("seccomp: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_syscall_has_a_number_on_this_architecture() {
        for (name, why) in ALLOWED {
            assert!(number(name).is_some(), "{name} ({why}) has no number");
            assert!(!why.is_empty());
        }
    }
}
