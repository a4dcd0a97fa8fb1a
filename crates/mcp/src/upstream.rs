//! Upstream MCP servers: connecting (stdio child or streamable HTTP),
//! reading their tool lists (again whenever they announce a change), and
//! calling their tools with a timeout.
//!
//! A failing upstream never takes the server down: a crash, a timeout or a
//! malformed answer becomes an error message for the one tool call, and
//! the next use reconnects.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use isola_codemode::types::{NamespaceTypes, ToolSpec, namespace_types};
use rmcp::model::{CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use tokio::sync::{Mutex, watch};

use crate::config::{Approval, Transport, UpstreamConfig};

/// The most tools one upstream may list (each costs type generation and
/// context for the agent).
const MAX_TOOLS: usize = 1_000;
/// How long a broken upstream is left alone before the next reconnect.
const RETRY_AFTER: Duration = Duration::from_secs(2);

/// The variables a stdio upstream inherits from isola (what a program
/// needs to find its interpreter and home); everything else it gets comes
/// from its `env` table.
const INHERITED_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "TERM",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "TZ",
    "NODE_EXTRA_CA_CERTS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "SYSTEMROOT",
];

/// What an upstream offers right now, and its types.
#[derive(Debug)]
pub(crate) struct Catalog {
    /// Increases whenever the tool list is read again.
    pub(crate) version: u64,
    /// The tools as the upstream described them.
    pub(crate) tools: Vec<ToolSpec>,
    /// Their TypeScript view, under the upstream's namespace.
    pub(crate) types: NamespaceTypes,
    /// Identifier in code → the upstream's own tool name.
    pub(crate) by_ident: HashMap<String, String>,
    /// Why the upstream is unavailable, if it is.
    pub(crate) error: Option<String>,
}

/// One configured upstream.
pub(crate) struct Upstream {
    config: UpstreamConfig,
    connection: Mutex<Connection>,
    catalog: RwLock<Arc<Catalog>>,
    /// Tells the server its tool descriptions changed.
    changed: watch::Sender<u64>,
}

impl Catalog {
    /// What `search` and the tool descriptions need of it.
    pub(crate) fn listing(&self) -> crate::search::Listing<'_> {
        crate::search::Listing {
            types: &self.types,
            error: self.error.as_deref(),
        }
    }
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("name", &self.config.name)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Connection {
    client: Option<Arc<RunningService<RoleClient, Notifications>>>,
    failed_at: Option<tokio::time::Instant>,
    /// When the tool list was last read.
    listed_at: Option<tokio::time::Instant>,
}

/// Receives the upstream's notifications.
struct Notifications {
    /// A watch, so a flood of notifications coalesces into one re-read.
    list_changed: watch::Sender<()>,
}

impl ClientHandler for Notifications {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.list_changed.send_replace(());
    }

    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("isola-mcp", env!("CARGO_PKG_VERSION")),
        )
    }
}

impl Upstream {
    /// An upstream not yet connected; `changed` is bumped whenever its tool
    /// list is (re)read.
    pub(crate) fn new(config: UpstreamConfig, changed: watch::Sender<u64>) -> Arc<Self> {
        let empty = Catalog {
            version: 0,
            tools: Vec::new(),
            types: namespace_types(&config.name, &[]).unwrap_or_else(|_| NamespaceTypes {
                namespace: config.name.clone(),
                tools: Vec::new(),
                declarations: String::new(),
            }),
            by_ident: HashMap::new(),
            error: Some("not connected yet".into()),
        };
        Arc::new(Self {
            config,
            connection: Mutex::new(Connection::default()),
            catalog: RwLock::new(Arc::new(empty)),
            changed,
        })
    }

    /// The namespace name.
    pub(crate) fn name(&self) -> &str {
        &self.config.name
    }

