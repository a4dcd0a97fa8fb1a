//! RPC between isolates by reference: functions and `RpcTarget` instances
//! passed as RPC arguments become stubs the callee calls back through
//! (loader-behaviour.md, "Entrypoints and RPC"), in both directions, and
//! service bindings in a child's env answer `fetch()` as well as methods.

use isola::{Value, WorkerCode};
use serde_json::json;

use crate::support::*;

/// A parent whose default `go(arg, env, ctx)` runs `body`; `child(src,
/// env)` builds one-module child code and `err(p)` renders a rejection.
fn parent(classes: &str, body: &str) -> WorkerCode {
    esm(&format!(
        r#"import {{ WorkerEntrypoint, RpcTarget }} from "cloudflare:workers";
        {classes}
        const child = (src, env = {{}}) => ({{ compatibilityDate: "2026-03-01", mainModule: "agent.js", modules: {{ "agent.js": src }}, env }});
        const err = async (p) => {{ try {{ await p; return "resolved"; }} catch (e) {{ return `${{e.name}}: ${{e.message}} remote=${{e.remote}}`; }} }};
        const syncErr = (f) => {{ try {{ f(); return "ok"; }} catch (e) {{ return `${{e.name}}: ${{e.message}}`; }} }};
        export default {{ async go(arg, env, ctx) {{ {body} }} }}"#
    ))
    .worker_loader("LOADER")
}

fn go(code: WorkerCode) -> serde_json::Value {
    returned(call(code, "go", Value::Null))
}

#[test]
fn functions_passed_as_arguments_are_called_back_both_ways() {
    let out = go(parent(
        "",
        r#"
        const src = `export default { async run(f) {
            const sum = await f(2, 3);
            // The parent's callback receives a function of ours and calls it.
            const twice = await f(10, (x) => x * 2);
            return { sum, twice, kind: typeof f, thenable: typeof f.then };
          } }`;
        const seen = [];
        const cb = async (a, b) => {
          seen.push(typeof b);
          return typeof b === "function" ? await b(a) + 1 : a + b;
        };
        const out = await env.LOADER.load(child(src)).getEntrypoint().run(cb);
        return { ...out, seen };"#,
    ));
    assert_eq!(
        out,
        json!({"sum": 5, "twice": 21, "kind": "function", "thenable": "undefined", "seen": ["number", "function"]})
    );
}

#[test]
fn an_rpc_target_dispatches_tool_calls_as_code_mode_does() {
    // The shape of @cloudflare/codemode's DynamicWorkerExecutor: a
    // ToolDispatcher (an RpcTarget) handed to the child's evaluate().
    let out = go(parent(
        r#"class ToolDispatcher extends RpcTarget {
             #fns; constructor(fns) { super(); this.#fns = fns; this.secret = () => "own"; }
             async call(name, argsJson) {
               const fn = this.#fns[name];
               if (!fn) return JSON.stringify({ error: `Tool "${name}" not found` });
               return JSON.stringify({ result: await fn(JSON.parse(argsJson)) });
             }
           }"#,
        r#"
        const src = `import { WorkerEntrypoint } from "cloudflare:workers";
          export default class Executor extends WorkerEntrypoint {
            async evaluate(dispatcher) {
              const codemode = new Proxy({}, { get: (_, name) => async (args) => JSON.parse(await dispatcher.call(String(name), JSON.stringify(args))) });
              const [a, b] = await Promise.all([codemode.add({ a: 1, b: 2 }), codemode.missing({})]);
              let own; try { await dispatcher.secret(); } catch (e) { own = e.name + ": " + e.message; }
              let proto; try { await dispatcher.toString(); } catch (e) { proto = e.name + ": " + e.message; }
              return { a, b, own, proto };
            }
          }`;
        const dispatcher = new ToolDispatcher({ add: ({ a, b }) => a + b });
        return await env.LOADER.load(child(src)).getEntrypoint().evaluate(dispatcher);"#,
    ));
    assert_eq!(out["a"], json!({"result": 3}));
    assert_eq!(out["b"], json!({"error": "Tool \"missing\" not found"}));
    assert_eq!(
        out["own"],
        json!("TypeError: The RPC receiver does not implement the method \"secret\"."),
        "own instance properties are not RPC methods"
    );
    assert_eq!(
        out["proto"],
        json!("TypeError: The RPC receiver does not implement the method \"toString\".")
    );
}

