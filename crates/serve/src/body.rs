//! Response bodies: whole (isola's own answers) or streamed from the
//! parent's Response as it produces it.

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use isola_runtime::{Outcome, ResponseStream};

/// What the server sends.
pub(crate) type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// A body held whole.
pub(crate) fn full(bytes: Vec<u8>) -> Body {
    Full::new(Bytes::from(bytes))
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// The parent's Response body, chunk by chunk. A run that did not hand
/// over its whole body (it threw, a limit fired) ends the body with an
/// error, so the client sees a truncated response rather than a
/// complete-looking one. hyper drops a body without polling it to its end
/// once `content-length` bytes are written (or none, for an empty body),
/// and when the client goes away: the stream goes with it and the guest's
/// further writes fail. (Console lines are logged as they are written, see
/// `App::fetch`, so nothing waits for the run to forward them.)
pub(crate) fn streamed(stream: ResponseStream, method: String, url: String) -> Body {
    let length = stream.body_length();
    let chunks = futures_util::stream::unfold(Some(stream), move |stream| {
        let (method, url) = (method.clone(), url.clone());
        async move {
            let mut stream = stream?;
            if let Some(chunk) = stream.next_chunk().await {
                return Some((Ok(Frame::data(Bytes::from(chunk))), Some(stream)));
            }
            let run = stream.finish().await;
            if run.outcome == Outcome::Streamed {
                return None;
            }
            let reason = run.outcome.message().unwrap_or_default();
            tracing::error!(%method, %url, outcome = run.outcome.kind().as_str(), %reason, "the response body ended early");
            Some((
                Err(std::io::Error::other(format!(
                    "the worker failed mid-response: {reason}"
                ))),
                None,
            ))
        }
    });
    let body = StreamBody::new(Box::pin(chunks));
    match length {
        // A known length goes out as `content-length`, not chunked.
        Some(length) => Sized { body, length }.boxed_unsync(),
        None => body.boxed_unsync(),
    }
}

/// A streamed body whose length is known: hyper frames it with
/// `content-length`. The worker's bytes were counted by the engine, not
/// taken from a header the guest set.
struct Sized<B> {
    body: B,
    length: u64,
}

impl<B> hyper::body::Body for Sized<B>
where
    B: hyper::body::Body + Unpin,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.length)
    }
}
