//! Real network egress under policy (security catalogue item 5).
//!
//! Every test runs a local HTTP server on 127.0.0.1. The default policy
//! cannot reach it: tests opt in the name `upstream.test` (mapped to
//! 127.0.0.1 by a test resolver) with `allow_private_host`, and attack
//! URLs aim at the same server, so a broken guard would show up as a
//! connection the server counted. No test leaves the machine: names that
//! "resolve" to public addresses are only ever checked, never connected to.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use isola::egress::{Egress, EgressPolicy, Resolve, resolve_fn};
use isola::{HttpRequest, Limits, Outbound, Outcome, Value, WorkerCode};
use serde_json::{Value as Json, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::*;

// ---- a tiny HTTP/1.1 server -------------------------------------------------

/// A request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the server answers.
#[derive(Debug, Clone)]
struct Reply {
    status: u16,
    reason: &'static str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    delay: Duration,
    /// Stream this many bytes with no content-length, closing at the end.
    stream: usize,
}

impl Reply {
    fn ok(body: impl Into<Vec<u8>>) -> Self {
        Reply {
            status: 200,
            reason: "OK",
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.into(),
            delay: Duration::ZERO,
            stream: 0,
        }
    }

    fn redirect(status: u16, location: &str) -> Self {
        let mut r = Reply::ok("moved");
        r.status = status;
        r.reason = "Redirect";
        r.headers.push(("location".into(), location.into()));
        r
    }
}

#[derive(Default)]
struct Stats {
    connections: AtomicUsize,
    open: AtomicUsize,
    active: AtomicUsize,
    hangups: AtomicUsize,
    max_active: AtomicUsize,
    bytes_sent: AtomicUsize,
    seen: Mutex<Vec<Seen>>,
}

type Route = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

struct Server {
    addr: SocketAddr,
    stats: Arc<Stats>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Server {
    fn start(route: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Server {
        Server::start_with(route, None)
    }

    /// A server that speaks HTTPS with `tls`.
    fn start_tls(route: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Server {
        Server::start_with(route, Some(test_tls_acceptor()))
    }

    fn start_with(
        route: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> Server {
        let route: Route = Arc::new(route);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let stats = Arc::new(Stats::default());
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let server_stats = stats.clone();
        std::thread::spawn(move || {
            runtime().block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let accept = async {
                    loop {
                        let Ok((socket, _)) = listener.accept().await else {
                            continue;
                        };
                        server_stats.connections.fetch_add(1, Ordering::SeqCst);
                        let (route, stats) = (route.clone(), server_stats.clone());
                        match tls.clone() {
                            None => drop(tokio::spawn(handle(socket, route, stats))),
                            Some(tls) => drop(tokio::spawn(async move {
                                if let Ok(socket) = tls.accept(socket).await {
                                    handle(socket, route, stats).await;
                                }
                            })),
                        }
                    }
                };
                tokio::select! {
                    () = accept => {}
                    _ = stopped => {}
                }
            });
        });
        Server {
            addr,
            stats,
            stop: Some(stop),
        }
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    fn connections(&self) -> usize {
        self.stats.connections.load(Ordering::SeqCst)
    }

    fn seen(&self) -> Vec<Seen> {
        self.stats.seen.lock().expect("lock").clone()
    }

    /// `http://upstream.test:PORT` + `path`.
    fn url(&self, path: &str) -> String {
        format!("http://upstream.test:{}{path}", self.port())
    }
}

async fn handle<S: Io>(mut socket: S, route: Route, stats: Arc<Stats>) {
    stats.open.fetch_add(1, Ordering::SeqCst);
    if let Some(seen) = read_request(&mut socket).await {
        // `active` spans only the time the client is surely still waiting
        // (request read, reply not yet written), so `max_active` never
        // overcounts fetches in flight.
        let active = stats.active.fetch_add(1, Ordering::SeqCst) + 1;
        stats.max_active.fetch_max(active, Ordering::SeqCst);
        stats.seen.lock().expect("lock").push(seen.clone());
        let reply = route(&seen);
        // While delaying, notice a client that hangs up (it sends nothing
        // more after its request, so a read ends only at EOF or an error).
        let mut byte = [0u8; 1];
        let hung_up = tokio::select! {
            () = tokio::time::sleep(reply.delay) => false,
            _ = socket.read(&mut byte) => true,
        };
        stats.active.fetch_sub(1, Ordering::SeqCst);
        if hung_up {
            stats.hangups.fetch_add(1, Ordering::SeqCst);
        } else {
            let _ = write_reply(&mut socket, &reply, &stats).await;
        }
    }
    stats.open.fetch_sub(1, Ordering::SeqCst);
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

async fn read_request(socket: &mut impl Io) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() > 1 << 16 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Seen {
        method,
        target,
        headers,
        body,
    })
}

async fn write_reply(socket: &mut impl Io, reply: &Reply, stats: &Stats) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reply.reason);
    for (n, v) in &reply.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if reply.stream == 0 {
        head.push_str(&format!("content-length: {}\r\n", reply.body.len()));
    }
    head.push_str("connection: close\r\n\r\n");
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(&reply.body).await?;
    let chunk = vec![b'x'; 64 << 10];
    let mut left = reply.stream;
    while left > 0 {
        let n = left.min(chunk.len());
        socket.write_all(&chunk[..n]).await?;
        stats.bytes_sent.fetch_add(n, Ordering::SeqCst);
        left -= n;
    }
    socket.shutdown().await
}

/// A server whose replies echo the request: method, target, headers, body.
fn echo_server() -> Server {
    Server::start(|seen| {
        let mut text = format!("{} {}\n", seen.method, seen.target);
        for (n, v) in &seen.headers {
            text.push_str(&format!("{n}: {v}\n"));
        }
        text.push_str(&format!("body={}", String::from_utf8_lossy(&seen.body)));
        let mut reply = Reply::ok(text);
        if let Some(auth) = seen.header("authorization") {
            reply
                .headers
                .push(("x-echo-authorization".into(), auth.into()));
        }
        reply
    })
}

// ---- policy and guest helpers ---------------------------------------------------

const PUBLIC: IpAddr = IpAddr::V4(Ipv4Addr::new(93, 184, 216, 34));
const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// The test DNS: `upstream.test`, `other.test` and `pinned.test` are
/// 127.0.0.1 (`pinned.test` only on its first lookup), `public.test` and
/// `allowed.test` a public address, `mixed.test` public plus loopback,
/// `metadata-alias.test` the metadata address, `rebind.test` public on its
/// first lookup and loopback after. Counts lookups per name.
#[derive(Default)]
struct TestDns {
    lookups: Mutex<Vec<String>>,
}

impl TestDns {
    fn lookups_of(&self, name: &str) -> usize {
        let lookups = self.lookups.lock().expect("lock");
        lookups.iter().filter(|n| *n == name).count()
    }

    fn resolver(self: &Arc<Self>) -> Arc<dyn Resolve> {
        let dns = self.clone();
        resolve_fn(move |name| {
            let dns = dns.clone();
            async move {
                let before = dns.lookups_of(&name);
                dns.lookups.lock().expect("lock").push(name.clone());
                let unroutable = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
                Ok(match name.as_str() {
                    "upstream.test" | "other.test" => vec![LOOPBACK],
                    "pinned.test" if before == 0 => vec![LOOPBACK],
                    "pinned.test" => vec![unroutable],
                    "public.test" | "allowed.test" => vec![PUBLIC],
                    "mixed.test" => vec![PUBLIC, LOOPBACK],
                    "metadata-alias.test" => vec!["169.254.169.254".parse().expect("ip")],
                    "rebind.test" if before == 0 => vec![PUBLIC],
                    "rebind.test" => vec![LOOPBACK],
                    _ => vec![],
                })
            }
        })
    }
}

/// The strict default policy plus the one opt-in the tests need: the name
/// `upstream.test` on the server's port.
fn policy(server: &Server, dns: &Arc<TestDns>) -> EgressPolicy {
    EgressPolicy::new()
        .resolver(dns.resolver())
        .allow_private_host("upstream.test", Some(server.port()))
}

fn egress(policy: EgressPolicy) -> Egress {
    Egress::new(policy).expect("valid policy")
}

/// A guest that fetches each `{url, init}` in turn and returns, per fetch,
/// `{status, statusText, headers, body}` or `"Name: message"`.
const FETCHER: &str = r#"export default { async go(requests) {
    const out = [];
    for (const r of requests) {
        try {
            const res = await fetch(r.url, r.init);
            out.push({ status: res.status, statusText: res.statusText, headers: [...res.headers], body: await res.text() });
        } catch (e) { out.push(`${e.name}: ${e.message}`) }
    }
    return out } }"#;

