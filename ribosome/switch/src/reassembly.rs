//! The return path: headers from the NF are stored and turned into READ requests
//! (`StoreHeader` + `PayloadRequest`); READ responses are matched to their header and
//! rebuilt into the packet (`PacketReconstruct`) after the generation check.

use crate::consts::{ETH_LEN, IPV4_LEN, PSN_MASK, SPLIT_FLAG};
use crate::packet::{self, set_lengths, Parsed};
use crate::pipeline::{Out, Switch};
use crate::state::{PendingRead, Slot};
use ribosome_wire::ib::{AethKind, Bth, Opcode, Reth};
use ribosome_wire::{check_fetch, FetchMismatch, PayloadTag, RoceFrame, RoceSpec, SplitTrailer};

impl Switch {
    /// A frame from the NF port: a split header (destination MAC flag after the NF's swap)
    /// or a whole packet going out.
    pub(crate) fn on_nf_frame(&mut self, frame: &[u8], now: u64, out: &mut Out) {
        let parsed = packet::parse(frame);
        if frame.get(5) != Some(&SPLIT_FLAG) {
            let hash = match parsed {
                Parsed::L4(p) => p.flow.crc16(),
                _ => 0,
            };
            self.counters.whole_out += 1;
            let port = self.client_port(hash);
            let f = out.copy_of(frame);
            self.order.whole(hash, port, f);
            return;
        }
        let Parsed::L4(p) = parsed else {
            self.losses.bad_header += 1;
            return;
        };
        let trailer_at = p.payload_off();
        let trailer = match frame.get(trailer_at..).map(SplitTrailer::parse) {
            Some(Ok((t, _))) if t.generation.is_some() => t,
            _ => {
                self.losses.bad_header += 1;
                return;
            }
        };
        let qp_idx = usize::from(trailer.qp_index);
        let server_idx = usize::from(trailer.server_index);
        let qps = usize::from(self.cfg.qps_per_server);
        if qp_idx >= self.qps.len()
            || server_idx != qp_idx / qps
            || usize::from(trailer.header_slot) >= self.slots.len()
        {
            self.losses.bad_header += 1;
            return;
        }
        let server = &self.servers[server_idx];
        let usable = self.qps[qp_idx].qpn.is_some()
            && self.qps[qp_idx].enabled == 1
            && server.addr.is_some()
            && !server.dead;
        if !usable {
            self.losses.qp_disabled += 1;
            return;
        }
        let generation = trailer.generation.unwrap_or_default();
        let slot_i = usize::from(trailer.header_slot);
        if let Some(old) = self.slots[slot_i].take() {
            // The previous header in this slot never got its payload: it is lost now.
            self.losses.slot_reused += 1;
            self.order
                .settle(old.flow_hash, trailer.header_slot, old.generation, None);
        }
        let flow_hash = p.flow.crc16();
        self.slots[slot_i] = Some(Slot {
            header: out.copy_of(&frame[..trailer_at]),
            l4_hdr_len: p.l4_hdr_len,
            trailer,
            generation,
            flow_hash,
        });
        self.order
            .expect(flow_hash, trailer.header_slot, generation);
        let qp = &mut self.qps[qp_idx];
        if qp.reads.len() < self.cfg.max_outstanding_reads {
            self.issue_read(qp_idx, trailer.header_slot, generation, now, out);
        } else if qp.waiting.len() < self.cfg.max_waiting_reads {
            // The responder takes at most max_outstanding_reads READs per QP (a burst from
            // the scheduler is one flow, hence one QP): hold the rest until answers come.
            qp.waiting.push_back((trailer.header_slot, generation));
        } else {
            self.losses.read_depth += 1;
            self.forget_slot(trailer.header_slot);
        }
    }

