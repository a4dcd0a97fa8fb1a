//! The Code Mode executor's latency: `cargo bench -p isola-codemode --bench execute`.
//!
//! One `execute` of a snippet with one tool call (normalize the code, a
//! fresh isolate, the call through a host namespace, dispose), with the
//! floors beside it in the same run, alternated so machine noise hits all
//! of them: a fresh sandbox through the Loader with no tool call (what the
//! executor adds to), and normalization alone. Providers are built once
//! per run the way `isola mcp` builds them (types cached per upstream
//! version). Prints a Markdown table for BENCHMARKS.md; `ISOLA_BENCH_ITERS`
//! sets the sample count (default 2000).

#![allow(clippy::unwrap_used, clippy::cast_precision_loss, missing_docs)]

use std::time::{Duration, Instant};

use isola::{Config, Loader, Module, Value, WorkerCode};
use isola_codemode::{ExecuteOptions, Executor, Provider, Providers, normalize::normalize};
use serde_json::json;

const SNIPPET: &str = "async () => {\n  const r = await math.add({ a: 1, b: 2 });\n  return r;\n}";
const FLOOR: &str = "export default { async run(p) { return p.a + p.b } }";

fn iterations() -> usize {
    std::env::var("ISOLA_BENCH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000)
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.50), at(0.99))
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn providers() -> Providers {
    Providers::new([Provider::new("math").tool("add", |input| async move {
        Ok(json!(
            input["a"].as_f64().unwrap_or(0.0) + input["b"].as_f64().unwrap_or(0.0)
        ))
    })])
    .unwrap()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n = iterations();
    let loader = Loader::new(Config::default().threads(1)).unwrap();
    let executor = Executor::with_loader(loader.clone());
    let options = ExecuteOptions::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    println!("Code Mode execute benchmark: {n} samples per case, 1 executor thread\n");

    let (mut execute, mut floor, mut normalized) = (Vec::new(), Vec::new(), Vec::new());
    runtime.block_on(async {
        for i in 0..n + 200 {
            let t = Instant::now();
            let providers = providers();
            let result = executor.execute(SNIPPET, &providers, &options).await;
            let took = t.elapsed();
            assert_eq!(result.result, Some(json!(3)), "{:?}", result.error);

            let t = Instant::now();
            let worker = loader
                .load(
                    WorkerCode::new("2026-03-01", "agent.js")
                        .module("agent.js", Module::Esm(FLOOR.into())),
                )
                .unwrap();
            let run = worker
                .entrypoint(None)
                .call(
                    "run",
                    Value::Object(vec![
                        ("a".into(), Value::Number(1.0)),
                        ("b".into(), Value::Number(2.0)),
                    ]),
                )
                .await;
            drop(worker);
            let floor_took = t.elapsed();
            assert!(matches!(run.outcome, isola::Outcome::Returned(_)));

            let t = Instant::now();
            let program = normalize(SNIPPET).unwrap();
            let normalize_took = t.elapsed();
            std::hint::black_box(program);

            if i >= 200 {
                execute.push(took);
                floor.push(floor_took);
                normalized.push(normalize_took);
            }
        }
    });
    let ratios: Vec<f64> = execute
        .iter()
        .zip(&floor)
        .map(|(e, f)| e.as_secs_f64() / f.as_secs_f64())
        .collect();
    let mut sorted = ratios;
    sorted.sort_by(f64::total_cmp);
    let ratio = sorted[sorted.len() / 2];
    let (e50, e99) = percentiles(execute);
    let (f50, f99) = percentiles(floor);
    let (n50, n99) = percentiles(normalized);
    println!("| case | p50 | p99 | notes |");
    println!("|---|---|---|---|");
    println!(
        "| Code Mode `execute`: normalize + fresh isolate + 1 tool call + dispose | {} | {} | target p50 ≤ 1 ms; **{ratio:.2}×** the floor below (median of pairwise ratios) |",
        us(e50),
        us(e99)
    );
    println!(
        "| floor: fresh sandbox via the Loader, `load` + one call + drop, no tool call | {} | {} | the engine path `execute` builds on |",
        us(f50),
        us(f99)
    );
    println!(
        "| normalization alone (oxc parse + rewrite + codegen) | {} | {} | included in the first row |",
        us(n50),
        us(n99)
    );
}