fn guest(egress: &Egress) -> WorkerCode {
    esm(FETCHER).global_outbound(Outbound::Allow(egress.clone()))
}

/// Runs the fetcher guest over `requests` (URLs, or `{url, init}` objects).
fn guest_fetch(egress: &Egress, requests: Json) -> Vec<Json> {
    let requests: Vec<Json> = requests
        .as_array()
        .expect("an array")
        .iter()
        .map(|r| {
            if r.is_string() {
                json!({ "url": r })
            } else {
                r.clone()
            }
        })
        .collect();
    let out = returned(call(guest(egress), "go", Value::from(json!(requests))));
    out.as_array().expect("an array").clone()
}

/// Fetches the server's `/` through a guest and checks the answer, so each
/// test also shows the opted-in path still works.
fn assert_happy_path(egress: &Egress, server: &Server) {
    let out = guest_fetch(egress, json!([server.url("/happy")]));
    assert_eq!(out[0]["status"], json!(200), "{out:?}");
    assert!(
        out[0]["body"]
            .as_str()
            .is_some_and(|b| b.starts_with("GET /happy\n") || b == "happy"),
        "{out:?}"
    );
}

fn refused(out: &Json) -> &str {
    out.as_str()
        .unwrap_or_else(|| panic!("expected a refusal, got {out}"))
}

fn direct_fetch(egress: &Egress, request: HttpRequest) -> Result<isola::HttpResponse, String> {
    runtime()
        .block_on(egress.fetch(request))
        .map_err(|e| format!("{}: {}", e.name, e.message))
}

fn get(url: &str) -> HttpRequest {
    HttpRequest {
        method: "GET".into(),
        url: url.into(),
        ..Default::default()
    }
}

// ---- the happy path -----------------------------------------------------------

#[test]
fn an_opted_in_upstream_is_reached_with_status_headers_and_body() {
    let server = Server::start(|seen| {
        let mut reply = Reply::ok(format!(
            "{} {} {}",
            seen.method,
            seen.target,
            String::from_utf8_lossy(&seen.body)
        ));
        reply.status = 418;
        reply.reason = "I'm a teapot";
        reply.headers.push(("X-Custom".into(), "v1".into()));
        reply.headers.push(("set-cookie".into(), "a=1".into()));
        reply.headers.push(("set-cookie".into(), "b=2".into()));
        reply
    });
    let dns = Arc::new(TestDns::default());
    let egress = egress(policy(&server, &dns));
    let out = guest_fetch(
        &egress,
        json!([
            { "url": server.url("/p?q=1#frag"), "init": { "method": "POST", "body": "hello", "headers": { "x-trace": "t1" } } }
        ]),
    );
    assert_eq!(out[0]["status"], json!(418), "{out:?}");
    assert_eq!(out[0]["statusText"], json!("I'm a teapot"));
    assert_eq!(out[0]["body"], json!("POST /p?q=1 hello"));
    let headers = out[0]["headers"].as_array().expect("headers");
    assert!(headers.contains(&json!(["x-custom", "v1"])), "{headers:?}");
    assert!(
        headers.contains(&json!(["content-type", "text/plain"])),
        "{headers:?}"
    );
    let seen = &server.seen()[0];
    assert_eq!(
        seen.header("host"),
        Some(&*format!("upstream.test:{}", server.port()))
    );
    assert_eq!(seen.header("x-trace"), Some("t1"));
    assert_eq!(seen.header("content-length"), Some("5"));
    assert_eq!(seen.header("accept-encoding"), Some("identity"));
    assert_eq!(dns.lookups_of("upstream.test"), 1);
    // A trailing dot and a tab in the host name are the same host.
    let out = guest_fetch(
        &egress,
        json!([
            format!("http://upstream.test.:{}/", server.port()),
            format!("http://upstr\team.test:{}/", server.port())
        ]),
    );
    assert_eq!(out[0]["status"], json!(418), "{out:?}");
    assert_eq!(out[1]["status"], json!(418), "{out:?}");
    assert_next_sandbox_works();
}

