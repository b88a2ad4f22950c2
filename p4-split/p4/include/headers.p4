/* Header layouts. Field names equal the Rust names in ribosome-wire (`EthHdr`, `Ipv4Hdr`,
 * `UdpHdr`, `Bth`, `Reth`, `Aeth`, `SplitTrailer`, `PayloadTag`, `control`), so p4-split's
 * tests can compare every width and position with bytes built by the Rust writers. Fields
 * named rsvd_* are bits the Rust writers always leave zero. */
#ifndef _RIBOSOME_HEADERS_P4_
#define _RIBOSOME_HEADERS_P4_

header ethernet_h {
    mac_addr_t dst;
    mac_addr_t src;
    ether_type_t ethertype;
}

header ipv4_h {
    bit<4> version;
    bit<4> ihl;
    bit<8> tos;
    bit<16> total_len;
    bit<16> ident;
    bit<16> flags_frag;
    bit<8> ttl;
    bit<8> protocol;
    bit<16> checksum;
    ipv4_addr_t src;
    ipv4_addr_t dst;
}

header udp_h {
    bit<16> src_port;
    bit<16> dst_port;
    bit<16> length;
    bit<16> checksum;
}

/* TCP without options (data offset 5); packets with options go whole to the NF. */
header tcp_h {
    bit<16> src_port;
    bit<16> dst_port;
    bit<32> seq;
    bit<32> ack;
    bit<4> data_offset;
    bit<4> rsvd;
    bit<8> flags;
    bit<16> window;
    bit<16> checksum;
    bit<16> urgent;
}

/* InfiniBand Base Transport Header (12 B). */
header bth_h {
    bit<8> opcode;
    bit<1> solicited;
    bit<1> migreq;
    bit<2> pad_count;
    bit<4> tver;
    bit<16> pkey;
    bit<1> fecn;
    bit<1> becn;
    bit<6> rsvd_b4;
    bit<24> dest_qp;
    bit<1> ack_req;
    bit<7> rsvd_b8;
    bit<24> psn;
}

/* RDMA Extended Transport Header (16 B). */
header reth_h {
    bit<64> va;
    bit<32> rkey;
    bit<32> dma_len;
}

/* ACK Extended Transport Header (4 B). syndrome[7:5] is the class (0 ACK, 1 RNR, 3 NAK). */
header aeth_h {
    bit<8> syndrome;
    bit<24> msn;
}

/* The versioned split trailer (28 B) behind the L4 header of the header copy. */
header split_trailer_h {
    bit<32> marker;
    bit<8> version;
    bit<8> rsvd_flags;
    slot_index_t header_slot;
    bit<64> remote_va;
    bit<16> length;
    qp_index_t qp_index;
    server_index_t server_index;
    bit<16> pad_count;
    bit<32> generation;
}

/* The versioned payload tag (8 B) written in front of the pad bytes and the payload. */
header payload_tag_h {
    bit<8> version_byte;
    bit<8> pad_count;
    slot_index_t header_slot;
    bit<32> generation;
}

/* Alignment pad after the tag, so the RDMA length is a multiple of 4. */
header pad1_h { bit<8> zero; }
header pad2_h { bit<16> zero; }
header pad3_h { bit<24> zero; }

/* Registration frames (EtherType 0x1234): a code byte, then one body. */
header info_code_h {
    bit<8> code;
}

header qp_info_h {
    bit<16> enable_timer;
    qp_index_t global_index;
    bit<32> qpn;
}

header mem_info_h {
    server_index_t server_index;
    bit<64> va;
    bit<32> rkey;
}

header eth_info_h {
    server_index_t server_index;
    bit<16> rsvd_mac;
    mac_addr_t mac;
    ipv4_addr_t ip;
}

/* QP refresh (EtherType 0x4321), built by egress from a mirrored packet. */
header qp_refresh_h {
    qp_index_t global_index;
}

/* Authentication trailer of control frames: HMAC-SHA256 truncated to 128 bits over the
 * frame. The switch cannot compute it; see registration.p4 for what it does check. */
header auth_h {
    bit<8> magic;
    server_index_t server_index;
    bit<64> seq;
    bit<128> tag;
}

