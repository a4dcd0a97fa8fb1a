//! The supervisor side: starting a worker process and holding it.

use std::ffi::OsString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::frame::{Channel, FrameError};
use crate::{Report, SOCKET_FD, WORKER_ARG};

/// How long a new worker may take to jail itself and report.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How worker processes are started and limited.
///
/// The program must call [`crate::worker_invocation`] at the top of its
/// `main` (the `isola` binary does).
#[derive(Debug, Clone)]
pub struct Jail {
    program: PathBuf,
    address_space_bytes: u64,
    max_threads: u64,
}

impl Jail {
    /// Workers are `program` started with the worker argument.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            address_space_bytes: 16 << 30,
            max_threads: 64,
        }
    }

    /// Workers are this very executable (its `main` must check
    /// [`crate::worker_invocation`]).
    pub fn current_exe() -> std::io::Result<Self> {
        Ok(Self::new(std::env::current_exe()?))
    }

    /// The program workers run.
    pub fn program(&self) -> &std::path::Path {
        &self.program
    }

    /// `RLIMIT_AS` of each worker process (default 16 GiB of address
    /// space: isolates' heaps are metered far below it; this is the
    /// backstop for an engine that no longer meters).
    #[must_use]
    pub fn address_space_bytes(mut self, bytes: u64) -> Self {
        self.address_space_bytes = bytes;
        self
    }

    /// `RLIMIT_NPROC` of each worker process: its threads, counted in its
    /// own user namespace (default 64).
    #[must_use]
    pub fn max_threads(mut self, threads: u64) -> Self {
        self.max_threads = threads.max(4);
        self
    }

    /// Starts one worker process and waits until it reports itself jailed.
    pub fn spawn(&self) -> Result<Process, JailError> {
        let (ours, theirs) = UnixStream::pair().map_err(|e| JailError::Spawn(e.to_string()))?;
        let mut command = Command::new(&self.program);
        let args: [OsString; 3] = [
            WORKER_ARG.into(),
            self.address_space_bytes.to_string().into(),
            self.max_threads.to_string().into(),
        ];
        command
            .args(args)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let fd = theirs.as_raw_fd();
        // SAFETY: the closure runs in the forked child before exec and
        // calls only async-signal-safe syscalls (dup2, fcntl, prctl) on
        // integers; it allocates nothing.
        unsafe {
            command.pre_exec(move || {
                if fd == SOCKET_FD {
                    let flags = libc::fcntl(fd, libc::F_GETFD);
                    if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                } else if libc::dup2(fd, SOCKET_FD) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The worker dies with the supervisor.
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().map_err(|e| {
            JailError::Spawn(format!("could not run {}: {e}", self.program.display()))
        })?;
        drop(theirs);
        let mut process = Process {
            pid: child.id(),
            channel: Channel::new(ours),
            reaped: false,
            exit: None,
            report: None,
        };
        // `Child` would only reap on wait; the pid is waited for in Drop.
        std::mem::forget(child);
        let first = process
            .channel
            .recv(Some(Instant::now() + START_TIMEOUT), 64 << 10);
        let text = match first {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(error) => {
                let status = process.kill_and_reap();
                return Err(JailError::Setup(format!(
                    "the worker process ended before reporting ({error}; {status})"
                )));
            }
        };
        let mut lines = text.lines();
        match lines.next() {
            Some("ok") => {
                let mut report = Report {
                    landlock: String::new(),
                    seccomp_programs: 0,
                };
                for line in lines {
                    match line.split_once('=') {
                        Some(("landlock", v)) => report.landlock = v.to_owned(),
                        Some(("seccomp", v)) => report.seccomp_programs = v.parse().unwrap_or(0),
                        _ => {}
                    }
                }
                process.report = Some(report);
                Ok(process)
            }
            _ => {
                process.kill_and_reap();
                let message = text.strip_prefix("error\n").unwrap_or(&text);
                Err(JailError::Setup(message.chars().take(2000).collect()))
            }
        }
    }
}

/// Why a worker process could not be started jailed.
#[derive(Debug, thiserror::Error)]
pub enum JailError {
    /// The program could not be run.
    #[error("could not start a worker process: {0}")]
    Spawn(String),
    /// The worker could not jail itself: the machine lacks something.
    #[error("{}", setup_message(.0))]
    Setup(String),
}

/// The failed step, and how an operator enables what it needs.
fn setup_message(step: &str) -> String {
    let hint = if step.contains("unshare") {
        "\n  user namespaces are needed: check `sysctl user.max_user_namespaces` (must be > 0), \
         `kernel.unprivileged_userns_clone = 1` on Debian/Ubuntu kernels, \
         `kernel.apparmor_restrict_unprivileged_userns = 0` on Ubuntu 24.04+, \
         and that a container runtime allows unshare (e.g. docker --security-opt seccomp=unconfined); \
         started as root, isola runs its workers as the unprivileged user 65534, so these \
         settings apply to root too"
    } else if step.contains("seccomp") {
        "\n  the kernel must have seccomp filters (CONFIG_SECCOMP_FILTER)"
    } else if step.contains("mount") || step.contains("pivot_root") {
        "\n  mounting a tmpfs inside a user namespace must be allowed"
    } else {
        ""
    };
    format!("the jail could not be set up: {step}{hint}")
}

/// A running, jailed worker process and its socket.
#[derive(Debug)]
pub struct Process {
    pid: u32,
    channel: Channel,
    reaped: bool,
    exit: Option<String>,
    report: Option<Report>,
}

impl Process {
    /// The worker's pid as the supervisor sees it.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// What the worker applied.
    pub fn report(&self) -> Option<&Report> {
        self.report.as_ref()
    }

    /// Sends one frame.
    pub fn send(&mut self, payload: &[u8]) -> Result<(), FrameError> {
        self.channel.send(payload)
    }

    /// Sends one frame before `deadline`: a process that stops reading is
    /// not waited for past it.
    pub fn send_by(&mut self, payload: &[u8], deadline: Instant) -> Result<(), FrameError> {
        self.channel.send_by(payload, Some(deadline))
    }

    /// One frame of at most `max` bytes if it has arrived whole, without
    /// waiting (see [`Channel::try_recv`]).
    pub fn try_recv(&mut self, max: usize) -> Result<Option<Vec<u8>>, FrameError> {
        self.channel.try_recv(max)
    }

    /// The process's socket (a duplicate of it) registered with the
    /// current tokio event loop, so an event loop can wait for the
    /// process's answers among its other events. Read the frames
    /// themselves with [`Process::try_recv`].
    ///
    /// It is registered for write space too, although only readability is
    /// awaited: the event loop then also wakes when the process takes a
    /// request off the socket. Measured in `isola serve` (fresh dynamic
    /// workers, 16 connections, this project's 2-vCPU VM), that early
    /// wake-up gives ~15% more requests/s than readability alone (3,210
    /// against 2,760), presumably because the executor's CPU is then not in
    /// deep idle when the answer comes.
    pub fn watch(&self) -> std::io::Result<AsyncFd<OwnedFd>> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(std::io::Error::other(
                "no event loop to watch a worker's socket in",
            ));
        }
        let fd = self.channel.as_fd().try_clone_to_owned()?;
        // SAFETY: the `AsyncFd` takes ownership of `fd`, an open duplicate
        // of the socket that stays open until the `AsyncFd` is dropped, and
        // `OwnedFd::as_raw_fd` always returns that same descriptor.
        unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE | Interest::WRITABLE) }
            .map_err(|error| error.into_parts().1)
    }

    /// Receives one frame of at most `max` bytes before `deadline`.
    pub fn recv(&mut self, deadline: Option<Instant>, max: usize) -> Result<Vec<u8>, FrameError> {
        self.channel.recv(deadline, max)
    }

    /// Whether the process has ended (reaping it if so), without waiting.
    pub fn exited(&mut self) -> bool {
        self.try_reap().unwrap_or(false)
    }

    /// Waits up to `grace` for the process to end by itself (after its
    /// socket closed, say), then kills it; returns how it ended.
    pub fn reap_within(&mut self, grace: Duration) -> String {
        let until = Instant::now() + grace;
        while self.try_reap() == Some(false) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
        self.kill_and_reap()
    }

    /// One `waitpid` that does not wait: whether the process has been
    /// reaped (now or before), or `None` if `waitpid` failed.
    fn try_reap(&mut self) -> Option<bool> {
        if self.reaped {
            return Some(true);
        }
        let mut status = 0;
        // SAFETY: waitpid on our own unreaped child, WNOHANG.
        let waited = unsafe { libc::waitpid(self.pid as libc::pid_t, &mut status, libc::WNOHANG) };
        if waited < 0 {
            return None;
        }
        if waited == self.pid as libc::pid_t {
            self.exit = Some(describe(status));
            self.reaped = true;
        }
        Some(self.reaped)
    }

    /// The jailed worker's pid outside its namespace: the supervisor's
    /// child waits for the namespace's pid 1, which waits for the worker.
    pub fn jailed_pid(&self) -> Option<u32> {
        let mut pid = self.pid;
        for _ in 0..2 {
            let children =
                std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
            pid = children.split_whitespace().next()?.parse().ok()?;
        }
        Some(pid)
    }

    /// The jailed worker's peak resident memory (`VmHWM`), in bytes.
    pub fn peak_rss_bytes(&self) -> Option<u64> {
        let pid = self.jailed_pid()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    /// Kills the process (SIGKILL) and reaps it; returns how it ended.
    pub fn kill_and_reap(&mut self) -> String {
        if !self.reaped {
            // SAFETY: kill and waitpid on our own child's pid, which stays
            // ours (unreaped) until the waitpid below.
            unsafe {
                libc::kill(self.pid as libc::pid_t, libc::SIGKILL);
                let mut status = 0;
                while libc::waitpid(self.pid as libc::pid_t, &mut status, 0) < 0 {
                    if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                        break;
                    }
                }
                self.exit = Some(describe(status));
            }
            self.reaped = true;
        }
        self.exit.clone().unwrap_or_default()
    }
}

fn describe(status: libc::c_int) -> String {
    if libc::WIFSIGNALED(status) {
        format!("killed by signal {}", libc::WTERMSIG(status))
    } else if libc::WIFEXITED(status) {
        format!("exited with status {}", libc::WEXITSTATUS(status))
    } else {
        "ended".into()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // Closing the socket ends an idle worker by itself (and its
        // waiting parents reap it); a busy one is killed.
        self.channel.shutdown();
        self.reap_within(Duration::from_millis(20));
    }
}
