use std::time::Duration;

use isola::{Config, Loader, Value};
use serde_json::json;

use crate::support::*;

fn assert_send_sync_clone<T: Send + Sync + Clone>() {}

#[test]
fn loader_is_send_sync_clone_and_usable_from_any_runtime() {
    assert_send_sync_clone::<Loader>();
    assert_send_sync_clone::<isola::Worker>();
    let loader = loader().clone();
    let handle = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("rt");
        rt.block_on(async move {
            let mut tasks = Vec::new();
            for i in 0..50 {
                let w = loader
                    .load(esm("export default { go(x) { return x + 1 } }"))
                    .expect("valid");
                tasks.push(tokio::spawn(async move {
                    w.entrypoint(None).call("go", i).await
                }));
            }
            let mut sum = 0.0;
            for t in tasks {
                if let isola::Outcome::Returned(Value::Number(n)) = t.await.expect("join").outcome {
                    sum += n;
                }
            }
            sum
        })
    });
    assert_eq!(handle.join().expect("thread"), 1275.0);
}

#[test]
fn get_caches_by_id_and_shares_module_state() {
    let loader = Loader::new(Config::default().threads(1)).expect("loader");
    let rt = runtime();
    let src = "let n = 0; export default { count() { return ++n } }";
    let mut callbacks = 0;
    for expected in 1..=3 {
        let w = loader
            .get("counter", || {
                callbacks += 1;
                esm(src)
            })
            .expect("valid");
        assert_eq!(
            returned(rt.block_on(w.entrypoint(None).call("count", 0))),
            json!(expected)
        );
    }
    assert_eq!(callbacks, 1);
}

#[test]
fn get_evicts_least_recently_used_workers_under_a_memory_budget() {
    // A budget smaller than two idle isolates keeps at most the newest one.
    let loader =
        Loader::new(Config::default().threads(1).cache_budget_bytes(256 << 10)).expect("loader");
    let rt = runtime();
    let src =
        "let n = 0; const big = 'x'.repeat(200000); export default { count() { return ++n } }";
    let mut loads = 0;
    for id in ["a", "b", "a"] {
        let w = loader
            .get(id, || {
                loads += 1;
                esm(src)
            })
            .expect("valid");
        rt.block_on(w.entrypoint(None).call("count", 0));
        rt.block_on(async { tokio::time::sleep(Duration::from_millis(10)).await });
    }
    assert_eq!(loads, 3, "\"a\" should have been evicted and re-created");
    assert!(loader.cached_workers() <= 2);
}