#[test]
fn outbound_allow_is_debuggable_without_secrets() {
    let egress = egress(EgressPolicy::new().inject_header(
        "api.example.com",
        "authorization",
        "Bearer sk-live-xyz",
    ));
    let shown = format!("{:?}", Outbound::Allow(egress));
    assert!(shown.starts_with("Allow(Egress"), "{shown}");
    assert!(!shown.contains("sk-live"), "{shown}");
}

// ---- the SSRF guard -------------------------------------------------------------

#[test]
fn metadata_loopback_and_private_addresses_are_refused_before_connecting() {
    let server = echo_server();
    let dns = Arc::new(TestDns::default());
    let port = server.port();
    // The port is allowed for every host, so only the address check stands
    // between these URLs and the server.
    let egress = egress(policy(&server, &dns).allow_port(port));
    let loopback = "refused: it is a loopback address (isola egress policy)";
    let cases: Vec<(String, String)> = vec![
        (format!("http://169.254.169.254:{port}/latest/meta-data/"), "fetch to 169.254.169.254 refused: it is a cloud metadata address (isola egress policy)".into()),
        (format!("http://[fd00:ec2::254]:{port}/latest/meta-data/"), "fetch to [fd00:ec2::254] refused: it is a cloud metadata address (isola egress policy)".into()),
        (format!("http://metadata.google.internal:{port}/computeMetadata/v1/"), "fetch to metadata.google.internal refused: the host is denied (isola egress policy)".into()),
        (format!("http://metadata:{port}/"), "fetch to metadata refused: the host is denied (isola egress policy)".into()),
        (format!("http://metadata-alias.test:{port}/"), "fetch to metadata-alias.test refused: it resolves to a cloud metadata address (isola egress policy)".into()),
        (format!("http://localhost:{port}/"), "fetch to localhost refused: the host is denied (isola egress policy)".into()),
        (format!("http://api.localhost:{port}/"), "fetch to api.localhost refused: the host is denied (isola egress policy)".into()),
        (format!("http://127.0.0.1:{port}/"), format!("fetch to 127.0.0.1 {loopback}")),
        (format!("http://127.1:{port}/"), format!("fetch to 127.0.0.1 {loopback}")),
        (format!("http://2130706433:{port}/"), format!("fetch to 127.0.0.1 {loopback}")),
        (format!("http://0x7f000001:{port}/"), format!("fetch to 127.0.0.1 {loopback}")),
        (format!("http://017700000001:{port}/"), format!("fetch to 127.0.0.1 {loopback}")),
        (format!("http://127.0.0.1.:{port}/"), format!("fetch to 127.0.0.1 {loopback}")),
        (format!("http://127.255.255.254:{port}/"), format!("fetch to 127.255.255.254 {loopback}")),
        (format!("http://[::1]:{port}/"), format!("fetch to [::1] {loopback}")),
        (format!("http://[::ffff:127.0.0.1]:{port}/"), format!("fetch to [::ffff:127.0.0.1] {loopback}")),
        (format!("http://0:{port}/"), "fetch to 0.0.0.0 refused: it is the unspecified address (isola egress policy)".into()),
        (format!("http://0.0.0.0:{port}/"), "fetch to 0.0.0.0 refused: it is the unspecified address (isola egress policy)".into()),
        (format!("http://[::]:{port}/"), "fetch to [::] refused: it is the unspecified address (isola egress policy)".into()),
        (format!("http://10.0.0.1:{port}/"), "fetch to 10.0.0.1 refused: it is a private address (isola egress policy)".into()),
        (format!("http://172.16.5.4:{port}/"), "fetch to 172.16.5.4 refused: it is a private address (isola egress policy)".into()),
        (format!("http://192.168.0.1:{port}/"), "fetch to 192.168.0.1 refused: it is a private address (isola egress policy)".into()),
        (format!("http://100.64.0.1:{port}/"), "fetch to 100.64.0.1 refused: it is a shared (carrier-grade NAT) address (isola egress policy)".into()),
        (format!("http://[fc00::1]:{port}/"), "fetch to [fc00::1] refused: it is a private address (isola egress policy)".into()),
        (format!("http://[fe80::1]:{port}/"), "fetch to [fe80::1] refused: it is a link-local address (isola egress policy)".into()),
        (format!("http://169.254.1.1:{port}/"), "fetch to 169.254.1.1 refused: it is a link-local address (isola egress policy)".into()),
        (format!("http://224.0.0.1:{port}/"), "fetch to 224.0.0.1 refused: it is a multicast address (isola egress policy)".into()),
        (format!("http://255.255.255.255:{port}/"), "fetch to 255.255.255.255 refused: it is the broadcast address (isola egress policy)".into()),
        (format!("http://192.0.2.1:{port}/"), "fetch to 192.0.2.1 refused: it is a reserved address (isola egress policy)".into()),
        (format!("http://[2001:db8::1]:{port}/"), "fetch to [2001:db8::1] refused: it is a reserved address (isola egress policy)".into()),
        (format!("http://[64:ff9b::7f00:1]:{port}/"), format!("fetch to [64:ff9b::7f00:1] {loopback}")),
        // A name that resolves inwards, not opted in.
        (format!("http://other.test:{port}/"), "fetch to other.test refused: it resolves to a loopback address (isola egress policy)".into()),
        // One bad answer among good ones refuses the fetch.
        (format!("http://mixed.test:{port}/"), "fetch to mixed.test refused: it resolves to a loopback address (isola egress policy)".into()),
    ];
    let urls: Vec<Json> = cases.iter().map(|(u, _)| json!(u)).collect();
    let out = guest_fetch(&egress, Json::Array(urls));
    for ((url, message), got) in cases.iter().zip(&out) {
        assert_eq!(refused(got), format!("TypeError: {message}"), "{url}");
    }
    assert_eq!(
        server.connections(),
        0,
        "the guard let a connection through"
    );
    // The same refusals from the host API, without a guest in between.
    for (url, message) in &cases {
        assert_eq!(
            direct_fetch(&egress, get(url)).err(),
            Some(format!("TypeError: {message}")),
            "{url}"
        );
    }
    assert_eq!(
        server.connections(),
        0,
        "the guard let a connection through"
    );
    assert_happy_path(&egress, &server);
    assert_next_sandbox_works();
}

