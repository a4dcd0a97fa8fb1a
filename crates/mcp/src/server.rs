//! The MCP server an agent connects to: two tools, `search` and `execute`.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use isola_codemode::{ExecuteOptions, ExecuteResult, Executor, Provider, Providers};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ElicitRequestParams,
    ElicitationAction, ElicitationSchema, Implementation, ListToolsResult, PaginatedRequestParams,
    ProgressNotificationParam, ProgressToken, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{ElicitationMode, NotificationContext, Peer, RequestContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::json;
use tokio::sync::watch;

use crate::config::{Approval, CordonMode, McpConfig, SandboxConfig};
use crate::search::{self, Listing};
use crate::upstream::{Catalog, Upstream};

/// Longest text a tool answer carries (about 6,000 tokens), as codemode does.
const MAX_ANSWER_CHARS: usize = 24_000;
/// How often a session's watcher checks that its client is still there.
const SESSION_CHECK: Duration = Duration::from_secs(30);
/// The largest input (as pretty JSON) put to a person for approval.
const MAX_APPROVAL_INPUT: usize = 16_000;
/// How long startup waits for upstreams before serving without the slow ones.
const STARTUP_WAIT: Duration = Duration::from_secs(15);
/// How long a `search` or `execute` waits for upstreams that are down to
/// come back before going ahead without them (a tool call still waits for
/// its own upstream, within its timeout).
const REVIVE_WAIT: Duration = Duration::from_secs(1);
/// How often a long `execute` reports that it is still running.
const HEARTBEAT: Duration = Duration::from_secs(1);

/// What every session shares: the upstreams, the executor, the limits.
pub struct CodeMode {
    upstreams: Vec<Arc<Upstream>>,
    executor: Executor,
    options: ExecuteOptions,
    changed: watch::Receiver<u64>,
    sandbox: SandboxConfig,
    /// Sessions holding a cordon of their own now, and the number the
    /// next one's cordon gets.
    session_cordons: AtomicUsize,
    next_session: AtomicU64,
}

impl std::fmt::Debug for CodeMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeMode")
            .field("upstreams", &self.upstreams)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl CodeMode {
    /// Sets up the upstreams of `config` (not yet connected; see [`Self::connect_all`]).
    pub fn new(config: &McpConfig, executor: Executor) -> Arc<Self> {
        let (changed_tx, changed) = watch::channel(0);
        let upstreams = config
            .upstream
            .iter()
            .map(|u| Upstream::new(u.clone(), changed_tx.clone()))
            .collect();
        let limits = &config.limits;
        let options = ExecuteOptions {
            cpu_ms: limits.cpu_ms,
            wall_ms: limits.wall_ms,
            memory_bytes: usize::try_from(limits.memory_mb << 20).unwrap_or(usize::MAX),
            max_tool_calls: limits.tool_calls,
            ..ExecuteOptions::default()
        };
        Arc::new(Self {
            upstreams,
            executor,
            options,
            changed,
            sandbox: config.sandbox,
            session_cordons: AtomicUsize::new(0),
            next_session: AtomicU64::new(1),
        })
    }

    /// Connects every upstream and reads its tools, concurrently. Failures
    /// are logged and retried on later use.
    pub async fn connect_all(&self) {
        self.connect_within(STARTUP_WAIT, self.upstreams.to_vec())
            .await;
    }

    /// Starts connecting `upstreams` concurrently and waits at most `wait`
    /// for them: an upstream that hangs keeps connecting in the background
    /// (its tools appear through `tools/list_changed` when it is up) instead
    /// of holding up the server or the run.
    async fn connect_within(&self, wait: Duration, upstreams: Vec<Arc<Upstream>>) {
        let connects: Vec<_> = upstreams
            .into_iter()
            .map(|u| tokio::spawn(async move { u.ensure_connected().await }))
            .collect();
        let _ = tokio::time::timeout(wait, async {
            for connect in connects {
                let _ = connect.await;
            }
        })
        .await;
    }

    /// Refuses tool settings that name no tool of an upstream whose tool
    /// list is known (one still unavailable is checked when it connects:
    /// see the warning in `Upstream::refresh`).
    pub fn check_tool_settings(&self) -> Result<(), crate::McpError> {
        for upstream in &self.upstreams {
            if let Some((unmatched, valid)) = upstream.unmatched_settings() {
                return Err(crate::McpError::UnknownTool {
                    upstream: upstream.name().to_owned(),
                    unmatched,
                    valid,
                });
            }
        }
        Ok(())
    }

    /// One line saying what is loaded: each upstream with its tool count,
    /// or why it is unavailable.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .upstreams
            .iter()
            .map(|u| {
                let catalog = u.catalog();
                match &catalog.error {
                    Some(error) => format!("{} (unavailable: {error})", u.name()),
                    None => format!("{} ({} tools)", u.name(), catalog.tools.len()),
                }
            })
            .collect();
        if parts.is_empty() {
            "no upstreams".into()
        } else {
            format!("upstreams: {}", parts.join(", "))
        }
    }

    fn catalogs(&self) -> Vec<Arc<Catalog>> {
        self.upstreams.iter().map(|u| u.catalog()).collect()
    }

    /// Reconnects upstreams that are down (each at most every few seconds).
    async fn revive(&self) {
        let down: Vec<_> = self
            .upstreams
            .iter()
            .filter(|u| u.catalog().error.is_some())
            .cloned()
            .collect();
        if !down.is_empty() {
            self.connect_within(REVIVE_WAIT, down).await;
        }
    }

    /// The two tools, with the current namespaces in their descriptions.
    pub fn tools(&self) -> Vec<Tool> {
        let catalogs = self.catalogs();
        let listings: Vec<Listing<'_>> = catalogs.iter().map(|c| c.listing()).collect();
        crate::definitions::tool_definitions(&listings, &self.options)
    }

    /// Runs `search`.
    pub async fn search(&self, query: &str, limit: Option<usize>) -> String {
        self.revive().await;
        let catalogs = self.catalogs();
        let listings: Vec<Listing<'_>> = catalogs.iter().map(|c| c.listing()).collect();
        search::search(query, &listings, limit.unwrap_or(search::DEFAULT_LIMIT))
    }

    /// The cordons' worker processes (empty when runs are not jailed).
    pub fn cordons(&self) -> Vec<isola::CordonStatus> {
        self.executor.cordons()
    }

    /// Runs `execute`: one fresh isolate, each upstream a namespace, in
    /// `cordon` (`None`: the shared `codemode` cordon).
    pub async fn execute(
        &self,
        code: &str,
        session: Option<Session>,
        cordon: Option<Arc<str>>,
    ) -> ExecuteResult {
        self.revive().await;
        let session = session.map(Arc::new);
        let mut providers = Vec::new();
        for upstream in &self.upstreams {
            let catalog = upstream.catalog();
            let mut provider = Provider::new(upstream.name());
            if catalog.types.tools.is_empty()
                && let Some(error) = &catalog.error
            {
                provider = provider.unavailable(error.clone());
            }
            for tool in &catalog.types.tools {
                let upstream = upstream.clone();
                let session = session.clone();
                let name = tool.name.clone();
                let label = format!("{}.{}", upstream.name(), tool.ident);
                provider = provider.tool(tool.ident.clone(), move |input| {
                    let upstream = upstream.clone();
                    let session = session.clone();
                    let name = name.clone();
                    let label = label.clone();
                    async move {
                        if upstream.approval(&name) == Approval::Required {
                            approve(session.as_deref(), &label, &input).await?;
                        }
                        let answer = upstream.call(&name, input).await;
                        if let Some(session) = &session {
                            session.progress(format!("{label} answered")).await;
                        }
                        answer
                    }
                });
            }
            providers.push(provider);
        }
        let providers = match Providers::new(providers) {
            Ok(providers) => providers,
            Err(e) => {
                return ExecuteResult {
                    result: None,
                    error: Some(isola_codemode::ExecuteError {
                        kind: isola_codemode::ErrorKind::Internal,
                        message: e.to_string(),
                        stack: None,
                    }),
                    logs: Vec::new(),
                    tool_calls: 0,
                };
            }
        };
        let options = ExecuteOptions {
            cordon,
            ..self.options.clone()
        };
        let run = self.executor.execute(code, &providers, &options);
        let Some(session) = session.filter(|s| s.progress.is_some()) else {
            return run.await;
        };
        tokio::pin!(run);
        let started = tokio::time::Instant::now();
        let mut ticker = tokio::time::interval_at(started + HEARTBEAT, HEARTBEAT);
        loop {
            tokio::select! {
                result = &mut run => return result,
                _ = ticker.tick() => {
                    session.progress(format!("running for {} s", started.elapsed().as_secs())).await;
                }
            }
        }
    }
}

