//! web-platform-tests against isola isolates: `cargo test -p isola-conformance --test wpt`.
//!
//! Runs every `*.any.js` (and the legacy `.html` files' inline scripts) of
//! `conformance/wpt/` with the real `resources/testharness.js`
//! inside an isolate created as for users, collecting per-subtest results.
//! `// META: script=` dependencies are evaluated first; `fetch()` of data
//! files is served from the suite directory through the isolate's outbound
//! path; timers run on a virtual clock. Known failing subtests are listed in
//! `wpt/expected-failures.txt`; the run fails on a new failure and on a
//! listed subtest that passes. `ISOLA_WPT_BLESS=1` rewrites the list.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use isola_conformance::expectations;
use isola_engine::conformance::Realm;
use isola_engine::{ErrorValue, HttpRequest, HttpResponse, OpResult};

const EXPECTED: &str = "wpt/expected-failures.txt";

/// A subtest's name and result (`Err` holds status and message).
type Subtest = (String, Result<(), String>);
const ORIGIN: &str = "http://wpt.test";

/// Glue a WPT runner provides around testharness.js (as Deno's and
/// workerd's runners do): result callbacks, `fetch_json`, and relative
/// `fetch()` resolved against the test's URL.
const RUNNER_GLUE: &str = r#"
setup({ explicit_done: true });
add_result_callback((t) => print(JSON.stringify({ name: t.name, status: t.status, message: t.message })));
add_completion_callback((_tests, status) => print(JSON.stringify({ done: true, status: status.status, message: status.message })));
{
  const base = globalThis.location.href;
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => realFetch(typeof input === "string" ? new URL(input, base).href : input, init);
  globalThis.fetch_json = (path) => globalThis.fetch(path).then((r) => r.json());
}
"#;

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--list") {
        return ExitCode::SUCCESS;
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.join("../../conformance/wpt");
    if !root.join("resources/testharness.js").exists() {
        eprintln!(
            "wpt: {} is missing: the repository's conformance/ folder holds the suite",
            root.display()
        );
        return ExitCode::FAILURE;
    }
    let harness = match std::fs::read_to_string(root.join("resources/testharness.js")) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("wpt: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();

    let mut results: BTreeMap<String, Result<(), String>> = BTreeMap::new();
    let mut per_dir: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for rel in &files {
        let outcome = run_file(&root, rel, &harness);
        let dir = rel.split('/').take(2).collect::<Vec<_>>().join("/");
        let entry = per_dir.entry(dir).or_default();
        match outcome {
            Ok(subtests) => {
                for (name, result) in subtests {
                    entry.0 += usize::from(result.is_ok());
                    entry.1 += 1;
                    results.insert(format!("{rel} :: {}", escape(&name)), result);
                }
            }
            Err(reason) => {
                entry.1 += 1;
                results.insert(format!("{rel} :: (file)"), Err(reason));
            }
        }
    }
    let passed = results.values().filter(|r| r.is_ok()).count();
    let total = results.len();
    #[allow(clippy::cast_precision_loss)]
    let rate = 100.0 * passed as f64 / total.max(1) as f64;
    println!(
        "wpt: {passed} of {total} subtests pass ({rate:.2}%) in {} files",
        files.len()
    );
    for (dir, (ok, all)) in &per_dir {
        println!("wpt:   {dir}: {ok}/{all}");
    }
    let failures: BTreeMap<String, String> = results
        .into_iter()
        .filter_map(|(id, r)| r.err().map(|e| (id, e)))
        .collect();
    let bless = std::env::var_os("ISOLA_WPT_BLESS").is_some();
    expectations::finish("wpt", &manifest.join(EXPECTED), &failures, passed, bless)
}

/// Subtest names may hold newlines and control characters.
fn escape(name: &str) -> String {
    name.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        if path.is_dir() {
            if rel != "resources" && !rel.ends_with("/resources") && rel != "common" {
                collect(root, &path, out);
            }
        } else if rel.ends_with(".any.js") || rel.ends_with(".html") {
            out.push(rel);
        }
    }
}

/// `(META scripts, test source)` of a test file.
fn load_test(root: &Path, rel: &str) -> Result<(Vec<String>, String), String> {
    let text = std::fs::read_to_string(root.join(rel)).map_err(|e| e.to_string())?;
    if rel.ends_with(".html") {
        let mut scripts = Vec::new();
        let mut inline = String::new();
        let mut rest = text.as_str();
        while let Some(open) = rest.find("<script") {
            let tag_end = rest[open..].find('>').map_or(rest.len(), |e| open + e + 1);
            let tag = &rest[open..tag_end];
            let close = rest[tag_end..]
                .find("</script>")
                .map_or(rest.len(), |c| tag_end + c);
            if let Some(src) = tag.split("src=").nth(1) {
                let src = src
                    .trim_start_matches(['"', '\''])
                    .split(['"', '\'', ' ', '>'])
                    .next()
                    .unwrap_or("");
                if !src.contains("testharness") {
                    scripts.push(src.to_owned());
                }
            } else {
                inline.push_str(&rest[tag_end..close]);
                inline.push('\n');
            }
            rest = &rest[(close + "</script>".len()).min(rest.len())..];
        }
        return Ok((scripts, inline));
    }
    let scripts = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("// META:"))
        .filter_map(|m| m.trim().strip_prefix("script="))
        .map(|s| s.trim().to_owned())
        .collect();
    Ok((scripts, text))
}

