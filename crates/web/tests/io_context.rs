//! An I/O object of one call (its streamed request body) is driven only by
//! code acting for that call, as workerd's "Cannot perform I/O on behalf of
//! a different request". The isolate is driven by hand: several calls in
//! flight, ops answered inline, timers fired in order.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use isola_engine::*;

const DIFFERENT_REQUEST: &str = "Cannot perform I/O on behalf of a different request";

fn budget() -> Budget {
    Budget::new(
        Duration::from_millis(500),
        Instant::now() + Duration::from_secs(5),
    )
}

/// An isolate of one module, with a binding `HOST` that echoes.
fn isolate(code: &str) -> Isolate {
    let source = WorkerSource::new(
        Some("2026-03-01"),
        &[],
        "worker.js",
        vec![("worker.js".to_owned(), ModuleSpec::Esm(code.to_owned()))],
    )
    .expect("valid code");
    let config = IsolateConfig {
        env: vec![("HOST".into(), EnvEntry::Binding)],
        ..Default::default()
    };
    Isolate::new(platform(), Arc::new(source), &config).expect("isolate")
}

/// A fetch whose body arrives through `RequestChunk` ops.
fn fetch(id: CallId, path: &str) -> CallSpec {
    CallSpec {
        id,
        entrypoint: None,
        kind: CallKind::Fetch(HttpRequest {
            method: "POST".into(),
            url: format!("http://worker{path}"),
            ..Default::default()
        }),
        props: Value::Null,
        stream: false,
        stream_request: true,
    }
}

/// What the host saw: which calls' bodies were read, and how calls settled.
#[derive(Default)]
struct Host {
    /// Chunks served so far, by call.
    chunks: HashMap<CallId, usize>,
    settled: HashMap<CallId, CallResult>,
    timers: Vec<TimerId>,
}

impl Host {
    /// Answers ops and collects results until nothing is left but timers.
    fn run(&mut self, isolate: &mut Isolate) {
        loop {
            let mut progressed = false;
            for effect in isolate.take_effects() {
                match effect {
                    Effect::Op { id, request } => {
                        let answer = match request {
                            // Each body is one chunk naming its call.
                            OpRequest::RequestChunk { call } => {
                                let served = self.chunks.entry(call).or_default();
                                *served += 1;
                                if *served == 1 {
                                    OpResult::Value(Value::TypedArray {
                                        kind: TypedArrayKind::Uint8Array,
                                        bytes: format!("body of {call}").into_bytes(),
                                    })
                                } else {
                                    OpResult::Value(Value::Null)
                                }
                            }
                            OpRequest::Binding { method, .. } => {
                                OpResult::Value(Value::String(method))
                            }
                            other => panic!("unexpected op {other:?}"),
                        };
                        isolate
                            .complete_op(id, answer, budget())
                            .expect("op answered");
                        progressed = true;
                    }
                    Effect::CallSettled { call, result } => {
                        self.settled.insert(call, result);
                    }
                    Effect::Timer { id, .. } => self.timers.push(id),
                    Effect::CancelTimer { id } => self.timers.retain(|t| *t != id),
                    Effect::Log { .. }
                    | Effect::CallFinished { .. }
                    | Effect::LoadWorker { .. }
                    | Effect::ReleaseWorker { .. } => {}
                }
            }
            if !progressed {
                return;
            }
        }
    }

    /// Runs everything, firing timers in order.
    fn finish(&mut self, isolate: &mut Isolate) {
        self.run(isolate);
        while !self.timers.is_empty() {
            let id = self.timers.remove(0);
            isolate.fire_timer(id, budget()).expect("timer fired");
            self.run(isolate);
        }
    }

    fn body(&self, call: CallId) -> String {
        match &self.settled.get(&call) {
            Some(CallResult::Response(response)) => {
                String::from_utf8_lossy(&response.body).into_owned()
            }
            other => panic!("call {call}: {other:?}"),
        }
    }
}

/// Call 1 parks (its request stashed); call 2 then acts on it.
const STASH: &str = r#"
let stashed;
let release;
const parked = new Promise((r) => { release = r; });
export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === "/park") {
      stashed = request;
      await parked;
      return new Response(await request.text());
    }
    try {
      if (path === "/read-stashed") return new Response(await stashed.text());
      if (path === "/read-stashed-later") {
        await env.HOST.wait();
        return new Response(await stashed.text());
      }
      if (path === "/read-stashed-in-timer") {
        return await new Promise((resolve, reject) => setTimeout(() => {
          stashed.text().then((t) => resolve(new Response(t)), reject);
        }, 1));
      }
      if (path === "/read-stashed-in-microtask") {
        return await new Promise((resolve, reject) => queueMicrotask(() => {
          stashed.text().then((t) => resolve(new Response(t)), reject);
        }));
      }
      return new Response(await request.text());
    } catch (e) {
      return new Response(`${e.name}: ${e.message}`);
    } finally {
      release();
    }
  },
};
"#;

