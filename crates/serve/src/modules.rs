//! The parent worker's modules, collected from disk.
//!
//! Starting at `main`, each JavaScript or TypeScript module is parsed with
//! `oxc` (the parser the engine already uses to strip types) and its
//! relative specifiers — `import ... from`, `export ... from`, bare
//! `import "x"` and `import("x")` with a string literal — are followed,
//! transitively. No regular expressions, no directory sweep: exactly the
//! module graph, as a bundler would see it.
//!
//! Module names are paths relative to the *root*, the config file's
//! directory, so stack traces read `src/index.ts:3:7`. A specifier resolves
//! as written when that file exists; otherwise, as bundlers do, the first
//! of `.ts`, `.js`, `.mts`, `.mjs` added to it that exists is loaded under
//! the specifier's own name (the name the engine looks up at run time),
//! typed by the file found. (Not directory `index` files: the engine
//! resolves a module's own imports from its name's directory, which for
//! `./lib` would not be `lib/`.) Specifiers that are not relative
//! (`cloudflare:workers`, npm packages, `node:` modules) are not followed;
//! one that points at a missing file, or above the root, is logged and
//! left for the engine, which reports `No such module` if the import runs.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Component, Path};

use isola_engine::ModuleSpec;
use oxc::allocator::Allocator;
use oxc::parser::Parser;
use oxc::span::SourceType;

use crate::config::line_column;

/// The engine's cap on a worker's code, in bytes.
pub const MAX_CODE_BYTES: usize = 64 << 20;

/// Why the modules could not be collected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModuleError {
    /// A module file could not be read.
    #[error("cannot read {path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        message: String,
    },
    /// `main` is not under the config file's directory.
    #[error("{path}: the main module must be inside the config file's directory")]
    OutsideRoot {
        /// The main module's path.
        path: String,
    },
    /// `main` has an extension other than `.js`, `.mjs`, `.ts`, `.mts`.
    #[error("{path}: the main module must be a .js, .mjs, .ts or .mts file")]
    MainType {
        /// The main module's path.
        path: String,
    },
    /// A JSON module is not valid JSON.
    #[error("{path}: invalid JSON: {message}")]
    Json {
        /// The file.
        path: String,
        /// The parser's message.
        message: String,
    },
    /// The modules together exceed the engine's code cap.
    #[error("the modules reachable from {main} exceed {MAX_CODE_BYTES} bytes")]
    TooLarge {
        /// The main module.
        main: String,
    },
}

/// The collected modules: the main module's name and every module by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Modules {
    /// The main module's name (relative to the root).
    pub main: String,
    /// Every module reachable from `main`, by name.
    pub modules: BTreeMap<String, ModuleSpec>,
}

/// Collects the modules reachable from `main`; names are relative to `root`.
pub fn collect(root: &Path, main: &Path) -> Result<Modules, ModuleError> {
    let main_name = relative_name(root, main).ok_or_else(|| ModuleError::OutsideRoot {
        path: main.display().to_string(),
    })?;
    collect_from(root, main_name, None)
}

/// As [`collect`], for a main module given as source (e.g. read from
/// stdin) and named `main_name` under `root`; its imports come from disk.
pub fn collect_source(
    root: &Path,
    main_name: &str,
    source: String,
) -> Result<Modules, ModuleError> {
    collect_from(root, main_name.to_owned(), Some(source.into_bytes()))
}

fn collect_from(
    root: &Path,
    main_name: String,
    mut main_source: Option<Vec<u8>>,
) -> Result<Modules, ModuleError> {
    if !matches!(extension(&main_name), "js" | "mjs" | "ts" | "mts") {
        return Err(ModuleError::MainType {
            path: root.join(&main_name).display().to_string(),
        });
    }
    let main = root.join(&main_name);
    let mut modules = BTreeMap::new();
    let mut queue = VecDeque::from([(main_name.clone(), main_name.clone())]);
    let mut total = 0usize;
    // Each module's name and the file (relative to the root) it comes from.
    while let Some((name, file)) = queue.pop_front() {
        if modules.contains_key(&name) {
            continue;
        }
        let path = root.join(&file);
        let bytes = match main_source.take().filter(|_| name == main_name) {
            Some(bytes) => bytes,
            None => std::fs::read(&path).map_err(|e| ModuleError::Read {
                path: path.display().to_string(),
                message: e.to_string(),
            })?,
        };
        total = total.saturating_add(bytes.len());
        if total > MAX_CODE_BYTES {
            return Err(ModuleError::TooLarge {
                main: main.display().to_string(),
            });
        }
        let module = module_of(&file, &path, bytes)?;
        if let ModuleSpec::Esm(source) | ModuleSpec::TypeScript(source) = &module {
            for specifier in specifiers(&file, source) {
                let found = resolve(&name, &specifier.text)
                    .and_then(|target| on_disk(root, &target).map(|file| (target, file)));
                match found {
                    Some(found) => queue.push_back(found),
                    None => tracing::warn!(
                        module = %name,
                        line = specifier.line,
                        column = specifier.column,
                        specifier = %specifier.text,
                        "import not found on disk (as written, or with .ts, .js, .mts or .mjs added); the engine reports it if it runs"
                    ),
                }
            }
        }
        modules.insert(name, module);
    }
    Ok(Modules {
        main: main_name,
        modules,
    })
}

