//! Security catalogue item 4: realm and capability escapes.

use isola::Value;
use serde_json::json;

use crate::support::*;

/// The guest's global names, committed: a new global is a reviewed change.
const GLOBALS: &str = include_str!("globals.txt");

#[test]
fn guest_globals_equal_the_committed_allowlist() {
    let out = returned(call(
        esm(
            "export default { go() { return Object.getOwnPropertyNames(globalThis).sort().join('\\n') } }",
        ),
        "go",
        Value::Null,
    ));
    let actual = out.as_str().expect("string").to_owned();
    let expected = GLOBALS.trim();
    assert_eq!(
        actual, expected,
        "the guest's globals changed; review and update tests/all/globals.txt"
    );
    for forbidden in [
        "SharedArrayBuffer",
        "Atomics",
        "std",
        "os",
        "require",
        "process",
        "WebAssembly",
    ] {
        assert!(
            !actual.lines().any(|l| l == forbidden),
            "{forbidden} is visible"
        );
    }
}

#[test]
fn constructor_tricks_reach_only_the_sandbox_global() {
    let out = returned(call(
        esm(r#"export default { go(_, env) {
            const g1 = Function('return this')();
            const g2 = (0, eval)('this');
            const g3 = this.constructor.constructor('return globalThis')();
            let proc; try { proc = this.constructor.constructor('return process')() } catch (e) { proc = e.name }
            const b = env.B;
            return { same: g1 === globalThis && g2 === globalThis && g3 === globalThis, proc,
              bindingProto: Object.getPrototypeOf(b), bindingKeys: Object.keys(b),
              ctorGlobal: b.constructor.constructor('return this')() === globalThis,
              fnSource: String(b.anything) } } }"#)
        .env_binding("B", isola::binding_fn(|_, _| async { Ok(Value::Null) })),
        "go",
        Value::Null,
    ));
    assert_eq!(out["same"], json!(true));
    assert_eq!(out["proc"], json!("ReferenceError"));
    assert_eq!(out["bindingProto"], json!(null));
    assert_eq!(out["bindingKeys"], json!([]));
    assert_eq!(out["ctorGlobal"], json!(true));
    let source = out["fnSource"].as_str().expect("string");
    assert!(!source.contains('/') && !source.contains("rs"), "{source}");
}

#[test]
fn no_state_survives_between_loads() {
    let src = "export default { go() { const r = [globalThis.marker ?? null, ({}).polluted ?? null]; globalThis.marker = 1; Object.prototype.polluted = 1; return r } }";
    for _ in 0..3 {
        assert_eq!(
            returned(call(esm(src), "go", Value::Null)),
            json!([null, null])
        );
    }
}

#[test]
fn prototype_pollution_does_not_change_host_behaviour() {
    let out = returned(call(
        esm(r#"export default { async go(_, env) {
            Promise.prototype.then = function () { throw new Error("hijacked") };
            Object.defineProperty(Object.prototype, "then", { get() { throw new Error("getter") } });
            Array.prototype.push = () => { throw new Error("push") };
            Map.prototype.get = () => { throw new Error("map") };
            const v = await env.B.echo(41);
            return v + 1 } }"#)
        .env_binding("B", isola::binding_fn(|_, args| async move { Ok(args.into_iter().next().unwrap_or(Value::Null)) })),
        "go",
        Value::Null,
    ));
    assert_eq!(out, json!(42));
}

#[test]
fn math_random_is_seeded_per_isolate_and_clocks_are_coarse() {
    let src = "export default { go() { const t = performance.now(); return [Math.random(), Math.random(), Number.isInteger(t), Number.isInteger(Date.now())] } }";
    let a = returned(call(esm(src), "go", Value::Null));
    let b = returned(call(esm(src), "go", Value::Null));
    assert_ne!(a[0], b[0], "two isolates share a Math.random sequence");
    assert_eq!((a[2].clone(), a[3].clone()), (json!(true), json!(true)));
}

