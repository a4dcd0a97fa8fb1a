//! The operator's policy: which hosts and ports a guest may reach, which
//! private names are opted in, which secrets are added for which host, and
//! the caps. [`EgressPolicy`] is the builder; [`Rules`] is its validated
//! form that every request hop is checked against.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use url::{Host, Url};

use crate::error::{EgressError, PolicyError};
use crate::request::{is_token, valid_value};
use crate::resolve::{Resolve, SystemResolver};

/// Names refused whatever the lists say: they point at the host itself or
/// at cloud metadata services. `*.localhost` is refused too.
const BUILT_IN_DENIED: [&str; 3] = ["localhost", "metadata", "metadata.google.internal"];

/// What a guest's `fetch` may reach. Build one, then hand it to
/// [`crate::Egress::new`], which validates it.
///
/// ```
/// use std::time::Duration;
/// use isola_egress::{Egress, EgressPolicy};
/// let egress = Egress::new(
///     EgressPolicy::new()
///         .allow_host("api.example.com")
///         .allow_host("*.githubusercontent.com")
///         .inject_header("api.example.com", "authorization", "Bearer sk-...")
///         .timeout(Duration::from_secs(10)),
/// )?;
/// # Ok::<(), isola_egress::PolicyError>(())
/// ```
///
/// What it does, and what it does not:
/// - **Hosts.** An empty allow-list means any public host. Patterns are a
///   host name (`api.example.com`), a wildcard (`*.example.com`, which
///   matches subdomains but not `example.com` itself) or an IP address.
///   They are normalised like URLs (lower case, IDN to punycode, trailing
///   dot dropped). The deny-list wins over the allow-list;
///   `localhost`, `*.localhost`, `metadata` and `metadata.google.internal`
///   are always denied.
/// - **Ports.** 80 and 443 unless [`allow_port`](Self::allow_port) adds more.
/// - **Addresses (SSRF guard, always on).** Every address a name resolves
///   to must be public unicast, or the fetch is refused (one bad answer
///   refuses it: a mixed answer is an attack more often than a
///   misconfiguration). The connection goes to exactly the checked
///   addresses; there is no second lookup.
/// - **Private hosts** are reachable only by name, through
///   [`allow_private_host`](Self::allow_private_host). The opt-in matches
///   the URL's host name, never an address, so `127.1` or `2130706433`
///   stay refused. Cloud metadata, unspecified, multicast and broadcast
///   addresses stay refused even then.
/// - **Caps** (per [`crate::Egress`]): concurrent fetches (default 6; more
///   wait their turn, and the wait counts against the fetch's time), response
///   body bytes (default 16 MiB; the fetch fails once a body goes past it,
///   nothing more is read), total time per fetch including redirects and
///   waiting (default 30 s), connect time per hop (default 10 s), redirects
///   (default 20, as in the Fetch standard).
/// - **Not covered:** HTTP/2 and HTTP/3 (requests are HTTP/1.1), proxies
///   (`HTTP_PROXY` and friends are ignored on purpose), cookies, caching,
///   response decompression (`accept-encoding: identity` is sent unless the
///   guest sets its own), connection reuse (one connection per hop).
#[derive(Clone)]
pub struct EgressPolicy {
    allow: Vec<String>,
    deny: Vec<String>,
    ports: Vec<u16>,
    private_hosts: Vec<(String, Option<u16>)>,
    injected: Vec<(String, String, String)>,
    max_concurrent_fetches: usize,
    max_response_bytes: usize,
    timeout: Duration,
    connect_timeout: Duration,
    max_redirects: u32,
    resolver: Arc<dyn Resolve>,
    extra_roots: Vec<Vec<u8>>,
}

impl Default for EgressPolicy {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for EgressPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Injected header values are secrets: only their hosts and names.
        let injected: Vec<_> = self
            .injected
            .iter()
            .map(|(host, name, _)| format!("{host}: {name}"))
            .collect();
        f.debug_struct("EgressPolicy")
            .field("allow", &self.allow)
            .field("deny", &self.deny)
            .field("ports", &self.ports)
            .field("private_hosts", &self.private_hosts)
            .field("injected", &injected)
            .field("max_concurrent_fetches", &self.max_concurrent_fetches)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_redirects", &self.max_redirects)
            .field("extra_roots", &self.extra_roots.len())
            .finish_non_exhaustive()
    }
}

