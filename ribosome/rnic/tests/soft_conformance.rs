//! Conformance of the soft RC responder with the IBA behaviour Ribosome relies on.

use ribosome_rnic::soft::{SoftConfig, SoftRnic};
use ribosome_rnic::RdmaTransport;
use ribosome_wire::{Aeth, AethKind, Bth, MacAddr, NakCode, Opcode, Reth, RoceFrame, RoceSpec};
use std::net::Ipv4Addr;

const SRV_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x10]);
const SW_MAC: MacAddr = MacAddr([0, 0, 0, 0, 0, 1]);
const SRV_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 40, 1);
const SW_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 40, 254);
const DEST: u32 = 65;

/// A reply, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reply {
    opcode: Opcode,
    psn: u32,
    dest_qp: u32,
    aeth: Option<Aeth>,
    payload: Vec<u8>,
}

struct Rig {
    rnic: SoftRnic,
    qpn: u32,
    va: u64,
    rkey: u32,
    with_icrc: bool,
}

impl Rig {
    fn new(mtu: usize) -> Self {
        let mut cfg = SoftConfig::new(SRV_MAC, SRV_IP);
        cfg.mtu = mtu;
        let mut rnic = SoftRnic::new(cfg);
        let mem = rnic.register_memory(1 << 20).unwrap();
        let qpn = rnic.create_qp(DEST).unwrap();
        Self {
            rnic,
            qpn,
            va: mem.va,
            rkey: mem.rkey,
            with_icrc: true,
        }
    }

    fn frame(&self, op: Opcode, psn: u32, reth: Option<Reth>, payload: &[u8]) -> Vec<u8> {
        // AckReq on message ends only, as a requester sets it (the responder honours it anywhere).
        let ack_req = !matches!(op, Opcode::WRITE_FIRST | Opcode::WRITE_MIDDLE);
        let mut bth = Bth::new(op, self.qpn, psn, ack_req);
        bth.pad_count = ((4 - payload.len() % 4) % 4) as u8;
        RoceSpec {
            src_mac: SW_MAC,
            dst_mac: SRV_MAC,
            src_ip: SW_IP,
            dst_ip: SRV_IP,
            ip_ident: psn as u16,
            tos: 0,
            ttl: 64,
            udp_src_port: 0,
            bth,
            reth,
            aeth: None,
        }
        .to_bytes(payload, self.with_icrc)
        .unwrap()
    }

    fn send(&mut self, frame: &[u8]) -> Vec<Reply> {
        self.rnic.handle_frame(frame);
        self.drain()
    }

    fn drain(&mut self) -> Vec<Reply> {
        let mut out = Vec::new();
        let mut buf = Vec::new();
        while self.rnic.poll_transmit(&mut buf) {
            let f = RoceFrame::parse(&buf).unwrap();
            assert!(f.icrc_valid(), "responder sent a bad ICRC");
            assert_eq!((f.eth.dst, f.ip.dst, f.ip.src), (SW_MAC, SW_IP, SRV_IP));
            out.push(Reply {
                opcode: f.bth.opcode,
                psn: f.bth.psn,
                dest_qp: f.bth.dest_qp,
                aeth: f.aeth,
                payload: f.payload.to_vec(),
            });
        }
        out
    }

    fn write(&mut self, psn: u32, off: u64, data: &[u8]) -> Vec<Reply> {
        let reth = Reth {
            va: self.va + off,
            rkey: self.rkey,
            dma_len: data.len() as u32,
        };
        let f = self.frame(Opcode::WRITE_ONLY, psn, Some(reth), data);
        self.send(&f)
    }

    fn read_frame(&self, psn: u32, off: u64, len: u32) -> Vec<u8> {
        let reth = Reth {
            va: self.va + off,
            rkey: self.rkey,
            dma_len: len,
        };
        self.frame(Opcode::READ_REQUEST, psn, Some(reth), &[])
    }

    fn read(&mut self, psn: u32, off: u64, len: u32) -> Vec<Reply> {
        let f = self.read_frame(psn, off, len);
        self.send(&f)
    }

    fn mem(&self, off: usize, len: usize) -> Vec<u8> {
        self.rnic.region(self.rkey).unwrap().bytes()[off..off + len].to_vec()
    }
}

