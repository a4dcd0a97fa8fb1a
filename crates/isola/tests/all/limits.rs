//! Security catalogue items 1–3: CPU, memory, stack, plus wall, subrequest
//! and output limits. Every case also checks that the next sandbox works.

use std::time::Duration;

use isola::{Config, Limits, Loader, Outcome, OutcomeKind, Value, binding_fn};
use serde_json::json;

use crate::support::*;

fn limited(src: &str, limits: Limits) -> Outcome {
    let run = call(esm(src).limits(limits), "go", Value::Null);
    run.outcome
}

fn cpu(ms: u64) -> Limits {
    Limits {
        cpu_ms: ms,
        wall_ms: 10_000,
        ..Limits::default()
    }
}

#[test]
fn cpu_limit_stops_every_kind_of_spin() {
    let cases = [
        "export default { go() { while (true) {} } }",
        "export default { async go() { await null; for (;;) {} } }",
        "export default { go() { function* g() { for (;;) yield 1 } for (const _ of g()) {} } }",
        "export default { go() { try { for (;;) {} } finally { for (;;) {} } } }",
        "export default { go() { try { for (;;) {} } catch (e) { for (;;) {} } } }",
        "export default { go() { (function f() { Promise.resolve().then(f) })(); return new Promise(() => {}) } }",
        "export default { go() { (function f() { setTimeout(f, 0); for (let i = 0; i < 1e4; i++); })(); return new Promise(() => {}) } }",
        "export default { go() { return /(a+)+$/.test('a'.repeat(40) + '!') } }",
    ];
    for src in cases {
        assert_eq!(limited(src, cpu(50)), Outcome::CpuLimit, "{src}");
    }
    assert_next_sandbox_works();
}

#[test]
fn memory_limit_stops_every_kind_of_growth() {
    let cases = [
        "export default { go() { let a = [1]; for (;;) a = a.concat(a) } }",
        "export default { go() { let s = 'x'; for (;;) { s += s; s.indexOf('y') } } }",
        "export default { go() { return 'x'.repeat(2 ** 28).length } }",
        "export default { go() { return new ArrayBuffer(2 ** 30).byteLength } }",
        "export default { go() { const m = new Map(); for (let i = 0; ; i++) m.set(i, { i }) } }",
        "export default { go() { const a = []; for (let i = 0; i < 1e6; i++) a.push({ i, s: 'x' + i }); for (;;) structuredClone(a) } }",
        "export default { go() { try { let s = 'x'; for (;;) { s += s; s.indexOf('y') } } catch (e) { return 'caught ' + e } } }",
    ];
    // The shared loader's ceiling is the default 1 s of CPU, which filling
    // 128 MiB of small objects can take on a slow or busy machine; this
    // test is about memory, so its loader allows a minute.
    let generous = Limits {
        cpu_ms: 60_000,
        wall_ms: 120_000,
        ..Limits::default()
    };
    let loader = Loader::new(Config::default().threads(1).limits(generous)).expect("loader");
    let rt = runtime();
    for memory_mb in [4, 32, 128] {
        for src in cases {
            let code = esm(src).limits(Limits {
                memory_bytes: memory_mb << 20,
                ..generous
            });
            let worker = loader.load(code).expect("valid code");
            let run = rt.block_on(worker.entrypoint(None).call("go", Value::Null));
            assert_eq!(run.outcome, Outcome::MemoryLimit, "{memory_mb} MiB: {src}");
        }
    }
    assert_next_sandbox_works();
}

#[test]
fn deep_recursion_is_a_range_error_never_a_crash() {
    let cases = [
        "function f() { f() } f()",
        "const o = { get x() { return this.x } }; o.x",
        "const o = { valueOf() { return +this } }; +o",
        "let p = new Proxy({}, { get(t, k) { return p[k] } }); p.x",
        "JSON.parse('['.repeat(1e6))",
        "let a = []; for (let i = 0; i < 1e6; i++) a = [a]; JSON.stringify(a)",
    ];
    for body in cases {
        let src = format!(
            "export default {{ go() {{ try {{ {body} }} catch (e) {{ return e.name }} return 'no error' }} }}"
        );
        let run = call(esm(&src), "go", Value::Null);
        let out = returned(run);
        assert!(
            out == json!("RangeError") || out == json!("InternalError"),
            "{body}: {out}"
        );
    }
    // CVE-2023-31922: QuickJS-ng walks the chain without recursing; what
    // matters is that the host survives it.
    let proxies = "export default { go() { for (var r = new Proxy([], {}), y = 0; y < 131072; y++) r = new Proxy(r, {}); return Array.isArray(r) } }";
    assert_eq!(returned(call(esm(proxies), "go", Value::Null)), json!(true));
    assert_next_sandbox_works();
}

