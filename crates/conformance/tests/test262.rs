//! test262 against isola isolates: `cargo test -p isola-conformance --test test262`.
//!
//! Runs `test/built-ins` and `test/language` from the repository's
//! `conformance/test262.tar.gz` inside isolates created exactly as for users (same
//! intrinsics, globals and limits), in strict and sloppy mode as each test's
//! flags say. Features QuickJS-ng lacks are excluded by tag
//! (`test262/excluded-features.txt`, printed on every run). Known failures
//! are listed in `test262/expected-failures.txt`; the run fails when a test
//! outside that list fails *and* when a listed test passes, so the list
//! stays true. `ISOLA_TEST262_BLESS=1` rewrites the list from the run;
//! `ISOLA_TEST262_FILTER=substring` runs a subset (and skips the list check).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use isola_conformance::expectations;
use isola_conformance::frontmatter::{self, Meta};
use isola_engine::conformance::{Failure, Outcome, Phase, Realm};

const EXPECTED: &str = "test262/expected-failures.txt";
const EXCLUDED: &str = "test262/excluded-features.txt";

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--list") {
        return ExitCode::SUCCESS;
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tarball = manifest.join("../../conformance/test262.tar.gz");
    let suite = match unpack(&tarball) {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("test262: {e}");
            return ExitCode::FAILURE;
        }
    };
    let excluded: BTreeSet<String> = expectations::read(&manifest.join(EXCLUDED));
    println!(
        "test262: features excluded (QuickJS-ng lacks them or isola leaves them out): {}",
        excluded.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    let filter = std::env::var("ISOLA_TEST262_FILTER").ok();

    let mut files = Vec::new();
    for part in ["built-ins", "language"] {
        collect(&suite.join("test").join(part), &mut files);
    }
    files.sort();
    let harness_dir = suite.join("harness");
    let mut cases = Vec::new();
    let mut excluded_count = 0usize;
    for file in files {
        let rel = file
            .strip_prefix(suite.join("test"))
            .unwrap_or(&file)
            .to_string_lossy()
            .into_owned();
        if filter.as_deref().is_some_and(|f| !rel.contains(f)) {
            continue;
        }
        let Ok(source) = std::fs::read_to_string(&file) else {
            continue;
        };
        let meta = frontmatter::parse(&source);
        if meta.features.iter().any(|f| excluded.contains(f)) {
            excluded_count += 1;
            continue;
        }
        for mode in modes(&meta) {
            cases.push((rel.clone(), mode, file.clone()));
        }
    }

    let next = AtomicUsize::new(0);
    let results: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());
    let passed = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                // Isolates need a deep native stack, as on executor threads.
                let worker = std::thread::Builder::new().stack_size(8 << 20);
                let handle = worker.spawn_scoped(scope, || {
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some((rel, mode, file)) = cases.get(index) else {
                            break;
                        };
                        match run_case(&harness_dir, file, *mode) {
                            Ok(()) => {
                                passed.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(reason) => {
                                let id = format!("{rel} {}", mode.name());
                                results
                                    .lock()
                                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                                    .insert(id, reason);
                            }
                        }
                    }
                });
                if let Ok(handle) = handle {
                    let _ = handle.join();
                }
            });
        }
    });
    let failures = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let passed = passed.into_inner();
    let total = passed + failures.len();
    #[allow(clippy::cast_precision_loss)]
    let rate = 100.0 * passed as f64 / total.max(1) as f64;
    println!(
        "test262: {passed} of {total} runs pass ({rate:.2}%); {excluded_count} files excluded by feature"
    );

    if filter.is_some() {
        for (id, reason) in &failures {
            println!("FAIL {id}: {reason}");
        }
        return ExitCode::SUCCESS;
    }
    let bless = std::env::var_os("ISOLA_TEST262_BLESS").is_some();
    expectations::finish(
        "test262",
        &manifest.join(EXPECTED),
        &failures,
        passed,
        bless,
    )
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    Strict,
    Sloppy,
    Module,
    Raw,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Strict => "strict",
            Mode::Sloppy => "sloppy",
            Mode::Module => "module",
            Mode::Raw => "raw",
        }
    }
}

fn modes(meta: &Meta) -> Vec<Mode> {
    if meta.has("module") {
        vec![Mode::Module]
    } else if meta.has("raw") {
        vec![Mode::Raw]
    } else if meta.has("onlyStrict") {
        vec![Mode::Strict]
    } else if meta.has("noStrict") {
        vec![Mode::Sloppy]
    } else {
        vec![Mode::Sloppy, Mode::Strict]
    }
}

