//! The process-wide memory budget, in a test binary of its own: the budget
//! is process-wide, and RSS is measured for this process alone.

use isola::{Config, Limits, Loader, Module, Outcome, Value, WorkerCode};

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .expect("the field")
}

/// Isolates within their own limits but over the process budget together:
/// the allocation that does not fit stops its guest with a memory-limit
/// outcome, the process's peak RSS stays near the budget, and the budget
/// comes back when the isolates are gone.
#[test]
fn isolates_together_stay_within_the_process_budget() {
    const MIB: usize = 1 << 20;
    let before_kib = status_kib("VmRSS:");
    let loader = Loader::new(
        Config::default()
            .threads(2)
            .process_memory_budget(100 * MIB)
            .limits(Limits {
                memory_bytes: 64 * MIB,
                ..Limits::default()
            }),
    )
    .expect("loader");
    // Each call holds 40 MiB across a timer, so calls overlap.
    let code = || {
        WorkerCode::new("2026-03-01", "hold.js").module(
            "hold.js",
            Module::Esm(
                "export default { async hold() { const a = new Uint8Array(40 << 20); a.fill(1); await new Promise((r) => setTimeout(r, 500)); return a[7] } }"
                    .into(),
            ),
        )
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let outcomes: Vec<Outcome> = runtime.block_on(async {
        let calls = (0..6).map(|_| {
            let worker = loader.load(code()).expect("valid code");
            async move {
                worker
                    .entrypoint(None)
                    .call("hold", Value::Null)
                    .await
                    .outcome
            }
        });
        futures_util::future::join_all(calls).await
    });
    let returned = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Returned(Value::Number(n)) if *n == 1.0))
        .count();
    let stopped = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::MemoryLimit))
        .count();
    assert!(returned >= 1, "{outcomes:?}");
    assert!(
        stopped >= 3,
        "six 40 MiB calls cannot fit in 100 MiB: {outcomes:?}"
    );
    assert_eq!(returned + stopped, 6, "{outcomes:?}");

    let peak_kib = status_kib("VmHWM:");
    let grown = (peak_kib.saturating_sub(before_kib)) as usize * 1024;
    assert!(
        grown < 100 * MIB + 48 * MIB,
        "the process grew by {} MiB under a 100 MiB budget",
        grown / MIB
    );

    // The budget is given back as the isolates go.
    assert!(isola::engine::process_memory_reserved() < 100 * MIB);
    let again = runtime.block_on(async {
        let worker = loader.load(code()).expect("valid code");
        worker
            .entrypoint(None)
            .call("hold", Value::Null)
            .await
            .outcome
    });
    assert!(matches!(again, Outcome::Returned(_)), "{again:?}");
}
