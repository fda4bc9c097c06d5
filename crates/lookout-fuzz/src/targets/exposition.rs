//! The text exposition format and OpenMetrics (`lookout_wire::exposition`), as a scrape and an import read them:
//! every input is parsed in both syntaxes, each sample's label set built and validated as the scraper does.

use lookout_wire::exposition::{Format, ParseOptions, Parser};

use crate::mutate::Grammar;
use crate::target::{MIB, Outcome, Target};

/// The target.
pub const TARGET: Target = Target {
    name: "exposition",
    entry: "lookout_wire::exposition::Parser::{new, next_sample, finish} (text and OpenMetrics) + \
            ParsedSample::to_labels",
    grammar: Grammar {
        dictionary: &[
            b"# HELP ",
            b"# TYPE ",
            b"# UNIT ",
            b"# EOF\n",
            b"# EOF",
            b" counter\n",
            b" gauge\n",
            b" histogram\n",
            b" summary\n",
            b" gaugehistogram\n",
            b" stateset\n",
            b" info\n",
            b" untyped\n",
            b"_total",
            b"_created",
            b"_bucket",
            b"_count",
            b"_sum",
            b"{",
            b"}",
            b"=\"",
            b"\",",
            b"\"",
            b"\\\"",
            b"\\n",
            b"\\\\",
            b"le=\"+Inf\"",
            b"quantile=\"0.5\"",
            b"__name__",
            b" # {trace_id=\"abc\"} 1.0 1.5",
            b" 1 1700000000000\n",
            b" 1.5 1700000000.123\n",
            b" NaN",
            b" +Inf",
            b" -Inf",
            b" 1e308",
            b"\n",
            b"\r\n",
            b"\t",
            b" ",
            b"{\"quoted.name\"}",
            b"\"utf8.label\"=\"v\"",
        ],
        nesting: &[(b"{", b"}"), (b"\"", b"\""), (b"a{b=\"c\"} 1\n", b"")],
        max_len: 64 << 10,
    },
    run,
    alloc_bound: |len| 64 * len + MIB,
    alloc_rule: "64 x body + 1 MiB: the parser's buffers grow with one line and the metadata with the body \
                 (a scrape body is bounded by body_size_limit and the ingest share)",
};

fn run(input: &[u8]) -> Outcome {
    let text = parse(input, Format::Text);
    let om = parse(input, Format::OpenMetrics);
    if text || om {
        Outcome::Accepted
    } else {
        Outcome::Rejected
    }
}

/// Parses the whole body as the scraper does (`append_body`): every sample's labels are built and validated.
fn parse(input: &[u8], format: Format) -> bool {
    let Ok(mut parser) = Parser::new(input, format, ParseOptions::default()) else {
        return false;
    };
    loop {
        match parser.next_sample() {
            Ok(Some(sample)) => {
                if sample.to_labels().is_err() {
                    return false;
                }
            }
            Ok(None) => break,
            Err(_) => return false,
        }
    }
    let stats = parser.finish();
    std::hint::black_box(stats);
    true
}
