//! `codemode.toml`: the upstreams `isola mcp` collapses, and the limits its
//! runs get.
//!
//! Unknown keys are errors (with their line and column), not silently
//! dropped. `${NAME}` in an upstream's `url`, `headers` and `env` values is
//! replaced with the host's environment variable `NAME` when the config is
//! loaded; a missing variable is an error. Expanded values stay in the host:
//! programs reach an upstream only through its tools, never its
//! connection. What an upstream *answers* is redacted on a best-effort
//! basis: exact occurrences of each secret (see [`UpstreamConfig::secrets`])
//! are replaced; an upstream that encodes or splits a credential it was
//! given can still leak it, so do not give credentials to upstreams that
//! echo them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A loaded and checked configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpConfig {
    /// `[[upstream]]`: each becomes one namespace.
    #[serde(default)]
    pub upstream: Vec<UpstreamConfig>,
    /// `[limits]` of every `execute`.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// `[sandbox]`: which runs share worker processes.
    #[serde(default)]
    pub sandbox: SandboxConfig,
}

/// `[sandbox]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxConfig {
    /// `"shared"` (the default): every session's runs share the cordon
    /// `codemode`. `"per-session"`: each client session's runs get a
    /// cordon of their own, so a run that escapes its isolate still never
    /// shares a process with another session's.
    #[serde(default)]
    pub cordon: CordonMode,
    /// With `"per-session"`: how many sessions may hold a cordon (and so
    /// worker processes) at once. Default 32.
    #[serde(default = "default_max_sessions")]
    pub max_sessions: usize,
}

/// How runs are grouped into cordons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CordonMode {
    /// One cordon for every session.
    #[default]
    Shared,
    /// A cordon per client session, retired when the session ends.
    PerSession,
}

fn default_max_sessions() -> usize {
    32
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            cordon: CordonMode::default(),
            max_sessions: default_max_sessions(),
        }
    }
}

/// One `[[upstream]]`.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// The namespace the upstream's tools appear under in code. Must be a
    /// JavaScript identifier.
    pub name: String,
    /// A stdio server: the program and its arguments.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// Environment variables for a stdio server. It inherits only `PATH`,
    /// `HOME`, `USER`, `LANG` and a few like them from isola; everything
    /// else it needs goes here.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The directory a stdio server starts in.
    #[serde(default)]
    pub cwd: Option<PathBuf>,
    /// A streamable-HTTP server's endpoint.
    #[serde(default)]
    pub url: Option<String>,
    /// Headers sent to a streamable-HTTP server (credentials go here).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Milliseconds one tool call may take before it fails. Default 60,000.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Milliseconds connecting (starting the server and its `initialize`)
    /// may take before the upstream counts as unavailable; it is tried
    /// again on later use. Default 30,000.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// Per-tool settings, by the upstream's tool name.
    #[serde(default)]
    pub tools: BTreeMap<String, ToolConfig>,
    /// Values redacted from everything the upstream answers: whatever
    /// `${NAME}` expanded to, and the whole value of credential headers and
    /// environment variables (`Proxy-Authorization`, `Cookie`, and any name
    /// containing `key`, `token`, `secret`, `password` or `auth`), 6 bytes
    /// or longer. Filled in by [`McpConfig::parse`].
    #[serde(skip)]
    pub secrets: Vec<String>,
}

fn default_timeout_ms() -> u64 {
    60_000
}

fn default_connect_timeout_ms() -> u64 {
    30_000
}

/// `[upstream.tools.<name>]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolConfig {
    /// Whether a person must approve each call.
    #[serde(default)]
    pub approval: Approval,
}

/// Whether a tool call needs a person's approval first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Approval {
    /// Calls run without asking.
    #[default]
    Never,
    /// Each call is put to the client through MCP elicitation; without a
    /// client that supports it, the call is refused.
    Required,
}

