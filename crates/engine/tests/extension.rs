//! The seam, from outside the engine crate: an extension declared here
//! contributes a global function, a lazily loaded class, host functions
//! and a built-in module through the public API only, and platforms that
//! do not compose are refused with a reason.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use isola_engine::rquickjs::Value as JsValue;
use isola_engine::*;

/// `host.greet(name)`: a string built on the host, its copy charged.
fn greet<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let name = host.string(0)?;
    host.charge(name.len() + 16)?;
    let text = format!("hello, {name}");
    Ok(rquickjs::String::from_str(host.ctx().clone(), &text)?.into_value())
}

/// `host.hoard(bytes)`: charges `bytes` of host copies (and makes none).
fn hoard<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    #[allow(clippy::cast_possible_truncation)]
    host.charge(host.id(0) as usize)?;
    Ok(JsValue::new_undefined(host.ctx().clone()))
}

/// `host.roundTrip(value)`: the value read as plain data and written back.
fn round_trip<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let value = host.read(0)?;
    host.write(&value)
}

/// `host.store(key, value)`: an effect the host carries out.
fn store<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let key = host.string(0)?;
    let value = host.read(1)?;
    host.effect("store", vec![Value::String(key), value])
}

const GLUE: &str = r#"(function (host, load) {
  "use strict";
  const { inspect } = load("isola:core").internals;
  class Greeter {
    hi(name) { return host.greet(name); }
  }
  return {
    greet: (name) => host.greet(name),
    Greeter,
    module: Object.freeze({ __proto__: null, store: (k, v) => host.store(k, v), shout: (s) => String(s).toUpperCase(), hoard: (n) => host.hoard(n), roundTrip: (v) => host.roundTrip(v), inspect }),
  };
})"#;

static GREETINGS: Extension = Extension::new("greetings")
    .chunks(&[Chunk {
        name: "greetings:glue",
        source: GLUE,
    }])
    .host_functions(&[
        HostFunction::new(c"greet", 1, greet),
        HostFunction::new(c"hoard", 1, hoard),
        HostFunction::new(c"roundTrip", 1, round_trip),
        HostFunction::new(c"store", 2, store),
    ])
    .globals(&[
        Global::Function {
            name: c"greet",
            length: 1,
            export: Export {
                chunk: "greetings:glue",
                name: "greet",
            },
        },
        Global::Value {
            name: c"Greeter",
            export: Export {
                chunk: "greetings:glue",
                name: "Greeter",
            },
        },
    ])
    .modules(&[BuiltinModule {
        specifier: "greetings:mod",
        namespace: Export {
            chunk: "greetings:glue",
            name: "module",
        },
        names: &["shout", "hoard", "roundTrip", "inspect", "store"],
    }]);

/// The engine's own extensions and this file's, without the web platform.
fn platform() -> &'static Platform {
    static PLATFORM: OnceLock<&'static Platform> = OnceLock::new();
    PLATFORM.get_or_init(|| Platform::new(&[&GREETINGS]).expect("extensions compose"))
}

fn budget() -> Budget {
    Budget::new(
        Duration::from_millis(500),
        Instant::now() + Duration::from_secs(5),
    )
}

/// Calls `go()` of a module whose default export is `{ go }`.
fn go(code: &str) -> Result<CallResult, Termination> {
    let mut isolate = started(code)?;
    for effect in isolate.take_effects() {
        if let Effect::CallSettled { result, .. } = effect {
            return Ok(result);
        }
    }
    panic!("the call did not settle");
}

/// An isolate of [`platform`] running `code`, with `go()` called.
fn started(code: &str) -> Result<Isolate, Termination> {
    let source = Arc::new(
        WorkerSource::new(
            Some("2026-03-01"),
            &[],
            "main.js",
            vec![("main.js".to_owned(), ModuleSpec::Esm(code.to_owned()))],
        )
        .expect("valid code"),
    );
    let config = IsolateConfig {
        memory_limit: 16 << 20,
        ..IsolateConfig::default()
    };
    let mut isolate = Isolate::new(platform(), source, &config).expect("isolate");
    isolate.call(
        CallSpec {
            id: 1,
            entrypoint: None,
            kind: CallKind::Rpc {
                method: "go".into(),
                args: vec![Value::Null],
            },
            props: Value::Null,
            stream: false,
            stream_request: false,
        },
        budget(),
    )?;
    Ok(isolate)
}

fn returned(code: &str) -> Value {
    match go(code) {
        Ok(CallResult::Value(value)) => value,
        other => panic!("expected a value, got {other:?}"),
    }
}

fn threw(code: &str) -> ErrorValue {
    match go(code) {
        Ok(CallResult::Threw(error)) => error,
        other => panic!("expected a throw, got {other:?}"),
    }
}

#[test]
fn an_extension_adds_globals_host_functions_and_a_module() {
    let out = returned(
        r#"import { shout, roundTrip } from "greetings:mod";
        export default { go() {
          return [greet("ada"), new Greeter().hi("bob"), shout("hey"), roundTrip({ a: [1, "x"] }).a[1],
                  greet.name, greet.length, typeof Greeter];
        } };"#,
    );
    assert_eq!(
        out.to_json(),
        serde_json::json!([
            "hello, ada",
            "hello, bob",
            "HEY",
            "x",
            "greet",
            1,
            "function"
        ])
    );
}

