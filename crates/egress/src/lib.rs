//! isola-egress: real network egress for isola guests, under a policy the
//! operator writes.
//!
//! An [`Egress`] carries out a guest's `fetch` (an
//! [`HttpRequest`]) over HTTP/1.1 or HTTPS, after checking it against an
//! [`EgressPolicy`]: scheme, host allow/deny lists, port, and every address
//! the host resolves to (the SSRF guard). It then connects to exactly the
//! addresses it checked, follows redirects by hand through the same checks,
//! adds the operator's injected credentials where they belong, and caps
//! concurrency, bytes and time. Every failure is a `TypeError` for the guest.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use isola_egress::{Egress, EgressPolicy};
//! use isola_engine::HttpRequest;
//! let egress = Egress::new(EgressPolicy::new().allow_host("api.example.com"))?;
//! let response = egress
//!     .fetch(HttpRequest {
//!         method: "GET".into(),
//!         url: "https://api.example.com/v1/status".into(),
//!         ..Default::default()
//!     })
//!     .await;
//! # let _ = response; Ok(()) }
//! ```

mod address;
mod client;
mod error;
mod policy;
mod redirect;
mod request;
mod resolve;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use isola_engine::{ErrorValue, HttpRequest, HttpResponse, RedirectMode};
use tokio::sync::Semaphore;
use tracing::Instrument as _;
use url::Url;

pub use error::PolicyError;
pub use policy::EgressPolicy;
pub use resolve::{Resolve, Resolving, SystemResolver, resolve_fn};

use address::AddressClass;
use client::{Destination, Received};
use error::EgressError;
use policy::{HostKey, Rules, Target};
use redirect::Hop;

/// Carries out fetches under one policy. Cheap to clone; clones share the
/// policy and its concurrency cap.
#[derive(Clone)]
pub struct Egress {
    inner: Arc<Inner>,
}

struct Inner {
    rules: Rules,
    tls: Arc<rustls::ClientConfig>,
    slots: Semaphore,
}

impl fmt::Debug for Egress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Egress")
            .field("rules", &self.inner.rules)
            .finish_non_exhaustive()
    }
}

impl Egress {
    /// Validates `policy` and sets up TLS.
    pub fn new(policy: EgressPolicy) -> Result<Self, PolicyError> {
        let rules = policy.compile()?;
        let tls =
            client::tls_config(&rules.extra_roots).map_err(|e| PolicyError::Tls(e.to_string()))?;
        let slots = Semaphore::new(rules.max_concurrent_fetches);
        Ok(Self {
            inner: Arc::new(Inner { rules, tls, slots }),
        })
    }

    /// Carries out one fetch: the status, status text, headers (lower-case
    /// names) and body of the final response after redirects, or a
    /// `TypeError` saying why not.
    pub async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, ErrorValue> {
        let limit = self.inner.rules.timeout;
        let span = tracing::info_span!("egress_fetch", method = %request.method);
        let result = async {
            match tokio::time::timeout(limit, self.run(request)).await {
                Ok(result) => result,
                Err(_) => Err(EgressError::Timeout {
                    ms: limit.as_millis(),
                }),
            }
        }
        .instrument(span)
        .await;
        result.map_err(|error| {
            tracing::info!(%error, "egress fetch failed");
            ErrorValue::from(error)
        })
    }

    /// The policy's decision for a fetch of `url`, without connecting: the
    /// URL checks, one resolution and every address checked, as the first
    /// hop of [`fetch`](Self::fetch) does them. Returns the addresses a
    /// fetch would connect to.
    pub async fn check(&self, url: &str) -> Result<Vec<SocketAddr>, ErrorValue> {
        let url = Url::parse(url).map_err(|_| EgressError::InvalidUrl)?;
        let target = self.inner.rules.target(&url)?;
        let addrs = self.addresses(&target).await?;
        Ok(addrs
            .into_iter()
            .map(|ip| SocketAddr::new(ip, target.port))
            .collect())
    }

