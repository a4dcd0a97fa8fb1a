//! `isola serve`, in process: a real server on `127.0.0.1:0` and real
//! HTTP/1.1 requests written by hand on a TCP stream.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use isola_serve::{ServeError, ServeOptions, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::runtime;

/// A directory with a config and modules, removed on drop.
struct App(PathBuf);

impl App {
    fn new(tag: &str, config: &str, files: &[(&str, &str)]) -> Self {
        let dir = std::env::temp_dir().join(format!("isola-serve-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("wrangler.toml"), config).expect("config");
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
            std::fs::write(path, text).expect("module");
        }
        Self(dir)
    }

    /// An app whose `src/index.ts` is `source`, one executor thread.
    fn worker(tag: &str, source: &str) -> Self {
        Self::with_config(tag, "", source)
    }

    fn with_config(tag: &str, extra: &str, source: &str) -> Self {
        let config = format!(
            "name = \"{tag}\"\nmain = \"src/index.ts\"\ncompatibility_date = \"2026-03-01\"\n{extra}\n[isola]\nthreads = 1\n"
        );
        Self::new(tag, &config, &[("src/index.ts", source)])
    }

    fn options(&self) -> ServeOptions {
        let mut options = ServeOptions::new(self.0.join("wrangler.toml"));
        options.port = 0;
        options
    }

    async fn start(&self) -> Server {
        isola_serve::start(&self.options())
            .await
            .expect("the server starts")
    }

    /// Why the server refuses to start.
    fn startup_error(&self) -> ServeError {
        runtime()
            .block_on(isola_serve::start(&self.options()))
            .expect_err("startup fails")
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `head` (request line and headers, without the blank line) and
/// `body` on a fresh connection that closes after the response.
async fn send(addr: SocketAddr, head: &str, body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    let request = format!("{head}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("writes");
    stream.write_all(body).await.expect("writes the body");
    read_reply(stream).await
}

async fn read_reply(mut stream: TcpStream) -> Reply {
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut raw))
        .await
        .expect("a reply in time")
        .expect("reads");
    parse(&raw)
}

fn parse(raw: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete response");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

async fn get(addr: SocketAddr, path: &str) -> Reply {
    send(addr, &format!("GET {path} HTTP/1.1\r\nHost: app.test"), b"").await
}

#[test]
fn a_get_returns_the_workers_status_headers_and_body() {
    let app = App::worker(
        "status",
        "export default { async fetch(req: Request): Promise<Response> {\n  return new Response(`${req.method} ${req.url}`, { status: 201, headers: { 'x-from': 'worker', 'content-type': 'text/plain' } });\n} };\n",
    );
    runtime().block_on(async {
        let server = app.start().await;
        let reply = get(server.local_addr(), "/a/b?c=1").await;
        assert_eq!(reply.status, 201, "{reply:?}");
        assert_eq!(reply.header("x-from"), Some("worker"));
        assert_eq!(reply.header("content-type"), Some("text/plain"));
        assert_eq!(reply.body, "GET http://app.test/a/b?c=1");
        server.shutdown_handle().shutdown();
        server.wait().await.expect("stops");
    });
}

#[test]
fn vars_reach_env_and_module_state_persists_across_requests() {
    let app = App::with_config(
        "vars",
        "[vars]\nGREETING = \"hello\"\nLIMITS = { n = 3 }\n",
        "let count = 0;\nexport default { fetch(req: Request, env: any) {\n  count += 1;\n  return Response.json({ greeting: env.GREETING, n: env.LIMITS.n, count });\n} };\n",
    );
    runtime().block_on(async {
        let server = app.start().await;
        let first = get(server.local_addr(), "/").await;
        assert_eq!(first.status, 200, "{first:?}");
        assert_eq!(first.body, r#"{"greeting":"hello","n":3,"count":1}"#);
        let second = get(server.local_addr(), "/").await;
        assert_eq!(second.body, r#"{"greeting":"hello","n":3,"count":2}"#);
    });
}

#[test]
fn a_post_body_reaches_request_text() {
    let app = App::worker(
        "post",
        "export default { async fetch(req: Request) { return new Response(`got ${(await req.text()).toUpperCase()} as ${req.headers.get('content-type')}`); } };\n",
    );
    runtime().block_on(async {
        let server = app.start().await;
        let reply = send(
            server.local_addr(),
            "POST /submit HTTP/1.1\r\nHost: app.test\r\nContent-Type: text/plain\r\nContent-Length: 11",
            b"hello world",
        )
        .await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(reply.body, "got HELLO WORLD as text/plain");
    });
}

#[test]
fn the_agent_host_example_runs_agent_code_through_env_loader() {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/agent-host/wrangler.toml");
    runtime().block_on(async {
        let mut options = ServeOptions::new(dir);
        options.port = 0;
        let server = isola_serve::start(&options).await.expect("the example starts");
        let agent = b"export default { myAgent(p) { return { answer: p.q + 1, ua: navigator.userAgent } } }";
        let head = format!(
            "POST / HTTP/1.1\r\nHost: app.test\r\nContent-Type: text/javascript\r\nContent-Length: {}",
            agent.len()
        );
        let reply = send(server.local_addr(), &head, agent).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(reply.body, r#"{"answer":2,"ua":"Cloudflare-Workers"}"#);
        let spin = b"export default { myAgent() { for (;;) {} } }";
        let head = format!(
            "POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: {}",
            spin.len()
        );
        let reply = send(server.local_addr(), &head, spin).await;
        assert_eq!(reply.status, 400, "{reply:?}");
        assert_eq!(reply.body, r#"{"error":"Error: Worker exceeded CPU time limit."}"#);
        let broken = b"export default {";
        let head = format!(
            "POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: {}",
            broken.len()
        );
        let reply = send(server.local_addr(), &head, broken).await;
        assert_eq!(reply.status, 400, "{reply:?}");
        assert!(
            reply.body.contains("Failed to start Worker:\\nUncaught SyntaxError"),
            "{reply:?}"
        );
        server.shutdown_handle().shutdown();
        server.wait().await.expect("a clean stop");
    });
}

#[test]
fn the_seeds_canonical_example_runs_unchanged() {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/loader-seed/wrangler.toml");
    runtime().block_on(async {
        let mut options = ServeOptions::new(dir);
        options.port = 0;
        let server = isola_serve::start(&options).await.expect("the example starts");
        let agent = b"export default { async myAgent(p, env) { return { q: p.q, chat: await env.CHAT_ROOM.post(\"hi from the agent\") }; } }";
        let head = format!(
            "POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: {}",
            agent.len()
        );
        let reply = send(server.local_addr(), &head, agent).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(
            reply.body,
            r#"{"q":1,"chat":{"room":"r1","posted":"hi from the agent"}}"#
        );
        server.shutdown_handle().shutdown();
        server.wait().await.expect("a clean stop");
    });
}

#[test]
fn modules_are_followed_from_main() {
    let app = App::new(
        "graph",
        "main = \"src/index.ts\"\ncompatibility_date = \"2026-03-01\"\n[isola]\nthreads = 1\n",
        &[
            (
                "src/index.ts",
                "import { greet } from './lib/greet.ts';\nimport data from '../data.json';\nexport default { fetch() { return new Response(greet(data.who)); } };\n",
            ),
            (
                "src/lib/greet.ts",
                "import suffix from './suffix.txt';\nexport function greet(who: string): string { return `hi ${who}${suffix}`; }\n",
            ),
            ("src/lib/suffix.txt", "!"),
            ("data.json", "{\"who\": \"ada\"}"),
        ],
    );
    runtime().block_on(async {
        let server = app.start().await;
        let reply = get(server.local_addr(), "/").await;
        assert_eq!(reply.body, "hi ada!", "{reply:?}");
    });
}

#[test]
fn a_throwing_parent_gives_a_bare_500() {
    let app = App::worker(
        "throws",
        "export default { fetch() { throw new Error('the database password is hunter2'); } };\n",
    );
    runtime().block_on(async {
        let server = app.start().await;
        let reply = get(server.local_addr(), "/").await;
        assert_eq!(reply.status, 500, "{reply:?}");
        assert_eq!(reply.body, "Internal Server Error");
        assert!(!reply.body.contains("hunter2"));
        // The server keeps serving.
        let health = get(server.local_addr(), "/__isola/healthz").await;
        assert_eq!((health.status, health.body.as_str()), (200, "ok"));
    });
}

#[test]
fn a_limit_gives_a_bare_500_and_the_next_request_works() {
    let app = App::with_config(
        "limit",
        "[limits]\ncpu_ms = 50\n",
        "export default { fetch(req: Request) { if (req.url.endsWith('/spin')) { for (;;) {} } return new Response('fine'); } };\n",
    );
    runtime().block_on(async {
        let server = app.start().await;
        let reply = get(server.local_addr(), "/spin").await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (500, "Internal Server Error")
        );
        let reply = get(server.local_addr(), "/").await;
        assert_eq!((reply.status, reply.body.as_str()), (200, "fine"));
    });
}

#[test]
fn a_body_over_the_cap_gets_413() {
    let app = App::new(
        "cap",
        "main = \"src/index.ts\"\ncompatibility_date = \"2026-03-01\"\n[isola]\nthreads = 1\nmax_body_mb = 1\n",
        &[(
            "src/index.ts",
            "export default { async fetch(req: Request) { return new Response(String((await req.arrayBuffer()).byteLength)); } };\n",
        )],
    );
    runtime().block_on(async {
        let server = app.start().await;
        let addr = server.local_addr();
        // Declared too large: refused before reading.
        let reply = send(
            addr,
            "POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: 2097152",
            b"",
        )
        .await;
        assert_eq!(reply.status, 413, "{reply:?}");
        // Chunked, no length: refused once the cap is passed.
        let mut stream = TcpStream::connect(addr).await.expect("connects");
        stream
            .write_all(b"POST / HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
            .await
            .expect("writes");
        let chunk = vec![b'a'; 256 << 10];
        for _ in 0..5 {
            let header = format!("{:x}\r\n", chunk.len());
            if stream.write_all(header.as_bytes()).await.is_err()
                || stream.write_all(&chunk).await.is_err()
                || stream.write_all(b"\r\n").await.is_err()
            {
                break;
            }
        }
        let _ = stream.write_all(b"0\r\n\r\n").await;
        let reply = read_reply(stream).await;
        assert_eq!(reply.status, 413, "{reply:?}");
        // Under the cap, the body arrives whole.
        let body = vec![b'b'; 1000];
        let reply = send(
            addr,
            "POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: 1000",
            &body,
        )
        .await;
        assert_eq!((reply.status, reply.body.as_str()), (200, "1000"));
    });
}

/// `/__isola/status` shows that guests are jailed and each cordon's
/// processes: the parent's (`main`) and one per loader, named as
/// configured or after the loader; `[isola] jail = false` turns it off.
#[test]
fn the_status_path_shows_the_jail_and_its_cordons() {
    let loaders = "[[worker_loaders]]\nbinding = \"LOADER\"\ncordon = \"agents\"\n\
                   [[worker_loaders]]\nbinding = \"OTHER\"\n";
    let source = "export default { async fetch(request, env) { \
        const w = env.LOADER.load({ compatibilityDate: '2026-03-01', mainModule: 'a.js', \
          modules: { 'a.js': 'export default { fetch() { return new Response(\"child\") } }' } }); \
        return w.getEntrypoint().fetch(request); } };\n";
    let app = App::with_config("status", loaders, source);
    runtime().block_on(async {
        let mut options = app.options();
        options.jail = Some(isola::Jail::new(crate::support::isola_binary()));
        let server = isola_serve::start(&options).await.expect("starts jailed");
        let reply = get(server.local_addr(), "/").await;
        assert_eq!((reply.status, reply.body.as_str()), (200, "child"));
        let reply = get(server.local_addr(), "/__isola/status").await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let status: serde_json::Value = serde_json::from_str(&reply.body).expect("json");
        assert_eq!(status["jail"], true);
        let cordons = status["cordons"].as_array().expect("cordons");
        let names: Vec<&str> = cordons.iter().filter_map(|c| c["name"].as_str()).collect();
        assert_eq!(names, ["agents", "main", "status/OTHER"]);
        for cordon in cordons {
            assert_eq!(cordon["pids"].as_array().map(Vec::len), Some(1), "{cordon}");
            assert_eq!(cordon["restarts"], 0);
            assert_eq!(cordon["backing_off"], 0);
        }
        assert!(cordons[1]["live_workers"].as_u64() >= Some(1), "{status}");
    });
    let off = App::with_config(
        "status-off",
        "",
        "export default { fetch() { return new Response('ok') } };\n",
    );
    std::fs::write(
        off.0.join("wrangler.toml"),
        "name = \"status-off\"\nmain = \"src/index.ts\"\ncompatibility_date = \"2026-03-01\"\n[isola]\nthreads = 1\njail = false\n",
    )
    .expect("config");
    runtime().block_on(async {
        let mut options = off.options();
        options.jail = Some(isola::Jail::new(crate::support::isola_binary()));
        let server = isola_serve::start(&options).await.expect("starts");
        let reply = get(server.local_addr(), "/__isola/status").await;
        let status: serde_json::Value = serde_json::from_str(&reply.body).expect("json");
        assert_eq!(status["jail"], false, "{status}");
        assert_eq!(status["cordons"], serde_json::json!([]));
    });
}

#[test]
fn the_health_path_is_answered_by_isola() {
    let app = App::worker(
        "health",
        "export default { fetch() { return new Response('worker', { status: 404 }); } };\n",
    );
    runtime().block_on(async {
        let server = app.start().await;
        let reply = get(server.local_addr(), "/__isola/healthz").await;
        assert_eq!((reply.status, reply.body.as_str()), (200, "ok"));
        let reply = get(server.local_addr(), "/healthz").await;
        assert_eq!((reply.status, reply.body.as_str()), (404, "worker"));
    });
}

#[test]
fn graceful_shutdown_lets_an_in_flight_request_finish() {
    let app = App::worker(
        "graceful",
        "export default { async fetch() { await new Promise(r => setTimeout(r, 400)); return new Response('finished'); } };\n",
    );
    runtime().block_on(async {
        let server = app.start().await;
        let addr = server.local_addr();
        let mut stream = TcpStream::connect(addr).await.expect("connects");
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n")
            .await
            .expect("writes");
        tokio::time::sleep(Duration::from_millis(100)).await;
        server.shutdown_handle().shutdown();
        let reply = read_reply(stream).await;
        assert_eq!((reply.status, reply.body.as_str()), (200, "finished"));
        tokio::time::timeout(Duration::from_secs(5), server.wait())
            .await
            .expect("stops after the request")
            .expect("stops cleanly");
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "no new connections after shutdown"
        );
    });
}

#[test]
fn slow_headers_are_cut_off() {
    let app = App::worker(
        "slowloris",
        "export default { fetch() { return new Response('x'); } };\n",
    );
    runtime().block_on(async {
        let mut options = app.options();
        options.header_read_timeout = Duration::from_millis(300);
        let server = isola_serve::start(&options).await.expect("starts");
        let mut stream = TcpStream::connect(server.local_addr())
            .await
            .expect("connects");
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: app.test\r\nX-Slow: ")
            .await
            .expect("writes");
        let mut raw = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut raw))
            .await
            .expect("the server closes the connection");
        assert!(read.is_ok() || raw.is_empty(), "{read:?}");
        assert!(
            !String::from_utf8_lossy(&raw).contains("200 OK"),
            "{}",
            String::from_utf8_lossy(&raw)
        );
    });
}

#[test]
fn unknown_config_keys_are_reported_and_the_app_starts() {
    let app = App::new(
        "unknown",
        "main = \"index.js\"\ncompatibility_date = \"2026-03-01\"\nkv_namespaces = [{ binding = \"KV\", id = \"x\" }]\n[limits]\ncpu_ms = 100\nfoo = 1\n[isola]\nthreads = 1\n",
        &[(
            "index.js",
            "export default { fetch() { return new Response('up'); } };\n",
        )],
    );
    runtime().block_on(async {
        let server = app.start().await;
        let mut keys = server.unknown_keys().to_vec();
        keys.sort();
        assert_eq!(keys, ["kv_namespaces", "limits.foo"]);
        let reply = get(server.local_addr(), "/").await;
        assert_eq!(reply.body, "up");
    });
}

#[test]
fn a_syntax_error_in_main_fails_startup_with_its_position() {
    let app = App::worker(
        "syntax",
        "export default {\n  fetch() { return new Response('x') }\n  oops(\n};\n",
    );
    let err = app.startup_error();
    assert_eq!(err.exit_code(), 2);
    let message = err.to_string();
    assert!(matches!(err, ServeError::Code(_)), "{err:?}");
    assert!(message.starts_with("Failed to start Worker:"), "{message}");
    assert!(message.contains("SyntaxError"), "{message}");
    assert!(message.contains("src/index.ts:3:3"), "{message}");
    let thrower = App::worker(
        "top-level-throw",
        "const x = 1;\nthrow new Error('boom at top level');\nexport default { fetch() { return new Response('x'); } };\n",
    );
    assert_eq!(
        thrower.startup_error().to_string(),
        "Failed to start Worker:\nUncaught Error: boom at top level\n  at src/index.ts:2:11",
        "the location is given once"
    );
}

#[test]
fn a_deeply_nested_main_fails_startup_instead_of_crashing_the_server() {
    // The module scan and the TypeScript compiler recurse per nesting level;
    // this once overflowed the server's stack.
    let nested = format!("{}{}", "{".repeat(60_000), "}".repeat(60_000));
    let app = App::worker(
        "deep",
        &format!("{nested}\nexport default {{ fetch() {{ return new Response('x') }} }};\n"),
    );
    let err = app.startup_error();
    assert_eq!(err.exit_code(), 2);
    let message = err.to_string();
    assert!(
        message.contains("nested more than 1000 levels deep"),
        "{message}"
    );
    assert!(message.contains("src/index.ts:1:"), "{message}");
}

#[test]
fn a_missing_main_or_bad_config_fails_startup() {
    let app = App::new(
        "missing",
        "main = \"src/gone.ts\"\ncompatibility_date = \"2026-03-01\"\n",
        &[],
    );
    let err = app.startup_error();
    assert!(matches!(err, ServeError::Modules(_)), "{err:?}");
    assert!(err.to_string().contains("src/gone.ts"), "{err}");
    assert_eq!(err.exit_code(), 2);

    std::fs::write(app.0.join("wrangler.toml"), "main = \"src/gone.ts\"\n").expect("config");
    let err = app.startup_error();
    assert!(matches!(err, ServeError::Config(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("wrangler.toml: `compatibility_date`: missing"),
        "{err}"
    );
}

#[test]
fn the_example_runs_as_written_and_sigterm_stops_it_cleanly() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::Stdio;

    let mut child = crate::cli::isola()
        .args([
            "serve",
            "--config",
            "examples/serve-hello/wrangler.toml",
            "--port",
            "0",
        ])
        .env("ISOLA_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .expect("isola serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("a log line before exit")
            .expect("utf-8");
        if let Some((_, rest)) = line.split_once("listening on http://") {
            break rest.split_whitespace().next().expect("address").to_owned();
        }
    };
    let mut stream = std::net::TcpStream::connect(&addr).expect("connects");
    stream
        .write_all(b"GET /?name=ada HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .expect("writes");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("reads");
    let reply = parse(&raw);
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body, r#"{"message":"hello, ada!","served":1}"#);

    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let exit = child.wait().expect("isola serve exits");
    assert_eq!(exit.code(), Some(0), "{rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("signal=\"SIGTERM\"")),
        "{rest:?}"
    );
}

#[test]
fn service_bindings_to_the_worker_itself_call_its_entrypoints() {
    let app = App::with_config(
        "services",
        "[[services]]\nbinding = \"MATH\"\nservice = \"services\"\nentrypoint = \"Math\"\n",
        r#"import { WorkerEntrypoint } from "cloudflare:workers";
export class Math extends WorkerEntrypoint { double(x: number) { return x * 2; } }
export default { async fetch(req: Request, env: any) { return new Response(String(await env.MATH.double(21))); } };
"#,
    );
    runtime().block_on(async {
        let server = app.start().await;
        let reply = get(server.local_addr(), "/").await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(reply.body, "42");
    });
    let other = App::with_config(
        "services-other",
        "[[services]]\nbinding = \"AUTH\"\nservice = \"auth-worker\"\n",
        "export default { fetch() { return new Response('x'); } };\n",
    );
    runtime().block_on(async {
        let err = isola_serve::start(&other.options())
            .await
            .expect_err("an unknown service");
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string().contains("[[services]] binding AUTH names the worker \"auth-worker\", which is not declared; isola serve runs \"services-other\" (pass more workers with another --config)."),
            "{err}"
        );
    });
}

#[test]
fn service_bindings_reach_workers_declared_alongside_in_both_directions() {
    // The served worker binds AUTH to another worker (its own config), which
    // binds back to a named entrypoint of the served one: a cycle.
    let main = App::with_config(
        "svc-main",
        "[[services]]\nbinding = \"AUTH\"\nservice = \"svc-auth\"\n",
        r#"import { WorkerEntrypoint } from "cloudflare:workers";
export class Audit extends WorkerEntrypoint { record(what: string) { return `audited ${what}`; } }
export default { async fetch(req: Request, env: any) {
  const seen: string[] = [];
  const verdict = await env.AUTH.check("t0ken", (user: string) => { seen.push(user); return user.toUpperCase(); });
  const page = await env.AUTH.fetch("https://auth.internal/whoami", { headers: { "x-user": "ada" } });
  return Response.json({ verdict, seen, page: await page.text(), status: page.status });
} };
"#,
    );
    let auth = App::new(
        "svc-auth",
        "name = \"svc-auth\"\nmain = \"auth.js\"\ncompatibility_date = \"2026-03-01\"\n[vars]\nSECRET = \"t0ken\"\n[[services]]\nbinding = \"MAIN\"\nservice = \"svc-main\"\nentrypoint = \"Audit\"\n",
        &[(
            "auth.js",
            r#"import { WorkerEntrypoint } from "cloudflare:workers";
export default class extends WorkerEntrypoint {
  async check(token, onUser) {
    const shout = await onUser("ada");
    return { ok: token === this.env.SECRET, shout, audit: await this.env.MAIN.record("check") };
  }
  fetch(request) { return new Response(`hello ${request.headers.get("x-user")}`, { status: 203 }); }
}
"#,
        )],
    );
    runtime().block_on(async {
        let mut options = main.options();
        options.other_configs = vec![auth.0.join("wrangler.toml")];
        let server = isola_serve::start(&options).await.expect("starts");
        let reply = get(server.local_addr(), "/").await;
        assert_eq!(reply.status, 200, "{reply:?}");
        let body: serde_json::Value = serde_json::from_str(&reply.body).expect("json");
        assert_eq!(
            body,
            serde_json::json!({
                "verdict": {"ok": true, "shout": "ADA", "audit": "audited check"},
                "seen": ["ada"],
                "page": "hello ada",
                "status": 203,
            })
        );
        // Same name twice is refused.
        let mut twice = main.options();
        twice.other_configs = vec![main.0.join("wrangler.toml")];
        let err = isola_serve::start(&twice)
            .await
            .expect_err("duplicate names");
        assert!(
            err.to_string()
                .contains("two configs declare a worker named \"svc-main\""),
            "{err}"
        );
    });
}

/// Reads from `stream` until `needle` has arrived; fails after 20 s (a
/// hang detector: the needle arrives only if the server streams).
async fn read_until(stream: &mut TcpStream, seen: &mut Vec<u8>, needle: &str) {
    let found = async {
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(seen).contains(needle) {
            let n = stream.read(&mut buf).await.expect("reads");
            assert!(
                n > 0,
                "closed before {needle:?}: {:?}",
                String::from_utf8_lossy(seen)
            );
            seen.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(20), found)
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{needle:?} never arrived: {:?}",
                String::from_utf8_lossy(seen)
            )
        });
}

#[test]
fn response_bodies_stream_as_the_parent_produces_them() {
    // The second chunk is produced only once another request releases it,
    // which the test sends only after it has received the first chunk: a
    // server that buffered the body would never answer.
    let app = App::worker(
        "streaming",
        r#"let release: () => void = () => {};
const released = new Promise<void>((resolve) => { release = resolve; });
let breakIt: () => void = () => {};
const broken = new Promise<void>((resolve) => { breakIt = resolve; });
export default { async fetch(req: Request) {
  const path = new URL(req.url).pathname;
  if (path === "/release") { release(); return new Response("released"); }
  if (path === "/break") { breakIt(); return new Response("broken"); }
  if (path === "/broken") {
    const body = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("partial;")); }, async pull() { await broken; throw new Error("mid-stream failure"); } });
    return new Response(body);
  }
  let step = 0;
  const body = new ReadableStream({ async pull(c) {
    step += 1;
    if (step === 1) c.enqueue(new TextEncoder().encode("first;"));
    else if (step === 2) { await released; c.enqueue(new TextEncoder().encode("second;")); }
    else c.close();
  } });
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
} };
"#,
    );
    runtime().block_on(async {
        let server = app.start().await;
        let addr = server.local_addr();
        let mut stream = TcpStream::connect(addr).await.expect("connects");
        stream
            .write_all(b"GET /events HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n")
            .await
            .expect("writes");
        let mut seen = Vec::new();
        read_until(&mut stream, &mut seen, "first;").await;
        let text = String::from_utf8_lossy(&seen).to_string();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.contains("transfer-encoding: chunked"), "{text}");
        assert!(text.contains("content-type: text/event-stream"), "{text}");
        assert!(!text.contains("second;"));
        assert_eq!(get(addr, "/release").await.body, "released");
        read_until(&mut stream, &mut seen, "second;").await;
        // The body ends properly: the last chunk, then the connection closes.
        stream.read_to_end(&mut seen).await.expect("reads");
        assert!(
            String::from_utf8_lossy(&seen).ends_with("0\r\n\r\n"),
            "{seen:?}"
        );

        // A failure mid-body cuts the response off without the final chunk.
        let mut broken = TcpStream::connect(addr).await.expect("connects");
        broken
            .write_all(b"GET /broken HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n")
            .await
            .expect("writes");
        let mut seen = Vec::new();
        read_until(&mut broken, &mut seen, "partial;").await;
        assert_eq!(get(addr, "/break").await.body, "broken");
        let _ = tokio::time::timeout(Duration::from_secs(20), broken.read_to_end(&mut seen)).await;
        let text = String::from_utf8_lossy(&seen).to_string();
        assert!(text.contains("partial;"), "{text}");
        assert!(
            !text.ends_with("0\r\n\r\n"),
            "a cut-off body must not look complete: {text}"
        );
        // The server goes on serving.
        assert_eq!(get(addr, "/release").await.status, 200);
    });
}

