//! The wrangler configuration, in wrangler's own formats, and the subset of
//! it isola understands.
//!
//! The file is parsed into a JSON value first (TOML, JSON and JSONC all map
//! onto it), then read key by key: every key isola knows is type-checked,
//! every other key is collected with its dotted path and reported, never
//! silently dropped.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// A parsed and checked wrangler configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct WranglerConfig {
    /// The config file this came from.
    pub path: PathBuf,
    /// `name`: the worker's name (also its id in the loader's cache).
    /// Defaults to `"worker"`.
    pub name: String,
    /// `main`: the main module, resolved against the config file's directory.
    pub main: PathBuf,
    /// `compatibility_date`.
    pub compatibility_date: String,
    /// `compatibility_flags`.
    pub compatibility_flags: Vec<String>,
    /// `[vars]`: each becomes an `env` value.
    pub vars: Vec<(String, Value)>,
    /// `[[worker_loaders]]`: Worker Loader bindings in `env`.
    pub worker_loaders: Vec<WorkerLoaderBinding>,
    /// `[[services]]`: service bindings (to this worker's own entrypoints).
    pub services: Vec<ServiceBinding>,
    /// `[limits] cpu_ms`.
    pub cpu_ms: Option<u64>,
    /// The `[isola]` table.
    pub isola: IsolaSettings,
}

/// One `[[worker_loaders]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerLoaderBinding {
    /// The `env` name, e.g. `LOADER`.
    pub binding: String,
    /// Loaders with the same `id` share their `get` cache.
    pub id: Option<String>,
    /// The cordon its dynamic workers run in (isola's own key): workers
    /// of different cordons never share a jailed process. Default: a
    /// cordon of the loader's own, named after its `id` (or
    /// `WORKER/BINDING`), never the parent's.
    pub cordon: Option<String>,
}

/// One `[[services]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceBinding {
    /// The `env` name.
    pub binding: String,
    /// The worker the binding points at.
    pub service: String,
    /// A named entrypoint of that worker (default: its default export).
    pub entrypoint: Option<String>,
}

/// isola's own settings: the `[isola]` table (`"isola": {}` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IsolaSettings {
    /// `memory_mb`: engine heap per isolate, MiB (default 128).
    pub memory_mb: Option<u64>,
    /// `wall_ms`: wall-clock limit per request, ms (default 30,000).
    pub wall_ms: Option<u64>,
    /// `subrequests`: fetches plus binding calls per request (default 1,000).
    pub subrequests: Option<u32>,
    /// `cache_budget_mb`: engine memory cached named workers may hold
    /// together, MiB (default 512).
    pub cache_budget_mb: Option<u64>,
    /// `memory_budget_mb`: engine memory all isolates of the server may hold
    /// together, MiB (default: three quarters of the machine's memory).
    pub memory_budget_mb: Option<u64>,
    /// `threads`: executor threads (default: one per core).
    pub threads: Option<usize>,
    /// `max_body_mb`: largest request body accepted, MiB (default 32);
    /// larger bodies get `413`.
    pub max_body_mb: Option<u64>,
    /// `jail`: `false` runs guest code inside the server process, with
    /// the engine as its only boundary (default: jailed worker processes).
    pub jail: Option<bool>,
}

/// A configuration and the keys in it that isola does not know.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The configuration.
    pub config: WranglerConfig,
    /// Dotted paths of unknown keys (`kv_namespaces`, `limits.foo`,
    /// `services[0].props`), in file order where the format keeps it.
    pub unknown_keys: Vec<String>,
}

/// Why a configuration could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        message: String,
    },
    /// The file's extension is not `.toml`, `.json` or `.jsonc`.
    #[error(
        "{path}: unsupported config format (expected wrangler.toml, wrangler.json or wrangler.jsonc)"
    )]
    Format {
        /// The file.
        path: String,
    },
    /// The file is not valid TOML/JSON/JSONC.
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A key isola knows has a value it cannot use, or a required key is
    /// missing.
    #[error("{path}: `{key}`: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// The dotted key.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// The formats wrangler reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `wrangler.toml`
    Toml,
    /// `wrangler.json` (parsed as JSONC, as wrangler does)
    Json,
    /// `wrangler.jsonc`: JSON with comments and trailing commas.
    Jsonc,
}

