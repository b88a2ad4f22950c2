//! Per-packet byte counts on every link, taken from real frames: one UDP packet of the given
//! size walks through our switch model (`ribosome-switch`), the NF contract
//! (`ribosome-nfhost`) and a READ response built with `ribosome-wire`, and the length of each
//! frame is recorded. The walk also checks that the rebuilt packet is the original, so the
//! sizes are those of a working split, not of a guess.

use anyhow::{ensure, Context, Result};
use reframer_core::frames::FrameSpec;
use ribosome_nfhost::apply_nf_contract;
use ribosome_switch::consts::{RDMA_IP, SWITCH_MAC};
use ribosome_switch::{Out, Overload, PortId, Switch, SwitchConfig};
use ribosome_wire::control::{write_control, ControlMsg, INFO_DST_MAC};
use ribosome_wire::ib::{Aeth, Bth, Opcode};
use ribosome_wire::{MacAddr, RoceFrame, RoceSpec, SplitTrailer};
use std::net::Ipv4Addr;

/// Ethernet FCS (4) + preamble/SFD (8) + inter-frame gap (12): what every frame costs on a
/// link beyond the bytes our builders produce.
pub const WIRE_OVERHEAD: u32 = 24;
/// Smallest frame our builders make for Ethernet (FCS excluded).
pub const MIN_FRAME: usize = 60;
/// Largest frame the walk accepts (a 1500-byte MTU, FCS excluded).
pub const MAX_FRAME: usize = 1514;

const CLIENT: PortId = 0;
const NF: PortId = 1;
const FIRST_SERVER: PortId = 2;
const QPS_PER_SERVER: u16 = 4;

/// Frame lengths (FCS excluded) of one packet of `frame` bytes on each link it crosses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameSizes {
    /// The packet as it enters and leaves (client links).
    pub frame: u32,
    /// Whether the switch splits it (IPv4 total length above the threshold).
    pub split: bool,
    /// RDMA WRITE (switch -> server): RoCE headers + tag + pad + payload.
    pub write: u32,
    /// Header copy (switch -> NF and back): headers + versioned trailer.
    pub header: u32,
    /// READ request (switch -> server).
    pub read_req: u32,
    /// READ response (server -> switch): RoCE headers + AETH + tag + pad + payload.
    pub read_resp: u32,
    /// RoCE ACK (server -> switch) answering a WRITE (the switch sets AckReq).
    pub ack: u32,
}

impl FrameSizes {
    /// Sizes for a packet that is never split: it travels whole everywhere.
    pub fn whole(frame: u32) -> Self {
        Self {
            frame,
            split: false,
            write: 0,
            header: frame,
            read_req: 0,
            read_resp: 0,
            ack: 0,
        }
    }
}

fn server_mac(k: u16) -> MacAddr {
    MacAddr([0x02, 0x52, 0, 0, 0, k as u8 + 1])
}

fn server_ip(k: u16) -> Ipv4Addr {
    Ipv4Addr::new(192, 168, 40, k as u8 + 1)
}

/// A switch model with `servers` payload servers registered (original, unauthenticated
/// registration; no liveness or overload timers, which need a clock this walk does not run).
pub fn ready_switch(servers: u16) -> Result<Switch> {
    let mut cfg = SwitchConfig::new(NF, vec![CLIENT]);
    cfg.servers = servers.max(1);
    cfg.qps_per_server = QPS_PER_SERVER;
    cfg.payload_log = 64 << 20;
    cfg.overload = None::<Overload>;
    cfg.liveness_timeout_ns = u64::MAX / 4;
    cfg.control_period_ns = u64::MAX / 4;
    let mut sw = Switch::new(cfg).context("switch model settings")?;
    let mut out = Out::new();
    for k in 0..servers.max(1) {
        let port = FIRST_SERVER + k;
        let mut msgs: Vec<ControlMsg> = (0..QPS_PER_SERVER)
            .map(|q| ControlMsg::QpInfo {
                enable_timer: 1,
                global_index: k * QPS_PER_SERVER + q,
                qpn: 100 + u32::from(q),
            })
            .collect();
        msgs.push(ControlMsg::MemInfo {
            server_index: k,
            va: 0x10_0000,
            rkey: 0x55,
        });
        msgs.push(ControlMsg::EthInfo {
            server_index: k,
            mac: server_mac(k),
            ip: server_ip(k),
        });
        for m in msgs {
            let mut f = Vec::new();
            write_control(INFO_DST_MAC, server_mac(k), &m, None, &mut f);
            sw.process(port, &f, 0, &mut out);
        }
    }
    ensure!(
        (0..usize::from(servers.max(1))).all(|i| sw.server_ready(i)),
        "payload servers did not register with the switch model"
    );
    Ok(sw)
}