    /// Crafts the READ for the header in `slot` (`PayloadRequest`), unless the slot was
    /// taken over meanwhile (already counted as `slot_reused`).
    fn issue_read(&mut self, qp_idx: usize, slot: u16, generation: u32, now: u64, out: &mut Out) {
        let Some(s) = self.slots[usize::from(slot)]
            .as_ref()
            .filter(|s| s.generation == generation)
        else {
            return;
        };
        let trailer = s.trailer;
        let server_idx = usize::from(trailer.server_index);
        let server = &self.servers[server_idx];
        let (Some(qpn), Some((mac, ip, port))) = (self.qps[qp_idx].qpn, server.addr) else {
            self.losses.qp_disabled += 1;
            self.forget_slot(slot);
            return;
        };
        let qp = &mut self.qps[qp_idx];
        let psn = qp.psn;
        qp.psn = (psn + 1) & PSN_MASK;
        qp.reads.push_back(PendingRead {
            psn,
            slot,
            generation,
        });
        let spec = RoceSpec {
            src_mac: self.cfg.switch_mac,
            dst_mac: mac,
            src_ip: self.cfg.switch_ip,
            dst_ip: ip,
            ip_ident: psn as u16,
            tos: 0,
            ttl: 64,
            udp_src_port: 0,
            bth: Bth::new(Opcode::READ_REQUEST, qpn, psn, true),
            reth: Some(Reth {
                va: trailer.remote_va,
                rkey: server.rkey,
                dma_len: u32::from(trailer.length),
            }),
            aeth: None,
        };
        let mut req = out.buffer(80);
        if spec.write_to(&[], self.cfg.icrc, &mut req).is_ok() {
            let server = &mut self.servers[server_idx];
            server.tx_bytes += req.len() as u64;
            server.unanswered_since.get_or_insert(now);
            self.counters.reads += 1;
            out.push((port, req));
        } else {
            out.recycle(req);
        }
    }

    /// Sends held READs of `qp_idx` while the responder has room.
    fn pump_waiting(&mut self, qp_idx: usize, now: u64, out: &mut Out) {
        while self.qps[qp_idx].reads.len() < self.cfg.max_outstanding_reads {
            let Some((slot, generation)) = self.qps[qp_idx].waiting.pop_front() else {
                break;
            };
            self.issue_read(qp_idx, slot, generation, now, out);
        }
    }

    /// RoCE from a payload server: ACK, NAK, or READ response.
    pub(crate) fn on_server_frame(
        &mut self,
        port: crate::PortId,
        frame: &[u8],
        now: u64,
        out: &mut Out,
    ) {
        let Ok(f) = RoceFrame::parse(frame) else {
            self.counters.junk += 1;
            return;
        };
        let qp_idx = f.bth.dest_qp as usize;
        let server_idx = qp_idx / usize::from(self.cfg.qps_per_server);
        // Only the port the server registered from may speak for its QPs.
        let from_its_port = self
            .servers
            .get(server_idx)
            .and_then(|s| s.addr)
            .is_some_and(|(_, _, p)| p == port);
        if qp_idx >= self.qps.len() || !from_its_port {
            self.counters.junk += 1;
            return;
        }
        if let Some(s) = self.servers.get_mut(server_idx) {
            s.unanswered_since = None;
        }
        match f.bth.opcode {
            Opcode::ACK => match f.aeth.map(|a| a.kind()) {
                Some(AethKind::Nak(_)) => {
                    self.counters.naks += 1;
                    self.disable_qp(qp_idx);
                }
                Some(AethKind::RnrNak { .. }) => self.counters.rnr_naks += 1,
                _ => self.counters.acks += 1,
            },
            Opcode::READ_RESPONSE_ONLY => {
                self.read_response(qp_idx, f.bth.psn, f.payload, now, out);
            }
            _ => self.counters.unexpected_roce += 1,
        }
    }

    /// NAK: `enabled_qp = 0`; every READ in flight on the QP is lost (the responder drops
    /// everything after a NAK until the QP is reset).
    pub(crate) fn disable_qp(&mut self, qp_idx: usize) {
        let qp = &mut self.qps[qp_idx];
        qp.enabled = 0;
        self.fail_reads(qp_idx, LossKind::QpFailed);
    }