impl Format {
    /// The format a file name implies.
    pub fn from_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()? {
            "toml" => Some(Self::Toml),
            "json" => Some(Self::Json),
            "jsonc" => Some(Self::Jsonc),
            _ => None,
        }
    }
}

/// Reads and checks a config file.
pub fn parse_file(path: &Path) -> Result<Parsed, ConfigError> {
    let shown = path.display().to_string();
    let format = Format::from_path(path).ok_or_else(|| ConfigError::Format {
        path: shown.clone(),
    })?;
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        path: shown,
        message: e.to_string(),
    })?;
    parse_str(&text, format, path)
}

/// Checks a config given as text; `path` names it in errors and anchors a
/// relative `main`.
pub fn parse_str(text: &str, format: Format, path: &Path) -> Result<Parsed, ConfigError> {
    let shown = path.display().to_string();
    let root = match format {
        Format::Toml => parse_toml(text, &shown)?,
        Format::Json | Format::Jsonc => parse_jsonc(text, &shown)?,
    };
    let Value::Object(root) = root else {
        return Err(invalid(&shown, "(root)", "expected a table/object"));
    };
    Reader {
        path: &shown,
        unknown: Vec::new(),
    }
    .config(root, path)
}

fn parse_toml(text: &str, path: &str) -> Result<Value, ConfigError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        let (line, column) = e
            .span()
            .map_or((1, 1), |span| line_column(text, span.start));
        ConfigError::Syntax {
            path: path.to_owned(),
            line,
            column,
            message: e.message().trim_end().to_owned(),
        }
    })?;
    Ok(toml_to_json(toml::Value::Table(table)))
}

fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Value::Object(
            table
                .into_iter()
                .map(|(k, v)| (k, toml_to_json(v)))
                .collect(),
        ),
    }
}

fn parse_jsonc(text: &str, path: &str) -> Result<Value, ConfigError> {
    let options = jsonc_parser::ParseOptions::default();
    match jsonc_parser::parse_to_serde_value(text, &options) {
        Ok(Some(value)) => Ok(value),
        Ok(None) => Err(ConfigError::Syntax {
            path: path.to_owned(),
            line: 1,
            column: 1,
            message: "the file holds no value".into(),
        }),
        Err(e) => Err(ConfigError::Syntax {
            path: path.to_owned(),
            line: e.line_display(),
            column: e.column_display(),
            message: e.kind().to_string(),
        }),
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit_once('\n')
        .map_or(before, |(_, last)| last)
        .chars()
        .count()
        + 1;
    (line, column)
}

fn invalid(path: &str, key: &str, message: &str) -> ConfigError {
    ConfigError::Invalid {
        path: path.to_owned(),
        key: key.to_owned(),
        message: message.to_owned(),
    }
}

/// A table of the config as JSON.
type Table = Map<String, Value>;

/// Reads known keys out of objects, collecting the rest.
struct Reader<'a> {
    path: &'a str,
    unknown: Vec<String>,
}