impl EgressPolicy {
    /// Any public host on ports 80 and 443, with the default caps and the
    /// system resolver.
    pub fn new() -> Self {
        Self {
            allow: Vec::new(),
            deny: Vec::new(),
            ports: vec![80, 443],
            private_hosts: Vec::new(),
            injected: Vec::new(),
            max_concurrent_fetches: 6,
            max_response_bytes: 16 << 20,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_redirects: 20,
            resolver: Arc::new(SystemResolver),
            extra_roots: Vec::new(),
        }
    }

    /// Adds a host pattern to the allow-list. Once the list is non-empty,
    /// only its hosts (and opted-in private hosts) are reachable.
    #[must_use]
    pub fn allow_host(mut self, pattern: impl Into<String>) -> Self {
        self.allow.push(pattern.into());
        self
    }

    /// Adds a host pattern to the deny-list, which wins over everything.
    #[must_use]
    pub fn deny_host(mut self, pattern: impl Into<String>) -> Self {
        self.deny.push(pattern.into());
        self
    }

    /// Allows a port besides 80 and 443, for every allowed host.
    #[must_use]
    pub fn allow_port(mut self, port: u16) -> Self {
        self.ports.push(port);
        self
    }

    /// Lets the guest reach a host name whose addresses are not public
    /// (loopback, RFC 1918, link-local, CGNAT, unique-local, reserved), e.g.
    /// `internal.corp`. With `port: Some(p)` the opt-in holds only on port
    /// `p`, which is then allowed for this host even if not listed with
    /// [`allow_port`](Self::allow_port); with `None`, on the allowed ports.
    /// Where the opt-in holds, the name needs no allow-list entry. It must
    /// be a domain name: IP literals are rejected by [`crate::Egress::new`].
    #[must_use]
    pub fn allow_private_host(mut self, name: impl Into<String>, port: Option<u16>) -> Self {
        self.private_hosts.push((name.into(), port));
        self
    }

    /// Adds a header to every request hop whose host matches `host_pattern`,
    /// after the guest's headers (replacing a guest header of the same
    /// name), for credentials the guest must not see. It is never sent after
    /// a redirect has crossed to another origin (scheme, host or port), and
    /// a response that echoes the value verbatim has it replaced by
    /// `[redacted]` in headers and body before the guest sees it (a redirect
    /// whose location carries it is refused). That is a
    /// backstop, not a guarantee: an upstream can echo it transformed, so
    /// inject secrets only for hosts you trust with them. It is sent over
    /// plain `http:` too if the policy lets that URL through.
    #[must_use]
    pub fn inject_header(
        mut self,
        host_pattern: impl Into<String>,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.injected
            .push((host_pattern.into(), name.into(), value.into()));
        self
    }

    /// At most this many fetches of one [`crate::Egress`] in flight; more
    /// wait (their wait counts against [`timeout`](Self::timeout)).
    #[must_use]
    pub fn max_concurrent_fetches(mut self, n: usize) -> Self {
        self.max_concurrent_fetches = n;
        self
    }

    /// The largest response body a fetch may return.
    #[must_use]
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// The total time of one fetch: waiting for a slot, every hop's
    /// resolution, connection, request and response body.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The time to connect (TCP and TLS) on each hop.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How many redirects a fetch follows; one more is an error. Zero
    /// makes every redirect an error.
    #[must_use]
    pub fn max_redirects(mut self, n: u32) -> Self {
        self.max_redirects = n;
        self
    }

    /// The resolver for host names (default: the system's).
    #[must_use]
    pub fn resolver(mut self, resolver: Arc<dyn Resolve>) -> Self {
        self.resolver = resolver;
        self
    }

    /// Trusts a root certificate (DER) besides the Mozilla roots of
    /// `webpki-roots`, e.g. the private CA of an opted-in internal service.
    /// It is trusted for every host the policy lets through.
    #[must_use]
    pub fn add_root_certificate(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.extra_roots.push(der.into());
        self
    }

