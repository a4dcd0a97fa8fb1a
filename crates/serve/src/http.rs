//! The HTTP/1.1 front end: accepting connections under timeouts and caps,
//! turning each request into an [`HttpRequest`] for the parent's `fetch`
//! handler, and its [`Outcome`] into a response.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use isola_runtime::RequestBody;

use crate::body::Body;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use isola_runtime::{HttpRequest, HttpResponse, Outcome, Run};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::inert;
use crate::shutdown;

/// The readiness path. It lives under `/__isola/`, a prefix no Workers app
/// routes by convention; every method on exactly this path is answered by
/// isola (`200 ok`), never by the worker.
pub const HEALTH_PATH: &str = "/__isola/healthz";

/// The topology path: JSON of whether guests are jailed and each cordon's
/// worker processes (`{"jail": true, "cordons": [{"name", "pids",
/// "live_workers", "restarts", "backing_off"}]}`). Answered to loopback clients only;
/// others get `404`, as if it did not exist.
pub const STATUS_PATH: &str = "/__isola/status";

/// Bytes of request line and headers a connection may buffer.
const MAX_HEADER_BUFFER: usize = 64 << 10;
/// Headers per request.
const MAX_HEADERS: usize = 100;

/// How connections are served.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HttpLimits {
    pub(crate) max_body_bytes: usize,
    pub(crate) header_read_timeout: Duration,
    pub(crate) shutdown_grace: Duration,
}

struct Handler {
    app: Arc<crate::watch::Current>,
    limits: HttpLimits,
    local: SocketAddr,
}

/// Accepts connections until a shutdown is asked for, then lets the
/// requests in flight finish (up to the grace period).
pub(crate) async fn accept_loop(
    listener: TcpListener,
    app: Arc<crate::watch::Current>,
    limits: HttpLimits,
    stop: watch::Receiver<bool>,
) {
    let local = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
    let handler = Arc::new(Handler { app, limits, local });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_HEADER_BUFFER)
        .max_headers(MAX_HEADERS)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let stopping = shutdown::requested(stop);
    tokio::pin!(stopping);
    loop {
        tokio::select! {
            () = &mut stopping => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let connection = Connection {
                        handler: handler.clone(),
                        builder: builder.clone(),
                        watcher: graceful.watcher(),
                        peer,
                    };
                    // Served on the parent's executor thread: its requests
                    // and answers then cross no thread. Else (the parent
                    // does not load now) here, where the error is answered.
                    let app = handler.app.get();
                    match (app.parent_executor(), stream.into_std()) {
                        (Some(executor), Ok(stream)) => {
                            let task: isola_runtime::LocalTask =
                                Box::new(move || Box::pin(connection.serve_std(stream)));
                            if !app.run_on(executor, task) {
                                tracing::warn!(%peer, "the parent's executor thread has stopped; connection dropped");
                            }
                        }
                        (None, Ok(stream)) => {
                            tokio::spawn(connection.serve_std(stream));
                        }
                        (_, Err(e)) => {
                            tracing::debug!(%peer, error = %e, "an accepted connection could not be served");
                        }
                    }
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off briefly.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    let open = graceful.count();
    tracing::info!(
        connections = open,
        "shutting down: no new connections; finishing requests in flight"
    );
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!(grace = ?limits.shutdown_grace, "grace period over; dropping the remaining connections");
        }
    }
}

/// One accepted connection and what serving it needs.
struct Connection {
    handler: Arc<Handler>,
    builder: hyper::server::conn::http1::Builder,
    watcher: hyper_util::server::graceful::Watcher,
    peer: SocketAddr,
}

impl Connection {
    /// Serves the connection on the current thread's event loop until it
    /// closes (or the shutdown's grace ends).
    async fn serve_std(self, stream: std::net::TcpStream) {
        let Self {
            handler,
            builder,
            watcher,
            peer,
        } = self;
        let stream = match tokio::net::TcpStream::from_std(stream) {
            Ok(stream) => stream,
            Err(e) => {
                tracing::debug!(%peer, error = %e, "an accepted connection could not be served");
                return;
            }
        };
        let service = service_fn(move |request| {
            let handler = handler.clone();
            async move { Ok::<_, Infallible>(handler.handle(request, peer).await) }
        });
        let connection = watcher.watch(builder.serve_connection(TokioIo::new(stream), service));
        if let Err(e) = connection.await {
            tracing::debug!(%peer, error = %e, "connection ended with an error");
        }
    }
}

