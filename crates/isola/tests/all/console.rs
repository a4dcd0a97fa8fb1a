use std::sync::{Arc, Mutex};

use isola::{LogLevel, Value};

use crate::support::*;

#[test]
fn console_levels_and_formatting_are_captured() {
    let run = call(
        esm(
            r#"export default { go() { console.log("a", 1, {b: [1, "x"]}); console.info("%s=%d", "n", 5); console.warn("w"); console.error(new TypeError("bad")); console.debug(-0, 10n, null, undefined) } }"#,
        ),
        "go",
        Value::Null,
    );
    let lines: Vec<(LogLevel, String)> = run
        .logs
        .iter()
        .map(|l| (l.level, l.message.clone()))
        .collect();
    assert_eq!(lines[0], (LogLevel::Log, "a 1 { b: [ 1, \"x\" ] }".into()));
    assert_eq!(lines[1], (LogLevel::Info, "n=5".into()));
    assert_eq!(lines[2], (LogLevel::Warn, "w".into()));
    assert_eq!(lines[3].0, LogLevel::Error);
    assert!(lines[3].1.starts_with("TypeError: bad"), "{}", lines[3].1);
    assert_eq!(lines[4], (LogLevel::Debug, "-0 10n null undefined".into()));
    assert!(run.logs.iter().all(|l| l.timestamp_ms > 1_700_000_000_000));
}

#[test]
fn console_output_is_capped() {
    let run = call(
        esm(
            r#"export default { go() { for (let i = 0; i < 100000; i++) console.log("x".repeat(100)); return 1 } }"#,
        ),
        "go",
        Value::Null,
    );
    let total: usize = run.logs.iter().map(|l| l.message.len()).sum();
    assert!(total <= (1 << 20) + 200, "{total} bytes of logs kept");
    assert!(
        run.logs
            .last()
            .expect("logs")
            .message
            .contains("console output exceeded"),
        "no marker"
    );
    assert_eq!(returned(run), serde_json::json!(1));
}

#[test]
fn console_lines_stream_to_the_host_as_written() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let worker = loader()
        .load(esm(r#"export default { async go(_, env) { console.log("first"); await env.B.wait(); console.log("second") } }"#).env_binding(
            "B",
            isola::binding_fn({
                let seen = seen.clone();
                move |_, _| {
                    let seen = seen.clone();
                    async move {
                        // The first line reached the host before this call.
                        assert_eq!(seen.lock().expect("lock").as_slice(), ["first".to_string()]);
                        Ok(Value::Null)
                    }
                }
            }),
        ))
        .expect("valid");
    let run = runtime().block_on(
        worker
            .entrypoint(None)
            .on_log(move |entry| sink.lock().expect("lock").push(entry.message.clone()))
            .call("go", Value::Null),
    );
    assert!(
        matches!(run.outcome, isola::Outcome::Returned(_)),
        "{:?}",
        run.outcome
    );
    assert_eq!(
        seen.lock().expect("lock").as_slice(),
        ["first".to_string(), "second".to_string()]
    );
}

#[test]
fn unhandled_rejections_are_logged_once_the_queue_drains() {
    let run = call(
        esm(r#"export default { async go() {
            Promise.reject(new TypeError("nobody listens"));
            const later = Promise.reject(new Error("handled a tick later"));
            await null;
            later.catch(() => {});
            return "done" } }"#),
        "go",
        Value::Null,
    );
    let errors: Vec<&str> = run
        .logs
        .iter()
        .filter(|l| l.level == LogLevel::Error)
        .map(|l| l.message.as_str())
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("Uncaught (in promise) TypeError: nobody listens"),
        "{errors:?}"
    );
    assert_eq!(returned(run), serde_json::json!("done"));
}

/// Calls in flight in one isolate each get their own console lines: one
/// caller never reads what another call's code wrote (lines from module
/// scope, which acts for no call, go to every call in flight).
#[test]
fn each_call_gets_only_its_own_console_lines() {
    let worker = loader()
        .load(esm(r#"
            let release;
            const gate = new Promise((r) => { release = r; });
            export default {
              async first() {
                console.log("first: before");
                await gate;
                await new Promise((r) => setTimeout(r, 1));
                console.log("first: after");
                return 1;
              },
              second() { console.log("second"); release(); return 2; },
            };"#))
        .expect("valid code");
    let (first, second) = overlapping_calls(&worker);
    assert_eq!(returned(first.clone()), serde_json::json!(1));
    assert_eq!(returned(second.clone()), serde_json::json!(2));
    assert_eq!(lines(&first), ["first: before", "first: after"]);
    assert_eq!(lines(&second), ["second"]);
}

/// An unhandled rejection is a console line of the call whose code
/// rejected the promise, even when another call's activation resumed it.
#[test]
fn an_unhandled_rejection_is_reported_to_its_own_call_only() {
    let worker = loader()
        .load(esm(r#"
            let release;
            const gate = new Promise((r) => { release = r; });
            export default {
              async first() {
                await gate;
                Promise.reject(new Error("the first call's secret"));
                await new Promise((r) => setTimeout(r, 20));
                return 1;
              },
              async second() {
                release();
                await new Promise((r) => setTimeout(r, 40));
                return 2;
              },
            };"#))
        .expect("valid code");
    let (first, second) = overlapping_calls(&worker);
    assert_eq!(returned(first.clone()), serde_json::json!(1));
    assert_eq!(returned(second.clone()), serde_json::json!(2));
    let first_lines = lines(&first);
    assert_eq!(first_lines.len(), 1, "{first_lines:?}");
    assert!(
        first_lines[0].starts_with("Uncaught (in promise) Error: the first call's secret"),
        "{first_lines:?}"
    );
    assert!(lines(&second).is_empty(), "{:?}", lines(&second));
}

/// Calls `first` of `worker`, and `second` 50 ms later while `first` is
/// still in flight in the same isolate.
fn overlapping_calls(worker: &isola::Worker) -> (isola::Run, isola::Run) {
    runtime().block_on(async {
        let entrypoint = worker.entrypoint(None);
        let first = entrypoint.call("first", Value::Null);
        let second = async {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            worker.entrypoint(None).call("second", Value::Null).await
        };
        tokio::join!(first, second)
    })
}

/// A run's console lines.
fn lines(run: &isola::Run) -> Vec<String> {
    run.logs.iter().map(|l| l.message.clone()).collect()
}
