//! Prometheus's alerting and recording-rule templates: the function table (Go's builtins plus
//! Prometheus's library, with `query`, `now`, `externalURL` and `pathPrefix` bound to the caller's
//! [`PromContext`]), and the expansion of one alert label or annotation as Prometheus's rule
//! manager does it, with `$labels`, `$externalLabels`, `$externalURL` and `$value` predeclared.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::funcs::{self, samples, str_arg, want};
use crate::{Functions, Template, TemplateError, Value};

/// One element of an instant-vector query result.
#[derive(Debug, Clone, PartialEq)]
pub struct QuerySample {
    /// The series' labels, `__name__` included.
    pub labels: BTreeMap<String, String>,
    /// The sample value.
    pub value: f64,
}

/// Runs a PromQL expression as an instant query at the evaluation time; errors become the
/// template's error ("error calling query: …").
pub type QueryFn = Arc<dyn Fn(&str) -> Result<Vec<QuerySample>, String> + Send + Sync>;

/// What Prometheus's template functions need from the caller.
#[derive(Clone, Default)]
pub struct PromContext {
    /// Backs `query`; without it `query` fails (`promtool`-style checks need no engine).
    pub query: Option<QueryFn>,
    /// `--web.external-url`: what `externalURL` returns, and whose path `pathPrefix` returns.
    pub external_url: String,
    /// The rule's evaluation time in Unix milliseconds (Prometheus's `model.Time`); `now` returns
    /// it in seconds.
    pub eval_time_ms: i64,
}

impl PromContext {
    /// A context without a query engine.
    pub fn new(external_url: impl Into<String>, eval_time_ms: i64) -> Self {
        PromContext {
            query: None,
            external_url: external_url.into(),
            eval_time_ms,
        }
    }

    /// Sets the engine behind `query`.
    pub fn with_query<F>(mut self, f: F) -> Self
    where
        F: Fn(&str) -> Result<Vec<QuerySample>, String> + Send + Sync + 'static,
    {
        self.query = Some(Arc::new(f));
        self
    }

    /// Sets the evaluation time from Unix nanoseconds, truncated to the millisecond below as
    /// Prometheus's `timestamp.FromTime` does.
    pub fn with_eval_time_ns(mut self, ns: i64) -> Self {
        self.eval_time_ms = ns.div_euclid(1_000_000);
        self
    }
}

/// Shows whether a query engine is set; closures print nothing useful.
impl fmt::Debug for PromContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PromContext")
            .field("query", &self.query.as_ref().map(|_| "<fn>"))
            .field("external_url", &self.external_url)
            .field("eval_time_ms", &self.eval_time_ms)
            .finish()
    }
}

/// Go's `url.URL.Path` of `u`: the path between the authority and any query or fragment,
/// percent-decoded.
fn url_path(u: &str) -> String {
    let after_scheme = match u.find("://") {
        Some(i)
            if u[..i]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) =>
        {
            Some(&u[i + 3..])
        }
        _ => u.strip_prefix("//"),
    };
    let path = match after_scheme {
        Some(rest) => rest.find(['/', '?', '#']).map_or("", |i| &rest[i..]),
        None => u,
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    percent_decode(path)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |j: usize| b.get(j).and_then(|c| (*c as char).to_digit(16));
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Functions {
    /// Go's builtins plus Prometheus's template functions (`query`, `first`, `label`, `value`,
    /// `strvalue`, `sortByLabel`, the `humanize` family, `toTime`, `toDuration`, `now`, `title`,
    /// `toUpper`, `toLower`, `stripPort`, `stripDomain`, `match`, `reReplaceAll`, `graphLink`,
    /// `tableLink`, `parseDuration`, `urlQueryEscape`, `args`, `safeHtml`, `externalURL`,
    /// `pathPrefix`), the context-dependent ones bound to `ctx`.
    pub fn prometheus(ctx: PromContext) -> Functions {
        let mut f = Functions::builtin();
        for table in [
            funcs::humanize::FUNCS,
            funcs::promtext::FUNCS,
            samples::FUNCS,
        ] {
            for (name, func) in table {
                f = f.with(name, *func);
            }
        }
        let query = ctx.query.clone();
        let now = ctx.eval_time_ms as f64 / 1000.0;
        let url = ctx.external_url.clone();
        let prefix = url_path(&ctx.external_url);
        f.with_closure("query", move |args| {
            want(args, 1)?;
            let expr = str_arg(&args[0])?;
            let Some(query) = &query else {
                return Err("no query engine is available to this template".to_owned());
            };
            let result = query(&expr)?;
            Ok(Value::List(
                result
                    .iter()
                    .map(|s| samples::sample(&s.labels, s.value))
                    .collect(),
            ))
        })
        .with_closure("now", move |args| {
            want(args, 0)?;
            Ok(Value::Float(now))
        })
        .with_closure("externalURL", move |args| {
            want(args, 0)?;
            Ok(Value::Str(url.clone()))
        })
        .with_closure("pathPrefix", move |args| {
            want(args, 0)?;
            Ok(Value::Str(prefix.clone()))
        })
    }
}

/// Definitions Prometheus puts before every alert label and annotation template. Error positions
/// count them, as Prometheus's do.
pub const ALERT_TEMPLATE_PREAMBLE: &str = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

/// The data an alert's templates see: `.Labels`, `.ExternalLabels`, `.ExternalURL`, `.Value`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertTemplateData {
    /// The alert's labels (the series' labels without `__name__`).
    pub labels: BTreeMap<String, String>,
    /// The globally configured external labels.
    pub external_labels: BTreeMap<String, String>,
    /// The external URL, as configured.
    pub external_url: String,
    /// The alerting expression's value for this series.
    pub value: f64,
}

impl AlertTemplateData {
    /// The root value templates render against (a map standing in for Prometheus's struct).
    pub fn to_value(&self) -> Value {
        let strings = |m: &BTreeMap<String, String>| {
            Value::Map(
                m.iter()
                    .map(|(k, v)| (k.clone(), Value::Str(v.clone())))
                    .collect(),
            )
        };
        let mut root = BTreeMap::new();
        root.insert("Labels".to_owned(), strings(&self.labels));
        root.insert("ExternalLabels".to_owned(), strings(&self.external_labels));
        root.insert(
            "ExternalURL".to_owned(),
            Value::Str(self.external_url.clone()),
        );
        root.insert("Value".to_owned(), Value::Float(self.value));
        Value::Map(root)
    }
}

/// Expands one alert label or annotation template as Prometheus's rule manager does: the
/// [`ALERT_TEMPLATE_PREAMBLE`] then `text`, rendered against `data` with `funcs` (normally
/// [`Functions::prometheus`]). Prometheus puts `<error expanding template: …>` in place of a
/// failed expansion; that choice is the caller's.
pub fn expand_alert_template(
    text: &str,
    data: &AlertTemplateData,
    funcs: &Functions,
) -> Result<String, TemplateError> {
    let tmpl = Template::parse(&format!("{ALERT_TEMPLATE_PREAMBLE}{text}"), funcs)?;
    tmpl.render(&data.to_value(), funcs)
}

/// Checks an alert template as `promtool check rules` does: the syntax, and that every function
/// it names is in `funcs` (normally [`Functions::prometheus`]), without rendering it.
pub fn parse_alert_template(text: &str, funcs: &Functions) -> Result<(), TemplateError> {
    Template::parse(&format!("{ALERT_TEMPLATE_PREAMBLE}{text}"), funcs).map(|_| ())
}
