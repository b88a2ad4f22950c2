//! Building a [`Locality`] meter from a sequence of flow ids (an output order recorded by a
//! test or an experiment): the same run counting as the scheduler's own SLF meters.

use crate::Locality;

impl Extend<u64> for Locality {
    fn extend<I: IntoIterator<Item = u64>>(&mut self, flows: I) {
        for f in flows {
            self.observe(f);
        }
    }
}

impl FromIterator<u64> for Locality {
    /// `flows.collect::<Locality>().slf()` is the SLF of that order.
    fn from_iter<I: IntoIterator<Item = u64>>(flows: I) -> Self {
        let mut l = Self::default();
        l.extend(flows);
        l
    }
}

#[cfg(test)]
mod tests {
    use crate::Locality;

    #[test]
    fn slf_counts_runs() {
        let slf = |v: &[u64]| v.iter().copied().collect::<Locality>().slf();
        assert_eq!(slf(&[1, 1, 2, 2, 1, 1]), 2.0);
        assert_eq!(slf(&[1, 2, 3, 4]), 1.0);
        assert_eq!(slf(&[]), 1.0);
    }
}