fn another_calls_body_is_refused(path: &str) {
    let mut isolate = isolate(STASH);
    let mut host = Host::default();
    isolate.call(fetch(1, "/park"), budget()).expect("call 1");
    host.run(&mut isolate);
    isolate.call(fetch(2, path), budget()).expect("call 2");
    host.finish(&mut isolate);
    let refused = host.body(2);
    assert!(
        refused.starts_with(&format!("Error: {DIFFERENT_REQUEST}")),
        "{path}: {refused}"
    );
    assert!(refused.contains("(I/O type: request body)"), "{refused}");
    // The refused read reached the host for neither call. It disturbed the
    // body (a stream whose source fails is errored), so its owner is told
    // the body was used: the stream errs, nothing waits on it forever.
    assert!(host.chunks.is_empty(), "{path}");
    match host.settled.get(&1) {
        Some(CallResult::Threw(error)) => {
            assert!(error.message.contains("already been used"), "{error:?}");
        }
        other => panic!("{path}: call 1 {other:?}"),
    }
}

#[test]
fn a_call_cannot_read_another_calls_request_body() {
    another_calls_body_is_refused("/read-stashed");
}

#[test]
fn nor_after_an_op_of_its_own_is_answered() {
    another_calls_body_is_refused("/read-stashed-later");
}

#[test]
fn nor_from_a_timer_it_armed() {
    another_calls_body_is_refused("/read-stashed-in-timer");
}

#[test]
fn nor_from_a_microtask_it_queued() {
    another_calls_body_is_refused("/read-stashed-in-microtask");
}

/// The other way round: a call whose continuation another call's code
/// resumes (by settling a promise it awaits) still acts for itself.
#[test]
fn a_call_resumed_by_another_call_still_reads_its_own_body() {
    let code = r#"
let release;
const gate = new Promise((r) => { release = r; });
export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname === "/wait") {
      await gate;
      await env.HOST.tick();
      await new Promise((r) => setTimeout(r, 1));
      return new Response(await request.text());
    }
    release();
    return new Response("released");
  },
};
"#;
    let mut isolate = isolate(code);
    let mut host = Host::default();
    isolate.call(fetch(1, "/wait"), budget()).expect("call 1");
    host.run(&mut isolate);
    isolate.call(fetch(2, "/go"), budget()).expect("call 2");
    host.finish(&mut isolate);
    assert_eq!(host.body(2), "released");
    assert_eq!(host.body(1), "body of 1");
}

/// A stream read at module scope, after the call that made it, acts for
/// no call: refused too.
#[test]
fn a_body_read_from_a_timer_armed_at_module_scope_is_refused() {
    let code = r#"
let stashed;
let outcome = "not yet";
setTimeout(function poll() {
  if (!stashed) return setTimeout(poll, 1);
  stashed.text().then((t) => { outcome = t; }, (e) => { outcome = e.message; });
}, 1);
export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname === "/stash") {
      stashed = request;
      return new Response("stashed");
    }
    return new Response(outcome);
  },
};
"#;
    let mut isolate = isolate(code);
    let mut host = Host::default();
    isolate.call(fetch(1, "/stash"), budget()).expect("call 1");
    host.finish(&mut isolate);
    assert_eq!(host.body(1), "stashed");
    isolate
        .call(fetch(2, "/outcome"), budget())
        .expect("call 2");
    host.finish(&mut isolate);
    assert!(
        host.body(2).starts_with(DIFFERENT_REQUEST),
        "{}",
        host.body(2)
    );
    assert!(host.chunks.is_empty());
}

/// The engine's own extensions and the web platform, composed once.
fn platform() -> &'static isola_engine::Platform {
    static PLATFORM: std::sync::OnceLock<&'static isola_engine::Platform> =
        std::sync::OnceLock::new();
    PLATFORM.get_or_init(|| {
        isola_engine::Platform::new(&[&isola_web::WEB_PLATFORM]).expect("extensions compose")
    })
}
