//! Dynamic workers through `env.LOADER`, with Cloudflare's JavaScript API,
//! checked against workerd's messages, message for message.

use isola::{HttpResponse, Outbound, Value, WorkerCode, outbound_fn};
use serde_json::json;

use crate::support::*;

/// A parent worker with a Worker Loader binding; `body` is the inside of
/// its async `go(arg)` method, with `env` and a `child(src, extra)` helper
/// that builds code for a one-module child.
fn parent(body: &str) -> WorkerCode {
    esm(&format!(
        r#"const child = (src, extra = {{}}) => ({{ compatibilityDate: "2026-03-01", mainModule: "agent.js", modules: {{ "agent.js": src }}, ...extra }});
        const err = async (p) => {{ try {{ await p; return "resolved"; }} catch (e) {{ return `${{e.name}}: ${{e.message}}`; }} }};
        const syncErr = (f) => {{ try {{ f(); return "ok"; }} catch (e) {{ return `${{e.name}}: ${{e.message}}`; }} }};
        export default {{ async go(arg, env) {{ {body} }} }}"#
    ))
    .worker_loader("LOADER")
}

fn go(code: WorkerCode) -> serde_json::Value {
    returned(call(code, "go", Value::Null))
}

#[test]
fn load_then_rpc_with_props_and_shared_state_per_stub() {
    let out = go(parent(
        r#"
        const src = `import { WorkerEntrypoint } from "cloudflare:workers";
          let count = 0;
          export default { bump(n) { count += n; return count; } };
          export class Room extends WorkerEntrypoint { post(a, b) { return [a, b, this.ctx.props, navigator.userAgent]; } }`;
        const w = env.LOADER.load(child(src));
        const first = await w.getEntrypoint().bump(1);
        const second = await w.getEntrypoint("default").bump(2);
        const other = await env.LOADER.load(child(src)).getEntrypoint().bump(5);
        const room = await w.getEntrypoint("Room", { props: { room: "r1" } }).post("x", 2);
        return { first, second, other, room, thenable: typeof w.getEntrypoint().then };"#,
    ));
    assert_eq!(
        out,
        json!({"first": 1, "second": 3, "other": 5, "room": ["x", 2, {"room": "r1"}, "Cloudflare-Workers"], "thenable": "undefined"})
    );
}

#[test]
fn get_runs_the_callback_only_on_a_miss_and_reports_its_errors_at_the_first_call() {
    let out = go(parent(
        r#"
        let runs = 0;
        const src = `let n = 0; export default { next() { return ++n; } };`;
        const cb = async () => { runs++; return child(src); };
        const a = await env.LOADER.get("counter", cb).getEntrypoint().next(1);
        const b = await env.LOADER.get("counter", cb).getEntrypoint().next(1);
        const fresh = await env.LOADER.get(null, cb).getEntrypoint().next(1);
        const failing = env.LOADER.get("broken", () => { throw new Error("Code loader failed!"); });
        const rejected = await err(failing.getEntrypoint().next(1));
        const badShape = await err(env.LOADER.get("bad", () => ({ compatibilityDate: "2026-03-01", mainModule: "a.js", modules: {} })).getEntrypoint().x());
        return { a, b, fresh, runs, rejected, badShape };"#,
    ));
    assert_eq!(out["a"], json!(1));
    assert_eq!(out["b"], json!(2), "the same name shares one isolate");
    assert_eq!(out["fresh"], json!(1));
    assert_eq!(
        out["runs"],
        json!(2),
        "the callback ran for the miss and for null only"
    );
    assert_eq!(out["rejected"], json!("Error: Code loader failed!"));
    assert_eq!(
        out["badShape"],
        json!("TypeError: Dynamic Worker code must contain at least one module.")
    );
}

