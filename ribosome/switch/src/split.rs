//! The split path (`payload_split.p4` + egress): QP choice, the WRITE crafted from the
//! packet, and the truncated header copy with the trailer for the NF.

use crate::consts::{DST_MAC_QP_BYTE, DST_MAC_SERVER_BYTE, PSN_MASK, SPLIT_FLAG};
use crate::packet::{set_lengths, L4Packet};
use crate::pipeline::{Out, Switch};
use ribosome_wire::ib::{Bth, Opcode, Reth};
use ribosome_wire::{PayloadTag, RoceSpec, SplitTrailer};

impl Switch {
    pub(crate) fn maybe_split(&mut self, frame: &[u8], p: L4Packet, now: u64, out: &mut Out) {
        if self
            .cfg
            .split_threshold
            .is_some_and(|t| p.ip_total_len <= t)
        {
            self.whole.small += 1;
            return self.send_whole_to_nf(frame, out);
        }
        let payload = frame.get(p.payload_off()..p.ip_end()).unwrap_or_default();
        if payload.is_empty() {
            self.whole.no_payload += 1;
            return self.send_whole_to_nf(frame, out);
        }
        let pad = (4 - payload.len() % 4) % 4;
        let read_len = PayloadTag::VERSIONED_LEN + pad + payload.len();
        if read_len > self.cfg.max_read {
            self.whole.too_large += 1;
            return self.send_whole_to_nf(frame, out);
        }
        let hash = p.flow.crc16();
        let Some(member) = self.selector.select(hash) else {
            self.whole.no_member += 1;
            return self.send_whole_to_nf(frame, out);
        };
        let qp_idx = usize::from(member);
        let server_idx = qp_idx / usize::from(self.cfg.qps_per_server);
        if !self.server_ready(server_idx) {
            self.whole.server_unknown += 1;
            return self.send_whole_to_nf(frame, out);
        }
        // enabled_qp_read: returns the value, decrementing it while it is above 1.
        let qp = &mut self.qps[qp_idx];
        match qp.enabled {
            1 => {}
            0 => {
                self.whole.qp_disabled += 1;
                if std::mem::take(&mut qp.restore) {
                    self.send_refresh(server_idx, qp_idx, out);
                }
                return self.send_whole_to_nf(frame, out);
            }
            _ => {
                qp.enabled -= 1;
                self.whole.qp_countdown += 1;
                return self.send_whole_to_nf(frame, out);
            }
        }
        let Some(qpn) = qp.qpn else {
            self.whole.qp_disabled += 1;
            return self.send_whole_to_nf(frame, out);
        };
        let psn = qp.psn;
        qp.psn = (psn + 1) & PSN_MASK;

        let generation = self.next_generation;
        self.next_generation = self.next_generation.wrapping_add(1).max(1);
        let slot = self.next_slot;
        self.next_slot = (self.next_slot + 1) % self.cfg.header_slots;

        let log = self.cfg.payload_log;
        let server = &mut self.servers[server_idx];
        let (Some(base_va), Some((mac, ip, port))) = (server.base_va, server.addr) else {
            return self.send_whole_to_nf(frame, out);
        };
        if server.log_offset + read_len as u64 > log {
            server.log_offset = 0;
            self.counters.log_wraps += 1;
        }
        let va = base_va + server.log_offset;
        server.log_offset += read_len as u64;
        server.unanswered_since.get_or_insert(now);

        // The WRITE: tag, pad, payload, at the log position, on the chosen QP.
        let tag = PayloadTag {
            pad_count: pad as u16,
            header_slot: slot,
            generation: Some(generation),
        };
        let mut data = std::mem::take(&mut self.scratch);
        data.clear();
        if tag.write_to(&mut data).is_err() {
            self.scratch = data;
            return self.send_whole_to_nf(frame, out);
        }
        data.resize(data.len() + pad, 0);
        data.extend_from_slice(payload);
        let spec = RoceSpec {
            src_mac: self.cfg.switch_mac,
            dst_mac: mac,
            src_ip: self.cfg.switch_ip,
            dst_ip: ip,
            ip_ident: u16::from_be_bytes([frame[18], frame[19]]),
            tos: frame[15],
            ttl: 64,
            udp_src_port: 0,
            bth: Bth::new(Opcode::WRITE_ONLY, qpn, psn, true),
            reth: Some(Reth {
                va,
                rkey: server.rkey,
                dma_len: read_len as u32,
            }),
            aeth: None,
        };
        let mut write = out.buffer(read_len + 80);
        let written = spec.write_to(&data, self.cfg.icrc, &mut write);
        self.scratch = data;
        if written.is_err() {
            out.recycle(write);
            return self.send_whole_to_nf(frame, out);
        }
        server.tx_bytes += write.len() as u64;
        out.push((port, write));

        // The header copy: original headers, MAC flag bytes, lengths cut, trailer appended.
        let trailer = SplitTrailer {
            remote_va: va,
            length: read_len as u16,
            qp_index: qp_idx as u16,
            server_index: server_idx as u16,
            pad_count: pad as u16,
            header_slot: slot,
            generation: Some(generation),
        };
        let mut hdr = out.copy_of(&frame[..p.payload_off()]);
        hdr[6 + 5] = SPLIT_FLAG;
        hdr[DST_MAC_SERVER_BYTE] = server_idx as u8;
        hdr[DST_MAC_QP_BYTE] = qp_idx as u8;
        set_lengths(&mut hdr, SplitTrailer::VERSIONED_LEN, p.l4_hdr_len);
        trailer.write_to(&mut hdr);
        out.push((self.cfg.nf_port, hdr));
        self.counters.split += 1;
        self.counters.writes += 1;
    }
}
