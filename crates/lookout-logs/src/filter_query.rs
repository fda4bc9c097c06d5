//! The token queries a line filter implies: `|= "text"` needs the tokens of its literal (the first may end a longer
//! token and the last begin one, so those match by suffix and prefix over the term dictionary); `|~ "re"` needs the
//! tokens of one of the literal prefixes every match starts with. The index only narrows: every line read is still
//! checked exactly.

use std::ops::Bound;
use tantivy::Term;

use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, RegexQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};

use crate::tokens::{LONG_RUN_MARKER, MAX_TOKEN, for_each_token};

/// The literal prefixes every match of `pattern` starts with (`regex-syntax`'s extractor, at most
/// [`MAX_PREFIXES`]); `None` when they are unknown, empty or too many (`.*`, a leading class of unbounded
/// repetition, …). Both the index's token query and a scan's prefilter narrow by them.
pub fn literal_prefixes(pattern: &str) -> Option<Vec<regex_syntax::hir::literal::Literal>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let mut extractor = Extractor::new();
    extractor
        .kind(ExtractKind::Prefix)
        .limit_total(MAX_PREFIXES);
    let literals = extractor.extract(&hir).literals()?.to_vec();
    (!literals.is_empty()).then_some(literals)
}

/// The most literal prefixes a regex narrows by.
const MAX_PREFIXES: usize = 64;

/// The token query a regex implies: every match starts with one of a finite set of literal prefixes (from
/// `regex-syntax`'s extractor), so a line must hold the tokens of one of them. `None` when the prefixes are
/// unknown, empty or too many to narrow by (`.*`, a leading class of unbounded repetition, …).
pub fn regex_query(
    text_field: Field,
    long_marker: bool,
    pattern: &str,
) -> tantivy::Result<Option<Box<dyn Query>>> {
    let Some(literals) = literal_prefixes(pattern) else {
        return Ok(None);
    };
    // Tokens are lower-cased: `(?i)` case variants collapse into one alternative.
    let mut texts = std::collections::BTreeSet::new();
    for lit in literals {
        let Ok(text) = std::str::from_utf8(lit.as_bytes()) else {
            return Ok(None);
        };
        texts.insert(text.to_lowercase());
    }
    // Alternatives share most tokens (`u49[0-9]` → `u490`…`u499` all hold `user`): a token every alternative
    // needs is queried once (a suffix or infix token scans the term dictionary), the rest per alternative.
    let mut per_alt: Vec<Vec<(String, Box<dyn Query>)>> = Vec::with_capacity(texts.len());
    for text in &texts {
        let all = keyed_literal_queries(text_field, long_marker, text)?;
        if all.is_empty() {
            // One alternative without a usable token: every line may match.
            return Ok(None);
        }
        per_alt.push(all);
    }
    let shared: std::collections::BTreeSet<String> = per_alt[0]
        .iter()
        .map(|(k, _)| k.clone())
        .filter(|k| per_alt.iter().all(|alt| alt.iter().any(|(x, _)| x == k)))
        .collect();
    let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (i, alt) in per_alt.into_iter().enumerate() {
        let mut own: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (k, q) in alt {
            if !shared.contains(&k) {
                own.push((Occur::Must, q));
            } else if i == 0 {
                must.push((Occur::Must, q));
            }
        }
        if own.is_empty() {
            // This alternative needs only the shared tokens: the others cannot narrow further.
            any.clear();
            break;
        }
        any.push((Occur::Should, Box::new(BooleanQuery::new(own))));
    }
    if !any.is_empty() {
        must.push((Occur::Must, Box::new(BooleanQuery::new(any))));
    }
    Ok(Some(Box::new(BooleanQuery::new(must))))
}

/// The token queries a substring literal implies (`long_marker`: the partition marks blocks holding a run longer
/// than [`MAX_TOKEN`], which partial tokens must also select). A token inside the literal is a whole token of the line; the
/// first may be the end of a longer token and the last the start of one, so those match by suffix and prefix over
/// the term dictionary.
pub fn literal_queries(
    text_field: Field,
    long_marker: bool,
    lit: &str,
) -> tantivy::Result<Vec<Box<dyn Query>>> {
    Ok(keyed_literal_queries(text_field, long_marker, lit)?
        .into_iter()
        .map(|(_, q)| q)
        .collect())
}

/// The terms starting with `prefix`: `[prefix, prefix with its last character incremented)` (UTF-8 orders bytes as
/// it orders code points, so that range holds exactly those terms). `None` when the last character has no successor.
fn prefix_range(field: Field, prefix: &str) -> Option<RangeQuery> {
    let mut chars: Vec<char> = prefix.chars().collect();
    let last = chars.pop()? as u32;
    let next = match last {
        0xD7FF => '\u{E000}',
        n => char::from_u32(n + 1)?,
    };
    chars.push(next);
    let upper: String = chars.into_iter().collect();
    Some(RangeQuery::new(
        Bound::Included(Term::from_field_text(field, prefix)),
        Bound::Excluded(Term::from_field_text(field, &upper)),
    ))
}

/// The token queries a substring literal implies, each with a key naming it (equal keys, equal queries).
fn keyed_literal_queries(
    text_field: Field,
    long_marker: bool,
    lit: &str,
) -> tantivy::Result<Vec<(String, Box<dyn Query>)>> {
    let mut tokens = Vec::new();
    for_each_token(lit, &mut String::new(), |from, to, t| {
        tokens.push((from, to, t.to_owned()))
    });
    // A suffix or infix token walks the whole term dictionary (a leading `.*` prunes nothing); a whole or prefix
    // token is a lookup or a range. The walk is worth it only when nothing cheaper narrows.
    let cheap = |from: usize, _: usize| from > 0;
    let any_cheap = tokens
        .iter()
        .any(|(from, to, text)| text.len() <= MAX_TOKEN && cheap(*from, *to));
    let mut out: Vec<(String, Box<dyn Query>)> = Vec::new();
    for (from, to, text) in tokens {
        if text.len() > MAX_TOKEN || (any_cheap && !cheap(from, to)) {
            continue;
        }
        let whole_start = from > 0;
        let whole_end = to < lit.len();
        let pattern = match (whole_start, whole_end) {
            (true, true) => {
                let q = TermQuery::new(
                    Term::from_field_text(text_field, &text),
                    IndexRecordOption::Basic,
                );
                out.push((format!("={text}"), Box::new(q)));
                continue;
            }
            (false, true) => format!(".*{text}"),
            (true, false) => format!("{text}.*"),
            (false, false) => format!(".*{text}.*"),
        };
        // A prefix is a range of the term dictionary: no automaton to build.
        let range = whole_start
            .then(|| prefix_range(text_field, &text))
            .flatten();
        let q: Box<dyn Query> = match range {
            Some(range) => Box::new(range),
            None => Box::new(RegexQuery::from_pattern(&pattern, text_field)?),
        };
        // The partial token may be part of a run too long to be indexed: blocks holding one match as well.
        let q = if long_marker {
            let marker = TermQuery::new(
                Term::from_field_text(text_field, LONG_RUN_MARKER),
                IndexRecordOption::Basic,
            );
            Box::new(BooleanQuery::new(vec![
                (Occur::Should, q),
                (Occur::Should, Box::new(marker)),
            ]))
        } else {
            q
        };
        out.push((pattern, q));
    }
    Ok(out)
}
