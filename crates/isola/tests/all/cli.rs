//! The `isola run` command, run as a user runs it.

use std::path::PathBuf;
use std::process::{Command, Output};

use crate::support::{FORTY_CALLS_WITH_ONE_BIG_ARGUMENT, isola_binary, repository_root};

pub(crate) fn isola() -> Command {
    let mut cmd = Command::new(isola_binary());
    cmd.current_dir(repository_root());
    cmd
}

/// Every `isola run` command line in the code blocks of the README and of
/// `docs/` runs as written (through `sh`, with the built binary first on
/// `PATH`) and succeeds, so the documentation cannot drift from the CLI.
#[test]
fn every_isola_run_line_of_the_docs_works() {
    let root = repository_root();
    let mut pages = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    let readme: String = pages
        .iter()
        .map(|page| std::fs::read_to_string(page).expect("a page"))
        .collect::<Vec<_>>()
        .join("\n");
    let bin = isola_binary();
    let dir = bin.parent().expect("the binary's directory");
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut in_block = false;
    let mut ran = 0;
    for line in readme.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        let command = line.split("  #").next().unwrap_or_default().trim();
        if !in_block || !(command.starts_with("isola run ") || command.contains("| isola run")) {
            continue;
        }
        let out = Command::new("sh")
            .args(["-c", command])
            .env("PATH", &path)
            .current_dir(&root)
            .output()
            .expect("sh runs");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert!(
        ran >= 7,
        "found only {ran} isola run lines in the README and docs/"
    );
}

fn run(args: &[&str]) -> Output {
    isola().args(args).output().expect("isola runs")
}

