//! `topk`/`bottomk` selection exactly as Prometheus's engine makes it: a binary heap of at most k samples
//! (Go's `container/heap` rules: push, replace the root when a better sample comes, sift down), then a
//! reverse sort. Ties are where engines differ, and users compare our answers with Prometheus's, so we
//! follow its heap step by step rather than a stable sort, which would keep a different series of two
//! equal ones.

/// Selects the k best `(series index, value)` candidates, in input order, as Prometheus would.
/// `top` selects the highest values (`topk`), otherwise the lowest (`bottomk`).
pub(crate) fn select_k(cands: &[(usize, f64)], k: usize, top: bool) -> Vec<(usize, f64)> {
    // "a sorts before b in the heap": the root holds the worst kept sample. A NaN is always "less",
    // which is Prometheus's (non-transitive) rule, kept verbatim for identical tie outcomes.
    let less = |a: f64, b: f64| a.is_nan() || if top { a < b } else { a > b };
    let mut heap: Vec<(usize, f64)> = Vec::with_capacity(k.min(cands.len()));
    for &c in cands {
        if heap.len() < k {
            heap.push(c);
            let last = heap.len() - 1;
            up(&mut heap, last, &less);
        } else if k > 0 {
            let root = heap[0].1;
            let better = if top { root < c.1 } else { root > c.1 };
            if better || (root.is_nan() && !c.1.is_nan()) {
                heap[0] = c;
                if k > 1 {
                    fix(&mut heap, 0, &less);
                }
            }
        }
    }
    // Go's sort.Sort(sort.Reverse(heap)): insertion sort for up to 12 elements (all real k's), which is
    // stable; beyond that a stable sort with the same order is as close as an unstable sort can be matched.
    let rev_less = |a: f64, b: f64| less(b, a);
    if heap.len() <= 12 {
        for i in 1..heap.len() {
            let mut j = i;
            while j > 0 && rev_less(heap[j].1, heap[j - 1].1) {
                heap.swap(j, j - 1);
                j -= 1;
            }
        }
    } else {
        heap.sort_by(|a, b| {
            if rev_less(a.1, b.1) {
                std::cmp::Ordering::Less
            } else if rev_less(b.1, a.1) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        });
    }
    heap
}

/// Go's `heap.up`.
fn up(h: &mut [(usize, f64)], mut j: usize, less: &impl Fn(f64, f64) -> bool) {
    while j > 0 {
        let i = (j - 1) / 2;
        if !less(h[j].1, h[i].1) {
            break;
        }
        h.swap(i, j);
        j = i;
    }
}

/// Go's `heap.down`; reports whether the element moved.
fn down(h: &mut [(usize, f64)], i0: usize, less: &impl Fn(f64, f64) -> bool) -> bool {
    let n = h.len();
    let mut i = i0;
    loop {
        let j1 = 2 * i + 1;
        if j1 >= n {
            break;
        }
        let mut j = j1;
        let j2 = j1 + 1;
        if j2 < n && less(h[j2].1, h[j1].1) {
            j = j2;
        }
        if !less(h[j].1, h[i].1) {
            break;
        }
        h.swap(i, j);
        i = j;
    }
    i > i0
}

/// Go's `heap.Fix`.
fn fix(h: &mut [(usize, f64)], i: usize, less: &impl Fn(f64, f64) -> bool) {
    if !down(h, i, less) {
        up(h, i, less);
    }
}

#[cfg(test)]
mod tests {
    use super::select_k;

    fn ids(v: Vec<(usize, f64)>) -> Vec<usize> {
        v.into_iter().map(|(i, _)| i).collect()
    }

    #[test]
    fn ties_resolve_as_prometheus_heap_does() {
        // attic, cellar tie below kitchen: Prometheus's heap replaces its root (attic) and keeps cellar.
        let c = [(0, 21.5), (1, 21.5), (2, 22.0)];
        assert_eq!(ids(select_k(&c, 2, true)), vec![2, 1]);
        // bottomk mirrors it.
        let c = [(0, 1.0), (1, 1.0), (2, 0.5)];
        assert_eq!(ids(select_k(&c, 2, false)), vec![2, 1]);
    }

    #[test]
    fn orders_best_first_and_nan_last() {
        let c = [(0, 1.0), (1, f64::NAN), (2, 3.0), (3, 2.0)];
        assert_eq!(ids(select_k(&c, 3, true)), vec![2, 3, 0]);
        assert_eq!(ids(select_k(&c, 3, false)), vec![0, 3, 2]);
        assert_eq!(ids(select_k(&c, 9, true)), vec![2, 3, 0, 1]);
    }
}