#[test]
fn load_throws_shape_errors_synchronously_with_workerds_messages() {
    let out = go(parent(
        r#"
        const load = (code) => syncErr(() => env.LOADER.load(code));
        return [
          load({ mainModule: "a.js", modules: { "a.js": "" } }),
          load(child("", { compatibilityFlags: ["no_such_flag"] })),
          load({ compatibilityDate: "2999-01-01", mainModule: "a.js", modules: { "a.js": "" } }),
          load({ compatibilityDate: "2026-03-01", mainModule: "a.js", modules: {} }),
          load({ compatibilityDate: "2026-03-01", mainModule: "a.js", modules: { "a.js": { js: "", text: "" } } }),
          load({ compatibilityDate: "2026-03-01", mainModule: "a.txt", modules: { "a.txt": "x" } }),
          load({ compatibilityDate: "2026-03-01", mainModule: "a.js", modules: { "a.js": "" }, allowExperimental: true }),
          load(child("", { env: { f: () => 1 } })),
          load(child("export default { hi() { return 1 } }")),
        ];"#,
    ));
    let messages: Vec<String> = out
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        .collect();
    assert!(
        messages[0].ends_with("Invalid compatibility date: undefined"),
        "{messages:?}"
    );
    assert!(
        messages[1].ends_with("No such compatibility flag: no_such_flag"),
        "{messages:?}"
    );
    assert!(
        messages[2].contains("This Worker requires compatibility date \"2999-01-01\", but the newest date supported by this server binary is \""),
        "{messages:?}"
    );
    assert!(
        messages[3].ends_with("Dynamic Worker code must contain at least one module."),
        "{messages:?}"
    );
    assert!(
        messages[4].ends_with("Each module must contain exactly one of 'js', 'cjs', 'text', 'data', 'json', 'py', or 'wasm'. Module 'a.js' contained 2 properties."),
        "{messages:?}"
    );
    assert!(
        messages[5].contains("Module name must end with '.js' or '.py' (or the content must be an object indicating the type explicitly). Got: a.txt."),
        "{messages:?}"
    );
    assert!(
        messages[6].ends_with("'allowExperimental' is only allowed when the calling worker has the 'experimental' compat flag set."),
        "{messages:?}"
    );
    assert!(messages[7].starts_with("DataCloneError"), "{messages:?}");
    assert_eq!(messages[8], "ok");
}

#[test]
fn modules_of_every_kind_and_typescript() {
    let out = go(parent(
        r#"
        const w = env.LOADER.load({ compatibilityDate: "2026-03-01", mainModule: "src/main.ts",
          modules: {
            "src/main.ts": `import cfg from "./cfg.json"; import text from "./t.txt"; import data from "./d.bin"; import lib from "./lib.cjs";
                            export default { run(x: number): unknown { return [cfg.a, text, new Uint8Array(data)[1], lib.twice(x)]; } };`,
            "src/cfg.json": { json: { a: [1] } },
            "src/t.txt": { text: "hello" },
            "src/d.bin": { data: new Uint8Array([7, 8]).buffer },
            "src/lib.cjs": { cjs: "module.exports = { twice: (x) => x * 2 };" },
          } });
        return await w.getEntrypoint().run(21);"#,
    ));
    assert_eq!(out, json!([[1], "hello", 8, 42]));
}

#[test]
fn startup_and_call_errors_reject_the_call() {
    let out = go(parent(
        r#"
        const ok = env.LOADER.load(child(`export default { a(x) { return x } }; export class C {}; export const plain = { f(x) { throw new TypeError("child says no") } }`));
        return {
          syntax: await err(env.LOADER.load(child("export default {")).getEntrypoint().x(1)),
          topLevel: await err(env.LOADER.load(child(`throw new Error("boom at top level")`)).getEntrypoint().x(1)),
          missingMain: await err(env.LOADER.load(child("", { mainModule: "nope.js" })).getEntrypoint().x(1)),
          noEntrypoint: await err(ok.getEntrypoint("Nope").a(1)),
          noMethod: await err(ok.getEntrypoint().nope(1)),
          arity: await err(ok.getEntrypoint().a(1, 2)),
          thrown: await (async () => { try { await ok.getEntrypoint("plain").f(1); } catch (e) { return [e.name, e.message, e.remote, e instanceof TypeError]; } })(),
          parentAlive: await ok.getEntrypoint().a("still here"),
        };"#,
    ));
    assert!(
        out["syntax"].as_str().is_some_and(|s| s
            .starts_with("Error: Failed to start Worker:\nUncaught SyntaxError:")
            && s.contains("at agent.js:1:")),
        "{out}"
    );
    assert!(
        out["topLevel"].as_str().is_some_and(|s| s.starts_with(
            "Error: Failed to start Worker:\nUncaught Error: boom at top level\n  at agent.js:1:"
        )),
        "{out}"
    );
    assert_eq!(
        out["missingMain"],
        json!("Error: Failed to start Worker:\nUncaught Error: No such module: nope.js")
    );
    assert!(
        out["noEntrypoint"]
            .as_str()
            .is_some_and(|s| s.ends_with("Worker has no such entrypoint: Nope")),
        "{out}"
    );
    assert_eq!(
        out["noMethod"],
        json!("TypeError: The RPC receiver does not implement the method \"nope\".")
    );
    assert!(
        out["arity"].as_str().is_some_and(|s| s
            .contains("Attempted to call RPC function \"a\" with the wrong number of arguments")),
        "{out}"
    );
    assert_eq!(
        out["thrown"],
        json!(["TypeError", "child says no", true, true])
    );
    assert_eq!(out["parentAlive"], json!("still here"));
}

