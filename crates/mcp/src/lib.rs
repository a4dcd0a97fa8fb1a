//! `isola mcp`: Code Mode as an MCP server.
//!
//! Upstream MCP servers (stdio child processes or streamable-HTTP
//! endpoints) become typed namespaces. The agent connected to isola sees
//! two tools: `search`, which answers with TypeScript declarations, and
//! `execute`, which runs a short program against those namespaces in a
//! fresh isolate under limits the engine enforces. Upstream credentials
//! stay in this process: programs reach upstreams only through tool calls.

pub mod config;
mod definitions;
mod search;
mod server;
mod upstream;

use isola::Jail;
use std::net::SocketAddr;
use std::sync::Arc;

use rmcp::ServiceExt;

pub use config::{ConfigError, McpConfig};
pub use definitions::tool_definitions;
pub use search::{DEFAULT_LIMIT, Listing, MAX_LIMIT, overview, search};
pub use server::{CodeMode, Handler};

/// Why the server stopped.
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    /// The executor could not start.
    #[error("cannot start the executor: {0}")]
    Executor(#[from] isola::LoadError),
    /// The transport failed.
    #[error("{0}")]
    Transport(String),
    /// `--http` was given an address other than loopback.
    #[error(
        "isola mcp serves HTTP on loopback addresses only ({0} is not): it has no authentication, \
         and anyone who could reach the port could run programs with the upstreams' credentials"
    )]
    NotLoopback(SocketAddr),
    /// A `[upstream.tools.<name>]` setting names no tool of a connected
    /// upstream (a typo would otherwise leave a tool without its approval).
    #[error(
        "upstream {upstream:?}: no tool is named {unmatched}; its tools are: {valid}",
        unmatched = unmatched.join(", "),
        valid = valid.join(", ")
    )]
    UnknownTool {
        /// The upstream.
        upstream: String,
        /// The setting names that match nothing.
        unmatched: Vec<String>,
        /// The names a setting may use: identifiers and the upstream's own.
        valid: Vec<String>,
    },
    /// The HTTP listener could not be bound.
    #[error("cannot listen on {addr}: {}", crate::bind_reason(source))]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Why a bind failed, in words for the common case.
fn bind_reason(error: &std::io::Error) -> String {
    if error.kind() == std::io::ErrorKind::AddrInUse {
        "the address is already in use (another server is listening there)".into()
    } else {
        error.to_string()
    }
}

/// Makes rustls use the ring provider for HTTPS upstreams (once per process).
fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

async fn start(config: &McpConfig, jail: Option<Jail>) -> Result<Arc<CodeMode>, McpError> {
    install_crypto();
    let executor = isola_codemode::Executor::jailed(jail)?;
    let state = CodeMode::new(config, executor);
    state.connect_all().await;
    state.check_tool_settings()?;
    Ok(state)
}

/// Serves one client over stdin/stdout until it disconnects. Executions
/// run in worker processes started by `jail` (`None`: in this process).
pub async fn serve_stdio(config: &McpConfig, jail: Option<Jail>) -> Result<(), McpError> {
    let state = start(config, jail).await?;
    tracing::info!("isola mcp ready on stdio; {}", state.summary());
    let service = match Handler::new(state).serve(rmcp::transport::stdio()).await {
        Ok(service) => service,
        // The client went away before it said hello: nothing to serve.
        Err(rmcp::service::ServerInitializeError::ConnectionClosed(_)) => return Ok(()),
        Err(e) => return Err(McpError::Transport(e.to_string())),
    };
    service
        .waiting()
        .await
        .map_err(|e| McpError::Transport(e.to_string()))?;
    Ok(())
}

/// Serves streamable HTTP at `addr`, endpoint `/mcp`, until `shutdown`
/// resolves. `ready` receives the bound address once it accepts
/// connections. Only loopback `Host` headers are accepted (rmcp's guard
/// against DNS rebinding).
pub async fn serve_http(
    config: &McpConfig,
    jail: Option<Jail>,
    addr: SocketAddr,
    ready: impl FnOnce(SocketAddr),
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), McpError> {
    use http_body_util::{BodyExt, Full};
    use hyper_util::rt::TokioIo;
    use rmcp::transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
    };

    if !addr.ip().is_loopback() {
        return Err(McpError::NotLoopback(addr));
    }
    // Bound first: a port in use fails at once, before upstreams start.
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| McpError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| McpError::Bind { addr, source })?;
    let state = start(config, jail).await?;
    tracing::info!("isola mcp ready on http://{bound}/mcp; {}", state.summary());
    // Sessions, so that the server can ask the client (approvals) and tell
    // it things (progress, tool list changes) on older protocol versions.
    let mut http_config = StreamableHttpServerConfig::default();
    http_config.legacy_session_mode = true;
    let mcp = Arc::new(StreamableHttpService::new(
        move || Ok(Handler::new(state.clone())),
        LocalSessionManager::default().into(),
        http_config,
    ));
    let service =
        hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let mcp = mcp.clone();
            async move {
                if request.uri().path() == "/mcp" {
                    return Ok::<_, std::convert::Infallible>(mcp.handle(request).await);
                }
                let mut response = hyper::Response::new(
                    Full::new(bytes::Bytes::from_static(
                        b"Not found: the MCP endpoint is /mcp\n",
                    ))
                    .boxed(),
                );
                *response.status_mut() = hyper::StatusCode::NOT_FOUND;
                Ok(response)
            }
        });
    ready(bound);
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    continue;
                }
            },
        };
        let service = service.clone();
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