    async fn run(&self, request: HttpRequest) -> Result<HttpResponse, EgressError> {
        let rules = &self.inner.rules;
        // Everything the guest controls is validated before any lookup or
        // connection.
        let method = request::method(&request.method)?;
        let headers = request::headers(request.headers)?;
        let mode = request.redirect;
        let url = Url::parse(&request.url).map_err(|_| EgressError::InvalidUrl)?;
        // The semaphore is never closed, so `acquire` cannot fail; if it
        // ever did, refusing is the safe answer.
        let _slot = self
            .inner
            .slots
            .acquire()
            .await
            .map_err(|_| EgressError::ShutDown)?;
        let mut hop = Hop {
            url,
            method,
            headers,
            body: request.body,
            crossed_origin: false,
        };
        let mut secrets_sent: Vec<&str> = Vec::new();
        let mut redirects = 0;
        loop {
            let target = rules.target(&hop.url)?;
            let addrs = self.addresses(&target).await?;
            tracing::debug!(host = %target.host, port = target.port, redirects, "egress hop");
            let (request, secrets) = self.build(&hop, &target)?;
            secrets_sent.extend(secrets);
            let destination = Destination {
                target: &target,
                addrs: &addrs,
                tls: &self.inner.tls,
                connect_timeout: rules.connect_timeout,
                max_body: rules.max_response_bytes,
            };
            let received = client::exchange(&destination, request).await?;
            if let Some(location) = &received.location {
                match mode {
                    RedirectMode::Follow => {}
                    RedirectMode::Error => {
                        return Err(EgressError::RedirectRefused(target.host.to_string()));
                    }
                    // The redirect itself goes back to the guest (its body
                    // is not read), as workerd does for `redirect: "manual"`.
                    RedirectMode::Manual => return Ok(redact(received, &secrets_sent)),
                }
                if redirects == rules.max_redirects {
                    return Err(EgressError::TooManyRedirects(rules.max_redirects));
                }
                // An upstream that reflects the credential into the next URL
                // would hand it to whichever host that URL names.
                if secrets_sent
                    .iter()
                    .any(|secret| !secret.is_empty() && location.contains(secret))
                {
                    return Err(EgressError::CredentialInRedirect(target.host.to_string()));
                }
                redirects += 1;
                hop.follow(received.status, location)?;
                continue;
            }
            return Ok(redact(received, &secrets_sent));
        }
    }

    /// The checked addresses of one hop: an IP literal as it is, a name
    /// resolved once. Any address the target may not reach refuses the hop.
    async fn addresses(&self, target: &Target) -> Result<Vec<IpAddr>, EgressError> {
        let host = target.host.to_string();
        let (mut addrs, literal) = match &target.host {
            HostKey::Ip(ip) => (vec![*ip], true),
            HostKey::Domain(name) => {
                let addrs = self.inner.rules.resolver.resolve(name).await;
                (
                    addrs.map_err(|_| EgressError::Resolve(host.clone()))?,
                    false,
                )
            }
        };
        if addrs.is_empty() {
            return Err(EgressError::Resolve(host));
        }
        for ip in &addrs {
            let class = AddressClass::of(*ip);
            let reachable = class == AddressClass::Public
                || (target.private_ok && class.reachable_when_opted_in());
            if !reachable {
                return Err(if literal {
                    EgressError::AddressLiteral { host, class }
                } else {
                    EgressError::AddressResolved { host, class }
                });
            }
        }
        addrs.dedup();
        Ok(addrs)
    }