#[test]
fn errors_thrown_by_a_callback_keep_their_class_and_are_remote() {
    let out = go(parent(
        "",
        r#"
        const src = `export default { async run(f) {
            try { await f(); return "no error"; } catch (e) { return [e.name, e.message, e.remote === true]; }
          } }`;
        const inner = await env.LOADER.load(child(src)).getEntrypoint().run(() => { throw new RangeError("callback says no"); });
        // The child rethrows nothing here; a rejection from the child itself is remote too.
        const outer = await err(env.LOADER.load(child("export default { run(f) { return f(); } }")).getEntrypoint().run(() => { throw new TypeError("deep"); }));
        return { inner, outer };"#,
    ));
    assert_eq!(
        out["inner"],
        json!(["RangeError", "callback says no", true])
    );
    assert_eq!(out["outer"], json!("TypeError: deep remote=true"));
}

#[test]
fn a_stub_kept_past_its_call_is_disposed() {
    let out = go(parent(
        "",
        r#"
        const src = `let kept; export default {
            keep(f) { kept = f; return "kept"; },
            async later(_) { try { await kept(); return "called"; } catch (e) { return e.name + ": " + e.message; } },
          }`;
        const w = env.LOADER.load(child(src)).getEntrypoint();
        let calls = 0;
        const first = await w.keep(() => ++calls);
        const second = await w.later(null);
        return { first, second, calls };"#,
    ));
    assert_eq!(
        out,
        json!({"first": "kept", "second": "Error: RPC stub used after being disposed.", "calls": 0})
    );
}

#[test]
fn rpc_references_are_refused_where_only_data_may_go() {
    let out = go(parent(
        "class Target extends RpcTarget { hi() { return 1; } }",
        r#"
        return {
          target: syncErr(() => env.LOADER.load(child("export default {}", { T: new Target() }))),
          nested: syncErr(() => env.LOADER.load(child("export default {}", { deep: { T: [new Target()] } }))),
          fn: syncErr(() => env.LOADER.load(child("export default {}", { F: () => 1 }))),
          result: await err(env.LOADER.load(child("export default { f(_) { return () => 1; } }")).getEntrypoint().f(0)),
        };"#,
    ));
    assert_eq!(
        out["target"],
        json!("DataCloneError: Remote RPC references can only be serialized for RPC.")
    );
    assert_eq!(out["nested"], out["target"]);
    assert_eq!(
        out["fn"],
        json!("DataCloneError: () => 1 could not be cloned.")
    );
    assert_eq!(
        out["result"],
        json!("DataCloneError: () => 1 could not be cloned. remote=true")
    );
}

#[test]
fn children_pass_callbacks_to_parent_services_and_fetch_them() {
    let out = go(parent(
        r#"export class Room extends WorkerEntrypoint {
             async subscribe(listener) {
               const a = await listener(`${this.ctx.props.room}:first`);
               const b = await listener(`${this.ctx.props.room}:second`);
               return [a, b];
             }
             async fetch(request) {
               return new Response(`${this.ctx.props.room} ${request.method} ${new URL(request.url).pathname} ${await request.text()}`, { status: 201, headers: { "x-room": this.ctx.props.room } });
             }
           }"#,
        r#"
        const src = `export default { async run(_, env) {
            const heard = [];
            const acks = await env.ROOM.subscribe((message) => { heard.push(message); return heard.length; });
            const response = await env.ROOM.fetch("https://room.internal/post", { method: "POST", body: "hello" });
            return { heard, acks, status: response.status, header: response.headers.get("x-room"), body: await response.text() };
          } }`;
        return await env.LOADER.load(child(src, { ROOM: ctx.exports.Room({ props: { room: "r1" } }) })).getEntrypoint().run(0);"#,
    ));
    assert_eq!(
        out,
        json!({
            "heard": ["r1:first", "r1:second"],
            "acks": [1, 2],
            "status": 201,
            "header": "r1",
            "body": "r1 POST /post hello",
        })
    );
}