/// What one `tools/call` can reach of its client: elicitation for
/// approvals, and progress notifications if the client asked for them.
pub struct Session {
    peer: Peer<RoleServer>,
    progress: Option<ProgressToken>,
    steps: AtomicU64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("progress", &self.progress)
            .finish_non_exhaustive()
    }
}

impl Session {
    async fn progress(&self, message: String) {
        let Some(token) = &self.progress else { return };
        let step = self.steps.fetch_add(1, Ordering::Relaxed) + 1;
        #[allow(clippy::cast_precision_loss)]
        let mut param = ProgressNotificationParam::new(token.clone(), step as f64);
        param.message = Some(message);
        let _ = self.peer.notify_progress(param).await;
    }
}

/// Asks the person behind the client to allow one call.
async fn approve(
    session: Option<&Session>,
    label: &str,
    input: &serde_json::Value,
) -> Result<(), String> {
    let refused = || {
        format!(
            "{label} needs approval, and this client cannot be asked: it does not support MCP elicitation."
        )
    };
    let Some(session) = session else {
        return Err(refused());
    };
    if !session
        .peer
        .supported_elicitation_modes()
        .contains(&ElicitationMode::Form)
    {
        return Err(refused());
    }
    // The person approves exactly what runs: all of the input or nothing
    // (a cut-off view could hide the field that matters).
    let shown = serde_json::to_string_pretty(input).unwrap_or_default();
    if shown.len() > MAX_APPROVAL_INPUT {
        return Err(format!(
            "{label} needs approval, and its input ({} bytes) is too large to show for approval (at most {MAX_APPROVAL_INPUT}).",
            shown.len()
        ));
    }
    let request = ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: format!("Allow the program to call {label} with this input?\n{shown}"),
        requested_schema: ElicitationSchema::new(Default::default()),
    };
    match session.peer.create_elicitation(request).await {
        Ok(answer) => match answer.action {
            ElicitationAction::Accept => Ok(()),
            ElicitationAction::Decline => {
                Err(format!("The call to {label} was declined by the user."))
            }
            ElicitationAction::Cancel => {
                Err(format!("The call to {label} was cancelled by the user."))
            }
            _ => Err(format!("The call to {label} was not approved.")),
        },
        Err(e) => Err(format!("Approval for {label} could not be obtained: {e}")),
    }
}