#[test]
fn the_opt_in_is_by_name_never_by_address() {
    // An operator cannot opt in an address: 127.1, 2130706433 and friends
    // all spell 127.0.0.1 and would slip through.
    for literal in ["127.0.0.1", "127.1", "[::1]", "2130706433"] {
        let error = Egress::new(EgressPolicy::new().allow_private_host(literal, None))
            .expect_err("an address is not a name");
        assert!(error.to_string().contains("takes a domain name"), "{error}");
    }
    // Allowing a port or an address-shaped allow-list entry does not open
    // private addresses either.
    let server = echo_server();
    let dns = Arc::new(TestDns::default());
    let egress = egress(
        policy(&server, &dns)
            .allow_host("127.0.0.1")
            .allow_host("upstream.test")
            .allow_port(server.port()),
    );
    let out = guest_fetch(
        &egress,
        json!([format!("http://127.0.0.1:{}/", server.port())]),
    );
    assert_eq!(
        refused(&out[0]),
        "TypeError: fetch to 127.0.0.1 refused: it is a loopback address (isola egress policy)"
    );
    assert_eq!(server.connections(), 0);
    assert_happy_path(&egress, &server);
}

#[test]
fn url_confusion_is_parsed_as_the_guest_parses_it() {
    let server = echo_server();
    let dns = Arc::new(TestDns::default());
    let port = server.port();
    let egress = egress(
        policy(&server, &dns)
            .allow_host("allowed.test")
            .allow_host("upstream.test")
            .allow_port(port),
    );
    // With an allow-list, the host check comes first: the message names the
    // host the URL really has.
    let loopback =
        "fetch to 127.0.0.1 refused: the host is not on the allow-list (isola egress policy)";
    let cases = [
        // Userinfo that looks like the host.
        (format!("http://allowed.test@127.0.0.1:{port}/"), None),
        (format!("http://upstream.test:{port}@127.0.0.1:{port}/"), None),
        // A backslash ends the authority in special schemes: the host is 127.0.0.1.
        (format!("http://127.0.0.1:{port}\\@allowed.test/"), Some(loopback.to_owned())),
        // Tabs and newlines are removed before parsing.
        (format!("http://127.0.0.\t1:{port}/"), Some(loopback.to_owned())),
        (format!("http://127.0.\n0.1:{port}/"), Some(loopback.to_owned())),
        (format!("http://loc\talhost:{port}/"), Some("fetch to localhost refused: the host is denied (isola egress policy)".to_owned())),
        // A Cyrillic "а" is another name, in punycode.
        (format!("http://\u{430}llowed.test:{port}/"), Some("fetch to xn--llowed-2nf.test refused: the host is not on the allow-list (isola egress policy)".to_owned())),
        (format!("http://evil.test:{port}/"), Some("fetch to evil.test refused: the host is not on the allow-list (isola egress policy)".to_owned())),
        (format!("http://localhost.:{port}/"), Some("fetch to localhost refused: the host is denied (isola egress policy)".to_owned())),
    ];
    let urls: Vec<Json> = cases.iter().map(|(u, _)| json!(u)).collect();
    let out = guest_fetch(&egress, Json::Array(urls));
    for ((url, message), got) in cases.iter().zip(&out) {
        let got = refused(got);
        match message {
            Some(message) => assert_eq!(got, format!("TypeError: {message}"), "{url:?}"),
            // The guest's Request refuses credentials in URLs itself.
            None => assert!(got.starts_with("TypeError: "), "{url:?}: {got}"),
        }
    }
    // Without the guest in front, egress refuses credentials on its own.
    for (url, message) in &cases {
        let got = direct_fetch(&egress, get(url)).expect_err(url);
        let expected = message.clone().unwrap_or_else(|| {
            "fetch refused: URLs with credentials (user:password@) are not allowed (isola egress policy)".to_owned()
        });
        assert_eq!(got, format!("TypeError: {expected}"), "{url:?}");
    }
    assert_eq!(server.connections(), 0);
    assert_happy_path(&egress, &server);
}

#[test]
fn a_checked_name_is_pinned_to_the_address_that_was_checked() {
    let server = echo_server();
    let dns = Arc::new(TestDns::default());
    let egress =
        egress(policy(&server, &dns).allow_private_host("pinned.test", Some(server.port())));
    // `pinned.test` answers 127.0.0.1 once and an unroutable address after:
    // the fetch works only if it connects to the address it checked.
    let out = guest_fetch(
        &egress,
        json!([format!("http://pinned.test:{}/x", server.port())]),
    );
    assert_eq!(out[0]["status"], json!(200), "{out:?}");
    assert_eq!(
        dns.lookups_of("pinned.test"),
        1,
        "one lookup per hop, no second one at connect"
    );
    // Rebinding: a name that is public when checked and loopback later. Each
    // check resolves once and decides on that answer (no public address is
    // ever connected to in tests, so the decision is asserted).
    let first = runtime()
        .block_on(egress.check("http://rebind.test/"))
        .expect("public");
    assert_eq!(first, vec![SocketAddr::new(PUBLIC, 80)]);
    let second = runtime()
        .block_on(egress.check("http://rebind.test/"))
        .expect_err("rebound");
    assert_eq!(
        second.message,
        "fetch to rebind.test refused: it resolves to a loopback address (isola egress policy)"
    );
    assert_eq!(dns.lookups_of("rebind.test"), 2);
    // A public name passes the policy; an unknown one does not resolve.
    let public = runtime()
        .block_on(egress.check("https://public.test/"))
        .expect("public");
    assert_eq!(public, vec![SocketAddr::new(PUBLIC, 443)]);
    let missing = direct_fetch(&egress, get("https://nowhere.test/")).expect_err("nxdomain");
    assert_eq!(
        missing,
        "TypeError: fetch to nowhere.test failed: the name could not be resolved"
    );
    assert_happy_path(&egress, &server);
}

