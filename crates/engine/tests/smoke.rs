//! Drives an isolate by hand, without the runtime layer: ops are answered
//! inline and timers fire in order.

use std::sync::Arc;
use std::time::{Duration, Instant};

use isola_engine::*;

fn budget() -> Budget {
    Budget::new(
        Duration::from_millis(500),
        Instant::now() + Duration::from_secs(5),
    )
}

fn source(modules: Vec<(&str, ModuleSpec)>) -> Arc<WorkerSource> {
    let main = modules[0].0.to_owned();
    Arc::new(
        WorkerSource::new(
            Some("2026-03-01"),
            &[],
            &main,
            modules
                .into_iter()
                .map(|(n, m)| (n.to_owned(), m))
                .collect(),
        )
        .expect("valid code"),
    )
}

/// Runs one call to completion; returns the result and the logs.
fn run(
    src: Arc<WorkerSource>,
    method: &str,
    args: Vec<Value>,
) -> (Result<CallResult, Termination>, Vec<LogEntry>) {
    let config = IsolateConfig {
        env: vec![("HOST".into(), EnvEntry::Binding)],
        ..Default::default()
    };
    let mut iso = Isolate::new(platform(), src, &config).expect("isolate");
    let spec = CallSpec {
        id: 1,
        entrypoint: None,
        kind: CallKind::Rpc {
            method: method.into(),
            args,
        },
        props: Value::Null,
        stream: false,
        stream_request: false,
    };
    let mut logs = Vec::new();
    if let Err(t) = iso.call(spec, budget()) {
        return (Err(t), logs);
    }
    let mut timers: Vec<(u64, TimerId)> = Vec::new();
    let mut result = None;
    loop {
        let effects = iso.take_effects();
        let mut progressed = false;
        for e in effects {
            match e {
                Effect::Log { entry, .. } => logs.push(entry),
                Effect::CallSettled { result: r, .. } => result = Some(r),
                Effect::Op { id, request } => {
                    let answer = match request {
                        OpRequest::Binding { method, args, .. } => OpResult::Value(Value::Array(
                            std::iter::once(Value::String(method)).chain(args).collect(),
                        )),
                        OpRequest::Fetch(_) => {
                            OpResult::Error(ErrorValue::new("Error", "no network"))
                        }
                        _ => OpResult::Error(ErrorValue::new("Error", "no loader")),
                    };
                    if let Err(t) = iso.complete_op(id, answer, budget()) {
                        return (Err(t), logs);
                    }
                    progressed = true;
                }
                Effect::Timer { id, delay_ms } => timers.push((delay_ms, id)),
                Effect::CancelTimer { id } => timers.retain(|(_, t)| *t != id),
                Effect::CallFinished { .. }
                | Effect::LoadWorker { .. }
                | Effect::ReleaseWorker { .. } => {}
            }
        }
        if !progressed && let Some(result) = result.take() {
            return (Ok(result), logs);
        }
        if !progressed {
            timers.sort();
            if timers.is_empty() {
                return (
                    Ok(result.unwrap_or(CallResult::Threw(ErrorValue::new("Error", "hung")))),
                    logs,
                );
            }
            let (_, id) = timers.remove(0);
            if let Err(t) = iso.fire_timer(id, budget()) {
                return (Err(t), logs);
            }
        }
    }
}

#[test]
fn calls_a_default_export_method() {
    let src = source(vec![(
        "agent.js",
        ModuleSpec::Esm(
            "export default { async myAgent(p) { console.log('hi', p); return p.x + 1 } }".into(),
        ),
    )]);
    let (result, logs) = run(src, "myAgent", vec![serde_json::json!({"x": 1}).into()]);
    assert_eq!(result, Ok(CallResult::Value(Value::Number(2.0))));
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].message, "hi { x: 1 }");
}

#[test]
fn bindings_timers_and_promises() {
    let src = source(vec![(
        "agent.js",
        ModuleSpec::Esm(
            "export default { async go(_, env) { await new Promise(r => setTimeout(r, 5)); const [a, b] = await Promise.all([env.HOST.one(1), env.HOST.two(new Uint8Array([1,2]))]); return [a, b] } }".into(),
        ),
    )]);
    let (result, _) = run(src, "go", vec![Value::Null]);
    let Ok(CallResult::Value(Value::Array(items))) = result else {
        panic!("{result:?}")
    };
    assert_eq!(
        items[0],
        Value::Array(vec![Value::String("one".into()), Value::Number(1.0)])
    );
    assert_eq!(
        items[1],
        Value::Array(vec![
            Value::String("two".into()),
            Value::TypedArray {
                kind: TypedArrayKind::Uint8Array,
                bytes: vec![1, 2]
            }
        ])
    );
}

#[test]
fn syntax_errors_report_module_line_and_column() {
    let src = source(vec![(
        "agent.js",
        ModuleSpec::Esm("export default {\n  x: 1 +\n}".into()),
    )]);
    let (result, _) = run(src, "x", vec![Value::Null]);
    let Ok(CallResult::StartupFailed(e)) = result else {
        panic!("{result:?}")
    };
    assert!(
        e.message
            .starts_with("Failed to start Worker:\nUncaught SyntaxError: "),
        "{}",
        e.message
    );
    assert!(e.message.contains("\n  at agent.js:3:"), "{}", e.message);
}

#[test]
fn infinite_loop_hits_cpu_limit() {
    let src = source(vec![(
        "agent.js",
        ModuleSpec::Esm(
            "export default { spin() { try { for(;;){} } finally { for(;;){} } } }".into(),
        ),
    )]);
    let (result, _) = run(src, "spin", vec![Value::Null]);
    assert_eq!(result, Err(Termination::CpuLimit));
}

/// The engine's own extensions, composed once.
fn platform() -> &'static isola_engine::Platform {
    static PLATFORM: std::sync::OnceLock<&'static isola_engine::Platform> =
        std::sync::OnceLock::new();
    PLATFORM.get_or_init(|| isola_engine::Platform::new(&[]).expect("extensions compose"))
}