/// A module typed by its extension: `.js`/`.mjs` ES module, `.ts`/`.mts`
/// TypeScript, `.cjs` CommonJS, `.json` JSON, `.txt`/`.html`/`.md`/`.css`
/// text, anything else bytes.
fn module_of(name: &str, path: &Path, bytes: Vec<u8>) -> Result<ModuleSpec, ModuleError> {
    let text = |bytes: Vec<u8>| {
        String::from_utf8(bytes).map_err(|_| ModuleError::Read {
            path: path.display().to_string(),
            message: "not valid UTF-8".into(),
        })
    };
    Ok(match extension(name) {
        "js" | "mjs" => ModuleSpec::Esm(text(bytes)?),
        "ts" | "mts" => ModuleSpec::TypeScript(text(bytes)?),
        "cjs" => ModuleSpec::CommonJs(text(bytes)?),
        "json" => {
            ModuleSpec::Json(
                serde_json::from_slice(&bytes).map_err(|e| ModuleError::Json {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?,
            )
        }
        "txt" | "html" | "md" | "css" | "csv" => ModuleSpec::Text(text(bytes)?),
        _ => ModuleSpec::Data(bytes),
    })
}

/// A relative specifier in a module, with its 1-based position.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Specifier {
    text: String,
    line: usize,
    column: usize,
}

/// The relative specifiers a module requests, in source order. A module
/// that does not parse yields what the parser recovered; the engine reports
/// the syntax error with its position when the worker starts.
///
/// oxc's parser recurses per nesting level, so it runs on the engine's
/// deep-stack compiler threads (see `isola_engine::deep`).
fn specifiers(name: &str, source: &str) -> Vec<Specifier> {
    use isola_engine::deep;
    let (name, owned) = (name.to_owned(), source.to_owned());
    // These are the operator's own files, read at startup, and bundles are
    // often longer than a guest's code may be: past the guest limit the
    // scan gets the largest stack, which flat bundle code never needs.
    let sized_for = source.len().min(deep::MAX_COMPILED_BYTES);
    deep::on_deep_stack(sized_for, move || specifiers_here(&name, &owned)).unwrap_or_default()
}

fn specifiers_here(name: &str, source: &str) -> Vec<Specifier> {
    let allocator = Allocator::default();
    let source_type = if matches!(extension(name), "ts" | "mts") {
        SourceType::ts()
    } else {
        SourceType::mjs()
    }
    .with_module(true);
    let parsed = Parser::new(&allocator, source, source_type).parse();
    let record = &parsed.module_record;
    let mut found: Vec<(u32, String)> = Vec::new();
    for (specifier, requests) in &record.requested_modules {
        for request in requests.iter().filter(|r| !r.is_type) {
            found.push((request.span.start, specifier.as_str().to_owned()));
        }
    }
    for dynamic in &record.dynamic_imports {
        let span = dynamic.module_request;
        let text = source
            .get(span.start as usize..span.end as usize)
            .unwrap_or_default();
        if let Some(literal) = string_literal(text) {
            found.push((span.start, literal));
        }
    }
    found.sort();
    found.dedup_by(|a, b| a.1 == b.1);
    found
        .into_iter()
        .filter(|(_, s)| s.starts_with("./") || s.starts_with("../"))
        .map(|(offset, text)| {
            let (line, column) = line_column(source, offset as usize);
            Specifier { text, line, column }
        })
        .collect()
}

/// The value of a plain string literal (`"x"` or `'x'`, no escapes).
fn string_literal(text: &str) -> Option<String> {
    let text = text.trim();
    let quote = text.chars().next().filter(|q| *q == '"' || *q == '\'')?;
    let inner = text.strip_prefix(quote)?.strip_suffix(quote)?;
    (!inner.contains(['\\', quote, '\n'])).then(|| inner.to_owned())
}

/// A relative specifier joined onto the importing module's directory;
/// `None` above the root.
fn resolve(base: &str, specifier: &str) -> Option<String> {
    let mut segments: Vec<&str> = base.split('/').collect();
    segments.pop();
    for segment in specifier.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop()?;
            }
            other => segments.push(other),
        }
    }
    Some(segments.join("/"))
}

/// The file (relative to `root`) a resolved specifier names: itself, or
/// itself with the first extension that exists.
fn on_disk(root: &Path, target: &str) -> Option<String> {
    const TRIED: [&str; 5] = ["", ".ts", ".js", ".mts", ".mjs"];
    TRIED
        .iter()
        .map(|suffix| format!("{target}{suffix}"))
        .find(|file| root.join(file).is_file())
}

