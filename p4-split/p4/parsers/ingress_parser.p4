/* Ingress parser and deparser.
 *
 * The port decides what can arrive: on server ports registration frames and RoCE from the
 * payload servers; on the NF port returning header copies (destination MAC last byte
 * SPLIT_FLAG after the NF's MAC swap: parsed as raw words plus the trailer) or whole packets;
 * on client ports ordinary traffic. Control frames on client or NF ports are only flagged
 * (counted and dropped by Ingress). Dev ports come from config.p4. */

parser IngressParser(packet_in pkt,
                     out headers_t hdr,
                     out ingress_meta_t meta,
                     out ingress_intrinsic_metadata_t ig_intr_md) {
    state start {
        pkt.extract(ig_intr_md);
        pkt.advance(PORT_METADATA_SIZE);
        /* Metadata starts zeroed (bf-p4c initialises it); role tells the paths apart. */
        transition select(ig_intr_md.ingress_port) {
            NF_PORT: parse_nf;
            SERVER_PORTS_SELECT(parse_server)
            CLIENT_PORTS_SELECT(parse_client)
            default: accept;
        }
    }

    /* ---- NF port ---- */
    state parse_nf {
        meta.role = ROLE_NF;
        transition select(pkt.lookahead<bit<48>>()) {
            (bit<48>)SPLIT_FLAG &&& 0xFF: parse_chunk;
            default: parse_edge_ethernet;
        }
    }

    state parse_chunk {
        pkt.extract(hdr.chunk);
        /* Byte 23 of the frame is the IPv4 protocol: the low byte of word 5. */
        transition select(hdr.chunk.w5[7:0]) {
            PROTO_TCP: parse_chunk_tcp;
            default: parse_trailer;
        }
    }

    state parse_chunk_tcp {
        pkt.extract(hdr.chunk_tcp);
        transition parse_trailer;
    }

    state parse_trailer {
        transition select(pkt.lookahead<bit<32>>()) {
            TRAILER_MARKER: extract_trailer;
            default: accept;  /* no versioned trailer: Ingress counts LOST_BAD_HEADER */
        }
    }

    state extract_trailer {
        pkt.extract(hdr.trailer);
        meta.qp_index = hdr.trailer.qp_index;
        transition accept;
    }

    /* ---- client ports (and whole packets on the NF port) ---- */
    state parse_client {
        meta.role = ROLE_CLIENT;
        transition parse_edge_ethernet;
    }

    state parse_edge_ethernet {
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.ethertype) {
            ETHERTYPE_IPV4: parse_ipv4;
            ETHERTYPE_RDMA_INFO: edge_control;
            ETHERTYPE_QP_REFRESH: edge_control;
            default: accept;
        }
    }

    state edge_control {
        meta.ctrl_wrong_port = 1;
        transition accept;
    }

    state parse_ipv4 {
        pkt.extract(hdr.ipv4);
        /* Only IHL 5, unfragmented TCP/UDP gets an L4 header; the rest goes whole. */
        transition select(hdr.ipv4.ihl, hdr.ipv4.flags_frag[13:0], hdr.ipv4.protocol) {
            (5, 0, PROTO_TCP): parse_tcp;
            (5, 0, PROTO_UDP): parse_udp;
            default: accept;
        }
    }

    state parse_tcp {
        pkt.extract(hdr.tcp);
        meta.l4_sport = hdr.tcp.src_port;
        meta.l4_dport = hdr.tcp.dst_port;
        meta.l4_len = TCP_LEN;
        transition accept;
    }

    state parse_udp {
        pkt.extract(hdr.udp);
        meta.l4_sport = hdr.udp.src_port;
        meta.l4_dport = hdr.udp.dst_port;
        meta.l4_len = UDP_LEN;
        transition accept;
    }

    /* ---- server ports ---- */
    state parse_server {
        meta.role = ROLE_SERVER;
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.ethertype) {
            ETHERTYPE_RDMA_INFO: parse_info;
            ETHERTYPE_QP_REFRESH: refresh_in;
            ETHERTYPE_IPV4: parse_server_ipv4;
            default: accept;
        }
    }

    state refresh_in {
        meta.refresh_in = 1;  /* refresh frames only go switch -> server */
        transition accept;
    }

    state parse_info {
        pkt.extract(hdr.info_code);
        transition select(hdr.info_code.code) {
            INFO_CODE_QP: parse_qp_info;
            INFO_CODE_MEM: parse_mem_info;
            INFO_CODE_ETH: parse_eth_info;
            default: accept;
        }
    }

    state parse_qp_info {
        pkt.extract(hdr.qp_info);
        meta.qp_index = hdr.qp_info.global_index;
        transition parse_auth;
    }

    state parse_mem_info {
        pkt.extract(hdr.mem_info);
        transition parse_auth;
    }

    state parse_eth_info {
        pkt.extract(hdr.eth_info);
        transition parse_auth;
    }

    state parse_auth {
        transition select(pkt.lookahead<bit<8>>()) {
            AUTH_MAGIC: extract_auth;
            default: accept;
        }
    }

    state extract_auth {
        pkt.extract(hdr.auth);
        transition accept;
    }

    state parse_server_ipv4 {
        pkt.extract(hdr.ipv4);
        transition select(hdr.ipv4.ihl, hdr.ipv4.protocol) {
            (5, PROTO_UDP): parse_server_udp;
            default: accept;
        }
    }

    state parse_server_udp {
        pkt.extract(hdr.udp);
        transition select(hdr.udp.dst_port) {
            ROCE_V2_PORT: parse_bth;
            default: accept;
        }
    }

    state parse_bth {
        pkt.extract(hdr.bth);
        meta.qp_index = hdr.bth.dest_qp[15:0];
        transition select(hdr.bth.opcode) {
            OPCODE_ACK: parse_aeth;
            OPCODE_READ_RESPONSE_ONLY: parse_response;
            default: accept;
        }
    }

    state parse_aeth {
        pkt.extract(hdr.aeth);
        transition accept;
    }

    state parse_response {
        pkt.extract(hdr.aeth);
        transition select(pkt.lookahead<bit<8>>()) {
            TAG_VERSIONED_BYTE: parse_tag;
            default: accept;  /* not our tag: counted as a stale response */
        }
    }

    state parse_tag {
        pkt.extract(hdr.tag);
        transition select(hdr.tag.pad_count) {
            0: accept;
            1: parse_pad1;
            2: parse_pad2;
            3: parse_pad3;
            default: accept;
        }
    }

    state parse_pad1 { pkt.extract(hdr.pad1); transition accept; }
    state parse_pad2 { pkt.extract(hdr.pad2); transition accept; }
    state parse_pad3 { pkt.extract(hdr.pad3); transition accept; }
}

control IngressDeparser(packet_out pkt,
                        inout headers_t hdr,
                        in ingress_meta_t meta,
                        in ingress_intrinsic_metadata_for_deparser_t ig_dprsr_md) {
    Mirror() mirror;

    apply {
        /* The mirror copy starts with mirror_h; the truncation length of the session keeps
         * it plus the first 54 bytes of the original packet. */
        if (ig_dprsr_md.mirror_type == MIRROR_TYPE_HDR_COPY ||
            ig_dprsr_md.mirror_type == MIRROR_TYPE_REFRESH) {
            mirror.emit<mirror_h>(meta.mirror_session, {
                meta.mirror_kind,
                meta.slot,
                hdr.reth.va,
                meta.read_len,
                meta.qp_index,
                meta.server_index,
                meta.pad,
                meta.generation
            });
        }
        pkt.emit(hdr);
    }
}