// ---- redirects ------------------------------------------------------------------

#[test]
fn every_redirect_hop_is_checked_again() {
    let port_cell = Arc::new(AtomicUsize::new(0));
    let port_of = port_cell.clone();
    let server = Server::start(move |seen| {
        let port = port_of.load(Ordering::SeqCst);
        match seen.target.as_str() {
            "/to-loopback" => Reply::redirect(302, &format!("http://127.0.0.1:{port}/trap")),
            "/to-metadata" => Reply::redirect(307, "http://169.254.169.254/latest/meta-data/"),
            "/to-file" => Reply::redirect(302, "file:///etc/passwd"),
            "/to-port" => Reply::redirect(302, &format!("http://upstream.test:{}/", port + 1)),
            "/loop" => Reply::redirect(302, "/loop"),
            "/to-happy" => Reply::redirect(301, "/happy"),
            _ => Reply::ok("happy"),
        }
    });
    port_cell.store(server.port() as usize, Ordering::SeqCst);
    let dns = Arc::new(TestDns::default());
    let egress = egress(
        policy(&server, &dns)
            .allow_port(server.port())
            .max_redirects(5),
    );
    let out = guest_fetch(
        &egress,
        json!([
            server.url("/to-loopback"),
            server.url("/to-metadata"),
            server.url("/to-file"),
            server.url("/to-port"),
            server.url("/to-happy")
        ]),
    );
    assert_eq!(
        refused(&out[0]),
        "TypeError: fetch to 127.0.0.1 refused: it is a loopback address (isola egress policy)"
    );
    assert_eq!(
        refused(&out[1]),
        "TypeError: fetch to 169.254.169.254 refused: it is a cloud metadata address (isola egress policy)"
    );
    assert_eq!(
        refused(&out[2]),
        "TypeError: fetch refused: the scheme \"file:\" is not allowed, only http: and https: (isola egress policy)"
    );
    assert_eq!(
        refused(&out[3]),
        format!(
            "TypeError: fetch to upstream.test refused: port {} is not allowed (isola egress policy)",
            server.port() + 1
        )
    );
    assert_eq!(out[4]["body"], json!("happy"), "{out:?}");
    let targets: Vec<String> = server.seen().into_iter().map(|s| s.target).collect();
    assert_eq!(
        targets,
        [
            "/to-loopback",
            "/to-metadata",
            "/to-file",
            "/to-port",
            "/to-happy",
            "/happy"
        ]
    );
    // A loop ends at the hop limit: the first request and five redirects.
    let before = server.connections();
    let out = guest_fetch(&egress, json!([server.url("/loop")]));
    assert_eq!(
        refused(&out[0]),
        "TypeError: fetch failed: more than 5 redirects (isola egress limit)"
    );
    assert_eq!(server.connections() - before, 6);
    assert_next_sandbox_works();
}

#[test]
fn redirects_follow_the_fetch_standard_and_drop_credentials_across_origins() {
    let port_cell = Arc::new(AtomicUsize::new(0));
    let port_of = port_cell.clone();
    let server = Server::start(move |seen| {
        let port = port_of.load(Ordering::SeqCst);
        match seen.target.as_str() {
            "/303" => Reply::redirect(303, "/echo"),
            "/307" => Reply::redirect(307, "/echo"),
            "/cross" => Reply::redirect(302, &format!("http://elsewhere.test:{port}/echo")),
            _ => Reply::ok(format!(
                "{} {}",
                seen.method,
                String::from_utf8_lossy(&seen.body)
            )),
        }
    });
    port_cell.store(server.port() as usize, Ordering::SeqCst);
    let dns = Arc::new(TestDns::default());
    let dns_for_elsewhere = dns.clone();
    // `elsewhere.test` is another opted-in name for the same server.
    let resolver = resolve_fn(move |name| {
        let inner = dns_for_elsewhere.resolver();
        async move {
            if name == "elsewhere.test" {
                return Ok(vec![LOOPBACK]);
            }
            inner.resolve(&name).await
        }
    });
    let egress = egress(
        policy(&server, &dns)
            .resolver(resolver)
            .allow_private_host("elsewhere.test", Some(server.port())),
    );
    let post = |path: &str| json!({ "url": server.url(path), "init": { "method": "POST", "body": "payload", "headers": { "content-type": "text/plain", "authorization": "Bearer guest", "cookie": "s=1", "x-trace": "t" } } });
    let out = guest_fetch(&egress, json!([post("/303"), post("/307"), post("/cross")]));
    assert_eq!(out[0]["body"], json!("GET "), "{out:?}");
    assert_eq!(out[1]["body"], json!("POST payload"), "{out:?}");
    assert_eq!(out[2]["body"], json!("GET "), "{out:?}");
    let seen = server.seen();
    let echo_after_303 = &seen[1];
    assert_eq!(
        echo_after_303.header("content-type"),
        None,
        "a body header followed a 303"
    );
    assert_eq!(
        echo_after_303.header("authorization"),
        Some("Bearer guest"),
        "same origin keeps it"
    );
    let echo_after_307 = &seen[3];
    assert_eq!(echo_after_307.header("content-type"), Some("text/plain"));
    let cross = &seen[5];
    assert_eq!(
        cross.header("host"),
        Some(&*format!("elsewhere.test:{}", server.port()))
    );
    assert_eq!(
        cross.header("authorization"),
        None,
        "authorization crossed origins"
    );
    assert_eq!(cross.header("cookie"), None, "cookie crossed origins");
    assert_eq!(cross.header("x-trace"), Some("t"));
}

