use isola::{HttpResponse, Outbound, Value, outbound_fn};
use serde_json::json;

use crate::support::*;

#[test]
fn blocked_outbound_rejects_with_workerds_message() {
    let code = esm(
        r#"export default { async go() { try { await fetch("https://example.com/") } catch (e) { return `${e.name}: ${e.message}` } } }"#,
    );
    assert_eq!(
        returned(call(code, "go", Value::Null)),
        json!(
            "Error: This worker is not permitted to access the internet via global functions like fetch(). It must use capabilities (such as bindings in 'env') to talk to the outside world."
        )
    );
}

#[test]
fn handler_receives_every_fetch_and_injects_credentials_the_guest_never_sees() {
    const SECRET: &str = "Bearer sk-live-very-secret";
    // An upstream that echoes request headers back, reached only through the host.
    let handler = outbound_fn(|mut request| async move {
        if request.url.starts_with("https://api.example.com/") {
            request
                .headers
                .push(("authorization".into(), SECRET.into()));
        }
        let echoed = request
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("\n");
        // The host strips the credential before anything returns to the guest.
        let visible = echoed.replace(SECRET, "[redacted]");
        Ok(HttpResponse::new(
            200,
            format!(
                "{} {}\n{}\nbody={}",
                request.method,
                request.url,
                visible,
                String::from_utf8_lossy(request.body.as_deref().unwrap_or_default())
            ),
        )
        .with_header("content-type", "text/plain"))
    });
    let code = esm(r#"export default { async go() {
        const r = await fetch("https://api.example.com/v1/chat", { method: "POST", headers: { "x-trace": "t1" }, body: JSON.stringify({ q: 1 }) });
        return { status: r.status, ok: r.ok, type: r.headers.get("content-type"), text: await r.text() } } }"#)
    .global_outbound(Outbound::Handler(handler));
    let out = returned(call(code, "go", Value::Null));
    let text = out["text"].as_str().expect("text");
    assert_eq!(out["status"], json!(200));
    assert!(
        text.starts_with("POST https://api.example.com/v1/chat\n"),
        "{text}"
    );
    assert!(text.contains("x-trace: t1"), "{text}");
    assert!(text.contains("authorization: [redacted]"), "{text}");
    assert!(!text.contains("sk-live"), "secret leaked: {text}");
    assert!(text.ends_with("body={\"q\":1}"), "{text}");
}

#[test]
fn header_injection_is_refused_before_the_host_sees_it() {
    let code = esm(r#"export default { async go() {
        const out = [];
        for (const h of [{ "x-a": "v\r\nevil: 1" }, { "bad name": "v" }, { "x-n": "a\u0000b" }]) {
          try { await fetch("https://a.example/", { headers: h }); out.push("sent") } catch (e) { out.push(e.name) } }
        return out } }"#)
    .global_outbound(Outbound::Handler(outbound_fn(|_| async { Ok(HttpResponse::new(200, "")) })));
    assert_eq!(
        returned(call(code, "go", Value::Null)),
        json!(["TypeError", "TypeError", "TypeError"])
    );
}

#[test]
fn fetch_rejects_when_its_signal_aborts() {
    // The upstream answers after 200 ms; the guest aborts after 10 ms.
    let handler = outbound_fn(|_request| async move {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        Ok(HttpResponse::new(200, "late"))
    });
    let code = esm(r#"export default { async go() {
        const early = await fetch("https://e.test/", { signal: AbortSignal.abort(new Error("before")) }).catch((e) => e.message);
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 10);
        const during = await fetch("https://e.test/", { signal: controller.signal }).catch((e) => e.name);
        const timeout = await fetch("https://e.test/", { signal: AbortSignal.timeout(10) }).catch((e) => e.name);
        const finished = await (await fetch("https://e.test/")).text();
        return { early, during, timeout, finished } } }"#)
    .global_outbound(Outbound::Handler(handler));
    assert_eq!(
        returned(call(code, "go", Value::Null)),
        json!({"early": "before", "during": "AbortError", "timeout": "TimeoutError", "finished": "late"})
    );
}
