//! Security catalogue, resource exhaustion: host-side state that belongs to
//! a guest object is freed with it, so a long-lived worker never runs out
//! of it through garbage, while what is alive stays capped.

use isola::Value;
use serde_json::json;

use crate::support::*;

/// 25,000 decoders in one synchronous loop, each holding streaming state,
/// all dropped as they go (plain garbage and garbage in cycles): more than
/// the cap on live decoders, and every one of them works.
#[test]
fn dropped_text_decoders_free_their_host_state() {
    let out = returned(call(
        esm(r#"export default { go() {
            let decoded = 0;
            for (let i = 0; i < 25000; i++) {
                const d = new TextDecoder('utf-8');
                if (i % 2) d.self = d; // a cycle: freed by a collection, not a count
                decoded += d.decode(new Uint8Array([0xe2, 0x82]), { stream: true }).length === 0 ? 1 : 0;
            }
            return decoded;
        } }"#),
        "go",
        Value::Null,
    ));
    assert_eq!(out, json!(25000));
}

/// Decoders kept alive are capped, with a clear error, and dropping them
/// gives the room back within the same call.
#[test]
fn live_text_decoders_are_capped_and_the_cap_comes_back() {
    let out = returned(call(
        esm(r#"export default { go() {
            let kept = [];
            let error = null;
            try { for (let i = 0; i < 10001; i++) kept.push(new TextDecoder()) }
            catch (e) { error = `${e.name}: ${e.message}` }
            const held = kept.length;
            kept = null;
            const after = new TextDecoder().decode(new Uint8Array([104, 105]));
            return { held, error, after };
        } }"#),
        "go",
        Value::Null,
    ));
    assert_eq!(out["held"], json!(10000), "{out}");
    assert_eq!(
        out["error"],
        json!("RangeError: Too many TextDecoders alive in this isolate."),
        "{out}"
    );
    assert_eq!(out["after"], json!("hi"), "{out}");
}

/// Compression streams dropped unfinished free their codec state (made
/// and never written: nothing is held; written and dropped: freed on
/// collection); the ones alive mid-stream stay capped at 64.
#[test]
fn dropped_compression_streams_free_their_host_state() {
    let out = returned(call(
        esm(r#"export default { async go() {
            for (let i = 0; i < 1000; i++) new CompressionStream('gzip');
            // A pending read lifts the transform's backpressure, so that
            // the write reaches the codec.
            const started = (stream) => {
                stream.readable.getReader().read().catch(() => {});
                return stream.writable.getWriter().write(new Uint8Array([0x78, 0x9c]));
            };
            for (let i = 0; i < 300; i++) await started(new CompressionStream('gzip'));
            const kept = [];
            let error = null;
            for (let i = 0; i < 65 && error === null; i++) {
                const stream = new DecompressionStream('deflate');
                try { await started(stream); kept.push(stream) }
                catch (e) { error = e.name }
            }
            return { kept: kept.length, error };
        } }"#),
        "go",
        Value::Null,
    ));
    assert_eq!(out, json!({"kept": 64, "error": "RangeError"}));
}
