//! TCP ACK coalescing over one released burst (SFMaker `PROTO_COMPRESS`, `REORDER`).
//!
//! In a burst of one TCP flow, pure ACKs made redundant by a later, larger ACK are removed,
//! and every kept segment carries the burst's largest ACK and that segment's window. A pure
//! ACK repeating the previous kept segment's ACK is a duplicate ACK and is kept (fast
//! retransmit must still see it). Checksums are updated incrementally.

use crate::wire::{self, be16, be32, checksum_adjust_u16, checksum_adjust_u32, Parsed};

/// Sequence-space comparison (RFC 1982 style, 32-bit wrap).
#[inline]
fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

#[derive(Clone, Copy)]
struct Seg {
    l4: usize,
    seq: u32,
    ack: u32,
    win: u16,
    pure_ack: bool,
}

fn seg(frame: &[u8], snapped: bool) -> Option<Seg> {
    let parsed = if snapped {
        wire::parse_snapped(frame)
    } else {
        wire::parse(frame)
    };
    let Parsed::Flow(info) = parsed else {
        return None;
    };
    if !info.is_tcp() {
        return None;
    }
    let l4 = usize::from(info.l4_off);
    Some(Seg {
        l4,
        seq: be32(frame, l4 + 4)?,
        ack: be32(frame, l4 + 8)?,
        win: be16(frame, l4 + 14)?,
        pure_ack: info.is_pure_ack(),
    })
}

/// Reusable buffers so coalescing allocates nothing in steady state.
pub(crate) struct Coalescer<P> {
    segs: Vec<Option<Seg>>,
    segs_sorted: Vec<Option<Seg>>,
    order: Vec<(u32, usize)>,
    tmp: Vec<Option<P>>,
}

/// What one call did.
pub(crate) struct Outcome {
    pub(crate) removed: u64,
    pub(crate) reordered: bool,
}

impl<P: AsRef<[u8]> + AsMut<[u8]>> Coalescer<P> {
    pub(crate) fn new() -> Self {
        Self {
            segs: Vec::new(),
            segs_sorted: Vec::new(),
            order: Vec::new(),
            tmp: Vec::new(),
        }
    }

    /// Coalesces `burst` in place; removed packets go to `discard`.
    pub(crate) fn run(
        &mut self,
        burst: &mut Vec<P>,
        reorder: bool,
        snapped: bool,
        mut discard: impl FnMut(P),
    ) -> Outcome {
        let mut out = Outcome {
            removed: 0,
            reordered: false,
        };
        if burst.is_empty() {
            return out;
        }
        self.segs.clear();
        self.segs
            .extend(burst.iter().map(|p| seg(p.as_ref(), snapped)));
        // Anything we cannot read as TCP is left exactly as it is.
        if self.segs.iter().any(Option::is_none) {
            return out;
        }
        let segs = &self.segs;
        let get = |i: usize| segs[i].expect("checked above");
        let last = get(burst.len() - 1);
        let (mut biggest_ack, mut biggest_win) = (last.ack, last.win);
        let mut has_data = false;
        let mut ordered = true;
        let mut last_seq = get(0).seq;
        for i in 0..burst.len() {
            let s = get(i);
            if seq_lt(biggest_ack, s.ack) {
                biggest_ack = s.ack;
                biggest_win = s.win;
            }
            if seq_lt(s.seq, last_seq) {
                ordered = false;
            }
            last_seq = s.seq;
            has_data |= !s.pure_ack;
        }
        if reorder && !ordered {
            let base = get(0).seq;
            self.order.clear();
            self.order
                .extend((0..burst.len()).map(|i| (get(i).seq.wrapping_sub(base), i)));
            // Stable: equal sequence numbers keep arrival order.
            self.order.sort_by_key(|&(k, _)| k as i32);
            self.tmp.clear();
            self.tmp.extend(burst.drain(..).map(Some));
            for &(_, i) in &self.order {
                burst.push(self.tmp[i].take().expect("each index appears once"));
            }
            self.segs_sorted.clear();
            self.segs_sorted
                .extend(self.order.iter().map(|&(_, i)| self.segs[i]));
            std::mem::swap(&mut self.segs, &mut self.segs_sorted);
            out.reordered = true;
        }
        let mut ack_sent = false;
        let mut last_ack_orig = 0u32;
        let mut keep = 0;
        self.tmp.clear();
        self.tmp.extend(burst.drain(..).map(Some));
        for i in 0..self.tmp.len() {
            let s = self.segs[i].expect("checked above");
            let mut p = self.tmp[i].take().expect("visited once");
            let all_acks_first = !ack_sent && !has_data;
            if !all_acks_first
                && s.pure_ack
                && (last_ack_orig != s.ack || seq_lt(s.ack, biggest_ack))
            {
                out.removed += 1;
                discard(p);
                continue;
            }
            last_ack_orig = s.ack;
            rewrite(p.as_mut(), &s, biggest_ack, biggest_win);
            ack_sent = true;
            burst.push(p);
            keep += 1;
        }
        debug_assert_eq!(keep, burst.len());
        out
    }
}

fn rewrite(frame: &mut [u8], s: &Seg, ack: u32, win: u16) {
    let l4 = s.l4;
    let Some(mut csum) = be16(frame, l4 + 16) else {
        return;
    };
    if s.ack != ack {
        frame[l4 + 8..l4 + 12].copy_from_slice(&ack.to_be_bytes());
        csum = checksum_adjust_u32(csum, s.ack, ack);
    }
    if s.win != win {
        frame[l4 + 14..l4 + 16].copy_from_slice(&win.to_be_bytes());
        csum = checksum_adjust_u16(csum, s.win, win);
    }
    frame[l4 + 16..l4 + 18].copy_from_slice(&csum.to_be_bytes());
}