/// How an upstream is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// A child process speaking MCP over stdin/stdout.
    Stdio {
        /// The program.
        program: String,
        /// Its arguments.
        args: Vec<String>,
    },
    /// A streamable-HTTP endpoint.
    Http {
        /// The endpoint URL.
        url: String,
    },
}

/// Names and kinds only: values may be credentials.
impl std::fmt::Debug for UpstreamConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamConfig")
            .field("name", &self.name)
            .field("command", &self.command.as_ref().and_then(|c| c.first()))
            .field("url", &self.url.as_ref().map(|_| ".."))
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("timeout_ms", &self.timeout_ms)
            .field("tools", &self.tools)
            .finish_non_exhaustive()
    }
}

impl UpstreamConfig {
    /// How to reach this upstream (checked by [`McpConfig::parse`]).
    pub fn transport(&self) -> Transport {
        match (&self.command, &self.url) {
            (Some(command), _) => Transport::Stdio {
                program: command.first().cloned().unwrap_or_default(),
                args: command.iter().skip(1).cloned().collect(),
            },
            (None, url) => Transport::Http {
                url: url.clone().unwrap_or_default(),
            },
        }
    }

    /// The approval a tool needs.
    pub fn approval(&self, tool: &str) -> Approval {
        self.tools.get(tool).map(|t| t.approval).unwrap_or_default()
    }
}

/// `[limits]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// CPU milliseconds per run. Default 2,000.
    #[serde(default = "default_cpu_ms")]
    pub cpu_ms: u64,
    /// Wall-clock milliseconds per run. Default 30,000.
    #[serde(default = "default_wall_ms")]
    pub wall_ms: u64,
    /// Engine heap per run, MiB. Default 64.
    #[serde(default = "default_memory_mb")]
    pub memory_mb: u64,
    /// Tool calls per run. Default 100.
    #[serde(default = "default_tool_calls")]
    pub tool_calls: u32,
}

