//! Parsing a `.test` file into commands: `load`, `clear` and `eval` with its expectations.

use std::sync::LazyLock;

use lookout_model::Labels;
use regex::Regex;

use crate::duration::parse_duration_ms;
use crate::series::{Point, SeriesLine, parse_series_line, take_quoted};

/// One command of a test file.
#[derive(Debug, Clone)]
pub enum Command {
    /// Drop all data.
    Clear,
    /// Add series.
    Load(Load),
    /// Run a query and check it.
    Eval(Box<Eval>),
}

/// A `load <interval>` block.
#[derive(Debug, Clone)]
pub struct Load {
    /// 1-based line of the `load` command.
    pub line: usize,
    /// Time between consecutive points.
    pub interval_ms: i64,
    /// `load_with_nhcb`: upstream also derives native histograms from classic ones.
    pub with_nhcb: bool,
    /// The series lines.
    pub series: Vec<SeriesLine>,
    /// The block had `metric@st` start-timestamp lines (not storable here).
    pub has_start_timestamps: bool,
}

impl Load {
    /// True when some point is a native-histogram literal (or NHCB conversion was asked for).
    pub fn needs_native_histograms(&self) -> bool {
        self.with_nhcb
            || self
                .series
                .iter()
                .any(|s| s.points.contains(&Point::Histogram))
    }
}

/// How an expected message is matched.
#[derive(Debug, Clone)]
pub enum TextMatch {
    /// The whole text must be equal.
    Exact(String),
    /// The (unanchored) pattern must match.
    Pattern(Regex),
}

impl TextMatch {
    /// True when `text` satisfies this expectation.
    pub fn matches(&self, text: &str) -> bool {
        match self {
            TextMatch::Exact(m) => m == text,
            TextMatch::Pattern(r) => r.is_match(text),
        }
    }
}

impl std::fmt::Display for TextMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TextMatch::Exact(m) => write!(f, "message {m:?}"),
            TextMatch::Pattern(r) => write!(f, "pattern {:?}", r.as_str()),
        }
    }
}

/// One expected series and its position (1-based, counted as upstream does) for `ordered`.
#[derive(Debug, Clone)]
pub struct ExpectedSeries {
    /// Position among the expectation lines.
    pub pos: usize,
    /// Full label set.
    pub labels: Labels,
    /// Expected points, one per step.
    pub points: Vec<Point>,
}

/// An `eval` command with everything it expects.
#[derive(Debug, Clone, Default)]
pub struct Eval {
    /// 1-based line of the `eval` command (the case's identity).
    pub line: usize,
    /// The query text.
    pub query: String,
    /// Range query (otherwise instant).
    pub is_range: bool,
    /// Start of the range (or of an expected range vector).
    pub start_ms: i64,
    /// End of the range (or of an expected range vector).
    pub end_ms: i64,
    /// Step of the range (or of an expected range vector).
    pub step_ms: i64,
    /// Evaluation time of an instant query.
    pub eval_ms: i64,
    /// `eval_fail`.
    pub fail: bool,
    /// `eval_warn`.
    pub warn: bool,
    /// `eval_info`.
    pub info: bool,
    /// `eval_ordered` or `expect ordered`.
    pub ordered: bool,
    /// `expected_fail_message`.
    pub expected_fail_message: Option<String>,
    /// `expected_fail_regexp`.
    pub expected_fail_regexp: Option<Regex>,
    /// `expect fail [msg|regex]` (at most one).
    pub expect_fail: Option<TextMatch>,
    /// `expect warn [...]` lines.
    pub expect_warn: Vec<TextMatch>,
    /// `expect no_warn`.
    pub no_warn: bool,
    /// `expect info [...]` lines.
    pub expect_info: Vec<TextMatch>,
    /// `expect no_info`.
    pub no_info: bool,
    /// A bare number line: a scalar result is expected.
    pub expected_scalar: Option<Point>,
    /// Expected series (a later line with the same labels replaces an earlier one).
    pub expected: Vec<ExpectedSeries>,
    /// `expect string "..."`.
    pub expected_string: Option<String>,
    /// Instant query whose result is not an instant vector/scalar: skip the range-mode cross-check.
    pub exclude_from_range_query: bool,
    /// Expectations contain native-histogram literals.
    pub expects_histograms: bool,
}

impl Eval {
    /// True when the query must fail.
    pub fn must_fail(&self) -> bool {
        self.fail || self.expect_fail.is_some()
    }
}

/// Why a file could not be parsed (a runner or file problem, never an engine one).
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("runner regexes are valid")
}

