//! Tail events: what a dynamic worker's `tails` hear after each run, in
//! the shape of workerd's trace items (`outcome`, `eventTimestamp`,
//! `event`, `logs`, `exceptions`).

use isola_engine::{HttpRequest, Value};

use crate::outcome::{Outcome, Run};

fn object(members: Vec<(&str, Value)>) -> Value {
    Value::Object(
        members
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

fn text(s: &str) -> Value {
    Value::String(s.to_owned())
}

#[allow(clippy::cast_precision_loss)]
fn number(n: u64) -> Value {
    Value::Number(n as f64)
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub(crate) fn rpc_event(method: &str) -> Value {
    object(vec![("rpcMethod", text(method))])
}

pub(crate) fn fetch_event(request: &HttpRequest) -> Value {
    object(vec![(
        "request",
        object(vec![
            ("method", text(&request.method)),
            ("url", text(&request.url)),
        ]),
    )])
}

/// workerd's outcome names.
fn outcome_name(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Returned(_) | Outcome::Responded(_) | Outcome::Streamed => "ok",
        Outcome::Threw(_) | Outcome::InvalidCode(_) | Outcome::OutputLimit => "exception",
        Outcome::CpuLimit => "exceededCpu",
        Outcome::MemoryLimit => "exceededMemory",
        Outcome::WallLimit => "exceededWallTime",
        Outcome::SubrequestLimit => "exceededSubrequests",
        Outcome::Internal(_) => "unknown",
    }
}

/// The events of one run: a list with one trace item.
pub(crate) fn events(entrypoint: Option<&str>, event: Value, started_ms: u64, run: &Run) -> Value {
    let logs = run
        .logs
        .iter()
        .map(|entry| {
            object(vec![
                ("level", text(entry.level.as_str())),
                ("message", Value::Array(vec![text(&entry.message)])),
                ("timestamp", number(entry.timestamp_ms)),
            ])
        })
        .collect();
    let exceptions = match &run.outcome {
        Outcome::Threw(e) | Outcome::InvalidCode(e) => vec![object(vec![
            ("name", text(&e.name)),
            ("message", text(&e.message)),
            ("timestamp", number(now_ms())),
        ])],
        other => other
            .message()
            .map(|m| {
                vec![object(vec![
                    ("name", text("Error")),
                    ("message", Value::String(m)),
                    ("timestamp", number(now_ms())),
                ])]
            })
            .unwrap_or_default(),
    };
    Value::Array(vec![object(vec![
        ("outcome", text(outcome_name(&run.outcome))),
        ("entrypoint", entrypoint.map_or(Value::Null, text)),
        ("eventTimestamp", number(started_ms)),
        ("event", event),
        ("logs", Value::Array(logs)),
        ("exceptions", Value::Array(exceptions)),
    ])])
}
