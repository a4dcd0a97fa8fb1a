//! isola's sandbox benchmark: `cargo bench -p isola --bench sandbox`.
//!
//! Measures, in one run, the raw rquickjs floor and isola side by side
//! (alternating A and B so machine noise hits both), and prints medians,
//! p99 and ratios as a Markdown table for BENCHMARKS.md. Set
//! `ISOLA_BENCH_ITERS` to change the sample count (default 2000).
//!
//! With `ISOLA_WORKER_BIN` set to an `isola` binary (a release build, for
//! numbers that mean anything), it also measures the jail: a fresh sandbox
//! through a jailed Loader alternated with one through an in-process
//! Loader, throughput with the jail on, worker process start, and memory
//! per live idle isolate inside the worker processes.

#![allow(clippy::unwrap_used, clippy::cast_precision_loss, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use isola::engine::{
    Budget, CallKind, CallResult, CallSpec, Effect, Isolate, IsolateConfig, ModuleSpec,
    Value as EValue, WorkerSource,
};
use isola::{Config, Jail, Loader, Module, Value, WorkerCode, binding_fn};

const AGENT: &str = "export default { async myAgent(p) { return p.x + 1 } }";

fn iterations() -> usize {
    std::env::var("ISOLA_BENCH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000)
}

struct Stats {
    p50: Duration,
    p99: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Stats {
        p50: at(0.50),
        p99: at(0.99),
    }
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

/// The floor: a raw rquickjs Runtime + full Context, the module evaluated,
/// the method called and its promise settled, everything dropped.
fn raw_rquickjs_once() {
    use rquickjs::{Context, Function, Module as RModule, Object, Promise, Runtime};
    let rt = Runtime::new().unwrap();
    let ctx = Context::full(&rt).unwrap();
    ctx.with(|ctx| {
        let module = RModule::declare(ctx.clone(), "agent.js", AGENT).unwrap();
        let (module, done) = module.eval().unwrap();
        done.finish::<()>().unwrap();
        let handler: Object = module.get("default").unwrap();
        let method: Function = handler.get("myAgent").unwrap();
        let arg = Object::new(ctx.clone()).unwrap();
        arg.set("x", 1).unwrap();
        let result: Promise = method.call((arg,)).unwrap();
        let value: i32 = result.finish().unwrap();
        assert_eq!(value, 2);
    });
}

fn budget() -> Budget {
    Budget::new(
        Duration::from_secs(1),
        Instant::now() + Duration::from_secs(30),
    )
}

/// isola's engine on the same thread: validate the code, create an isolate
/// with the full global surface and limits armed, call; returns it live.
fn called_isolate() -> Isolate {
    let source = Arc::new(
        WorkerSource::new(
            Some("2026-03-01"),
            &[],
            "agent.js",
            vec![("agent.js".into(), ModuleSpec::Esm(AGENT.into()))],
        )
        .unwrap(),
    );
    let mut isolate = Isolate::new(isola::platform(), source, &IsolateConfig::default()).unwrap();
    let arg = EValue::Object(vec![("x".into(), EValue::Number(1.0))]);
    let spec = CallSpec {
        id: 1,
        entrypoint: None,
        kind: CallKind::Rpc {
            method: "myAgent".into(),
            args: vec![arg],
        },
        props: EValue::Undefined,
        stream: false,
        stream_request: false,
    };
    isolate.call(spec, budget()).unwrap();
    let settled = isolate.take_effects().into_iter().any(|e| {
        matches!(e, Effect::CallSettled { result: CallResult::Value(EValue::Number(n)), .. } if n == 2.0)
    });
    assert!(settled);
    isolate
}

/// The same, disposed.
fn isola_engine_once() {
    drop(called_isolate());
}

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn trim() {
    isola::engine::release_freed_memory();
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n = iterations();
    let quick = std::env::var_os("ISOLA_BENCH_QUICK").is_some();
    println!(
        "isola sandbox benchmark: {n} samples per case, {} CPUs\n",
        std::thread::available_parallelism().map_or(1, |p| p.get())
    );

    // Memory first, before other cases leave freed heap for isolates to reuse.
    isola_engine_once();
    // Memory per live idle isolate: 1000 isolates started and called once, held.
    let live_n: usize = if quick { 100 } else { 1000 };
    trim();
    let before = rss_bytes();
    let mut live = Vec::with_capacity(live_n);
    for _ in 0..live_n {
        let isolate = called_isolate();
        live.push(isolate);
    }
    trim();
    let per_isolate = rss_bytes().saturating_sub(before) / live_n;
    let heap_per_isolate = live.iter().map(Isolate::memory_used).sum::<usize>() / live_n;
    drop(live);

    // Warm up both paths (page faults, lazy statics).
    for _ in 0..200 {
        raw_rquickjs_once();
        isola_engine_once();
    }
    let (mut floor, mut engine) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let t = Instant::now();
        raw_rquickjs_once();
        floor.push(t.elapsed());
        let t = Instant::now();
        isola_engine_once();
        engine.push(t.elapsed());
    }
    let ratios: Vec<f64> = floor
        .iter()
        .zip(&engine)
        .map(|(f, e)| e.as_secs_f64() / f.as_secs_f64())
        .collect();
    let mut sorted = ratios.clone();
    sorted.sort_by(f64::total_cmp);
    let ratio_median = sorted[sorted.len() / 2];
    let floor = stats(floor);
    let engine = stats(engine);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get());
    let loader1 = Loader::new(Config::default().threads(1)).unwrap();
    let code =
        || WorkerCode::new("2026-03-01", "agent.js").module("agent.js", Module::Esm(AGENT.into()));
    let arg = || Value::Object(vec![("x".into(), Value::Number(1.0))]);

    // Fresh sandbox through the Loader (cross-thread, async), sequential.
    let mut via_loader = Vec::with_capacity(n);
    runtime.block_on(async {
        for i in 0..n + 200 {
            let t = Instant::now();
            let worker = loader1.load(code()).unwrap();
            let run = worker.entrypoint(None).call("myAgent", arg()).await;
            drop(worker);
            if i >= 200 {
                via_loader.push(t.elapsed());
            }
            assert!(matches!(run.outcome, isola::Outcome::Returned(_)));
        }
    });
    let via_loader = stats(via_loader);

    // Throughput: fresh sandboxes per second with 64 in flight, 1 and N threads.
    let throughput = move |threads: usize| -> f64 {
        let loader = Loader::new(Config::default().threads(threads)).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let deadline = Instant::now()
                + if quick {
                    Duration::from_millis(300)
                } else {
                    Duration::from_secs(3)
                };
            let start = Instant::now();
            let mut tasks = Vec::new();
            for _ in 0..64 {
                let loader = loader.clone();
                tasks.push(tokio::spawn(async move {
                    let mut done = 0u64;
                    while Instant::now() < deadline {
                        let worker = loader
                            .load(
                                WorkerCode::new("2026-03-01", "agent.js")
                                    .module("agent.js", Module::Esm(AGENT.into())),
                            )
                            .unwrap();
                        let run = worker
                            .entrypoint(None)
                            .call(
                                "myAgent",
                                Value::Object(vec![("x".into(), Value::Number(1.0))]),
                            )
                            .await;
                        assert!(matches!(run.outcome, isola::Outcome::Returned(_)));
                        done += 1;
                    }
                    done
                }));
            }
            let mut total = 0;
            for t in tasks {
                total += t.await.unwrap();
            }
            total as f64 / start.elapsed().as_secs_f64()
        })
    };
    let per_sec_1 = throughput(1);
    let per_sec_n = throughput(threads);

    // Warm call on a cached worker.
    let warm_worker = loader1.get("warm", code).unwrap();
    let mut warm = Vec::with_capacity(n);
    runtime.block_on(async {
        for i in 0..n + 200 {
            let t = Instant::now();
            let run = warm_worker.entrypoint(None).call("myAgent", arg()).await;
            if i >= 200 {
                warm.push(t.elapsed());
            }
            assert!(matches!(run.outcome, isola::Outcome::Returned(_)));
        }
    });
    let warm = stats(warm);

    // Host binding round trip: guest → Rust async fn → guest, 1000 per call.
    const TRIPS: usize = 1000;
    let binding_worker = loader1
        .load(
            WorkerCode::new("2026-03-01", "agent.js")
                .module("agent.js", Module::Esm("export default { async go(n, env) { for (let i = 0; i < n; i++) await env.B.ping(i); return n } }".into()))
                .env_binding("B", binding_fn(|_, args| async move { Ok(args.into_iter().next().unwrap_or(Value::Null)) })),
        )
        .unwrap();
    let mut trips = Vec::new();
    runtime.block_on(async {
        for i in 0..30 {
            let t = Instant::now();
            let run = binding_worker
                .entrypoint(None)
                .call("go", Value::Number(TRIPS as f64))
                .await;
            assert!(
                matches!(run.outcome, isola::Outcome::Returned(_)),
                "{:?}",
                run.outcome
            );
            if i >= 5 {
                trips.push(t.elapsed() / TRIPS as u32);
            }
        }
    });
    let trips = stats(trips);

    println!("| case | p50 | p99 | notes |");
    println!("|---|---|---|---|");
    println!(
        "| raw rquickjs floor: Runtime + full Context + module + call + drop | {} | {} | same thread, alternated with the next row |",
        us(floor.p50),
        us(floor.p99)
    );
    println!(
        "| isola engine: validate + isolate with full globals and limits + call + drop | {} | {} | **{:.2}×** the floor (median of pairwise ratios) |",
        us(engine.p50),
        us(engine.p99),
        ratio_median
    );
    println!(
        "| isola Loader: `load` + `call` + drop, awaited from another thread | {} | {} | includes two thread hops |",
        us(via_loader.p50),
        us(via_loader.p99)
    );
    println!(
        "| warm call on a cached worker (`get`) | {} | {} | |",
        us(warm.p50),
        us(warm.p99)
    );
    println!(
        "| host binding round trip (guest → Rust async fn → guest) | {} | {} | per trip, 1000 trips per call |",
        us(trips.p50),
        us(trips.p99)
    );
    println!();
    println!("| throughput: fresh sandbox + call, 64 in flight | per second |");
    println!("|---|---|");
    println!("| 1 executor thread | {per_sec_1:.0} |");
    println!(
        "| {threads} executor threads | {per_sec_n:.0} ({:.2}× 1 thread) |",
        per_sec_n / per_sec_1
    );
    println!();
    println!("| memory per live idle isolate ({live_n} held) | bytes |");
    println!("|---|---|");
    println!("| RSS delta / N | {} KiB |", per_isolate / 1024);
    println!(
        "| engine heap (metered) | {} KiB |",
        heap_per_isolate / 1024
    );
    if let Some(bin) = std::env::var_os("ISOLA_WORKER_BIN") {
        jail_section(&Jail::new(bin), n, quick, threads);
    } else {
        println!("\n(jail: not measured; set ISOLA_WORKER_BIN to a release `isola` binary)");
    }
}