fn default_cpu_ms() -> u64 {
    2_000
}
fn default_wall_ms() -> u64 {
    30_000
}
fn default_memory_mb() -> u64 {
    64
}
fn default_tool_calls() -> u32 {
    100
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            cpu_ms: default_cpu_ms(),
            wall_ms: default_wall_ms(),
            memory_mb: default_memory_mb(),
            tool_calls: default_tool_calls(),
        }
    }
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML, or a key is unknown or mistyped.
    #[error("{path}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// Valid TOML that does not describe a usable setup.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl McpConfig {
    /// Reads and checks `path`, expanding `${NAME}` from the environment.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path, &|name| std::env::var(name).ok())
    }

    /// Parses `text` (named `path` in messages), taking `${NAME}` values
    /// from `lookup`.
    pub fn parse(
        text: &str,
        path: &Path,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut config: McpConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        let mut names = std::collections::HashSet::new();
        for upstream in &mut config.upstream {
            let name = upstream.name.clone();
            isola_codemode::names::check_identifier("upstream", &name)
                .map_err(|e| invalid(e.to_string()))?;
            if !names.insert(name.clone()) {
                return Err(invalid(format!(
                    "upstream name {name:?} is used more than once"
                )));
            }
            match (&upstream.command, &upstream.url) {
                (Some(_), Some(_)) => {
                    return Err(invalid(format!(
                        "upstream {name:?} has both `command` and `url`; give one"
                    )));
                }
                (None, None) => {
                    return Err(invalid(format!(
                        "upstream {name:?} needs `command` (stdio) or `url` (streamable HTTP)"
                    )));
                }
                (Some(command), None) if command.is_empty() || command[0].is_empty() => {
                    return Err(invalid(format!("upstream {name:?} has an empty `command`")));
                }
                (Some(_), None) if !upstream.headers.is_empty() => {
                    return Err(invalid(format!(
                        "upstream {name:?}: `headers` apply to `url` upstreams only"
                    )));
                }
                (None, Some(_)) if !upstream.env.is_empty() || upstream.cwd.is_some() => {
                    return Err(invalid(format!(
                        "upstream {name:?}: `env` and `cwd` apply to `command` upstreams only"
                    )));
                }
                _ => {}
            }
            if upstream.timeout_ms == 0 || upstream.connect_timeout_ms == 0 {
                return Err(invalid(format!(
                    "upstream {name:?}: `timeout_ms` and `connect_timeout_ms` must be at least 1"
                )));
            }
            let mut secrets = Vec::new();
            let mut expand = |what: &str, value: &str| {
                expand_env_collecting(value, lookup, &mut secrets).map_err(|var| {
                    invalid(format!("upstream {name:?}: {what} uses ${{{var}}}, which is not set in the environment"))
                })
            };
            if let Some(url) = &upstream.url {
                let expanded = expand("`url`", url)?;
                let parsed = url::Url::parse(&expanded)
                    .map_err(|e| invalid(format!("upstream {name:?}: `url` is not a URL: {e}")))?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(invalid(format!(
                        "upstream {name:?}: `url` must be http or https"
                    )));
                }
                upstream.url = Some(expanded);
            }
            for (header, value) in &mut upstream.headers {
                *value = expand(&format!("header {header:?}"), value)?;
            }
            for (var, value) in &mut upstream.env {
                *value = expand(&format!("env {var:?}"), value)?;
            }
            for (header, value) in upstream.headers.iter().chain(&upstream.env) {
                if is_credential_name(header) && value.len() >= MIN_SECRET_LEN {
                    secrets.push(value.clone());
                    // `Bearer xyz`: the credential alone, too.
                    if let Some((_, credential)) = value.split_once(' ')
                        && credential.len() >= MIN_SECRET_LEN
                    {
                        secrets.push(credential.to_owned());
                    }
                }
            }
            // Longest first, so a secret containing another is redacted whole.
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
            secrets.dedup();
            upstream.secrets = secrets;
        }
        let limits = &config.limits;
        if limits.cpu_ms == 0 || limits.wall_ms == 0 || limits.memory_mb == 0 {
            return Err(invalid(
                "[limits]: cpu_ms, wall_ms and memory_mb must be at least 1".into(),
            ));
        }
        if limits.memory_mb > 4096 {
            return Err(invalid("[limits]: memory_mb is at most 4096".into()));
        }
        if config.sandbox.max_sessions == 0 {
            return Err(invalid("[sandbox]: max_sessions must be at least 1".into()));
        }
        Ok(config)
    }
}

/// Secrets shorter than this are not redacted (they would match
/// everywhere, and are too short to be credentials).
const MIN_SECRET_LEN: usize = 6;

/// Whether a header or environment variable name says it holds a credential.
fn is_credential_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(name.as_str(), "proxy-authorization" | "cookie")
        || ["key", "token", "secret", "password", "auth"]
            .iter()
            .any(|w| name.contains(w))
}

