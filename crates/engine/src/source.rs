//! A worker's code, validated once into owned data.
//!
//! Shape errors (names, types, sizes, compatibility date and flags) are
//! reported here, synchronously, with workerd's messages. Errors that workerd
//! reports when the worker starts (syntax errors, a missing main module) are
//! kept and reported by the isolate at its first call.

use std::collections::BTreeMap;

use crate::typescript::{self, LineMap, TsError};

/// The largest total module size a worker may have (as on Cloudflare).
pub const MAX_CODE_BYTES: usize = 64 << 20;

/// The newest compatibility date this build supports.
pub const NEWEST_COMPATIBILITY_DATE: &str = "2026-11-21";

/// Compatibility flags accepted (and, for now, not changing behaviour): the
/// names Cloudflare documents that code commonly passes.
pub const KNOWN_COMPATIBILITY_FLAGS: &[&str] = &[
    "nodejs_compat",
    "nodejs_compat_v2",
    "nodejs_als",
    "no_nodejs_compat_v2",
    "enable_ctx_exports",
    "experimental",
    "global_fetch_strictly_public",
    "streams_enable_constructors",
    "transformstream_enable_standard_constructor",
    "url_standard",
    "formdata_parser_supports_files",
    "rpc",
    "fetch_refuses_unknown_protocols",
    "nodejs_zlib",
    "allow_importable_env",
    "no_global_navigator",
    "global_navigator",
    "web_socket_compression",
    "export_commonjs_default",
    "fetcher_no_get_put_delete",
];

/// `serde_json::Value` as its JSON text, for formats that are not
/// self-describing (the jailed worker protocol).
mod json_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        value: &serde_json::Value,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<serde_json::Value, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        serde_json::from_str(&text).map_err(serde::de::Error::custom)
    }
}

/// One module as the host gives it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ModuleSpec {
    /// An ES module (`{js: ...}` or a `.js` name).
    Esm(String),
    /// TypeScript, stripped to an ES module (`{ts: ...}` or a `.ts`/`.mts` name).
    TypeScript(String),
    /// CommonJS; importing it yields `module.exports` as the default export.
    CommonJs(String),
    /// A string; the default export.
    Text(String),
    /// Bytes; the default export is an `ArrayBuffer` over a copy.
    Data(#[serde(with = "serde_bytes")] Vec<u8>),
    /// A JSON value; the default export. (It crosses to a worker process
    /// as JSON text: binary formats cannot carry a self-describing value.)
    Json(#[serde(with = "json_text")] serde_json::Value),
    /// Python source (not supported yet; reported at load).
    Python(String),
    /// A WebAssembly module (not supported yet; reported at load).
    Wasm(#[serde(with = "serde_bytes")] Vec<u8>),
}

impl ModuleSpec {
    /// Types a string module by its name, as workerd does for string values
    /// of `modules`, plus TypeScript.
    pub fn from_name(name: &str, source: String) -> Result<Self, CodeError> {
        let ext = name.rsplit_once('.').map(|(_, e)| e);
        match ext {
            Some("js" | "mjs") => Ok(Self::Esm(source)),
            Some("ts" | "mts") => Ok(Self::TypeScript(source)),
            Some("py") => Ok(Self::Python(source)),
            _ => Err(CodeError::new(format!(
                "Module name must end with '.js' or '.py' (or the content must be an object indicating the type explicitly). Got: {name}."
            ))),
        }
    }

    /// Bytes of source or data it holds (JSON as its text).
    pub fn approx_size(&self) -> usize {
        match self {
            Self::Esm(s)
            | Self::TypeScript(s)
            | Self::CommonJs(s)
            | Self::Text(s)
            | Self::Python(s) => s.len(),
            Self::Data(b) | Self::Wasm(b) => b.len(),
            Self::Json(v) => serde_json::to_string(v).map_or(0, |s| s.len()),
        }
    }
}

/// A module ready for the isolate.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Compiled {
    Esm(String),
    CommonJs(String),
    Text(String),
    Data(#[serde(with = "serde_bytes")] Vec<u8>),
    Json(String),
    /// Reported when the module is first loaded, as workerd reports syntax
    /// errors at startup.
    Invalid(StartupError),
}

/// An error that stops a worker from starting, with the position it points
/// at when there is one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct StartupError {
    pub(crate) name: String,
    pub(crate) message: String,
    pub(crate) location: Option<(String, u32, u32)>,
}

/// A shape error in worker code; its message is workerd's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CodeError {
    message: String,
}

