//! The worker side: a freshly executed worker process jails itself, in a
//! fixed order, before it reads a byte from the supervisor.
//!
//! The order (each step needs the ones before it, and none after it may
//! undo one):
//!
//! 1. close every file descriptor but the supervisor socket (fd 3);
//!    `RLIMIT_CORE` = 0, so no crash ever writes memory to disk;
//! 2. a supervisor running as root hands its workers to the overflow user
//!    (`nobody`, 65534) first: the kernel exempts root's processes from
//!    `RLIMIT_NPROC`, so a worker mapped to root could start threads
//!    without bound (the compromised-engine tests found this);
//! 3. new user, mount, pid, network, IPC, UTS and cgroup namespaces, with
//!    the process mapped to its own uid and gid (`setgroups` denied);
//! 4. fork twice: the first child is pid 1 of the new pid namespace and
//!    the jailed worker is its child, pid 2 (pid 1 ignores default-action
//!    signals sent from inside its namespace, so a worker that is pid 1
//!    and aborts would spin instead of dying). Each parent only waits for
//!    its child and exits as it did; each child dies with its parent
//!    (`PR_SET_PDEATHSIG`), so killing the process the supervisor started
//!    kills all three;
//! 5. an empty root: a read-only, 16 KiB tmpfs, entered with `pivot_root`
//!    and the old root detached, so no host path exists at all;
//! 6. rlimits: address space, `NOFILE`, `NPROC`, `FSIZE` = 0, `MEMLOCK` = 0,
//!    `MSGQUEUE` = 0;
//! 7. `PR_SET_NO_NEW_PRIVS`;
//! 8. every capability dropped: bounding set, ambient, permitted,
//!    effective, inheritable; not dumpable (no ptrace by a same-uid peer);
//! 9. landlock: a ruleset handling every file-system and network right and
//!    granting none (where the kernel has landlock);
//! 10. last, the seccomp allowlist ([`crate::seccomp`]).

use std::ffi::CString;
use std::io;
use std::os::fd::FromRawFd;
use std::os::unix::net::UnixStream;

use crate::frame::Channel;
use crate::{Report, SOCKET_FD, Settings};

/// What failed while jailing, and the errno behind it.
fn os_error(step: &str) -> String {
    format!("{step}: {}", io::Error::last_os_error())
}

fn check(result: libc::c_int, step: &str) -> Result<(), String> {
    if result < 0 {
        Err(os_error(step))
    } else {
        Ok(())
    }
}

/// Applies the jail to this process; returns the socket to the supervisor
/// and what was applied. On failure the caller reports the message on the
/// socket and exits.
pub(crate) fn enter(settings: &Settings) -> Result<(Channel, Report), String> {
    close_other_fds()?;
    set_limit(libc::RLIMIT_CORE, 0)?;
    leave_root()?;
    let (uid, gid) = (
        // SAFETY: getuid/getgid cannot fail and touch no memory.
        unsafe { libc::getuid() },
        // SAFETY: as above.
        unsafe { libc::getgid() },
    );
    // SAFETY: unshare takes flags only; the process is single-threaded here
    // (a fresh exec that has started no thread), as CLONE_NEWUSER requires.
    check(
        unsafe {
            libc::unshare(
                libc::CLONE_NEWUSER
                    | libc::CLONE_NEWNS
                    | libc::CLONE_NEWPID
                    | libc::CLONE_NEWNET
                    | libc::CLONE_NEWIPC
                    | libc::CLONE_NEWUTS
                    | libc::CLONE_NEWCGROUP,
            )
        },
        "unshare (new user, mount, pid, network, IPC, UTS and cgroup namespaces)",
    )?;
    write_file("/proc/self/setgroups", "deny")?;
    write_file("/proc/self/uid_map", &format!("0 {uid} 1"))?;
    write_file("/proc/self/gid_map", &format!("0 {gid} 1"))?;
    // SAFETY: prctl with integer arguments only.
    check(
        unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) },
        "PR_SET_DUMPABLE",
    )?;
    fork_and_wait()?;
    fork_and_wait()?;
    empty_root()?;
    set_limit(libc::RLIMIT_AS, settings.address_space_bytes)?;
    set_limit(libc::RLIMIT_NOFILE, 8)?;
    set_limit(libc::RLIMIT_NPROC, settings.max_threads)?;
    set_limit(libc::RLIMIT_FSIZE, 0)?;
    set_limit(libc::RLIMIT_MEMLOCK, 0)?;
    set_limit(libc::RLIMIT_MSGQUEUE, 0)?;
    // SAFETY: prctl with integer arguments only.
    check(
        unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) },
        "PR_SET_NO_NEW_PRIVS",
    )?;
    drop_capabilities()?;
    // SAFETY: prctl with integer arguments only.
    check(
        unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) },
        "PR_SET_DUMPABLE",
    )?;
    let landlock = restrict_with_landlock()?;
    // SAFETY: getpid cannot fail.
    let pid = unsafe { libc::getpid() };
    let programs = crate::seccomp::programs(pid as u32)?;
    for program in &programs {
        crate::seccomp::install(program)?;
    }
    // SAFETY: SOCKET_FD was placed by the supervisor and is owned by no one
    // else in this process (every other fd was closed in step 1).
    let stream = unsafe { UnixStream::from_raw_fd(SOCKET_FD) };
    Ok((
        Channel::new(stream),
        Report {
            landlock,
            seccomp_programs: programs.len(),
        },
    ))
}

