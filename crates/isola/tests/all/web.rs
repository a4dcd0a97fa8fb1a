//! The Web APIs the fetch path needs (full conformance is the web-platform issue's).

use isola::Value;
use serde_json::json;

use crate::support::*;

#[test]
fn encoding_url_crypto_and_bodies() {
    let out = returned(call(
        esm(r#"export default { async go() {
            const u = new URL("/a b?x=1#h", "https://user:pw@example.com:8443/base/");
            u.searchParams.append("y", "z w");
            const bytes = new TextEncoder().encode("héllo");
            const ids = new Set(Array.from({ length: 100 }, () => crypto.randomUUID()));
            const rnd = crypto.getRandomValues(new Uint8Array(32));
            let quota; try { crypto.getRandomValues(new Uint8Array(65537)) } catch (e) { quota = e.name }
            let floats; try { crypto.getRandomValues(new Float32Array(4)) } catch (e) { floats = e.name }
            let badB64; try { atob("a") } catch (e) { badB64 = e.name }
            const res = Response.json({ ok: 1 }, { status: 202 });
            const h = new Headers([["B", "2"], ["a", "1"], ["set-cookie", "x"], ["set-cookie", "y"]]);
            return {
              href: u.href, host: u.host, path: u.pathname, search: u.search, origin: u.origin,
              params: new URLSearchParams("a=1&b=%20&a=3").getAll("a"),
              bytes: [...bytes], text: new TextDecoder().decode(bytes),
              fatal: (() => { try { new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array([0xff])); return "no" } catch (e) { return e.name } })(),
              b64: btoa("hi\u00ff"), unb64: atob(" aGn/ "), badB64,
              uuids: ids.size, uuidShape: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test([...ids][0]),
              rndNonZero: rnd.some((b) => b !== 0), quota, floats,
              res: [res.status, res.headers.get("content-type"), await res.json()],
              headers: [...h], clone: structuredClone(new Map([[1, { d: new Date(0) }]])).get(1).d.getTime(),
            } } }"#),
        "go",
        Value::Null,
    ));
    assert_eq!(
        out["href"],
        json!("https://user:pw@example.com:8443/a%20b?x=1&y=z+w#h")
    );
    assert_eq!(out["host"], json!("example.com:8443"));
    assert_eq!(out["path"], json!("/a%20b"));
    assert_eq!(out["search"], json!("?x=1&y=z+w"));
    assert_eq!(out["origin"], json!("https://example.com:8443"));
    assert_eq!(out["params"], json!(["1", "3"]));
    assert_eq!(out["bytes"], json!([104, 195, 169, 108, 108, 111]));
    assert_eq!(out["text"], json!("héllo"));
    assert_eq!(out["fatal"], json!("TypeError"));
    assert_eq!(out["b64"], json!("aGn/"));
    assert_eq!(out["unb64"], json!("hi\u{ff}"));
    assert_eq!(out["badB64"], json!("InvalidCharacterError"));
    assert_eq!(out["uuids"], json!(100));
    assert_eq!(out["uuidShape"], json!(true));
    assert_eq!(out["rndNonZero"], json!(true));
    assert_eq!(out["quota"], json!("QuotaExceededError"));
    assert_eq!(out["floats"], json!("TypeMismatchError"));
    assert_eq!(out["res"], json!([202, "application/json", {"ok": 1}]));
    assert_eq!(
        out["headers"],
        json!([
            ["a", "1"],
            ["b", "2"],
            ["set-cookie", "x"],
            ["set-cookie", "y"]
        ])
    );
    assert_eq!(out["clone"], json!(0));
}