fn run_case(harness_dir: &Path, file: &Path, mode: Mode) -> Result<(), String> {
    let source = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let meta = frontmatter::parse(&source);
    let mut harness = String::new();
    if !matches!(mode, Mode::Raw) {
        let mut includes = vec!["assert.js".to_owned(), "sta.js".to_owned()];
        if meta.has("async") {
            includes.push("doneprintHandle.js".to_owned());
        }
        includes.extend(meta.includes.iter().cloned());
        for include in includes {
            let text = std::fs::read_to_string(harness_dir.join(&include))
                .map_err(|e| format!("harness {include}: {e}"))?;
            harness.push_str(&text);
            harness.push('\n');
        }
    }
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let outcome = match mode {
        Mode::Module => {
            let mut modules = Vec::new();
            if let Some(dir) = file.parent() {
                add_module(dir, &name, &mut modules);
                fixtures(dir, dir, &mut modules);
            }
            let mut realm = Realm::new(isola_conformance::platform(), modules)
                .map_err(|e| format!("setup: {e}"))?;
            if let Err(e) = realm.eval_script(&harness, "harness.js", false) {
                return Err(format!("harness failed: {e:?}"));
            }
            let result = realm.run_module();
            (result, realm.prints())
        }
        Mode::Strict | Mode::Sloppy | Mode::Raw => {
            // Scripts may import() fixtures beside them.
            let mut modules = Vec::new();
            if source.contains("import") {
                modules.push(("placeholder.js".to_owned(), String::new()));
                if let Some(dir) = file.parent() {
                    add_module(dir, &name, &mut modules);
                    fixtures(dir, dir, &mut modules);
                }
            }
            let mut realm = Realm::new(isola_conformance::platform(), modules)
                .map_err(|e| format!("setup: {e}"))?;
            let code = format!("{harness}{source}");
            let result = realm.eval_script(&code, &name, matches!(mode, Mode::Strict));
            (result, realm.prints())
        }
    };
    judge(&meta, mode, outcome)
}

fn judge(
    meta: &Meta,
    mode: Mode,
    (result, prints): (Result<(), Outcome>, Vec<String>),
) -> Result<(), String> {
    match (&meta.negative, result) {
        (
            Some(negative),
            Err(Outcome::Failed(Failure {
                phase,
                name,
                message,
            })),
        ) => {
            let phase_ok = matches!(mode, Mode::Module)
                || match negative.phase.as_str() {
                    "parse" => phase == Phase::Parse,
                    _ => phase == Phase::Runtime,
                };
            if name == negative.kind && phase_ok {
                Ok(())
            } else {
                Err(format!(
                    "expected {} at {}, got {name} at {phase:?}: {message}",
                    negative.kind, negative.phase
                ))
            }
        }
        (Some(negative), Ok(())) => Err(format!(
            "expected {} at {}, but it completed",
            negative.kind, negative.phase
        )),
        (_, Err(Outcome::Stopped(why))) => Err(format!("stopped: {why:?}")),
        (None, Err(Outcome::Failed(f))) => Err(format!("{}: {}", f.name, f.message)),
        (None, Ok(())) => {
            if !meta.has("async") {
                return Ok(());
            }
            if prints.iter().any(|p| p == "Test262:AsyncTestComplete") {
                Ok(())
            } else if let Some(failure) = prints
                .iter()
                .find(|p| p.starts_with("Test262:AsyncTestFailure:"))
            {
                Err(failure.clone())
            } else {
                Err("async test did not call $DONE".into())
            }
        }
    }
}

/// The modules a test can reach: `_FIXTURE` files beside (or below) it and
/// any `./` file its source names, recursively, named relative to the test.
fn fixtures(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            fixtures(base, &path, out);
            continue;
        }
        let name = path
            .strip_prefix(base)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        if name.contains("_FIXTURE") {
            add_module(base, &name, out);
        }
    }
}

fn add_module(base: &Path, name: &str, out: &mut Vec<(String, String)>) {
    if out.iter().any(|(n, _)| n == name) {
        return;
    }
    let Ok(text) = std::fs::read_to_string(base.join(name)) else {
        return;
    };
    let referenced = relative_specifiers(&text);
    out.push((name.to_owned(), text));
    let dir = Path::new(name)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    for specifier in referenced {
        let joined = dir.join(&specifier);
        let normalized: PathBuf = joined
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect();
        add_module(base, &normalized.to_string_lossy(), out);
    }
}

/// `./x.js`-style specifiers in quotes.
fn relative_specifiers(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    for quote in ['\'', '"'] {
        let mut rest = source;
        while let Some(start) = rest.find(&format!("{quote}./")) {
            let tail = &rest[start + 1..];
            match tail.find(quote) {
                Some(end) => {
                    let specifier = &tail[..end];
                    if !specifier.contains(char::is_whitespace)
                        && (specifier.ends_with(".js") || specifier.ends_with(".json"))
                    {
                        out.push(specifier.to_owned());
                    }
                    rest = &tail[end..];
                }
                None => break,
            }
        }
    }
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "js")
            && !path.to_string_lossy().contains("_FIXTURE")
        {
            out.push(path);
        }
    }
}

/// Unpacks the suite once into the target directory.
fn unpack(tarball: &Path) -> Result<PathBuf, String> {
    if !tarball.exists() {
        return Err(format!(
            "{} is missing: the repository's conformance/ folder holds the suite",
            tarball.display()
        ));
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("test262");
    let marker = dir.join(".unpacked");
    if marker.exists() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let status = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(tarball)
        .arg("-C")
        .arg(&dir)
        .status()
        .map_err(|e| format!("running tar: {e}"))?;
    if !status.success() {
        return Err(format!("tar failed on {}", tarball.display()));
    }
    std::fs::write(&marker, "").map_err(|e| e.to_string())?;
    Ok(dir)
}
