//! Why a fetch did not happen or did not finish. Every variant becomes a
//! `TypeError` for the guest (what `fetch` rejects with in browsers and
//! workerd). Messages name the host the guest asked for and never carry
//! header values, resolved addresses of names, or anything of the host's.

use isola_engine::ErrorValue;

use crate::address::AddressClass;

/// The suffix of a refusal by the policy, so operators and guests can tell a
/// policy decision from a network failure.
const POLICY: &str = "(isola egress policy)";
const LIMIT: &str = "(isola egress limit)";

#[derive(Debug, thiserror::Error)]
pub(crate) enum EgressError {
    #[error("fetch refused: the URL is not valid {POLICY}")]
    InvalidUrl,
    #[error("fetch refused: the scheme \"{0}:\" is not allowed, only http: and https: {POLICY}")]
    Scheme(String),
    #[error("fetch refused: URLs with credentials (user:password@) are not allowed {POLICY}")]
    Credentials,
    #[error("fetch to {0} refused: the host is denied {POLICY}")]
    HostDenied(String),
    #[error("fetch to {0} refused: the host is not on the allow-list {POLICY}")]
    HostNotAllowed(String),
    #[error("fetch to {host} refused: port {port} is not allowed {POLICY}")]
    Port { host: String, port: u16 },
    #[error("fetch to {host} refused: it is {} {POLICY}", class.describe())]
    AddressLiteral { host: String, class: AddressClass },
    #[error("fetch to {host} refused: it resolves to {} {POLICY}", class.describe())]
    AddressResolved { host: String, class: AddressClass },
    #[error("fetch refused: the method is not a valid HTTP method {POLICY}")]
    Method,
    #[error("fetch refused: the method {0} is forbidden {POLICY}")]
    ForbiddenMethod(String),
    #[error("fetch refused: a header name is not a valid HTTP token {POLICY}")]
    HeaderName,
    #[error("fetch refused: the value of header {0} contains a forbidden character {POLICY}")]
    HeaderValue(String),
    #[error("fetch to {0} failed: the name could not be resolved")]
    Resolve(String),
    #[error("fetch to {host} failed: {reason}")]
    Connect { host: String, reason: &'static str },
    #[error("fetch to {host} failed: connecting took longer than {ms} ms {LIMIT}")]
    ConnectTimeout { host: String, ms: u128 },
    #[error("fetch to {host} failed: TLS: {reason}")]
    Tls { host: String, reason: String },
    #[error("fetch to {host} failed: {reason}")]
    Http { host: String, reason: String },
    #[error("fetch to {host} failed: the response body exceeds {limit} bytes {LIMIT}")]
    TooLarge { host: String, limit: usize },
    #[error("fetch failed: it took longer than {ms} ms {LIMIT}")]
    Timeout { ms: u128 },
    #[error("fetch failed: more than {0} redirects {LIMIT}")]
    TooManyRedirects(u32),
    #[error("fetch to {0} failed: the redirect location is not a valid URL")]
    BadRedirect(String),
    #[error("fetch to {0} refused: the redirect location carries an injected credential {POLICY}")]
    CredentialInRedirect(String),
    #[error(
        "fetch to {0} failed: the response is a redirect and the request's redirect mode is \"error\""
    )]
    RedirectRefused(String),
    #[error("fetch failed: egress is shut down")]
    ShutDown,
}

impl From<EgressError> for ErrorValue {
    fn from(error: EgressError) -> Self {
        ErrorValue::new("TypeError", error.to_string())
    }
}

/// An [`crate::EgressPolicy`] that cannot be enforced as written, reported
/// by [`crate::Egress::new`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A host pattern is not a host name, `*.` + a host name, or an IP
    /// address.
    #[error("invalid host pattern {0:?}")]
    HostPattern(String),
    /// `allow_private_host` takes a domain name: IP literals would let
    /// spellings like `127.1` through.
    #[error("allow_private_host takes a domain name, not {0:?}")]
    PrivateHost(String),
    /// An injected header's name is not an HTTP token or its value holds a
    /// control character (the value itself is not repeated here).
    #[error("injected header {0:?} has an invalid name or value")]
    InjectedHeader(String),
    /// The TLS client could not be set up (e.g. an extra root certificate
    /// is not a valid DER certificate).
    #[error("TLS could not be set up: {0}")]
    Tls(String),
    /// A cap is zero.
    #[error("{0} must be greater than zero")]
    ZeroLimit(&'static str),
}
