//! WHATWG Streams, TextEncoderStream/TextDecoderStream and the Compression
//! Standard's streams. The cases follow the specs' algorithms (the WPT
//! subset isola runs has no streams tests); compression is checked against
//! bytes made by Python's `gzip` and `zlib` modules, not only round trips.

use isola::{Limits, Value};
use serde_json::json;

use crate::support::*;

/// Helpers every case can use, prepended to its body.
const PRELUDE: &str = r#"
    const hex = (b) => [...new Uint8Array(b.buffer ?? b, b.byteOffset ?? 0, b.byteLength)].map((x) => x.toString(16).padStart(2, "0")).join("");
    const unhex = (h) => new Uint8Array(h.match(/../g).map((x) => parseInt(x, 16)));
    const err = async (p) => { try { await p; return "resolved"; } catch (e) { return e.name; } };
    const syncErr = (f) => { try { f(); return "ok"; } catch (e) { return e.name; } };
    // A write to a transform stream waits until its readable side is read.
    const writeErr = (ts, chunk) => { ts.readable.getReader().read().catch(() => {}); return err(ts.writable.getWriter().write(chunk)); };
    const tick = async (n = 20) => { for (let i = 0; i < n; i++) await null; };
    const readAll = async (rs) => { const out = []; const r = rs.getReader(); for (;;) { const { value, done } = await r.read(); if (done) return out; out.push(value); } };
    const concat = (chunks) => { const n = chunks.reduce((a, c) => a + c.byteLength, 0); const out = new Uint8Array(n); let o = 0; for (const c of chunks) { out.set(c, o); o += c.byteLength; } return out; };
    const through = async (bytes, stream, pieces = 1) => {
      const w = stream.writable.getWriter();
      const out = readAll(stream.readable);
      if (!ArrayBuffer.isView(bytes)) w.write(bytes);
      const step = Math.ceil(bytes.length / pieces) || 1;
      for (let i = 0; i < bytes.length; i += step) w.write(bytes.slice(i, i + step));
      w.close().catch(() => {});
      return concat(await out);
    };
"#;

fn js(body: &str) -> serde_json::Value {
    let source = format!("export default {{ async go() {{ {PRELUDE}\n{body} }} }}");
    returned(call(esm(&source), "go", Value::Null))
}

