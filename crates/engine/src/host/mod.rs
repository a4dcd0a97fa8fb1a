//! Host functions: the only Rust the guest can reach, through the glue.
//!
//! Each one treats its arguments as hostile: types are checked, values are
//! read once into owned data, and nothing here panics or blocks.
//!
//! This module holds the table the glue calls through, the argument
//! readers every host function shares, and the accounting around each
//! call (host copies released, host time against the limits). The
//! functions themselves live by what they serve: `calls` (the Workers
//! runtime: ops, timers, console) and `web` (the web platform).

use std::rc::Rc;
use std::time::{Duration, Instant};

use rquickjs::{Ctx, Exception, Function, Object, TypedArray, Value as JsValue, qjs};

use crate::codec::{self, CloneError};
use crate::shared::{HostArgs, Shared, clone_error_to_js, interrupted};
use crate::value::{ErrorValue, Value};

mod calls;
mod web;

pub(crate) use calls::{request_parts, response_to_js};

fn arg<'a, 'js>(args: &'a HostArgs<'js>, i: usize) -> Option<&'a JsValue<'js>> {
    args.0.get(i)
}

fn string_arg(ctx: &Ctx<'_>, args: &HostArgs<'_>, i: usize) -> rquickjs::Result<String> {
    optional_string_arg(args, i)?
        .ok_or_else(|| Exception::throw_type(ctx, "isola: expected a string"))
}

/// A string argument, or `None` when it is not a string (`null`, absent).
fn optional_string_arg(args: &HostArgs<'_>, i: usize) -> rquickjs::Result<Option<String>> {
    arg(args, i)
        .and_then(|v| v.as_string())
        .map(crate::web::js_string)
        .transpose()
}

fn number_arg(args: &HostArgs<'_>, i: usize) -> f64 {
    arg(args, i).and_then(JsValue::as_number).unwrap_or(0.0)
}

fn id_arg(args: &HostArgs<'_>, i: usize) -> u64 {
    let n = number_arg(args, i);
    if n.is_finite() && n >= 0.0 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        return n as u64;
    }
    0
}

/// Charges `bytes` of host-side copies (made or about to be made by the
/// host call in progress) to the isolate's memory limit until the call
/// returns. Past the limit (or the process budget) the guest is stopped as
/// by any allocation that does not fit.
fn charge(ctx: &Ctx<'_>, shared: &Shared, bytes: usize) -> rquickjs::Result<()> {
    if !shared.memory.admits(bytes) {
        return Err(Exception::throw_range(ctx, "Out of memory"));
    }
    shared.memory.add(bytes);
    shared
        .transient
        .set(shared.transient.get().saturating_add(bytes));
    Ok(())
}

fn bytes_arg(args: &HostArgs<'_>, i: usize) -> Option<Vec<u8>> {
    let view = TypedArray::<u8>::from_value(arg(args, i)?.clone()).ok()?;
    // SAFETY: copied out at once; no guest code runs in between.
    #[allow(unsafe_code)]
    let bytes = unsafe { view.as_bytes() }?.to_vec();
    Some(bytes)
}

/// A host function: the glue's arguments and the isolate's state in, a
/// value (or a thrown exception) out.
type HostFn = for<'js> fn(Ctx<'js>, &Rc<Shared>, HostArgs<'js>) -> rquickjs::Result<JsValue<'js>>;

/// Builds the host dispatcher handed to the glue, and replaces
/// `Math.random` with a per-isolate CSPRNG-seeded generator.
pub(crate) fn install<'js>(ctx: &Ctx<'js>, shared: &Rc<Shared>) -> rquickjs::Result<Function<'js>> {
    let s = shared.clone();
    let random = Function::new(ctx.clone(), move || {
        #[allow(clippy::cast_precision_loss)]
        let r = (s.next_random() >> 11) as f64 / (1u64 << 53) as f64;
        r
    })?
    .with_name("random")?;
    ctx.globals()
        .get::<_, Object>("Math")?
        .set("random", random)?;

    let s = shared.clone();
    let dispatch = Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>, index: u32, args: HostArgs<'js>| {
            let Some((_, f)) = HOST_TABLE.get(index as usize) else {
                return Err(Exception::throw_type(&ctx, "isola: unknown host function"));
            };
            // Host copies made by this call (not by calls nested in it) are
            // released when it returns.
            let outer = s.transient.replace(0);
            let started = Instant::now();
            let result = f(ctx.clone(), &s, args);
            s.memory.sub(s.transient.replace(outer));
            if host_work_tripped(&s, started.elapsed()) {
                return Err(interrupted(&ctx));
            }
            result
        },
    )?;
    Ok(dispatch)
}

/// The host table: each function by the name the glue knows it by, in
/// index order. The glue calls by index: the `OP` constant of
/// `glue/bindings.js` and `HOST_NAMES` in `glue/extras.js` must match (a
/// unit test checks). Plain functions, not closures: nothing is allocated
/// per isolate for them, and the isolate's state comes in as an argument.
const HOST_TABLE: [(&str, HostFn); 27] = [
    ("op", calls::op),
    ("timer", calls::timer),
    ("cancelTimer", calls::cancel_timer),
    ("log", calls::log),
    ("clone", calls::clone),
    ("btoa", web::btoa),
    ("atob", web::atob),
    ("getRandomValues", web::get_random_values),
    ("randomUUID", web::random_uuid),
    ("utf8Encode", web::utf8_encode),
    ("utf8Decode", web::utf8_decode),
    ("urlParse", web::url_parse),
    ("urlSet", web::url_set),
    ("formParse", web::form_parse),
    ("formSerialize", web::form_serialize),
    ("loadWeb", web::load_web),
    ("require", calls::require),
    ("decoderOpen", web::decoder_open),
    ("decoderDecode", web::decoder_decode),
    ("loadCrypto", web::load_crypto),
    ("subtle", web::subtle),
    ("multipartParse", web::multipart_parse),
    ("loadStreams", web::load_streams),
    ("compressionOpen", web::compression_open),
    ("compressionWrite", web::compression_write),
    ("compressionFinish", web::compression_finish),
    ("compressionClose", web::compression_close),
];

