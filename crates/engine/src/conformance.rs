//! Hooks for conformance runners (test262): evaluating scripts in an
//! isolate exactly as users get it, plus the `$262` and `print` host
//! bindings test262 expects. Behind the `conformance` feature; not part of
//! the sandbox API.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rquickjs::{ArrayBuffer, Ctx, Function, Object, Value as JsValue, qjs};

use crate::host;
use crate::isolate::{Isolate, IsolateConfig};
use crate::limits::{Budget, Termination};
use crate::source::{ModuleSpec, WorkerSource};

/// Where a failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// While parsing (compiling) the source.
    Parse,
    /// While running it (or settling its promise).
    Runtime,
}

/// A test's failure: its phase and the thrown error's class and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// When.
    pub phase: Phase,
    /// The error's `name`.
    pub name: String,
    /// The error's `message`.
    pub message: String,
}

/// An isolate with the test262 host hooks installed.
pub struct Realm {
    isolate: Isolate,
    prints: Rc<RefCell<Vec<String>>>,
}

impl std::fmt::Debug for Realm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Realm").finish_non_exhaustive()
    }
}

fn budget() -> Budget {
    Budget::new(
        Duration::from_secs(5),
        Instant::now() + Duration::from_secs(10),
    )
}

impl Realm {
    /// A realm of `platform` whose module map is `modules` (the first is
    /// the main module), or a placeholder map for script tests.
    pub fn new(
        platform: &'static crate::Platform,
        modules: Vec<(String, String)>,
    ) -> Result<Self, String> {
        let modules = if modules.is_empty() {
            vec![("placeholder.js".to_owned(), String::new())]
        } else {
            modules
        };
        let main = modules[0].0.clone();
        let specs = modules
            .into_iter()
            .map(|(name, source)| {
                let spec = if name.ends_with(".json") {
                    serde_json::from_str(&source).map_or(ModuleSpec::Text(source), ModuleSpec::Json)
                } else {
                    ModuleSpec::Esm(source)
                };
                (name, spec)
            })
            .collect();
        let source =
            WorkerSource::new(Some("2026-01-01"), &[], &main, specs).map_err(|e| e.to_string())?;
        let config = IsolateConfig {
            memory_limit: 256 << 20,
            ..IsolateConfig::default()
        };
        let isolate =
            Isolate::new(platform, Arc::new(source), &config).map_err(|e| e.to_string())?;
        let mut realm = Self {
            isolate,
            prints: Rc::new(RefCell::new(Vec::new())),
        };
        realm
            .install_host()
            .map_err(|e| format!("installing $262: {e}"))?;
        Ok(realm)
    }

