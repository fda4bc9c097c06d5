//! Lookout's wire codecs: pure functions from bytes to model types and back, with no I/O and no runtime.
//!
//! - [`exposition`]: the Prometheus text format and OpenMetrics parser (scrapes, imports) and the text writer
//!   (`/federate`, `/metrics`).
//! - [`body`]: capped decompression of request and response bodies (gzip, deflate, snappy).
//! - [`loki`]: Loki's push protobuf.
//! - [`remote_write`]: remote_write 1.0 and 2.0 decoding into validated label sets, and encoders for senders.
//!
//! Architecture invariant: this crate depends only on `lookout-model` and codec libraries; the scraper and the
//! HTTP layer call it. Every size a client controls is capped before memory is allocated for it.

pub mod body;
pub mod exposition;
pub mod loki;
pub mod loki_json;
pub mod remote_write;

pub use body::{BodyError, decode_body};

pub use exposition::{
    Format, MetricKind, MetricMetadata, ParseError, ParseOptions, ParseStats, ParsedSample, Parser,
    parse, parse_import,
};