impl Handler {
    async fn handle(&self, request: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
        if request.uri().path() == HEALTH_PATH {
            return plain(StatusCode::OK, "ok");
        }
        if request.uri().path() == STATUS_PATH {
            if !peer.ip().to_canonical().is_loopback() {
                return plain(StatusCode::NOT_FOUND, "Not Found");
            }
            let status = self.app.get().status().to_string();
            let mut response = Response::new(crate::body::full(status.into_bytes()));
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            return response;
        }
        // The app as it is now; a reload swaps it for later requests.
        let app = self.app.get();
        let over_cap = Arc::new(AtomicBool::new(false));
        let (request, body) = match self.convert(request, &over_cap) {
            Ok(converted) => converted,
            Err(status) => {
                return plain(status, status.canonical_reason().unwrap_or("Error"));
            }
        };
        let method = request.method.clone();
        let url = request.url.clone();
        let mut stream = match app.fetch(request, body) {
            Ok(stream) => stream,
            Err(e) => {
                tracing::error!(%method, %url, error = %e, "the worker could not be loaded");
                return internal_error();
            }
        };
        let head = match stream.head().await {
            Ok(head) => head,
            Err(run) => {
                if over_cap.load(Ordering::Relaxed) {
                    // The body outgrew the cap and the worker failed: the
                    // client's fault, as a declared-too-large body is.
                    return plain(StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large");
                }
                return respond(&method, &url, run);
            }
        };
        match build(
            head,
            crate::body::streamed(stream, method.clone(), url.clone()),
        ) {
            Ok(response) => response,
            Err(reason) => {
                // Dropping the stream makes the parent's further writes fail.
                tracing::error!(%method, %url, %reason, "the worker's response is not valid HTTP");
                internal_error()
            }
        }
    }

    /// The request as the worker sees it, with its body still arriving, or
    /// the status that refuses it.
    fn convert(
        &self,
        request: Request<Incoming>,
        over_cap: &Arc<AtomicBool>,
    ) -> Result<(HttpRequest, Option<RequestBody>), StatusCode> {
        let (parts, body) = request.into_parts();
        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.limits.max_body_bytes as u64) {
            return Err(StatusCode::PAYLOAD_TOO_LARGE);
        }
        let host = match parts.headers.get(HOST) {
            Some(value) => value
                .to_str()
                .map_err(|_| StatusCode::BAD_REQUEST)?
                .to_owned(),
            None => parts
                .uri
                .authority()
                .map_or_else(|| self.local.to_string(), ToString::to_string),
        };
        if host.is_empty() || !host.chars().all(is_host_char) {
            return Err(StatusCode::BAD_REQUEST);
        }
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .filter(|p| p.starts_with('/'))
            .unwrap_or("/");
        let url = url::Url::parse(&format!("http://{host}{path}"))
            .map_err(|_| StatusCode::BAD_REQUEST)?;
        let mut headers = Vec::with_capacity(parts.headers.len());
        for (name, value) in &parts.headers {
            let value = value.to_str().map_err(|_| StatusCode::BAD_REQUEST)?;
            headers.push((name.as_str().to_owned(), value.to_owned()));
        }
        let no_body = matches!(parts.method, Method::GET | Method::HEAD) || declared == Some(0);
        let request = HttpRequest {
            method: parts.method.as_str().to_owned(),
            url: url.into(),
            headers,
            body: None,
            ..HttpRequest::default()
        };
        if no_body {
            return Ok((request, None));
        }
        let (sender, receiver) = RequestBody::channel(BODY_CHUNKS_IN_FLIGHT);
        tokio::spawn(pump_request_body(
            body,
            sender,
            self.limits.max_body_bytes,
            over_cap.clone(),
        ));
        Ok((request, Some(receiver)))
    }
}

/// Request body chunks that may wait for the worker to read them.
const BODY_CHUNKS_IN_FLIGHT: usize = 4;