/// Blank isolates are made ahead of time on the loader's helper thread and
/// run on an executor thread: the engine's stack check must measure the
/// stack they run on (else recursion overflows the native stack, or every
/// call fails at once).
#[test]
fn isolates_made_on_the_helper_thread_measure_the_executor_stack() {
    let loader = Loader::new(Config::default().threads(1)).expect("loader starts");
    let rt = runtime();
    let src = "export default { go(n) { function f(i) { return i === 0 ? 0 : 1 + f(i - 1) } \
        const shallow = f(n); try { (function g() { g() })() } catch (e) { return [shallow, e.name] } } }";
    for _ in 0..12 {
        // Time for the helper to have blank isolates ready.
        std::thread::sleep(Duration::from_millis(20));
        let worker = loader.load(esm(src)).expect("valid code");
        let run = rt.block_on(worker.entrypoint(None).call("go", 300));
        assert_eq!(returned(run), json!([300, "RangeError"]));
    }
}

#[test]
fn wall_limit_includes_waiting_on_host_calls() {
    let code = esm("export default { async go(_, env) { await env.SLOW.wait() } }")
        .env_binding(
            "SLOW",
            binding_fn(|_, _| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok(Value::Null)
            }),
        )
        .limits(Limits {
            wall_ms: 100,
            ..Limits::default()
        });
    let run = call(code, "go", Value::Null);
    assert_eq!(run.outcome, Outcome::WallLimit);
    assert!(
        run.stats.wall < Duration::from_secs(2),
        "{:?}",
        run.stats.wall
    );
    assert_eq!(
        limited(
            "export default { go() { return new Promise(() => {}) } }",
            Limits {
                wall_ms: 50,
                ..Limits::default()
            }
        ),
        Outcome::WallLimit
    );
    assert_next_sandbox_works();
}

#[test]
fn subrequest_limit_counts_fetches_and_binding_calls() {
    let code = esm(r#"export default { async go(_, env) {
        for (let i = 0; i < 3; i++) await env.B.ping();
        for (let i = 0; i < 3; i++) await fetch("https://x.example/").catch(() => {});
        return "done" } }"#)
    .env_binding("B", binding_fn(|_, _| async { Ok(Value::Null) }));
    let worker = loader().load(code).expect("valid");
    let rt = runtime();
    let ok = rt.block_on(
        worker
            .entrypoint(None)
            .limits(Limits {
                subrequests: 6,
                ..Limits::default()
            })
            .call("go", Value::Null),
    );
    assert_eq!(ok.stats.subrequests, 6);
    assert_eq!(returned(ok), json!("done"));
    let over = rt.block_on(
        worker
            .entrypoint(None)
            .limits(Limits {
                subrequests: 5,
                ..Limits::default()
            })
            .call("go", Value::Null),
    );
    assert_eq!(over.outcome, Outcome::SubrequestLimit);
    assert_eq!(
        over.outcome.message().as_deref(),
        Some("Too many subrequests.")
    );
}

#[test]
fn output_limit_caps_results() {
    let out = limited(
        "export default { go() { return 'x'.repeat(5000) } }",
        Limits {
            output_bytes: 1000,
            ..Limits::default()
        },
    );
    assert_eq!(out, Outcome::OutputLimit);
    assert_next_sandbox_works();
}

#[test]
fn the_lower_limit_wins_between_load_and_call() {
    let worker = loader()
        .load(esm("export default { go() { const t = Date.now(); while (Date.now() - t < 300) {} return 'finished' } }").limits(cpu(5_000)))
        .expect("valid");
    let rt = runtime();
    let run = rt.block_on(
        worker
            .entrypoint(None)
            .limits(cpu(20))
            .call("go", Value::Null),
    );
    assert_eq!(run.outcome, Outcome::CpuLimit);
    assert!(
        run.stats.cpu < Duration::from_millis(250),
        "{:?}",
        run.stats.cpu
    );
    // The isolate was discarded; the next call starts a fresh one and can finish.
    let run = rt.block_on(worker.entrypoint(None).call("go", Value::Null));
    assert_eq!(returned(run), json!("finished"));
}

#[test]
fn a_calls_lower_memory_limit_applies_while_it_runs() {
    let worker = loader()
        .load(esm("export default { go(mb) { const a = new Uint8Array(mb << 20); a.fill(1); return a.length } }"))
        .expect("valid");
    let rt = runtime();
    let small = Limits {
        memory_bytes: 8 << 20,
        ..Limits::default()
    };
    let run = rt.block_on(worker.entrypoint(None).limits(small).call("go", 32));
    assert_eq!(run.outcome, Outcome::MemoryLimit);
    let run = rt.block_on(worker.entrypoint(None).call("go", 32));
    assert_eq!(returned(run), json!(32 << 20));
}

#[test]
fn limit_outcomes_have_stable_kinds_and_messages() {
    assert_eq!(Outcome::CpuLimit.kind().as_str(), "cpu-limit");
    assert!(Outcome::MemoryLimit.kind().is_limit());
    assert_eq!(
        Outcome::WallLimit.message().as_deref(),
        Some("Worker exceeded wall-clock time limit.")
    );
    assert_eq!(OutcomeKind::Returned.as_str(), "returned");
    assert!(!OutcomeKind::Threw.is_limit());
}
