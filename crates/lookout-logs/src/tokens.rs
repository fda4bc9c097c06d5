//! The tokens of lines, as the index holds them and as line filters look them up: runs of alphanumeric characters
//! (Unicode's definition), lower-cased, at most [`MAX_TOKEN`] bytes long (longer runs are not indexed). The same
//! tokens tantivy's `SimpleTokenizer` → `RemoveLongFilter` → `LowerCaser` chain gives, so partitions written by
//! earlier versions (which indexed through that chain) are read the same way; written here because a block
//! document needs each distinct token once, and tantivy's chain hands every occurrence to the indexer.

use std::hash::Hasher;

use hashbrown::HashTable;
use rustc_hash::FxHasher;

/// Longest token indexed (bytes, before lower-casing); a literal's longer tokens do not narrow.
pub const MAX_TOKEN: usize = 256;
/// The term a block gets when one of its lines holds an alphanumeric run longer than [`MAX_TOKEN`] (not indexed):
/// a literal's partial tokens (`|= "pod"` may be inside any run) also select those blocks. No token has a `#`.
pub const LONG_RUN_MARKER: &str = "#long";

/// Calls `f(offset_from, offset_to, token)` for each token of `text`, in order; `scratch` holds the lower-cased
/// token of a run that is not already lower-case ASCII.
/// Returns whether a run was too long to be a token.
pub fn for_each_token(
    text: &str,
    scratch: &mut String,
    mut f: impl FnMut(usize, usize, &str),
) -> bool {
    let mut long = false;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // Skip separators; ASCII fast, other characters by Unicode's alphanumeric class.
        let b = bytes[i];
        if b < 0x80 {
            if !b.is_ascii_alphanumeric() {
                i += 1;
                continue;
            }
        } else {
            let c = text[i..].chars().next().expect("char boundary");
            if !c.is_alphanumeric() {
                i += c.len_utf8();
                continue;
            }
        }
        let start = i;
        let mut plain = true; // lower-case ASCII only: the slice is the token
        while i < bytes.len() {
            let b = bytes[i];
            if b < 0x80 {
                if !b.is_ascii_alphanumeric() {
                    break;
                }
                plain &= !b.is_ascii_uppercase();
                i += 1;
            } else {
                let c = text[i..].chars().next().expect("char boundary");
                if !c.is_alphanumeric() {
                    break;
                }
                plain = false;
                i += c.len_utf8();
            }
        }
        if i - start > MAX_TOKEN {
            long = true;
            continue;
        }
        let run = &text[start..i];
        if plain {
            f(start, i, run);
        } else {
            scratch.clear();
            if run.is_ascii() {
                scratch.push_str(run);
                scratch.make_ascii_lowercase();
            } else {
                scratch.extend(run.chars().flat_map(char::to_lowercase));
            }
            f(start, i, scratch);
        }
    }
    long
}

/// The distinct tokens of a block's lines, collected line by line and handed to tantivy pre-tokenized (one token
/// per distinct text: the text field keeps no positions or frequencies, so repeats would only cost indexing time).
///
/// The tokens are kept in the text handed over, space-separated, and the set looks them up there by offset: a
/// block has ~1,500 distinct tokens, and a string allocated and freed per token was a sizeable part of ingest.
#[derive(Default)]
pub struct BlockTokens {
    /// The distinct tokens so far, in first-seen order, separated by spaces.
    text: String,
    /// Where each distinct token sits in `text`: (start, length).
    seen: HashTable<(u32, u32)>,
    /// A line held an alphanumeric run too long to be a token.
    long: bool,
    scratch: String,
}

fn token_hash(t: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(t.as_bytes());
    h.finish()
}

fn token_at(text: &str, (start, len): (u32, u32)) -> &str {
    &text[start as usize..(start + len) as usize]
}

