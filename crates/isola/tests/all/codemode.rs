//! The Code Mode executor (`isola-codemode`): programs against tool
//! namespaces, each run in a fresh isolate under limits.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use isola_codemode::{
    ErrorKind, ExecuteOptions, ExecuteResult, Executor, Provider, ProviderError, Providers,
};
use serde_json::json;

use crate::support::{loader, runtime};

fn executor() -> Executor {
    Executor::with_loader(loader().clone())
}

fn math() -> Provider {
    Provider::new("math")
        .tool("add", |input| async move {
            let a = input["a"].as_f64().ok_or("a must be a number")?;
            let b = input["b"].as_f64().ok_or("b must be a number")?;
            Ok(json!(a + b))
        })
        .tool("echo", |input| async move { Ok(input) })
        .tool(
            "fail",
            |_| async move { Err("upstream is down".to_owned()) },
        )
}

fn run(code: &str, providers: &Providers, options: &ExecuteOptions) -> ExecuteResult {
    runtime().block_on(executor().execute(code, providers, options))
}

fn run_math(code: &str) -> ExecuteResult {
    let providers = Providers::new([math()]).expect("valid providers");
    run(code, &providers, &ExecuteOptions::default())
}

fn ok(result: ExecuteResult) -> serde_json::Value {
    assert!(
        result.error.is_none(),
        "expected a result, got {:?} (logs {:?})",
        result.error,
        result.logs
    );
    result.result.expect("a result")
}

fn failed(result: ExecuteResult, kind: ErrorKind) -> String {
    let error = result
        .error
        .unwrap_or_else(|| panic!("expected {kind:?}, got result {:?}", result.result));
    assert_eq!(error.kind, kind, "{}", error.message);
    assert!(result.result.is_none());
    error.message
}

#[test]
fn tools_are_namespaces_and_calls_run_concurrently() {
    let result = run_math(
        "async () => {
            const [a, b] = await Promise.all([math.add({ a: 1, b: 2 }), math.echo({ message: 'hi' })]);
            return { sum: a, echo: b };
        }",
    );
    assert_eq!(ok(result), json!({ "sum": 3, "echo": { "message": "hi" } }));
}

#[test]
fn typescript_fenced_code_runs() {
    let result = run_math("```ts\nconst n: number = await math.add({ a: 20, b: 22 });\nn\n```");
    assert_eq!(ok(result), json!(42));
}

#[test]
fn every_console_level_is_captured_as_codemode_formats_it() {
    let result = run_math(
        "async () => { console.log('a', 1); console.info('b'); console.debug('c'); console.warn('d'); console.error('e'); return null }",
    );
    assert_eq!(result.logs, ["a 1", "b", "c", "[warn] d", "[error] e"]);
    assert_eq!(ok(result), json!(null));
}

#[test]
fn a_throw_is_an_error_with_its_message_and_logs_kept() {
    let result = run_math("async () => { console.log('before'); throw new TypeError('boom') }");
    assert_eq!(result.logs, ["before"]);
    assert_eq!(failed(result, ErrorKind::Threw), "TypeError: boom");
}

#[test]
fn a_tool_error_rejects_inside_the_program_where_it_can_be_caught() {
    let result = run_math(
        "async () => { try { await math.fail({}) } catch (e) { return 'caught: ' + e.message } }",
    );
    assert_eq!(ok(result), json!("caught: upstream is down"));
    let result = run_math("async () => math.fail({})");
    assert_eq!(failed(result, ErrorKind::Threw), "Error: upstream is down");
}

#[test]
fn unknown_tools_reject_with_codemodes_message() {
    let result = run_math("async () => math.nope({})");
    assert_eq!(
        failed(result, ErrorKind::Threw),
        "Error: Tool \"nope\" not found"
    );
}

#[test]
fn syntax_errors_are_reported_without_running() {
    let message = failed(run_math("const x = {;\n"), ErrorKind::Syntax);
    assert!(message.contains("line 1"), "{message}");
}

#[test]
fn cpu_limit_stops_an_endless_loop() {
    let providers = Providers::new([math()]).expect("valid");
    let options = ExecuteOptions {
        cpu_ms: 50,
        ..Default::default()
    };
    let result = run("async () => { while (true) {} }", &providers, &options);
    assert_eq!(
        failed(result, ErrorKind::CpuLimit),
        "Worker exceeded CPU time limit."
    );
    let result = run(
        "async () => { for (;;) { try { while (true) {} } finally { continue } } }",
        &providers,
        &options,
    );
    failed(result, ErrorKind::CpuLimit);
}

#[test]
fn memory_limit_stops_an_allocation_bomb() {
    let providers = Providers::new([math()]).expect("valid");
    let options = ExecuteOptions {
        memory_bytes: 8 << 20,
        ..Default::default()
    };
    let result = run(
        "async () => { const a = []; while (true) a.push('x'.repeat(1000) + a.length) }",
        &providers,
        &options,
    );
    assert_eq!(
        failed(result, ErrorKind::MemoryLimit),
        "Worker exceeded memory limit."
    );
}

#[test]
fn options_above_the_runtime_defaults_are_what_a_run_gets() {
    // The runtime's default memory ceiling is 128 MiB; an executor of its
    // own must let a run have the 256 MiB its options give, and no more.
    let executor = Executor::new().expect("executor starts");
    let providers = Providers::new([math()]).expect("valid");
    let options = ExecuteOptions {
        memory_bytes: 256 << 20,
        ..Default::default()
    };
    let grow = "async () => { const chunks = []; for (let i = 0; i < N; i++) chunks.push(new Uint8Array(1 << 20)); return chunks.length }";
    let result =
        runtime().block_on(executor.execute(&grow.replace('N', "160"), &providers, &options));
    assert_eq!(ok(result), json!(160));
    let result =
        runtime().block_on(executor.execute(&grow.replace('N', "300"), &providers, &options));
    failed(result, ErrorKind::MemoryLimit);
}

