//! A small weight-bounded cache with first-in-first-out eviction, for decoded directories, groups and labels.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// Keeps values until their total weight exceeds the bound, then drops the oldest.
#[derive(Debug)]
pub(crate) struct BoundedCache<K, V> {
    map: HashMap<K, (V, usize)>,
    order: VecDeque<K>,
    weight: usize,
    max_weight: usize,
}

impl<K: Hash + Eq + Clone, V: Clone> BoundedCache<K, V> {
    pub(crate) fn new(max_weight: usize) -> Self {
        BoundedCache {
            map: HashMap::new(),
            order: VecDeque::new(),
            weight: 0,
            max_weight,
        }
    }

    pub(crate) fn get(&self, k: &K) -> Option<V> {
        self.map.get(k).map(|(v, _)| v.clone())
    }

    pub(crate) fn insert(&mut self, k: K, v: V, weight: usize) {
        if let Some((_, w)) = self.map.insert(k.clone(), (v, weight)) {
            self.weight -= w;
        } else {
            self.order.push_back(k);
        }
        self.weight += weight;
        while self.weight > self.max_weight && self.order.len() > 1 {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some((_, w)) = self.map.remove(&old) {
                self.weight -= w;
            }
        }
    }

    pub(crate) fn remove(&mut self, k: &K) {
        if let Some((_, w)) = self.map.remove(k) {
            self.weight -= w;
            self.order.retain(|o| o != k);
        }
    }

    #[cfg(test)]
    pub(crate) fn weight(&self) -> usize {
        self.weight
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_oldest_past_the_bound() {
        let mut c = BoundedCache::new(10);
        c.insert(1, "a", 6);
        c.insert(2, "b", 6);
        assert_eq!(c.get(&1), None);
        assert_eq!(c.get(&2), Some("b"));
        c.remove(&2);
        assert_eq!(c.weight(), 0);
    }
}
