//! Vector matching: which series of two vectors pair up (`on`/`ignoring` signatures), and the labels
//! of the result (`group_left`/`group_right` extra labels, name dropping). Signatures and result label
//! sets are cached per input label set, which recurs at every step.

use std::cell::RefCell;

use rustc_hash::FxHashMap as HashMap;

use lookout_model::{Labels, LabelsBuilder, METRIC_NAME};
use promql_parser::parser::{BinModifier, LabelModifier, VectorMatchCardinality, token};

use super::changes_metric_schema;

/// How two vectors are matched.
pub(crate) struct Matching<'m> {
    pub(crate) card: &'m VectorMatchCardinality,
    /// True for `on(...)`, false for `ignoring(...)` or no clause.
    pub(crate) on: bool,
    pub(crate) names: Vec<String>,
    pub(crate) include: Vec<String>,
    pub(crate) fill_lhs: Option<f64>,
    pub(crate) fill_rhs: Option<f64>,
    /// Signatures and their ordinals by label-set identity: the same input label set recurs at every step.
    sig_cache: RefCell<HashMap<usize, (Labels, Labels, usize)>>,
    /// Ordinal of each distinct signature, so that per-step matching hashes integers, not label sets.
    ordinals: RefCell<HashMap<Labels, usize>>,
    /// Result label sets by the identities of both sides' label sets.
    result_cache: RefCell<HashMap<(usize, usize), CachedResult>>,
}

/// Both sides' label sets (kept alive) and the result label set.
type CachedResult = (Labels, Labels, Labels);

/// The identity of a label set's shared storage. Cache entries keep a clone of the label set, so the
/// address cannot be reused by another set while the entry exists.
fn identity(l: &Labels) -> usize {
    l.as_slice().as_ptr() as usize
}

pub(crate) fn matching_of<'m>(
    m: Option<&'m BinModifier>,
    default_card: &'m VectorMatchCardinality,
) -> Matching<'m> {
    let (on, names) = match m.and_then(|m| m.matching.as_ref()) {
        Some(LabelModifier::Include(l)) => (true, l.labels.clone()),
        Some(LabelModifier::Exclude(l)) => (false, l.labels.clone()),
        None => (false, Vec::new()),
    };
    let card = m.map(|m| &m.card).unwrap_or(default_card);
    let include = card.labels().map(|l| l.labels.clone()).unwrap_or_default();
    Matching {
        card,
        on,
        names,
        include,
        fill_lhs: m.and_then(|m| m.fill_values.lhs),
        fill_rhs: m.and_then(|m| m.fill_values.rhs),
        sig_cache: RefCell::default(),
        ordinals: RefCell::default(),
        result_cache: RefCell::default(),
    }
}

pub(crate) static ONE_TO_ONE: VectorMatchCardinality = VectorMatchCardinality::OneToOne;
pub(crate) static MANY_TO_MANY: VectorMatchCardinality = VectorMatchCardinality::ManyToMany;

impl Matching<'_> {
    /// The labels two series must share to match, and the ordinal of that signature.
    pub(crate) fn signature(&self, l: &Labels) -> (Labels, usize) {
        let key = identity(l);
        if let Some((_, sig, ord)) = self.sig_cache.borrow().get(&key) {
            return (sig.clone(), *ord);
        }
        let sig = self.compute_signature(l);
        let ord = {
            let mut ords = self.ordinals.borrow_mut();
            let next = ords.len();
            *ords.entry(sig.clone()).or_insert(next)
        };
        self.sig_cache
            .borrow_mut()
            .insert(key, (l.clone(), sig.clone(), ord));
        (sig, ord)
    }

    /// Just the ordinal of the signature.
    pub(crate) fn ord(&self, l: &Labels) -> usize {
        self.signature(l).1
    }

    fn compute_signature(&self, l: &Labels) -> Labels {
        if self.on {
            l.keep_only(&self.names)
        } else {
            let mut b = l.to_builder();
            b.remove(METRIC_NAME);
            for n in &self.names {
                b.remove(n);
            }
            b.build_unchecked()
        }
    }
}

/// Prometheus's `labels.String()`: every label inside braces, `__name__` included.
pub(crate) fn labels_string(l: &Labels) -> String {
    let parts: Vec<String> = l
        .iter()
        .map(|x| format!("{}={:?}", x.name, &*x.value))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

pub(crate) fn result_metric(
    lhs: &Labels,
    rhs: &Labels,
    op: token::TokenId,
    m: &Matching,
) -> Labels {
    let key = (identity(lhs), identity(rhs));
    if let Some((_, _, r)) = m.result_cache.borrow().get(&key) {
        return r.clone();
    }
    let r = compute_result_metric(lhs, rhs, op, m);
    m.result_cache
        .borrow_mut()
        .insert(key, (lhs.clone(), rhs.clone(), r.clone()));
    r
}

fn compute_result_metric(lhs: &Labels, rhs: &Labels, op: token::TokenId, m: &Matching) -> Labels {
    let mut b: LabelsBuilder = if changes_metric_schema(op) {
        super::drop_metric_labels(lhs).to_builder()
    } else {
        lhs.to_builder()
    };
    if matches!(m.card, VectorMatchCardinality::OneToOne) {
        if m.on {
            b.retain(|l| m.names.iter().any(|n| *n == *l.name));
        } else {
            for n in &m.names {
                b.remove(n);
            }
        }
    }
    for n in &m.include {
        match rhs.get(n) {
            Some(v) => {
                b.set(n, v);
            }
            None => {
                b.remove(n);
            }
        }
    }
    b.build_unchecked()
}