    pub(crate) fn compile(self) -> Result<Rules, PolicyError> {
        let patterns = |list: Vec<String>| -> Result<Vec<HostPattern>, PolicyError> {
            list.into_iter().map(|p| HostPattern::parse(&p)).collect()
        };
        let mut private_hosts = Vec::with_capacity(self.private_hosts.len());
        for (name, port) in self.private_hosts {
            match HostPattern::parse(&name)? {
                HostPattern::Exact(HostKey::Domain(domain)) => private_hosts.push((domain, port)),
                _ => return Err(PolicyError::PrivateHost(name)),
            }
        }
        let mut injected = Vec::with_capacity(self.injected.len());
        for (host, name, value) in self.injected {
            let name = name.to_ascii_lowercase();
            if !is_token(&name) || !valid_value(&value) {
                return Err(PolicyError::InjectedHeader(name));
            }
            injected.push(Injected {
                host: HostPattern::parse(&host)?,
                name,
                value,
            });
        }
        for (what, n) in [
            ("max_concurrent_fetches", self.max_concurrent_fetches),
            ("max_response_bytes", self.max_response_bytes),
        ] {
            if n == 0 {
                return Err(PolicyError::ZeroLimit(what));
            }
        }
        if self.timeout.is_zero() {
            return Err(PolicyError::ZeroLimit("timeout"));
        }
        if self.connect_timeout.is_zero() {
            return Err(PolicyError::ZeroLimit("connect_timeout"));
        }
        Ok(Rules {
            allow: patterns(self.allow)?,
            deny: patterns(self.deny)?,
            ports: self.ports,
            private_hosts,
            injected,
            max_concurrent_fetches: self.max_concurrent_fetches,
            max_response_bytes: self.max_response_bytes,
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            max_redirects: self.max_redirects,
            resolver: self.resolver,
            extra_roots: self.extra_roots,
        })
    }
}

/// A URL's host in the form patterns are compared in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostKey {
    /// Lower case, punycode, no trailing dot.
    Domain(String),
    Ip(IpAddr),
}

impl HostKey {
    fn of<S: AsRef<str>>(host: Host<S>) -> Option<Self> {
        match host {
            Host::Domain(d) => {
                let d = d.as_ref().trim_end_matches('.');
                (!d.is_empty()).then(|| HostKey::Domain(d.to_ascii_lowercase()))
            }
            Host::Ipv4(ip) => Some(HostKey::Ip(IpAddr::V4(ip))),
            Host::Ipv6(ip) => Some(HostKey::Ip(IpAddr::V6(ip))),
        }
    }
}

impl fmt::Display for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostKey::Domain(d) => f.write_str(d),
            HostKey::Ip(IpAddr::V4(ip)) => write!(f, "{ip}"),
            HostKey::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostPattern {
    Exact(HostKey),
    /// `*.suffix`: any name ending in `.suffix`.
    Subdomains(String),
}

impl HostPattern {
    pub(crate) fn parse(pattern: &str) -> Result<Self, PolicyError> {
        let invalid = || PolicyError::HostPattern(pattern.to_owned());
        if let Some(suffix) = pattern.strip_prefix("*.") {
            return match Host::parse(suffix).ok().and_then(HostKey::of) {
                Some(HostKey::Domain(d)) => Ok(HostPattern::Subdomains(d)),
                _ => Err(invalid()),
            };
        }
        // Parsed as the URL parser parses hosts, so a pattern and a URL
        // spelling the same host compare equal.
        let host = Host::parse(pattern).map_err(|_| invalid())?;
        HostKey::of(host)
            .map(HostPattern::Exact)
            .ok_or_else(invalid)
    }

    pub(crate) fn matches(&self, key: &HostKey) -> bool {
        match (self, key) {
            (HostPattern::Exact(k), key) => k == key,
            (HostPattern::Subdomains(suffix), HostKey::Domain(d)) => d
                .strip_suffix(suffix.as_str())
                .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.')),
            (HostPattern::Subdomains(_), HostKey::Ip(_)) => false,
        }
    }
}

pub(crate) struct Injected {
    pub(crate) host: HostPattern,
    pub(crate) name: String,
    pub(crate) value: String,
}

/// A validated policy.
pub(crate) struct Rules {
    allow: Vec<HostPattern>,
    deny: Vec<HostPattern>,
    ports: Vec<u16>,
    private_hosts: Vec<(String, Option<u16>)>,
    pub(crate) injected: Vec<Injected>,
    pub(crate) max_concurrent_fetches: usize,
    pub(crate) max_response_bytes: usize,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_redirects: u32,
    pub(crate) resolver: Arc<dyn Resolve>,
    pub(crate) extra_roots: Vec<Vec<u8>>,
}

impl fmt::Debug for Rules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rules")
            .field("allow", &self.allow)
            .field("deny", &self.deny)
            .field("ports", &self.ports)
            .field("private_hosts", &self.private_hosts)
            .field("injected", &self.injected.len())
            .finish_non_exhaustive()
    }
}

/// One hop's destination after the URL checks, before resolution.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) host: HostKey,
    pub(crate) port: u16,
    pub(crate) tls: bool,
    /// The host is opted in by name: non-public addresses are allowed.
    pub(crate) private_ok: bool,
}