#[test]
fn entrypoint_fetch_reaches_the_childs_fetch_handler() {
    let out = go(parent(
        r#"
        const w = env.LOADER.load(child(`export default { async fetch(req, env, ctx) {
            return new Response(req.method + " " + new URL(req.url).pathname + " " + (await req.text()) + " " + ctx.props?.who, { status: 201, headers: { "x-child": "1" } });
          } }`));
        const res = await w.getEntrypoint(undefined, { props: { who: "parent" } }).fetch("https://child.test/path", { method: "POST", body: "hi" });
        return [res.status, res.headers.get("x-child"), await res.text()];"#,
    ));
    assert_eq!(out, json!([201, "1", "POST /path hi parent"]));
}

#[test]
fn global_outbound_null_blocks_and_omitted_inherits_the_parents() {
    let handler = outbound_fn(|request| async move {
        Ok(HttpResponse::new(
            200,
            format!("parent outbound saw {}", request.url),
        ))
    });
    let out = returned(call(
        parent(
            r#"
            const src = `export default { async get() { try { return await (await fetch("https://up.test/x")).text(); } catch (e) { return e.message; } } }`;
            return {
              inherited: await env.LOADER.load(child(src)).getEntrypoint().get(1),
              blocked: await env.LOADER.load(child(src, { globalOutbound: null })).getEntrypoint().get(1),
            };"#,
        )
        .global_outbound(Outbound::Handler(handler)),
        "go",
        Value::Null,
    ));
    assert_eq!(
        out["inherited"],
        json!("parent outbound saw https://up.test/x")
    );
    assert_eq!(
        out["blocked"],
        json!(
            "This worker is not permitted to access the internet via global functions like fetch(). It must use capabilities (such as bindings in 'env') to talk to the outside world."
        )
    );
}

#[test]
fn limits_hold_lower_wins_and_the_parent_survives() {
    let out = go(parent(
        r#"
        const spin = `export default { spin() { const end = Date.now() + 2000; while (Date.now() < end) {} return "done"; }, ok() { return "ok"; } }`;
        const w = env.LOADER.load(child(spin, { limits: { cpuMs: 30 } }));
        const code = await err(w.getEntrypoint().spin(1));
        const entry = await err(env.LOADER.load(child(spin)).getEntrypoint(undefined, { limits: { cpuMs: 30 } }).spin(1));
        const fetches = `export default { async many() { for (let i = 0; i < 5; i++) { try { await fetch("https://x.test/") } catch {} } return "done"; } }`;
        const sub = await err(env.LOADER.load(child(fetches, { limits: { subRequests: 2 } })).getEntrypoint().many(1));
        return { code, entry, sub, after: await w.getEntrypoint().ok(1) };"#,
    ));
    assert_eq!(out["code"], json!("Error: Worker exceeded CPU time limit."));
    assert_eq!(
        out["entry"],
        json!("Error: Worker exceeded CPU time limit.")
    );
    assert_eq!(out["sub"], json!("Error: Too many subrequests."));
    assert_eq!(
        out["after"],
        json!("ok"),
        "a fresh isolate replaces the stopped one"
    );
}

