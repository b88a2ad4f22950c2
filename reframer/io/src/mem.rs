//! `mem`: an in-memory port, to measure the port layer and scheduler without a kernel and to
//! test workers. RX replays a set of frames (like DPDK `net_null`), TX counts and keeps the
//! last frames sent.

use std::{collections::VecDeque, io, os::fd::RawFd};

use crate::{
    frame::{Frame, FramePool},
    port::{Port, PortCounters, RxPort, TxPort},
};

/// In-memory port.
#[derive(Debug)]
pub struct MemPort {
    name: String,
    source: Vec<Vec<u8>>,
    next: usize,
    remaining: u64,
    keep: usize,
    /// The last `keep` frames transmitted, oldest first.
    pub sent: VecDeque<Vec<u8>>,
    counters: PortCounters,
}

impl MemPort {
    /// A port that receives the frames of `source` in a loop, `count` frames in total, and
    /// keeps the last `keep` transmitted frames.
    pub fn new(name: &str, source: Vec<Vec<u8>>, count: u64, keep: usize) -> Self {
        Self {
            name: format!("mem:{name}"),
            remaining: if source.is_empty() { 0 } else { count },
            source,
            next: 0,
            keep,
            sent: VecDeque::new(),
            counters: PortCounters::default(),
        }
    }
}

impl RxPort for MemPort {
    fn rx_burst(
        &mut self,
        pool: &mut FramePool,
        out: &mut Vec<Frame>,
        max: usize,
    ) -> io::Result<usize> {
        let n = (max as u64).min(self.remaining) as usize;
        for _ in 0..n {
            let src = &self.source[self.next];
            self.next = (self.next + 1) % self.source.len();
            let mut f = pool.get();
            if !f.fill(src) {
                self.counters.rx_oversize += 1;
                pool.put(f);
                continue;
            }
            self.counters.rx_packets += 1;
            self.counters.rx_bytes += src.len() as u64;
            out.push(f);
        }
        self.remaining -= n as u64;
        Ok(n)
    }

    fn rx_fd(&self) -> Option<RawFd> {
        None
    }
}

impl TxPort for MemPort {
    fn tx_burst(&mut self, frames: &mut Vec<Frame>, pool: &mut FramePool) -> io::Result<usize> {
        let n = frames.len();
        for f in frames.drain(..) {
            self.counters.tx_packets += 1;
            self.counters.tx_bytes += f.len() as u64;
            if self.keep > 0 {
                if self.sent.len() == self.keep {
                    self.sent.pop_front();
                }
                self.sent.push_back(f.as_ref().to_vec());
            }
            pool.put(f);
        }
        Ok(n)
    }
}

impl Port for MemPort {
    fn name(&self) -> &str {
        &self.name
    }

    fn counters(&mut self) -> PortCounters {
        self.counters
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_and_counts() {
        let mut p = MemPort::new("t", vec![vec![1; 60], vec![2; 70]], 5, 2);
        let mut pool = FramePool::new(2048, 0);
        let mut v = Vec::new();
        assert_eq!(p.rx_burst(&mut pool, &mut v, 4).unwrap(), 4);
        assert_eq!(p.rx_burst(&mut pool, &mut v, 4).unwrap(), 1);
        assert_eq!(p.rx_burst(&mut pool, &mut v, 4).unwrap(), 0);
        assert_eq!(v[1].as_ref(), &[2; 70][..]);
        assert_eq!(p.tx_burst(&mut v, &mut pool).unwrap(), 5);
        assert!(v.is_empty());
        assert_eq!(p.sent.len(), 2);
        let c = p.counters();
        assert_eq!((c.rx_packets, c.tx_packets), (5, 5));
        assert_eq!(c.rx_bytes, 60 * 3 + 70 * 2);
        assert_eq!(pool.allocated(), 5);
    }
}