impl BlockTokens {
    /// Adds the tokens of `line`.
    pub fn add_line(&mut self, line: &str) {
        let (text, seen) = (&mut self.text, &mut self.seen);
        let long = for_each_token(line, &mut self.scratch, |_, _, t| {
            let hash = token_hash(t);
            if seen.find(hash, |&at| token_at(text, at) == t).is_some() {
                return;
            }
            if !text.is_empty() {
                text.push(' ');
            }
            let at = (text.len() as u32, t.len() as u32);
            text.push_str(t);
            seen.insert_unique(hash, at, |&at| token_hash(token_at(text, at)));
        });
        self.long |= long;
    }

    /// The distinct tokens added since the last call, separated by spaces (emptied for the next block); the marker
    /// of a too-long run only when `marker` (the formats whose queries look for it). The field's tokenizer splits
    /// this at whitespace, so tantivy sees each distinct token once and does no other work on it.
    pub fn take(&mut self, marker: bool) -> String {
        // The next block's text starts at this one's size, so it grows without copies.
        let next = String::with_capacity(self.text.len());
        let mut text = std::mem::replace(&mut self.text, next);
        if std::mem::take(&mut self.long) && marker {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(LONG_RUN_MARKER);
        }
        // The set keeps its table for the next block; a block of unusually many tokens gives it back.
        if self.seen.capacity() > 1 << 16 {
            self.seen = HashTable::new();
        } else {
            self.seen.clear();
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer};

    fn ours(text: &str) -> Vec<(usize, usize, String)> {
        let mut out = Vec::new();
        for_each_token(text, &mut String::new(), |a, b, t| {
            out.push((a, b, t.to_owned()))
        });
        out
    }

    fn tantivys(text: &str) -> Vec<(usize, usize, String)> {
        let mut a = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(MAX_TOKEN + 1))
            .filter(LowerCaser)
            .build();
        let mut s = a.token_stream(text);
        let mut out = Vec::new();
        while s.advance() {
            let t = s.token();
            out.push((t.offset_from, t.offset_to, t.text.clone()));
        }
        out
    }

    #[test]
    fn tokens_are_those_of_tantivys_simple_lowercased_chain() {
        let long = "x".repeat(MAX_TOKEN);
        let longer = "y".repeat(MAX_TOKEN + 1);
        let cases = [
            "",
            "   ",
            r#"{"level":"ERROR","msg":"Request handled","dur_ms":512}"#,
            r#"I1123 04:12:13.123456       1 controller.go:42] "Reconciling" pod="ns1/pod-123""#,
            "10.1.2.3 - - [23/Nov/2026:04:10:10 +0000] \"GET / HTTP/1.1\" 200",
            "Grüße aus KÖLN — ÆØÅ straße İstanbul ǅemal ΣΊΣΥΦΟΣ 日本語テキスト ٣٤٥ x²",
            "emoji 🦀crab🦀 tab\tnew\nline\u{0}nul",
            &format!("{long} {longer} a{long} {long}B"),
        ];
        for case in cases {
            assert_eq!(ours(case), tantivys(case), "{case:?}");
        }
        // Every char class around the ASCII boundary, in runs.
        let mut s = String::new();
        for c in (0u32..0x3000).filter_map(char::from_u32) {
            s.push(c);
            if (c as u32).is_multiple_of(7) {
                s.push(' ');
            }
        }
        assert_eq!(ours(&s), tantivys(&s));
    }

    #[test]
    fn a_block_hands_each_distinct_token_once() {
        let mut b = BlockTokens::default();
        b.add_line("GET /api GET /API");
        b.add_line("get api 200");
        let sorted = |s: String| {
            let mut v: Vec<String> = s.split(' ').map(str::to_owned).collect();
            v.sort();
            v
        };
        assert_eq!(sorted(b.take(true)), ["200", "api", "get"]);
        assert_eq!(b.take(true), "");
        let long = format!("a {}", "z".repeat(MAX_TOKEN + 1));
        b.add_line(&long);
        assert_eq!(sorted(b.take(true)), [LONG_RUN_MARKER, "a"]);
        b.add_line(&long);
        assert_eq!(b.take(false), "a");
    }
}