fn ack(psn: u32, msn: u32) -> Reply {
    Reply {
        opcode: Opcode::ACK,
        psn,
        dest_qp: DEST,
        aeth: Some(Aeth::ack(msn)),
        payload: vec![],
    }
}

fn nak(psn: u32, code: NakCode, msn: u32) -> Reply {
    Reply {
        opcode: Opcode::ACK,
        psn,
        dest_qp: DEST,
        aeth: Some(Aeth::nak(code, msn)),
        payload: vec![],
    }
}

#[test]
fn write_only_is_acked_with_msn_and_read_returns_it() {
    let mut r = Rig::new(4096);
    assert_eq!(r.write(0, 100, b"parked payload"), vec![ack(0, 1)]);
    assert_eq!(r.mem(100, 14), b"parked payload");
    let resp = r.read(1, 100, 14);
    assert_eq!(resp.len(), 1);
    assert_eq!(resp[0].opcode, Opcode::READ_RESPONSE_ONLY);
    assert_eq!((resp[0].psn, resp[0].dest_qp), (1, DEST));
    assert_eq!(resp[0].aeth, Some(Aeth::ack(2)));
    assert_eq!(resp[0].payload, b"parked payload");
    assert_eq!(r.rnic.counters().writes, 1);
    assert_eq!(r.rnic.counters().reads, 1);
}

#[test]
fn psn_gap_naks_once_drops_silently_then_recovers() {
    let mut r = Rig::new(4096);
    assert_eq!(r.write(0, 0, b"a"), vec![ack(0, 1)]);
    // PSN 1 is lost; 2 arrives: one sequence-error NAK naming the expected PSN.
    assert_eq!(
        r.write(2, 0, b"c"),
        vec![nak(1, NakCode::PsnSequenceError, 1)]
    );
    // Further out-of-order packets are dropped without a reply.
    assert!(r.write(3, 0, b"d").is_empty());
    assert!(r.read(4, 0, 1).is_empty());
    assert_eq!(r.rnic.counters().psn_gap_naks, 1);
    assert_eq!(r.rnic.counters().psn_gap_drops, 2);
    assert_eq!(r.mem(0, 1), b"a", "out-of-sequence data must not land");
    // The requester resends from PSN 1: resynchronised.
    assert_eq!(r.write(1, 0, b"b"), vec![ack(1, 2)]);
    assert_eq!(r.write(2, 1, b"c"), vec![ack(2, 3)]);
    assert_eq!(r.mem(0, 2), b"bc");
    // A new gap NAKs again: the NAK state was cleared by the resync.
    assert_eq!(
        r.write(9, 0, b"z"),
        vec![nak(3, NakCode::PsnSequenceError, 3)]
    );
}

#[test]
fn duplicate_write_is_reacked_not_reexecuted() {
    let mut r = Rig::new(4096);
    assert_eq!(r.write(0, 0, b"first"), vec![ack(0, 1)]);
    assert_eq!(r.write(1, 8, b"second"), vec![ack(1, 2)]);
    // A retransmitted PSN 0 with other bytes: ACK of the last executed PSN, memory untouched.
    assert_eq!(r.write(0, 0, b"XXXXX"), vec![ack(1, 2)]);
    assert_eq!(r.mem(0, 5), b"first");
    assert_eq!(r.rnic.counters().dup_write_acks, 1);
    assert_eq!(r.rnic.expected_psn(r.qpn), Some(2));
}

