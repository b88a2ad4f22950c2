//! Every constant of the p4-split pipeline in one place (`include/configuration.p4` and
//! `include/types.p4` of Ribosome-P4). Values that a deployment may change are defaults of
//! [`crate::SwitchConfig`]; the rest are protocol facts.

use ribosome_wire::MacAddr;
use std::net::Ipv4Addr;

/// `NUMBER_OF_SERVERS`.
pub const NUMBER_OF_SERVERS: u16 = 4;
/// `MAX_QP_NUM`: QPs per server; global QP index = local + MAX_QP_NUM * server.
pub const MAX_QP_NUM: u16 = 64;
/// `HEADER_REGISTER_SIZE`: slots of the header store.
pub const HEADER_REGISTER_SIZE: u16 = 2000;
/// `MAX_BUFFER_SIZE`: logical size of each server's payload log (2 GiB).
pub const MAX_BUFFER_SIZE: u64 = 0x8000_0000;
/// `RDMA_IP`: the fake RDMA client address the switch poses as.
pub const RDMA_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 40, 254);
/// Source MAC of every RoCE frame the switch crafts.
pub const SWITCH_MAC: MacAddr = MacAddr([0, 0, 0, 0, 0, 1]);
/// Last byte of the source MAC of a header copy ("split" flag); read back as the last byte
/// of the destination MAC once the NF has swapped MACs. Defined once, with the NF contract.
pub use ribosome_wire::contract::SPLIT_FLAG;
/// Last byte of the source MAC of a whole packet sent to the NF.
pub const WHOLE_FLAG: u8 = 0x00;
/// Byte of the header copy's destination MAC that carries the server index (NF hint).
pub const DST_MAC_SERVER_BYTE: usize = 5;
/// Byte of the header copy's destination MAC that carries the low 8 bits of the QP index.
pub const DST_MAC_QP_BYTE: usize = 4;
/// Responder resources per QP (the agent's `max_dest_rd_atomic`).
pub const MAX_OUTSTANDING_READS: usize = 16;
/// Headers per QP waiting for a READ slot (a software extension: the original had no READ
/// pacing and overran the responder's limit with scheduler bursts).
pub const MAX_WAITING_READS: usize = 1024;
/// Frames (pending split packets and whole packets behind them) held for per-flow order
/// (a software extension: the original reorders whole packets ahead of split ones).
pub const ORDER_LIMIT: usize = 65_536;
/// Largest READ the switch asks for: one READ-Response-Only at the agents' path MTU.
pub const PATH_MTU: usize = 4096;
/// PSNs are 24 bits.
pub const PSN_MASK: u32 = 0x00ff_ffff;
/// `PORT_THRESHOLD`: switch->server rate above which a server's selector members go down.
pub const OVERLOAD_HIGH_BPS: u64 = 95_000_000_000;
/// Rate below which they come back.
pub const OVERLOAD_LOW_BPS: u64 = 90_000_000_000;
/// The control plane's timer period (restore and overload checks), 1 s in the original.
pub const CONTROL_PERIOD_NS: u64 = 1_000_000_000;
/// No answer from a server with requests outstanding for this long: server taken out.
pub const LIVENESS_TIMEOUT_NS: u64 = 10_000_000;
/// IPv4 header length the pipeline handles (no options, as in the original).
pub const IPV4_LEN: usize = 20;
/// Ethernet header length (no VLAN, as in the original).
pub const ETH_LEN: usize = 14;
/// UDP header length.
pub const UDP_LEN: usize = 8;
