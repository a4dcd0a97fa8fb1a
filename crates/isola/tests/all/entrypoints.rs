use isola::{HttpRequest, Outcome, Value};
use serde_json::json;

use crate::support::*;

const WORKER: &str = r#"
import { WorkerEntrypoint } from "cloudflare:workers";
export default {
  plain(arg, env, ctx) { return { arg, hasEnv: typeof env, props: ctx.props } },
  async fetch(request, env, ctx) {
    const body = await request.text();
    return new Response(`${request.method} ${new URL(request.url).pathname} ${body}`, { status: 201, headers: { "x-echo": request.headers.get("x-in") } });
  },
  fails() { throw new TypeError("child says no") },
};
export class Greeter extends WorkerEntrypoint {
  greet(a, b) { return `${a} ${b} from ${this.ctx.props.room} ${this.env.NAME}` }
  notAFunction = 1;
}
export const notHandler = 42;
"#;

fn worker() -> isola::Worker {
    loader()
        .load(esm(WORKER).env_value("NAME", "env"))
        .expect("valid")
}

#[test]
fn plain_object_gets_arg_env_ctx() {
    let w = worker();
    let run = runtime().block_on(w.entrypoint(None).props(json!({"p": 1})).call("plain", 7));
    assert_eq!(
        returned(run),
        json!({"arg": 7, "hasEnv": "object", "props": {"p": 1}})
    );
}

#[test]
fn class_entrypoint_gets_env_ctx_props_and_many_args() {
    let w = worker();
    let run = runtime().block_on(
        w.entrypoint(Some("Greeter"))
            .props(json!({"room": "r1"}))
            .call_with("greet", vec!["hello".into(), "world".into()]),
    );
    assert_eq!(returned(run), json!("hello world from r1 env"));
}

#[test]
fn fetch_handler_receives_a_request() {
    let w = worker();
    let request = HttpRequest {
        method: "POST".into(),
        url: "https://example.com/path?q=1".into(),
        headers: vec![("x-in".into(), "yes".into())],
        body: Some(b"payload".to_vec()),
        ..Default::default()
    };
    let run = runtime().block_on(w.entrypoint(None).fetch(request));
    let Outcome::Responded(response) = run.outcome else {
        panic!("{:?}", run.outcome)
    };
    assert_eq!(response.status, 201);
    assert_eq!(
        String::from_utf8_lossy(&response.body),
        "POST /path payload"
    );
    assert!(
        response.headers.contains(&("x-echo".into(), "yes".into())),
        "{:?}",
        response.headers
    );
}

#[test]
fn rpc_errors_match_workerd() {
    let w = worker();
    let rt = runtime();
    let e = threw(rt.block_on(w.entrypoint(Some("Nope")).call("x", 1)));
    assert_eq!(e.message, "Worker has no such entrypoint: Nope");
    let e = threw(rt.block_on(w.entrypoint(None).call("nope", 1)));
    assert_eq!(
        (e.name.as_str(), e.message.as_str()),
        (
            "TypeError",
            "The RPC receiver does not implement the method \"nope\"."
        )
    );
    let e = threw(rt.block_on(w.entrypoint(None).call("toString", 1)));
    assert_eq!(
        e.message,
        "The RPC receiver does not implement the method \"toString\"."
    );
    let e = threw(rt.block_on(w.entrypoint(Some("Greeter")).call("notAFunction", 1)));
    assert_eq!(
        e.message,
        "The RPC receiver does not implement the method \"notAFunction\"."
    );
    let e = threw(
        rt.block_on(
            w.entrypoint(None)
                .call_with("plain", vec![Value::from(1), Value::from(2)]),
        ),
    );
    assert_eq!(e.name, "TypeError");
    assert!(
        e.message.starts_with(
            "Attempted to call RPC function \"plain\" with the wrong number of arguments."
        ),
        "{}",
        e.message
    );
    assert!(
        e.message.ends_with(
            "the server must use class-based syntax (extending WorkerEntrypoint) instead."
        ),
        "{}",
        e.message
    );
    let e = threw(rt.block_on(w.entrypoint(Some("notHandler")).call("x", 1)));
    assert!(
        e.message
            .contains("Incorrect type for map entry 'notHandler'"),
        "{}",
        e.message
    );
    let e = threw(rt.block_on(w.entrypoint(Some("Greeter")).call("fetch", 1)));
    assert_eq!(
        e.message,
        "'fetch' is a reserved method and cannot be called over RPC."
    );
}

#[test]
fn thrown_errors_keep_class_message_and_guest_stack() {
    let e = threw(runtime().block_on(worker().entrypoint(None).call("fails", 1)));
    assert_eq!(e.name, "TypeError");
    assert_eq!(e.message, "child says no");
    let stack = e.stack.expect("a stack");
    assert!(stack.contains("agent.js:"), "{stack}");
    assert!(
        !stack.contains("/work") && !stack.contains(".rs"),
        "host paths leaked: {stack}"
    );
}

#[test]
fn module_state_is_shared_within_a_worker_not_between_loads() {
    let src = "let n = 0; export default { count() { return ++n } }";
    let rt = runtime();
    let a = loader().load(esm(src)).expect("valid");
    assert_eq!(
        returned(rt.block_on(a.entrypoint(None).call("count", 0))),
        json!(1)
    );
    assert_eq!(
        returned(rt.block_on(a.entrypoint(None).call("count", 0))),
        json!(2)
    );
    let b = loader().load(esm(src)).expect("valid");
    assert_eq!(
        returned(rt.block_on(b.entrypoint(None).call("count", 0))),
        json!(1)
    );
}