impl Rules {
    /// The URL checks of one hop: scheme, credentials, host lists, port.
    pub(crate) fn target(&self, url: &Url) -> Result<Target, EgressError> {
        let tls = match url.scheme() {
            "https" => true,
            "http" => false,
            other => return Err(EgressError::Scheme(other.to_owned())),
        };
        // The guest's URL class rejects these too; a URL carrying them is
        // confusion (`http://allowed@evil/`), never a need: refuse.
        if !url.username().is_empty() || url.password().is_some() {
            return Err(EgressError::Credentials);
        }
        let host = url
            .host()
            .and_then(HostKey::of)
            .ok_or(EgressError::InvalidUrl)?;
        let name = host.to_string();
        if self.is_denied(&host) {
            return Err(EgressError::HostDenied(name));
        }
        let port = url.port_or_known_default().ok_or(EgressError::InvalidUrl)?;
        let private = match &host {
            HostKey::Domain(d) => self
                .private_hosts
                .iter()
                .filter(|(n, _)| n == d)
                .map(|(_, p)| *p)
                .collect::<Vec<_>>(),
            HostKey::Ip(_) => Vec::new(),
        };
        let port_ok = private.contains(&Some(port)) || self.ports.contains(&port);
        if port == 0 || !port_ok {
            return Err(EgressError::Port { host: name, port });
        }
        // An opt-in that holds on this port is also an allow-list entry.
        let private_ok = private.iter().any(|p| p.is_none_or(|p| p == port));
        if !private_ok && !self.allow.is_empty() && !self.allow.iter().any(|p| p.matches(&host)) {
            return Err(EgressError::HostNotAllowed(name));
        }
        Ok(Target {
            host,
            port,
            tls,
            private_ok,
        })
    }