    /// What the upstream offers (possibly empty, with `error` set).
    pub(crate) fn catalog(&self) -> Arc<Catalog> {
        self.catalog
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// Whether calls to `tool` (the upstream's name) need approval. A
    /// setting may name the tool as the upstream does or as programs see it
    /// (its identifier in the TypeScript API).
    pub(crate) fn approval(&self, tool: &str) -> Approval {
        if self.config.tools.contains_key(tool) {
            return self.config.approval(tool);
        }
        let catalog = self.catalog();
        catalog
            .by_ident
            .iter()
            .find(|(_, raw)| raw.as_str() == tool)
            .map_or_else(Approval::default, |(ident, _)| self.config.approval(ident))
    }

    /// The tool settings that name no tool of this upstream, with the
    /// names that would (empty while its tool list is unknown).
    pub(crate) fn unmatched_settings(&self) -> Option<(Vec<String>, Vec<String>)> {
        let catalog = self.catalog();
        if catalog.error.is_some() || self.config.tools.is_empty() {
            return None;
        }
        let known = |name: &str| {
            catalog.tools.iter().any(|t| t.name == name) || catalog.by_ident.contains_key(name)
        };
        let mut unmatched: Vec<String> = self
            .config
            .tools
            .keys()
            .filter(|name| !known(name))
            .cloned()
            .collect();
        if unmatched.is_empty() {
            return None;
        }
        unmatched.sort();
        let mut valid: Vec<String> = catalog.by_ident.keys().cloned().collect();
        valid.extend(catalog.tools.iter().map(|t| t.name.clone()));
        valid.sort();
        valid.dedup();
        Some((unmatched, valid))
    }

    /// Connects if not connected (or reconnects after a failure, at most
    /// every [`RETRY_AFTER`]) and reads the tool list.
    pub(crate) async fn ensure_connected(self: &Arc<Self>) {
        let _ = self.client().await;
    }

    async fn client(
        self: &Arc<Self>,
    ) -> Result<Arc<RunningService<RoleClient, Notifications>>, String> {
        let mut connection = self.connection.lock().await;
        if let Some(client) = &connection.client {
            if !client.is_closed() && !client.is_transport_closed() {
                let client = client.clone();
                // Connected, but the last listing failed: read it again
                // (at most every RETRY_AFTER) rather than stay toolless.
                if self.catalog().error.is_some()
                    && connection
                        .listed_at
                        .is_none_or(|at| at.elapsed() >= RETRY_AFTER)
                {
                    connection.listed_at = Some(tokio::time::Instant::now());
                    drop(connection);
                    self.refresh(&client).await;
                }
                return Ok(client);
            }
            connection.client = None;
            self.set_error(format!(
                "upstream {:?} closed the connection",
                self.config.name
            ));
            connection.failed_at = Some(tokio::time::Instant::now());
        }
        if let Some(failed_at) = connection.failed_at
            && failed_at.elapsed() < RETRY_AFTER
        {
            return Err(self
                .catalog()
                .error
                .clone()
                .unwrap_or_else(|| "unavailable".into()));
        }
        match tokio::time::timeout(
            Duration::from_millis(self.config.connect_timeout_ms),
            self.connect(),
        )
        .await
        {
            Ok(Ok(client)) => {
                let client = Arc::new(client);
                connection.client = Some(client.clone());
                connection.failed_at = None;
                connection.listed_at = Some(tokio::time::Instant::now());
                drop(connection);
                self.refresh(&client).await;
                Ok(client)
            }
            Ok(Err(message)) => {
                connection.failed_at = Some(tokio::time::Instant::now());
                let message = redact_text(
                    format!("upstream {:?} is unavailable: {message}", self.config.name),
                    &self.config.secrets,
                );
                tracing::warn!(upstream = %self.config.name, "{message}");
                self.set_error(message.clone());
                Err(message)
            }
            Err(_) => {
                connection.failed_at = Some(tokio::time::Instant::now());
                let message = format!(
                    "upstream {:?} did not finish connecting within {} ms",
                    self.config.name, self.config.connect_timeout_ms
                );
                tracing::warn!(upstream = %self.config.name, "{message}");
                self.set_error(message.clone());
                Err(message)
            }
        }
    }

    async fn connect(
        self: &Arc<Self>,
    ) -> Result<RunningService<RoleClient, Notifications>, String> {
        let (tx, mut rx) = watch::channel(());
        let handler = Notifications { list_changed: tx };
        let client = match self.config.transport() {
            Transport::Stdio { program, args } => {
                let mut command = tokio::process::Command::new(&program);
                // A clean environment: isola's own variables (cloud keys,
                // tokens) are not the upstream's business, and an upstream
                // that reports its environment would hand them to programs.
                command.env_clear();
                for (var, value) in std::env::vars_os() {
                    if var.to_str().is_some_and(|v| INHERITED_ENV.contains(&v)) {
                        command.env(var, value);
                    }
                }
                command
                    .args(&args)
                    .envs(&self.config.env)
                    .kill_on_drop(true);
                if let Some(cwd) = &self.config.cwd {
                    command.current_dir(cwd);
                }
                let (transport, stderr) = rmcp::transport::TokioChildProcess::builder(command)
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .map_err(|e| format!("cannot start {program:?}: {e}"))?;
                if let Some(stderr) = stderr {
                    tokio::spawn(forward_stderr(self.config.name.clone(), stderr));
                }
                handler.serve(transport).await.map_err(|e| e.to_string())?
            }
            Transport::Http { url } => {
                use rmcp::transport::StreamableHttpClientTransport;
                use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
                let mut headers = HashMap::new();
                for (name, value) in &self.config.headers {
                    let name = http::HeaderName::try_from(name.as_str())
                        .map_err(|e| format!("header {name:?}: {e}"))?;
                    let value = http::HeaderValue::try_from(value.as_str())
                        .map_err(|_| format!("header {name:?} has an invalid value"))?;
                    headers.insert(name, value);
                }
                let transport = StreamableHttpClientTransport::from_config(
                    StreamableHttpClientTransportConfig::with_uri(url).custom_headers(headers),
                );
                handler.serve(transport).await.map_err(|e| e.to_string())?
            }
        };
        // Re-read the tool list whenever the upstream says it changed.
        let upstream = Arc::downgrade(self);
        tokio::spawn(async move {
            // Ends when the connection (and with it the sender) is dropped.
            while rx.changed().await.is_ok() {
                let Some(upstream) = upstream.upgrade() else {
                    return;
                };
                let client = upstream.connection.lock().await.client.clone();
                if let Some(client) = client {
                    upstream.refresh(&client).await;
                }
            }
        });
        Ok(client)
    }

    async fn refresh(&self, client: &RunningService<RoleClient, Notifications>) {
        let listed = match tokio::time::timeout(self.timeout(), client.list_all_tools()).await {
            Ok(Ok(tools)) => tools,
            Ok(Err(e)) => {
                return self.set_error(format!(
                    "upstream {:?} failed to list its tools: {e}",
                    self.config.name
                ));
            }
            Err(_) => {
                return self.set_error(format!(
                    "upstream {:?} did not list its tools within {} ms",
                    self.config.name, self.config.timeout_ms
                ));
            }
        };
        if listed.len() > MAX_TOOLS {
            return self.set_error(format!(
                "upstream {:?} lists {} tools; at most {MAX_TOOLS} are taken",
                self.config.name,
                listed.len()
            ));
        }
        // Redacted like call results: names, descriptions and schemas reach
        // the agent through `search` and the tool descriptions.
        let tools: Vec<ToolSpec> = listed
            .into_iter()
            .filter_map(|tool| {
                serde_json::to_value(&tool).ok().and_then(|json| {
                    serde_json::from_value(redact(json, &self.config.secrets)).ok()
                })
            })
            .collect();
        match namespace_types(&self.config.name, &tools) {
            Ok(types) => {
                let by_ident = types
                    .tools
                    .iter()
                    .map(|t| (t.ident.clone(), t.name.clone()))
                    .collect();
                self.update(|current| Catalog {
                    version: current.version + 1,
                    tools,
                    types,
                    by_ident,
                    error: None,
                });
                // At startup this stops isola mcp (`check_tool_settings`);
                // an upstream that connects later can only be warned about.
                if let Some((unmatched, valid)) = self.unmatched_settings() {
                    tracing::warn!(
                        upstream = %self.config.name,
                        "tool settings {} name no tool of this upstream, so they apply to nothing; its tools are: {}",
                        unmatched.join(", "),
                        valid.join(", ")
                    );
                }
            }
            Err(e) => self.set_error(format!("upstream {:?}: {e}", self.config.name)),
        }
    }

    fn set_error(&self, message: String) {
        // Shown in tool descriptions and thrown in programs; connection
        // errors can quote the URL, and with it a `${VAR}` credential.
        let message = redact_text(message, &self.config.secrets);
        self.update(|current| Catalog {
            version: current.version + 1,
            tools: current.tools.clone(),
            types: NamespaceTypes {
                namespace: current.types.namespace.clone(),
                tools: current.types.tools.clone(),
                declarations: current.types.declarations.clone(),
            },
            by_ident: current.by_ident.clone(),
            error: Some(message),
        });
    }

    /// Replaces the catalog with `next(current)` under the write lock, so
    /// concurrent updates apply in order, and tells the sessions.
    fn update(&self, next: impl FnOnce(&Catalog) -> Catalog) {
        {
            let mut slot = match self.catalog.write() {
                Ok(slot) => slot,
                Err(poisoned) => poisoned.into_inner(),
            };
            let replacement = next(&slot);
            *slot = Arc::new(replacement);
        }
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.config.timeout_ms)
    }