    fn install_host(&mut self) -> rquickjs::Result<()> {
        let prints = self.prints.clone();
        self.isolate.context.with(|ctx| {
            let global = ctx.globals();
            let host = Object::new(ctx.clone())?;
            host.set("global", global.clone())?;
            host.set(
                "gc",
                Function::new(ctx.clone(), |ctx: Ctx<'_>| {
                    ctx.run_gc();
                })?,
            )?;
            host.set("evalScript", Function::new(ctx.clone(), eval_global)?)?;
            host.set(
                "detachArrayBuffer",
                Function::new(ctx.clone(), |buffer: JsValue<'_>| {
                    if let Some(mut buffer) = ArrayBuffer::from_value(buffer) {
                        buffer.detach();
                    }
                })?,
            )?;
            global.set("$262", host)?;
            global.set(
                "print",
                Function::new(
                    ctx.clone(),
                    move |message: rquickjs::convert::Coerced<String>| {
                        prints.borrow_mut().push(message.0);
                    },
                )?,
            )?;
            Ok(())
        })
    }

    /// Parses, then runs, a global script, then drains the job queue.
    pub fn eval_script(&mut self, source: &str, file: &str, strict: bool) -> Result<(), Outcome> {
        let source = if strict {
            format!("\"use strict\";\n{source}")
        } else {
            source.to_owned()
        };
        let file = file.to_owned();
        let source_len = source.len();
        let result: Rc<RefCell<Option<Failure>>> = Rc::new(RefCell::new(None));
        let slot = result.clone();
        let shared = self.isolate.shared.clone();
        let entered = self.isolate.enter(budget(), move |ctx| {
            let raw = ctx.as_raw().as_ptr();
            // JS_Eval takes a length and needs a NUL after the last byte; the
            // source itself may contain NULs.
            let mut code = source.clone().into_bytes();
            code.push(0);
            let name = std::ffi::CString::new(file.replace('\0', "")).unwrap_or_default();
            let mut flags = qjs::JS_EVAL_TYPE_GLOBAL | qjs::JS_EVAL_FLAG_COMPILE_ONLY;
            if strict {
                flags |= qjs::JS_EVAL_FLAG_STRICT;
            }
            // SAFETY: `raw` is the live context; `code` and `name` are
            // NUL-terminated and outlive the call; the compiled function is
            // handed to `JS_EvalFunction`, which takes ownership of it.
            #[allow(unsafe_code)]
            let (compiled, ran) = unsafe {
                let function = qjs::JS_Eval(
                    raw,
                    code.as_ptr().cast(),
                    source_len as _,
                    name.as_ptr(),
                    flags as i32,
                );
                if qjs::JS_VALUE_GET_TAG(function) == qjs::JS_TAG_EXCEPTION {
                    (false, qjs::JS_UNDEFINED)
                } else {
                    (true, qjs::JS_EvalFunction(raw, function))
                }
            };
            #[allow(unsafe_code)]
            // SAFETY: reading the tag of, then releasing, a value we own.
            let threw = !compiled || unsafe { qjs::JS_VALUE_GET_TAG(ran) } == qjs::JS_TAG_EXCEPTION;
            if compiled && !threw {
                #[allow(unsafe_code)]
                // SAFETY: `ran` is the owned completion value.
                unsafe {
                    qjs::JS_FreeValue(raw, ran);
                }
            }
            if threw {
                let thrown = ctx.catch();
                let phase = if compiled {
                    Phase::Runtime
                } else {
                    Phase::Parse
                };
                *slot.borrow_mut() = Some(failure(ctx, &shared, &thrown, phase));
            }
            Ok(())
        });
        if let Err(why) = entered {
            return Err(Outcome::Stopped(why));
        }
        match result.borrow_mut().take() {
            Some(failure) => Err(Outcome::Failed(failure)),
            None => Ok(()),
        }
    }

    /// Evaluates the main module (and its imports).
    pub fn run_module(&mut self) -> Result<(), Outcome> {
        self.isolate.start(budget()).map_err(Outcome::Stopped)?;
        // Drain once more so a pending top-level await settles.
        self.isolate
            .enter(budget(), |_| Ok(()))
            .map_err(Outcome::Stopped)?;
        match self.isolate.shared.startup_error.borrow().clone() {
            None => Ok(()),
            Some(e) => {
                // "Failed to start Worker:\nUncaught SyntaxError: msg\n  at ..."
                let line = e.message.lines().nth(1).unwrap_or_default();
                let line = line.strip_prefix("Uncaught ").unwrap_or(line);
                let (name, message) = line.split_once(": ").unwrap_or((line, ""));
                Err(Outcome::Failed(Failure {
                    phase: Phase::Runtime,
                    name: name.to_owned(),
                    message: message.to_owned(),
                }))
            }
        }
    }

    /// Runs the isolate's effects to quiescence: fetches are answered by
    /// `fetch`, binding calls fail, and timers fire in order of their due
    /// time on a virtual clock (only when nothing else is pending), so a
    /// harness timeout fires only when a test is truly stuck. Returns
    /// console lines.
    pub fn run_until_idle(
        &mut self,
        mut fetch: impl FnMut(&crate::ops::HttpRequest) -> crate::ops::OpResult,
    ) -> Result<Vec<String>, Termination> {
        use crate::ops::{Effect, OpRequest, OpResult};
        let mut logs = Vec::new();
        let mut now: u64 = 0;
        let mut timers: Vec<(u64, u64, crate::ops::TimerId)> = Vec::new();
        let mut sequence = 0u64;
        for _ in 0..1_000_000 {
            let effects = self.isolate.take_effects();
            let mut ops = Vec::new();
            for effect in effects {
                match effect {
                    Effect::Op { id, request } => ops.push((id, request)),
                    Effect::Timer { id, delay_ms } => {
                        timers.retain(|t| t.2 != id);
                        sequence += 1;
                        timers.push((now + delay_ms, sequence, id));
                    }
                    Effect::CancelTimer { id } => timers.retain(|t| t.2 != id),
                    Effect::Log { entry, .. } => logs.push(entry.message),
                    Effect::CallSettled { .. }
                    | Effect::CallFinished { .. }
                    | Effect::LoadWorker { .. }
                    | Effect::ReleaseWorker { .. } => {}
                }
            }
            if !ops.is_empty() {
                for (id, request) in ops {
                    let result = match &request {
                        OpRequest::Fetch(request) => fetch(request),
                        _ => OpResult::Error(crate::value::ErrorValue::new(
                            "Error",
                            "no bindings here",
                        )),
                    };
                    self.isolate.complete_op(id, result, budget())?;
                }
                continue;
            }
            timers.sort_unstable();
            if timers.is_empty() {
                break;
            }
            let (due, _, id) = timers.remove(0);
            now = now.max(due);
            self.isolate.fire_timer(id, budget())?;
        }
        Ok(logs)
    }

    /// What `print` received.
    pub fn prints(&self) -> Vec<String> {
        self.prints.borrow().clone()
    }
}

/// A thrown value as a failure.
fn failure<'js>(
    ctx: &Ctx<'js>,
    shared: &crate::shared::Shared,
    thrown: &JsValue<'js>,
    phase: Phase,
) -> Failure {
    let e = host::error_value(ctx, shared, thrown);
    Failure {
        phase,
        name: e.name,
        message: e.message,
    }
}

/// `$262.evalScript`: a global, sloppy script.
fn eval_global<'js>(ctx: Ctx<'js>, source: String) -> rquickjs::Result<JsValue<'js>> {
    let mut options = rquickjs::context::EvalOptions::default();
    options.global = true;
    options.strict = false;
    ctx.eval_with_options(source, options)
}

/// Why a script did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It threw.
    Failed(Failure),
    /// A limit stopped it.
    Stopped(Termination),
}
