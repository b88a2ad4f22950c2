//! Per-flow order across the two paths. A split packet leaves one READ round trip after its
//! header returned; a whole packet of the same flow returning from the NF just after it
//! would overtake it (the original reorders here). Each flow (by the CRC-16 of its returned
//! header, so colliding flows only wait for each other) keeps a FIFO of what the NF returned:
//! a split packet waiting for its payload blocks the whole packets behind it until it is
//! rebuilt or counted lost. Bounded: beyond `limit` held frames, frames pass unordered
//! (counted).

use crate::PortId;
use std::collections::{HashMap, VecDeque};

#[derive(Debug)]
enum Item {
    /// A split packet whose payload is being fetched.
    Waiting { slot: u16, generation: u32 },
    /// A frame ready to leave once everything before it has.
    Ready(PortId, Vec<u8>),
    /// A split packet counted lost: nothing to send.
    Lost,
}

/// The per-flow FIFOs and the frames they released.
#[derive(Debug)]
pub(crate) struct FlowOrder {
    queues: HashMap<u16, VecDeque<Item>>,
    held: usize,
    limit: usize,
    /// Released frames, drained into the caller's output by the switch.
    pub(crate) ready: Vec<(PortId, Vec<u8>)>,
    /// Frames that passed unordered because `limit` was reached.
    pub(crate) overflow: u64,
    /// Emptied FIFOs kept for the next flow (no allocation per split packet).
    spare: Vec<VecDeque<Item>>,
}

/// Emptied FIFOs kept at most.
const SPARE_QUEUES: usize = 1024;

impl FlowOrder {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            queues: HashMap::new(),
            held: 0,
            limit,
            ready: Vec::new(),
            overflow: 0,
            spare: Vec::new(),
        }
    }

    /// A whole packet from the NF: out now unless split packets of its flow are pending.
    pub(crate) fn whole(&mut self, hash: u16, port: PortId, frame: Vec<u8>) {
        match self.queues.get_mut(&hash) {
            Some(q) if self.held < self.limit => {
                q.push_back(Item::Ready(port, frame));
                self.held += 1;
            }
            Some(_) => {
                self.overflow += u64::from(self.limit > 0);
                self.ready.push((port, frame));
            }
            None => self.ready.push((port, frame)),
        }
    }

    /// A split header stored: its packet will come out at this place in the flow.
    pub(crate) fn expect(&mut self, hash: u16, slot: u16, generation: u32) {
        if self.held >= self.limit {
            self.overflow += u64::from(self.limit > 0);
            return;
        }
        self.held += 1;
        let spare = &mut self.spare;
        self.queues
            .entry(hash)
            .or_insert_with(|| spare.pop().unwrap_or_default())
            .push_back(Item::Waiting { slot, generation });
    }

    /// The split packet (slot, generation) is rebuilt (`Some`) or lost (`None`).
    pub(crate) fn settle(
        &mut self,
        hash: u16,
        slot: u16,
        generation: u32,
        done: Option<(PortId, Vec<u8>)>,
    ) {
        let found = self.queues.get_mut(&hash).and_then(|q| {
            q.iter_mut().find(|i| {
                matches!(i, Item::Waiting { slot: s, generation: g } if *s == slot && *g == generation)
            })
        });
        match (found, done) {
            (Some(item), Some((port, f))) => *item = Item::Ready(port, f),
            (Some(item), None) => *item = Item::Lost,
            // Not tracked (overflow): it simply leaves now.
            (None, Some(out)) => {
                self.ready.push(out);
                return;
            }
            (None, None) => return,
        }
        self.release(hash);
    }

    fn release(&mut self, hash: u16) {
        let Some(q) = self.queues.get_mut(&hash) else {
            return;
        };
        while let Some(front) = q.front() {
            if matches!(front, Item::Waiting { .. }) {
                break;
            }
            self.held -= 1;
            if let Some(Item::Ready(port, f)) = q.pop_front() {
                self.ready.push((port, f));
            }
        }
        if q.is_empty() {
            if let Some(q) = self.queues.remove(&hash) {
                if self.spare.len() < SPARE_QUEUES {
                    self.spare.push(q);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_packets_wait_behind_pending_split_ones_of_their_flow() {
        let mut o = FlowOrder::new(100);
        o.whole(1, 0, vec![1]);
        o.expect(1, 10, 100);
        o.whole(1, 0, vec![2]);
        o.whole(2, 0, vec![9]); // another flow passes
        o.expect(1, 11, 101);
        o.whole(1, 0, vec![3]);
        assert_eq!(
            o.ready.drain(..).map(|(_, f)| f[0]).collect::<Vec<_>>(),
            [1, 9]
        );
        o.settle(1, 11, 101, Some((0, vec![20])));
        assert!(o.ready.is_empty(), "blocked behind slot 10");
        o.settle(1, 10, 100, None); // lost: the rest flows
        assert_eq!(
            o.ready.drain(..).map(|(_, f)| f[0]).collect::<Vec<_>>(),
            [2, 20, 3]
        );
        assert_eq!(o.held, 0);
        assert!(o.queues.is_empty());
    }

    #[test]
    fn the_bound_lets_frames_pass_and_counts_it() {
        let mut o = FlowOrder::new(1);
        o.expect(1, 1, 1);
        o.whole(1, 0, vec![5]);
        assert_eq!(o.overflow, 1);
        assert_eq!(o.ready.len(), 1);
        o.expect(1, 2, 2);
        assert_eq!(o.overflow, 2);
        o.settle(1, 2, 2, Some((0, vec![6])));
        assert_eq!(o.ready.len(), 2);
    }
}
