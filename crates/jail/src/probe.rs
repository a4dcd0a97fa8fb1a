//! What a compromised engine would try from inside a worker process: each
//! action is one raw syscall (or a small burst) with its result as text,
//! `denied: …` or `ALLOWED …`. The jail's own probe binary and the
//! `attack-probe` feature of isola-engine (a guest-reachable stand-in for
//! an engine bug, in test builds only) both run these. Nothing in isola
//! calls it; `.ci/run` checks the installed binary holds none of it.

use std::ffi::CString;

fn errno() -> String {
    std::io::Error::last_os_error().to_string()
}

fn result(ret: i64) -> String {
    if ret < 0 {
        format!("denied: {}", errno())
    } else {
        format!("ALLOWED ({ret})")
    }
}

fn cstr(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}

// SAFETY (for every block below): raw syscalls with integer arguments or
// pointers to locals alive for the call; the worst a call can do is what
// the jail exists to stop.
/// Carries out `action` (`verb` or `verb argument`) and describes the
/// result.
#[allow(clippy::too_many_lines)]
pub fn act(action: &str) -> String {
    let (verb, arg) = action.split_once(' ').unwrap_or((action, ""));
    unsafe {
        match verb {
            "ping" => "pong".into(),
            "open" => {
                let path = cstr(arg);
                result(i64::from(libc::open(path.as_ptr(), libc::O_RDONLY)))
            }
            "create" => {
                let path = cstr(arg);
                result(i64::from(libc::open(
                    path.as_ptr(),
                    libc::O_WRONLY | libc::O_CREAT,
                    0o644,
                )))
            }
            "tcp" => {
                let port: u16 = arg.parse().unwrap_or(0);
                let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
                if fd < 0 {
                    return result(i64::from(fd));
                }
                let addr = libc::sockaddr_in {
                    sin_family: libc::AF_INET as u16,
                    sin_port: port.to_be(),
                    sin_addr: libc::in_addr {
                        s_addr: u32::from_ne_bytes([127, 0, 0, 1]),
                    },
                    sin_zero: [0; 8],
                };
                result(i64::from(libc::connect(
                    fd,
                    (&raw const addr).cast(),
                    std::mem::size_of::<libc::sockaddr_in>() as u32,
                )))
            }
            "udp" => result(i64::from(libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0))),
            "unix" => result(i64::from(libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0))),
            "socketpair" => {
                let mut fds = [0; 2];
                result(i64::from(libc::socketpair(
                    libc::AF_UNIX,
                    libc::SOCK_STREAM,
                    0,
                    fds.as_mut_ptr(),
                )))
            }
            "exec" => {
                let sh = cstr("/bin/sh");
                let argv = [sh.as_ptr(), std::ptr::null()];
                let envp = [std::ptr::null()];
                result(i64::from(libc::execve(
                    sh.as_ptr(),
                    argv.as_ptr(),
                    envp.as_ptr(),
                )))
            }
            "fork" => {
                let pid = libc::fork();
                if pid == 0 {
                    libc::_exit(0);
                }
                result(i64::from(pid))
            }
            "ptrace" => result(libc::ptrace(
                libc::PTRACE_ATTACH,
                arg.parse::<i32>().unwrap_or(1),
                0,
                0,
            )),
            "kill" => result(i64::from(libc::kill(
                arg.parse().unwrap_or(-1),
                libc::SIGKILL,
            ))),
            "mount" => {
                let t = cstr("tmpfs");
                let at = cstr("/");
                result(i64::from(libc::mount(
                    t.as_ptr(),
                    at.as_ptr(),
                    t.as_ptr(),
                    0,
                    std::ptr::null(),
                )))
            }
            "unshare" => result(i64::from(libc::unshare(libc::CLONE_NEWUSER))),
            "setns" => result(i64::from(libc::setns(0, 0))),
            "keyctl" => result(libc::syscall(libc::SYS_keyctl, 0, 0, 0, 0, 0)),
            "bpf" => result(libc::syscall(libc::SYS_bpf, 0, 0, 0)),
            "perf_event_open" => result(libc::syscall(libc::SYS_perf_event_open, 0, 0, -1, -1, 0)),
            "io_uring_setup" => result(libc::syscall(libc::SYS_io_uring_setup, 1, 0)),
            "process_vm_writev" => {
                result(libc::syscall(libc::SYS_process_vm_writev, 1, 0, 0, 0, 0, 0))
            }
            "chroot" => {
                let at = cstr("/");
                result(i64::from(libc::chroot(at.as_ptr())))
            }
            "socket_garbage" => {
                // Bytes the supervisor did not ask for, on its own socket:
                // a length prefix promising a frame bigger than any allowed,
                // then noise.
                let mut bytes = u32::MAX.to_le_bytes().to_vec();
                bytes.extend_from_slice(arg.as_bytes());
                result(libc::write(crate::SOCKET_FD, bytes.as_ptr().cast(), bytes.len()) as i64)
            }
            "threads" => thread_bomb(arg.parse().unwrap_or(1_000)),
            "process_vm_readv" => {
                result(libc::syscall(libc::SYS_process_vm_readv, 1, 0, 0, 0, 0, 0))
            }
            "mmap_exec" => {
                let p = libc::mmap(
                    std::ptr::null_mut(),
                    4096,
                    libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                );
                if p == libc::MAP_FAILED {
                    result(-1)
                } else {
                    "ALLOWED (mapped)".into()
                }
            }
            "raise_nofile" => {
                let limit = libc::rlimit {
                    rlim_cur: 1 << 20,
                    rlim_max: 1 << 20,
                };
                result(i64::from(libc::setrlimit(libc::RLIMIT_NOFILE, &limit)))
            }
            "allocate" => {
                // Touch `arg` MiB; past RLIMIT_AS the allocation fails.
                let mib: usize = arg.parse().unwrap_or(0);
                let p = libc::mmap(
                    std::ptr::null_mut(),
                    mib << 20,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                );
                if p == libc::MAP_FAILED {
                    format!("denied: {}", errno())
                } else {
                    "ALLOWED (mapped)".into()
                }
            }
            "thread" => match std::thread::spawn(|| 7).join() {
                Ok(7) => "thread ok".into(),
                _ => "thread failed".into(),
            },
            "getuid" => format!("uid {}", libc::getuid()),
            "getpid" => format!("pid {}", libc::getpid()),
            "fds" => {
                // Which of the first 64 fds are open.
                (0..64)
                    .filter(|&fd| libc::fcntl(fd, libc::F_GETFD) >= 0)
                    .map(|fd| fd.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            }
            "abort" => std::process::abort(),
            _ => format!("unknown action {verb}"),
        }
    }
}

/// Starts up to `wanted` threads that all wait until the burst is over,
/// and says how many the process was allowed.
fn thread_bomb(wanted: usize) -> String {
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let wait = std::sync::Arc::new(std::sync::Mutex::new(wait));
    let mut started = Vec::new();
    let mut refused = None;
    for _ in 0..wanted {
        let wait = wait.clone();
        let spawned = std::thread::Builder::new()
            .stack_size(64 << 10)
            .spawn(move || {
                // Blocks until the sender is dropped below.
                let _ = wait.lock().map(|w| w.recv());
            });
        match spawned {
            Ok(handle) => started.push(handle),
            Err(e) => {
                refused = Some(e.to_string());
                break;
            }
        }
    }
    drop(done);
    let count = started.len();
    for handle in started {
        let _ = handle.join();
    }
    match refused {
        Some(e) => format!("denied: {e} after {count} threads"),
        None => format!("ALLOWED ({count} threads)"),
    }
}

/// How many threads the `threads` action says were started before the
/// process was refused more, if it was refused.
pub fn threads_before_refusal(answer: &str) -> Option<u64> {
    answer
        .strip_prefix("denied: ")?
        .rsplit_once(" after ")?
        .1
        .strip_suffix(" threads")?
        .parse()
        .ok()
}
