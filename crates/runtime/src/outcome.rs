//! How a run ended.

use std::time::Duration;

use isola_engine::{ErrorValue, HttpResponse, LogEntry, Termination, Value};
use serde::Serialize;

/// How a call ended. Closed: every way a guest run can end is one variant,
/// with a stable message.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// An RPC method returned (after its promise settled).
    Returned(Value),
    /// A `fetch` handler returned this response.
    Responded(HttpResponse),
    /// A streamed `fetch` ([`crate::Entrypoint::fetch_streaming`]) handed
    /// its whole Response to the stream.
    Streamed,
    /// The guest threw, or its promise rejected.
    Threw(ErrorValue),
    /// The worker's code is invalid: it failed to start (syntax error, top-level
    /// throw, missing module). The message is workerd's `Failed to start Worker: ...`.
    InvalidCode(ErrorValue),
    /// The CPU limit fired.
    CpuLimit,
    /// The memory limit fired.
    MemoryLimit,
    /// The wall-clock limit fired.
    WallLimit,
    /// The call made more fetches and binding calls than allowed.
    SubrequestLimit,
    /// The result was larger than allowed.
    OutputLimit,
    /// isola failed; not the guest's fault. The message says what happened.
    Internal(String),
}

/// The variant of an [`Outcome`] without its data, with a stable name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutcomeKind {
    /// `returned`
    Returned,
    /// `threw`
    Threw,
    /// `invalid-code`
    InvalidCode,
    /// `cpu-limit`
    CpuLimit,
    /// `memory-limit`
    MemoryLimit,
    /// `wall-limit`
    WallLimit,
    /// `subrequest-limit`
    SubrequestLimit,
    /// `output-limit`
    OutputLimit,
    /// `internal`
    Internal,
}

impl OutcomeKind {
    /// The stable name, e.g. `cpu-limit`.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Returned => "returned",
            OutcomeKind::Threw => "threw",
            OutcomeKind::InvalidCode => "invalid-code",
            OutcomeKind::CpuLimit => "cpu-limit",
            OutcomeKind::MemoryLimit => "memory-limit",
            OutcomeKind::WallLimit => "wall-limit",
            OutcomeKind::SubrequestLimit => "subrequest-limit",
            OutcomeKind::OutputLimit => "output-limit",
            OutcomeKind::Internal => "internal",
        }
    }

    /// Whether a limit ended the run.
    pub fn is_limit(self) -> bool {
        matches!(
            self,
            OutcomeKind::CpuLimit
                | OutcomeKind::MemoryLimit
                | OutcomeKind::WallLimit
                | OutcomeKind::SubrequestLimit
                | OutcomeKind::OutputLimit
        )
    }
}

impl Outcome {
    /// Which variant this is.
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Outcome::Returned(_) | Outcome::Responded(_) | Outcome::Streamed => {
                OutcomeKind::Returned
            }
            Outcome::Threw(_) => OutcomeKind::Threw,
            Outcome::InvalidCode(_) => OutcomeKind::InvalidCode,
            Outcome::CpuLimit => OutcomeKind::CpuLimit,
            Outcome::MemoryLimit => OutcomeKind::MemoryLimit,
            Outcome::WallLimit => OutcomeKind::WallLimit,
            Outcome::SubrequestLimit => OutcomeKind::SubrequestLimit,
            Outcome::OutputLimit => OutcomeKind::OutputLimit,
            Outcome::Internal(_) => OutcomeKind::Internal,
        }
    }

    /// The stable message of a failed run (`None` for a return).
    pub fn message(&self) -> Option<String> {
        Some(match self {
            Outcome::Returned(_) | Outcome::Responded(_) | Outcome::Streamed => return None,
            Outcome::Threw(e) | Outcome::InvalidCode(e) => e.to_string(),
            Outcome::CpuLimit => "Worker exceeded CPU time limit.".into(),
            Outcome::MemoryLimit => "Worker exceeded memory limit.".into(),
            Outcome::WallLimit => "Worker exceeded wall-clock time limit.".into(),
            Outcome::SubrequestLimit => "Too many subrequests.".into(),
            Outcome::OutputLimit => "Worker result exceeded the output size limit.".into(),
            Outcome::Internal(m) => format!("isola internal error: {m}"),
        })
    }
}

/// What a run cost, whatever its outcome (a call stopped by a limit counts
/// the CPU it used until the stop). Serialized with units in the names:
/// `cpu_us`, `wall_us` (microseconds), `peak_memory_bytes`, `subrequests`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// CPU time the guest used for this call.
    #[serde(rename = "cpu_us", serialize_with = "as_micros")]
    pub cpu: Duration,
    /// Wall time from the call's start until it settled.
    #[serde(rename = "wall_us", serialize_with = "as_micros")]
    pub wall: Duration,
    /// Peak engine heap of the isolate, in bytes.
    pub peak_memory_bytes: usize,
    /// Fetches and binding calls made.
    pub subrequests: u32,
}

fn as_micros<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// The result of one call: how it ended, its console output, its cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// How it ended.
    pub outcome: Outcome,
    /// Console lines written while the call was in flight, in order.
    pub logs: Vec<LogEntry>,
    /// What it cost.
    pub stats: Stats,
}

impl Run {
    /// The returned value, or the outcome as an error.
    pub fn into_result(self) -> Result<Value, Outcome> {
        match self.outcome {
            Outcome::Returned(v) => Ok(v),
            other => Err(other),
        }
    }

    /// The value as JSON (see [`Value::to_json`]), or the outcome.
    pub fn json(self) -> Result<serde_json::Value, Outcome> {
        self.into_result().map(|v| v.to_json())
    }
}

/// Why an activation ended without a result.
#[derive(Debug)]
pub(crate) enum Stopped {
    /// A limit stopped the guest.
    Limit(Termination),
    /// The process holding the isolate crashed, was killed, or broke the
    /// protocol: the isolate is gone.
    Lost(String),
}