/// `path` relative to `root`, with `/` separators; `None` outside it.
fn relative_name(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let mut parts: Vec<String> = Vec::new();
    for component in relative.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str()?.to_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

fn extension(name: &str) -> &str {
    name.rsplit_once('.').map_or("", |(_, e)| e)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            let dir = std::env::temp_dir()
                .join(format!("isola-serve-modules-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("temp dir");
            Self(dir)
        }

        fn write(&self, name: &str, text: &str) {
            let path = self.0.join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
            std::fs::write(path, text).expect("write");
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn follows_static_dynamic_and_re_exports_transitively() {
        let dir = TempDir::new("graph");
        dir.write(
            "src/index.ts",
            "import { a } from './lib/a.ts';\nimport type { T } from './types.ts';\nexport * from \"./re.js\";\nimport data from './data.json';\nconst t = await import('./lazy.mjs');\nimport { WorkerEntrypoint } from 'cloudflare:workers';\nexport default { fetch() { return new Response(a) } };\n",
        );
        dir.write(
            "src/lib/a.ts",
            "import text from '../notes.txt';\nexport const a: string = text;\n",
        );
        dir.write("src/notes.txt", "hello");
        dir.write("src/types.ts", "export type T = number;");
        dir.write("src/re.js", "export const re = 1;");
        dir.write("src/data.json", "{\"x\": 1}");
        dir.write("src/lazy.mjs", "export default 2;");
        dir.write("src/unused.js", "export default 3;");
        let modules = collect(&dir.0, &dir.0.join("src/index.ts")).expect("collects");
        assert_eq!(modules.main, "src/index.ts");
        let names: Vec<&str> = modules.modules.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "src/data.json",
                "src/index.ts",
                "src/lazy.mjs",
                "src/lib/a.ts",
                "src/notes.txt",
                "src/re.js"
            ]
        );
        assert_eq!(
            modules.modules["src/data.json"],
            ModuleSpec::Json(serde_json::json!({"x": 1}))
        );
        assert_eq!(
            modules.modules["src/notes.txt"],
            ModuleSpec::Text("hello".into())
        );
    }

    #[test]
    fn extensionless_specifiers_find_the_file_a_bundler_would() {
        let dir = TempDir::new("extensionless");
        dir.write(
            "main.ts",
            "import { a } from './a';\nimport { b } from './lib/b';\nimport { c } from './c.js';\nexport default { a, b, c };\n",
        );
        dir.write("a.ts", "export const a: number = 1;");
        dir.write("a.js", "export const a = 'not me';");
        dir.write(
            "lib/b.mjs",
            "import { c } from '../c.js';\nexport const b = c;",
        );
        dir.write("c.js", "export const c = 3;");
        let modules = collect(&dir.0, &dir.0.join("main.ts")).expect("collects");
        let names: Vec<&str> = modules.modules.keys().map(String::as_str).collect();
        // Each under the name the engine looks up, typed by the file found.
        assert_eq!(names, ["a", "c.js", "lib/b", "main.ts"]);
        assert_eq!(
            modules.modules["a"],
            ModuleSpec::TypeScript("export const a: number = 1;".into())
        );
        assert_eq!(
            modules.modules["lib/b"],
            ModuleSpec::Esm("import { c } from '../c.js';\nexport const b = c;".into())
        );
    }

    #[test]
    fn missing_imports_are_left_for_the_engine() {
        let dir = TempDir::new("missing");
        dir.write(
            "index.js",
            "import { x } from './nope.js';\nexport default {};\n",
        );
        let modules = collect(&dir.0, &dir.0.join("index.js")).expect("collects");
        assert_eq!(modules.modules.len(), 1);
    }

    #[test]
    fn main_must_be_code_inside_the_root() {
        let dir = TempDir::new("main");
        dir.write("index.json", "{}");
        assert!(matches!(
            collect(&dir.0, &dir.0.join("index.json")),
            Err(ModuleError::MainType { .. })
        ));
        assert!(matches!(
            collect(&dir.0.join("sub"), &dir.0.join("index.js")),
            Err(ModuleError::OutsideRoot { .. })
        ));
        assert!(matches!(
            collect(&dir.0, &dir.0.join("gone.js")),
            Err(ModuleError::Read { .. })
        ));
    }

    #[test]
    fn specifiers_carry_positions_and_skip_non_relative_ones() {
        let found = specifiers(
            "a.js",
            "import 'node:fs';\n  import x from \"./b.js\";\nimport(`./c.js`);\n",
        );
        assert_eq!(
            found,
            [Specifier {
                text: "./b.js".into(),
                line: 2,
                column: 17
            }]
        );
    }

    #[test]
    fn resolution_stays_under_the_root() {
        assert_eq!(resolve("src/a.js", "../b.js").as_deref(), Some("b.js"));
        assert_eq!(
            resolve("src/a.js", "./x/../c.js").as_deref(),
            Some("src/c.js")
        );
        assert_eq!(resolve("a.js", "../b.js"), None);
    }
}
