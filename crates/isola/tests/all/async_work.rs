use std::sync::{Arc, Mutex};
use std::time::Duration;

use isola::{Value, binding_fn};
use serde_json::json;

use crate::support::*;

#[test]
fn timers_intervals_and_microtasks() {
    let code = esm(r#"export default { async go() {
        const order = [];
        queueMicrotask(() => order.push("micro"));
        setTimeout(() => order.push("t20"), 20);
        const cancelled = setTimeout(() => order.push("never"), 5); clearTimeout(cancelled);
        await new Promise(r => setTimeout(() => { order.push("t5"); r() }, 5));
        let n = 0;
        await new Promise(r => { const id = setInterval(() => { order.push("i" + ++n); if (n === 3) { clearInterval(id); r() } }, 1) });
        await new Promise(r => setTimeout(r, 30));
        return order } }"#);
    assert_eq!(
        returned(call(code, "go", Value::Null)),
        json!(["micro", "t5", "i1", "i2", "i3", "t20"])
    );
}

#[test]
fn many_host_calls_in_flight_at_once() {
    let code = esm(r#"export default { async go(_, env) {
        const results = await Promise.all(Array.from({ length: 200 }, (_, i) => env.SLOW.echo(i)));
        return results.reduce((a, b) => a + b, 0) } }"#)
    .env_binding(
        "SLOW",
        binding_fn(|_, args| async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(args.into_iter().next().unwrap_or(Value::Null))
        }),
    );
    // 200 calls of 20 ms each finish well within the 30 s default wall limit
    // only if they run concurrently; the sum proves every one answered.
    assert_eq!(returned(call(code, "go", Value::Null)), json!(19900));
}

#[test]
fn wait_until_work_finishes_before_the_isolate_is_disposed() {
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = log.clone();
    let code = esm(r#"export default { go(_, env, ctx) {
        ctx.waitUntil(new Promise(r => setTimeout(r, 50)).then(() => env.LOG.write("after")));
        return "returned first" } }"#)
    .env_binding(
        "LOG",
        binding_fn(move |_, args| {
            let sink = sink.clone();
            async move {
                sink.lock().expect("lock").push(format!("{args:?}"));
                Ok(Value::Null)
            }
        }),
    );
    let worker = loader().load(code).expect("valid");
    let rt = runtime();
    let run = rt.block_on(worker.entrypoint(None).call("go", Value::Null));
    assert_eq!(returned(run), json!("returned first"));
    drop(worker);
    rt.block_on(async { tokio::time::sleep(Duration::from_millis(300)).await });
    assert_eq!(
        log.lock().expect("lock").len(),
        1,
        "waitUntil work was cut short"
    );
}