#[test]
fn loaders_with_the_same_id_share_one_name_cache() {
    let body = r#"
        const w = env.LOADER.get("shared", () => child(`let n = 0; export default { next() { return ++n; } }`));
        return await w.getEntrypoint().next(1);"#;
    let with_id = |id: &str| {
        esm(&format!(
            r#"const child = (src) => ({{ compatibilityDate: "2026-03-01", mainModule: "agent.js", modules: {{ "agent.js": src }} }});
            export default {{ async go(arg, env) {{ {body} }} }}"#
        ))
        .worker_loader_with_id("LOADER", id)
    };
    assert_eq!(
        returned(call(with_id("team-a"), "go", Value::Null)),
        json!(1)
    );
    assert_eq!(
        returned(call(with_id("team-a"), "go", Value::Null)),
        json!(2)
    );
    assert_eq!(
        returned(call(with_id("team-b"), "go", Value::Null)),
        json!(1)
    );
    // Without an id, each binding has its own cache.
    let own = |_: ()| {
        esm(&format!(
            r#"const child = (src) => ({{ compatibilityDate: "2026-03-01", mainModule: "agent.js", modules: {{ "agent.js": src }} }});
            export default {{ async go(arg, env) {{ {body} }} }}"#
        ))
        .worker_loader("LOADER")
    };
    assert_eq!(returned(call(own(()), "go", Value::Null)), json!(1));
    assert_eq!(returned(call(own(()), "go", Value::Null)), json!(1));
}

#[test]
fn ctx_exports_loopbacks_let_children_call_back_with_props() {
    let code = esm(
        r#"import { WorkerEntrypoint } from "cloudflare:workers";
        export class ChatRoom extends WorkerEntrypoint { post(text, n) { return `${this.ctx.props.room}:${text}:${n}`; } }
        export class Audit extends WorkerEntrypoint { fail() { throw new RangeError("audit refused"); } }
        const child = (src, env) => ({ compatibilityDate: "2026-03-01", mainModule: "agent.js", modules: { "agent.js": src }, env });
        const err = (f) => { try { f(); return "ok"; } catch (e) { return `${e.name}: ${e.message}`; } };
        export default { async go(arg, env, ctx) {
          const src = `export default { async run(x, env) {
              const a = await env.ROOM_A.post("hi", 1);
              const b = await env.ROOM_B.post("yo", 2);
              let f; try { await env.AUDIT.fail(); } catch (e) { f = e.name + ": " + e.message; }
              return [a, b, f, env.PLAIN];
            } }`;
          const w = env.LOADER.load(child(src, {
            ROOM_A: ctx.exports.ChatRoom({ props: { room: "a" } }),
            ROOM_B: ctx.exports.ChatRoom({ props: { room: "b" } }),
            AUDIT: ctx.exports.Audit(),
            PLAIN: 7,
          }));
          return {
            calls: await w.getEntrypoint().run(1),
            bare: err(() => env.LOADER.load(child("export default {}", { X: ctx.exports.ChatRoom }))),
            keys: Object.keys(ctx.exports).sort(),
          };
        } }"#,
    )
    .worker_loader("LOADER");
    let out = returned(call(code, "go", Value::Null));
    assert_eq!(
        out["calls"],
        json!(["a:hi:1", "b:yo:2", "RangeError: audit refused", 7])
    );
    assert_eq!(
        out["bare"],
        json!(
            "DataCloneError: Could not serialize object of type \"LoopbackServiceStub\". This type does not support serialization."
        )
    );
    assert_eq!(out["keys"], json!(["Audit", "ChatRoom", "default"]));
}

#[test]
fn a_loopback_global_outbound_sees_every_child_fetch_and_adds_credentials() {
    // The real upstream (a host handler) echoes the request headers.
    let upstream = outbound_fn(|request| async move {
        let auth = request
            .headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map_or("none".to_owned(), |(_, v)| v.clone());
        Ok(HttpResponse::new(
            200,
            format!("{} auth={auth}", request.url),
        ))
    });
    let code = esm(
        r#"import { WorkerEntrypoint } from "cloudflare:workers";
        // The parent's outbound gate: allow one host, add the secret, redact it on the way back.
        export class Gate extends WorkerEntrypoint {
          async fetch(request) {
            const url = new URL(request.url);
            if (url.hostname !== this.ctx.props.allow) return new Response("blocked by parent", { status: 403 });
            const headers = new Headers(request.headers);
            headers.set("authorization", "Bearer sk-parent-secret");
            const upstream = await fetch(request.url, { headers });
            return new Response((await upstream.text()).replaceAll("sk-parent-secret", "[redacted]"), { status: upstream.status });
          }
        }
        export default { async go(arg, env, ctx) {
          const src = `export default { async run(_, env) {
              const ok = await fetch("https://api.test/v1", { headers: { authorization: "Bearer guess" } });
              const no = await fetch("https://evil.test/");
              return [ok.status, await ok.text(), no.status, await no.text(), typeof env.SECRET];
            } }`;
          const w = env.LOADER.load({ compatibilityDate: "2026-03-01", mainModule: "agent.js", modules: { "agent.js": src },
            globalOutbound: ctx.exports.Gate({ props: { allow: "api.test" } }) });
          return await w.getEntrypoint().run(1);
        } }"#,
    )
    .worker_loader("LOADER")
    .global_outbound(Outbound::Handler(upstream));
    let out = returned(call(code, "go", Value::Null));
    assert_eq!(
        out,
        json!([
            200,
            "https://api.test/v1 auth=Bearer [redacted]",
            403,
            "blocked by parent",
            "undefined"
        ])
    );
}

