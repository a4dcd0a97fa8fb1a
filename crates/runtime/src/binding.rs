//! Host capabilities: bindings the guest calls through `env`, and the
//! handler that receives its outbound `fetch`es.

use std::future::Future;
use std::sync::Arc;

use isola_engine::{ErrorValue, HttpRequest, HttpResponse, Value};

/// A host object the guest reaches as `env.NAME`: every
/// `env.NAME.method(...args)` becomes one call here, with the arguments
/// structured-cloned, and the guest's promise settles with the result.
///
/// An `Err` rejects the guest's promise with an error of that class and
/// message; keep host paths and secrets out of it.
#[async_trait::async_trait]
pub trait Binding: Send + Sync + 'static {
    /// Handles `env.NAME.<method>(...args)`.
    async fn call(&self, method: &str, args: Vec<Value>) -> Result<Value, ErrorValue>;
}

/// Receives every global `fetch()` of a worker whose outbound is
/// [`crate::Outbound::Handler`]. This is where a host allow-lists, logs, or
/// adds credentials the guest never sees.
#[async_trait::async_trait]
pub trait OutboundHandler: Send + Sync + 'static {
    /// Handles one request; an `Err` makes the guest's `fetch` reject.
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, ErrorValue>;
}

struct FnBinding<F>(F);

#[async_trait::async_trait]
impl<F, Fut> Binding for FnBinding<F>
where
    F: Fn(String, Vec<Value>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, ErrorValue>> + Send + 'static,
{
    async fn call(&self, method: &str, args: Vec<Value>) -> Result<Value, ErrorValue> {
        (self.0)(method.to_owned(), args).await
    }
}

/// A binding from an async closure `(method, args) -> Result<Value, ErrorValue>`.
pub fn binding_fn<F, Fut>(f: F) -> Arc<dyn Binding>
where
    F: Fn(String, Vec<Value>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, ErrorValue>> + Send + 'static,
{
    Arc::new(FnBinding(f))
}

struct FnOutbound<F>(F);

#[async_trait::async_trait]
impl<F, Fut> OutboundHandler for FnOutbound<F>
where
    F: Fn(HttpRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<HttpResponse, ErrorValue>> + Send + 'static,
{
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, ErrorValue> {
        (self.0)(request).await
    }
}

/// An outbound handler from an async closure.
pub fn outbound_fn<F, Fut>(f: F) -> Arc<dyn OutboundHandler>
where
    F: Fn(HttpRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<HttpResponse, ErrorValue>> + Send + 'static,
{
    Arc::new(FnOutbound(f))
}
