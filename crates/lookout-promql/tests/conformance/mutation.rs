//! The runner's check on real data: every case that passes must fail once its expectation is made wrong.
//! Each eval of every file gets one deliberate error (a value changed, a series dropped or added, the
//! expected string changed); evals do not change the data, so all of a file's evals are mutated in one run.

use std::path::Path;

use lookout_model::Labels;

use crate::exec::{EngineBackend, run_commands};
use crate::script::{Command, Eval, ExpectedSeries, TextMatch, parse_script};
use crate::series::Point;

/// A value that `almost_equal` cannot confuse with `v`.
fn wrong_value(v: f64) -> f64 {
    if v.is_finite() {
        v + v.abs() * 1e-3 + 1.0
    } else {
        1.0
    }
}

/// Makes one expectation of `eval` wrong; false when the case has nothing to falsify (it must fail anyway).
fn mutate(eval: &mut Eval) -> bool {
    if eval.must_fail() {
        // Only an exact expected message can be made wrong; "any error" cannot.
        if let Some(m) = &mut eval.expected_fail_message {
            m.push_str(" (mutated)");
            return true;
        }
        if let Some(TextMatch::Exact(m)) = &mut eval.expect_fail {
            m.push_str(" (mutated)");
            return true;
        }
        return false;
    }
    if let Some(s) = &mut eval.expected_string {
        s.push('x');
        return true;
    }
    if let Some(Point::Float(v)) = eval.expected_scalar {
        eval.expected_scalar = Some(Point::Float(wrong_value(v)));
        return true;
    }
    if let Some(first) = eval.expected.first_mut() {
        if let Some(p) = first
            .points
            .iter_mut()
            .find(|p| matches!(p, Point::Float(_)))
        {
            if let Point::Float(v) = *p {
                *p = Point::Float(wrong_value(v));
            }
        } else {
            eval.expected.remove(0);
        }
        return true;
    }
    let labels = Labels::from_pairs_unchecked(&[("__mutation__", "1")]);
    let pos = 1;
    eval.expected.push(ExpectedSeries {
        pos,
        labels,
        points: vec![Point::Float(1.0)],
    });
    true
}

#[test]
fn no_passing_case_survives_a_wrong_expectation() {
    let dir = crate::testdata_dir();
    if !dir.is_dir() {
        eprintln!("skipped: no PromQL test files at {}", dir.display());
        return;
    }
    let backend = EngineBackend::upstream_test_settings();
    let mut survivors = Vec::new();
    let mut checked = 0;
    for path in crate::list_test_files(&dir) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(Path::new(&path)).expect("readable test file");
        let Ok(commands) = parse_script(&text) else {
            continue;
        };
        let (original, _) = run_commands(&commands, &backend);
        let mut mutated = commands.clone();
        let mut mutated_lines = Vec::new();
        for cmd in &mut mutated {
            if let Command::Eval(eval) = cmd
                && mutate(eval)
            {
                mutated_lines.push(eval.line);
            }
        }
        let (after, _) = run_commands(&mutated, &backend);
        for (before, after) in original.iter().zip(&after) {
            if before.outcome.is_ok() && mutated_lines.contains(&before.line) {
                checked += 1;
                if after.outcome.is_ok() {
                    survivors.push(format!("{name}:{} {}", before.line, before.query));
                }
            }
        }
    }
    eprintln!(
        "mutation check: {checked} passing cases falsified, {} survived",
        survivors.len()
    );
    assert!(
        survivors.is_empty(),
        "cases that pass even with a wrong expectation (runner bug): {survivors:#?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_expectation_kind_is_falsified() {
        let script = "eval instant at 0 1\n  1\n\neval instant at 0 m\n  m 5\n\neval instant at 0 m\n  m _\n\n\
                      eval instant at 0 m\n\neval instant at 0 \"a\"\n  expect string \"a\"\n\n\
                      eval instant at 0 m\n  expect fail\n\neval instant at 0 m\n  expect fail msg: boom\n";
        let mut evals: Vec<Eval> = parse_script(script)
            .unwrap()
            .into_iter()
            .filter_map(|c| {
                if let Command::Eval(e) = c {
                    Some(*e)
                } else {
                    None
                }
            })
            .collect();
        let mutated: Vec<bool> = evals.iter_mut().map(mutate).collect();
        assert_eq!(mutated, vec![true, true, true, true, true, false, true]);
        assert_eq!(
            evals[0].expected_scalar,
            Some(Point::Float(wrong_value(1.0)))
        );
        assert_eq!(
            evals[1].expected[0].points,
            vec![Point::Float(wrong_value(5.0))]
        );
        assert!(evals[2].expected.is_empty());
        assert_eq!(evals[3].expected.len(), 1);
        assert_eq!(evals[4].expected_string.as_deref(), Some("ax"));
        assert_eq!(wrong_value(f64::NAN), 1.0);
        for v in [-1000.0, -1.0, 0.0, 1e-300, 1e300, -0.5] {
            assert!(
                !crate::compare::almost_equal(v, wrong_value(v), crate::compare::EPSILON),
                "{v}"
            );
        }
    }
}
