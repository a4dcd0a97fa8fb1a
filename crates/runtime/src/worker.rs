//! Handles to a running worker and its entrypoints.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use isola_engine::{CallKind, HttpRequest, HttpResponse, LogEntry, Value};
use tokio::sync::{mpsc, oneshot};

use crate::config::Limits;
use crate::driver::{CallRequest, LogSink, ResponseSink};
use crate::outcome::{Outcome, Run};

pub(crate) struct WorkerInner {
    pub(crate) calls: mpsc::UnboundedSender<CallRequest>,
    pub(crate) memory: Arc<AtomicUsize>,
    /// The executor thread its driver runs on.
    pub(crate) executor: usize,
}

/// A loaded worker. Calls through the same `Worker` (and its clones) share
/// one isolate and its module state; the isolate is disposed when the last
/// clone is dropped and its in-flight work (including `ctx.waitUntil`) ends.
#[derive(Clone)]
pub struct Worker {
    pub(crate) inner: Arc<WorkerInner>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("memory_bytes", &self.memory_bytes())
            .finish()
    }
}

impl Worker {
    /// The executor thread this worker runs on: a front end that serves
    /// the worker's requests there ([`crate::Loader::run_on`]) saves a
    /// thread hop each way.
    pub fn executor(&self) -> usize {
        self.inner.executor
    }

    /// The default export (`None`) or a named export as an entrypoint.
    /// Resolution is lazy: an unknown name fails at call time, as on
    /// Cloudflare.
    pub fn entrypoint(&self, name: Option<&str>) -> Entrypoint {
        Entrypoint {
            worker: self.clone(),
            name: name.filter(|n| *n != "default").map(str::to_owned),
            props: Value::Undefined,
            limits: None,
            log_sink: None,
        }
    }

    /// Engine heap bytes the worker's isolate holds (0 if none is live).
    pub fn memory_bytes(&self) -> usize {
        self.inner.memory.load(Ordering::Relaxed)
    }
}

/// An entrypoint of a worker, with the props and limits its calls carry.
#[derive(Clone)]
pub struct Entrypoint {
    worker: Worker,
    name: Option<String>,
    props: Value,
    limits: Option<Limits>,
    log_sink: Option<LogSink>,
}

impl std::fmt::Debug for Entrypoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entrypoint")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Entrypoint {
    /// `ctx.props` for calls through this entrypoint.
    #[must_use]
    pub fn props(mut self, props: impl Into<Value>) -> Self {
        self.props = props.into();
        self
    }

    /// Lowers the limits of calls through this entrypoint.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// Streams console lines to `sink` as the guest writes them (they are
    /// also returned in [`Run::logs`]).
    #[must_use]
    pub fn on_log(mut self, sink: impl Fn(&LogEntry) + Send + Sync + 'static) -> Self {
        self.log_sink = Some(Arc::new(sink));
        self
    }

    /// Calls `method` with one argument (as a plain-object handler needs).
    pub async fn call(&self, method: &str, arg: impl Into<Value>) -> Run {
        self.call_with(method, vec![arg.into()]).await
    }

    /// Calls `method` with any number of arguments (for `WorkerEntrypoint`
    /// classes).
    pub async fn call_with(&self, method: &str, args: Vec<Value>) -> Run {
        self.send(CallKind::Rpc {
            method: method.to_owned(),
            args,
        })
        .await
    }

    /// Calls the entrypoint's `fetch(request, env, ctx)` handler; a
    /// successful run ends in [`Outcome::Responded`].
    pub async fn fetch(&self, request: HttpRequest) -> Run {
        self.send(CallKind::Fetch(request)).await
    }

    /// Calls the entrypoint's `fetch` handler and streams its Response:
    /// the head as soon as the handler returns, then the body chunk by
    /// chunk as the guest produces it (a slow reader holds the guest back).
    ///
    /// With `body`, the request's own `body` is ignored: the guest reads
    /// the request body from `body` as it arrives (and a slow guest holds
    /// the sender back).
    pub fn fetch_streaming(
        &self,
        request: HttpRequest,
        body: Option<RequestBody>,
    ) -> ResponseStream {
        let (head_tx, head) = oneshot::channel();
        let (chunks_tx, chunks) = mpsc::channel(STREAM_CHUNKS_IN_FLIGHT);
        let (reply, run) = oneshot::channel();
        let sink = ResponseSink {
            head: Some(head_tx),
            chunks: chunks_tx,
            remaining: None,
        };
        self.submit(CallKind::Fetch(request), reply, Some(sink), body);
        ResponseStream {
            head,
            chunks,
            run,
            length: None,
        }
    }

    pub(crate) async fn send(&self, kind: CallKind) -> Run {
        let (reply, response) = oneshot::channel();
        if !self.submit(kind, reply, None, None) {
            return internal("the worker's executor thread has stopped");
        }
        response
            .await
            .unwrap_or_else(|_| internal("the worker stopped before answering"))
    }

    /// Sends a call to the worker's driver; false if it has stopped.
    fn submit(
        &self,
        kind: CallKind,
        reply: oneshot::Sender<Run>,
        stream: Option<ResponseSink>,
        request_body: Option<RequestBody>,
    ) -> bool {
        let request = CallRequest {
            entrypoint: self.name.clone(),
            kind,
            props: self.props.clone(),
            limits: self.limits.unwrap_or(Limits {
                cpu_ms: u64::MAX,
                memory_bytes: usize::MAX,
                wall_ms: u64::MAX / 4,
                subrequests: u32::MAX,
                output_bytes: usize::MAX,
                log_bytes: usize::MAX,
            }),
            log_sink: self.log_sink.clone(),
            reply,
            stream,
            request_body,
        };
        self.worker.inner.calls.send(request).is_ok()
    }
}