impl Reader<'_> {
    fn config(mut self, mut root: Map<String, Value>, file: &Path) -> Result<Parsed, ConfigError> {
        let name = self
            .string(&mut root, "", "name")?
            .unwrap_or_else(|| "worker".to_owned());
        let main = self
            .string(&mut root, "", "main")?
            .ok_or_else(|| invalid(self.path, "main", "missing: the path of the main module"))?;
        if main.is_empty() {
            return Err(invalid(self.path, "main", "must not be empty"));
        }
        let compatibility_date = self
            .string(&mut root, "", "compatibility_date")?
            .ok_or_else(|| {
                invalid(
                    self.path,
                    "compatibility_date",
                    "missing: a date such as \"2026-03-01\"",
                )
            })?;
        let compatibility_flags = match root.remove("compatibility_flags") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) => Ok(s),
                    _ => Err(invalid(
                        self.path,
                        &format!("compatibility_flags[{i}]"),
                        "expected a string",
                    )),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(invalid(
                    self.path,
                    "compatibility_flags",
                    "expected an array of strings",
                ));
            }
        };
        let vars = match root.remove("vars") {
            None => Vec::new(),
            Some(Value::Object(vars)) => vars.into_iter().collect(),
            Some(_) => return Err(invalid(self.path, "vars", "expected a table/object")),
        };
        let worker_loaders = self
            .tables(&mut root, "worker_loaders")?
            .into_iter()
            .map(|(prefix, mut t)| {
                let binding = self.required_string(&mut t, &prefix, "binding")?;
                let id = self.string(&mut t, &prefix, "id")?;
                let cordon = self.string(&mut t, &prefix, "cordon")?;
                self.rest(t, &prefix);
                Ok(WorkerLoaderBinding {
                    binding,
                    id,
                    cordon,
                })
            })
            .collect::<Result<_, ConfigError>>()?;
        let services = self
            .tables(&mut root, "services")?
            .into_iter()
            .map(|(prefix, mut t)| {
                let binding = self.required_string(&mut t, &prefix, "binding")?;
                let service = self.required_string(&mut t, &prefix, "service")?;
                let entrypoint = self.string(&mut t, &prefix, "entrypoint")?;
                self.rest(t, &prefix);
                Ok(ServiceBinding {
                    binding,
                    service,
                    entrypoint,
                })
            })
            .collect::<Result<_, ConfigError>>()?;
        let cpu_ms = match self.table(&mut root, "limits")? {
            None => None,
            Some(mut limits) => {
                let cpu_ms = self.positive(&mut limits, "limits", "cpu_ms")?;
                self.rest(limits, "limits");
                cpu_ms
            }
        };
        let isola = match self.table(&mut root, "isola")? {
            None => IsolaSettings::default(),
            Some(mut t) => {
                let settings = IsolaSettings {
                    memory_mb: self.positive(&mut t, "isola", "memory_mb")?,
                    wall_ms: self.positive(&mut t, "isola", "wall_ms")?,
                    subrequests: self
                        .positive(&mut t, "isola", "subrequests")?
                        .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
                    cache_budget_mb: self.positive(&mut t, "isola", "cache_budget_mb")?,
                    memory_budget_mb: self.positive(&mut t, "isola", "memory_budget_mb")?,
                    threads: self
                        .positive(&mut t, "isola", "threads")?
                        .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
                    max_body_mb: self.positive(&mut t, "isola", "max_body_mb")?,
                    jail: match t.remove("jail") {
                        None => None,
                        Some(Value::Bool(b)) => Some(b),
                        Some(_) => {
                            return Err(invalid(self.path, "isola.jail", "expected true or false"));
                        }
                    },
                };
                self.rest(t, "isola");
                settings
            }
        };
        self.rest(root, "");
        let base = root_of(file);
        Ok(Parsed {
            config: WranglerConfig {
                path: file.to_path_buf(),
                name,
                main: base.join(main),
                compatibility_date,
                compatibility_flags,
                vars,
                worker_loaders,
                services,
                cpu_ms,
                isola,
            },
            unknown_keys: self.unknown,
        })
    }

    fn string(
        &self,
        table: &mut Map<String, Value>,
        prefix: &str,
        key: &str,
    ) -> Result<Option<String>, ConfigError> {
        match table.remove(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(invalid(self.path, &join(prefix, key), "expected a string")),
        }
    }

    fn required_string(
        &self,
        table: &mut Map<String, Value>,
        prefix: &str,
        key: &str,
    ) -> Result<String, ConfigError> {
        self.string(table, prefix, key)?
            .ok_or_else(|| invalid(self.path, &join(prefix, key), "missing"))
    }

    fn positive(
        &self,
        table: &mut Map<String, Value>,
        prefix: &str,
        key: &str,
    ) -> Result<Option<u64>, ConfigError> {
        match table.remove(key) {
            None => Ok(None),
            Some(v) => match v.as_u64() {
                Some(n) if n > 0 => Ok(Some(n)),
                _ => Err(invalid(
                    self.path,
                    &join(prefix, key),
                    "expected a positive integer",
                )),
            },
        }
    }

    fn table(
        &self,
        root: &mut Map<String, Value>,
        key: &str,
    ) -> Result<Option<Map<String, Value>>, ConfigError> {
        match root.remove(key) {
            None => Ok(None),
            Some(Value::Object(t)) => Ok(Some(t)),
            Some(_) => Err(invalid(self.path, key, "expected a table/object")),
        }
    }

    /// An array of tables, each with its path prefix (`services[0]`).
    fn tables(
        &self,
        root: &mut Map<String, Value>,
        key: &str,
    ) -> Result<Vec<(String, Table)>, ConfigError> {
        match root.remove(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    let prefix = format!("{key}[{i}]");
                    match item {
                        Value::Object(t) => Ok((prefix, t)),
                        _ => Err(invalid(self.path, &prefix, "expected a table/object")),
                    }
                })
                .collect(),
            Some(_) => Err(invalid(
                self.path,
                key,
                "expected an array of tables ([[...]] in TOML)",
            )),
        }
    }

    /// Whatever is left in a table is unknown.
    fn rest(&mut self, table: Map<String, Value>, prefix: &str) {
        self.unknown
            .extend(table.into_iter().map(|(k, _)| join(prefix, &k)));
    }
}

