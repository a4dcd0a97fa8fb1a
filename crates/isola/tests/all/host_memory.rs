//! Issue 12, finding 3: what a guest makes the host hold beyond its heap —
//! payloads of outstanding calls, code of the dynamic workers it keeps,
//! the bytes of a big Response — counts against its memory limit or stays
//! a few slices deep. (The RSS measurements are in `cli.rs`.)

use isola::{HttpRequest, Limits, Outcome, Value, WorkerCode};
use serde_json::json;

use crate::support::*;

/// One 30 MiB argument passed to 40 calls that are all in flight at once:
/// without charging, the host held 40 copies (1.2 GB) for a guest whose
/// heap held one.
#[test]
fn payloads_of_outstanding_calls_count_against_the_memory_limit() {
    let run = call(esm(FORTY_CALLS_WITH_ONE_BIG_ARGUMENT), "run", Value::Null);
    assert_eq!(run.outcome, Outcome::MemoryLimit, "{:?}", run.outcome);

    // A few at a time fit, and their charge is given back as they answer.
    let src = r#"import { WorkerEntrypoint } from "cloudflare:workers";
        export default class extends WorkerEntrypoint {
          async run() {
            const big = new Uint8Array(20 << 20);
            let total = 0;
            for (let i = 0; i < 10; i++) total += await this.ctx.exports.default({}).size(big);
            return total;
          }
          size(bytes) { return bytes.length; }
        }"#;
    assert_eq!(
        returned(call(esm(src), "run", Value::Null)),
        json!(200 << 20)
    );
}

/// Fresh dynamic workers live on the host while their stubs do; their code
/// counts against the parent's memory limit (32 MiB here).
#[test]
fn code_of_the_dynamic_workers_a_parent_holds_counts_against_its_limit() {
    let src = r#"export default { async go(arg, env) {
        const text = "x".repeat(4 << 20);
        const kept = [];
        const seen = [];
        for (let i = 0; i < 20; i++) {
          const worker = env.LOADER.load({ compatibilityDate: "2026-03-01", mainModule: "a.js",
            modules: { "a.js": "import t from 'big.txt'; export default { n() { return t.length } }", "big.txt": { text } } });
          kept.push(worker);
          try { seen.push(await worker.getEntrypoint().n(1)); }
          catch (e) { seen.push(`${e.name}: ${e.message}`); break; }
        }
        return seen;
    } }"#;
    let limits = Limits {
        memory_bytes: 32 << 20,
        ..Limits::default()
    };
    let code = esm(src).worker_loader("LOADER").limits(limits);
    let out = returned(call(code, "go", Value::Null));
    let seen = out.as_array().expect("a list");
    assert!(seen.len() >= 6 && seen.len() <= 9, "{out}");
    for loaded in &seen[..seen.len() - 1] {
        assert_eq!(loaded, &json!(4 << 20));
    }
    let refusal = seen.last().and_then(|v| v.as_str()).unwrap_or_default();
    assert!(
        refusal.starts_with("RangeError: isola: the dynamic workers this worker holds")
            && refusal.contains("memory limit"),
        "{refusal}"
    );
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn streamed_bytes(len: usize) -> (Option<u64>, Vec<Vec<u8>>, Outcome) {
    streamed_bytes_within(len, Limits::default())
}

fn streamed_bytes_within(len: usize, limits: Limits) -> (Option<u64>, Vec<Vec<u8>>, Outcome) {
    let src = format!(
        "export default {{ fetch() {{ const b = new Uint8Array({len}); \
         for (let i = 0; i < b.length; i++) b[i] = i % 251; return new Response(b); }} }}"
    );
    let code: WorkerCode = esm(&src).limits(limits);
    let worker = loader().load(code).expect("valid code");
    runtime().block_on(async move {
        let request = HttpRequest {
            method: "GET".into(),
            url: "http://example.com/".into(),
            ..HttpRequest::default()
        };
        let mut stream = worker.entrypoint(None).fetch_streaming(request, None);
        let head = stream.head().await.expect("a head");
        assert_eq!(head.status, 200);
        let length = stream.body_length();
        let mut chunks = Vec::new();
        while let Some(chunk) = stream.next_chunk().await {
            chunks.push(chunk);
        }
        (length, chunks, stream.finish().await.outcome)
    })
}

/// A Response made from big bytes reaches the host a slice at a time (at
/// most a few slices held), with its length declared up front.
#[test]
fn a_big_bytes_response_streams_in_slices_with_its_length() {
    // 2 MiB: past the 1 MiB whole-body threshold, eight slices; filling
    // it byte by byte stays well inside the 1 s CPU limit of a debug
    // build on a loaded machine (5 MiB did not, always).
    let len = (2 << 20) + 3;
    let (length, chunks, outcome) = streamed_bytes(len);
    assert_eq!(outcome, Outcome::Streamed);
    assert_eq!(length, Some(len as u64));
    assert!(chunks.len() > 4, "{} chunks", chunks.len());
    assert!(chunks.iter().all(|c| c.len() <= 256 << 10));
    assert_eq!(chunks.concat(), pattern(len));
}

/// A small one still goes with its head in one piece.
#[test]
fn a_small_bytes_response_goes_whole() {
    let (length, chunks, outcome) = streamed_bytes(1000);
    assert_eq!(outcome, Outcome::Streamed);
    assert_eq!(length, Some(1000));
    assert_eq!(chunks, vec![pattern(1000)]);
}

/// A streamed Response is not a call's result: a small body that goes
/// whole (settling the call at once, with no op for its head) is not held
/// to the output limit, as the same body in slices would not be.
#[test]
fn a_whole_streamed_body_is_not_held_to_the_output_limit() {
    let len = 100_000;
    let limits = Limits {
        output_bytes: 4 << 10,
        ..Limits::default()
    };
    let (length, chunks, outcome) = streamed_bytes_within(len, limits);
    assert_eq!(outcome, Outcome::Streamed);
    assert_eq!(length, Some(len as u64));
    assert_eq!(chunks.concat(), pattern(len));
}