#[test]
fn a_response_made_from_bytes_has_a_content_length() {
    let app = App::worker(
        "content-length",
        "export default { fetch(request) {\n\
           if (new URL(request.url).pathname === '/big') return new Response(new Uint8Array(3 << 20).fill(120));\n\
           return new Response('twelve bytes'); } };\n",
    );
    runtime().block_on(async {
        let server = app.start().await;
        let reply = get(server.local_addr(), "/").await;
        assert_eq!(reply.header("content-length"), Some("12"), "{reply:?}");
        assert_eq!(reply.body, "twelve bytes");
        // Big bytes reach the host in slices; the length still goes first.
        let reply = get(server.local_addr(), "/big").await;
        assert_eq!(reply.header("content-length"), Some("3145728"));
        assert_eq!(reply.body, "x".repeat(3 << 20));
    });
}

#[test]
fn console_output_is_logged_whatever_the_response_body() {
    // hyper stops polling a body once its content-length is written, so
    // the end of a bytes (or empty) body never comes; the run's console
    // output must be logged anyway, as it is for a streamed one.
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::Stdio;
    use std::sync::mpsc;

    let app = App::worker(
        "console-output",
        r#"export default { async fetch(req: Request) {
  const path = new URL(req.url).pathname;
  console.log(`logged for ${path}`);
  if (path === "/empty") return new Response(null, { status: 204 });
  if (path === "/stream") return new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("streamed")); c.close(); } }));
  if (path === "/slow") return new Response(new ReadableStream({ start(c) {
    c.enqueue(new TextEncoder().encode("first"));
    console.log("mid-stream");
    setTimeout(() => c.close(), 15000);
  } }));
  return Response.json({ path });
} };
"#,
    );
    /// Kills the server however the test ends.
    struct Killed(std::process::Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Killed(
        crate::cli::isola()
            .args(["serve", "--port", "0", "--config"])
            .arg(app.0.join("wrangler.toml"))
            .env("ISOLA_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("isola serve starts"),
    );
    let (lines_tx, lines) = mpsc::channel();
    let stderr = child.0.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut seen = Vec::new();
    let mut wait_for = |needle: &str| -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(line) = seen.iter().find(|l: &&String| l.contains(needle)) {
                return line.clone();
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => seen.push(line),
                Err(_) => panic!("no log line with {needle:?}: {seen:#?}"),
            }
        }
    };
    let listening = wait_for("listening on http://");
    let (_, rest) = listening
        .split_once("listening on http://")
        .expect("address");
    let addr = rest.split_whitespace().next().expect("address").to_owned();
    let request = |path: &str| {
        let mut stream = std::net::TcpStream::connect(&addr).expect("connects");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        .expect("writes");
        stream
    };
    for path in ["/json", "/empty", "/stream"] {
        let mut raw = Vec::new();
        request(path).read_to_end(&mut raw).expect("reads");
        assert!(
            String::from_utf8_lossy(&raw).starts_with("HTTP/1.1 2"),
            "{path}: {raw:?}"
        );
        wait_for(&format!("logged for {path}"));
    }
    // A console line written while a body is still streaming is logged
    // then, not when the body ends (15 s later).
    let started = std::time::Instant::now();
    let _open = request("/slow");
    wait_for("mid-stream");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "logged after {:?}",
        started.elapsed()
    );
}