#[test]
fn tails_hear_of_every_run_with_outcome_logs_and_exceptions() {
    let code = esm(
        r#"import { WorkerEntrypoint } from "cloudflare:workers";
        const heard = [];
        export class Tail extends WorkerEntrypoint {
          tail(events) { for (const e of events) heard.push({ tag: this.ctx.props.tag, outcome: e.outcome, event: e.event, logs: e.logs.map((l) => `${l.level}:${l.message[0]}`), exceptions: e.exceptions.map((x) => `${x.name}: ${x.message}`), at: typeof e.eventTimestamp }); }
        }
        export default { async go(arg, env, ctx) {
          const src = `export default { ok(x) { console.log("working", x); return x; }, bad(x) { console.warn("about to fail"); throw new TypeError("nope " + x); } }`;
          const w = env.LOADER.load({ compatibilityDate: "2026-03-01", mainModule: "agent.js", modules: { "agent.js": src },
            tails: [ctx.exports.Tail({ props: { tag: "t1" } })] });
          await w.getEntrypoint().ok(1);
          try { await w.getEntrypoint().bad(2); } catch {}
          for (let i = 0; i < 50 && heard.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
          return heard;
        } }"#,
    )
    .worker_loader("LOADER");
    let out = returned(call(code, "go", Value::Null));
    assert_eq!(
        out,
        json!([
            {"tag": "t1", "outcome": "ok", "event": {"rpcMethod": "ok"}, "logs": ["log:working 1"], "exceptions": [], "at": "number"},
            {"tag": "t1", "outcome": "exception", "event": {"rpcMethod": "bad"}, "logs": ["warn:about to fail"], "exceptions": ["TypeError: nope 2"], "at": "number"}
        ])
    );
}

/// The loader's live workers once they have dropped to `at_most` (drivers
/// end on their own threads), or after two seconds, whatever they are then.
fn live_workers_settled(loader: &isola::Loader, at_most: usize) -> usize {
    let mut live = loader.live_workers();
    for _ in 0..400 {
        if live <= at_most {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
        live = loader.live_workers();
    }
    live
}

#[test]
fn children_are_released_when_their_stubs_become_unreachable() {
    let loader = isola::Loader::new(isola::Config::new().threads(1)).expect("loader");
    let parent = loader
        .load(
            esm(r#"let kept;
            export default {
              async spawn(n, env) {
                for (let i = 0; i < n; i++) {
                  const w = env.LOADER.load({ compatibilityDate: "2026-03-01", mainModule: "a.js", modules: { "a.js": "export default { id(x) { return x } }" } });
                  await w.getEntrypoint().id(i);
                }
                kept = env.LOADER.load({ compatibilityDate: "2026-03-01", mainModule: "a.js", modules: { "a.js": "export default { id(x) { return x } }" } });
                return await kept.getEntrypoint().id("kept");
              },
              async tick() { await new Promise((r) => setTimeout(r, 1)); return "tick"; },
              async useKept() { return await kept.getEntrypoint().id("still"); },
            }"#)
            .worker_loader("LOADER"),
        )
        .expect("parent loads");
    let rt = runtime();
    let entry = parent.entrypoint(None);
    assert_eq!(
        rt.block_on(entry.call("spawn", 20))
            .json()
            .expect("spawned"),
        json!("kept")
    );
    // The finalizers run as jobs at the parent's next activation.
    assert_eq!(
        rt.block_on(entry.call("tick", Value::Null))
            .json()
            .expect("tick"),
        json!("tick")
    );
    let live = live_workers_settled(&loader, 2);
    assert_eq!(
        live, 2,
        "the parent and the child it keeps; the 20 others are gone"
    );
    assert_eq!(
        rt.block_on(entry.call("useKept", Value::Null))
            .json()
            .expect("kept"),
        json!("still")
    );
    drop(entry);
    drop(parent);
    assert_eq!(
        live_workers_settled(&loader, 0),
        0,
        "dropping the parent releases its children"
    );
}

#[test]
fn dynamic_entrypoints_cannot_be_transferred_to_other_workers() {
    let out = go(parent(
        r#"
        const first = env.LOADER.load(child("export default { a(x) { return x } }")).getEntrypoint();
        return {
          env: syncErr(() => env.LOADER.load(child("export default {}", { env: { OTHER: first } }))),
          props: syncErr(() => env.LOADER.load(child("export default {}")).getEntrypoint(undefined, { props: { other: first } })),
          fine: await first.a("still callable"),
        };"#,
    ));
    let message = "DataCloneError: Entrypoints to dynamically-loaded workers cannot be transferred to other Workers, because the system does not know how to reload this Worker from scratch. Instead, have the parent Worker expose an entrypoint which constructs the dynamic worker and forwards to it.";
    assert_eq!(out["env"], json!(message));
    assert_eq!(out["props"], json!(message));
    assert_eq!(out["fine"], json!("still callable"));
}

#[test]
fn fresh_children_of_many_requests_are_all_released() {
    // The shape of `isola serve` with a fresh `load()` per request: children
    // on another executor thread, one fetch call per child.
    let loader = isola::Loader::new(isola::Config::new().threads(2)).expect("loader");
    let parent = loader
        .get("parent", || {
            esm(r#"export default {
              async fetch(request, env) {
                const w = env.LOADER.load({ compatibilityDate: "2026-03-01", mainModule: "a.js", modules: { "a.js": "export default { async myAgent(p) { return p.x + 1 } }" }, globalOutbound: null });
                return new Response(String(await w.getEntrypoint().myAgent({ x: 1 })));
              },
            }"#)
            .worker_loader("LOADER")
        })
        .expect("parent loads");
    let rt = runtime();
    for _ in 0..40 {
        let run = rt.block_on(parent.entrypoint(None).fetch(isola::HttpRequest {
            method: "GET".into(),
            url: "http://x/".into(),
            ..Default::default()
        }));
        assert!(
            matches!(run.outcome, isola::Outcome::Responded(_)),
            "{:?}",
            run.outcome
        );
    }
    let live = live_workers_settled(&loader, 1);
    assert!(
        live <= 2,
        "only the parent (and at most the last child) stay: {live}"
    );
}

#[test]
fn disposed_stubs_release_their_worker_and_refuse_calls() {
    let loader = isola::Loader::new(isola::Config::new().threads(1)).expect("loader");
    let parent = loader
        .load(
            esm(r#"const kept = [];
            const code = { compatibilityDate: "2026-03-01", mainModule: "a.js", modules: { "a.js":
              "export default { id(x) { return x }, async use(cb) { const a = await cb(1); cb[Symbol.dispose](); return [a, await cb(2).then(() => 'resolved', (e) => e.message)] } }" } };
            const outcome = (p) => p.then(() => "resolved", (e) => `${e.name}: ${e.message}`);
            export default {
              async go(_, env) {
                const out = {};
                {
                  using worker = env.LOADER.load(code);
                  using entry = worker.getEntrypoint();
                  out.inside = await entry.id("in");
                  out.callback = await entry.use((x) => x * 10);
                  kept.push(worker, entry);
                }
                const [worker, entry] = kept;
                out.call = await outcome(entry.id("x"));
                out.fetch = await outcome(entry.fetch("http://x/"));
                try { worker.getEntrypoint(); out.getEntrypoint = "ok"; } catch (e) { out.getEntrypoint = `${e.name}: ${e.message}`; }
                worker[Symbol.dispose]();
                entry[Symbol.dispose]();
                const other = env.LOADER.load(code);
                const otherEntry = other.getEntrypoint();
                kept.push(other, otherEntry);
                out.other = await otherEntry.id(2);
                otherEntry[Symbol.dispose]();
                other[Symbol.dispose]();
                return out;
              },
              async tick() { await new Promise((r) => setTimeout(r, 1)); return kept.length; },
            }"#)
            .worker_loader("LOADER"),
        )
        .expect("parent loads");
    let rt = runtime();
    let entry = parent.entrypoint(None);
    let disposed = "Error: RPC stub used after being disposed.";
    assert_eq!(
        rt.block_on(entry.call("go", Value::Null))
            .json()
            .expect("go"),
        json!({
            "inside": "in",
            "callback": [10, "RPC stub used after being disposed."],
            "call": disposed,
            "fetch": disposed,
            "getEntrypoint": disposed,
            "other": 2,
        })
    );
    assert_eq!(
        rt.block_on(entry.call("tick", Value::Null))
            .json()
            .expect("tick"),
        json!(4)
    );
    // Every stub is still reachable (`kept`), but disposed: only the parent
    // is left.
    let live = live_workers_settled(&loader, 1);
    assert_eq!(live, 1, "the disposed children are released");
}

/// A fresh worker's handle is the parent isolate's to choose, so `load`
/// answers nothing: what the host refuses reaches the stub's calls.
#[test]
fn a_fresh_load_the_host_refuses_rejects_every_call_of_its_stub() {
    let out = go(parent(
        r#"
        const w = env.LOADER.load(child("export default { hi() { return 1 } }", { env: { BIG: "x".repeat(1 << 20) } }));
        const first = await err(w.getEntrypoint().hi(1));
        const again = await err(w.getEntrypoint("Named").hi(1));
        const next = await env.LOADER.load(child("export default { hi() { return 2 } }")).getEntrypoint().hi(1);
        return { first, again, next };"#,
    ));
    let first = out["first"].as_str().expect("a message");
    assert!(
        first.starts_with("TypeError: Dynamic Worker env size ("),
        "{first}"
    );
    assert!(
        first.ends_with(" bytes) exceeds the maximum allowed size of 1048576 bytes."),
        "{first}"
    );
    assert_eq!(out["again"], out["first"]);
    assert_eq!(out["next"], json!(2), "the parent goes on loading");
}

/// The dynamic workers a parent holds count against its memory limit; when
/// its isolate is stopped, the handles it held go with it, so the isolate
/// that replaces it starts with the whole budget.
#[test]
fn children_held_by_a_stopped_isolate_are_let_go() {
    let code = esm(
        r#"
        const held = [];
        export default {
          async hold(_, env) {
            const w = env.LOADER.load({
              compatibilityDate: "2026-03-01",
              mainModule: "a.js",
              modules: { "a.js": "export default { hi() { return 1 } }", "pad.txt": { text: "x".repeat(6 << 20) } },
            });
            held.push(w);
            try { return await w.getEntrypoint().hi(1); } catch (e) { return `${e.name}: ${e.message}`; }
          },
          spin() { for (;;) {} },
        };"#,
    )
    .worker_loader("LOADER")
    .limits(isola::Limits {
        memory_bytes: 16 << 20,
        ..isola::Limits::default()
    });
    let worker = loader().load(code).expect("valid code");
    let rt = runtime();
    let hold = || rt.block_on(worker.entrypoint(None).call("hold", Value::Null));
    // One isolate: two children fit in 16 MiB, a third does not.
    assert_eq!(returned(hold()), json!(1));
    assert_eq!(returned(hold()), json!(1));
    let third = returned(hold());
    assert!(
        third.as_str().is_some_and(
            |m| m.starts_with("RangeError: isola: the dynamic workers this worker holds carry")
        ),
        "{third}"
    );
    // Loads past the budget keep failing as loads, never as the isolate.
    for _ in 0..3 {
        assert_eq!(returned(hold()), third);
    }
    // Each stopped isolate lets its children go.
    for round in 0..3 {
        let spun = rt.block_on(worker.entrypoint(None).call("spin", Value::Null));
        assert!(
            matches!(spun.outcome, isola::Outcome::CpuLimit),
            "{:?}",
            spun.outcome
        );
        assert_eq!(returned(hold()), json!(1), "round {round}");
    }
}
