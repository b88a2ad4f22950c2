//! The numbers the P4 program must agree with, each taken from the Rust crates' own
//! constants or derived from their writers (never retyped here).

use crate::layouts;
use ribosome_switch::consts as sw;
use ribosome_wire::control::{AUTH_MAGIC, ETHERTYPE_QP_REFRESH, ETHERTYPE_RDMA_INFO};
use ribosome_wire::ib::{Aeth, AethKind, Bth, NakCode, Opcode, Reth};
use ribosome_wire::icrc::ICRC_LEN;
use ribosome_wire::split::{MARKER_VERSIONED, TAG_VERSIONED_BYTE, VERSION};
use ribosome_wire::{PayloadTag, SplitTrailer};

/// A constant the P4 sources must define (as `const` or `#define`) with this value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    /// Name in the P4 sources.
    pub p4: &'static str,
    /// Value on the Rust side.
    pub value: u128,
    /// Where the Rust value comes from.
    pub from: &'static str,
    /// If set, the P4 constant's declared width must equal this header field's width
    /// (`header.field`).
    pub width_of: Option<&'static str>,
}

fn fact(p4: &'static str, value: impl Into<u128>, from: &'static str) -> Fact {
    Fact {
        p4,
        value: value.into(),
        from,
        width_of: None,
    }
}

fn typed(p4: &'static str, value: impl Into<u128>, from: &'static str, w: &'static str) -> Fact {
    Fact {
        width_of: Some(w),
        ..fact(p4, value, from)
    }
}

/// The AETH syndrome class (top 3 bits) that the Rust decoder reads as `want`.
fn aeth_class(want: fn(AethKind) -> bool) -> u128 {
    (0u8..8)
        .find(|&c| {
            want(
                Aeth {
                    syndrome: c << 5,
                    msn: 0,
                }
                .kind(),
            )
        })
        .map_or(u128::MAX, u128::from)
}