#[test]
fn wait_until_work_runs_after_the_response_is_sent() {
    let app = App::worker(
        "wait-until",
        r#"let finished = 0;
export default { async fetch(req: Request, env: unknown, ctx: ExecutionContext) {
  if (new URL(req.url).pathname === "/count") return new Response(String(finished));
  ctx.waitUntil(new Promise<void>((resolve) => setTimeout(() => { finished += 1; resolve(); }, 50)));
  return new Response("accepted");
} };
"#,
    );
    runtime().block_on(async {
        let server = app.start().await;
        let addr = server.local_addr();
        let first = get(addr, "/work").await;
        assert_eq!(first.body, "accepted");
        // The response came first; the work finishes afterwards.
        let mut count = String::new();
        for _ in 0..400 {
            count = get(addr, "/count").await.body;
            if count == "1" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert_eq!(count, "1", "the waitUntil work never ran");
    });
}

#[test]
fn request_bodies_stream_into_the_parent_as_they_arrive() {
    // A full-duplex echo: the parent upper-cases the request body into its
    // response as it reads it; the test sends the second chunk only after
    // the first came back, which needs both directions to stream.
    let app = App::worker(
        "duplex",
        r#"export default { fetch(req: Request) {
  const upper = new TransformStream({ transform(chunk: Uint8Array, c) {
    c.enqueue(new TextEncoder().encode(new TextDecoder().decode(chunk).toUpperCase()));
  } });
  return new Response(req.body!.pipeThrough(upper));
} };
"#,
    );
    runtime().block_on(async {
        let server = app.start().await;
        let mut stream = TcpStream::connect(server.local_addr())
            .await
            .expect("connects");
        stream
            .write_all(b"POST /echo HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n6\r\nhello \r\n")
            .await
            .expect("writes");
        let mut seen = Vec::new();
        read_until(&mut stream, &mut seen, "HELLO ").await;
        stream
            .write_all(b"5\r\nworld\r\n0\r\n\r\n")
            .await
            .expect("writes");
        read_until(&mut stream, &mut seen, "WORLD").await;
        stream.read_to_end(&mut seen).await.expect("reads");
        assert!(String::from_utf8_lossy(&seen).ends_with("0\r\n\r\n"), "{seen:?}");
    });
}