impl CodeError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// An error with a message of the caller's (for checks made above the
    /// engine, such as the `env` size).
    pub fn custom(message: impl Into<String>) -> Self {
        Self::new(message)
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Validated worker code: the module map and the name of the main module.
///
/// It serializes in its prepared form (TypeScript already stripped), which
/// is how it reaches a jailed worker process; the process does not check
/// it again, and needs no more than the engine itself checks.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WorkerSource {
    pub(crate) main: String,
    pub(crate) modules: BTreeMap<String, Compiled>,
    /// Position maps of TypeScript modules, for stack traces.
    maps: BTreeMap<String, LineMap>,
    code_bytes: usize,
}

impl WorkerSource {
    /// Validates and prepares worker code. TypeScript is stripped here, so a
    /// source is prepared once and can start many isolates.
    pub fn new(
        compatibility_date: Option<&str>,
        compatibility_flags: &[String],
        main: &str,
        modules: Vec<(String, ModuleSpec)>,
    ) -> Result<Self, CodeError> {
        check_compatibility_date(compatibility_date)?;
        for flag in compatibility_flags {
            if !KNOWN_COMPATIBILITY_FLAGS.contains(&flag.as_str()) {
                return Err(CodeError::new(format!(
                    "No such compatibility flag: {flag}"
                )));
            }
        }
        if modules.is_empty() {
            return Err(CodeError::new(
                "Dynamic Worker code must contain at least one module.",
            ));
        }
        let code_bytes: usize = modules.iter().map(|(_, m)| m.approx_size()).sum();
        if code_bytes > MAX_CODE_BYTES {
            return Err(CodeError::new(format!(
                "Dynamic Worker code size ({code_bytes} bytes) exceeds the maximum allowed size of {MAX_CODE_BYTES} bytes."
            )));
        }
        let mut compiled = BTreeMap::new();
        let mut maps = BTreeMap::new();
        for (name, spec) in modules {
            validate_module_name(&name)?;
            let module = compile(&name, spec, &mut maps)?;
            if compiled.insert(name.clone(), module).is_some() {
                return Err(CodeError::new(format!("Duplicate module name: {name}")));
            }
        }
        Ok(Self {
            main: main.to_owned(),
            modules: compiled,
            maps,
            code_bytes,
        })
    }

    /// Rewrites `module:line:column` positions in a stack that point into
    /// TypeScript modules to their positions in the TypeScript source.
    pub(crate) fn remap_stack(&self, stack: &str) -> String {
        if self.maps.is_empty() {
            return stack.to_owned();
        }
        let mut out = String::with_capacity(stack.len());
        for (i, line) in stack.split('\n').enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&self.remap_frame(line).unwrap_or_else(|| line.to_owned()));
        }
        out
    }

    fn remap_frame(&self, frame: &str) -> Option<String> {
        // `    at f (name:line:col)` or `    at name:line:col`
        let (start, end) = match (frame.rfind('('), frame.ends_with(')')) {
            (Some(open), true) => (open + 1, frame.len() - 1),
            _ => (frame.find("at ")? + 3, frame.len()),
        };
        let location = &frame[start..end];
        let (rest, column) = location.rsplit_once(':')?;
        let (module, line) = rest.rsplit_once(':')?;
        let map = self.maps.get(module)?;
        let (line, column) = map.original(line.parse().ok()?, column.parse().ok()?)?;
        Some(format!(
            "{}{module}:{line}:{column}{}",
            &frame[..start],
            &frame[end..]
        ))
    }

    /// The main module's name.
    pub fn main(&self) -> &str {
        &self.main
    }

    /// Total bytes of module source.
    pub fn code_bytes(&self) -> usize {
        self.code_bytes
    }
}

fn compile(
    name: &str,
    spec: ModuleSpec,
    maps: &mut BTreeMap<String, LineMap>,
) -> Result<Compiled, CodeError> {
    Ok(match spec {
        ModuleSpec::Esm(s) => Compiled::Esm(s),
        ModuleSpec::TypeScript(s) => match typescript::strip_types(name, &s) {
            Ok(stripped) => {
                maps.insert(name.to_owned(), stripped.map);
                Compiled::Esm(stripped.code)
            }
            Err(TsError {
                message,
                line,
                column,
            }) => Compiled::Invalid(StartupError {
                name: "SyntaxError".into(),
                message,
                location: Some((name.to_owned(), line, column)),
            }),
        },
        ModuleSpec::CommonJs(s) => Compiled::CommonJs(s),
        ModuleSpec::Text(s) => Compiled::Text(s),
        ModuleSpec::Data(b) => Compiled::Data(b),
        ModuleSpec::Json(v) => Compiled::Json(
            serde_json::to_string(&v)
                .map_err(|e| CodeError::new(format!("Module '{name}' holds invalid JSON: {e}")))?,
        ),
        ModuleSpec::Python(_) => {
            return Err(CodeError::new(format!(
                "Module '{name}' is a Python module; isola does not run Python workers yet."
            )));
        }
        ModuleSpec::Wasm(_) => {
            return Err(CodeError::new(format!(
                "Module '{name}' is a WebAssembly module; isola does not run WebAssembly yet."
            )));
        }
    })
}