#[test]
fn redirect_modes_manual_and_error_stop_at_the_first_hop() {
    let server = Server::start(|seen| match seen.target.as_str() {
        "/moved" => Reply::redirect(307, "/echo"),
        _ => Reply::ok("followed".to_owned()),
    });
    let dns = Arc::new(TestDns::default());
    let egress = egress(policy(&server, &dns));
    let with = |mode: &str| json!({ "url": server.url("/moved"), "init": { "redirect": mode } });
    let out = guest_fetch(
        &egress,
        json!([with("manual"), with("error"), with("follow")]),
    );
    assert_eq!(out[0]["status"], json!(307), "{out:?}");
    assert!(
        out[0]["headers"]
            .as_array()
            .is_some_and(|h| h.contains(&json!(["location", "/echo"]))),
        "{out:?}"
    );
    assert_eq!(
        out[1],
        json!(format!(
            "TypeError: fetch to upstream.test failed: the response is a redirect and the request's redirect mode is \"error\""
        ))
    );
    assert_eq!(out[2]["body"], json!("followed"), "{out:?}");
    // manual and error never reached /echo; follow did once.
    let targets: Vec<String> = server.seen().iter().map(|s| s.target.clone()).collect();
    assert_eq!(targets, ["/moved", "/moved", "/moved", "/echo"]);
}

// ---- credentials the guest never sees ----------------------------------------------

#[test]
fn injected_credentials_reach_the_upstream_but_never_the_guest() {
    const SECRET: &str = "Bearer sk-live-very-secret";
    let port_cell = Arc::new(AtomicUsize::new(0));
    let port_of = port_cell.clone();
    let echo = echo_server();
    let server = Server::start(move |seen| {
        let port = port_of.load(Ordering::SeqCst);
        match seen.target.as_str() {
            "/away" => Reply::redirect(302, &format!("http://other.test:{port}/echo")),
            "/same" => Reply::redirect(302, "/echo"),
            "/reflect" => Reply::redirect(
                302,
                &format!(
                    "http://other.test:{port}/echo?token={}",
                    seen.header("authorization").unwrap_or_default()
                ),
            ),
            _ => {
                // An upstream that echoes what it got, as many test APIs do.
                let mut text = String::new();
                for (n, v) in &seen.headers {
                    text.push_str(&format!("{n}: {v}\n"));
                }
                let mut reply = Reply::ok(text);
                if let Some(auth) = seen.header("authorization") {
                    reply
                        .headers
                        .push(("x-echo-authorization".into(), auth.into()));
                }
                reply
            }
        }
    });
    port_cell.store(echo.port() as usize, Ordering::SeqCst);
    let dns = Arc::new(TestDns::default());
    let egress = egress(
        policy(&server, &dns)
            .allow_private_host("other.test", Some(echo.port()))
            .inject_header("upstream.test", "Authorization", SECRET),
    );
    let code = esm(r#"export default { async go(urls) {
        const out = [];
        for (const url of urls) {
            try {
                const r = await fetch(url, { headers: { authorization: "Bearer guest-guess", "x-trace": "t1" } });
                const text = await r.text();
                console.log(text, r.headers.get("x-echo-authorization"));
                out.push({ text, echoed: r.headers.get("x-echo-authorization"), length: r.headers.get("content-length") });
            } catch (e) { console.log(e.message); out.push(`${e.name}: ${e.message}`) }
        }
        return out } }"#)
    .global_outbound(Outbound::Allow(egress.clone()));
    let run = call(
        code,
        "go",
        Value::from(json!([
            server.url("/echo"),
            server.url("/same"),
            server.url("/away"),
            server.url("/reflect")
        ])),
    );
    let shown = format!("{:?} {:?}", run.outcome, run.logs);
    assert!(
        !shown.contains("sk-live"),
        "the secret reached the guest: {shown}"
    );
    let out = returned(run);
    // The upstream got the operator's credential, not the guest's.
    let seen = server.seen();
    assert_eq!(seen[0].header("authorization"), Some(SECRET));
    assert_eq!(seen[0].header("x-trace"), Some("t1"));
    // The echo came back with the value replaced.
    let text = out[0]["text"].as_str().expect("text");
    assert!(text.contains("authorization: [redacted]\n"), "{text}");
    assert_eq!(out[0]["echoed"], json!("[redacted]"));
    assert_eq!(out[0]["length"], json!(text.len().to_string()));
    // A same-origin redirect keeps it; a cross-origin one drops it, and
    // with it the guest's own authorization.
    assert_eq!(seen[2].header("authorization"), Some(SECRET), "{seen:?}");
    let away = &echo.seen()[0];
    assert_eq!(
        away.header("authorization"),
        None,
        "the credential crossed origins"
    );
    assert_eq!(away.header("x-trace"), Some("t1"));
    assert_eq!(out[2]["echoed"], json!(null));
    // An upstream that reflects the credential into a redirect is not followed.
    assert_eq!(
        out[3],
        json!(
            "TypeError: fetch to upstream.test refused: the redirect location carries an injected credential (isola egress policy)"
        )
    );
    assert_eq!(
        echo.seen().len(),
        1,
        "the reflected credential was followed"
    );
    assert_next_sandbox_works();
}

// ---- schemes, ports, methods, headers ---------------------------------------------

#[test]
fn bad_schemes_and_ports_are_refused() {
    let server = echo_server();
    let dns = Arc::new(TestDns::default());
    let egress = egress(policy(&server, &dns));
    for url in [
        "file:///etc/passwd",
        "ftp://upstream.test/",
        "data:text/plain,hi",
        "javascript:alert(1)",
        "ws://upstream.test/",
        "gopher://upstream.test/",
    ] {
        let got = direct_fetch(&egress, get(url)).expect_err(url);
        assert!(
            got.contains("is not allowed, only http: and https: (isola egress policy)"),
            "{url}: {got}"
        );
    }
    let out = guest_fetch(
        &egress,
        json!([
            "file:///etc/passwd",
            "ftp://upstream.test/",
            "ws://upstream.test/"
        ]),
    );
    for got in &out {
        assert!(refused(got).starts_with("TypeError: "), "{got}");
    }
    for port in [22, 25, 0, 6379, 8080] {
        let url = format!("http://upstream.test:{port}/");
        let got = direct_fetch(&egress, get(&url)).expect_err(&url);
        assert_eq!(
            got,
            format!(
                "TypeError: fetch to upstream.test refused: port {port} is not allowed (isola egress policy)"
            )
        );
        let out = guest_fetch(&egress, json!([url]));
        assert_eq!(refused(&out[0]), got);
    }
    let got = direct_fetch(&egress, get("http://upstream.test:65536/")).expect_err("65536");
    assert_eq!(
        got,
        "TypeError: fetch refused: the URL is not valid (isola egress policy)"
    );
    assert_eq!(server.connections(), 0);
    assert_happy_path(&egress, &server);
}