    /// Calls `tool` (the upstream's own name) and unwraps the answer as
    /// `@cloudflare/codemode` does: an error result throws its text,
    /// `structuredContent` wins, all-text content is parsed as JSON (or
    /// kept as a string), anything else is the whole result. Secrets are
    /// redacted from both: transport errors quote the request too (reqwest
    /// names the URL, which may carry a `${VAR}` credential).
    pub(crate) async fn call(
        self: &Arc<Self>,
        tool: &str,
        input: serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        let secrets = &self.config.secrets;
        match self.call_unredacted(tool, input).await {
            Ok(value) => Ok(redact(value, secrets)),
            Err(message) => Err(redact_text(message, secrets)),
        }
    }

    async fn call_unredacted(
        self: &Arc<Self>,
        tool: &str,
        input: serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        let name = &self.config.name;
        let arguments = match input {
            serde_json::Value::Object(map) => Some(map),
            serde_json::Value::Null => None,
            other => {
                return Err(format!(
                    "{name}.{tool} takes one object argument, not {}",
                    json_kind(&other)
                ));
            }
        };
        // Connecting (or waiting for a reconnect in progress) counts
        // against the call's timeout too.
        let deadline = tokio::time::Instant::now() + self.timeout();
        let client = match tokio::time::timeout_at(deadline, self.client()).await {
            Ok(client) => client?,
            Err(_) => {
                return Err(format!(
                    "upstream {name:?} is still connecting; {name}.{tool} was not called"
                ));
            }
        };
        let mut params = CallToolRequestParams::new(tool.to_owned());
        params.arguments = arguments;
        let answer = match tokio::time::timeout_at(deadline, client.call_tool(params)).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => {
                if client.is_transport_closed() || client.is_closed() {
                    return Err(format!(
                        "upstream {name:?} closed the connection during {name}.{tool}"
                    ));
                }
                return Err(format!("upstream {name:?} failed on {name}.{tool}: {e}"));
            }
            Err(_) => {
                return Err(format!(
                    "upstream {name:?} did not answer {name}.{tool} within {} ms",
                    self.config.timeout_ms
                ));
            }
        };
        let json = serde_json::to_value(&answer)
            .map_err(|e| format!("upstream {name:?}: unreadable result: {e}"))?;
        unwrap_result(json)
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// What replaces a configured secret in anything an upstream answers.
pub(crate) const REDACTED: &str = "[redacted by isola]";

/// `value` with every configured secret replaced, in keys and strings
/// alike: an upstream that echoes its request (headers, environment)
/// must not hand the program the credentials isola used to reach it.
/// An upstream's stderr, line by line, into isola's log under its name
/// (so that it is told apart from isola's own lines and follows
/// `--log-format`).
async fn forward_stderr(name: String, stderr: tokio::process::ChildStderr) {
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        // Control characters escaped: the line goes to a terminal.
        let line: String = line
            .chars()
            .flat_map(|c| {
                if c.is_control() && c != '\t' {
                    c.escape_default().collect::<Vec<_>>()
                } else {
                    vec![c]
                }
            })
            .collect();
        tracing::info!(target: "isola_mcp::upstream", upstream = %name, "[{name}] {line}");
    }
}