#[test]
fn default_readers_read_in_order_and_lock_the_stream() {
    let out = js(r#"
        const log = [];
        const rs = new ReadableStream({
          start(c) { log.push("start:" + c.desiredSize); c.enqueue("a"); c.enqueue("b"); c.close(); },
          pull() { log.push("pull"); },
        });
        const reader = rs.getReader();
        const locked = rs.locked;
        const secondReader = syncErr(() => rs.getReader());
        const r1 = await reader.read();
        const r2 = await reader.read();
        const r3 = await reader.read();
        await reader.closed;
        reader.releaseLock();
        const afterRelease = await err(reader.read());
        const closedAfterRelease = await err(reader.closed);
        return {
          log, locked, secondReader, unlocked: rs.locked, reads: [r1, r2, r3], afterRelease, closedAfterRelease,
          tag: Object.prototype.toString.call(rs), readerTag: String(reader),
          illegal: syncErr(() => ReadableStream.prototype.getReader.call({})),
          lockedGetter: syncErr(() => Object.getOwnPropertyDescriptor(ReadableStream.prototype, "locked").get.call({})),
          controllerCtor: syncErr(() => new ReadableStreamDefaultController()),
          badType: syncErr(() => new ReadableStream({ type: "nope" })),
          badSource: syncErr(() => new ReadableStream(42)),
          badPull: syncErr(() => new ReadableStream({ pull: 1 })),
          byteSize: syncErr(() => new ReadableStream({ type: "bytes" }, { size() { return 1; } })),
          readerOfNonStream: syncErr(() => new ReadableStreamDefaultReader({})),
        };"#);
    assert_eq!(
        out["log"],
        json!(["start:1"]),
        "pull is not called once closed"
    );
    assert_eq!(out["locked"], json!(true));
    assert_eq!(out["secondReader"], json!("TypeError"));
    assert_eq!(out["unlocked"], json!(false));
    assert_eq!(
        out["reads"],
        json!([{"value": "a", "done": false}, {"value": "b", "done": false}, {"done": true}])
    );
    assert_eq!(out["afterRelease"], json!("TypeError"));
    assert_eq!(out["closedAfterRelease"], json!("TypeError"));
    assert_eq!(out["tag"], json!("[object ReadableStream]"));
    assert_eq!(
        out["readerTag"],
        json!("[object ReadableStreamDefaultReader]")
    );
    for key in [
        "illegal",
        "lockedGetter",
        "controllerCtor",
        "badType",
        "badSource",
        "badPull",
        "readerOfNonStream",
    ] {
        assert_eq!(out[key], json!("TypeError"), "{key}");
    }
    assert_eq!(out["byteSize"], json!("RangeError"));
}

#[test]
fn pull_follows_the_high_water_mark_and_sizes() {
    let out = js(r#"
        const pulls = [];
        let controller;
        const rs = new ReadableStream({
          start(c) { controller = c; },
          pull(c) { pulls.push(c.desiredSize); c.enqueue("xx"); },
        }, new CountQueuingStrategy({ highWaterMark: 3 }));
        await tick();
        const filled = [pulls.slice(), controller.desiredSize];
        const reader = rs.getReader();
        await reader.read();
        await tick();
        const afterRead = [pulls.length, controller.desiredSize];

        let sized;
        const bytes = new ReadableStream({ start(c) { sized = c; c.enqueue(new Uint8Array(10)); c.enqueue(new Uint8Array(5)); } },
          new ByteLengthQueuingStrategy({ highWaterMark: 16 }));
        const byteDesired = sized.desiredSize;

        let custom;
        new ReadableStream({ start(c) { custom = c; c.enqueue("abcd"); } }, { highWaterMark: 10, size: (chunk) => chunk.length });
        const customDesired = custom.desiredSize;

        let thrower;
        const throwing = new ReadableStream({ start(c) { thrower = c; } }, { size() { throw new SyntaxError("size"); } });
        const sizeThrows = syncErr(() => thrower.enqueue(1));
        const erroredBySize = await err(throwing.getReader().read());

        let negative;
        const negStream = new ReadableStream({ start(c) { negative = c; } }, { size: () => -1 });
        const negativeSize = syncErr(() => negative.enqueue(1));
        const erroredByNegative = await err(negStream.getReader().read());

        return {
          filled, afterRead, byteDesired, customDesired, sizeThrows, erroredBySize, negativeSize, erroredByNegative,
          nanHwm: syncErr(() => new ReadableStream({}, { highWaterMark: NaN })),
          negativeHwm: syncErr(() => new ReadableStream({}, { highWaterMark: -1 })),
          zeroHwmPulls: await (async () => { let n = 0; new ReadableStream({ pull() { n++; } }, { highWaterMark: 0 }); await tick(); return n; })(),
        };"#);
    assert_eq!(out["filled"], json!([[3, 2, 1], 0]));
    assert_eq!(out["afterRead"], json!([4, 0]));
    assert_eq!(out["byteDesired"], json!(1));
    assert_eq!(out["customDesired"], json!(6));
    assert_eq!(out["sizeThrows"], json!("SyntaxError"));
    assert_eq!(out["erroredBySize"], json!("SyntaxError"));
    assert_eq!(out["negativeSize"], json!("RangeError"));
    assert_eq!(out["erroredByNegative"], json!("RangeError"));
    assert_eq!(out["nanHwm"], json!("RangeError"));
    assert_eq!(out["negativeHwm"], json!("RangeError"));
    assert_eq!(out["zeroHwmPulls"], json!(0));
}

#[test]
fn errors_and_cancellation_reach_readers_and_sources() {
    let out = js(r#"
        let c1;
        const errored = new ReadableStream({ start(c) { c1 = c; } });
        const reader = errored.getReader();
        const pending = reader.read().catch((e) => "read:" + e.message);
        c1.error(new RangeError("boom"));
        const afterError = [await pending, await reader.closed.catch((e) => "closed:" + e.message), c1.desiredSize];
        const enqueueAfterError = syncErr(() => c1.enqueue(1));

        let cancelReason;
        let c2;
        const cancelled = new ReadableStream({ start(c) { c2 = c; }, cancel(r) { cancelReason = r; return new Promise((res) => setTimeout(res, 1)); } });
        const r2 = cancelled.getReader();
        const waiting = r2.read();
        const cancelResult = await r2.cancel("why");
        const waitingResult = await waiting;
        const closeAfterCancel = syncErr(() => c2.close());

        const locked = new ReadableStream();
        locked.getReader();
        const cancelLocked = await err(locked.cancel());

        let c3;
        const closing = new ReadableStream({ start(c) { c3 = c; } });
        c3.close();
        const enqueueAfterClose = syncErr(() => c3.enqueue("x"));
        const closeTwice = syncErr(() => c3.close());

        const startThrows = syncErr(() => new ReadableStream({ start() { throw new URIError("start"); } }));
        const pullRejects = await err(new ReadableStream({ pull() { return Promise.reject(new EvalError("pull")); } }).getReader().read());
        return { afterError, enqueueAfterError, cancelReason, cancelResult: cancelResult === undefined, waitingResult, closeAfterCancel, cancelLocked, enqueueAfterClose, closeTwice, startThrows, pullRejects };"#);
    assert_eq!(out["afterError"], json!(["read:boom", "closed:boom", null]));
    assert_eq!(out["enqueueAfterError"], json!("TypeError"));
    assert_eq!(out["cancelReason"], json!("why"));
    assert_eq!(out["cancelResult"], json!(true));
    assert_eq!(out["waitingResult"], json!({"done": true}));
    assert_eq!(out["closeAfterCancel"], json!("TypeError"));
    assert_eq!(out["cancelLocked"], json!("TypeError"));
    assert_eq!(out["enqueueAfterClose"], json!("TypeError"));
    assert_eq!(out["closeTwice"], json!("TypeError"));
    assert_eq!(out["startThrows"], json!("URIError"));
    assert_eq!(out["pullRejects"], json!("EvalError"));
}

#[test]
fn byte_streams_fill_byob_views() {
    let out = js(r#"
        // A source that writes an increasing counter into whatever view it is offered.
        let next = 0;
        const byobRequests = [];
        const counting = () => new ReadableStream({
          type: "bytes",
          pull(c) {
            const req = c.byobRequest;
            byobRequests.push(req ? req.view.byteLength : null);
            const view = req.view;
            const n = Math.min(3, view.byteLength);
            for (let i = 0; i < n; i++) view[i] = next++;
            req.respond(n);
            if (next >= 9) c.close();
          },
        });
        const rs = counting();
        const reader = rs.getReader({ mode: "byob" });
        const first = await reader.read(new Uint8Array(8));
        const firstBufferDetachedCheck = first.value.buffer.byteLength;
        const second = await reader.read(new Uint8Array(8), { min: 4 });
        const third = await reader.read(new Uint16Array(2));
        const end = await reader.read(new Uint8Array(4));
        const tag = String(reader);

        // The view handed to read() is transferred: its buffer is detached.
        const source = new Uint8Array(4);
        const r2 = new ReadableStream({ type: "bytes", start(c) { c.enqueue(new Uint8Array([7, 8])); c.close(); } }).getReader({ mode: "byob" });
        const viaQueue = await r2.read(source);

        // Default readers of byte streams get Uint8Arrays, with autoAllocateChunkSize a BYOB request.
        let autoView;
        const auto = new ReadableStream({ type: "bytes", autoAllocateChunkSize: 16, pull(c) { autoView = c.byobRequest.view.byteLength; c.byobRequest.view[0] = 42; c.byobRequest.respond(1); c.close(); } });
        const autoRead = await auto.getReader().read();

        // respondWithNewView hands back a view over the transferred buffer.
        const newView = await new ReadableStream({ type: "bytes", pull(c) {
          const v = c.byobRequest.view;
          const replacement = new Uint8Array(v.buffer, v.byteOffset, 2);
          replacement.set([5, 6]);
          c.byobRequest.respondWithNewView(replacement);
        } }).getReader({ mode: "byob" }).read(new Uint8Array(4));

        // An odd byte count cannot fill a Uint16 element when the stream closes.
        const partial = new ReadableStream({ type: "bytes", start(c) { c.enqueue(new Uint8Array([1])); }, pull(c) { try { c.close(); } catch (e) { partialClose = e.name; } } });
        let partialClose;
        const partialRead = await err(partial.getReader({ mode: "byob" }).read(new Uint16Array(1)));

        let ctl;
        const checks = new ReadableStream({ type: "bytes", start(c) { ctl = c; } });
        const cr = checks.getReader({ mode: "byob" });
        return {
          first: [first.done, [...first.value], first.value.constructor.name, firstBufferDetachedCheck],
          second: [...second.value],
          third: [third.value.constructor.name, third.value.length],
          end: [end.done, end.value.byteLength],
          byobRequests, tag,
          viaQueue: [[...viaQueue.value], source.byteLength],
          autoView, autoRead: [autoRead.value.constructor.name, [...autoRead.value]],
          newView: [...newView.value.value ?? newView.value],
          partialClose, partialRead,
          zeroView: await err(cr.read(new Uint8Array(0))),
          notView: await err(cr.read({})),
          minZero: await err(cr.read(new Uint8Array(2), { min: 0 })),
          minTooBig: await err(cr.read(new Uint8Array(2), { min: 3 })),
          emptyEnqueue: syncErr(() => ctl.enqueue(new Uint8Array(0))),
          notViewEnqueue: syncErr(() => ctl.enqueue("x")),
          byobOfDefault: syncErr(() => new ReadableStream().getReader({ mode: "byob" })),
          badMode: syncErr(() => new ReadableStream().getReader({ mode: "other" })),
          autoZero: syncErr(() => new ReadableStream({ type: "bytes", autoAllocateChunkSize: 0 })),
          requestCtor: syncErr(() => new ReadableStreamBYOBRequest()),
        };"#);
    assert_eq!(out["first"], json!([false, [0, 1, 2], "Uint8Array", 8]));
    assert_eq!(
        out["second"],
        json!([3, 4, 5, 6, 7, 8]),
        "min: 4 waits for two pulls"
    );
    assert_eq!(out["third"], json!(["Uint16Array", 0]));
    assert_eq!(out["end"], json!([true, 0]));
    assert_eq!(out["byobRequests"], json!([8, 8, 5]));
    assert_eq!(out["tag"], json!("[object ReadableStreamBYOBReader]"));
    assert_eq!(out["viaQueue"], json!([[7, 8], 0]));
    assert_eq!(out["autoView"], json!(16));
    assert_eq!(out["autoRead"], json!(["Uint8Array", [42]]));
    assert_eq!(out["newView"], json!([5, 6]));
    assert_eq!(out["partialClose"], json!("TypeError"));
    assert_eq!(out["partialRead"], json!("TypeError"));
    assert_eq!(out["zeroView"], json!("TypeError"));
    assert_eq!(out["notView"], json!("TypeError"));
    assert_eq!(out["minZero"], json!("TypeError"));
    assert_eq!(out["minTooBig"], json!("RangeError"));
    for key in [
        "emptyEnqueue",
        "notViewEnqueue",
        "byobOfDefault",
        "badMode",
        "autoZero",
        "requestCtor",
    ] {
        assert_eq!(out[key], json!("TypeError"), "{key}");
    }
}

#[test]
fn tee_feeds_both_branches_and_cancels_the_source_only_with_both() {
    let out = js(r#"
        let cancelled = "no";
        const make = () => new ReadableStream({
          start(c) { c.enqueue(1); c.enqueue(2); c.enqueue(3); c.close(); },
          cancel(r) { cancelled = r; },
        });
        const [a, b] = make().tee();
        const both = [await readAll(a), await readAll(b)];

        let source;
        const slow = new ReadableStream({ start(c) { source = c; }, cancel(r) { cancelled = r; } });
        const [x, y] = slow.tee();
        const lockedSource = slow.locked;
        const xCancel = x.cancel("x-reason");
        source.enqueue("still flowing");
        const yReader = y.getReader();
        const yFirst = await yReader.read();
        const afterOne = cancelled;
        yReader.cancel("y-reason");
        await xCancel;
        const composite = cancelled;

        let errSource;
        const [e1, e2] = new ReadableStream({ start(c) { errSource = c; } }).tee();
        errSource.error(new TypeError("source failed"));
        const errors = [await err(e1.getReader().read()), await err(e2.getReader().read())];

        const [b1, b2] = new ReadableStream({ type: "bytes", start(c) { c.enqueue(new Uint8Array([1, 2, 3])); c.close(); } }).tee();
        const byob = await b1.getReader({ mode: "byob" }).read(new Uint8Array(2));
        const other = await readAll(b2);
        return { both, lockedSource, yFirst, afterOne, composite, errors, byob: [...byob.value], other: other.map((c) => [...c]) };"#);
    assert_eq!(out["both"], json!([[1, 2, 3], [1, 2, 3]]));
    assert_eq!(out["lockedSource"], json!(true));
    assert_eq!(
        out["yFirst"],
        json!({"value": "still flowing", "done": false})
    );
    assert_eq!(
        out["afterOne"],
        json!("no"),
        "cancelling one branch leaves the source alone"
    );
    assert_eq!(out["composite"], json!(["x-reason", "y-reason"]));
    assert_eq!(out["errors"], json!(["TypeError", "TypeError"]));
    assert_eq!(out["byob"], json!([1, 2]));
    // The BYOB read took two bytes from the source's chunk; the other branch
    // gets a copy of what was read, then the rest.
    assert_eq!(out["other"], json!([[1, 2], [3]]));
}

#[test]
fn pipe_to_honours_its_options_and_signal() {
    let out = js(r#"
        const recorder = (opts = {}) => {
          const log = [];
          const ws = new WritableStream({
            write(c) { log.push("write:" + c); if (opts.failOn === c) throw new RangeError("sink failed"); },
            close() { log.push("close"); },
            abort(r) { log.push("abort:" + (r?.name ?? r)); },
          }, opts.strategy);
          return { ws, log };
        };
        const from = (items, extra = {}) => new ReadableStream({
          start(c) { for (const i of items) c.enqueue(i); if (!extra.open) c.close(); if (extra.fail) c.error(new SyntaxError("source failed")); },
          cancel(r) { extra.cancelled = r?.name ?? r; },
        });

        const plain = recorder();
        await from(["a", "b"]).pipeTo(plain.ws);

        const keepOpen = recorder();
        await from(["a"]).pipeTo(keepOpen.ws, { preventClose: true });
        const stillWritable = await keepOpen.ws.getWriter().write("later").then(() => "written");

        const forwardError = recorder();
        const fe = await err(new ReadableStream({ start(c) { c.error(new SyntaxError("source failed")); } }).pipeTo(forwardError.ws));

        const noAbort = recorder();
        const na = await err(new ReadableStream({ start(c) { c.error(new SyntaxError("x")); } }).pipeTo(noAbort.ws, { preventAbort: true }));

        const backward = recorder({ failOn: "b" });
        const backwardSource = {};
        const be = await err(from(["a", "b", "c"], backwardSource).pipeTo(backward.ws));

        const noCancel = recorder({ failOn: "a" });
        const noCancelSource = {};
        const nc = await err(from(["a"], noCancelSource).pipeTo(noCancel.ws, { preventCancel: true }));

        const controller = new AbortController();
        const aborted = recorder();
        const abortedSource = { open: true };
        const pipe = from(["a"], abortedSource).pipeTo(aborted.ws, { signal: controller.signal });
        await tick();
        controller.abort();
        const abortResult = await pipe.catch((e) => e.name);

        const pre = recorder();
        const preSource = { open: true };
        const preResult = await err(from(["a"], preSource).pipeTo(pre.ws, { signal: AbortSignal.abort(new EvalError("early")), preventAbort: true }));

        const lockedDest = new WritableStream();
        lockedDest.getWriter();
        const lockedSource = new ReadableStream();
        lockedSource.getReader();
        const closedDest = new WritableStream();
        await closedDest.close();
        const closedDestSource = {};
        const cd = await err(from(["a"], { ...closedDestSource, open: true }).pipeTo(closedDest));

        // Backpressure: with a high-water mark of 1 and a slow sink, the pipe reads only as the sink drains.
        let pulls = 0;
        const slowLog = [];
        const slow = new WritableStream({ write(c) { slowLog.push(c); return new Promise((r) => setTimeout(r, 1)); } }, { highWaterMark: 1 });
        let i = 0;
        const counted = new ReadableStream({ pull(c) { pulls++; c.enqueue(i++); if (i === 5) c.close(); } }, { highWaterMark: 0 });
        await counted.pipeTo(slow);

        return {
          plain: plain.log, keepOpen: keepOpen.log, stillWritable, forwardError: [fe, forwardError.log], noAbort: [na, noAbort.log],
          backward: [be, backward.log, backwardSource.cancelled], noCancel: [nc, noCancelSource.cancelled ?? "not cancelled"],
          abort: [abortResult, aborted.log, abortedSource.cancelled], pre: [preResult, pre.log, preSource.cancelled],
          lockedDest: await err(new ReadableStream().pipeTo(lockedDest)), lockedSource: await err(lockedSource.pipeTo(new WritableStream())),
          notDest: await err(new ReadableStream().pipeTo({})), badSignal: await err(new ReadableStream().pipeTo(new WritableStream(), { signal: {} })),
          closedDest: cd, slow: [pulls, slowLog],
        };"#);
    assert_eq!(out["plain"], json!(["write:a", "write:b", "close"]));
    assert_eq!(out["keepOpen"], json!(["write:a", "write:later"]));
    assert_eq!(out["stillWritable"], json!("written"));
    assert_eq!(
        out["forwardError"],
        json!(["SyntaxError", ["abort:SyntaxError"]])
    );
    assert_eq!(out["noAbort"], json!(["SyntaxError", []]));
    assert_eq!(
        out["backward"],
        json!(["RangeError", ["write:a", "write:b"], "RangeError"])
    );
    assert_eq!(out["noCancel"], json!(["RangeError", "not cancelled"]));
    assert_eq!(
        out["abort"],
        json!(["AbortError", ["write:a", "abort:AbortError"], "AbortError"])
    );
    assert_eq!(out["pre"], json!(["EvalError", [], "EvalError"]));
    assert_eq!(out["lockedDest"], json!("TypeError"));
    assert_eq!(out["lockedSource"], json!("TypeError"));
    assert_eq!(out["notDest"], json!("TypeError"));
    assert_eq!(out["badSignal"], json!("TypeError"));
    assert_eq!(out["closedDest"], json!("TypeError"));
    assert_eq!(out["slow"], json!([5, [0, 1, 2, 3, 4]]));
}

#[test]
fn transform_streams_transform_flush_terminate_and_propagate_errors() {
    let out = js(r#"
        const upper = new TransformStream({
          transform(chunk, c) { c.enqueue(chunk.toUpperCase()); },
          flush(c) { c.enqueue("!"); },
        });
        const piped = await readAll(new ReadableStream({ start(c) { c.enqueue("a"); c.enqueue("b"); c.close(); } }).pipeThrough(upper));

        const identity = new TransformStream();
        const iw = identity.writable.getWriter();
        iw.write(1); iw.write(2); iw.close();
        const identityOut = await readAll(identity.readable);

        const terminating = new TransformStream({ transform(chunk, c) { c.enqueue(chunk); c.terminate(); } });
        const tw = terminating.writable.getWriter();
        const firstWrite = tw.write("only");
        const terminated = [await readAll(terminating.readable), await err(firstWrite.then(() => tw.write("more"))), await err(tw.closed)];

        const failing = new TransformStream({ transform() { throw new RangeError("transform failed"); } });
        const failedRead = err(failing.readable.getReader().read());
        const fw = failing.writable.getWriter();
        const failed = [await err(fw.write("x")), await failedRead, await err(fw.closed)];

        let cancelReason;
        const cancelling = new TransformStream({ cancel(r) { cancelReason = r; } });
        await cancelling.readable.cancel("stop");
        const writeAfterCancel = await cancelling.writable.getWriter().write(1).catch((e) => "rejected:" + e);

        // Backpressure: the writer's desiredSize drops while the readable side is full.
        const bp = new TransformStream({}, { highWaterMark: 2 }, { highWaterMark: 0 });
        const bw = bp.writable.getWriter();
        await tick();
        const sizes = [bw.desiredSize];
        bw.write("a");
        sizes.push(bw.desiredSize);
        await tick();
        sizes.push(bw.desiredSize);
        const reader = bp.readable.getReader();
        await reader.read();
        await tick();
        sizes.push(bw.desiredSize);

        let ctl;
        new TransformStream({ start(c) { ctl = c; } });
        let startOrder = [];
        const ordered = new TransformStream({ start() { startOrder.push("start"); return new Promise((r) => setTimeout(() => { startOrder.push("started"); r(); }, 1)); }, transform(c) { startOrder.push("transform:" + c); } });
        ordered.readable.getReader().read();
        const ow = ordered.writable.getWriter();
        ow.write("x");
        await ow.ready;
        await tick(); await new Promise((r) => setTimeout(r, 5));

        return {
          piped, identityOut, terminated, failed, cancelReason, writeAfterCancel, sizes,
          desiredSize: ctl.desiredSize, tag: String(ctl), startOrder,
          readableType: syncErr(() => new TransformStream({ readableType: "bytes" })),
          writableType: syncErr(() => new TransformStream({ writableType: "bytes" })),
          badTransform: syncErr(() => new TransformStream({ transform: "x" })),
          pipeThroughBad: syncErr(() => new ReadableStream().pipeThrough({ readable: new ReadableStream() })),
          pipeThroughLocked: syncErr(() => { const t = new TransformStream(); t.writable.getWriter(); new ReadableStream().pipeThrough(t); }),
        };"#);
    assert_eq!(out["piped"], json!(["A", "B", "!"]));
    assert_eq!(out["identityOut"], json!([1, 2]));
    assert_eq!(
        out["terminated"],
        json!([["only"], "TypeError", "TypeError"])
    );
    assert_eq!(
        out["failed"],
        json!(["RangeError", "RangeError", "RangeError"])
    );
    assert_eq!(out["cancelReason"], json!("stop"));
    // Cancelling the readable side errors the writable side with the reason.
    assert_eq!(out["writeAfterCancel"], json!("rejected:stop"));
    assert_eq!(out["sizes"], json!([2, 1, 1, 2]));
    assert_eq!(out["desiredSize"], json!(0));
    assert_eq!(
        out["tag"],
        json!("[object TransformStreamDefaultController]")
    );
    assert_eq!(
        out["startOrder"],
        json!(["start", "started", "transform:x"])
    );
    assert_eq!(out["readableType"], json!("RangeError"));
    assert_eq!(out["writableType"], json!("RangeError"));
    assert_eq!(out["badTransform"], json!("TypeError"));
    assert_eq!(out["pipeThroughBad"], json!("TypeError"));
    assert_eq!(out["pipeThroughLocked"], json!("TypeError"));
}

#[test]
fn writable_streams_queue_writes_with_backpressure() {
    let out = js(r#"
        const log = [];
        let release;
        const ws = new WritableStream({
          start() { log.push("start"); },
          write(chunk) { log.push("write:" + chunk); return new Promise((r) => { release = r; }); },
          close() { log.push("close"); },
        }, new CountQueuingStrategy({ highWaterMark: 2 }));
        const writer = ws.getWriter();
        const sizes = [writer.desiredSize];
        const w1 = writer.write("a");
        const w2 = writer.write("b");
        const w3 = writer.write("c");
        sizes.push(writer.desiredSize);
        let readyResolved = false;
        writer.ready.then(() => { readyResolved = true; });
        await tick();
        const beforeRelease = [readyResolved, log.slice()];
        release(); await tick(); release(); await tick(); release(); await tick();
        await Promise.all([w1, w2, w3]);
        sizes.push(writer.desiredSize);
        const closed = writer.close();
        await closed;
        await writer.closed;

        let signal, abortSeen;
        const abortable = new WritableStream({
          start(c) { signal = c.signal; signal.addEventListener("abort", () => { abortSeen = signal.reason; }); },
          write() { return new Promise(() => {}); },
          abort(r) { log.push("abort:" + r); },
        });
        const aw = abortable.getWriter();
        const hanging = aw.write("never");
        const abortPromise = aw.abort("because");
        const abortState = [signal.aborted, abortSeen];

        let lateSignal;
        const late = new WritableStream({ start(c) { lateSignal = c; } });
        await late.abort("late reason");
        const lateAbort = [lateSignal.signal.aborted, lateSignal.signal.reason];

        let errCtl;
        const failing = new WritableStream({ start(c) { errCtl = c; } });
        const fw = failing.getWriter();
        errCtl.error(new URIError("sink error"));
        const failed = [await err(fw.write(1)), await err(fw.closed), await err(fw.ready), fw.desiredSize];

        const throwingWrite = new WritableStream({ write() { throw new SyntaxError("write"); } });
        const tw = throwingWrite.getWriter();
        const tw1 = await err(tw.write(1));
        const tw2 = await err(tw.write(2));

        const released = new WritableStream().getWriter();
        released.releaseLock();

        const closing = new WritableStream();
        const cw = closing.getWriter();
        cw.close();
        return {
          log, sizes, beforeRelease, abortState, lateAbort, failed, throwingWrite: [tw1, tw2],
          hanging: await Promise.race([hanging.then(() => "fulfilled", (e) => "rejected:" + e), new Promise((r) => setTimeout(() => r("pending"), 5))]),
          abortResult: await abortPromise,
          locked: syncErr(() => ws.getWriter()) === "ok" ? "unlocked" : "locked",
          lockedAgain: syncErr(() => { const s = new WritableStream(); s.getWriter(); s.getWriter(); }),
          abortLocked: await err(abortable.abort()),
          releasedWrite: await err(released.write(1)), releasedDesired: syncErr(() => released.desiredSize), releasedClosed: await err(released.closed),
          writeWhileClosing: await err(cw.write(1)), closeTwice: await err(cw.close()),
          badType: syncErr(() => new WritableStream({ type: "bytes" })),
          badWrite: syncErr(() => new WritableStream({ write: 5 })),
          controllerCtor: syncErr(() => new WritableStreamDefaultController()),
          tag: String(writer),
        };"#);
    assert_eq!(
        out["log"],
        json!([
            "start",
            "write:a",
            "write:b",
            "write:c",
            "close",
            "abort:because"
        ])
    );
    assert_eq!(out["sizes"], json!([2, -1, 2]));
    assert_eq!(out["beforeRelease"], json!([false, ["start", "write:a"]]));
    assert_eq!(out["abortState"], json!([true, "because"]));
    assert_eq!(out["lateAbort"], json!([true, "late reason"]));
    assert_eq!(
        out["failed"],
        json!(["URIError", "URIError", "URIError", null])
    );
    assert_eq!(out["throwingWrite"], json!(["SyntaxError", "SyntaxError"]));
    assert_eq!(out["hanging"], json!("rejected:because"));
    assert_eq!(out["abortResult"], json!(null));
    assert_eq!(out["locked"], json!("locked"));
    for key in [
        "lockedAgain",
        "abortLocked",
        "releasedWrite",
        "releasedDesired",
        "releasedClosed",
        "writeWhileClosing",
        "closeTwice",
        "badWrite",
        "controllerCtor",
    ] {
        assert_eq!(out[key], json!("TypeError"), "{key}");
    }
    assert_eq!(out["badType"], json!("RangeError"));
    assert_eq!(out["tag"], json!("[object WritableStreamDefaultWriter]"));
}

#[test]
fn async_iteration_and_from() {
    let out = js(r#"
        const numbers = () => new ReadableStream({ start(c) { for (let i = 0; i < 5; i++) c.enqueue(i); c.close(); } });
        const all = [];
        for await (const n of numbers()) all.push(n);

        let cancelled = "no";
        const endless = new ReadableStream({ pull(c) { c.enqueue("x"); }, cancel(r) { cancelled = r === undefined ? "cancelled" : r; } });
        for await (const chunk of endless) break;
        const afterBreak = [cancelled, endless.locked];

        let kept = "no";
        const keep = new ReadableStream({ start(c) { c.enqueue(1); c.enqueue(2); c.close(); }, cancel() { kept = "cancelled"; } });
        for await (const n of keep.values({ preventCancel: true })) break;
        const resumed = await readAll(keep);

        const it = numbers()[Symbol.asyncIterator]();
        const concurrent = await Promise.all([it.next(), it.next(), it.next()]);
        const returned = await it.return("done value");
        const afterReturn = await it.next();
        const iterProto = Object.getPrototypeOf(it);

        const erroring = new ReadableStream({ start(c) { c.error(new RangeError("iter")); } });
        let iterError;
        try { for await (const _ of erroring) {} } catch (e) { iterError = e.name; }

        const fromArray = await readAll(ReadableStream.from([1, Promise.resolve(2), 3]));
        let returnedWith = "no";
        async function* gen() { try { yield "a"; yield "b"; yield "c"; } finally { returnedWith = "finally"; } }
        const fromGen = ReadableStream.from(gen());
        const genReader = fromGen.getReader();
        const genFirst = await genReader.read();
        await genReader.cancel("stop");
        const fromIterableObject = await readAll(ReadableStream.from({ [Symbol.asyncIterator]() { let i = 0; return { next() { return Promise.resolve(i < 2 ? { value: i++, done: false } : { done: true }); } }; } }));
        const badResult = await err(ReadableStream.from({ [Symbol.asyncIterator]() { return { next() { return 42; } }; } }).getReader().read());
        return {
          all, afterBreak, kept, resumed, concurrent, returned, afterReturn, iterError,
          iterTag: Object.prototype.toString.call(it), hasNext: typeof iterProto.next, hasCtor: Object.hasOwn(iterProto, "constructor"),
          asyncIteratorIsValues: ReadableStream.prototype[Symbol.asyncIterator] === ReadableStream.prototype.values,
          lockedIterate: syncErr(() => { const s = new ReadableStream(); s.getReader(); s.values(); }),
          fromArray, genFirst, returnedWith, fromIterableObject, badResult,
          fromNumber: syncErr(() => ReadableStream.from(5)),
          fromNull: syncErr(() => ReadableStream.from(null)),
        };"#);
    assert_eq!(out["all"], json!([0, 1, 2, 3, 4]));
    assert_eq!(out["afterBreak"], json!(["cancelled", false]));
    assert_eq!(out["kept"], json!("no"));
    assert_eq!(out["resumed"], json!([2]));
    assert_eq!(
        out["concurrent"],
        json!([{"value": 0, "done": false}, {"value": 1, "done": false}, {"value": 2, "done": false}])
    );
    assert_eq!(
        out["returned"],
        json!({"value": "done value", "done": true})
    );
    assert_eq!(out["afterReturn"], json!({"done": true}));
    assert_eq!(out["iterError"], json!("RangeError"));
    assert_eq!(
        out["iterTag"],
        json!("[object ReadableStream AsyncIterator]")
    );
    assert_eq!(out["hasNext"], json!("function"));
    assert_eq!(out["hasCtor"], json!(false));
    assert_eq!(out["asyncIteratorIsValues"], json!(true));
    assert_eq!(out["lockedIterate"], json!("TypeError"));
    assert_eq!(out["fromArray"], json!([1, 2, 3]));
    assert_eq!(out["genFirst"], json!({"value": "a", "done": false}));
    assert_eq!(out["returnedWith"], json!("finally"));
    assert_eq!(out["fromIterableObject"], json!([0, 1]));
    assert_eq!(out["badResult"], json!("TypeError"));
    assert_eq!(out["fromNumber"], json!("TypeError"));
    assert_eq!(out["fromNull"], json!("TypeError"));
}

#[test]
fn queuing_strategies_follow_the_spec() {
    let out = js(r#"
        const b = new ByteLengthQueuingStrategy({ highWaterMark: 16 });
        const c = new CountQueuingStrategy({ highWaterMark: "4" });
        return {
          b: [b.highWaterMark, b.size(new Uint8Array(7)), b.size.name, b.size.length, String(b)],
          c: [c.highWaterMark, c.size("anything"), c.size.name, c.size.length, String(c)],
          sharedSize: b.size === new ByteLengthQueuingStrategy({ highWaterMark: 1 }).size && c.size === new CountQueuingStrategy({ highWaterMark: 1 }).size,
          sizeWithoutThis: b.size.call(undefined, { byteLength: 3 }),
          missing: syncErr(() => new CountQueuingStrategy({})),
          noInit: syncErr(() => new ByteLengthQueuingStrategy()),
          brand: syncErr(() => Object.getOwnPropertyDescriptor(CountQueuingStrategy.prototype, "highWaterMark").get.call({})),
        };"#);
    assert_eq!(
        out["b"],
        json!([16, 7, "size", 1, "[object ByteLengthQueuingStrategy]"])
    );
    assert_eq!(
        out["c"],
        json!([4, 1, "size", 0, "[object CountQueuingStrategy]"])
    );
    assert_eq!(out["sharedSize"], json!(true));
    assert_eq!(out["sizeWithoutThis"], json!(3));
    assert_eq!(out["missing"], json!("TypeError"));
    assert_eq!(out["noInit"], json!("TypeError"));
    assert_eq!(out["brand"], json!("TypeError"));
}

#[test]
fn text_encoder_and_decoder_streams_handle_split_characters() {
    let out = js(r#"
        const enc = new TextEncoderStream();
        const ew = enc.writable.getWriter();
        const encoded = readAll(enc.readable);
        ew.write("a\u2603");
        ew.write("\ud83d");      // a high surrogate at the end of a chunk ...
        ew.write("\ude00b");     // ... pairs with the low surrogate of the next
        ew.write("\ud800");      // and a lone one at the end becomes U+FFFD
        ew.close();
        const encodedHex = (await encoded).map(hex);

        const dec = new TextDecoderStream();
        const dw = dec.writable.getWriter();
        const decoded = readAll(dec.readable);
        const snowman = new TextEncoder().encode("x\u2603y");
        dw.write(snowman.slice(0, 2));   // "x" and the first byte of the snowman
        dw.write(snowman.slice(2, 3));
        dw.write(snowman.slice(3).buffer);
        dw.write(new Uint8Array([0xe2, 0x98]));   // unfinished at the end: U+FFFD
        dw.close();

        const fatal = new TextDecoderStream("utf-8", { fatal: true });
        const fw = fatal.writable.getWriter();
        const fatalWrite = err(fw.write(new Uint8Array([0xff])));
        const fatalRead = err(fatal.readable.getReader().read());

        const latin = new TextDecoderStream("latin1");
        const lw = latin.writable.getWriter();
        lw.write(new Uint8Array([0xe9])); lw.close();
        return {
          encodedHex, encoding: enc.encoding, decoded: await decoded,
          fatal: [await fatalWrite, await fatalRead, fatal.fatal, fatal.ignoreBOM],
          latin: [await readAll(latin.readable), latin.encoding],
          notBytes: await writeErr(new TextDecoderStream(), "text"),
          badLabel: syncErr(() => new TextDecoderStream("no-such-encoding")),
          tags: [String(enc), String(dec)],
        };"#);
    assert_eq!(
        out["encodedHex"],
        json!(["61e29883", "f09f988062", "efbfbd"])
    );
    assert_eq!(out["encoding"], json!("utf-8"));
    assert_eq!(out["decoded"], json!(["x", "\u{2603}y", "\u{FFFD}"]));
    assert_eq!(out["fatal"], json!(["TypeError", "TypeError", true, false]));
    assert_eq!(out["latin"], json!([["\u{e9}"], "windows-1252"]));
    assert_eq!(out["notBytes"], json!("TypeError"));
    assert_eq!(out["badLabel"], json!("RangeError"));
    assert_eq!(
        out["tags"],
        json!(["[object TextEncoderStream]", "[object TextDecoderStream]"])
    );
}

/// `"hello isola streams ☃\n" * 3`, compressed by Python 3
/// (`gzip.compress(data, mtime=0)`, `zlib.compress(data)` and a raw
/// `zlib.compressobj(9, DEFLATED, -15)`).
const PY_GZIP: &str = "1f8b0800000000000203cb48cdc9c957c82ccecf4954282e294a4dcc2d567834a3992b83447100d2e4c62148000000";
const PY_ZLIB: &str = "789ccb48cdc9c957c82ccecf4954282e294a4dcc2d567834a3992b8344710011841cb7";
const PY_RAW: &str = "cb48cdc9c957c82ccecf4954282e294a4dcc2d567834a3992b83447100";

#[test]
fn compression_round_trips_and_reads_python_output() {
    let body = format!(
        r#"
        const text = "hello isola streams \u2603\n".repeat(3);
        const decode = async (format, h, pieces) => new TextDecoder().decode(await through(unhex(h), new DecompressionStream(format), pieces));
        const big = new Uint8Array(300000).map((_, i) => (i * 7919) % 251 ^ (i >> 9));
        const trips = {{}};
        for (const format of ["gzip", "deflate", "deflate-raw"]) {{
          const packed = await through(big, new CompressionStream(format), 7);
          const unpacked = await through(packed, new DecompressionStream(format), 13);
          trips[format] = [packed.length < big.length, unpacked.length === big.length && unpacked.every((b, i) => b === big[i]), hex(packed.slice(0, 2))];
        }}
        const empty = await through(new Uint8Array(0), new CompressionStream("gzip"));
        return {{
          text,
          gzip: await decode("gzip", "{PY_GZIP}", 1),
          gzipBytewise: await decode("gzip", "{PY_GZIP}", 100),
          deflate: await decode("deflate", "{PY_ZLIB}", 3),
          raw: await decode("deflate-raw", "{PY_RAW}", 2),
          trips,
          empty: [hex(empty.slice(0, 4)), (await through(empty, new DecompressionStream("gzip"))).length],
          bufferInput: new TextDecoder().decode(await through(unhex("{PY_RAW}").buffer, new DecompressionStream("deflate-raw"))),
          tags: [String(new CompressionStream("gzip")), String(new DecompressionStream("deflate"))],
        }};"#
    );
    let out = js(&body);
    let text = out["text"].clone();
    assert_eq!(out["gzip"], text);
    assert_eq!(out["gzipBytewise"], text);
    assert_eq!(out["deflate"], text);
    assert_eq!(out["raw"], text);
    assert_eq!(out["bufferInput"], text);
    assert_eq!(out["trips"]["gzip"], json!([true, true, "1f8b"]));
    assert_eq!(out["trips"]["deflate"], json!([true, true, "789c"]));
    assert_eq!(out["trips"]["deflate-raw"][0], json!(true));
    assert_eq!(out["trips"]["deflate-raw"][1], json!(true));
    assert_eq!(out["empty"], json!(["1f8b0800", 0]));
    assert_eq!(
        out["tags"],
        json!(["[object CompressionStream]", "[object DecompressionStream]"])
    );
}

#[test]
fn bad_compressed_input_is_a_type_error() {
    let body = format!(
        r#"
        const fail = async (format, bytes) => {{
          const ds = new DecompressionStream(format);
          const w = ds.writable.getWriter();
          const read = readAll(ds.readable).then(() => "resolved", (e) => e.name + ": " + e.message);
          w.write(bytes).catch(() => {{}});
          w.close().catch(() => {{}});
          return read;
        }};
        const gz = unhex("{PY_GZIP}");
        const withTrailing = new Uint8Array(gz.length + 1); withTrailing.set(gz); withTrailing[gz.length] = 0;
        const corrupted = gz.slice(); corrupted[corrupted.length - 5] ^= 0xff;
        return {{
          truncated: await fail("gzip", gz.slice(0, gz.length - 4)),
          truncatedDeflate: await fail("deflate", unhex("{PY_ZLIB}").slice(0, 10)),
          trailing: await fail("gzip", withTrailing),
          trailingRaw: await fail("deflate-raw", unhex("{PY_RAW}00")),
          corrupted: await fail("gzip", corrupted),
          garbage: await fail("deflate", new TextEncoder().encode("not compressed at all")),
          notBytes: await fail("gzip", "string chunk"),
          badFormat: syncErr(() => new CompressionStream("brotli")),
          noFormat: syncErr(() => new DecompressionStream()),
        }};"#
    );
    let out = js(&body);
    for key in [
        "truncated",
        "truncatedDeflate",
        "trailing",
        "trailingRaw",
        "corrupted",
        "garbage",
        "notBytes",
    ] {
        let message = out[key].as_str().unwrap_or_default();
        assert!(message.starts_with("TypeError: "), "{key}: {message}");
    }
    assert!(
        out["truncated"]
            .as_str()
            .is_some_and(|m| m.contains("ended before"))
    );
    assert!(
        out["trailing"]
            .as_str()
            .is_some_and(|m| m.contains("after the end"))
    );
    assert_eq!(out["badFormat"], json!("TypeError"));
    assert_eq!(out["noFormat"], json!("TypeError"));
}

/// 5 MiB of zeros, `gzip.compress(b"\0" * (5 << 20), 9, mtime=0)`: 5128 bytes.
const BOMB_B64: &str = include_str!("streams_bomb.b64");

#[test]
fn a_decompression_bomb_errors_cleanly() {
    let source = format!(
        r#"export default {{ async go() {{
            const bomb = Uint8Array.from(atob("{}"), (c) => c.charCodeAt(0));
            const ds = new DecompressionStream("gzip");
            const w = ds.writable.getWriter();
            w.write(bomb).catch(() => {{}});
            w.close().catch(() => {{}});
            let total = 0;
            const reader = ds.readable.getReader();
            try {{
              for (;;) {{ const {{ value, done }} = await reader.read(); if (done) break; total += value.length; }}
              return "inflated " + total;
            }} catch (e) {{
              return [e.name, e.message, total];
            }}
        }} }}"#,
        BOMB_B64.trim()
    );
    let worker = loader().load(esm(&source)).expect("valid");
    let rt = runtime();
    // A 16 MiB call caps each DecompressionStream at 4 MiB.
    let small = Limits {
        memory_bytes: 16 << 20,
        ..Limits::default()
    };
    let out = returned(
        rt.block_on(
            worker
                .entrypoint(None)
                .limits(small)
                .call("go", Value::Null),
        ),
    );
    assert_eq!(out[0], json!("TypeError"), "{out}");
    let message = out[1].as_str().unwrap_or_default();
    assert!(
        message.contains("exceeds the limit of 4194304 bytes"),
        "{message}"
    );
    assert!(
        out[2].as_u64().is_some_and(|n| n <= 4 << 20),
        "no more than the cap came out: {out}"
    );
    // Under the default 128 MiB limit the cap is 32 MiB, and 5 MiB inflates.
    let out = returned(rt.block_on(worker.entrypoint(None).call("go", Value::Null)));
    assert_eq!(out, json!(format!("inflated {}", 5 << 20)));
    assert_next_sandbox_works();
}

#[test]
fn compression_states_are_freed_and_capped() {
    let out = js(r#"
        // Finished, failed and cancelled streams give their host state back.
        for (let round = 0; round < 3; round++) {
          for (let i = 0; i < 64; i++) {
            const kind = i % 4;
            if (kind === 0) await through(new Uint8Array([1, 2, 3]), new CompressionStream("deflate"));
            else if (kind === 1) await through(new Uint8Array([1, 2, 3]), new DecompressionStream("deflate")).catch(() => {});
            else if (kind === 2) await new CompressionStream("gzip").readable.cancel();
            else await new DecompressionStream("gzip").writable.abort();
          }
        }
        // A codec is opened by the stream's first chunk; 64 streams in use
        // at once is the cap.
        const open = [];
        let tooMany;
        for (let i = 0; i < 65 && tooMany === undefined; i++) {
          const stream = new CompressionStream("gzip");
          stream.readable.getReader().read().catch(() => {});
          try { await stream.writable.getWriter().write(new Uint8Array([1])); open.push(stream); }
          catch (e) { tooMany = [e.name, open.length]; }
        }
        return { tooMany };"#);
    assert_eq!(out["tooMany"], json!(["RangeError", 64]));
}

#[test]
fn streams_load_lazily_and_ignore_guest_patching() {
    let out = js(r#"
        const before = typeof Object.getOwnPropertyDescriptor(globalThis, "ReadableStream").get;
        const originalThen = Promise.prototype.then;
        const rs = new ReadableStream({ start(c) { c.enqueue("a"); c.enqueue("b"); c.close(); } });
        // Patched after the chunk loaded: internal reactions must not see it.
        let patchedCalls = 0;
        Promise.prototype.then = function (...args) { patchedCalls++; return originalThen.apply(this, args); };
        Object.defineProperty(Object.prototype, "state", { get() { throw new Error("reached a prototype"); }, configurable: true });
        Array.prototype.push = () => { throw new Error("push patched"); };
        const sink = [];
        const ws = new WritableStream({ write(c) { sink[sink.length] = c; } });
        await rs.pipeThrough(new TransformStream()).pipeTo(ws);
        const internalCalls = patchedCalls;
        delete Object.prototype.state;
        Promise.prototype.then = originalThen;
        return { before, after: typeof Object.getOwnPropertyDescriptor(globalThis, "ReadableStream").value, sink, internalCalls };"#);
    assert_eq!(out["before"], json!("function"));
    assert_eq!(out["after"], json!("function"));
    assert_eq!(out["sink"], json!(["a", "b"]));
    // `await` of the returned promise is the only `then` the guest sees (none).
    assert_eq!(out["internalCalls"], json!(0));
}