/// Every fact, or why one could not be derived.
pub fn all() -> Result<Vec<Fact>, String> {
    let codes = layouts::info_codes()?;
    let psn_bits = layouts::all()?
        .into_iter()
        .find(|(n, _)| *n == "bth_h")
        .and_then(|(_, l)| l.field("psn"))
        .map(|s| s.width)
        .ok_or("bth psn not derived")?;
    let nak = Aeth::nak(NakCode::PsnSequenceError, 0).syndrome >> 5;
    Ok(vec![
        typed(
            "ETHERTYPE_IPV4",
            ribosome_wire::eth::ETHERTYPE_IPV4,
            "ribosome_wire::eth::ETHERTYPE_IPV4",
            "ethernet_h.ethertype",
        ),
        typed(
            "ETHERTYPE_RDMA_INFO",
            ETHERTYPE_RDMA_INFO,
            "ribosome_wire::control::ETHERTYPE_RDMA_INFO",
            "ethernet_h.ethertype",
        ),
        typed(
            "ETHERTYPE_QP_REFRESH",
            ETHERTYPE_QP_REFRESH,
            "ribosome_wire::control::ETHERTYPE_QP_REFRESH",
            "ethernet_h.ethertype",
        ),
        typed(
            "PROTO_TCP",
            ribosome_wire::ipv4::PROTO_TCP,
            "ribosome_wire::ipv4::PROTO_TCP",
            "ipv4_h.protocol",
        ),
        typed(
            "PROTO_UDP",
            ribosome_switch::packet::PROTO_UDP,
            "ribosome_switch::packet::PROTO_UDP",
            "ipv4_h.protocol",
        ),
        typed(
            "ROCE_V2_PORT",
            ribosome_wire::udp::ROCE_V2_PORT,
            "ribosome_wire::udp::ROCE_V2_PORT",
            "udp_h.dst_port",
        ),
        typed(
            "OPCODE_WRITE_ONLY",
            Opcode::WRITE_ONLY.0,
            "Opcode::WRITE_ONLY",
            "bth_h.opcode",
        ),
        typed(
            "OPCODE_READ_REQUEST",
            Opcode::READ_REQUEST.0,
            "Opcode::READ_REQUEST",
            "bth_h.opcode",
        ),
        typed(
            "OPCODE_READ_RESPONSE_ONLY",
            Opcode::READ_RESPONSE_ONLY.0,
            "Opcode::READ_RESPONSE_ONLY",
            "bth_h.opcode",
        ),
        typed("OPCODE_ACK", Opcode::ACK.0, "Opcode::ACK", "bth_h.opcode"),
        fact("AETH_CLASS_NAK", nak, "Aeth::nak(..).syndrome >> 5"),
        fact(
            "AETH_CLASS_RNR_NAK",
            aeth_class(|k| matches!(k, AethKind::RnrNak { .. })),
            "Aeth::kind decoding RnrNak",
        ),
        typed(
            "BTH_PKEY_DEFAULT",
            Bth::new(Opcode::WRITE_ONLY, 0, 0, true).pkey,
            "Bth::new(..).pkey",
            "bth_h.pkey",
        ),
        fact(
            "PSN_MASK",
            sw::PSN_MASK,
            "ribosome_switch::consts::PSN_MASK",
        ),
        fact(
            "PSN_MASK",
            (1u128 << psn_bits) - 1,
            "the BTH psn width written by Bth::write_to",
        ),
        fact(
            "PATH_MTU",
            sw::PATH_MTU as u128,
            "ribosome_switch::consts::PATH_MTU",
        ),
        fact(
            "MAX_OUTSTANDING_READS",
            sw::MAX_OUTSTANDING_READS as u128,
            "ribosome_switch::consts::MAX_OUTSTANDING_READS",
        ),
        typed(
            "INFO_CODE_QP",
            codes[0],
            "write_control(QpInfo) body byte",
            "info_code_h.code",
        ),
        typed(
            "INFO_CODE_MEM",
            codes[1],
            "write_control(MemInfo) body byte",
            "info_code_h.code",
        ),
        typed(
            "INFO_CODE_ETH",
            codes[2],
            "write_control(EthInfo) body byte",
            "info_code_h.code",
        ),
        typed(
            "AUTH_MAGIC",
            AUTH_MAGIC,
            "ribosome_wire::control::AUTH_MAGIC",
            "auth_h.magic",
        ),
        typed(
            "TRAILER_MARKER",
            MARKER_VERSIONED,
            "ribosome_wire::split::MARKER_VERSIONED",
            "split_trailer_h.marker",
        ),
        typed(
            "TRAILER_VERSION",
            VERSION,
            "ribosome_wire::split::VERSION",
            "split_trailer_h.version",
        ),
        typed(
            "TAG_VERSIONED_BYTE",
            TAG_VERSIONED_BYTE,
            "ribosome_wire::split::TAG_VERSIONED_BYTE",
            "payload_tag_h.version_byte",
        ),
        fact(
            "SPLIT_FLAG",
            sw::SPLIT_FLAG,
            "ribosome_switch::consts::SPLIT_FLAG",
        ),
        fact(
            "WHOLE_FLAG",
            sw::WHOLE_FLAG,
            "ribosome_switch::consts::WHOLE_FLAG",
        ),
        fact(
            "DST_MAC_SERVER_BYTE",
            sw::DST_MAC_SERVER_BYTE as u128,
            "ribosome_switch::consts::DST_MAC_SERVER_BYTE",
        ),
        fact(
            "DST_MAC_QP_BYTE",
            sw::DST_MAC_QP_BYTE as u128,
            "ribosome_switch::consts::DST_MAC_QP_BYTE",
        ),
        fact(
            "ETH_LEN",
            sw::ETH_LEN as u128,
            "ribosome_switch::consts::ETH_LEN",
        ),
        fact(
            "IPV4_LEN",
            sw::IPV4_LEN as u128,
            "ribosome_switch::consts::IPV4_LEN",
        ),
        fact(
            "UDP_LEN",
            sw::UDP_LEN as u128,
            "ribosome_switch::consts::UDP_LEN",
        ),
        fact(
            "TCP_LEN",
            layouts::tcp_min_header_len() as u128,
            "ribosome_switch::packet::parse of a data-offset-5 segment",
        ),
        fact("BTH_LEN", Bth::LEN as u128, "Bth::LEN"),
        fact("RETH_LEN", Reth::LEN as u128, "Reth::LEN"),
        fact("AETH_LEN", Aeth::LEN as u128, "Aeth::LEN"),
        fact(
            "ICRC_LEN",
            ICRC_LEN as u128,
            "ribosome_wire::icrc::ICRC_LEN",
        ),
        fact(
            "TRAILER_LEN",
            SplitTrailer::VERSIONED_LEN as u128,
            "SplitTrailer::VERSIONED_LEN",
        ),
        fact(
            "TAG_LEN",
            PayloadTag::VERSIONED_LEN as u128,
            "PayloadTag::VERSIONED_LEN",
        ),
    ])
}