fn close_other_fds() -> Result<(), String> {
    // SAFETY: close_range takes integers; the fds closed are owned by no
    // Rust object this early in a worker process (stdio is never used).
    let low = unsafe { libc::syscall(libc::SYS_close_range, 0u32, SOCKET_FD as u32 - 1, 0u32) };
    // SAFETY: as above.
    let high =
        unsafe { libc::syscall(libc::SYS_close_range, SOCKET_FD as u32 + 1, u32::MAX, 0u32) };
    if low < 0 || high < 0 {
        return Err(os_error("close_range"));
    }
    // The socket must still be there.
    // SAFETY: fcntl F_GETFD reads flags only.
    if unsafe { libc::fcntl(SOCKET_FD, libc::F_GETFD) } < 0 {
        return Err("the supervisor socket (fd 3) is missing".into());
    }
    Ok(())
}

/// The user and group a worker started by root runs as: the kernel's
/// overflow ids, owned by no file and no service.
pub(crate) const UNPRIVILEGED_ID: libc::uid_t = 65534;

/// Root's processes are exempt from `RLIMIT_NPROC` (the kernel checks the
/// real user, and a user namespace mapping root keeps it root outside), so
/// a worker started by root becomes the overflow user before anything
/// else. Other users stay themselves: the limit holds for them.
fn leave_root() -> Result<(), String> {
    // SAFETY: getuid/geteuid cannot fail and touch no memory.
    let root = unsafe { libc::getuid() == 0 || libc::geteuid() == 0 };
    if !root {
        return Ok(());
    }
    let id = UNPRIVILEGED_ID;
    // SAFETY: setgroups with an empty list, then setres[gu]id with
    // integers; the process is single-threaded, so every thread changes.
    unsafe {
        check(
            libc::setgroups(0, std::ptr::null()),
            "setgroups (leaving root)",
        )?;
        check(libc::setresgid(id, id, id), "setresgid (leaving root)")?;
        check(libc::setresuid(id, id, id), "setresuid (leaving root)")?;
        // A change of credentials clears the parent-death signal set
        // before exec: set it again so the worker dies with its
        // supervisor.
        check(
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0),
            "PR_SET_PDEATHSIG",
        )?;
        // It also made the process undumpable, which gives its /proc
        // files to root: the uid and gid maps could not be written. Made
        // undumpable again as soon as they are.
        check(
            libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0),
            "PR_SET_DUMPABLE (leaving root)",
        )?;
    }
    Ok(())
}

fn set_limit(resource: libc::__rlimit_resource_t, value: u64) -> Result<(), String> {
    let limit = libc::rlimit {
        rlim_cur: value,
        rlim_max: value,
    };
    // SAFETY: `limit` is a valid rlimit for the duration of the call.
    check(unsafe { libc::setrlimit(resource, &limit) }, "setrlimit")
}

fn write_file(path: &str, contents: &str) -> Result<(), String> {
    std::fs::write(path, contents).map_err(|e| format!("writing {path}: {e}"))
}

/// Forks; returns in the child only. The parent closes its copy of the
/// socket, waits for the child and exits as it did.
fn fork_and_wait() -> Result<(), String> {
    // SAFETY: the process is single-threaded, so the child is a complete
    // copy; it goes on running ordinary Rust code.
    let child = unsafe { libc::fork() };
    if child < 0 {
        return Err(os_error("fork into the new pid namespace"));
    }
    if child == 0 {
        // SAFETY: prctl with integer arguments only.
        check(
            unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) },
            "PR_SET_PDEATHSIG",
        )?;
        // Had the parent died before PDEATHSIG was set, the supervisor's
        // end of the socket closes when it reaps it, and the child's first
        // read ends it.
        return Ok(());
    }
    // The parent: the socket is the child's alone.
    // SAFETY: closing our copy of fd 3; nothing else uses it here.
    unsafe { libc::close(SOCKET_FD) };
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid out-pointer.
        let waited = unsafe { libc::waitpid(child, &mut status, 0) };
        if waited == child {
            break;
        }
        if waited < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            std::process::exit(101);
        }
    }
    // Die the way the child did, so the supervisor sees the signal. The
    // namespace's pid 1 cannot raise a signal on itself (it would be
    // ignored), so it exits with 128 + the signal, which its parent turns
    // back into the signal.
    let signal = if libc::WIFSIGNALED(status) {
        Some(libc::WTERMSIG(status))
    } else if libc::WIFEXITED(status) && (129..=192).contains(&libc::WEXITSTATUS(status)) {
        Some(libc::WEXITSTATUS(status) - 128)
    } else {
        None
    };
    if let Some(signal) = signal {
        // SAFETY: resetting a signal to its default and raising it.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
        std::process::exit(128 + signal);
    }
    std::process::exit(if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        101
    });
}

