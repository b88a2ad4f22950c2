//! Flow statistics (the chain's FlowIPManagerIMP + FlowCounter): a real per-flow table with a
//! one-entry "same flow as last packet" cache, as FastClick's flow manager has.

use crate::trace::Tuple;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, Default)]
pub struct FlowStats {
    pub packets: u64,
    pub bytes: u64,
    pub first_ns: u64,
    pub last_ns: u64,
}

#[derive(Debug)]
pub struct FlowCounter {
    table: HashMap<Tuple, FlowStats, ahash::RandomState>,
    capacity: usize,
    last: Option<Tuple>,
    pub cache_hits: u64,
    pub table_full: u64,
}

impl FlowCounter {
    pub fn new(capacity: usize) -> Self {
        Self {
            table: HashMap::with_capacity_and_hasher(capacity, super::fixed_hasher()),
            capacity,
            last: None,
            cache_hits: 0,
            table_full: 0,
        }
    }

    /// Accounts one packet; false when the table is full and the flow is new (packet dropped).
    pub fn count(&mut self, k: &Tuple, wire_len: u16, now: u64) -> bool {
        if self.last == Some(*k) {
            self.cache_hits += 1;
        }
        let n = self.table.len();
        let full = n >= self.capacity;
        let e = match self.table.get_mut(k) {
            Some(e) => e,
            None if full => {
                self.table_full += 1;
                return false;
            }
            None => self.table.entry(*k).or_insert(FlowStats {
                first_ns: now,
                ..FlowStats::default()
            }),
        };
        e.packets += 1;
        e.bytes += u64::from(wire_len);
        e.last_ns = now;
        self.last = Some(*k);
        true
    }

    /// Accounts `n` packets of one flow (`bytes` in all) with one table lookup, as `n` calls
    /// of [`Self::count`] would (the first may miss the last-flow cache, the rest hit it).
    pub fn count_burst(&mut self, k: &Tuple, n: u64, bytes: u64, now: u64) -> bool {
        if n == 0 {
            return true;
        }
        let hit_first = self.last == Some(*k);
        let full = self.table.len() >= self.capacity;
        let e = match self.table.get_mut(k) {
            Some(e) => e,
            None if full => {
                self.table_full += n;
                return false;
            }
            None => self.table.entry(*k).or_insert(FlowStats {
                first_ns: now,
                ..FlowStats::default()
            }),
        };
        e.packets += n;
        e.bytes += bytes;
        e.last_ns = now;
        self.cache_hits += n - 1 + u64::from(hit_first);
        self.last = Some(*k);
        true
    }

    pub fn get(&self, k: &Tuple) -> Option<&FlowStats> {
        self.table.get(k)
    }

    pub fn flows(&self) -> usize {
        self.table.len()
    }
}
