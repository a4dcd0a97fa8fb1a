use isola::{Module, Outcome, WorkerCode};
use serde_json::json;

use crate::support::*;

fn invalid(run: isola::Run) -> String {
    match run.outcome {
        Outcome::InvalidCode(e) => e.message,
        other => panic!("expected invalid code, got {other:?}"),
    }
}

#[test]
fn module_kinds_and_relative_imports() {
    let code = WorkerCode::new("2026-03-01", "src/main.js")
        .module(
            "src/main.js",
            Module::Esm(
                r#"import helper from "./lib/helper.ts";
                   import config from "../config.json";
                   import readme from "./README.txt";
                   import blob from "./blob.bin";
                   import legacy from "./legacy.cjs";
                   import { WorkerEntrypoint, RpcTarget } from "cloudflare:workers";
                   export default { run() { return {
                     helper: helper(2), config, readme, blob: [...new Uint8Array(blob)],
                     isBuffer: blob instanceof ArrayBuffer, legacy: legacy.twice(4),
                     classes: typeof WorkerEntrypoint + typeof RpcTarget } } }"#
                    .into(),
            ),
        )
        .module(
            "src/lib/helper.ts",
            Module::TypeScript(
                "export default function helper(n: number): number { return n * 10 }".into(),
            ),
        )
        .module("config.json", Module::Json(json!({"tier": "free"})))
        .module("src/README.txt", Module::Text("hello".into()))
        .module("src/blob.bin", Module::Data(vec![1, 2, 3]))
        .module(
            "src/legacy.cjs",
            Module::CommonJs(
                "const k = require('./k.json'); module.exports = { twice: (n) => n * k.factor }"
                    .into(),
            ),
        )
        .module("src/k.json", Module::Json(json!({"factor": 2})));
    let out = returned(call(code, "run", json!(null)));
    assert_eq!(
        out,
        json!({"helper": 20, "config": {"tier": "free"}, "readme": "hello", "blob": [1, 2, 3], "isBuffer": true, "legacy": 8, "classes": "functionfunction"})
    );
}

#[test]
fn typescript_by_name_is_stripped() {
    let code = WorkerCode::new("2026-03-01", "agent.ts").module_source(
        "agent.ts",
        "type P = { x: number }; export default { myAgent(p: P): number { return p.x + 1 } }",
    );
    assert_eq!(returned(call(code, "myAgent", json!({"x": 1}))), json!(2));
}

#[test]
fn typescript_enums_and_namespaces_compile() {
    // An `enum` once made the TypeScript transformer panic in the host.
    let code = WorkerCode::new("2026-03-01", "agent.ts").module_source(
        "agent.ts",
        "enum Color { Red, Green = 5, Blue }\nconst enum Flag { On = 'on' }\nnamespace N { export const k = 2 }\n\
         export default { go(): unknown { return [Color.Green, Color[6], Flag.On, N.k] } }",
    );
    assert_eq!(
        returned(call(code, "go", json!(null))),
        json!([5, "Blue", "on", 2])
    );
}

#[test]
fn deeply_nested_typescript_is_refused_not_a_host_crash() {
    // oxc recurses per nesting level: these once overflowed the host's
    // stack (an abort) or ate gigabytes.
    for body in [
        format!("{}{}", "{".repeat(50_000), "}".repeat(50_000)),
        format!("const x = {}1;", "a ? b : ".repeat(50_000)),
        format!("const x = {}1{};", "(".repeat(50_000), ")".repeat(50_000)),
    ] {
        let code = WorkerCode::new("2026-03-01", "agent.ts").module_source(
            "agent.ts",
            format!("const a = 1, b = 2;\n{body}\nexport default {{ go() {{ return 1 }} }}"),
        );
        let message = invalid(call(code, "go", json!(null)));
        assert!(
            message.contains("nested more than 1000 levels deep"),
            "{message}"
        );
        assert!(message.contains("agent.ts:2:"), "{message}");
    }
    // Deep but within the limit still compiles.
    let code = WorkerCode::new("2026-03-01", "agent.ts").module_source(
        "agent.ts",
        format!(
            "const x: number = {}1{};\nexport default {{ go() {{ return x }} }}",
            "(".repeat(900),
            ")".repeat(900)
        ),
    );
    assert_eq!(returned(call(code, "go", json!(null))), json!(1));
}

#[test]
fn syntax_error_reports_module_line_and_column() {
    let run = call(esm("export default {\n  broken( {\n}"), "x", json!(null));
    let message = invalid(run);
    assert!(
        message.starts_with("Failed to start Worker:\nUncaught SyntaxError: "),
        "{message}"
    );
    assert!(message.contains("\n  at agent.js:"), "{message}");
}

#[test]
fn top_level_throw_is_a_startup_error() {
    let message = invalid(call(
        esm("throw new Error('boom at top level')"),
        "x",
        json!(null),
    ));
    assert!(
        message.starts_with(
            "Failed to start Worker:\nUncaught Error: boom at top level\n  at agent.js:1:"
        ),
        "{message}"
    );
}