/* The first 42 bytes (Eth + IPv4 + UDP, or the start of TCP) of a returning header, as
 * words for the header store, and the last 12 bytes of a 20-byte TCP header. */
header hdr_chunk_h {
    bit<32> w0;
    bit<32> w1;
    bit<32> w2;
    bit<32> w3;
    bit<32> w4;
    bit<32> w5;
    bit<32> w6;
    bit<32> w7;
    bit<32> w8;
    bit<32> w9;
    bit<16> h10;
}

header hdr_chunk_tcp_h {
    bit<32> w11;
    bit<32> w12;
    bit<32> w13;
}

/* Bytes of a truncated mirror copy that egress discards: the 12 UDP payload bytes behind a
 * UDP header copy, and everything after Ethernet in a refresh copy. */
header udp_rest_h { bit<96> bytes; }
header copy_rest_h { bit<320> bytes; }

/* Mirror header of both mirror types (header copy, refresh). Trailer fields keep the
 * trailer's names and widths (checked by a test); MIRROR_TRUNC_LEN in config.p4 is this
 * header plus the 54 original bytes. */
header mirror_h {
    bit<8> pkt_kind;
    slot_index_t header_slot;
    bit<64> remote_va;
    bit<16> length;
    qp_index_t qp_index;
    server_index_t server_index;
    bit<16> pad_count;
    bit<32> generation;
}

/* Bridged from ingress to egress on every packet that does not bypass egress. */
header bridge_h {
    bit<8> pkt_kind;
    qp_index_t qp_index;
    bit<16> payload_len;
}

struct headers_t {
    bridge_h bridge;
    ethernet_h ethernet;
    info_code_h info_code;
    qp_info_h qp_info;
    mem_info_h mem_info;
    eth_info_h eth_info;
    qp_refresh_h qp_refresh;
    auth_h auth;
    ipv4_h ipv4;
    udp_h udp;
    tcp_h tcp;
    bth_h bth;
    reth_h reth;
    aeth_h aeth;
    payload_tag_h tag;
    pad1_h pad1;
    pad2_h pad2;
    pad3_h pad3;
    hdr_chunk_h chunk;
    hdr_chunk_tcp_h chunk_tcp;
    split_trailer_h trailer;
}

struct egress_headers_t {
    bridge_h bridge;
    mirror_h mirror;
    ethernet_h ethernet;
    qp_refresh_h qp_refresh;
    auth_h auth;
    ipv4_h ipv4;
    udp_h udp;
    tcp_h tcp;
    udp_rest_h udp_rest;
    copy_rest_h copy_rest;
    bth_h bth;
    split_trailer_h trailer;
}

struct ingress_meta_t {
    bit<2> role;
    bit<1> ctrl_wrong_port;
    bit<1> refresh_in;
    bit<1> to_split;
    bit<16> l4_sport;
    bit<16> l4_dport;
    bit<16> l4_len;
    bit<16> payload_len;
    bit<16> pad;
    bit<16> read_len;
    bit<32> log_room;
    qp_index_t qp_index;
    server_index_t server_index;
    server_index_t owner;
    bit<16> enabled;
    bit<8> restore;
    bit<8> ready;
    bit<8> read_ok;
    bit<8> seq_cmp;
    bit<8> seq_ok;
    bit<8> fetch;
    bit<32> qpn;
    bit<32> rkey;
    bit<32> va_hi;
    bit<32> va_lo;
    bit<32> log_offset;
    bit<16> mac_hi;
    bit<32> mac_lo;
    ipv4_addr_t server_ip;
    bit<16> server_port;
    bit<32> since;
    bit<32> now;
    bit<32> stale_before;
    slot_index_t slot;
    bit<32> generation;
    bit<32> old_generation;
    bit<16> flow_hash;
    bit<1> port_ok;
    MirrorId_t mirror_session;
    bit<8> mirror_kind;
    bit<8> event;
    bit<1> side;
    bit<8> side_event;
    bit<1> to_client;
}

struct egress_meta_t {
    bit<32> psn;
    bit<16> mac_hi;
    bit<32> mac_lo;
    bit<32> seq_hi;
    bit<32> seq_lo;
    bit<32> tag_0;
    bit<32> tag_1;
    bit<32> tag_2;
    bit<32> tag_3;
}

#endif