fn check_compatibility_date(date: Option<&str>) -> Result<(), CodeError> {
    let Some(date) = date else {
        return Err(CodeError::new("Invalid compatibility date: undefined"));
    };
    let well_formed = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !well_formed {
        return Err(CodeError::new(format!(
            "Invalid compatibility date: {date}"
        )));
    }
    if date > NEWEST_COMPATIBILITY_DATE {
        return Err(CodeError::new(format!(
            "This Worker requires compatibility date \"{date}\", but the newest date supported by this server binary is \"{NEWEST_COMPATIBILITY_DATE}\"."
        )));
    }
    Ok(())
}

/// Module names are relative paths: `/`-separated, non-empty segments, none
/// of them `.` or `..`, no control characters or backslashes. This keeps the
/// resolver a pure map lookup that no specifier can steer outside the map.
fn validate_module_name(name: &str) -> Result<(), CodeError> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name.len() > 1024 {
        Some("it is longer than 1024 bytes")
    } else if name.starts_with('/') {
        Some("it must be relative, not start with '/'")
    } else if name.chars().any(|c| c.is_control() || c == '\\') {
        Some("it contains a control character or a backslash")
    } else if name
        .split('/')
        .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        Some("its path has an empty, '.' or '..' segment")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(CodeError::new(format!(
            "Invalid module name {name:?}: {reason}."
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(name: &str, spec: ModuleSpec) -> Result<WorkerSource, CodeError> {
        WorkerSource::new(Some("2026-03-01"), &[], name, vec![(name.into(), spec)])
    }

    #[test]
    fn compatibility_date_messages_match_workerd() {
        let err = WorkerSource::new(None, &[], "a.js", vec![]).expect_err("no date");
        assert_eq!(err.message(), "Invalid compatibility date: undefined");
        let err = WorkerSource::new(Some("2999-01-01"), &[], "a.js", vec![]).expect_err("future");
        assert_eq!(
            err.message(),
            format!(
                "This Worker requires compatibility date \"2999-01-01\", but the newest date supported by this server binary is \"{NEWEST_COMPATIBILITY_DATE}\"."
            )
        );
        let err = WorkerSource::new(Some("2026-01-01"), &["warp_drive".into()], "a.js", vec![])
            .expect_err("flag");
        assert_eq!(err.message(), "No such compatibility flag: warp_drive");
    }

    #[test]
    fn empty_code_is_rejected() {
        let err = WorkerSource::new(Some("2026-01-01"), &[], "a.js", vec![]).expect_err("empty");
        assert_eq!(
            err.message(),
            "Dynamic Worker code must contain at least one module."
        );
    }

    #[test]
    fn module_names_are_validated() {
        for bad in [
            "", "/abs.js", "../up.js", "a/./b.js", "a//b.js", "a\\b.js", "nul\0.js",
        ] {
            assert!(
                one(bad, ModuleSpec::Esm(String::new())).is_err(),
                "{bad:?} accepted"
            );
        }
        assert!(one("dir/sub/ok.js", ModuleSpec::Esm(String::new())).is_ok());
    }

    #[test]
    fn string_modules_are_typed_by_name() {
        let err = ModuleSpec::from_name("a.txt", String::new()).expect_err("unknown");
        assert_eq!(
            err.message(),
            "Module name must end with '.js' or '.py' (or the content must be an object indicating the type explicitly). Got: a.txt."
        );
        assert!(matches!(
            ModuleSpec::from_name("a.ts", String::new()),
            Ok(ModuleSpec::TypeScript(_))
        ));
        assert!(matches!(
            ModuleSpec::from_name("a.js", String::new()),
            Ok(ModuleSpec::Esm(_))
        ));
    }

    #[test]
    fn code_size_is_capped() {
        let big = "x".repeat(MAX_CODE_BYTES + 1);
        let err = one("a.js", ModuleSpec::Text(big)).expect_err("too big");
        assert_eq!(
            err.message(),
            format!(
                "Dynamic Worker code size ({} bytes) exceeds the maximum allowed size of 67108864 bytes.",
                MAX_CODE_BYTES + 1
            )
        );
    }
}