#[test]
fn a_received_stub_can_be_passed_on() {
    // The parent's function travels to the child, which hands it back to a
    // parent service: the parent ends up calling its own function through
    // two stubs.
    let out = go(parent(
        r#"export class Relay extends WorkerEntrypoint { async relay(f, x) { return await f(x) * 10; } }"#,
        r#"
        const src = `export default { async run(f, env) { return await env.RELAY.relay(f, 4); } }`;
        return await env.LOADER.load(child(src, { RELAY: ctx.exports.Relay() })).getEntrypoint().run((x) => x + 1);"#,
    ));
    assert_eq!(out, json!(50));
}

#[test]
fn ctx_exports_stubs_are_callable_in_the_worker_itself() {
    let out = go(parent(
        r#"export class Greeter extends WorkerEntrypoint {
             greet(name) { return `${this.ctx.props.greeting}, ${name}`; }
             async each(items, f) { const out = []; for (const item of items) out.push(await f(item)); return out; }
             fetch(request) { return new Response(`${this.ctx.props.greeting} from fetch ${new URL(request.url).pathname}`); }
           }"#,
        r#"
        const greeter = ctx.exports.Greeter({ props: { greeting: "hi" } });
        const response = await greeter.fetch("https://self.internal/path");
        return {
          greet: await greeter.greet("ada"),
          each: await greeter.each([1, 2], (n) => n * 3),
          fetched: await response.text(),
          missing: await err(greeter.nope()),
        };"#,
    ));
    assert_eq!(
        out,
        json!({
            "greet": "hi, ada",
            "each": [3, 6],
            "fetched": "hi from fetch /path",
            "missing": "TypeError: The RPC receiver does not implement the method \"nope\". remote=true",
        })
    );
}

/// A stub belongs to the call that received it: another call in flight in
/// the same isolate cannot call it (workerd's "Cannot perform I/O on behalf
/// of a different request"), while the receiving call still can.
#[test]
fn a_stub_is_usable_only_by_the_call_that_received_it() {
    let out = go(parent(
        "",
        r#"
        const src = `import { WorkerEntrypoint } from "cloudflare:workers";
          let kept; let release; const gate = new Promise((r) => { release = r; });
          export class E extends WorkerEntrypoint {
            async keep(cb) { kept = cb; await gate; return await cb("by its own call"); }
            async use() {
              try { return await kept("by another call"); }
              catch (e) { return e.message; }
              finally { release(); }
            }
          }`;
        const e = env.LOADER.load(child(src)).getEntrypoint("E");
        const keeping = e.keep(async (who) => `called ${who}`);
        await new Promise((r) => setTimeout(r, 20));
        const used = await e.use();
        return { used, kept: await keeping };"#,
    ));
    assert_eq!(out["kept"], json!("called by its own call"));
    let used = out["used"].as_str().expect("a message");
    assert!(
        used.starts_with("Cannot perform I/O on behalf of a different request.")
            && used.ends_with("(I/O type: RPC stub)"),
        "{used}"
    );
}

/// A function passed out and called back runs as the call that passed it
/// out (as in workerd): the stubs that call received stay usable in it.
#[test]
fn a_callback_runs_as_the_call_that_passed_it_out() {
    let out = go(parent(
        r#"export class Relay extends WorkerEntrypoint { async relay(f, x) { return await f(x) * 10; } }"#,
        r#"
        const src = `export default { async run(f, env) {
            return await env.RELAY.relay(async (x) => { console.log("in the callback"); return await f(x); }, 4);
          } }`;
        return await env.LOADER.load(child(src, { RELAY: ctx.exports.Relay() })).getEntrypoint().run((x) => x + 1);"#,
    ));
    assert_eq!(out, json!(50));
}