/// Feeds the client's body to the worker as it arrives, at the worker's
/// pace, up to `cap` bytes (a body without a `content-length` that grows
/// past it ends in an error the worker's read rejects with).
async fn pump_request_body(
    mut body: Incoming,
    sender: tokio::sync::mpsc::Sender<Result<Vec<u8>, String>>,
    cap: usize,
    over_cap: Arc<AtomicBool>,
) {
    let mut total = 0usize;
    loop {
        let chunk = match body.frame().await {
            None => return,
            Some(Err(e)) => Err(format!("The request body could not be read: {e}")),
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) if total.saturating_add(data.len()) > cap => {
                    over_cap.store(true, Ordering::Relaxed);
                    Err(format!(
                        "The request body exceeds the server's limit of {cap} bytes."
                    ))
                }
                Ok(data) => {
                    total += data.len();
                    Ok(data.to_vec())
                }
                // Trailers carry no body bytes.
                Err(_) => continue,
            },
        };
        let failed = chunk.is_err();
        if sender.send(chunk).await.is_err() || failed {
            return;
        }
    }
}

/// Characters a `Host` header may hold (a name or an IP literal and a port).
fn is_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']')
}

/// The worker's response, or a bare 500 whose reason is logged, never sent.
fn respond(method: &str, url: &str, run: Run) -> Response<Body> {
    match run.outcome {
        Outcome::Responded(response) => {
            let body = crate::body::full(response.body.clone());
            match build(response, body) {
                Ok(response) => response,
                Err(reason) => {
                    tracing::error!(%method, %url, %reason, "the worker's response is not valid HTTP");
                    internal_error()
                }
            }
        }
        Outcome::Returned(_) => {
            tracing::error!(%method, %url, "the fetch handler did not return a Response");
            internal_error()
        }
        Outcome::Streamed => {
            // The run handed its whole Response to a stream whose head never
            // arrived: an isola bug, not the worker's.
            tracing::error!(%method, %url, "isola lost the response head of a streamed response");
            internal_error()
        }
        Outcome::Threw(e) | Outcome::InvalidCode(e) => {
            let stack = e.stack.as_deref().map(inert).unwrap_or_default();
            tracing::error!(%method, %url, error = %inert(&e.to_string()), %stack, "the worker threw");
            internal_error()
        }
        other => {
            tracing::error!(
                %method,
                %url,
                outcome = other.kind().as_str(),
                reason = other.message().unwrap_or_default(),
                "the request failed"
            );
            internal_error()
        }
    }
}

/// Headers hyper writes itself, or that describe the connection, not the
/// response: never taken from the worker.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "content-length",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The worker's status and headers with `body`.
fn build(response: HttpResponse, body: Body) -> Result<Response<Body>, String> {
    let status =
        StatusCode::from_u16(response.status).map_err(|_| format!("status {}", response.status))?;
    let mut builder = Response::builder().status(status);
    for (name, value) in &response.headers {
        if HOP_BY_HOP.contains(&name.to_ascii_lowercase().as_str()) {
            continue;
        }
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("header name {name:?}"))?;
        let value = HeaderValue::from_str(value).map_err(|_| format!("value of header {name}"))?;
        builder = builder.header(name, value);
    }
    builder.body(body).map_err(|e| e.to_string())
}

fn internal_error() -> Response<Body> {
    plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
}

fn plain(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut response = Response::new(crate::body::full(body.as_bytes().to_vec()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_responses_keep_status_and_headers_but_not_framing() {
        let response = build(
            HttpResponse::new(201, "hi")
                .with_header("x-a", "1")
                .with_header("content-length", "99")
                .with_header("transfer-encoding", "chunked"),
            crate::body::full(b"hi".to_vec()),
        )
        .expect("valid");
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers()["x-a"], "1");
        assert!(response.headers().get("content-length").is_none());
        assert!(response.headers().get("transfer-encoding").is_none());
    }

    #[test]
    fn invalid_worker_responses_are_refused() {
        let empty = || crate::body::full(Vec::new());
        assert!(build(HttpResponse::new(1000, ""), empty()).is_err());
        assert!(
            build(
                HttpResponse::new(200, "").with_header("bad name", "x"),
                empty()
            )
            .is_err()
        );
    }

    #[test]
    fn host_headers_are_checked() {
        assert!("example.com:8787".chars().all(is_host_char));
        assert!("[::1]:80".chars().all(is_host_char));
        assert!(!"a/b@c".chars().all(is_host_char));
        assert!(!"a b".chars().all(is_host_char));
    }
}
