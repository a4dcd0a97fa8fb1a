//! Fetch-standard objects, Blob/File/FormData, base64 and structured clone,
//! tested from the specs (the WPT subset has no suites for these).

use isola::Value;
use serde_json::json;

use crate::support::*;

fn run(body: &str) -> serde_json::Value {
    let source = format!(
        r#"export default {{ async go() {{
            const err = (f) => {{ try {{ f(); return "ok"; }} catch (e) {{ return e.name; }} }};
            const rejects = async (p) => {{ try {{ await p; return "resolved"; }} catch (e) {{ return e.name; }} }};
            {body}
        }} }}"#
    );
    returned(call(esm(&source), "go", Value::Null))
}

#[test]
fn base64_is_forgiving_as_the_html_spec_says() {
    let out = run(r#"
        return {
          decoded: [atob("YQ=="), atob("YQ"), atob(" Y Q = = "), atob("\tYWI\n"), atob(""), atob(null)],
          invalid: [err(() => atob("YQ=")), err(() => atob("Y")), err(() => atob("Y===")), err(() => atob("Y*Q")), err(() => atob("YQ==YQ=="))],
          encoded: [btoa(""), btoa("a"), btoa("\u00ff\u00fe"), btoa(undefined), btoa(12)],
          wide: err(() => btoa("\u0100")),
          missing: [err(() => atob()), err(() => btoa())],
        };"#);
    assert_eq!(
        out["decoded"],
        json!(["a", "a", "a", "ab", "", "\u{9e}\u{e9}e"])
    );
    assert_eq!(out["invalid"], json!(vec!["InvalidCharacterError"; 5]));
    assert_eq!(
        out["encoded"],
        json!(["", "YQ==", "//4=", "dW5kZWZpbmVk", "MTI="])
    );
    assert_eq!(out["wide"], json!("InvalidCharacterError"));
    assert_eq!(out["missing"], json!(["TypeError", "TypeError"]));
}

#[test]
fn headers_validate_and_guard() {
    let out = run(r#"
        const h = new Headers({ "X-A": " 1 ", "x-a": "2" });
        const redirect = Response.redirect("https://example.com/x", 301);
        return {
          combined: h.get("x-a"),
          badName: [err(() => new Headers({ "a b": "1" })), err(() => h.append("", "1")), err(() => h.get("é"))],
          badValue: [err(() => h.set("a", "x\ny")), err(() => h.set("a", "x\0y")), err(() => h.set("a", "\u0100"))],
          pairs: [err(() => new Headers([["a"]])), err(() => new Headers([["a", "1", "2"]])), err(() => new Headers(5))],
          immutable: [err(() => redirect.headers.set("a", "1")), err(() => Response.error().headers.append("a", "1"))],
          location: redirect.headers.get("location"),
          setCookie: new Headers([["Set-Cookie", "a=1"], ["set-cookie", "b=2"]]).getSetCookie(),
          iteration: [...new Headers([["b", "2"], ["A", "1"], ["b", "3"]])],
        };"#);
    assert_eq!(out["combined"], json!("1, 2"));
    assert_eq!(out["badName"], json!(vec!["TypeError"; 3]));
    assert_eq!(out["badValue"], json!(vec!["TypeError"; 3]));
    assert_eq!(out["pairs"], json!(vec!["TypeError"; 3]));
    assert_eq!(out["immutable"], json!(vec!["TypeError"; 2]));
    assert_eq!(out["location"], json!("https://example.com/x"));
    assert_eq!(out["setCookie"], json!(["a=1", "b=2"]));
    assert_eq!(out["iteration"], json!([["a", "1"], ["b", "2, 3"]]));
}

#[test]
fn requests_follow_the_fetch_spec() {
    let out = run(r#"
        const r = new Request("https://example.com/a?b#c", { method: "post", body: "hi", headers: { "x-k": "v" } });
        const copy = r.clone();
        const derived = new Request(r, { method: "PUT" });
        return {
          basics: [r.method, r.url, r.headers.get("content-type"), r.headers.get("x-k"), r.redirect, r.signal instanceof AbortSignal],
          methods: [new Request("https://e.test", { method: "patch" }).method, new Request("https://e.test", { method: "Custom" }).method],
          forbidden: [err(() => new Request("https://e.test", { method: "CONNECT" })), err(() => new Request("https://e.test", { method: "bad method" }))],
          getBody: err(() => new Request("https://e.test", { body: "x" })),
          credentials: err(() => new Request("https://u:p@e.test/")),
          relative: err(() => new Request("/relative")),
          redirectEnum: err(() => new Request("https://e.test", { redirect: "sometimes" })),
          init: err(() => new Request("https://e.test", 5)),
          copyText: await copy.text(),
          derived: [derived.method, await derived.text(), r.bodyUsed],
          reuse: err(() => new Request(r)),
          prototype: ["method", "url", "headers", "body", "bodyUsed", "text", "formData", "blob"].every((k) => k in Request.prototype),
          ownKeys: Object.keys(r),
        };"#);
    assert_eq!(
        out["basics"],
        json!([
            "POST",
            "https://example.com/a?b#c",
            "text/plain;charset=UTF-8",
            "v",
            "follow",
            true
        ])
    );
    assert_eq!(out["methods"], json!(["patch", "Custom"]));
    assert_eq!(out["forbidden"], json!(["TypeError", "TypeError"]));
    assert_eq!(out["getBody"], json!("TypeError"));
    assert_eq!(out["credentials"], json!("TypeError"));
    assert_eq!(out["relative"], json!("TypeError"));
    assert_eq!(out["redirectEnum"], json!("TypeError"));
    assert_eq!(out["init"], json!("TypeError"));
    assert_eq!(out["copyText"], json!("hi"));
    assert_eq!(out["derived"], json!(["PUT", "hi", true]));
    assert_eq!(out["reuse"], json!("TypeError"));
    assert_eq!(out["prototype"], json!(true));
    assert_eq!(out["ownKeys"], json!([]));
}

#[test]
fn responses_follow_the_fetch_spec() {
    let out = run(r#"
        const r = new Response("body", { status: 201, statusText: "Made", headers: { "x-a": "1" } });
        const copy = r.clone();
        const first = await r.text();
        const json = Response.json({ a: [1] }, { status: 202, headers: { "x-b": "2" } });
        const error = Response.error();
        return {
          basics: [r.status, r.statusText, r.ok, r.type, r.url, r.redirected, first, r.bodyUsed, copy.bodyUsed, await copy.text()],
          usedAgain: await rejects(r.text()),
          cloneUsed: err(() => r.clone()),
          status: [err(() => new Response("", { status: 199 })), err(() => new Response("", { status: 600 })), err(() => new Response("", { status: 200.5 }))],
          nullBody: [err(() => new Response("x", { status: 204 })), new Response(null, { status: 204 }).status],
          statusText: err(() => new Response("", { statusText: "a\nb" })),
          json: [json.status, json.headers.get("content-type"), json.headers.get("x-b"), await json.json()],
          notJson: err(() => Response.json(undefined)),
          redirect: [err(() => Response.redirect("https://e.test", 200)), err(() => Response.redirect("not a url")), Response.redirect("https://e.test/").status],
          error: [error.status, error.type, error.ok],
          bytes: [...await new Response(new Uint8Array([1, 2, 3])).bytes()],
          arrayBuffer: (await new Response("abc").arrayBuffer()).byteLength,
          emptyBody: [await new Response().text(), new Response().body],
          badJson: await rejects(new Response("{").json()),
        };"#);
    assert_eq!(
        out["basics"],
        json!([
            201, "Made", true, "default", "", false, "body", true, false, "body"
        ])
    );
    assert_eq!(out["usedAgain"], json!("TypeError"));
    assert_eq!(out["cloneUsed"], json!("TypeError"));
    assert_eq!(
        out["status"],
        json!(["RangeError", "RangeError", "RangeError"])
    );
    assert_eq!(out["nullBody"], json!(["TypeError", 204]));
    assert_eq!(out["statusText"], json!("TypeError"));
    assert_eq!(
        out["json"],
        json!([202, "application/json", "2", {"a": [1]}])
    );
    assert_eq!(out["notJson"], json!("TypeError"));
    assert_eq!(out["redirect"], json!(["RangeError", "TypeError", 302]));
    assert_eq!(out["error"], json!([0, "error", false]));
    assert_eq!(out["bytes"], json!([1, 2, 3]));
    assert_eq!(out["arrayBuffer"], json!(3));
    assert_eq!(out["emptyBody"], json!(["", null]));
    assert_eq!(out["badJson"], json!("SyntaxError"));
}

#[test]
fn blobs_files_and_form_data() {
    let out = run(r#"
        const bytes = new Uint8Array([104, 105]);
        const blob = new Blob(["a\r\nb", bytes, new Blob(["!"])], { type: "TEXT/Plain;charset=UTF-8" });
        bytes[0] = 0;
        const native = new Blob(["a\r\nb\rc"], { endings: "native" });
        const file = new File([blob], "f.txt", { lastModified: 42 });
        const form = new FormData();
        form.append("name", "value\n");
        form.append("file", file);
        form.append("blob", new Blob([new Uint8Array([0, 255])], { type: "application/x-bin" }), "b.bin");
        form.set("name", "replaced");
        const request = new Request("https://e.test/", { method: "POST", body: form });
        const parsed = await request.clone().formData();
        const raw = await request.text();
        const entries = [];
        for (const [k, v] of parsed) entries.push(typeof v === "string" ? [k, v] : [k, v.name, v.type, [...await v.bytes()]]);
        return {
          blob: [blob.size, blob.type, await blob.text()],
          native: await native.text(),
          badType: new Blob([], { type: "a\u00e9" }).type,
          slices: [await blob.slice(1, 3).text(), await blob.slice(-3, -1).text(), blob.slice(5, 1).size, blob.slice(0, 1, "X/Y").type],
          file: [file.name, file.lastModified, file.size, file.type, file instanceof Blob, Object.prototype.toString.call(file)],
          formKeys: [...form.keys()],
          formGet: [form.get("name"), form.get("file") === file, form.get("blob").name, form.has("nope"), form.get("nope")],
          notBlob: err(() => form.append("x", "y", "name.txt")),
          noForms: err(() => new FormData({})),
          multipart: raw.includes('Content-Disposition: form-data; name="file"; filename="f.txt"'),
          entries,
          contentType: request.headers.get("content-type").startsWith("multipart/form-data; boundary="),
          urlencoded: [...await new Response(new URLSearchParams("a=1&a=2")).formData()],
          badMultipart: await rejects(new Response("garbage", { headers: { "content-type": "multipart/form-data; boundary=x" } }).formData()),
          blobBody: [await new Response(blob).text(), new Response(blob).headers.get("content-type")],
          sequence: err(() => new Blob("abc")),
        };"#);
    assert_eq!(
        out["blob"],
        json!([7, "text/plain;charset=utf-8", "a\r\nbhi!"])
    );
    assert_eq!(out["native"], json!("a\nb\nc"));
    assert_eq!(out["badType"], json!(""));
    assert_eq!(out["slices"], json!(["\r\n", "hi", 0, "x/y"]));
    assert_eq!(
        out["file"],
        json!(["f.txt", 42, 7, "", true, "[object File]"])
    );
    assert_eq!(out["formKeys"], json!(["name", "file", "blob"]));
    assert_eq!(
        out["formGet"],
        json!(["replaced", true, "b.bin", false, null])
    );
    assert_eq!(out["notBlob"], json!("TypeError"));
    assert_eq!(out["noForms"], json!("TypeError"));
    assert_eq!(out["multipart"], json!(true));
    assert_eq!(
        out["entries"],
        json!([
            ["name", "replaced"],
            [
                "file",
                "f.txt",
                "application/octet-stream",
                [97, 13, 10, 98, 104, 105, 33]
            ],
            ["blob", "b.bin", "application/x-bin", [0, 255]]
        ])
    );
    assert_eq!(out["contentType"], json!(true));
    assert_eq!(out["urlencoded"], json!([["a", "1"], ["a", "2"]]));
    assert_eq!(out["badMultipart"], json!("TypeError"));
    assert_eq!(
        out["blobBody"],
        json!(["a\r\nbhi!", "text/plain;charset=utf-8"])
    );
    assert_eq!(out["sequence"], json!("TypeError"));
}

#[test]
fn structured_clone_follows_the_html_spec() {
    let out = run(r#"
        const shared = { v: 1 };
        const source = { m: new Map([[1, shared]]), s: new Set(["x"]), d: new Date(5), r: /a/gi, u: new Uint16Array([1, 2]),
          e: new RangeError("boom"), dom: new DOMException("gone", "AbortError"), big: 10n ** 20n, neg: -0, nan: NaN };
        const copy = structuredClone(source);
        return {
          values: [copy.m.get(1).v, copy.s.has("x"), copy.d.getTime(), copy.r.flags, copy.r.source, [...copy.u], copy.u instanceof Uint16Array],
          errors: [copy.e instanceof RangeError, copy.e.message, copy.dom.name, copy.dom.message, copy.dom instanceof DOMException],
          numbers: [copy.big === 10n ** 20n, Object.is(copy.neg, -0), Number.isNaN(copy.nan)],
          distinct: copy.m.get(1) !== shared,
          refused: [err(() => structuredClone(() => 1)), err(() => structuredClone(Symbol("s"))), err(() => structuredClone({ f() {} }))],
          getters: structuredClone({ get x() { return 7; } }).x,
          missing: err(() => structuredClone()),
        };"#);
    assert_eq!(out["values"], json!([1, true, 5, "gi", "a", [1, 2], true]));
    assert_eq!(
        out["errors"],
        json!([true, "boom", "AbortError", "gone", true])
    );
    assert_eq!(out["numbers"], json!([true, true, true]));
    assert_eq!(out["distinct"], json!(true));
    assert_eq!(out["refused"], json!(vec!["DataCloneError"; 3]));
    assert_eq!(out["getters"], json!(7));
}

#[test]
fn bodies_are_readable_streams() {
    let out = run(r#"
        const encoder = new TextEncoder();
        const response = new Response("hello stream");
        const reader = response.body.getReader();
        const chunks = [];
        for (;;) { const { done, value } = await reader.read(); if (done) break; chunks.push(...value); }
        const streamed = new Response(new ReadableStream({ start(c) { c.enqueue(encoder.encode("a")); c.enqueue(encoder.encode("b")); c.close(); } }));
        const copy = streamed.clone();
        const zipped = new Response("zip me ".repeat(100)).body.pipeThrough(new CompressionStream("gzip"));
        const locked = new ReadableStream(); locked.getReader();
        const request = new Request("https://e.test", { method: "POST", body: new ReadableStream({ pull(c) { c.enqueue(new Uint8Array([65])); c.close(); } }) });
        const errored = new Response(new ReadableStream({ pull(c) { c.error(new RangeError("broken")); } }));
        const notBytes = new Response(new ReadableStream({ start(c) { c.enqueue("text"); c.close(); } }));
        return {
          read: [new TextDecoder().decode(new Uint8Array(chunks)), response.bodyUsed, await rejects(response.text())],
          tee: [await streamed.text(), await copy.text()],
          gzip: (await new Response(new Response(zipped).body.pipeThrough(new DecompressionStream("gzip"))).text()).length,
          blob: await new Response(new Blob(["from a blob"]).stream()).text(),
          request: await request.text(),
          locked: err(() => new Response(locked)),
          errored: await rejects(errored.text()),
          notBytes: await rejects(notBytes.text()),
          nullBody: new Response(null).body,
        };"#);
    assert_eq!(out["read"], json!(["hello stream", true, "TypeError"]));
    assert_eq!(out["tee"], json!(["ab", "ab"]));
    assert_eq!(out["gzip"], json!(700));
    assert_eq!(out["blob"], json!("from a blob"));
    assert_eq!(out["request"], json!("A"));
    assert_eq!(out["locked"], json!("TypeError"));
    assert_eq!(out["errored"], json!("RangeError"));
    assert_eq!(out["notBytes"], json!("TypeError"));
    assert_eq!(out["nullBody"], json!(null));
}

#[test]
fn a_fetch_handler_may_answer_with_a_streamed_body() {
    let code = esm(r#"export default { async fetch(request) {
        const { readable, writable } = new TransformStream();
        const writer = writable.getWriter();
        (async () => {
          for (const part of ["one ", "two ", await request.text()]) { await writer.write(new TextEncoder().encode(part)); await new Promise((r) => setTimeout(r, 1)); }
          await writer.close();
        })();
        return new Response(readable, { headers: { "content-type": "text/plain" } });
    } }"#);
    let request = isola::HttpRequest {
        method: "POST".into(),
        url: "https://example.com/".into(),
        body: Some(b"three".to_vec()),
        ..Default::default()
    };
    let worker = loader().load(code).expect("valid code");
    let run = runtime().block_on(worker.entrypoint(None).fetch(request));
    let isola::Outcome::Responded(response) = run.outcome else {
        panic!("{:?}", run.outcome)
    };
    assert_eq!(String::from_utf8_lossy(&response.body), "one two three");
}