/// One client session's handler.
#[derive(Clone, Debug)]
pub struct Handler {
    state: Arc<CodeMode>,
    cordon: Arc<SessionCordon>,
}

impl Handler {
    /// A handler over the shared state, for one client session.
    pub fn new(state: Arc<CodeMode>) -> Self {
        let cordon = Arc::new(SessionCordon {
            state: state.clone(),
            name: Mutex::new(None),
        });
        Self { state, cordon }
    }

    /// The cordon this session's runs execute in: `None` for the shared
    /// one, or (`[sandbox] cordon = "per-session"`) one of the session's
    /// own, taken at its first run (a session refused one for want of
    /// room tries again at its next run).
    pub fn cordon(&self) -> Result<Option<Arc<str>>, String> {
        self.cordon.get()
    }
}

/// A session's own cordon, retired (its processes ended) when the session
/// ends, that is when the last clone of its [`Handler`] is dropped.
#[derive(Debug)]
struct SessionCordon {
    state: Arc<CodeMode>,
    name: Mutex<Option<Arc<str>>>,
}

impl SessionCordon {
    fn get(&self) -> Result<Option<Arc<str>>, String> {
        let sandbox = self.state.sandbox;
        if sandbox.cordon == CordonMode::Shared {
            return Ok(None);
        }
        let mut name = self.name.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(name) = &*name {
            return Ok(Some(name.clone()));
        }
        let taken =
            self.state
                .session_cordons
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |live| {
                    (live < sandbox.max_sessions).then_some(live + 1)
                });
        if taken.is_err() {
            return Err(format!(
                "isola mcp: every sandbox `[sandbox] max_sessions` allows ({}) belongs to another \
                 session; this session can run code once one of them ends",
                sandbox.max_sessions
            ));
        }
        let n = self.state.next_session.fetch_add(1, Ordering::Relaxed);
        let taken: Arc<str> = Arc::from(format!("codemode-session-{n}"));
        *name = Some(taken.clone());
        Ok(Some(taken))
    }
}