static LOAD: LazyLock<Regex> = LazyLock::new(|| regex(r"^load(_with_nhcb)?\s+(.+?)$"));
static EVAL_INSTANT: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$")
});
static EVAL_RANGE: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$")
});
static EXPECT: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$")
});
static EXPECT_RANGE_VECTOR: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$"));

/// Lines trimmed, comment lines blanked (indices stay line numbers - 1).
fn clean_lines(input: &str) -> Vec<&str> {
    input
        .split('\n')
        .map(|l| l.trim())
        .map(|l| if l.starts_with('#') { "" } else { l })
        .collect()
}

/// Parses a whole file.
pub fn parse_script(input: &str) -> Result<Vec<Command>, ScriptError> {
    let lines = clean_lines(input);
    let mut commands = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.is_empty() {
            i += 1;
            continue;
        }
        let word = line
            .split([' ', '\t'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let err = |message: String| ScriptError {
            line: i + 1,
            message,
        };
        if word == "clear" {
            commands.push(Command::Clear);
            i += 1;
        } else if word.starts_with("load") {
            let (next, load) = parse_load(&lines, i).map_err(err)?;
            commands.push(Command::Load(load));
            i = next;
        } else if word.starts_with("eval") {
            let (next, eval) = parse_eval(&lines, i)?;
            commands.push(Command::Eval(Box::new(eval)));
            i = next;
        } else {
            return Err(err(format!("invalid command {line:?}")));
        }
    }
    Ok(commands)
}

/// True for `metric{...}@st <offsets>` start-timestamp lines.
fn is_start_timestamp_line(line: &str) -> bool {
    line.split_once([' ', '\t'])
        .is_some_and(|(head, _)| head.ends_with("@st"))
}

fn parse_load(lines: &[&str], at: usize) -> Result<(usize, Load), String> {
    let caps = LOAD
        .captures(lines[at])
        .ok_or("invalid load command (load[_with_nhcb] <interval>)")?;
    let interval_ms =
        parse_duration_ms(&caps[2]).map_err(|e| format!("invalid load interval: {e}"))?;
    let mut load = Load {
        line: at + 1,
        interval_ms,
        with_nhcb: caps.get(1).is_some(),
        series: vec![],
        has_start_timestamps: false,
    };
    let mut i = at + 1;
    while i < lines.len() && !lines[i].is_empty() {
        if is_start_timestamp_line(lines[i]) {
            load.has_start_timestamps = true;
        } else {
            let series = parse_series_line(lines[i]).map_err(|e| format!("line {}: {e}", i + 1))?;
            load.series.push(series);
        }
        i += 1;
    }
    Ok((i, load))
}

/// Go's `strconv.ParseInt(s, 0, 64)` then `ParseFloat`: integers with base prefixes, then floats.
pub fn parse_number(text: &str) -> Option<f64> {
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    let digits = if radix == 10 {
        digits.to_string()
    } else {
        digits.replace('_', "")
    };
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_alphanumeric())
        && let Ok(n) = i64::from_str_radix(&digits, radix)
    {
        return Some(if negative { -(n as f64) } else { n as f64 });
    }
    text.parse::<f64>().ok()
}

