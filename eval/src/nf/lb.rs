//! Optional load balancer (the testie's FlowIPLoadBalancer): new flows go to backends round-robin,
//! an affinity table keeps each flow on its backend, and the destination is rewritten.

use super::headers::Hdr;
use crate::trace::Tuple;
use std::collections::HashMap;

#[derive(Debug)]
pub struct LoadBalancer {
    backends: Vec<u32>,
    next: usize,
    affinity: HashMap<Tuple, u32, ahash::RandomState>,
}

impl LoadBalancer {
    pub fn new(backends: Vec<u32>, capacity: usize) -> Self {
        assert!(
            !backends.is_empty(),
            "load balancer needs at least one backend"
        );
        Self {
            backends,
            next: 0,
            affinity: HashMap::with_capacity_and_hasher(capacity, super::fixed_hasher()),
        }
    }

    pub fn backend(&mut self, k: &Tuple) -> u32 {
        let n = self.backends.len();
        let (b, next) = (&self.backends, &mut self.next);
        *self.affinity.entry(*k).or_insert_with(|| {
            *next = (*next + 1) % n;
            b[*next]
        })
    }

    pub fn forward(&mut self, f: &mut [u8], h: &Hdr) {
        let b = self.backend(&h.key);
        super::nat::rewrite_dst(f, h, b);
    }
}