    /// The wire request of one hop, and the injected values it carries.
    fn build(
        &self,
        hop: &Hop,
        target: &Target,
    ) -> Result<(http::Request<Full<Bytes>>, Vec<&str>), EgressError> {
        let mut headers = hop.headers.clone();
        let mut secrets = Vec::new();
        if !hop.crossed_origin {
            for injected in &self.inner.rules.injected {
                if injected.host.matches(&target.host) {
                    headers.retain(|(name, _)| *name != injected.name);
                    headers.push((injected.name.clone(), injected.value.clone()));
                    secrets.push(injected.value.as_str());
                }
            }
        }
        if !headers.iter().any(|(name, _)| name == "accept-encoding") {
            // Bodies are handed to the guest as they come: ask for them
            // uncompressed.
            headers.push(("accept-encoding".into(), "identity".into()));
        }
        let default_port = if target.tls { 443 } else { 80 };
        let host = if target.port == default_port {
            target.host.to_string()
        } else {
            format!("{}:{}", target.host, target.port)
        };
        let path = &hop.url[url::Position::BeforePath..url::Position::AfterQuery];
        let mut builder = http::Request::builder()
            .method(
                http::Method::from_bytes(hop.method.as_bytes()).map_err(|_| EgressError::Method)?,
            )
            .uri(path)
            .header(http::header::HOST, host);
        if let Some(body) = &hop.body {
            builder = builder.header(http::header::CONTENT_LENGTH, body.len());
        }
        for (name, value) in &headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let body = Full::new(Bytes::from(hop.body.clone().unwrap_or_default()));
        let request = builder.body(body).map_err(|_| EgressError::Http {
            host: target.host.to_string(),
            reason: "the request cannot be sent".to_owned(),
        })?;
        Ok((request, secrets))
    }
}

/// The response the guest sees, with any injected value the upstream echoed
/// verbatim replaced.
fn redact(received: Received, secrets: &[&str]) -> HttpResponse {
    const REDACTED: &str = "[redacted]";
    let Received {
        status,
        status_text,
        mut headers,
        mut body,
        ..
    } = received;
    let mut body_changed = false;
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        for (_, value) in &mut headers {
            if value.contains(secret) {
                *value = value.replace(secret, REDACTED);
            }
        }
        if let Some(replaced) = replace_bytes(&body, secret.as_bytes(), REDACTED.as_bytes()) {
            body = replaced;
            body_changed = true;
        }
    }
    if body_changed {
        for (name, value) in &mut headers {
            if name == "content-length" {
                *value = body.len().to_string();
            }
        }
    }
    HttpResponse {
        status,
        status_text,
        headers,
        body,
    }
}

/// `haystack` with every `needle` replaced, or `None` if there was none.
fn replace_bytes(haystack: &[u8], needle: &[u8], with: &[u8]) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    let mut start = 0;
    let mut i = 0;
    while i + needle.len() <= haystack.len() {
        if haystack[i..].starts_with(needle) {
            let buf = out.get_or_insert_with(|| Vec::with_capacity(haystack.len()));
            buf.extend_from_slice(&haystack[start..i]);
            buf.extend_from_slice(with);
            i += needle.len();
            start = i;
        } else {
            i += 1;
        }
    }
    let mut out = out?;
    out.extend_from_slice(&haystack[start..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_bytes_replaces_every_occurrence() {
        assert_eq!(replace_bytes(b"abc", b"x", b"y"), None);
        assert_eq!(
            replace_bytes(b"a-SECRET-b-SECRET", b"SECRET", b"[r]").as_deref(),
            Some(&b"a-[r]-b-[r]"[..])
        );
        assert_eq!(replace_bytes(b"SS", b"SS", b"").as_deref(), Some(&b""[..]));
    }

    #[test]
    fn egress_is_send_sync_and_its_fetch_is_send() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        fn send<T: Send>(_: &T) {}
        let egress = Egress::new(EgressPolicy::new()).expect("valid");
        send_sync(&egress);
        send(&egress.fetch(HttpRequest::default()));
        send(&egress.check("http://example.com/"));
    }

    #[test]
    fn tls_config_builds_with_ring() {
        let config = client::tls_config(&[]).expect("TLS config");
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
        let bad = Egress::new(EgressPolicy::new().add_root_certificate(b"not DER".to_vec()));
        assert!(matches!(bad, Err(PolicyError::Tls(_))), "{bad:?}");
    }
}