fn parse_eval(lines: &[&str], at: usize) -> Result<(usize, Eval), ScriptError> {
    let line = lines[at];
    let err = |l: usize, message: String| ScriptError {
        line: l + 1,
        message,
    };
    let time = |text: &str, what: &str| {
        parse_duration_ms(text).map_err(|e| err(at, format!("invalid {what} {text:?}: {e}")))
    };
    let mut eval = Eval {
        line: at + 1,
        ..Eval::default()
    };
    let modifier;
    if let Some(c) = EVAL_INSTANT.captures(line) {
        modifier = c.get(1).map(|m| m.as_str().to_string());
        eval.query = c[3].to_string();
        eval.eval_ms = time(c.get(2).map_or("", |m| m.as_str()), "timestamp")?;
        eval.start_ms = eval.eval_ms;
    } else if let Some(c) = EVAL_RANGE.captures(line) {
        modifier = c.get(1).map(|m| m.as_str().to_string());
        eval.is_range = true;
        eval.query = c[5].to_string();
        eval.start_ms = time(&c[2], "start")?;
        eval.end_ms = time(&c[3], "end")?;
        eval.step_ms = time(&c[4], "step")?;
        if eval.end_ms < eval.start_ms {
            return Err(err(at, "end timestamp is before start timestamp".into()));
        }
    } else {
        return Err(err(at, format!("invalid evaluation command {line:?}")));
    }
    match modifier.as_deref() {
        Some("fail") => eval.fail = true,
        Some("warn") => eval.warn = true,
        Some("info") => eval.info = true,
        Some("ordered") => eval.ordered = true,
        _ => {}
    }
    let mut i = at;
    let mut expect_range_vector = false;
    // Position counter for `ordered`: advances on every line except `expect` lines, as upstream counts.
    let mut pos = 0;
    while i + 1 < lines.len() && !lines[i + 1].is_empty() {
        i += 1;
        pos += 1;
        let def = lines[i];
        if eval.fail && def.starts_with("expected_fail_message") {
            eval.expected_fail_message =
                Some(def["expected_fail_message".len()..].trim().to_string());
            break;
        }
        if eval.fail && def.starts_with("expected_fail_regexp") {
            let pattern = def["expected_fail_regexp".len()..].trim();
            let re = Regex::new(pattern)
                .map_err(|e| err(i, format!("invalid expected_fail_regexp: {e}")))?;
            eval.expected_fail_regexp = Some(re);
            break;
        }
        if def.starts_with("expect range vector") {
            let c = EXPECT_RANGE_VECTOR
                .captures(def)
                .ok_or_else(|| err(i, format!("invalid range vector {def:?}")))?;
            let parse = |s: &str| parse_duration_ms(s).map_err(|e| err(i, e));
            eval.start_ms = parse(&c[1])?;
            eval.end_ms = parse(&c[2])?;
            eval.step_ms = parse(&c[3])?;
            if eval.end_ms < eval.start_ms {
                return Err(err(i, "end timestamp is before start timestamp".into()));
            }
            // Upstream evaluates the instant query at the end of the expected range.
            eval.eval_ms = eval.end_ms;
            eval.exclude_from_range_query = true;
            expect_range_vector = true;
            continue;
        }
        if let Some(quoted) = def.strip_prefix("expect string") {
            let quoted = quoted.strip_prefix(' ').filter(|q| !q.is_empty());
            let quoted = quoted
                .ok_or_else(|| err(i, "expect string needs a quoted string literal".into()))?;
            let (s, rest) = take_quoted(quoted).map_err(|e| err(i, e))?;
            if !rest.is_empty() {
                return Err(err(
                    i,
                    format!("trailing text after expected string: {rest:?}"),
                ));
            }
            eval.expected_string = Some(s);
            eval.exclude_from_range_query = true;
            continue;
        }
        if def.split(' ').next() == Some("expect") {
            parse_expect(def, &mut eval).map_err(|e| err(i, e))?;
            pos -= 1;
            continue;
        }
        if let Some(v) = parse_number(def) {
            eval.expected_scalar = Some(Point::Float(v));
            break;
        }
        let series = parse_series_line(def).map_err(|e| err(i, e))?;
        if series.points.len() > 1 && !eval.is_range && !expect_range_vector {
            return Err(err(
                i,
                "several values for an instant query without 'expect range vector'".into(),
            ));
        }
        eval.expects_histograms |= series.points.contains(&Point::Histogram);
        let entry = ExpectedSeries {
            pos,
            labels: series.labels,
            points: series.points,
        };
        match eval.expected.iter_mut().find(|e| e.labels == entry.labels) {
            Some(existing) => *existing = entry,
            None => eval.expected.push(entry),
        }
    }
    Ok((i + 1, eval))
}

fn parse_expect(def: &str, eval: &mut Eval) -> Result<(), String> {
    let c = EXPECT
        .captures(def.trim())
        .ok_or_else(|| format!("invalid expect statement {def:?}"))?;
    let kind = &c[1];
    let matcher = match (c.get(2).map(|m| m.as_str()), c.get(3)) {
        (Some("msg"), Some(text)) => TextMatch::Exact(text.as_str().trim().to_string()),
        (Some(_), Some(text)) => {
            let pattern = text.as_str().trim();
            TextMatch::Pattern(
                Regex::new(pattern).map_err(|e| format!("invalid regex {pattern:?}: {e}"))?,
            )
        }
        _ => TextMatch::Pattern(regex("^.*$")),
    };
    match kind {
        "ordered" => eval.ordered = true,
        "fail" if eval.expect_fail.is_some() => return Err("several expect fail lines".into()),
        "fail" => eval.expect_fail = Some(matcher),
        "warn" => eval.expect_warn.push(matcher),
        "no_warn" => eval.no_warn = true,
        "info" => eval.expect_info.push(matcher),
        _ => eval.no_info = true,
    }
    if (!eval.expect_info.is_empty() && eval.no_info)
        || (!eval.expect_warn.is_empty() && eval.no_warn)
    {
        return Err(format!("{kind} contradicts an earlier expect line"));
    }
    Ok(())
}
