//! Line and column of groups and rule fields in a block-style rule file, for error messages in `promtool`'s
//! `line:col:` form. serde_yaml_ng keeps no positions of values, so this reads the text's structure directly:
//! the items of the `groups:` list, the items of each group's `rules:` list, and the `record`/`alert`/`expr` keys
//! of each rule. Flow-style YAML (`{…}`, `[…]`) gets no positions, only the messages.

/// A (line, column), both from 1.
pub type Pos = (usize, usize);

/// Where a rule's fields are.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RulePos {
    /// The value of `record:`.
    pub record: Option<Pos>,
    /// The value of `alert:`.
    pub alert: Option<Pos>,
    /// The value of `expr:`.
    pub expr: Option<Pos>,
}

/// Positions found in one file.
#[derive(Debug, Default)]
pub struct Positions {
    groups: Vec<(Pos, Vec<RulePos>)>,
}

struct Line<'a> {
    no: usize,
    indent: usize,
    text: &'a str,
}

fn lines(text: &str) -> Vec<Line<'_>> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let trimmed = l.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                return None;
            }
            Some(Line {
                no: i + 1,
                indent: l.len() - trimmed.len(),
                text: l,
            })
        })
        .collect()
}

/// The items of the block list that follows the key line at `key` (indices into `ls`), each with its end.
fn items(ls: &[Line<'_>], key: usize) -> Vec<(usize, usize)> {
    let key_indent = ls[key].indent;
    let Some(first) = ls.get(key + 1) else {
        return Vec::new();
    };
    let item_indent = first.indent;
    if !first.text[item_indent..].starts_with('-') || item_indent < key_indent {
        return Vec::new();
    }
    let mut starts = Vec::new();
    let mut end = ls.len();
    for (i, l) in ls.iter().enumerate().skip(key + 1) {
        if l.indent < item_indent
            || (l.indent == item_indent && !l.text[l.indent..].starts_with('-'))
        {
            end = i;
            break;
        }
        if l.indent == item_indent {
            starts.push(i);
        }
    }
    starts
        .iter()
        .enumerate()
        .map(|(k, &s)| (s, starts.get(k + 1).copied().unwrap_or(end)))
        .collect()
}

/// Where `key:`'s value starts on line `l` (after an optional `- `), if the line holds that key.
fn key_value(l: &Line<'_>, key: &str) -> Option<Pos> {
    let mut col = l.indent;
    let mut rest = &l.text[col..];
    if let Some(r) = rest.strip_prefix("- ") {
        let r2 = r.trim_start();
        col += 2 + (r.len() - r2.len());
        rest = r2;
    }
    let after = rest.strip_prefix(key)?.strip_prefix(':')?;
    let value = after.trim_start();
    let vcol = col + key.len() + 1 + (after.len() - value.len());
    Some((l.no, vcol + 1))
}

/// The column of the first key of a list item's line (`- name: x` → the `n`).
fn item_pos(l: &Line<'_>) -> Pos {
    let rest = &l.text[l.indent + 1..];
    let key = rest.trim_start();
    (l.no, l.indent + 1 + (rest.len() - key.len()) + 1)
}

impl Positions {
    /// Reads the structure of `text`.
    pub fn scan(text: &str) -> Positions {
        let ls = lines(text);
        let Some(groups_key) = ls
            .iter()
            .position(|l| l.indent == 0 && l.text.starts_with("groups:"))
        else {
            return Positions::default();
        };
        let mut groups = Vec::new();
        for (gs, ge) in items(&ls, groups_key) {
            let mut rules = Vec::new();
            let item_indent = ls[gs].indent;
            let rules_key = (gs..ge).find(|&i| {
                let l = &ls[i];
                (l.indent == item_indent + 2 || i == gs) && key_value(l, "rules").is_some()
            });
            if let Some(rk) = rules_key {
                for (rs, re) in items(&ls, rk) {
                    let mut p = RulePos::default();
                    for l in &ls[rs..re] {
                        p.record = p.record.or_else(|| key_value(l, "record"));
                        p.alert = p.alert.or_else(|| key_value(l, "alert"));
                        p.expr = p.expr.or_else(|| key_value(l, "expr"));
                    }
                    rules.push(p);
                }
            }
            groups.push((item_pos(&ls[gs]), rules));
        }
        Positions { groups }
    }

    /// `"line:col: "` of group `gi`, or nothing.
    pub fn group(&self, gi: usize) -> String {
        self.groups
            .get(gi)
            .map_or(String::new(), |((l, c), _)| format!("{l}:{c}: "))
    }

    /// Where rule `ri` of group `gi` has its fields.
    pub fn rule(&self, gi: usize, ri: usize) -> RulePos {
        self.groups
            .get(gi)
            .and_then(|(_, r)| r.get(ri).copied())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_groups_and_rule_fields() {
        let text = "\
# comment
groups:
  - name: a
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: Down
        expr: |
          up == 0
        for: 5m
  - name: b
    interval: 1m
    rules:
    - expr: x
      record: y
";
        let p = Positions::scan(text);
        assert_eq!(p.group(0), "3:5: ");
        assert_eq!(p.group(1), "11:5: ");
        assert_eq!(p.rule(0, 0).record, Some((5, 17)));
        assert_eq!(p.rule(0, 0).expr, Some((6, 15)));
        assert_eq!(p.rule(0, 1).alert, Some((7, 16)));
        assert_eq!(p.rule(0, 1).expr, Some((8, 15)));
        assert_eq!(p.rule(1, 0).expr, Some((14, 13)));
        assert_eq!(p.rule(1, 0).record, Some((15, 15)));
        assert_eq!(p.rule(5, 5), RulePos::default());
    }
}