#[test]
fn duplicate_read_is_reexecuted_at_its_own_psn() {
    let mut r = Rig::new(256);
    r.write(0, 0, &[1; 200]);
    let first = r.read(1, 0, 600); // 3 segments: PSNs 1..=3
    assert_eq!(
        first.iter().map(|x| x.psn).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(r.write(4, 0, &[2; 200]), vec![ack(4, 3)]);
    // The requester lost the responses and asks again with PSN 1: re-executed on current
    // memory, same PSNs, no change to the expected PSN or MSN.
    let again = r.read(1, 0, 600);
    assert_eq!(
        again.iter().map(|x| x.psn).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(&again[0].payload[..200], &[2; 200][..]);
    assert_eq!(r.rnic.counters().dup_reads, 1);
    assert_eq!(r.rnic.expected_psn(r.qpn), Some(5));
    assert_eq!(r.write(5, 0, b"x"), vec![ack(5, 4)]);
}

#[test]
fn read_responses_are_segmented_at_each_path_mtu() {
    for mtu in [256usize, 512, 1024, 2048, 4096] {
        let mut r = Rig::new(mtu);
        let data: Vec<u8> = (0..(5 * mtu / 2)).map(|i| (i * 7 + mtu) as u8).collect();
        // Park it with WRITE First/Middle/Last at the same MTU.
        let reth = Reth {
            va: r.va + 64,
            rkey: r.rkey,
            dma_len: data.len() as u32,
        };
        let f = r.frame(Opcode::WRITE_FIRST, 0, Some(reth), &data[..mtu]);
        assert!(r.send(&f).is_empty());
        let f = r.frame(Opcode::WRITE_MIDDLE, 1, None, &data[mtu..2 * mtu]);
        r.send(&f);
        let f = r.frame(Opcode::WRITE_LAST, 2, None, &data[2 * mtu..]);
        assert_eq!(r.send(&f), vec![ack(2, 1)], "mtu {mtu}");
        let resp = r.read(3, 64, data.len() as u32);
        let ops: Vec<Opcode> = resp.iter().map(|x| x.opcode).collect();
        assert_eq!(
            ops,
            vec![
                Opcode::READ_RESPONSE_FIRST,
                Opcode::READ_RESPONSE_MIDDLE,
                Opcode::READ_RESPONSE_LAST
            ],
            "mtu {mtu}"
        );
        assert_eq!(
            resp.iter().map(|x| x.psn).collect::<Vec<_>>(),
            vec![3, 4, 5]
        );
        assert_eq!(resp[0].aeth, Some(Aeth::ack(2)));
        assert_eq!(resp[1].aeth, None, "Middle carries no AETH");
        assert_eq!(resp[2].aeth, Some(Aeth::ack(2)));
        assert!(resp[..2].iter().all(|x| x.payload.len() == mtu));
        let joined: Vec<u8> = resp.iter().flat_map(|x| x.payload.clone()).collect();
        assert_eq!(joined, data);
        // A READ consumes one PSN per response packet: the next request is PSN 6.
        assert_eq!(r.write(6, 0, b"k"), vec![ack(6, 3)]);
        // Exactly one MTU is a single Only; zero length is an empty Only.
        let one = r.read(7, 64, mtu as u32);
        assert_eq!((one.len(), one[0].opcode), (1, Opcode::READ_RESPONSE_ONLY));
        let zero = r.read(8, 0, 0);
        assert_eq!(
            (zero[0].opcode, zero[0].payload.len()),
            (Opcode::READ_RESPONSE_ONLY, 0)
        );
    }
}

#[test]
fn write_sequence_violations_nak_invalid_request() {
    let mut r = Rig::new(256);
    let f = r.frame(Opcode::WRITE_MIDDLE, 0, None, &[0; 256]);
    assert_eq!(r.send(&f), vec![nak(0, NakCode::InvalidRequest, 0)]);
    assert_eq!(r.rnic.qp_in_error(r.qpn), Some(true));
    r.rnic.reset_qp(r.qpn).unwrap();
    // First with a short payload.
    let reth = Reth {
        va: r.va,
        rkey: r.rkey,
        dma_len: 600,
    };
    let f = r.frame(Opcode::WRITE_FIRST, 0, Some(reth), &[0; 100]);
    assert_eq!(r.send(&f), vec![nak(0, NakCode::InvalidRequest, 0)]);
    r.rnic.reset_qp(r.qpn).unwrap();
    // Last longer than what remains.
    let f = r.frame(Opcode::WRITE_FIRST, 0, Some(reth), &[0; 256]);
    assert!(r.send(&f).is_empty());
    let f = r.frame(Opcode::WRITE_LAST, 1, None, &[0; 100]);
    assert_eq!(r.send(&f), vec![nak(1, NakCode::InvalidRequest, 0)]);
    // WRITE Only whose payload differs from its DMA length.
    r.rnic.reset_qp(r.qpn).unwrap();
    let reth = Reth {
        va: r.va,
        rkey: r.rkey,
        dma_len: 10,
    };
    let f = r.frame(Opcode::WRITE_ONLY, 0, Some(reth), &[0; 8]);
    assert_eq!(r.send(&f), vec![nak(0, NakCode::InvalidRequest, 0)]);
    assert_eq!(r.rnic.counters().naks_invalid_request, 4);
}

#[test]
fn rkey_and_bounds_violations_nak_remote_access_and_error_the_qp() {
    let mut r = Rig::new(4096);
    let size = 1u64 << 20;
    let cases: Vec<(u32, u64, u32)> = vec![
        (r.rkey ^ 1, r.va, 8),        // wrong rkey
        (r.rkey, r.va - 1, 8),        // below the region
        (r.rkey, r.va + size - 4, 8), // runs past the end
        (r.rkey, u64::MAX - 2, 8),    // VA + length overflows
    ];
    for (rkey, va, len) in cases {
        r.rnic.reset_qp(r.qpn).unwrap();
        let reth = Reth {
            va,
            rkey,
            dma_len: len,
        };
        let f = r.frame(Opcode::WRITE_ONLY, 0, Some(reth), &[9; 8]);
        assert_eq!(
            r.send(&f),
            vec![nak(0, NakCode::RemoteAccessError, 0)],
            "write {rkey:#x} {va:#x}"
        );
        assert!(
            r.write(1, 0, b"x").is_empty(),
            "QP must be in error until reset"
        );
        r.rnic.reset_qp(r.qpn).unwrap();
        let reth = Reth {
            va,
            rkey,
            dma_len: len,
        };
        let f = r.frame(Opcode::READ_REQUEST, 0, Some(reth), &[]);
        assert_eq!(
            r.send(&f),
            vec![nak(0, NakCode::RemoteAccessError, 0)],
            "read {rkey:#x} {va:#x}"
        );
    }
    assert_eq!(r.rnic.counters().naks_remote_access, 8);
    assert!(r.rnic.counters().qp_in_error >= 4);
    assert!(r
        .rnic
        .region(r.rkey)
        .unwrap()
        .bytes()
        .iter()
        .all(|&b| b == 0));
    // The last byte of the region is in bounds; reset brings the QP back at PSN 0.
    r.rnic.reset_qp(r.qpn).unwrap();
    assert_eq!(r.write(0, size - 1, b"e"), vec![ack(0, 1)]);
}

#[test]
fn psn_wraps_at_2_pow_24() {
    let mut r = Rig::new(256);
    r.rnic.set_expected_psn(r.qpn, 0xff_fffe);
    assert_eq!(r.write(0xff_fffe, 0, b"a"), vec![ack(0xff_fffe, 1)]);
    assert_eq!(r.write(0xff_ffff, 1, b"b"), vec![ack(0xff_ffff, 2)]);
    assert_eq!(r.write(0, 2, b"c"), vec![ack(0, 3)]);
    // Duplicate detection across the wrap: 0xffffff is in the past now.
    assert_eq!(r.write(0xff_ffff, 0, b"Z"), vec![ack(0, 3)]);
    assert_eq!(r.mem(0, 3), b"abc");
    // A 3-segment READ straddling the wrap.
    r.rnic.set_expected_psn(r.qpn, 0xff_ffff);
    let resp = r.read(0xff_ffff, 0, 600);
    assert_eq!(
        resp.iter().map(|x| x.psn).collect::<Vec<_>>(),
        vec![0xff_ffff, 0, 1]
    );
    assert_eq!(r.rnic.expected_psn(r.qpn), Some(2));
    // Half the space ahead is a gap, not a duplicate.
    assert_eq!(
        r.write(2 + (1 << 23) - 1, 0, b"q"),
        vec![nak(2, NakCode::PsnSequenceError, 4)]
    );
}

#[test]
fn outstanding_read_cap_naks_the_request_beyond_it() {
    let mut r = Rig::new(4096);
    // 16 READs (the default cap) in flight: their responses have not been sent yet.
    for psn in 0..16 {
        let f = r.read_frame(psn, 0, 64);
        r.rnic.handle_frame(&f);
    }
    let f = r.read_frame(16, 0, 64);
    r.rnic.handle_frame(&f);
    let out = r.drain();
    assert_eq!(out.len(), 17);
    assert!(out[..16]
        .iter()
        .all(|x| x.opcode == Opcode::READ_RESPONSE_ONLY));
    assert_eq!(out[16], nak(16, NakCode::InvalidRequest, 16));
    assert_eq!(r.rnic.counters().naks_read_cap, 1);
    // Draining frees the resources: after a reset, READs interleaved with draining never hit it.
    r.rnic.reset_qp(r.qpn).unwrap();
    for psn in 0..100 {
        let out = r.read(psn, 0, 8);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].opcode, Opcode::READ_RESPONSE_ONLY);
    }
    assert_eq!(r.rnic.counters().naks_read_cap, 1);
}