/// Host time between looks at the watchdog. The engine's own check runs
/// every 10,000 bytecode instructions, which a loop of a few expensive host
/// calls never reaches; host work is looked at about every millisecond.
const HOST_WORK_BETWEEN_CHECKS: Duration = Duration::from_millis(1);

/// Adds `spent` to the host work since the last look and, past
/// [`HOST_WORK_BETWEEN_CHECKS`], asks the watchdog whether a limit fired.
fn host_work_tripped(shared: &Shared, spent: Duration) -> bool {
    let work = shared.host_work.get() + spent;
    if work < HOST_WORK_BETWEEN_CHECKS {
        shared.host_work.set(work);
        return false;
    }
    shared.host_work.set(Duration::ZERO);
    shared.watchdog.poll()
}

/// Refuses `size` bytes of values leaving the isolate when over the
/// codec's limit.
fn check_size(ctx: &Ctx<'_>, shared: &Shared, size: usize) -> rquickjs::Result<()> {
    let limit = shared.codec().max_bytes;
    if size > limit {
        return Err(clone_error_to_js(ctx, &CloneError::TooLarge(limit)));
    }
    Ok(())
}

/// Reads a thrown value as an [`ErrorValue`] (non-errors become `Error`
/// with the value's string form).
pub(crate) fn error_value<'js>(
    ctx: &Ctx<'js>,
    shared: &Shared,
    thrown: &JsValue<'js>,
) -> ErrorValue {
    let limits = codec::CodecLimits {
        max_depth: 2,
        max_bytes: 1 << 20,
    };
    // A thrown object that is not an Error (e.g. test262's `Test262Error`)
    // is named by its constructor.
    // SAFETY: reading the class id of a live value.
    #[allow(unsafe_code)]
    let is_error = unsafe { qjs::JS_IsError(thrown.as_raw()) } || codec::is_dom_exception(thrown);
    if let (false, Some(object)) = (is_error, thrown.as_object()) {
        let constructor = object
            .get::<_, Object>("constructor")
            .and_then(|c| c.get::<_, String>("name"))
            .ok()
            .filter(|name| !name.is_empty() && name != "Object");
        if let Some(name) = constructor {
            let message = object
                .get::<_, Option<rquickjs::convert::Coerced<String>>>("message")
                .ok()
                .flatten()
                .map(|m| m.0)
                .unwrap_or_default();
            return ErrorValue::new(name, message);
        }
    }
    let read = codec::Reader::new(ctx, limits).read(thrown).ok();
    match read {
        Some(Value::Error(mut e)) => {
            e.stack = match (e.stack, shared.source()) {
                (Some(stack), Some(source)) => Some(source.remap_stack(&stack)),
                (stack, _) => stack,
            };
            e
        }
        Some(Value::String(s)) => ErrorValue::new("Error", s),
        Some(other) => ErrorValue::new("Error", crate::web::describe(&other)),
        None => ErrorValue::new("Error", "<unreadable thrown value>"),
    }
}

/// Keeps a startup failure in workerd's shape:
/// `Failed to start Worker:\nUncaught SyntaxError: <msg>\n  at agent.js:1:26`.
pub(crate) fn record_startup_error<'js>(ctx: &Ctx<'js>, shared: &Shared, thrown: &JsValue<'js>) {
    let error = error_value(ctx, shared, thrown);
    let location = error.stack.as_deref().and_then(first_frame_location);
    let mut message = format!("Failed to start Worker:\nUncaught {error}");
    if let Some(location) = location {
        message.push_str("\n  at ");
        message.push_str(&location);
    }
    *shared.startup_error.borrow_mut() = Some(ErrorValue {
        name: "Error".into(),
        message,
        stack: error.stack,
    });
}

/// `agent.js:1:26` from the first stack frame that names a guest module.
fn first_frame_location(stack: &str) -> Option<String> {
    stack.lines().find_map(|line| {
        let frame = line.trim().strip_prefix("at ")?;
        let location = match (frame.rfind('('), frame.ends_with(')')) {
            (Some(open), true) => &frame[open + 1..frame.len() - 1],
            _ => frame,
        };
        (!location.starts_with("isola:") && location.contains(':')).then(|| location.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glue_host_indices_match_the_host_table() {
        let extras = include_str!("../glue/extras.js");
        let start = extras
            .find("const HOST_NAMES = [")
            .expect("HOST_NAMES in extras.js");
        let list = &extras[start..];
        let list = &list[list.find('[').expect("[") + 1..list.find("];").expect("];")];
        let names: Vec<&str> = list
            .split(',')
            .map(|n| n.trim().trim_matches('"'))
            .filter(|n| !n.is_empty())
            .collect();
        let table: Vec<&str> = HOST_TABLE.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, table);
        assert_eq!(HOST_TABLE[0].0, "op");
        assert!(include_str!("../glue/bindings.js").contains("const OP = 0;"));
    }

    #[test]
    fn stack_locations_are_extracted() {
        assert_eq!(
            first_frame_location("    at agent.js:1:26\n").as_deref(),
            Some("agent.js:1:26")
        );
        assert_eq!(
            first_frame_location("    at f (lib/a.js:3:9)\n    at agent.js:1:1\n").as_deref(),
            Some("lib/a.js:3:9")
        );
        assert_eq!(
            first_frame_location("    at start (isola:extras:10:2)\n").as_deref(),
            None
        );
    }
}