#[test]
fn watch_reloads_on_change_and_keeps_serving_through_a_broken_edit() {
    let app = App::worker(
        "watch",
        "export default { fetch() { return new Response('version one'); } };\n",
    );
    let module = app.0.join("src/index.ts");
    runtime().block_on(async {
        let mut options = app.options();
        options.watch = true;
        let server = isola_serve::start(&options).await.expect("starts");
        let addr = server.local_addr();
        let until = |want: &'static str| async move {
            let mut last = String::new();
            for _ in 0..200 {
                last = get(addr, "/").await.body;
                if last == want {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            panic!("never served {want:?}; last {last:?}");
        };
        until("version one").await;
        std::fs::write(
            &module,
            "export default { fetch() { return new Response('version two, longer'); } };\n",
        )
        .expect("edit");
        until("version two, longer").await;
        // A broken edit is refused; the previous version keeps serving.
        std::fs::write(
            &module,
            "export default { fetch() { return new Response( } };\n",
        )
        .expect("edit");
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert_eq!(get(addr, "/").await.body, "version two, longer");
        std::fs::write(
            &module,
            "export default { fetch() { return new Response('version three, fixed up'); } };\n",
        )
        .expect("edit");
        until("version three, fixed up").await;
    });
}

/// A port in use fails startup at once with the address, before the
/// worker is loaded (exit code 1).
#[test]
fn a_port_in_use_is_named() {
    let app = App::worker(
        "port-in-use",
        "export default { fetch() { return new Response('x'); } };\n",
    );
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = taken.local_addr().expect("address").port();
    let mut options = app.options();
    options.port = port;
    let error = runtime()
        .block_on(isola_serve::start(&options))
        .expect_err("the port is taken");
    assert_eq!(
        error.to_string(),
        format!(
            "127.0.0.1:{port} is already in use (another server is listening there; pick one with --port)"
        )
    );
    assert_eq!(error.exit_code(), 1);
}