#[test]
fn an_extension_effect_leaves_as_an_op_and_its_answer_settles_the_promise() {
    let mut isolate = started(
        r#"import { store } from "greetings:mod";
        export default { async go() { const answer = await store("k", { n: 1 }); return ["stored", answer]; } };"#,
    )
    .expect("started");
    let mut issued = None;
    for effect in isolate.take_effects() {
        if let Effect::Op { id, request } = effect {
            issued = Some((id, request));
        }
    }
    let (id, request) = issued.expect("the effect left as an op");
    assert_eq!(
        request,
        OpRequest::Extension {
            extension: "greetings".into(),
            name: "store".into(),
            args: vec![
                Value::String("k".into()),
                Value::Object(vec![("n".into(), Value::Number(1.0))])
            ],
        }
    );
    isolate
        .complete_op(id, OpResult::Value(Value::Number(7.0)), budget())
        .expect("answered");
    let settled = isolate
        .take_effects()
        .into_iter()
        .find_map(|effect| match effect {
            Effect::CallSettled { result, .. } => Some(result),
            _ => None,
        });
    match settled {
        Some(CallResult::Value(value)) => {
            assert_eq!(value.to_json(), serde_json::json!(["stored", 7]));
        }
        other => panic!("expected a value, got {other:?}"),
    }
}

#[test]
fn glue_internals_stay_out_of_the_guests_reach() {
    let out = returned(
        r#"export default { go() {
          return [typeof host, typeof load, typeof hostCall, Object.getOwnPropertyNames(globalThis).includes("Greeter")];
        } };"#,
    );
    assert_eq!(
        out.to_json(),
        serde_json::json!(["undefined", "undefined", "undefined", true])
    );
}

#[test]
fn host_functions_check_their_arguments() {
    let error = threw(r#"export default { go() { return greet({}); } };"#);
    assert_eq!(error.name, "TypeError");
    assert!(error.message.contains("expected a string"), "{error:?}");
    let error = threw(
        r#"import { roundTrip } from "greetings:mod";
        export default { go() { return roundTrip(() => 1); } };"#,
    );
    assert_eq!(error.name, "DataCloneError", "{error:?}");
}

#[test]
fn host_copies_count_against_the_memory_limit() {
    // Past the limit the guest is stopped, as by an allocation that does
    // not fit: no `catch` sees it.
    let stopped = go(r#"import { hoard } from "greetings:mod";
        export default { go() { try { hoard(64 * 1024 * 1024); } catch { return "caught"; } } };"#);
    assert!(
        matches!(stopped, Err(Termination::MemoryLimit)),
        "{stopped:?}"
    );
    // Released when the host function returns: smaller charges in a loop
    // never add up.
    let out = returned(
        r#"import { hoard } from "greetings:mod";
        export default { go() { for (let i = 0; i < 100; i++) hoard(8 * 1024 * 1024); return "ok"; } };"#,
    );
    assert_eq!(out, Value::String("ok".into()));
}

#[test]
fn a_platform_without_the_web_has_none_of_it() {
    let out = returned(
        r#"export default { go() {
          return [typeof fetch, typeof Request, typeof URL, typeof crypto, typeof console, typeof setTimeout, typeof navigator];
        } };"#,
    );
    assert_eq!(
        out.to_json(),
        serde_json::json!([
            "undefined",
            "undefined",
            "undefined",
            "undefined",
            "object",
            "function",
            "object"
        ])
    );
}

#[test]
fn extensions_that_do_not_compose_are_refused_with_the_reason() {
    static CLASH: Extension = Extension::new("clash").globals(&[Global::Function {
        name: c"setTimeout",
        length: 0,
        export: Export {
            chunk: "isola:core",
            name: "setTimeout",
        },
    }]);
    let error = Platform::new(&[&CLASH]).expect_err("a global defined twice");
    assert!(error.to_string().contains("setTimeout"), "{error}");

    static NOWHERE: Extension = Extension::new("nowhere").globals(&[Global::Value {
        name: c"Nowhere",
        export: Export {
            chunk: "nowhere:glue",
            name: "Nowhere",
        },
    }]);
    let error = Platform::new(&[&NOWHERE]).expect_err("an export of no chunk");
    assert!(error.to_string().contains("nowhere:glue"), "{error}");

    let error = Platform::new(&[&GREETINGS, &GREETINGS]).expect_err("the same chunks twice");
    assert!(error.to_string().contains("greetings:glue"), "{error}");

    static TWICE: Extension = Extension::new("twice").host_functions(&[
        HostFunction::new(c"greet", 1, greet),
        HostFunction::new(c"greet", 1, greet),
    ]);
    let error = Platform::new(&[&TWICE]).expect_err("a host function named twice");
    assert!(error.to_string().contains("greet"), "{error}");

    static MODULE: Extension = Extension::new("module").modules(&[BuiltinModule {
        specifier: "cloudflare:workers",
        namespace: Export {
            chunk: "isola:core",
            name: "console",
        },
        names: &[],
    }]);
    let error = Platform::new(&[&MODULE]).expect_err("a specifier taken");
    assert!(error.to_string().contains("cloudflare:workers"), "{error}");
}