/// The directory a config's relative paths start from (and module names
/// are relative to): the config file's directory, `.` for a bare file name.
pub fn root_of(config: &Path) -> PathBuf {
    config
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toml(text: &str) -> Result<Parsed, ConfigError> {
        parse_str(text, Format::Toml, Path::new("app/wrangler.toml"))
    }

    const MINIMAL: &str = "main = \"src/index.ts\"\ncompatibility_date = \"2026-03-01\"\n";

    #[test]
    fn reads_the_supported_subset_from_toml() {
        let parsed = toml(
            r#"
name = "agent-host"
main = "src/index.ts"
compatibility_date = "2026-03-01"
compatibility_flags = ["nodejs_compat"]
[vars]
GREETING = "hello"
LIMITS = { n = 3, on = true }
[[worker_loaders]]
binding = "LOADER"
id = "shared"
[[services]]
binding = "SELF"
service = "agent-host"
entrypoint = "ChatRoom"
[limits]
cpu_ms = 50
[isola]
memory_mb = 64
wall_ms = 5000
subrequests = 10
cache_budget_mb = 256
memory_budget_mb = 2048
threads = 2
max_body_mb = 1
"#,
        )
        .expect("valid");
        assert!(parsed.unknown_keys.is_empty(), "{:?}", parsed.unknown_keys);
        let c = parsed.config;
        assert_eq!(c.name, "agent-host");
        assert_eq!(c.main, Path::new("app/src/index.ts"));
        assert_eq!(c.compatibility_date, "2026-03-01");
        assert_eq!(c.compatibility_flags, ["nodejs_compat"]);
        assert_eq!(
            c.vars,
            vec![
                ("GREETING".to_owned(), serde_json::json!("hello")),
                ("LIMITS".to_owned(), serde_json::json!({"n": 3, "on": true})),
            ]
        );
        assert_eq!(
            c.worker_loaders,
            [WorkerLoaderBinding {
                binding: "LOADER".into(),
                id: Some("shared".into()),
                cordon: None,
            }]
        );
        assert_eq!(
            c.services,
            [ServiceBinding {
                binding: "SELF".into(),
                service: "agent-host".into(),
                entrypoint: Some("ChatRoom".into())
            }]
        );
        assert_eq!(c.cpu_ms, Some(50));
        assert_eq!(
            c.isola,
            IsolaSettings {
                memory_mb: Some(64),
                wall_ms: Some(5000),
                subrequests: Some(10),
                cache_budget_mb: Some(256),
                memory_budget_mb: Some(2048),
                threads: Some(2),
                max_body_mb: Some(1),
                jail: None,
            }
        );
    }

    #[test]
    fn reads_json_and_jsonc_with_comments_and_trailing_commas() {
        let json = r#"{"name": "a", "main": "index.js", "compatibility_date": "2026-03-01", "vars": {"N": 1}}"#;
        let parsed = parse_str(json, Format::Json, Path::new("wrangler.json")).expect("json");
        assert_eq!(parsed.config.main, Path::new("./index.js"));
        assert_eq!(parsed.config.vars, [("N".to_owned(), serde_json::json!(1))]);

        let jsonc = r#"{
  // the worker
  "main": "src/index.mjs", /* block */
  "compatibility_date": "2026-03-01",
  "worker_loaders": [{ "binding": "LOADER", },],
  "limits": { "cpu_ms": 10, },
}"#;
        let parsed =
            parse_str(jsonc, Format::Jsonc, Path::new("/srv/app/wrangler.jsonc")).expect("jsonc");
        assert_eq!(parsed.config.main, Path::new("/srv/app/src/index.mjs"));
        assert_eq!(parsed.config.name, "worker");
        assert_eq!(parsed.config.worker_loaders[0].binding, "LOADER");
        assert_eq!(parsed.config.worker_loaders[0].id, None);
        assert_eq!(parsed.config.cpu_ms, Some(10));
    }

    #[test]
    fn unknown_keys_are_reported_with_their_paths() {
        let parsed = toml(&format!(
            "{MINIMAL}vars2 = 1\n[limits]\ncpu_ms = 5\nfoo = 1\n[[kv_namespaces]]\nbinding = \"KV\"\n[[services]]\nbinding = \"S\"\nservice = \"x\"\nprops = {{}}\n[isola]\nturbo = true\n"
        ))
        .expect("valid despite unknown keys");
        let mut keys = parsed.unknown_keys;
        keys.sort();
        assert_eq!(
            keys,
            [
                "isola.turbo",
                "kv_namespaces",
                "limits.foo",
                "services[0].props",
                "vars2"
            ]
        );
    }

    #[test]
    fn type_errors_name_the_key() {
        let err = toml("main = 1\ncompatibility_date = \"2026-03-01\"\n").expect_err("bad main");
        assert_eq!(
            err.to_string(),
            "app/wrangler.toml: `main`: expected a string"
        );
        let err = toml(&format!("{MINIMAL}[limits]\ncpu_ms = \"fast\"\n")).expect_err("bad cpu");
        assert_eq!(
            err.to_string(),
            "app/wrangler.toml: `limits.cpu_ms`: expected a positive integer"
        );
        let err = toml(&format!("{MINIMAL}compatibility_flags = [\"a\", 2]\n")).expect_err("flags");
        assert!(
            err.to_string().contains("`compatibility_flags[1]`"),
            "{err}"
        );
        let err = toml(&format!("{MINIMAL}[[worker_loaders]]\nid = \"x\"\n")).expect_err("binding");
        assert!(
            err.to_string()
                .contains("`worker_loaders[0].binding`: missing"),
            "{err}"
        );
        let err = toml(&format!("{MINIMAL}vars = 3\n")).expect_err("vars");
        assert!(
            err.to_string().contains("`vars`: expected a table"),
            "{err}"
        );
    }

    #[test]
    fn main_and_compatibility_date_are_required() {
        let err = toml("compatibility_date = \"2026-03-01\"\n").expect_err("no main");
        assert!(err.to_string().contains("`main`: missing"), "{err}");
        let err = toml("main = \"index.js\"\n").expect_err("no date");
        assert!(
            err.to_string().contains("`compatibility_date`: missing"),
            "{err}"
        );
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err = toml("main = \"index.js\"\ncompatibility_date = \n").expect_err("toml");
        match err {
            ConfigError::Syntax { line, column, .. } => {
                assert_eq!((line, column), (2, 22), "{err}");
            }
            other => panic!("expected a syntax error, got {other:?}"),
        }
        let err = parse_str(
            "{\n  \"main\": \"a.js\",\n  \"x\": }\n}",
            Format::Jsonc,
            Path::new("wrangler.jsonc"),
        )
        .expect_err("jsonc");
        let text = err.to_string();
        assert!(text.starts_with("wrangler.jsonc:3:"), "{text}");
    }

    #[test]
    fn a_bare_toml_date_is_accepted_as_the_compatibility_date() {
        let parsed = toml("main = \"a.js\"\ncompatibility_date = 2026-03-01\n").expect("date");
        assert_eq!(parsed.config.compatibility_date, "2026-03-01");
    }

    #[test]
    fn the_format_follows_the_extension() {
        assert_eq!(
            Format::from_path(Path::new("wrangler.toml")),
            Some(Format::Toml)
        );
        assert_eq!(
            Format::from_path(Path::new("wrangler.jsonc")),
            Some(Format::Jsonc)
        );
        assert_eq!(Format::from_path(Path::new("wrangler.yaml")), None);
    }
}