#[test]
fn header_and_method_injection_is_refused_before_any_connection() {
    let server = echo_server();
    let dns = Arc::new(TestDns::default());
    let egress = egress(policy(&server, &dns));
    let url = server.url("/");
    let with = |method: &str, headers: Vec<(&str, &str)>| HttpRequest {
        method: method.into(),
        url: url.clone(),
        headers: headers
            .into_iter()
            .map(|(n, v)| (n.into(), v.into()))
            .collect(),
        ..Default::default()
    };
    let cases = [
        (
            with("GET", vec![("x-a", "v\r\nevil: 1")]),
            "fetch refused: the value of header x-a contains a forbidden character (isola egress policy)",
        ),
        (
            with("GET", vec![("x-a", "v\nevil: 1")]),
            "fetch refused: the value of header x-a contains a forbidden character (isola egress policy)",
        ),
        (
            with("GET", vec![("x-a", "a\0b")]),
            "fetch refused: the value of header x-a contains a forbidden character (isola egress policy)",
        ),
        (
            with("GET", vec![("x-a\r\nevil", "v")]),
            "fetch refused: a header name is not a valid HTTP token (isola egress policy)",
        ),
        (
            with("GET", vec![("bad name", "v")]),
            "fetch refused: a header name is not a valid HTTP token (isola egress policy)",
        ),
        (
            with("GET", vec![("x\0", "v")]),
            "fetch refused: a header name is not a valid HTTP token (isola egress policy)",
        ),
        (
            with("GET / HTTP/1.1\r\nHost: evil\r\n\r\nGET", vec![]),
            "fetch refused: the method is not a valid HTTP method (isola egress policy)",
        ),
        (
            with("GET\0", vec![]),
            "fetch refused: the method is not a valid HTTP method (isola egress policy)",
        ),
        (
            with("CONNECT", vec![]),
            "fetch refused: the method CONNECT is forbidden (isola egress policy)",
        ),
        (
            with("TRACE", vec![]),
            "fetch refused: the method TRACE is forbidden (isola egress policy)",
        ),
    ];
    for (request, message) in cases {
        let got = direct_fetch(&egress, request.clone()).expect_err("refused");
        assert_eq!(got, format!("TypeError: {message}"), "{request:?}");
    }
    // The guest's own Headers and Request refuse these first.
    let out = guest_fetch(
        &egress,
        json!([
            { "url": url, "init": { "headers": { "x-a": "v\r\nevil: 1" } } },
            { "url": url, "init": { "method": "GET\r\nX: y" } },
            { "url": url, "init": { "method": "CONNECT" } },
        ]),
    );
    for got in &out {
        assert!(refused(got).starts_with("TypeError: "), "{got}");
    }
    assert_eq!(server.connections(), 0);
    // Headers the egress layer controls are replaced, not passed through.
    let response = direct_fetch(
        &egress,
        with(
            "get",
            vec![
                ("Host", "evil.test"),
                ("Content-Length", "999"),
                ("Transfer-Encoding", "chunked"),
                ("Connection", "upgrade"),
            ],
        ),
    )
    .expect("sent");
    assert_eq!(response.status, 200);
    let seen = &server.seen()[0];
    assert_eq!(seen.method, "GET");
    assert_eq!(
        seen.header("host"),
        Some(&*format!("upstream.test:{}", server.port()))
    );
    assert_eq!(seen.header("content-length"), None);
    assert_eq!(seen.header("transfer-encoding"), None);
    assert_eq!(seen.header("connection"), None);
    assert_happy_path(&egress, &server);
}

#[test]
fn https_to_a_plain_server_fails_in_the_tls_handshake() {
    // A server that answers anything with plain HTTP, at once.
    let plain = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let plain_port = plain.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in plain.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = std::io::Write::write_all(
                &mut stream,
                b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n",
            );
        }
    });
    let server = echo_server();
    let dns = Arc::new(TestDns::default());
    let egress =
        egress(policy(&server, &dns).allow_private_host("upstream.test", Some(plain_port)));
    let url = format!("https://upstream.test:{plain_port}/");
    let got = direct_fetch(&egress, get(&url)).expect_err("not TLS");
    assert!(
        got.starts_with("TypeError: fetch to upstream.test failed: TLS: "),
        "{got}"
    );
    assert_happy_path(&egress, &server);
}

// ---- TLS -------------------------------------------------------------------------

/// A test CA and a certificate for `upstream.test` it signed (ECDSA P-256,
/// valid 2000–2100), made once with `openssl ca`; test-only keys.
const TEST_CA: &[u8] = include_bytes!("egress_tls/ca.pem");
const UPSTREAM_CERT: &[u8] = include_bytes!("egress_tls/upstream.pem");
const UPSTREAM_KEY: &[u8] = include_bytes!("egress_tls/upstream.key");

fn test_ca_der() -> Vec<u8> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    CertificateDer::from_pem_slice(TEST_CA)
        .expect("CA PEM")
        .to_vec()
}

