//! Query results and annotations.

use lookout_model::{Labels, Sample};

/// A point value. Floats only today; native histograms will be a second variant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SampleValue {
    /// A float sample.
    Float(f64),
}

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSample {
    /// Labels of the series (may lack `__name__`).
    pub labels: Labels,
    /// Timestamp in ms.
    pub t: i64,
    /// The value.
    pub v: f64,
}

/// One series of a matrix (range-query result or range vector).
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixSeries {
    /// Labels of the series.
    pub labels: Labels,
    /// Points in time order.
    pub samples: Vec<Sample>,
}

/// The result of a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar at a time.
    Scalar {
        /// Timestamp in ms.
        t: i64,
        /// The value.
        v: f64,
    },
    /// A string at a time.
    String {
        /// Timestamp in ms.
        t: i64,
        /// The string.
        s: String,
    },
    /// An instant vector.
    Vector(Vec<VectorSample>),
    /// A range vector or range-query result.
    Matrix(Vec<MatrixSeries>),
}

impl Value {
    /// Prometheus's `resultType` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Scalar { .. } => "scalar",
            Value::String { .. } => "string",
            Value::Vector(_) => "vector",
            Value::Matrix(_) => "matrix",
        }
    }
}

/// Whether an annotation is a warning or an info.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnnotationKind {
    /// Prometheus's `warnings`.
    Warning,
    /// Prometheus's `infos`.
    Info,
}

/// A warning or info attached to a result, with Prometheus's wording.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Annotation {
    /// Warning or info.
    pub kind: AnnotationKind,
    /// The message text.
    pub message: String,
}

/// The annotations of one query, deduplicated, in first-seen order.
pub type Annotations = Vec<Annotation>;

/// Counters about one query's work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryStats {
    /// Samples read from storage.
    pub samples_loaded: u64,
    /// Highest number of samples held at once.
    pub peak_samples: u64,
}

/// What a query returns: the value, its annotations and stats.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryOutput {
    /// The result.
    pub value: Value,
    /// Warnings and infos.
    pub annotations: Annotations,
    /// Work done.
    pub stats: QueryStats,
}