#[test]
fn icrc_mismatch_is_dropped_when_checking_and_ignored_when_not() {
    let mut r = Rig::new(4096);
    let mut f = r.frame(
        Opcode::WRITE_ONLY,
        0,
        Some(Reth {
            va: r.va,
            rkey: r.rkey,
            dma_len: 4,
        }),
        b"data",
    );
    let n = f.len();
    f[n - 1] ^= 0xff;
    assert!(r.send(&f).is_empty());
    assert_eq!(r.rnic.counters().icrc_bad, 1);
    assert_eq!(r.rnic.expected_psn(r.qpn), Some(0));
    // The switch sends zeros where the ICRC goes: dropped while checking...
    r.with_icrc = false;
    assert!(r.write(0, 0, b"data").is_empty());
    assert_eq!(r.rnic.counters().icrc_bad, 2);
    // ...and served with the check off, as the original deployment had it.
    let mut cfg = SoftConfig::new(SRV_MAC, SRV_IP);
    cfg.verify_icrc = false;
    let mut r2 = Rig::new(4096);
    r2.rnic = SoftRnic::new(cfg);
    let mem = r2.rnic.register_memory(4096).unwrap();
    r2.qpn = r2.rnic.create_qp(DEST).unwrap();
    (r2.va, r2.rkey, r2.with_icrc) = (mem.va, mem.rkey, false);
    assert_eq!(r2.write(0, 0, b"data"), vec![ack(0, 1)]);
    assert_eq!(r2.rnic.counters().icrc_bad, 0);
}