fn c_path(path: &str) -> CString {
    CString::new(path).unwrap_or_default()
}

/// Mounts an empty read-only tmpfs and makes it the root.
fn empty_root() -> Result<(), String> {
    let none = std::ptr::null::<libc::c_char>();
    let root = c_path("/");
    let dot = c_path(".");
    let tmpfs = c_path("tmpfs");
    // Any directory every Linux has will do as the mount point: after
    // pivot_root nothing of the old tree is reachable.
    let base = c_path("/proc");
    let options = c_path("size=16k,nr_inodes=4,mode=0555");
    // SAFETY: every pointer is a NUL-terminated string alive for the call,
    // or null where mount(2) allows it.
    unsafe {
        check(
            libc::mount(
                none,
                root.as_ptr(),
                none,
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ),
            "making mounts private",
        )?;
        check(
            libc::mount(
                tmpfs.as_ptr(),
                base.as_ptr(),
                tmpfs.as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                options.as_ptr().cast(),
            ),
            "mounting the empty root (tmpfs)",
        )?;
        check(libc::chdir(base.as_ptr()), "chdir into the empty root")?;
        if libc::syscall(libc::SYS_pivot_root, dot.as_ptr(), dot.as_ptr()) < 0 {
            return Err(os_error("pivot_root into the empty root"));
        }
        check(
            libc::umount2(dot.as_ptr(), libc::MNT_DETACH),
            "detaching the old root",
        )?;
        check(libc::chdir(root.as_ptr()), "chdir /")?;
        check(
            libc::mount(
                none,
                root.as_ptr(),
                none,
                libc::MS_REMOUNT
                    | libc::MS_BIND
                    | libc::MS_RDONLY
                    | libc::MS_NOSUID
                    | libc::MS_NODEV
                    | libc::MS_NOEXEC,
                std::ptr::null(),
            ),
            "making the empty root read-only",
        )?;
    }
    Ok(())
}

fn drop_capabilities() -> Result<(), String> {
    for cap in 0..64 {
        // SAFETY: prctl with integer arguments only; EINVAL past the last
        // capability the kernel knows ends the loop.
        if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) } < 0 {
            if io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) {
                break;
            }
            return Err(os_error("dropping the capability bounding set"));
        }
    }
    // SAFETY: prctl with integer arguments only.
    check(
        unsafe {
            libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_CLEAR_ALL,
                0,
                0,
                0,
            )
        },
        "clearing ambient capabilities",
    )?;
    #[repr(C)]
    struct Header {
        version: u32,
        pid: libc::c_int,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    let mut header = Header {
        version: VERSION_3,
        pid: 0,
    };
    let data = [Data {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: header and data are the layouts capset(2) expects for
    // version 3 (two data structs), alive for the call.
    if unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) } < 0 {
        return Err(os_error("capset (dropping every capability)"));
    }
    Ok(())
}

/// Denies every file-system and network right landlock knows, granting
/// none. Returns how much of it the kernel enforces.
fn restrict_with_landlock() -> Result<String, String> {
    use landlock::{ABI, Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetStatus, Scope};
    let abi = ABI::V6;
    let status = Ruleset::default()
        .handle_access(AccessFs::from_all(abi))
        .and_then(|r| r.handle_access(AccessNet::from_all(abi)))
        .and_then(|r| r.scope(Scope::from_all(abi)))
        .and_then(|r| r.create())
        .and_then(|r| r.restrict_self())
        .map_err(|e| format!("landlock: {e}"))?;
    Ok(match status.ruleset {
        RulesetStatus::FullyEnforced => "fully enforced".into(),
        RulesetStatus::PartiallyEnforced => "partially enforced (an older landlock ABI)".into(),
        RulesetStatus::NotEnforced => "not enforced (the kernel has no landlock)".into(),
    })
}