    fn is_denied(&self, host: &HostKey) -> bool {
        if let HostKey::Domain(d) = host
            && (BUILT_IN_DENIED.contains(&d.as_str()) || d.ends_with(".localhost"))
        {
            return true;
        }
        self.deny.iter().any(|p| p.matches(host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(policy: EgressPolicy) -> Rules {
        policy.compile().expect("valid policy")
    }

    fn check(rules: &Rules, url: &str) -> Result<Target, String> {
        let url = Url::parse(url).map_err(|e| format!("parse: {e}"))?;
        rules.target(&url).map_err(|e| e.to_string())
    }

    #[test]
    fn patterns_normalise_like_urls() {
        let p = HostPattern::parse("API.Example.COM.").expect("valid");
        assert_eq!(
            p,
            HostPattern::Exact(HostKey::Domain("api.example.com".into()))
        );
        let p = HostPattern::parse("bücher.example").expect("valid");
        assert_eq!(
            p,
            HostPattern::Exact(HostKey::Domain("xn--bcher-kva.example".into()))
        );
        assert!(HostPattern::parse("*.example.com").is_ok());
        assert!(HostPattern::parse("*.127.0.0.1").is_err());
        assert!(HostPattern::parse("http://x/").is_err());
        assert!(HostPattern::parse("").is_err());
        assert!(HostPattern::parse("[::1]").is_ok());
    }

    #[test]
    fn wildcards_match_subdomains_only() {
        let p = HostPattern::parse("*.example.com").expect("valid");
        let d = |s: &str| HostKey::Domain(s.into());
        assert!(p.matches(&d("a.example.com")));
        assert!(p.matches(&d("a.b.example.com")));
        assert!(!p.matches(&d("example.com")));
        assert!(!p.matches(&d("badexample.com")));
        assert!(!p.matches(&d("example.com.evil")));
    }

    #[test]
    fn schemes_credentials_and_ports() {
        let r = rules(EgressPolicy::new().allow_port(8080));
        for url in [
            "file:///etc/passwd",
            "ftp://example.com/",
            "data:text/plain,hi",
            "javascript:alert(1)",
            "ws://example.com/",
            "wss://example.com/",
            "blob:https://example.com/x",
            "gopher://example.com/",
        ] {
            let e = check(&r, url).expect_err(url);
            assert!(e.contains("is not allowed, only http: and https:"), "{e}");
        }
        let e = check(&r, "http://user:pw@example.com/").expect_err("creds");
        assert!(e.contains("credentials"), "{e}");
        let e = check(&r, "http://allowed.test@127.0.0.1/").expect_err("creds");
        assert!(e.contains("credentials"), "{e}");
        for port in [22, 25, 0, 8081, 6379] {
            let e = check(&r, &format!("http://example.com:{port}/")).expect_err("port");
            assert_eq!(
                e,
                format!(
                    "fetch to example.com refused: port {port} is not allowed (isola egress policy)"
                )
            );
        }
        assert!(Url::parse("http://example.com:65536/").is_err());
        for ok in [
            "http://example.com/",
            "https://example.com/",
            "http://example.com:8080/",
        ] {
            assert!(check(&r, ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn allow_and_deny_lists() {
        let r = rules(
            EgressPolicy::new()
                .allow_host("api.example.com")
                .allow_host("*.cdn.example")
                .deny_host("bad.cdn.example"),
        );
        assert!(check(&r, "https://api.example.com/").is_ok());
        assert!(check(&r, "https://API.example.com./x").is_ok());
        assert!(check(&r, "https://img.cdn.example/").is_ok());
        let e = check(&r, "https://bad.cdn.example/").expect_err("denied");
        assert_eq!(
            e,
            "fetch to bad.cdn.example refused: the host is denied (isola egress policy)"
        );
        let e = check(&r, "https://other.example.com/").expect_err("not allowed");
        assert_eq!(
            e,
            "fetch to other.example.com refused: the host is not on the allow-list (isola egress policy)"
        );
        // A Cyrillic "а" is another host, whatever it looks like.
        let e = check(&r, "https://\u{430}pi.example.com/").expect_err("homograph");
        assert!(e.contains("xn--"), "{e}");
        assert!(e.contains("not on the allow-list"), "{e}");
        // Backslashes and tabs are normalised as the guest's URL does.
        let e = check(&r, "http://127.0.0.1\\@api.example.com/").expect_err("confusion");
        assert!(e.starts_with("fetch to 127.0.0.1 refused"), "{e}");
        assert!(check(&r, "https://api.exa\tmple.com/").is_ok());
    }

    #[test]
    fn built_in_denials_win() {
        let r = rules(EgressPolicy::new().allow_host("localhost"));
        for url in [
            "http://localhost/",
            "http://LOCALHOST./",
            "http://a.localhost/",
            "http://metadata/",
            "http://metadata.google.internal/",
            "http://metadata.google.internal./computeMetadata/v1/",
        ] {
            let e = check(&r, url).expect_err(url);
            assert!(e.contains("the host is denied"), "{url}: {e}");
        }
    }

    #[test]
    fn private_opt_in_is_by_name_and_port() {
        let r = rules(
            EgressPolicy::new()
                .allow_host("api.example.com")
                .allow_private_host("upstream.test", Some(8123))
                .allow_private_host("internal.corp", None),
        );
        let t = check(&r, "http://upstream.test:8123/").expect("opted in");
        assert!(t.private_ok);
        let e = check(&r, "http://upstream.test:8124/").expect_err("other port");
        assert!(e.contains("port 8124 is not allowed"), "{e}");
        // On another allowed port the opt-in does not hold, and the name is
        // not on the allow-list.
        let e = check(&r, "http://upstream.test/").expect_err("not opted in on 80");
        assert!(e.contains("not on the allow-list"), "{e}");
        let open = rules(EgressPolicy::new().allow_private_host("upstream.test", Some(8123)));
        let t = check(&open, "http://upstream.test/").map(|t| t.private_ok);
        assert_eq!(t.ok(), Some(false));
        assert!(check(&r, "https://internal.corp/").expect("ok").private_ok);
        assert!(
            !check(&r, "https://api.example.com/")
                .expect("ok")
                .private_ok
        );
        for ip in ["127.0.0.1", "127.1", "[::1]", "10.0.0.1"] {
            assert!(matches!(
                EgressPolicy::new().allow_private_host(ip, None).compile(),
                Err(PolicyError::PrivateHost(_))
            ));
        }
    }

    #[test]
    fn invalid_policies_are_reported() {
        assert!(matches!(
            EgressPolicy::new().allow_host("a b").compile(),
            Err(PolicyError::HostPattern(_))
        ));
        assert!(matches!(
            EgressPolicy::new()
                .inject_header("a.test", "x-key", "v\r\nx: y")
                .compile(),
            Err(PolicyError::InjectedHeader(_))
        ));
        assert!(matches!(
            EgressPolicy::new()
                .inject_header("a.test", "bad name", "v")
                .compile(),
            Err(PolicyError::InjectedHeader(_))
        ));
        assert!(matches!(
            EgressPolicy::new().max_response_bytes(0).compile(),
            Err(PolicyError::ZeroLimit(_))
        ));
    }

    #[test]
    fn debug_does_not_print_injected_values() {
        let p = EgressPolicy::new().inject_header("a.test", "authorization", "Bearer sk-secret");
        let shown = format!("{p:?}");
        assert!(shown.contains("authorization"), "{shown}");
        assert!(!shown.contains("sk-secret"), "{shown}");
    }
}