/// Replaces every `${NAME}` in `value`, adding each substituted value to
/// `secrets`; `$` not followed by `{` is kept. On a missing variable,
/// returns its name.
fn expand_env_collecting(
    value: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    secrets: &mut Vec<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = &after[..end];
        let substituted = lookup(name).ok_or_else(|| name.to_owned())?;
        if substituted.len() >= MIN_SECRET_LEN {
            secrets.push(substituted.clone());
        }
        out.push_str(&substituted);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<McpConfig, String> {
        let lookup = |name: &str| (name == "TOKEN").then(|| "s3cret".to_owned());
        McpConfig::parse(text, Path::new("codemode.toml"), &lookup).map_err(|e| e.to_string())
    }

    #[test]
    fn the_documented_example_parses_and_expands_secrets() {
        let config = parse(
            r#"
            [[upstream]]
            name = "everything"
            command = ["npx", "-y", "@modelcontextprotocol/server-everything"]
            [[upstream]]
            name = "tracker"
            url = "https://tracker.example/mcp"
            headers = { Authorization = "Bearer ${TOKEN}" }
            [upstream.tools.delete_issue]
            approval = "required"
            [limits]
            cpu_ms = 2000
            wall_ms = 30000
            [sandbox]
            cordon = "per-session"
            "#,
        )
        .expect("valid");
        assert_eq!(config.upstream.len(), 2);
        assert_eq!(
            config.upstream[0].transport(),
            Transport::Stdio {
                program: "npx".into(),
                args: vec![
                    "-y".into(),
                    "@modelcontextprotocol/server-everything".into()
                ]
            }
        );
        assert_eq!(config.upstream[1].headers["Authorization"], "Bearer s3cret");
        assert_eq!(config.upstream[1].secrets, ["Bearer s3cret", "s3cret"]);
        assert_eq!(
            config.upstream[1].approval("delete_issue"),
            Approval::Required
        );
        assert_eq!(config.upstream[1].approval("list_issues"), Approval::Never);
        assert_eq!(config.limits.cpu_ms, 2000);
        assert_eq!(config.limits.memory_mb, 64);
        assert_eq!(config.sandbox.cordon, CordonMode::PerSession);
        assert_eq!(config.sandbox.max_sessions, 32);
        assert_eq!(parse("").expect("empty").sandbox.cordon, CordonMode::Shared);
    }

    #[test]
    fn mistakes_are_reported_clearly() {
        let cases = [
            (
                "[[upstream]]\nname = \"a\"\ncomand = [\"x\"]\n",
                "unknown field `comand`",
            ),
            (
                "[[upstream]]\nname = \"a-b\"\ncommand = [\"x\"]\n",
                "upstream name \"a-b\" is not a JavaScript identifier",
            ),
            (
                "[[upstream]]\nname = \"a\"\n",
                "needs `command` (stdio) or `url`",
            ),
            (
                "[[upstream]]\nname = \"a\"\ncommand = [\"x\"]\nurl = \"http://h/\"\n",
                "has both `command` and `url`",
            ),
            (
                "[[upstream]]\nname = \"a\"\ncommand = []\n",
                "has an empty `command`",
            ),
            (
                "[[upstream]]\nname = \"a\"\nurl = \"http://h/\"\nheaders = { X = \"${MISSING}\" }\n",
                "header \"X\" uses ${MISSING}, which is not set",
            ),
            (
                "[[upstream]]\nname = \"a\"\nurl = \"file:///etc/passwd\"\n",
                "`url` must be http or https",
            ),
            (
                "[[upstream]]\nname = \"a\"\ncommand = [\"x\"]\n[[upstream]]\nname = \"a\"\ncommand = [\"y\"]\n",
                "\"a\" is used more than once",
            ),
            (
                "[[upstream]]\nname = \"a\"\ncommand = [\"x\"]\n[upstream.tools.t]\napproval = \"maybe\"\n",
                "unknown variant `maybe`",
            ),
            ("[limits]\ncpu_ms = 0\n", "must be at least 1"),
            ("[limits]\nwall = 5\n", "unknown field `wall`"),
            (
                "[sandbox]\ncordon = \"per-run\"\n",
                "unknown variant `per-run`",
            ),
            (
                "[sandbox]\nmax_sessions = 0\n",
                "max_sessions must be at least 1",
            ),
        ];
        for (text, expected) in cases {
            let message = parse(text).expect_err(text);
            assert!(message.contains(expected), "{text:?}: {message}");
            assert!(message.starts_with("codemode.toml"), "{message}");
        }
    }

    #[test]
    fn expansion_keeps_lone_dollars_and_unclosed_braces() {
        let lookup = |name: &str| (name == "A").then(|| "1".to_owned());
        let expand = |value: &str| expand_env_collecting(value, &lookup, &mut Vec::new());
        assert_eq!(expand("$A ${A}-${A}$"), Ok("$A 1-1$".to_owned()));
        assert_eq!(expand("x${A"), Ok("x${A".to_owned()));
        assert_eq!(expand("${B}"), Err("B".to_owned()));
    }
}
