//! One HTTP/1.1 exchange with one checked destination: connect to the
//! pinned addresses only (never a name), TLS with the host name for SNI and
//! certificate checks, and a response body read under the byte cap.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::error::EgressError;
use crate::policy::{HostKey, Target};
use crate::redirect::is_redirect;

/// The TLS client configuration every fetch shares: the ring provider,
/// TLS 1.2 and 1.3, the Mozilla roots from `webpki-roots` plus the
/// operator's `extra_roots` (DER), HTTP/1.1 only.
pub(crate) fn tls_config(extra_roots: &[Vec<u8>]) -> Result<Arc<ClientConfig>, rustls::Error> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for der in extra_roots {
        roots.add(rustls::pki_types::CertificateDer::from(der.as_slice()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// What came back from one hop.
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) status: u16,
    pub(crate) status_text: String,
    pub(crate) headers: Vec<(String, String)>,
    /// The `location` of a redirect status (whose body is not read).
    pub(crate) location: Option<String>,
    pub(crate) body: Vec<u8>,
}

/// Where and how one hop connects.
#[derive(Debug)]
pub(crate) struct Destination<'a> {
    pub(crate) target: &'a Target,
    /// The checked addresses, tried in order.
    pub(crate) addrs: &'a [IpAddr],
    pub(crate) tls: &'a Arc<ClientConfig>,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_body: usize,
}

/// Sends `request` to `dest` and reads the response.
pub(crate) async fn exchange(
    dest: &Destination<'_>,
    request: http::Request<Full<Bytes>>,
) -> Result<Received, EgressError> {
    let host = dest.target.host.to_string();
    let deadline = Instant::now() + dest.connect_timeout;
    let connect_timeout = || EgressError::ConnectTimeout {
        host: host.clone(),
        ms: dest.connect_timeout.as_millis(),
    };
    let tcp = tokio::time::timeout_at(deadline, connect(dest, &host))
        .await
        .map_err(|_| connect_timeout())??;
    if !dest.target.tls {
        return send(TokioIo::new(tcp), request, &host, dest.max_body).await;
    }
    let server_name = match &dest.target.host {
        HostKey::Domain(d) => ServerName::try_from(d.clone()),
        HostKey::Ip(ip) => Ok(ServerName::from(*ip)),
    }
    .map_err(|_| EgressError::Tls {
        host: host.clone(),
        reason: "the host name is not valid for TLS".to_owned(),
    })?;
    let connector = tokio_rustls::TlsConnector::from(dest.tls.clone());
    let tls = tokio::time::timeout_at(deadline, connector.connect(server_name, tcp))
        .await
        .map_err(|_| connect_timeout())?
        .map_err(|e| EgressError::Tls {
            host: host.clone(),
            reason: e.to_string(),
        })?;
    send(TokioIo::new(tls), request, &host, dest.max_body).await
}

/// A TCP connection to the first checked address that answers.
async fn connect(dest: &Destination<'_>, host: &str) -> Result<TcpStream, EgressError> {
    let mut reason = "could not connect";
    for ip in dest.addrs {
        match TcpStream::connect(SocketAddr::new(*ip, dest.target.port)).await {
            Ok(stream) => {
                // Requests are written whole; no need to wait for acks.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => {
                tracing::debug!(%ip, error = %e, "egress connect failed");
                if e.kind() == std::io::ErrorKind::ConnectionRefused {
                    reason = "the connection was refused";
                }
            }
        }
    }
    Err(EgressError::Connect {
        host: host.to_owned(),
        reason,
    })
}

/// Runs the HTTP/1.1 exchange, driving the connection alongside it in this
/// task (no spawned task outlives the fetch).
async fn send<T>(
    io: T,
    request: http::Request<Full<Bytes>>,
    host: &str,
    max_body: usize,
) -> Result<Received, EgressError>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let http_error = |e: hyper::Error| EgressError::Http {
        host: host.to_owned(),
        reason: e.to_string(),
    };
    let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, Full<Bytes>>(io)
        .await
        .map_err(http_error)?;
    let work = async {
        let response = sender.send_request(request).await.map_err(http_error)?;
        let (parts, body) = response.into_parts();
        let status = parts.status.as_u16();
        let status_text = parts
            .extensions
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
            .or_else(|| parts.status.canonical_reason().map(str::to_owned))
            .unwrap_or_default();
        let headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), header_text(value.as_bytes())))
            .collect();
        let location = is_redirect(status)
            .then(|| headers.iter().find(|(n, _)| n == "location"))
            .flatten()
            .map(|(_, v)| v.clone());
        let body = if location.is_some() {
            Vec::new()
        } else {
            read_body(body, &parts.headers, host, max_body).await?
        };
        Ok(Received {
            status,
            status_text,
            headers,
            location,
            body,
        })
    };
    let mut conn = std::pin::pin!(conn);
    let mut work = std::pin::pin!(work);
    let mut conn_done = false;
    loop {
        tokio::select! {
            result = &mut work => return result,
            // A finished connection leaves its outcome to `work`: the
            // request or body then ends with the connection's error.
            _ = &mut conn, if !conn_done => conn_done = true,
        }
    }
}

/// Reads the body, failing as soon as it would exceed `max` bytes.
async fn read_body(
    mut body: Incoming,
    headers: &http::HeaderMap,
    host: &str,
    max: usize,
) -> Result<Vec<u8>, EgressError> {
    let too_large = || EgressError::TooLarge {
        host: host.to_owned(),
        limit: max,
    };
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let mut out = Vec::with_capacity(declared.map_or(0, |n| n as usize).min(max));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| EgressError::Http {
            host: host.to_owned(),
            reason: e.to_string(),
        })?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > max {
                return Err(too_large());
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// A header value as text: UTF-8 when it is, else each byte as one
/// Latin-1 character (what the Fetch standard's byte strings map to).
fn header_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}