fn test_tls_acceptor() -> tokio_rustls::TlsAcceptor {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let cert = CertificateDer::from_pem_slice(UPSTREAM_CERT).expect("cert PEM");
    let key = PrivateKeyDer::from_pem_slice(UPSTREAM_KEY).expect("key PEM");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("server config");
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

#[test]
fn https_verifies_the_certificate_against_the_host_name() {
    let server = Server::start_tls(|seen| Reply::ok(format!("tls {}", seen.target)));
    let dns = Arc::new(TestDns::default());
    let port = server.port();
    let trusting = egress(
        policy(&server, &dns)
            .allow_private_host("other.test", Some(port))
            .add_root_certificate(test_ca_der()),
    );
    let out = guest_fetch(
        &trusting,
        json!([
            format!("https://upstream.test:{port}/secure"),
            format!("https://other.test:{port}/")
        ]),
    );
    assert_eq!(out[0]["status"], json!(200), "{out:?}");
    assert_eq!(out[0]["body"], json!("tls /secure"));
    // Same server, same address, but the name is not on the certificate.
    let wrong_name = refused(&out[1]);
    assert!(
        wrong_name
            .starts_with("TypeError: fetch to other.test failed: TLS: invalid peer certificate"),
        "{wrong_name}"
    );
    // Without the operator's root, only the public roots are trusted.
    let default_roots = egress(policy(&server, &dns));
    let out = guest_fetch(
        &default_roots,
        json!([format!("https://upstream.test:{port}/")]),
    );
    let untrusted = refused(&out[0]);
    assert!(
        untrusted
            .starts_with("TypeError: fetch to upstream.test failed: TLS: invalid peer certificate"),
        "{untrusted}"
    );
    assert_eq!(
        server.seen().len(),
        1,
        "only the verified fetch got through"
    );
}

// ---- proxy variables ----------------------------------------------------------------

const PROXY_CHILD: &str = "ISOLA_EGRESS_PROXY_CHILD";

#[test]
fn proxy_environment_variables_are_ignored() {
    // Environment variables are process-wide and tests run in parallel, so
    // the fetch runs in a child process of this test binary.
    let trap = echo_server();
    let proxy = format!("http://127.0.0.1:{}", trap.port());
    let exe = std::env::current_exe().expect("test binary");
    let output = std::process::Command::new(exe)
        .args([
            "--exact",
            "egress::proxy_variables_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(PROXY_CHILD, "1")
        .env("HTTP_PROXY", &proxy)
        .env("http_proxy", &proxy)
        .env("HTTPS_PROXY", &proxy)
        .env("https_proxy", &proxy)
        .env("ALL_PROXY", &proxy)
        .env("all_proxy", &proxy)
        .env("NO_PROXY", "")
        .output()
        .expect("child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed: {stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("1 passed"),
        "the child test did not run: {stdout}"
    );
    assert_eq!(trap.connections(), 0, "a fetch went to the proxy");
}

#[test]
fn proxy_variables_child() {
    if std::env::var_os(PROXY_CHILD).is_none() {
        return;
    }
    assert!(std::env::var_os("HTTP_PROXY").is_some());
    let server = echo_server();
    let dns = Arc::new(TestDns::default());
    let egress = egress(policy(&server, &dns));
    assert_happy_path(&egress, &server);
    assert_eq!(server.connections(), 1);
}

// ---- caps ----------------------------------------------------------------------------

#[test]
fn a_response_over_the_byte_cap_fails_without_being_buffered() {
    let server = Server::start(|seen| match seen.target.as_str() {
        "/declared" => Reply::ok(vec![b'x'; 2 << 20]),
        "/stream" => {
            let mut r = Reply::ok("");
            r.stream = 256 << 20;
            r
        }
        _ => Reply::ok("happy"),
    });
    let dns = Arc::new(TestDns::default());
    let egress = egress(policy(&server, &dns).max_response_bytes(1 << 20));
    let out = guest_fetch(
        &egress,
        json!([server.url("/declared"), server.url("/stream")]),
    );
    let message = "TypeError: fetch to upstream.test failed: the response body exceeds 1048576 bytes (isola egress limit)";
    assert_eq!(refused(&out[0]), message);
    assert_eq!(refused(&out[1]), message);
    // The stream stopped when egress hung up: far less than was on offer.
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.stats.open.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = server.stats.bytes_sent.load(Ordering::SeqCst);
    assert!(sent < 64 << 20, "the server sent {sent} bytes");
    assert_happy_path(&egress, &server);
    assert_next_sandbox_works();
}

#[test]
fn a_slow_upstream_hits_the_time_cap() {
    let server = Server::start(|seen| {
        let mut r = Reply::ok("happy");
        if seen.target == "/slow" {
            r.delay = Duration::from_secs(10);
        }
        r
    });
    let dns = Arc::new(TestDns::default());
    let egress = egress(policy(&server, &dns).timeout(Duration::from_millis(300)));
    let started = Instant::now();
    let out = guest_fetch(&egress, json!([server.url("/slow")]));
    assert_eq!(
        refused(&out[0]),
        "TypeError: fetch failed: it took longer than 300 ms (isola egress limit)"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        wait_for_hangups(&server, 1),
        1,
        "the slow connection stayed open"
    );
    assert_happy_path(&egress, &server);
}

/// Waits up to 5 s for the server to see `n` clients hang up.
fn wait_for_hangups(server: &Server, n: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let seen = server.stats.hangups.load(Ordering::SeqCst);
        if seen >= n || Instant::now() > deadline {
            return seen;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_fetch_in_flight_ends_with_its_sandbox() {
    let server = Server::start(|seen| {
        let mut r = Reply::ok("happy");
        if seen.target == "/slow" {
            r.delay = Duration::from_secs(20);
        }
        r
    });
    let dns = Arc::new(TestDns::default());
    let egress = egress(policy(&server, &dns));
    let code = esm(r#"export default { async go(url) { return (await fetch(url)).status } }"#)
        .global_outbound(Outbound::Allow(egress.clone()))
        .limits(Limits {
            wall_ms: 300,
            ..Limits::default()
        });
    let run = call(code, "go", Value::from(server.url("/slow")));
    assert!(
        matches!(run.outcome, Outcome::WallLimit),
        "{:?}",
        run.outcome
    );
    // The isolate was discarded and its fetch dropped: the connection closed.
    assert_eq!(wait_for_hangups(&server, 1), 1);
    assert_happy_path(&egress, &server);
    assert_next_sandbox_works();
}

#[test]
fn concurrent_fetches_are_bounded() {
    let server = Server::start(|_| {
        let mut r = Reply::ok("happy");
        r.delay = Duration::from_millis(150);
        r
    });
    let dns = Arc::new(TestDns::default());
    let egress = egress(policy(&server, &dns).max_concurrent_fetches(2));
    let code = esm(r#"export default { async go(url) {
        const rs = await Promise.all(Array.from({ length: 8 }, () => fetch(url).then(r => r.text())));
        return rs } }"#)
    .global_outbound(Outbound::Allow(egress.clone()));
    let out = returned(call(code, "go", Value::from(server.url("/"))));
    assert_eq!(out, json!(vec!["happy"; 8]));
    assert_eq!(server.connections(), 8);
    assert_eq!(
        server.stats.max_active.load(Ordering::SeqCst),
        2,
        "not bounded, or not concurrent"
    );
}