#[test]
fn no_bytecode_loading_or_blocking_atomics() {
    let out = returned(call(
        esm(
            "export default { go() { return [typeof SharedArrayBuffer, typeof Atomics, typeof WebAssembly] } }",
        ),
        "go",
        Value::Null,
    ));
    assert_eq!(out, json!(["undefined", "undefined", "undefined"]));
}

/// Stack frames of the runtime's own JavaScript sit under guest callbacks
/// (a getter read by `new Response`, a stream's `pull`, a header list's
/// iterator); no way of walking them hands out one of its functions.
#[test]
fn stack_frames_never_hand_out_internal_functions() {
    let out = returned(call(
        esm(r#"export default { async go() {
            const seen = [];
            let sloppyCallers = 0;
            const capture = () => {
                Error.prepareStackTrace = (_, sites) => sites;
                const sites = new Error().stack;
                Error.prepareStackTrace = undefined;
                for (const site of sites) {
                    seen.push(site.getFunction());
                    seen.push(Object.getPrototypeOf(site).getFunction.call(site));
                }
                return sites.length;
            };
            // A sloppy-mode callback: `arguments.callee.caller` must not
            // reach the caller either.
            const sloppy = Function('capture', 'return function () { try { if (arguments.callee.caller) return 1 } catch (e) {} return 0 }')(capture);
            let depth = 0;
            new Response('x', { get statusText() { depth = capture(); sloppyCallers += sloppy(); return 'OK' } });
            new Headers({ get a() { capture(); return 'b' } });
            const stream = new ReadableStream({ pull(c) { capture(); sloppyCallers += sloppy(); c.enqueue(new Uint8Array(1)); c.close() } });
            await new Response(stream).arrayBuffer();
            new TextDecoder('utf-8', { get fatal() { capture(); return false } });
            return { depth, captured: seen.length, functions: seen.filter(f => f !== undefined).length, sloppyCallers };
        } }"#),
        "go",
        Value::Null,
    ));
    assert!(out["depth"].as_u64().unwrap_or(0) >= 2, "{out}");
    assert!(out["captured"].as_u64().unwrap_or(0) >= 8, "{out}");
    assert_eq!(out["functions"], json!(0), "{out}");
    assert_eq!(out["sloppyCallers"], json!(0), "{out}");
}

/// Stacks show the guest's own frames only: isola's glue (`makeError`,
/// the `Response` constructor, host-call wrappers) appears neither in
/// `error.stack` nor as a `CallSite`.
#[test]
fn guest_stacks_show_no_internal_frames() {
    let out = returned(call(
        esm(r#"export default { async go() {
            const stacks = [];
            try { structuredClone(() => 1) } catch (e) { stacks.push(e.stack) }
            try { new Response(1, { status: 99 }) } catch (e) { stacks.push(e.stack) }
            try { new URL("nope") } catch (e) { stacks.push(e.stack) }
            try { await fetch("http://example.com/") } catch (e) { stacks.push(e.stack) }
            Error.prepareStackTrace = (_, sites) => sites.map((s) => `${s.getFileName()} ${s.getFunctionName()}`);
            let sites;
            try { new Response(1, { status: 99 }) } catch (e) { sites = e.stack }
            Error.prepareStackTrace = undefined;
            return { stacks, sites };
        } }"#),
        "go",
        Value::Null,
    ));
    let stacks = out["stacks"].as_array().expect("stacks");
    assert_eq!(stacks.len(), 4, "{out}");
    for stack in stacks {
        let stack = stack.as_str().unwrap_or_default();
        assert!(!stack.contains("<null>"), "{stack}");
        assert!(
            stack
                .lines()
                .all(|l| l.contains("agent.js") || l.ends_with("(native)")),
            "{stack}"
        );
    }
    assert!(
        stacks[1]
            .as_str()
            .unwrap_or_default()
            .contains("at go (agent.js:"),
        "{out}"
    );
    assert_eq!(out["sites"], json!(["agent.js go"]), "{out}");
}