fn temp_module(name: &str, source: &str) -> String {
    let dir = std::env::temp_dir().join(format!("isola-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, source).expect("write");
    path.to_string_lossy().into_owned()
}

#[test]
fn runs_the_example_and_prints_json() {
    let out = run(&[
        "run",
        "examples/agent.ts",
        "--call",
        "myAgent",
        "--arg",
        r#"{"x":1}"#,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json on stdout");
    assert_eq!(value["answer"], 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("thinking about { x: 1 }"));

    let out = run(&[
        "run",
        "examples/agent.ts",
        "--call",
        "myAgent",
        "--arg",
        r#"{"x":1}"#,
        "--json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["outcome"], "returned");
    assert_eq!(report["result"]["answer"], 2);
    assert_eq!(report["logs"][0]["level"], "log");
    assert!(report["stats"]["cpu_us"].is_number());
}

/// The log filter comes from `ISOLA_LOG`, else `RUST_LOG`, else `run`'s
/// default (warnings only).
#[test]
fn rust_log_and_isola_log_set_the_log_filter() {
    let spin = temp_module("spin-log.js", "export default { run() { for (;;) {} } }");
    let stderr_with = |vars: &[(&str, &str)]| {
        let mut cmd = isola();
        cmd.args(["run", &spin, "--call", "run", "--cpu-ms", "20"])
            .env_remove("RUST_LOG")
            .env_remove("ISOLA_LOG");
        for (name, value) in vars {
            cmd.env(name, value);
        }
        let out = cmd.output().expect("isola runs");
        assert_eq!(out.status.code(), Some(3));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let info_line = "worker stopped by a limit";
    assert!(!stderr_with(&[]).contains(info_line));
    assert!(stderr_with(&[("RUST_LOG", "info")]).contains(info_line));
    assert!(stderr_with(&[("ISOLA_LOG", "info")]).contains(info_line));
    assert!(!stderr_with(&[("ISOLA_LOG", "warn"), ("RUST_LOG", "info")]).contains(info_line));
}

/// The `--json` report's stats carry their units and count a call stopped
/// by a limit too.
#[test]
fn the_json_report_counts_cpu_on_limit_outcomes_too() {
    let spin = temp_module("spin.js", "export default { run() { for (;;) {} } }");
    let out = exits_with(&spin, &["--json", "--cpu-ms", "50"], 3);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["outcome"], "cpu-limit");
    let stats = &report["stats"];
    let cpu = stats["cpu_us"].as_u64().expect("cpu_us");
    assert!(cpu >= 50_000, "{report}");
    assert!(
        stats["wall_us"].as_u64().expect("wall_us") >= cpu,
        "{report}"
    );
    assert!(stats["peak_memory_bytes"].as_u64().expect("memory") > 0);
}

#[test]
fn exit_codes_say_how_the_run_ended() {
    let threw = temp_module(
        "threw.js",
        "export default { go() { throw new TypeError('nope') } }",
    );
    let out = run(&["run", &threw, "--call", "go"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Uncaught TypeError: nope"));

    let spin = temp_module("spin.js", "export default { go() { for (;;) {} } }");
    let out = run(&["run", &spin, "--call", "go", "--cpu-ms", "20", "--json"]);
    assert_eq!(out.status.code(), Some(3));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["outcome"], "cpu-limit");

    let broken = temp_module("broken.js", "export default {");
    assert_eq!(
        run(&["run", &broken, "--call", "go"]).status.code(),
        Some(2)
    );
}

#[test]
fn bad_input_gets_one_clear_line_and_exit_2() {
    for args in [
        vec!["run", "does-not-exist.js", "--call", "go"],
        vec![
            "run",
            "examples/agent.ts",
            "--call",
            "myAgent",
            "--arg",
            "{not json",
        ],
        vec!["run", "examples/agent.ts"],
        vec![
            "run",
            "examples/agent.ts",
            "--call",
            "x",
            "--env",
            "NOEQUALS",
        ],
        vec!["frobnicate"],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn modules_env_entrypoints_and_fetch_from_the_command_line() {
    let main = temp_module(
        "main.js",
        "import greeting from './greeting.txt'; import cfg from './cfg.json';\n\
         export const Named = { hello(name, env) { return `${greeting}, ${name} (${env.TIER}, ${cfg.v})` } };\n\
         export default { async fetch(request, env) { return new Response(`${request.method} ${new URL(request.url).pathname} ${env.TIER}`, { status: 203 }) } };",
    );
    let greeting = temp_module("greeting.txt", "Hello");
    let cfg = temp_module("cfg.json", r#"{"v": 7}"#);
    let module_txt = format!("greeting.txt={greeting}");
    let module_json = format!("cfg.json={cfg}");
    let base = [
        "run",
        main.as_str(),
        "--module",
        module_txt.as_str(),
        "--module",
        module_json.as_str(),
        "--env",
        "TIER=pro",
    ];

    let mut args = base.to_vec();
    args.extend([
        "--entrypoint",
        "Named",
        "--call",
        "hello",
        "--arg",
        r#""Ada""#,
    ]);
    let out = run(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#""Hello, Ada (pro, 7)""#
    );

    let mut args = base.to_vec();
    args.extend(["--fetch", "https://example.com/path", "--json"]);
    let out = run(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["result"]["status"], 203);
    assert_eq!(report["result"]["body"], "GET /path pro");
}

/// A directory of its own for modules that import each other.
fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("isola-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.to_string_lossy().into_owned()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Like `deno run`: a module with only top-level code runs it (its imports
/// read from disk, the extension optional), prints its console output and
/// nothing else, and exits 0; a default-exported function is called with
/// or without `--call default`.
#[test]
fn a_module_runs_its_top_level_or_its_default_function() {
    let dir = temp_dir("main");
    write(
        &dir,
        "lib.ts",
        "export const twice = (n: number): number => n * 2;",
    );
    let top = write(
        &dir,
        "top.js",
        "import { twice } from './lib';\nconsole.log('top level', twice(21));\nawait new Promise((r) => setTimeout(r, 5));\nconsole.log('after await');",
    );
    let out = run(&["run", &top]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(text(&out.stderr), "top level 42\nafter await\n");

    let function = write(
        &dir,
        "fn.ts",
        "import { twice } from './lib.ts';\nexport default async function (arg: { n: number }, env: { TIER: string }) { return { n: twice(arg.n), tier: env.TIER }; }",
    );
    for call in [&[][..], &["--call", "default"][..]] {
        let mut args = vec![
            "run",
            function.as_str(),
            "--arg",
            r#"{"n":4}"#,
            "--env",
            "TIER=pro",
        ];
        args.extend(call);
        let out = run(&args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout).trim(), r#"{"n":8,"tier":"pro"}"#);
    }
    let out = run(&["run", &function, "--json", "--arg", r#"{"n":1}"#]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["result"], serde_json::json!({"n": 2}));
}

/// `isola run -` reads the module from stdin; its imports come from the
/// current directory.
#[test]
fn a_module_can_come_from_stdin() {
    use std::io::Write;
    let dir = temp_dir("stdin");
    write(
        &dir,
        "greet.js",
        "export const greet = (n) => `hello ${n}`;",
    );
    let mut child = isola()
        .args(["run", "-"])
        .current_dir(&dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("isola runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"import { greet } from './greet';\nexport default () => greet('stdin');\n")
        .expect("writes");
    let out = child.wait_with_output().expect("finishes");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), r#""hello stdin""#);
}

/// `--fetch` sends what `--method`, `--header` and `--data` say (POST by
/// default with a body, as curl does); `--env-json` takes JSON.
#[test]
fn fetch_takes_a_method_headers_and_a_body() {
    let dir = temp_dir("fetch");
    let echo = write(
        &dir,
        "echo.js",
        "export default { async fetch(request, env) { return new Response(`${request.method} ${request.headers.get('x-tier')} ${await request.text()} ${env.CFG.n}`); } };",
    );
    let body = write(&dir, "body.txt", "from a file");
    let send = |extra: &[&str]| {
        let mut args = vec![
            "run",
            echo.as_str(),
            "--fetch",
            "http://x/",
            "--env-json",
            r#"CFG={"n":7}"#,
        ];
        args.extend(extra);
        let out = run(&args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    assert_eq!(send(&["-H", "X-Tier: gold", "-d", "hi"]), "POST gold hi 7");
    assert_eq!(
        send(&["--method", "put", "--data", &format!("@{body}")]),
        "PUT null from a file 7"
    );
    assert_eq!(send(&[]), "GET null  7");
}

/// A module that does not have the shape the call needs is an input
/// error (exit 2) that says what shape `isola run` expects.
#[test]
fn a_module_of_the_wrong_shape_is_an_input_error() {
    let dir = temp_dir("shape");
    let handlers = write(
        &dir,
        "handlers.js",
        "export default { hello() { return 1 }, fetch() { return new Response('') } };",
    );
    let plain = write(
        &dir,
        "plain.js",
        "export default 42;\nexport const named = { go() {} };",
    );
    let cases: [(&[&str], &str); 6] = [
        (&["run", &handlers], "methods: hello, fetch"),
        (
            &["run", &handlers, "--call", "nope"],
            "calls a method of the default export",
        ),
        (
            &["run", &handlers, "--call", "default"],
            "--call default needs a default-exported function",
        ),
        (&["run", &plain, "--call", "go"], "an object of methods"),
        (
            &["run", &plain, "--fetch", "http://x/"],
            "--fetch calls the fetch(request, env, ctx) method",
        ),
        (
            &["run", &plain, "--entrypoint", "missing"],
            "has no export named missing",
        ),
    ];
    for (args, expected) in cases {
        let out = run(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    // A module with a non-handler default and no call just runs.
    assert_eq!(run(&["run", &plain]).status.code(), Some(0));
}

/// A syntax error prints its position and the code around it with a
/// caret, in the main module or in one it imports.
#[test]
fn a_syntax_error_shows_a_code_frame() {
    let dir = temp_dir("syntax");
    write(
        &dir,
        "broken.ts",
        "export const a = 1;\nexport const b: number = 2 +;\n",
    );
    let main = write(
        &dir,
        "main.js",
        "import { b } from './broken';\nexport default () => b;\n",
    );
    let out = run(&["run", &main]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("at broken:2:"), "{stderr}");
    // The caret sits under the `;` (column 29).
    let frame = format!(
        "> 2 | export const b: number = 2 +;\n    | {}^",
        " ".repeat(28)
    );
    assert!(stderr.contains(&frame), "{stderr}");
}

/// `isola serve` shows the same code frame under a syntax error that
/// stops startup.
#[test]
fn a_syntax_error_in_a_served_worker_shows_a_code_frame() {
    let dir = temp_dir("serve-syntax");
    std::fs::create_dir_all(dir.join("src")).expect("src/");
    let config = write(
        &dir,
        "wrangler.toml",
        "name = \"x\"\nmain = \"src/index.ts\"\ncompatibility_date = \"2026-03-01\"\n",
    );
    write(
        &dir,
        "src/index.ts",
        "export default {\n  fetch() {\n    return new Response(1 +);\n  }\n};\n",
    );
    let out = run(&["serve", "--config", &config, "--port", "0"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let frame = format!(
        "> 3 |     return new Response(1 +);\n    | {}^",
        " ".repeat(27)
    );
    assert!(stderr.contains(&frame), "{stderr}");
}

/// `--log-format json`: one JSON object per stderr line, the guest's
/// console lines (with `run`) and isola's own log (with `serve`) alike.
#[test]
fn log_format_json_writes_one_object_per_line() {
    let out = run(&["run", "examples/run/script.ts", "--log-format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let line: serde_json::Value =
        serde_json::from_slice(&out.stderr).expect("one JSON object on stderr");
    assert_eq!(line["fields"]["message"], "8 words");
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["target"], "isola::guest");
    assert!(
        line["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{line}"
    );

    let mut serve = isola()
        .args([
            "--log-format",
            "json",
            "serve",
            "--config",
            "examples/serve-hello/wrangler.toml",
            "--port",
            "0",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("isola serve starts");
    let stderr = serve.stderr.take().expect("stderr");
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stderr), &mut first)
        .expect("a log line");
    let _ = serve.kill();
    let _ = serve.wait();
    let line: serde_json::Value = serde_json::from_str(&first).expect("JSON");
    assert_eq!(line["level"], "INFO", "{line}");
    assert!(line["fields"]["message"].is_string(), "{line}");
}

#[test]
fn allow_net_lets_fetch_out_under_the_egress_policy() {
    let module = temp_module(
        "net.js",
        r#"export default { async go(url) { try { await fetch(url); return "sent" } catch (e) { return `${e.name}: ${e.message}` } } }"#,
    );
    let go = |url: &str, allow: &[&str]| {
        let arg = serde_json::to_string(url).expect("json");
        let mut args = vec![
            "run",
            module.as_str(),
            "--call",
            "go",
            "--arg",
            arg.as_str(),
        ];
        for host in allow {
            args.extend(["--allow-net", host]);
        }
        let out = run(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")
    };
    // Without the flag fetch is blocked; with it, the policy decides (no
    // test here reaches the network).
    let blocked = go("http://example.com/", &[]);
    assert!(
        blocked
            .as_str()
            .is_some_and(|s| s.contains("not permitted to access the internet")),
        "{blocked}"
    );
    assert_eq!(
        go("http://example.org/", &["example.com"]),
        "TypeError: fetch to example.org refused: the host is not on the allow-list (isola egress policy)"
    );
    assert_eq!(
        go("http://127.0.0.1/", &["127.0.0.1"]),
        "TypeError: fetch to 127.0.0.1 refused: it is a loopback address (isola egress policy)"
    );
    assert_eq!(
        go("http://example.com:22/", &["example.com"]),
        "TypeError: fetch to example.com refused: port 22 is not allowed (isola egress policy)"
    );
    // Lists and `*` (any public host: private addresses stay refused).
    assert_eq!(
        go("http://example.org/", &["example.com,example.net"]),
        "TypeError: fetch to example.org refused: the host is not on the allow-list (isola egress policy)"
    );
    assert_eq!(
        go("http://127.0.0.1/", &["*"]),
        "TypeError: fetch to 127.0.0.1 refused: it is a loopback address (isola egress policy)"
    );
    let bad = run(&["run", module.as_str(), "--call", "go", "--allow-net", "a b"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--allow-net: invalid host pattern"));
}

/// TypeScript nested far deeper than anyone writes, in the shapes that
/// used to overflow the compiler's stack and abort the process: each is
/// either compiled or refused with a clear message, never a crash.
#[test]
fn deeply_nested_typescript_never_crashes_isola_run() {
    let cases = [
        // A right-deep assignment chain (1.2 MB): refused by the nesting
        // pre-check, with a position.
        (
            "assign.ts",
            format!(
                "export default {{ run() {{ let x; return {}1; }} }}",
                "x=".repeat(600_000)
            ),
            Some("nested more than 1000 levels"),
        ),
        // Nested generics: refused by the nesting pre-check, with a position.
        (
            "generics.ts",
            format!(
                "let v: {}B{};\nexport default {{ run() {{ return 1; }} }}",
                "A<".repeat(250_000),
                ">".repeat(250_000)
            ),
            Some("nested more than 1000 levels"),
        ),
        // A left-deep binary chain of millions of terms (the pre-check does
        // not count it): too long to be sure the compiler's stack holds.
        (
            "terms.ts",
            format!(
                "export default {{ run() {{ return {}1; }} }}",
                "1+".repeat(2_000_000)
            ),
            Some("bytes are compiled"),
        ),
        // The same chain just under the size limit compiles and runs: its
        // stack is sized for it.
        (
            "fewer-terms.ts",
            format!(
                "export default {{ run() {{ return {}1; }} }}",
                "1+".repeat(450_000)
            ),
            None,
        ),
    ];
    for (name, source, refusal) in cases {
        let path = temp_module(name, &source);
        let out = run(&["run", &path, "--call", "run"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        match refusal {
            Some(message) => {
                assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
                assert!(stderr.contains(message), "{name}: {stderr}");
            }
            None => {
                assert_eq!(out.status.code(), Some(0), "{name}: {stderr}");
                assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "450001");
            }
        }
    }
}

/// Runs `module`'s `run` with `flags` and asserts the exit code.
fn exits_with(module: &str, flags: &[&str], code: i32) -> Output {
    let mut args = vec!["run", module, "--call", "run"];
    args.extend_from_slice(flags);
    let out = run(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{flags:?}: {stderr}");
    out
}

/// `--cpu-ms` and `--memory-mb` above the library defaults are honoured,
/// not silently lowered; zero or an absurd size is refused.
#[test]
fn limit_flags_above_the_defaults_are_honoured() {
    // 200 MiB of heap: over the 128 MiB default, under the flag.
    let memory = temp_module(
        "memory.js",
        "export default { run() { const a = new Uint8Array(200 * 1024 * 1024); a[1] = 7; return a[1] } }",
    );
    exits_with(&memory, &[], 3);
    let out = exits_with(&memory, &["--memory-mb", "512"], 0);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "7");

    // Spinning for 4 s of wall time: over the 1,000 ms CPU default even on
    // a machine so busy that the guest gets a quarter of a core (CI runs
    // tests side by side), and under the flag's 5,000 ms however fast.
    let spin = temp_module(
        "spin.js",
        "export default { run() { const end = performance.now() + 4000; let n = 0; while (performance.now() < end) n++; return n > 0 } }",
    );
    exits_with(&spin, &[], 3);
    exits_with(&spin, &["--cpu-ms", "5000"], 0);

    for bad in [
        ["--cpu-ms", "0"],
        ["--memory-mb", "0"],
        ["--memory-mb", "100000"],
    ] {
        let out = exits_with(&spin, &bad, 2);
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(bad[0]),
            "{bad:?}"
        );
    }
}

/// A guest's status text and body cannot drive the terminal: control
/// characters are escaped on a terminal, and a forged status text is
/// refused in Rust even when the guest patched the JavaScript validation.
#[test]
fn guest_text_cannot_reach_the_terminal_raw() {
    let forged = temp_module(
        "forged.js",
        r#"export default { fetch() {
            RegExp.prototype.exec = () => [""];
            return new Response("body", { statusText: "OK\u001b]0;pwned\u0007\u001b[2J" });
        } }"#,
    );
    let out = run(&["run", &forged, "--fetch", "http://x/"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
    assert!(stderr.contains("Invalid statusText"), "{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");

    // Exit codes (see exit_codes_say_how_the_run_ended) and the escape
    // helper for any guest text printed on stderr.
    let noisy = temp_module(
        "noisy.js",
        r#"export default { run() { throw new Error("boom\u001b[31m") } }"#,
    );
    let out = run(&["run", &noisy, "--call", "run"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
    assert!(stderr.contains("boom\\u{1b}[31m"), "{stderr}");
}

/// The peak RSS `isola run --json` reports for `module`'s `run` with
/// `flags`, the run ending with exit code `code`.
fn peak_rss(module: &str, flags: &[&str], code: i32) -> u64 {
    let out = exits_with(module, &[&["--json"], flags].concat(), code);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    report["host"]["peak_rss_bytes"]
        .as_u64()
        .expect("peak RSS in the report")
}

/// Arming and clearing timers in a loop without yielding holds nothing on
/// the host: the process's peak RSS stays near that of a trivial run
/// (measured, not counted by the engine's meter).
#[test]
fn a_timer_storm_does_not_grow_host_memory() {
    let trivial = temp_module("trivial.js", "export default { run() { return 1 } }");
    let storm = temp_module(
        "storm.js",
        "export default { run() { let n = 0; for (let i = 0; i < 1000000; i++) { clearTimeout(setTimeout(() => {}, 10)); n++ } return n } }",
    );
    let base = peak_rss(&trivial, &["--memory-mb", "16"], 0);
    let stormy = peak_rss(
        &storm,
        &[
            "--memory-mb",
            "16",
            "--cpu-ms",
            "60000",
            "--timeout-ms",
            "120000",
        ],
        0,
    );
    assert!(
        stormy < base + (24 << 20),
        "1M timer pairs grew the host from {base} to {stormy} bytes"
    );
}

/// Payloads of calls in flight count against the memory limit: one 30 MiB
/// argument passed to 40 loopback calls at once is a memory-limit outcome,
/// and the process stays near the limit (it held 1.2 GB before).
#[test]
fn payloads_held_by_the_host_keep_the_process_near_the_limit() {
    let calls = temp_module("calls.js", FORTY_CALLS_WITH_ONE_BIG_ARGUMENT);
    let trivial = temp_module("tiny-calls.js", "export default { run() { return 1 } }");
    let floor = peak_rss(&trivial, &[], 0);
    let held = peak_rss(&calls, &["--memory-mb", "100", "--cpu-ms", "20000"], 3);
    assert!(
        held < floor + (200 << 20),
        "under a 100 MiB limit the host grew from {floor} to {held} bytes"
    );
}

/// Host-side copies (here `atob`'s input, bytes and text) count against the
/// memory limit: decoding 30 MiB of base64 under a 100 MiB limit is a
/// memory-limit outcome, and the process never holds much more than the
/// limit; with room, the same code runs.
#[test]
fn host_copies_count_against_the_memory_limit() {
    let decode = temp_module(
        "decode.js",
        "export default { run() { const s = 'QUFB'.repeat(30 << 18); return atob(s).length } }",
    );
    let trivial = temp_module("tiny.js", "export default { run() { return 1 } }");
    let floor = peak_rss(&trivial, &[], 0);
    // The decode is one host call of seconds in a debug build: give it the
    // CPU time (the limit is checked when the call returns).
    let roomy = peak_rss(&decode, &["--memory-mb", "512", "--cpu-ms", "20000"], 0);
    let limited = peak_rss(&decode, &["--memory-mb", "100"], 3);
    assert!(
        limited < floor + (140 << 20),
        "under a 100 MiB limit the host grew from {floor} to {limited} bytes"
    );
    assert!(
        roomy > limited,
        "with room the decode ran: {roomy} vs {limited}"
    );
}