/// A request body still arriving, for [`Entrypoint::fetch_streaming`]:
/// chunks in order, or an error the guest's read rejects with (a
/// `TypeError` with that message), then the end (the sender dropped).
#[derive(Debug)]
pub struct RequestBody(mpsc::Receiver<Result<Vec<u8>, String>>);

impl RequestBody {
    /// A body and the sender that feeds it; at most `capacity` chunks wait
    /// for the guest.
    pub fn channel(capacity: usize) -> (mpsc::Sender<Result<Vec<u8>, String>>, Self) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (tx, Self(rx))
    }

    pub(crate) async fn next(&mut self) -> Option<Result<Vec<u8>, String>> {
        self.0.recv().await
    }
}

/// Body chunks a streamed Response may have waiting for the reader.
const STREAM_CHUNKS_IN_FLIGHT: usize = 4;

/// A streamed `fetch` in flight ([`Entrypoint::fetch_streaming`]).
#[derive(Debug)]
pub struct ResponseStream {
    head: oneshot::Receiver<(HttpResponse, Option<u64>)>,
    chunks: mpsc::Receiver<Vec<u8>>,
    run: oneshot::Receiver<Run>,
    length: Option<u64>,
}

impl ResponseStream {
    /// The Response's status and headers (with an empty `body`), or the
    /// run if the call ended without a Response (it threw, a limit fired).
    ///
    /// Only the head channel decides: the driver sends a head before the
    /// call's run and drops the sink (closing this channel) whenever a call
    /// ends, so a run that is already here says nothing about whether a
    /// head is on its way. Racing the two lost heads that arrived between
    /// polling one channel and the other.
    pub async fn head(&mut self) -> Result<HttpResponse, Run> {
        match (&mut self.head).await {
            Ok((head, length)) => {
                self.length = length;
                Ok(head)
            }
            Err(_) => Err(self.finish_now().await),
        }
    }

    /// The body's length, once [`ResponseStream::head`] has answered, when
    /// it is known up front (the Response was made from bytes, not a
    /// stream).
    pub fn body_length(&self) -> Option<u64> {
        self.length
    }

    /// The next body chunk; `None` once the body has ended. Whether it
    /// ended complete is [`ResponseStream::finish`]'s outcome
    /// ([`Outcome::Streamed`]) — a limit or a throw mid-body ends it early.
    pub async fn next_chunk(&mut self) -> Option<Vec<u8>> {
        self.chunks.recv().await
    }

    /// Waits for the call's run (its logs and how it ended). Dropping the
    /// stream instead makes the guest's further writes fail.
    pub async fn finish(mut self) -> Run {
        self.finish_now().await
    }

    /// Stops reading the body (the guest's further writes fail, as when
    /// the stream is dropped) and waits for the call's run, for its logs.
    pub async fn abandon(self) -> Run {
        let Self { run, .. } = self;
        run.await
            .unwrap_or_else(|_| internal("the worker stopped before answering"))
    }

    async fn finish_now(&mut self) -> Run {
        (&mut self.run)
            .await
            .unwrap_or_else(|_| internal("the worker stopped before answering"))
    }
}

fn internal(message: &str) -> Run {
    Run {
        outcome: Outcome::Internal(message.to_owned()),
        logs: Vec::new(),
        stats: crate::Stats::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type HeadSender = oneshot::Sender<(HttpResponse, Option<u64>)>;

    fn stream() -> (ResponseStream, HeadSender, oneshot::Sender<Run>) {
        let (head_tx, head) = oneshot::channel();
        let (_chunks_tx, chunks) = mpsc::channel(1);
        let (run_tx, run) = oneshot::channel();
        let stream = ResponseStream {
            head,
            chunks,
            run,
            length: None,
        };
        (stream, head_tx, run_tx)
    }

    fn streamed() -> Run {
        Run {
            outcome: Outcome::Streamed,
            logs: Vec::new(),
            stats: crate::Stats::default(),
        }
    }

    /// What the server saw about once in 30 cold starts: the run is
    /// visible before the head that was sent ahead of it.
    #[tokio::test]
    async fn a_head_seen_after_its_run_is_not_lost() {
        let (mut stream, head_tx, run_tx) = stream();
        assert!(run_tx.send(streamed()).is_ok());
        let waiting = tokio::spawn(async move {
            let status = stream.head().await.map(|h| h.status).ok();
            (status, stream.body_length())
        });
        tokio::task::yield_now().await;
        assert!(
            head_tx
                .send((HttpResponse::new(201, Vec::new()), Some(2)))
                .is_ok()
        );
        assert_eq!(waiting.await.ok(), Some((Some(201), Some(2))));
    }

    #[tokio::test]
    async fn a_call_that_ends_without_a_head_gives_its_run() {
        let (mut stream, head_tx, run_tx) = stream();
        drop(head_tx);
        assert!(run_tx.send(streamed()).is_ok());
        let outcome = stream.head().await.err().map(|run| run.outcome);
        assert!(matches!(outcome, Some(Outcome::Streamed)));
    }
}
