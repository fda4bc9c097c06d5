//! A deadline on reading a request body: a client that sends its headers and then trickles the body (or stops)
//! would otherwise hold a connection, a handler and its buffers for as long as it likes. The header read timeout
//! covers the head; this covers the rest. Handlers see an error frame once the deadline has passed, which they
//! answer like any other failed body read.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// Why a body read ended early.
#[derive(Debug, thiserror::Error)]
#[error("request body not received within {0:?} (server.body_read_timeout)")]
pub struct BodyDeadlineExceeded(pub Duration);

/// A body that fails once `limit` has passed since the request started.
pub struct DeadlineBody<B> {
    inner: Pin<Box<B>>,
    sleep: Pin<Box<Sleep>>,
    limit: Duration,
}

impl<B> DeadlineBody<B> {
    /// Wraps `inner`; the clock starts now.
    pub fn new(inner: B, limit: Duration) -> Self {
        DeadlineBody {
            inner: Box::pin(inner),
            sleep: Box::pin(tokio::time::sleep_until(Instant::now() + limit)),
            limit,
        }
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = this.inner.as_mut().poll_frame(cx) {
            return Poll::Ready(frame.map(|r| r.map_err(Into::into)));
        }
        if this.sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(BodyDeadlineExceeded(this.limit)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    /// Sends one chunk, then nothing, forever.
    struct Stalled(bool);

    impl Body for Stalled {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            if self.0 {
                return Poll::Pending;
            }
            self.0 = true;
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"part")))))
        }
    }

    #[tokio::test]
    async fn a_stalled_body_fails_at_the_deadline_and_a_prompt_one_passes() {
        let body = DeadlineBody::new(Stalled(false), Duration::from_millis(100));
        let err = body.collect().await.expect_err("deadline");
        assert!(
            err.to_string().contains("server.body_read_timeout"),
            "{err}"
        );

        let body = DeadlineBody::new(
            http_body_util::Full::new(Bytes::from_static(b"whole")),
            Duration::from_secs(5),
        );
        assert_eq!(body.collect().await.unwrap().to_bytes(), "whole");
    }
}