    /// Every READ in flight or held on `qp_idx` is lost (counted once per packet).
    pub(crate) fn fail_reads(&mut self, qp_idx: usize, kind: LossKind) {
        let qp = &mut self.qps[qp_idx];
        let mut lost: Vec<PendingRead> = qp.reads.drain(..).collect();
        lost.extend(qp.waiting.drain(..).map(|(slot, generation)| PendingRead {
            psn: 0,
            slot,
            generation,
        }));
        for r in lost {
            self.drop_pending(r, kind);
        }
    }

    /// Counts a lost READ's packet once: only if its header still sits in its slot.
    pub(crate) fn drop_pending(&mut self, r: PendingRead, kind: LossKind) {
        let slot = &self.slots[usize::from(r.slot)];
        if slot.as_ref().is_some_and(|s| s.generation == r.generation) {
            self.forget_slot(r.slot);
            match kind {
                LossKind::QpFailed => self.losses.qp_failed += 1,
                LossKind::Unanswered => self.losses.read_unanswered += 1,
            }
        }
    }

    /// Empties a slot whose packet is lost, letting its flow's later frames go.
    fn forget_slot(&mut self, slot: u16) {
        if let Some(s) = self.slots[usize::from(slot)].take() {
            self.order.settle(s.flow_hash, slot, s.generation, None);
        }
    }

    fn read_response(&mut self, qp_idx: usize, psn: u32, data: &[u8], now: u64, out: &mut Out) {
        self.rebuild(qp_idx, psn, data);
        self.pump_waiting(qp_idx, now, out);
    }

    fn rebuild(&mut self, qp_idx: usize, psn: u32, data: &[u8]) {
        let reads = &mut self.qps[qp_idx].reads;
        let Some(pos) = reads.iter().position(|r| r.psn == psn) else {
            self.counters.stale_responses += 1;
            return;
        };
        let skipped: Vec<PendingRead> = reads.drain(..pos).collect();
        let Some(read) = reads.pop_front() else {
            return;
        };
        for r in skipped {
            self.drop_pending(r, LossKind::Unanswered);
        }
        let slot_i = usize::from(read.slot);
        let still_ours = self.slots[slot_i]
            .as_ref()
            .is_some_and(|s| s.generation == read.generation);
        if !still_ours {
            // The header was evicted from its slot and counted then.
            self.counters.stale_responses += 1;
            return;
        }
        let Some(slot) = self.slots[slot_i].take() else {
            return;
        };
        let tag = PayloadTag::parse(data);
        let verdict = match tag {
            Ok((tag, payload)) => check_fetch(&slot.trailer, &tag).map(|()| payload),
            Err(_) => Err(FetchMismatch::Layout),
        };
        let expect = usize::from(slot.trailer.length)
            .saturating_sub(PayloadTag::VERSIONED_LEN + usize::from(slot.trailer.pad_count));
        let Some(payload) = verdict.ok().filter(|p| p.len() == expect) else {
            self.losses.payload_overwritten += 1;
            self.order
                .settle(slot.flow_hash, read.slot, slot.generation, None);
            return;
        };
        // The stored header's buffer becomes the packet.
        let mut pkt = slot.header;
        pkt.reserve(payload.len());
        set_lengths(&mut pkt, payload.len(), slot.l4_hdr_len);
        pkt.extend_from_slice(payload);
        debug_assert_eq!(
            pkt.len(),
            ETH_LEN + IPV4_LEN + slot.l4_hdr_len + payload.len()
        );
        self.counters.reassembled += 1;
        let port = self.client_port(slot.flow_hash);
        self.order.settle(
            slot.flow_hash,
            read.slot,
            slot.generation,
            Some((port, pkt)),
        );
    }
}

/// Which loss counter a dropped READ goes to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LossKind {
    QpFailed,
    Unanswered,
}
