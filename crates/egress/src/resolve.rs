//! Name resolution, pluggable so hosts can use their own resolver and tests
//! can simulate DNS answers (rebinding, names that point inwards).

use std::fmt;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;

/// The future a [`Resolve`] returns.
pub type Resolving<'a> = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send + 'a>>;

/// Turns a host name into addresses. Egress calls it exactly once per
/// request hop, checks every address it returns, and connects only to
/// those addresses: whatever it answers next time changes nothing for a
/// hop already checked.
pub trait Resolve: Send + Sync + 'static {
    /// The addresses of `name` (a lower-case domain without a trailing
    /// dot; never an IP literal). An empty list means "no such host".
    fn resolve<'a>(&'a self, name: &'a str) -> Resolving<'a>;
}

/// The operating system's resolver, through `tokio::net::lookup_host`.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve<'a>(&'a self, name: &'a str) -> Resolving<'a> {
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((name, 0)).await?;
            Ok(addrs.map(|addr| addr.ip()).collect())
        })
    }
}

struct FnResolver<F>(F);

impl<F, Fut> Resolve for FnResolver<F>
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = io::Result<Vec<IpAddr>>> + Send + 'static,
{
    fn resolve<'a>(&'a self, name: &'a str) -> Resolving<'a> {
        Box::pin((self.0)(name.to_owned()))
    }
}

impl<F> fmt::Debug for FnResolver<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnResolver(..)")
    }
}

/// A resolver from an async closure `name -> io::Result<Vec<IpAddr>>`.
///
/// ```
/// use std::net::{IpAddr, Ipv4Addr};
/// let resolver = isola_egress::resolve_fn(|name| async move {
///     Ok(if name == "api.internal.test" { vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7))] } else { vec![] })
/// });
/// let policy = isola_egress::EgressPolicy::new().resolver(resolver);
/// ```
pub fn resolve_fn<F, Fut>(f: F) -> Arc<dyn Resolve>
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = io::Result<Vec<IpAddr>>> + Send + 'static,
{
    Arc::new(FnResolver(f))
}