impl Drop for SessionCordon {
    fn drop(&mut self) {
        let name = self.name.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(name) = name.take() {
            self.state.executor.retire_cordon(&name);
            self.state.session_cordons.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

fn answer(text: String, is_error: bool) -> CallToolResult {
    let text = clip(text);
    if is_error {
        CallToolResult::error(vec![ContentBlock::text(text)])
    } else {
        CallToolResult::success(vec![ContentBlock::text(text)])
    }
}

fn clip(mut text: String) -> String {
    if text.len() <= MAX_ANSWER_CHARS {
        return text;
    }
    let total = text.len();
    let cut = (0..=MAX_ANSWER_CHARS)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    text.truncate(cut);
    text.push_str(&format!(
        "\n… (cut: {} more bytes; return less from the program)",
        total - cut
    ));
    text
}

impl ServerHandler for Handler {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_tool_list_changed().build())
            .with_server_info(Implementation::new("isola-mcp", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Code Mode: call `search` to find typed tools, then `execute` a short program that calls them.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.state.tools()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let arguments = request.arguments.unwrap_or_default();
        let string = |key: &str| arguments.get(key).and_then(|v| v.as_str());
        let result = match request.name.as_ref() {
            "search" => {
                let Some(query) = string("query") else {
                    return Ok(answer("search needs a string `query`.".into(), true).into());
                };
                let limit = match arguments.get("limit") {
                    None | Some(serde_json::Value::Null) => None,
                    Some(limit) => match limit.as_u64() {
                        Some(n) if n >= 1 => Some(usize::try_from(n).unwrap_or(search::MAX_LIMIT)),
                        _ => {
                            return Ok(
                                answer("`limit` must be a positive integer.".into(), true).into()
                            );
                        }
                    },
                };
                answer(self.state.search(query, limit).await, false)
            }
            "execute" => {
                let Some(code) = string("code") else {
                    return Ok(answer("execute needs a string `code`.".into(), true).into());
                };
                let session = Session {
                    peer: context.peer.clone(),
                    progress: context.meta.get_progress_token(),
                    steps: AtomicU64::new(0),
                };
                let cordon = match self.cordon() {
                    Ok(cordon) => cordon,
                    Err(message) => {
                        let body = json!({ "error": message, "logs": [] });
                        let text = serde_json::to_string_pretty(&body).unwrap_or_default();
                        return Ok(answer(text, true).into());
                    }
                };
                let outcome = self.state.execute(code, Some(session), cordon).await;
                let failed = outcome.error.is_some();
                let body = if failed {
                    json!({ "error": outcome.error.as_ref().map(|e| e.message.clone()), "logs": outcome.logs })
                } else {
                    json!({ "result": outcome.result, "logs": outcome.logs })
                };
                answer(
                    serde_json::to_string_pretty(&body).unwrap_or_default(),
                    failed,
                )
            }
            other => {
                return Err(McpError::invalid_params(
                    format!("unknown tool {other:?}; this server has `search` and `execute`"),
                    None,
                ));
            }
        };
        Ok(result.into())
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        // Tell this client whenever the tool descriptions change (an
        // upstream came up, went down, or changed its tool list).
        let mut changed = self.state.changed.clone();
        let state = Arc::downgrade(&self.state);
        let peer = context.peer;
        tokio::spawn(async move {
            let mut last = state.upgrade().map(|s| tool_text(&s.tools()));
            loop {
                tokio::select! {
                    changed_now = changed.changed() => {
                        if changed_now.is_err() {
                            return;
                        }
                    }
                    // A session that ended never hears of it: look.
                    () = tokio::time::sleep(SESSION_CHECK) => {
                        if peer.is_transport_closed() {
                            return;
                        }
                        continue;
                    }
                }
                let Some(state) = state.upgrade() else {
                    return;
                };
                let now = Some(tool_text(&state.tools()));
                if now != last {
                    last = now;
                    if peer.notify_tool_list_changed().await.is_err() {
                        return;
                    }
                }
            }
        });
    }
}

fn tool_text(tools: &[Tool]) -> String {
    tools
        .iter()
        .filter_map(|t| t.description.as_deref())
        .collect::<Vec<_>>()
        .join("\n")
}
