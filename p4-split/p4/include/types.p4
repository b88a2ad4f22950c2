/* Protocol facts and program-wide constants of the Ribosome split pipeline.
 * Deployment settings live in config.p4 (generated); everything here is fixed by the wire
 * formats, and p4-split's consistency tests compare each value with the Rust crates
 * (ribosome-wire, ribosome-switch). Change both sides together. */
#ifndef _RIBOSOME_TYPES_P4_
#define _RIBOSOME_TYPES_P4_

typedef bit<48> mac_addr_t;
typedef bit<32> ipv4_addr_t;
typedef bit<16> ether_type_t;
typedef bit<16> qp_index_t;
typedef bit<16> server_index_t;
typedef bit<16> slot_index_t;

/* EtherTypes. */
const ether_type_t ETHERTYPE_IPV4 = 0x0800;
const ether_type_t ETHERTYPE_RDMA_INFO = 0x1234;
const ether_type_t ETHERTYPE_QP_REFRESH = 0x4321;

/* IP protocols and the RoCEv2 port. */
const bit<8> PROTO_TCP = 6;
const bit<8> PROTO_UDP = 17;
const bit<16> ROCE_V2_PORT = 4791;

/* IB opcodes (RC) and the AETH syndrome class of a NAK (0b011xxxxx) and an RNR NAK. */
const bit<8> OPCODE_WRITE_ONLY = 0x0A;
const bit<8> OPCODE_READ_REQUEST = 0x0C;
const bit<8> OPCODE_READ_RESPONSE_ONLY = 0x10;
const bit<8> OPCODE_ACK = 0x11;
const bit<3> AETH_CLASS_RNR_NAK = 1;
const bit<3> AETH_CLASS_NAK = 3;
const bit<16> BTH_PKEY_DEFAULT = 0xFFFF;
const bit<32> PSN_MASK = 0x00FFFFFF;
/* The agents' path MTU: one READ-Response-Only carries at most this much. */
const bit<16> PATH_MTU = 4096;
/* Responder resources per QP (the agents' max_dest_rd_atomic). */
const bit<8> MAX_OUTSTANDING_READS = 16;

/* Registration frames (0x1234): info codes, and the authentication trailer's first byte. */
const bit<8> INFO_CODE_QP = 0x00;
const bit<8> INFO_CODE_MEM = 0x01;
const bit<8> INFO_CODE_ETH = 0x02;
const bit<8> AUTH_MAGIC = 0xA1;

/* Versioned split trailer and payload tag (the generation-carrying layouts). */
const bit<32> TRAILER_MARKER = 0x55991178;
const bit<8> TRAILER_VERSION = 1;
const bit<8> TAG_VERSIONED_BYTE = 0x81;

/* MAC flag bytes: last byte of the source MAC of a header copy (split) or of a whole packet
 * sent to the NF; the NF swaps MACs, so a returning header shows it in the destination. The
 * header copy's destination MAC carries the server index in byte 5 and the low 8 bits of the
 * QP index in byte 4 (NF steering hints). */
const bit<8> SPLIT_FLAG = 0x01;
const bit<8> WHOLE_FLAG = 0x00;
const bit<8> DST_MAC_SERVER_BYTE = 5;
const bit<8> DST_MAC_QP_BYTE = 4;

/* Fixed header lengths the pipeline handles (no VLAN, no IPv4 options, TCP without options). */
const bit<16> ETH_LEN = 14;
const bit<16> IPV4_LEN = 20;
const bit<16> UDP_LEN = 8;
const bit<16> TCP_LEN = 20;
const bit<16> BTH_LEN = 12;
const bit<16> RETH_LEN = 16;
const bit<16> AETH_LEN = 4;
const bit<16> ICRC_LEN = 4;
const bit<16> TRAILER_LEN = 28;
const bit<16> TAG_LEN = 8;

/* unanswered_since value of a server taken out by the liveness check. */
const bit<32> SERVER_DEAD = 0xFFFFFFFF;
/* server_ready bits: MEM info seen, ETH info seen. */
const bit<8> READY_MEM = 1;
const bit<8> READY_ETH = 2;
const bit<8> READY_BOTH = 3;

/* Deparser mirror types (3 bits, ig_dprsr_md.mirror_type). */
const bit<3> MIRROR_TYPE_HDR_COPY = 1;
const bit<3> MIRROR_TYPE_REFRESH = 2;

/* First byte of every packet entering egress: which bridged or mirror header follows. */
const bit<8> PKT_KIND_WRITE = 1;
const bit<8> PKT_KIND_READ = 2;
const bit<8> PKT_KIND_QP_RESET = 3;
const bit<8> PKT_KIND_REBUILT = 4;
const bit<8> PKT_KIND_HDR_COPY = 0xFE;
const bit<8> PKT_KIND_REFRESH = 0xFF;

/* Port roles, set by the parser from the dev ports in config.p4. */
const bit<2> ROLE_NONE = 0;
const bit<2> ROLE_CLIENT = 1;
const bit<2> ROLE_NF = 2;
const bit<2> ROLE_SERVER = 3;

/* Indices of the `events` counter. The name after EV_ is the Rust model's counter of the same
 * meaning: WHOLE_x = WholeReasons.x, LOST_x = Losses.x, otherwise Counters.x; P4_x are
 * Tofino-only (the model has no such case). A test checks every name. */
#define EV_SPLIT 0
#define EV_READS 1
#define EV_REASSEMBLED 2
#define EV_WHOLE_OUT 3
#define EV_BLACKLIST_DROP 4
#define EV_BLACKLIST_SEND 5
#define EV_ACKS 6
#define EV_NAKS 7
#define EV_RNR_NAKS 8
#define EV_REGISTRATIONS 9
#define EV_REGISTRATIONS_REJECTED 10
#define EV_CONTROL_WRONG_PORT 11
#define EV_UNEXPECTED_ROCE 13
#define EV_JUNK 14
#define EV_WHOLE_SMALL 15
#define EV_WHOLE_NOT_IPV4 16
#define EV_WHOLE_NOT_TCP_UDP 17
#define EV_WHOLE_NO_PAYLOAD 18
#define EV_WHOLE_TOO_LARGE 19
#define EV_WHOLE_QP_DISABLED 20
#define EV_WHOLE_QP_COUNTDOWN 21
#define EV_WHOLE_SERVER_UNKNOWN 22
#define EV_WHOLE_NO_MEMBER 23
#define EV_LOST_QP_DISABLED 24
#define EV_LOST_READ_DEPTH 25
#define EV_LOST_PAYLOAD_OVERWRITTEN 26
#define EV_LOST_BAD_HEADER 27
#define EV_STALE_RESPONSES 28
#define EV_P4_TCP_OPTIONS 29
#define EV_P4_PARSER_ERROR 30
#define EVENT_COUNT 32
/* Second counter (`side_events`), counted in addition to `events`: a stored header pushed out
 * an older one whose payload never came back; a refresh frame was emitted. Same naming. */
#define SIDE_LOST_SLOT_REUSED 0
#define SIDE_REFRESHES 1
#define SIDE_EVENT_COUNT 2

#endif
