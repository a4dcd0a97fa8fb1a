//! Security catalogue item 6, for the value codec as it stands (the
//! cross-process RPC codec comes with the jail): hostile values, and a
//! randomized round trip host → guest → host.

use isola::{Outcome, TypedArrayKind, Value, binding_fn};
use serde_json::json;

use crate::support::*;

#[test]
fn hostile_values_to_bindings_end_in_clear_errors() {
    let code = esm(r#"export default { async go(_, env) {
        const out = [];
        for (const make of [
          () => 10n ** 1000000n,
          () => "\ud800 lone surrogate",
          () => [-0, NaN, Infinity],
        ]) {
          try { out.push(await env.B.echo(make())) } catch (e) { out.push(e.name) } }
        Promise.reject(new Error("ignored rejection"));
        return out } }"#)
    .env_binding(
        "B",
        binding_fn(|_, args| async move { Ok(args.into_iter().next().unwrap_or(Value::Null)) }),
    );
    let out = returned(call(code, "go", Value::Null));
    assert_eq!(
        out[0],
        json!("RangeError"),
        "a million-digit BigInt is over the size limit"
    );
    assert_eq!(out[1], json!("\u{fffd} lone surrogate"));
    assert_eq!(out[2], json!([0, null, null]));
    assert_next_sandbox_works();
}

#[test]
fn a_million_outstanding_host_calls_hit_a_limit_not_the_host() {
    let code = esm(r#"export default { go(_, env) {
        const pending = [];
        for (let i = 0; i < 1e6; i++) pending.push(env.B.never(i));
        return Promise.all(pending) } }"#)
    .env_binding(
        "B",
        binding_fn(|_, _| async {
            std::future::pending::<()>().await;
            Ok(Value::Null)
        }),
    );
    let run = call(code, "go", Value::Null);
    assert!(
        matches!(
            run.outcome,
            Outcome::SubrequestLimit | Outcome::MemoryLimit | Outcome::CpuLimit
        ),
        "{:?}",
        run.outcome
    );
    assert_next_sandbox_works();
}

/// A small deterministic generator (no external fuzzing toolchain here).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn string(&mut self) -> String {
        let len = self.below(12);
        (0..len)
            .map(|_| match self.below(4) {
                0 => char::from(b'a' + u8::try_from(self.below(26)).unwrap_or(0)),
                1 => '☃',
                2 => '\u{10348}',
                _ => char::from(u8::try_from(self.below(0x7f)).unwrap_or(b'x')),
            })
            .collect()
    }

    fn value(&mut self, depth: u32) -> Value {
        let leaf = depth == 0 || self.below(3) == 0;
        if leaf {
            return match self.below(9) {
                0 => Value::Undefined,
                1 => Value::Null,
                2 => Value::Bool(self.below(2) == 0),
                3 => Value::Number(f64::from_bits(self.next())),
                4 => Value::BigInt(format!(
                    "{}{}",
                    if self.below(2) == 0 { "-" } else { "" },
                    self.next()
                )),
                5 => Value::String(self.string()),
                6 => Value::Date((self.below(1 << 40)) as f64),
                7 => {
                    Value::ArrayBuffer((0..self.below(16)).map(|_| self.below(256) as u8).collect())
                }
                _ => Value::TypedArray {
                    kind: TypedArrayKind::Int16Array,
                    bytes: vec![1, 2, 3, 4],
                },
            };
        }
        let n = self.below(5);
        match self.below(4) {
            0 => Value::Array((0..n).map(|_| self.value(depth - 1)).collect()),
            1 => Value::Object(
                (0..n)
                    .map(|i| (format!("k{i}{}", self.string()), self.value(depth - 1)))
                    .collect(),
            ),
            2 => Value::Map(
                (0..n)
                    .map(|i| (Value::Number(i as f64), self.value(depth - 1)))
                    .collect(),
            ),
            _ => Value::Set((0..n).map(|i| Value::String(format!("s{i}"))).collect()),
        }
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        (Value::Array(x), Value::Array(y)) | (Value::Set(x), Value::Set(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, a), (kb, b))| ka == kb && same(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, a), (kb, b))| same(ka, kb) && same(a, b))
        }
        _ => a == b,
    }
}

#[test]
fn randomized_values_round_trip_through_the_guest() {
    let worker = loader()
        .load(esm(
            "export default { echo(v) { return structuredClone(v) } }",
        ))
        .expect("valid");
    let rt = runtime();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..500 {
        let value = rng.value(4);
        let run = rt.block_on(worker.entrypoint(None).call("echo", value.clone()));
        match run.outcome {
            Outcome::Returned(back) => assert!(
                same(&value, &back),
                "case {case}: {value:?} came back as {back:?}"
            ),
            other => panic!("case {case}: {value:?} ended as {other:?}"),
        }
    }
}
