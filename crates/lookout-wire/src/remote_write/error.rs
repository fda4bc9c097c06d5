//! remote_write errors: what went wrong, where (series index and labels), and which limit was hit.

/// How the HTTP layer should answer an error: the classes map to 400, 413 and 415.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Malformed or invalid data that will never be accepted (400).
    Invalid,
    /// The request is larger than the configured limits allow (413).
    TooLarge,
    /// Unsupported content type or encoding (415).
    Unsupported,
}

/// Why a remote_write request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The `Content-Type` names another media type or an unknown protobuf message.
    #[error("unsupported content type {content_type:?} for remote write")]
    UnsupportedContentType {
        /// The header as received.
        content_type: String,
    },
    /// The `Content-Encoding` is not snappy.
    #[error("unsupported content encoding {encoding:?} for remote write (only snappy)")]
    UnsupportedEncoding {
        /// The header as received.
        encoding: String,
    },
    /// The decompressed body would exceed `max_decompressed_bytes`.
    #[error("decompressed body of {size} bytes exceeds max_decompressed_bytes = {limit}")]
    BodyTooLarge {
        /// The configured limit.
        limit: usize,
        /// The size the snappy header announces.
        size: usize,
    },
    /// The snappy block stream is corrupt.
    #[error("bad snappy body: {reason}")]
    BadSnappy {
        /// What the decoder reported.
        reason: String,
    },
    /// The decompressed bytes are not the expected protobuf message.
    #[error("bad protobuf: {reason}")]
    BadProtobuf {
        /// What the decoder reported.
        reason: String,
    },
    /// More series than `max_series_per_request`.
    #[error("request has {count} series, over max_series_per_request = {limit}")]
    TooManySeries {
        /// The configured limit.
        limit: usize,
        /// Series in the request.
        count: usize,
    },
    /// A series has more labels than `max_labels_per_series`.
    #[error("series {series} {labels} has {count} labels, over max_labels_per_series = {limit}")]
    TooManyLabels {
        /// Index of the series in the request.
        series: usize,
        /// The series' labels as sent (shortened).
        labels: String,
        /// The configured limit.
        limit: usize,
        /// Labels in the series.
        count: usize,
    },
    /// A label name is longer than `max_label_name_len`.
    #[error(
        "series {series} {labels}: label name of {len} bytes exceeds max_label_name_len = {limit}"
    )]
    LabelNameTooLong {
        /// Index of the series in the request.
        series: usize,
        /// The series' labels as sent (shortened).
        labels: String,
        /// The configured limit.
        limit: usize,
        /// The name's length in bytes.
        len: usize,
    },
    /// A label value is longer than `max_label_value_len`.
    #[error(
        "series {series} {labels}: value of label {name:?} has {len} bytes, over max_label_value_len = {limit}"
    )]
    LabelValueTooLong {
        /// Index of the series in the request.
        series: usize,
        /// The series' labels as sent (shortened).
        labels: String,
        /// The label whose value is too long.
        name: String,
        /// The configured limit.
        limit: usize,
        /// The value's length in bytes.
        len: usize,
    },
    /// A series' labels are invalid.
    #[error("invalid series {series} {labels}: {reason}")]
    InvalidSeries {
        /// Index of the series in the request.
        series: usize,
        /// The series' labels as sent (shortened).
        labels: String,
        /// What is wrong with them.
        reason: String,
    },
}

impl WireError {
    /// The [`super::WireLimits`] field a limit error refers to, `None` for other errors.
    pub fn limit_name(&self) -> Option<&'static str> {
        Some(match self {
            WireError::BodyTooLarge { .. } => "max_decompressed_bytes",
            WireError::TooManySeries { .. } => "max_series_per_request",
            WireError::TooManyLabels { .. } => "max_labels_per_series",
            WireError::LabelNameTooLong { .. } => "max_label_name_len",
            WireError::LabelValueTooLong { .. } => "max_label_value_len",
            _ => return None,
        })
    }

    /// The answer class: invalid data, too large, or unsupported.
    pub fn class(&self) -> ErrorClass {
        match self {
            WireError::UnsupportedContentType { .. } | WireError::UnsupportedEncoding { .. } => {
                ErrorClass::Unsupported
            }
            WireError::BodyTooLarge { .. } | WireError::TooManySeries { .. } => {
                ErrorClass::TooLarge
            }
            WireError::BadSnappy { .. }
            | WireError::BadProtobuf { .. }
            | WireError::TooManyLabels { .. }
            | WireError::LabelNameTooLong { .. }
            | WireError::LabelValueTooLong { .. }
            | WireError::InvalidSeries { .. } => ErrorClass::Invalid,
        }
    }
}

/// Longest rendering of a label set kept in an error message.
const MAX_RENDERED: usize = 256;

/// Renders raw label pairs as `{a="b", c="d"}` for error messages, lossy and shortened.
pub(crate) fn render_raw_labels<'a>(pairs: impl Iterator<Item = (&'a [u8], &'a [u8])>) -> String {
    let mut out = String::from("{");
    for (i, (name, value)) in pairs.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&String::from_utf8_lossy(name));
        out.push('=');
        out.push_str(&format!("{:?}", String::from_utf8_lossy(value)));
        if out.len() > MAX_RENDERED {
            let mut cut = MAX_RENDERED;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            out.push('…');
            break;
        }
    }
    out.push('}');
    out
}