#[test]
fn missing_main_module() {
    let code = WorkerCode::new("2026-03-01", "nope.js")
        .module("agent.js", Module::Esm("export default {}".into()));
    assert_eq!(
        invalid(call(code, "x", json!(null))),
        "Failed to start Worker:\nUncaught Error: No such module: nope.js"
    );
}

#[test]
fn shape_errors_are_reported_by_load() {
    let err = loader()
        .load(WorkerCode::new("2026-03-01", "a.js"))
        .expect_err("no modules");
    assert_eq!(
        err.to_string(),
        "Dynamic Worker code must contain at least one module."
    );
    let err = loader()
        .load(WorkerCode::new("2026-03-01", "a.txt").module_source("a.txt", "x"))
        .expect_err("bad extension");
    assert_eq!(
        err.to_string(),
        "Module name must end with '.js' or '.py' (or the content must be an object indicating the type explicitly). Got: a.txt."
    );
    let err = loader()
        .load(WorkerCode::without_compatibility_date("a.js").module_source("a.js", ""))
        .expect_err("no date");
    assert_eq!(err.to_string(), "Invalid compatibility date: undefined");
    let err = loader()
        .load(esm("").compatibility_flags(["not_a_flag"]))
        .expect_err("unknown flag");
    assert_eq!(err.to_string(), "No such compatibility flag: not_a_flag");
    assert!(
        loader()
            .load(esm("export default {}").compatibility_flags(["nodejs_compat"]))
            .is_ok()
    );
    let err = loader()
        .load(esm("").env_value("BIG", "x".repeat(1 << 20)))
        .expect_err("env too big");
    assert!(
        err.to_string().starts_with("Dynamic Worker env size ("),
        "{err}"
    );
    assert!(
        err.to_string()
            .ends_with(" bytes) exceeds the maximum allowed size of 1048576 bytes."),
        "{err}"
    );
}

#[test]
fn unresolvable_specifiers_fail_without_touching_disk_or_network() {
    let src = r#"export default { async probe(spec) {
        try { await import(spec); return "loaded"; } catch (e) { return e.message } } }"#;
    for spec in [
        "os",
        "std",
        "/etc/passwd",
        "file:///etc/passwd",
        "http://127.0.0.1:1/x.js",
        "data:text/javascript,export default 1",
        "../../etc/passwd",
        "node:fs",
    ] {
        let out = returned(call(esm(src), "probe", spec));
        assert_eq!(out, json!(format!("No such module: {spec}")), "{spec}");
    }
}

#[test]
fn typescript_stack_traces_point_at_the_typescript_source() {
    let source = "interface A {\n  x: number;\n}\ntype B = string;\nexport default {\n  go(_: unknown): never {\n    throw new TypeError('here');\n  },\n};\n";
    let code = WorkerCode::new("2026-03-01", "agent.ts").module_source("agent.ts", source);
    let e = threw(call(code, "go", json!(null)));
    let stack = e.stack.expect("stack");
    assert!(stack.contains("agent.ts:7:"), "{stack}");
}

/// `with { type: "json" }` is a promise about the module: it holds for a
/// JSON module, fails for any other kind (static or dynamic import), and
/// an unknown type or attribute is refused.
#[test]
fn import_attributes_must_match_the_module() {
    let code = |main: &str| {
        WorkerCode::new("2026-03-01", "main.js")
            .module("main.js", Module::Esm(main.into()))
            .module("data.json", Module::Json(json!({"a": 1})))
            .module("lib.js", Module::Esm("export default 42;".into()))
    };
    let ok = code(
        r#"import data from "./data.json" with { type: "json" };
           export default { async run() {
             const again = await import("./data.json", { with: { type: "json" } });
             return [data.a, again.default.a] } }"#,
    );
    assert_eq!(returned(call(ok, "run", json!(null))), json!([1, 1]));

    let static_js = code(
        r#"import lib from "./lib.js" with { type: "json" };
           export default { run() { return lib } }"#,
    );
    let message = invalid(call(static_js, "run", json!(null)));
    assert!(message.contains("is not a JSON module"), "{message}");

    let dynamic = code(
        r#"export default { async run() {
             const outcomes = [];
             for (const attributes of [{ type: "json" }, { type: "css" }, { type: "json", integrity: "x" }]) {
               try { await import("./lib.js", { with: attributes }); outcomes.push("loaded") }
               catch (e) { outcomes.push(`${e.name}: ${e.message}`) }
             }
             return outcomes } }"#,
    );
    let out = returned(call(dynamic, "run", json!(null)));
    let outcomes: Vec<&str> = out
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(outcomes.len(), 3, "{out}");
    assert!(
        outcomes[0].starts_with("TypeError") && outcomes[0].contains("not a JSON module"),
        "{out}"
    );
    assert!(
        outcomes[1].contains("Unsupported import attribute type"),
        "{out}"
    );
    assert!(
        outcomes[2].contains("Unsupported import attribute: integrity"),
        "{out}"
    );
}