/// The jail's cost, measured against the in-process path in one run.
fn jail_section(jail: &Jail, n: usize, quick: bool, threads: usize) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let code =
        || WorkerCode::new("2026-03-01", "agent.js").module("agent.js", Module::Esm(AGENT.into()));
    let arg = || Value::Object(vec![("x".into(), Value::Number(1.0))]);
    let local = Loader::new(Config::default().threads(1)).unwrap();
    let jailed = Loader::new(Config::default().threads(1).jail(Some(jail.clone()))).unwrap();
    jailed.prepare_cordon("main").unwrap();

    // Worker process start: fork + exec + jail + first frame.
    let mut starts = Vec::new();
    for _ in 0..if quick { 5 } else { 40 } {
        let t = Instant::now();
        let process = jail.spawn().unwrap();
        starts.push(t.elapsed());
        drop(process);
    }
    let starts = stats(starts);

    // Fresh sandbox + call, in-process and jailed alternated.
    let (mut inside, mut outside) = (Vec::with_capacity(n), Vec::with_capacity(n));
    runtime.block_on(async {
        for i in 0..n + 200 {
            for (loader, samples) in [(&local, &mut inside), (&jailed, &mut outside)] {
                let t = Instant::now();
                let worker = loader.load(code()).unwrap();
                let run = worker.entrypoint(None).call("myAgent", arg()).await;
                drop(worker);
                if i >= 200 {
                    samples.push(t.elapsed());
                }
                assert!(
                    matches!(run.outcome, isola::Outcome::Returned(_)),
                    "{:?}",
                    run.outcome
                );
            }
        }
    });
    // The jail's cost per sandbox: the median of the differences between
    // each jailed sample and the in-process sample taken just before it.
    // Both paths wake an idle thread, which in a VM is fast or slow by
    // turns, so their own p50s can each land in either mode; the pairs
    // share the mode of their moment.
    let mut extra: Vec<f64> = inside
        .iter()
        .zip(&outside)
        .map(|(i, o)| (o.as_secs_f64() - i.as_secs_f64()) * 1e6)
        .collect();
    extra.sort_by(f64::total_cmp);
    let extra_p50 = extra[extra.len() / 2];
    let (inside, outside) = (stats(inside), stats(outside));

    // Throughput with the jail on, N executor threads, 64 in flight.
    let throughput = |jail: Option<Jail>| -> f64 {
        let loader = Loader::new(Config::default().threads(threads).jail(jail)).unwrap();
        loader.prepare_cordon("main").unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let span = if quick {
                Duration::from_millis(300)
            } else {
                Duration::from_secs(3)
            };
            let deadline = Instant::now() + span;
            let start = Instant::now();
            let mut tasks = Vec::new();
            for _ in 0..64 {
                let loader = loader.clone();
                tasks.push(tokio::spawn(async move {
                    let mut done = 0u64;
                    while Instant::now() < deadline {
                        let worker = loader
                            .load(
                                WorkerCode::new("2026-03-01", "agent.js")
                                    .module("agent.js", Module::Esm(AGENT.into())),
                            )
                            .unwrap();
                        let run = worker
                            .entrypoint(None)
                            .call(
                                "myAgent",
                                Value::Object(vec![("x".into(), Value::Number(1.0))]),
                            )
                            .await;
                        assert!(matches!(run.outcome, isola::Outcome::Returned(_)));
                        done += 1;
                    }
                    done
                }));
            }
            let mut total = 0;
            for t in tasks {
                total += t.await.unwrap();
            }
            total as f64 / start.elapsed().as_secs_f64()
        })
    };
    let local_per_sec = throughput(None);
    let jailed_per_sec = throughput(Some(jail.clone()));

    // Memory per live idle isolate inside a worker process.
    let live_n: usize = if quick { 100 } else { 1000 };
    let held = Loader::new(Config::default().threads(1).jail(Some(jail.clone()))).unwrap();
    held.prepare_cordon("main").unwrap();
    let mut live = Vec::with_capacity(live_n);
    let before = held.worker_peak_rss_bytes();
    runtime.block_on(async {
        for _ in 0..live_n {
            let worker = held.get(&format!("live-{}", live.len()), code).unwrap();
            let run = worker.entrypoint(None).call("myAgent", arg()).await;
            assert!(matches!(run.outcome, isola::Outcome::Returned(_)));
            live.push(worker);
        }
    });
    let per_isolate = (held.worker_peak_rss_bytes().saturating_sub(before)) / live_n as u64;
    drop(live);

    println!();
    println!("| jail: fresh sandbox + call through the Loader | p50 | p99 | notes |");
    println!("|---|---|---|---|");
    println!(
        "| in-process (`--no-jail`) | {} | {} | alternated with the next row |",
        us(inside.p50),
        us(inside.p99)
    );
    println!(
        "| jailed worker process | {} | {} | **{:+.1} µs** per sandbox (median of pairwise differences; {:+.1} µs between the p50s) |",
        us(outside.p50),
        us(outside.p99),
        extra_p50,
        (outside.p50.as_secs_f64() - inside.p50.as_secs_f64()) * 1e6
    );
    println!(
        "| worker process start (fork + exec + jail) | {} | {} | off the request path: processes start with their cordon |",
        us(starts.p50),
        us(starts.p99)
    );
    println!();
    println!("| throughput, {threads} executor threads, 64 in flight | per second |");
    println!("|---|---|");
    println!("| in-process | {local_per_sec:.0} |");
    println!(
        "| jailed | {jailed_per_sec:.0} ({:.2}× in-process) |",
        jailed_per_sec / local_per_sec
    );
    println!();
    println!(
        "| memory per live idle isolate in a worker process ({live_n} held) | {} KiB |",
        per_isolate / 1024
    );
}