pub(crate) fn redact(value: serde_json::Value, secrets: &[String]) -> serde_json::Value {
    use serde_json::Value as J;
    if secrets.is_empty() {
        return value;
    }
    match value {
        J::String(s) => J::String(redact_text(s, secrets)),
        J::Array(items) => J::Array(items.into_iter().map(|v| redact(v, secrets)).collect()),
        J::Object(map) => J::Object(
            map.into_iter()
                .map(|(k, v)| (redact_text(k, secrets), redact(v, secrets)))
                .collect(),
        ),
        other => other,
    }
}

pub(crate) fn redact_text(mut text: String, secrets: &[String]) -> String {
    for secret in secrets {
        if text.contains(secret.as_str()) {
            text = text.replace(secret.as_str(), REDACTED);
        }
    }
    text
}

/// A `CallToolResult` (as JSON) as the program sees it.
pub(crate) fn unwrap_result(mut result: serde_json::Value) -> Result<serde_json::Value, String> {
    let content = result
        .get("content")
        .and_then(|c| c.as_array())
        .cloned()
        .unwrap_or_default();
    let texts: Option<Vec<&str>> = content
        .iter()
        .map(|c| {
            (c.get("type").and_then(|t| t.as_str()) == Some("text"))
                .then(|| c.get("text").and_then(|t| t.as_str()).unwrap_or(""))
        })
        .collect();
    if result.get("isError").and_then(|e| e.as_bool()) == Some(true) {
        let text = content
            .iter()
            .filter_map(|c| c.get("text").and_then(|t| t.as_str()))
            .collect::<Vec<_>>()
            .join("\n");
        return Err(if text.is_empty() {
            "Tool call failed".into()
        } else {
            text
        });
    }
    if let Some(structured) = result.get_mut("structuredContent") {
        return Ok(structured.take());
    }
    if let Some(texts) = texts
        && !texts.is_empty()
    {
        let text = texts.join("\n");
        return Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)));
    }
    Ok(result)
}