/// A UDP frame of `len` bytes (FCS excluded), as the paper's synthetic traffic.
pub fn udp_frame(len: usize, sport: u16) -> Vec<u8> {
    let payload: Vec<u8> = (0..len.saturating_sub(42)).map(|i| i as u8).collect();
    FrameSpec {
        payload,
        ..FrameSpec::udp([10, 1, 0, 1].into(), [10, 0, 0, 100].into(), sport, 9, 0)
    }
    .build()
}

/// Walks one `len`-byte UDP packet through switch, NF contract and a READ response; returns
/// the frame lengths it had on each link.
pub fn walk(len: usize) -> Result<FrameSizes> {
    ensure!(
        (MIN_FRAME..=MAX_FRAME).contains(&len),
        "frame size {len} outside {MIN_FRAME}..={MAX_FRAME} bytes"
    );
    let mut sw = ready_switch(1)?;
    let pkt = udp_frame(len, 4000);
    let mut out = Out::new();
    sw.process(CLIENT, &pkt, 1_000, &mut out);
    let to_nf: Vec<&Vec<u8>> = out.iter().filter(|o| o.0 == NF).map(|o| &o.1).collect();
    let to_srv: Vec<&Vec<u8>> = out
        .iter()
        .filter(|o| o.0 >= FIRST_SERVER)
        .map(|o| &o.1)
        .collect();
    let frame = u32::try_from(pkt.len())?;
    let (Some(header), Some(write)) = (to_nf.first(), to_srv.first()) else {
        ensure!(
            to_nf.len() == 1 && to_srv.is_empty() && to_nf[0].len() == pkt.len(),
            "unsplit packet did not go whole to the NF: {:?}",
            out.iter().map(|o| (o.0, o.1.len())).collect::<Vec<_>>()
        );
        return Ok(FrameSizes::whole(frame));
    };
    let (header, write) = ((*header).clone(), (*write).clone());

    // The NF's part (MAC swap, trailer kept), then the switch turns the header into a READ.
    let mut back = header.clone();
    apply_nf_contract(&mut back);
    let mut out = Out::new();
    sw.process(NF, &back, 2_000, &mut out);
    let read_req = out
        .iter()
        .find(|o| o.0 >= FIRST_SERVER)
        .map(|o| o.1.clone())
        .context("the switch issued no READ request for the returned header")?;
    let req = RoceFrame::parse(&read_req).context("READ request does not parse")?;
    let w = RoceFrame::parse(&write).context("WRITE does not parse")?;
    let (trailer, _) = SplitTrailer::parse(header.get(42..).unwrap_or_default())
        .context("header copy carries no trailer")?;

    // The server's answer: READ-Response-Only with the bytes the WRITE parked.
    let mut bth = Bth::new(
        Opcode::READ_RESPONSE_ONLY,
        u32::from(trailer.qp_index),
        req.bth.psn,
        false,
    );
    bth.pad_count = ((4 - w.payload.len() % 4) % 4) as u8;
    let spec = |bth: Bth| RoceSpec {
        src_mac: server_mac(0),
        dst_mac: SWITCH_MAC,
        src_ip: server_ip(0),
        dst_ip: RDMA_IP,
        ip_ident: 1,
        tos: 0,
        ttl: 64,
        udp_src_port: 0xc000,
        bth,
        reth: None,
        aeth: Some(Aeth::ack(0)),
    };
    let resp = spec(bth).to_bytes(w.payload, true)?;
    let ack = spec(Bth::new(
        Opcode::ACK,
        u32::from(trailer.qp_index),
        w.bth.psn,
        false,
    ))
    .to_bytes(&[], true)?;
    let mut out = Out::new();
    sw.process(FIRST_SERVER, &resp, 3_000, &mut out);
    let rebuilt = out
        .iter()
        .find(|o| o.0 == CLIENT)
        .map(|o| &o.1)
        .with_context(|| format!("READ response not rebuilt: {:?}", sw.losses()))?;
    ensure!(
        rebuilt.len() == pkt.len() && rebuilt[42..] == pkt[42..],
        "rebuilt packet differs from the original ({} vs {} bytes)",
        rebuilt.len(),
        pkt.len()
    );
    Ok(FrameSizes {
        frame,
        split: true,
        write: u32::try_from(write.len())?,
        header: u32::try_from(header.len())?,
        read_req: u32::try_from(read_req.len())?,
        read_resp: u32::try_from(resp.len())?,
        ack: u32::try_from(ack.len())?,
    })
}