fn resolve(root: &Path, rel: &str, src: &str) -> PathBuf {
    match src.strip_prefix('/') {
        Some(absolute) => root.join(absolute),
        None => root
            .join(rel)
            .parent()
            .map(|d| d.join(src))
            .unwrap_or_default(),
    }
}

fn run_file(root: &Path, rel: &str, harness: &str) -> Result<Vec<Subtest>, String> {
    let (scripts, source) = load_test(root, rel)?;
    let mut realm = Realm::new(isola_conformance::platform(), Vec::new())?;
    let url = format!("{ORIGIN}/{rel}");
    let setup = format!(
        "globalThis.self = globalThis; globalThis.location = {{ href: {url:?}, search: '', pathname: {path:?} }};",
        path = format!("/{rel}")
    );
    realm
        .eval_script(&setup, "wpt-setup.js", false)
        .map_err(|e| format!("setup: {e:?}"))?;
    realm
        .eval_script(harness, "testharness.js", false)
        .map_err(|e| format!("testharness.js: {e:?}"))?;
    realm
        .eval_script(RUNNER_GLUE, "wpt-runner.js", false)
        .map_err(|e| format!("runner glue: {e:?}"))?;
    for src in scripts {
        let path = resolve(root, rel, &src);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{src}: {e}"))?;
        realm
            .eval_script(&text, &src, false)
            .map_err(|e| format!("{src}: {e:?}"))?;
    }
    let file_error = realm.eval_script(&source, rel, false).err();
    if std::env::var_os("ISOLA_WPT_DEBUG").is_some() {
        eprintln!("{rel}: test file: {file_error:?}");
    }
    let _ = realm.eval_script("done();", "wpt-done.js", false);
    realm
        .run_until_idle(|request| serve(root, request))
        .map_err(|why| format!("stopped: {why:?}"))?;

    if std::env::var_os("ISOLA_WPT_DEBUG").is_some() {
        for line in realm.prints().iter().take(5) {
            eprintln!("{rel}: print {line}");
        }
    }
    let mut subtests = Vec::new();
    let mut completed = None;
    for line in realm.prints() {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if value.get("done").is_some() {
            completed = Some(value);
            continue;
        }
        let name = value["name"].as_str().unwrap_or("").to_owned();
        let status = value["status"].as_i64().unwrap_or(-1);
        let result = if status == 0 {
            Ok(())
        } else {
            let label = match status {
                1 => "FAIL",
                2 => "TIMEOUT",
                3 => "NOTRUN",
                4 => "PRECONDITION_FAILED",
                _ => "UNKNOWN",
            };
            Err(format!(
                "{label}: {}",
                value["message"].as_str().unwrap_or("")
            ))
        };
        subtests.push((name, result));
    }
    match completed {
        Some(done) if done["status"].as_i64() == Some(0) => Ok(subtests),
        Some(done) => {
            let message = done["message"].as_str().unwrap_or("").to_owned();
            subtests.push((
                "(harness)".to_owned(),
                Err(format!("harness status {}: {message}", done["status"])),
            ));
            Ok(subtests)
        }
        None => Err(match file_error {
            Some(e) => format!("test file threw: {e:?}"),
            None => "the harness never completed".to_owned(),
        }),
    }
}

/// Serves `fetch()` of suite files; anything else is refused.
fn serve(root: &Path, request: &HttpRequest) -> OpResult {
    let Some(path) = request.url.strip_prefix(ORIGIN) else {
        return OpResult::Error(ErrorValue::new(
            "TypeError",
            "fetch failed: only the suite's own files are served",
        ));
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    let file = root.join(path.trim_start_matches('/'));
    if path.contains("..") {
        return OpResult::Response(HttpResponse::new(403, ""));
    }
    match std::fs::read(&file) {
        Ok(body) => {
            let kind = if path.ends_with(".json") {
                "application/json"
            } else {
                "text/plain"
            };
            OpResult::Response(HttpResponse::new(200, body).with_header("content-type", kind))
        }
        Err(_) => OpResult::Response(HttpResponse::new(404, "not found")),
    }
}