#[test]
fn foreign_and_malformed_frames_are_counted_not_answered() {
    let mut r = Rig::new(4096);
    let good = r.frame(
        Opcode::WRITE_ONLY,
        0,
        Some(Reth {
            va: r.va,
            rkey: r.rkey,
            dma_len: 1,
        }),
        b"x",
    );
    let mut other_ip = good.clone();
    other_ip[14 + 19] ^= 1; // last byte of the IPv4 destination
    assert!(r.send(&other_ip).is_empty());
    let mut other_qp = good.clone();
    other_qp[14 + 20 + 8 + 7] ^= 0x40; // DestQP
    r.with_icrc = true;
    assert!(r.send(&other_qp).is_empty());
    assert!(r.send(&good[..30]).is_empty());
    assert!(r.send(&[0u8; 0]).is_empty());
    let c = r.rnic.counters().clone();
    assert_eq!(c.not_for_us, 1);
    assert_eq!(c.not_roce, 2);
    // DestQP changed without fixing the ICRC: caught by the ICRC check first.
    assert_eq!(c.icrc_bad + c.unknown_qp, 1);
    assert_eq!(r.send(&good), vec![ack(0, 1)]);
    // SEND is not served (no receive queues): invalid request.
    let f = r.frame(Opcode::SEND_ONLY, 1, None, b"hello");
    assert_eq!(r.send(&f), vec![nak(1, NakCode::InvalidRequest, 1)]);
}

#[test]
fn reset_discards_replies_of_the_old_incarnation() {
    let mut r = Rig::new(256);
    let f = r.read_frame(0, 0, 2000);
    r.rnic.handle_frame(&f);
    assert_eq!(r.rnic.pending_jobs(), 1);
    r.rnic.reset_qp(r.qpn).unwrap();
    assert!(r.drain().is_empty());
    assert_eq!(r.read(0, 0, 4).len(), 1);
    let kinds: Vec<AethKind> = r
        .write(1, 0, b"a")
        .iter()
        .filter_map(|x| x.aeth.map(|a| a.kind()))
        .collect();
    assert_eq!(kinds, vec![AethKind::Ack { credit: 31 }]);
}
