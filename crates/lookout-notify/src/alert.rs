//! The alert handed over by the rules engine, and its fingerprint.

use std::collections::BTreeMap;
use std::fmt;
use std::time::SystemTime;

use lookout_model::Labels;
use serde::ser::{Serialize, SerializeMap, Serializer};

/// One alert as produced by rule evaluation; the unit both senders deliver.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Identifying labels (`alertname` and the rest); their fingerprint identifies the alert.
    pub labels: Labels,
    /// Free-form information (`summary`, `description`, …).
    pub annotations: BTreeMap<String, String>,
    /// When the alert started firing.
    pub starts_at: SystemTime,
    /// When it resolved, or until when it is considered firing without news; `None` when unknown.
    pub ends_at: Option<SystemTime>,
    /// Link back to the expression that produced it.
    pub generator_url: String,
}

impl Alert {
    /// A firing alert with these labels, no annotations, no end time and no generator URL.
    pub fn new(labels: Labels, starts_at: SystemTime) -> Self {
        Alert {
            labels,
            annotations: BTreeMap::new(),
            starts_at,
            ends_at: None,
            generator_url: String::new(),
        }
    }

    /// The label-set fingerprint Alertmanager uses to identify the alert.
    pub fn fingerprint(&self) -> Fingerprint {
        fingerprint(&self.labels)
    }

    /// True when the alert has an end time that is not after `now`, which is how Alertmanager decides resolution.
    pub fn is_resolved_at(&self, now: SystemTime) -> bool {
        self.ends_at.is_some_and(|end| end <= now)
    }
}

/// A 64-bit label-set fingerprint, printed as 16 lower-case hex digits like Prometheus's `model.Fingerprint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub u64);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
/// Separates names and values in the hashed stream; it can never occur in UTF-8 text.
const SEPARATOR: u8 = 0xff;

fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

/// Prometheus's `LabelSet.Fingerprint`: FNV-1a (64 bit) over `name 0xff value 0xff` for every label in name order.
/// The empty set hashes to the FNV offset basis.
pub fn fingerprint(labels: &Labels) -> Fingerprint {
    fingerprint_pairs(labels.iter().map(|l| (&*l.name, &*l.value)))
}

/// The same fingerprint over `(name, value)` pairs that are already sorted by name (e.g. a `BTreeMap`).
pub fn fingerprint_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Fingerprint {
    let mut hash = FNV_OFFSET_BASIS;
    for (name, value) in pairs {
        hash = fnv1a(hash, name.as_bytes());
        hash = fnv1a(hash, &[SEPARATOR]);
        hash = fnv1a(hash, value.as_bytes());
        hash = fnv1a(hash, &[SEPARATOR]);
    }
    Fingerprint(hash)
}

/// Serializes a label set as a JSON object in name order.
pub(crate) struct LabelsJson<'a>(pub &'a Labels);

impl Serialize for LabelsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for l in self.0.iter() {
            map.serialize_entry(&*l.name, &*l.value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_set_is_the_offset_basis() {
        assert_eq!(
            fingerprint(&Labels::empty()).to_string(),
            "cbf29ce484222325"
        );
    }

    #[test]
    fn order_of_construction_does_not_matter() {
        let a = Labels::from_pairs(&[("b", "2"), ("a", "1")]).unwrap();
        let b = Labels::from_pairs(&[("a", "1"), ("b", "2")]).unwrap();
        assert_eq!(fingerprint(&a), fingerprint(&b));
        let c = Labels::from_pairs(&[("a", "12")]).unwrap();
        assert_ne!(fingerprint(&a), fingerprint(&c));
    }
}
