use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use isola::{ErrorValue, Outcome, TypedArrayKind, Value, binding_fn};
use serde_json::json;

use crate::support::*;

fn sample() -> Value {
    Value::Object(vec![
        ("s".into(), Value::String("héllo ☃".into())),
        ("neg0".into(), Value::Number(-0.0)),
        ("nan".into(), Value::Number(f64::NAN)),
        (
            "big".into(),
            Value::BigInt("-123456789012345678901234567890".into()),
        ),
        ("date".into(), Value::Date(1_700_000_000_000.0)),
        (
            "map".into(),
            Value::Map(vec![(Value::Number(1.0), Value::String("one".into()))]),
        ),
        (
            "set".into(),
            Value::Set(vec![Value::Bool(true), Value::Null]),
        ),
        ("buf".into(), Value::ArrayBuffer(vec![0, 255, 7])),
        (
            "f64".into(),
            Value::TypedArray {
                kind: TypedArrayKind::Float64Array,
                bytes: 1.5f64.to_le_bytes().to_vec(),
            },
        ),
        (
            "re".into(),
            Value::RegExp {
                source: "a+b".into(),
                flags: "gi".into(),
            },
        ),
        (
            "err".into(),
            Value::Error(ErrorValue::new("RangeError", "too far")),
        ),
        (
            "nested".into(),
            Value::Array(vec![Value::Undefined, Value::Array(vec![])]),
        ),
    ])
}

#[test]
fn env_is_importable_from_cloudflare_workers_as_in_workerd() {
    // `import { env }` is the same object the handlers get, readable at
    // module scope, and also the default export's `env`.
    let code = esm(r#"import { env } from "cloudflare:workers";
        import workers from "cloudflare:workers";
        const atStart = env.NAME;
        export default { go(_, handlerEnv) { return [atStart, env === handlerEnv, workers.env === env] } }"#)
    .env_value("NAME", Value::String("ada".into()));
    let run = call(code, "go", Value::Null);
    let Outcome::Returned(value) = run.outcome else {
        panic!("{:?}", run.outcome)
    };
    assert_eq!(value.to_json(), json!(["ada", true, true]));
}

#[test]
fn env_values_cross_unchanged_and_binary_stays_binary() {
    let code = esm(r#"export default { echo(_, env) {
        const v = env.DATA;
        return { v, checks: [Object.is(v.neg0, -0), Number.isNaN(v.nan), typeof v.big, v.date instanceof Date,
          v.map instanceof Map, v.set instanceof Set, v.buf instanceof ArrayBuffer, v.f64 instanceof Float64Array,
          v.re instanceof RegExp && v.re.test("xAABy"), v.err instanceof RangeError] } } }"#)
    .env_value("DATA", sample());
    let run = call(code, "echo", Value::Null);
    let Outcome::Returned(Value::Object(fields)) = run.outcome else {
        panic!("{:?}", run.outcome)
    };
    let v = &fields[0].1;
    assert_eq!(
        fields[1].1.to_json(),
        json!([
            true, true, "bigint", true, true, true, true, true, true, true
        ])
    );
    let Value::Object(back) = v else {
        panic!("{v:?}")
    };
    let Value::Object(orig) = sample() else {
        unreachable!()
    };
    for ((k1, a), (k2, b)) in back.iter().zip(orig.iter()) {
        assert_eq!(k1, k2);
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => assert_eq!(x.to_bits(), y.to_bits(), "{k1}"),
            (Value::Error(x), Value::Error(y)) => {
                assert_eq!((&x.name, &x.message), (&y.name, &y.message))
            }
            _ => assert_eq!(a, b, "{k1}"),
        }
    }
}

#[test]
fn bindings_are_async_host_capabilities() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let room = binding_fn(move |method, args| {
        seen.fetch_add(1, Ordering::SeqCst);
        async move {
            match method.as_str() {
                "post" => Ok(Value::Array(
                    std::iter::once(Value::String("posted".into()))
                        .chain(args)
                        .collect(),
                )),
                "bytes" => Ok(Value::TypedArray {
                    kind: TypedArrayKind::Uint8Array,
                    bytes: vec![9, 8, 7],
                }),
                _ => Err(ErrorValue::new("TypeError", format!("no method {method}"))),
            }
        }
    });
    let code = esm(r#"export default { async go(_, env) {
        const [a, b] = await Promise.all([env.ROOM.post("hi", new Uint8Array([1, 2])), env.ROOM.bytes()]);
        let err; try { await env.ROOM.missing() } catch (e) { err = `${e.name}: ${e.message}` }
        return { a, b: [...b], isU8: b instanceof Uint8Array, err, then: typeof env.ROOM.then } } }"#)
    .env_binding("ROOM", room);
    let out = returned(call(code, "go", Value::Null));
    assert_eq!(
        out,
        json!({"a": ["posted", "hi", {"$bytes": "AQI="}], "b": [9, 8, 7], "isU8": true, "err": "TypeError: no method missing", "then": "undefined"})
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[test]
fn a_panicking_binding_is_an_error_in_the_guest_not_a_crash() {
    let code = esm(r#"export default { async go(_, env) { try { await env.B.boom() } catch (e) { return e.message } } }"#)
        .env_binding("B", binding_fn(|_, _| async { panic!("host bug") }));
    assert_eq!(
        returned(call(code, "go", Value::Null)),
        json!("The host binding failed.")
    );
    assert_next_sandbox_works();
}

#[test]
fn values_sent_to_bindings_are_data_with_depth_and_size_limits() {
    let code = esm(r#"export default { async go(_, env) {
        const out = [];
        let deep = []; for (let i = 0; i < 1000; i++) deep = [deep];
        for (const bad of [() => 1, Symbol("s"), new Proxy({}, {}), deep, (() => { const o = {}; o.self = o; return o })()]) {
          try { await env.B.take(bad); out.push("sent") } catch (e) { out.push(e.name) } }
        try { await env.B.take("x".repeat(40 << 20)) } catch (e) { out.push(e.name) }
        return out } }"#)
    .env_binding("B", binding_fn(|_, _| async { Ok(Value::Null) }));
    let out = returned(call(code, "go", Value::Null));
    assert_eq!(
        out,
        json!([
            "DataCloneError",
            "DataCloneError",
            "DataCloneError",
            "RangeError",
            "DataCloneError",
            "RangeError"
        ])
    );
}

#[test]
fn arguments_are_read_once_and_detached_buffers_refused() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let code = esm(r#"export default { async go(_, env) {
        let reads = 0;
        const shifty = { get x() { reads++; return reads } };
        await env.B.take(shifty);
        const buffer = new ArrayBuffer(8);
        buffer.transfer();
        let detached; try { await env.B.take(buffer) } catch (e) { detached = e.name }
        return { reads, detached } } }"#)
    .env_binding(
        "B",
        binding_fn(move |_, args| {
            sink.lock().expect("lock").push(args);
            async { Ok(Value::Null) }
        }),
    );
    assert_eq!(
        returned(call(code, "go", Value::Null)),
        json!({"reads": 1, "detached": "DataCloneError"})
    );
    let seen = seen.lock().expect("lock");
    assert_eq!(seen.len(), 1, "the detached buffer reached the host");
    assert_eq!(seen[0][0].to_json(), json!({"x": 1}));
}

#[test]
fn function_in_env_clone_message_matches_workerd() {
    let code = esm(
        r#"export default { go() { try { structuredClone(() => 1) } catch (e) { return `${e.name}: ${e.message}` } } }"#,
    );
    assert_eq!(
        returned(call(code, "go", Value::Null)),
        json!("DataCloneError: () => 1 could not be cloned.")
    );
}