#[test]
fn wall_limit_stops_a_program_waiting_forever() {
    let providers = Providers::new([Provider::new("slow").tool("sleep", |_| async move {
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        Ok(json!(null))
    })])
    .expect("valid");
    let options = ExecuteOptions {
        wall_ms: 200,
        ..Default::default()
    };
    let started = std::time::Instant::now();
    let result = run("async () => { await slow.sleep({}) }", &providers, &options);
    assert_eq!(
        failed(result, ErrorKind::WallLimit),
        "Worker exceeded wall-clock time limit."
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let result = run(
        "async () => { await new Promise(() => {}) }",
        &providers,
        &options,
    );
    failed(result, ErrorKind::WallLimit);
}

#[test]
fn tool_call_limit_holds_even_when_the_program_catches_it() {
    let calls = Arc::new(AtomicU32::new(0));
    let counted = calls.clone();
    let providers = Providers::new([Provider::new("t").tool("ping", move |_| {
        counted.fetch_add(1, Ordering::Relaxed);
        async move { Ok(json!("pong")) }
    })])
    .expect("valid");
    let options = ExecuteOptions {
        max_tool_calls: 3,
        ..Default::default()
    };
    let result = run(
        "async () => { let n = 0; for (let i = 0; i < 10; i++) { try { await t.ping(); n++ } catch {} } return n }",
        &providers,
        &options,
    );
    assert_eq!(
        calls.load(Ordering::Relaxed),
        3,
        "the host ran only the allowed calls"
    );
    assert_eq!(result.tool_calls, 3);
    assert_eq!(
        failed(result, ErrorKind::ToolCallLimit),
        "Too many tool calls: at most 3 per run."
    );
}

#[test]
fn fetch_is_blocked_unless_an_outbound_handler_is_given() {
    let providers = Providers::new([math()]).expect("valid");
    let result = run(
        "async () => (await fetch('https://example.com/')).status",
        &providers,
        &ExecuteOptions::default(),
    );
    let message = failed(result, ErrorKind::Threw);
    assert!(
        message.contains("not permitted to access the internet"),
        "{message}"
    );

    let handler = isola::outbound_fn(|request: isola::engine::HttpRequest| async move {
        Ok(isola::engine::HttpResponse::new(
            200,
            format!("seen {}", request.url).into_bytes(),
        ))
    });
    let options = ExecuteOptions {
        outbound: Some(handler),
        ..Default::default()
    };
    let result = run(
        "async () => (await fetch('https://example.com/x')).text()",
        &providers,
        &options,
    );
    assert_eq!(ok(result), json!("seen https://example.com/x"));
}

#[test]
fn binary_data_crosses_both_ways() {
    let providers = Providers::new([Provider::new("bin").tool("reverse", |input| async move {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut bytes = b64
            .decode(input["$bytes"].as_str().ok_or("bytes expected")?)
            .map_err(|e| e.to_string())?;
        bytes.reverse();
        Ok(json!({ "$bytes": b64.encode(bytes) }))
    })])
    .expect("valid");
    let result = run(
        "async () => { const out = await bin.reverse(new Uint8Array([0, 1, 255])); return [out instanceof Uint8Array, Array.from(out)] }",
        &providers,
        &ExecuteOptions::default(),
    );
    assert_eq!(ok(result), json!([true, [255, 1, 0]]));
}

#[test]
fn every_run_is_a_fresh_isolate() {
    let providers = Providers::new([math()]).expect("valid");
    let first = run(
        "async () => { globalThis.leak = 'secret'; return 1 }",
        &providers,
        &ExecuteOptions::default(),
    );
    assert_eq!(ok(first), json!(1));
    let second = run(
        "async () => typeof globalThis.leak",
        &providers,
        &ExecuteOptions::default(),
    );
    assert_eq!(ok(second), json!("undefined"));
}

#[test]
fn names_are_checked() {
    let bad =
        |providers: Vec<Provider>| Providers::new(providers).expect_err("refused").to_string();
    assert_eq!(
        bad(vec![Provider::new("my-tools")]),
        "namespace name \"my-tools\" is not a JavaScript identifier (letters, digits, _ and $, not starting with a digit)"
    );
    assert_eq!(
        bad(vec![Provider::new("console")]),
        "namespace name \"console\" is reserved"
    );
    assert_eq!(
        bad(vec![Provider::new("program")]),
        "namespace name \"program\" is reserved by the executor"
    );
    assert_eq!(
        bad(vec![math(), math()]),
        "namespace name \"math\" is used more than once"
    );
    assert_eq!(
        bad(vec![
            Provider::new("a")
                .tool("x", |v| async move { Ok(v) })
                .tool("x", |v| async move { Ok(v) })
        ]),
        "tool name \"a.x\" is used more than once"
    );
    assert_eq!(
        bad(vec![
            Provider::new("a").tool("delete", |v| async move { Ok(v) })
        ]),
        "tool name \"delete\" is reserved"
    );
    assert!(matches!(
        Providers::new([Provider::new("1st")]),
        Err(ProviderError::Name(_))
    ));
}
