/* Egress parser and deparser. Every packet entering egress starts with one byte saying what
 * it is: a bridged header from Ingress (WRITE, READ, QP reset, rebuilt packet) or a mirror
 * header (header copy for the NF, refresh frame for a server). Whole packets bypass egress. */

parser EgressParser(packet_in pkt,
                    out egress_headers_t hdr,
                    out egress_meta_t meta,
                    out egress_intrinsic_metadata_t eg_intr_md) {
    state start {
        pkt.extract(eg_intr_md);
        transition select(pkt.lookahead<bit<8>>()) {
            PKT_KIND_HDR_COPY: parse_hdr_copy;
            PKT_KIND_REFRESH: parse_refresh;
            default: parse_bridge;
        }
    }

    state parse_bridge {
        pkt.extract(hdr.bridge);
        transition select(hdr.bridge.pkt_kind) {
            PKT_KIND_WRITE: parse_roce;
            PKT_KIND_READ: parse_roce;
            PKT_KIND_REBUILT: parse_rebuilt;
            default: accept;  /* QP reset: nothing else is needed */
        }
    }

    /* WRITE or READ crafted by Ingress: only the headers egress rewrites (PSN, IPv4 ident and
     * checksum); RETH, tag, pad and payload pass as payload. */
    state parse_roce {
        pkt.extract(hdr.ethernet);
        pkt.extract(hdr.ipv4);
        pkt.extract(hdr.udp);
        pkt.extract(hdr.bth);
        transition accept;
    }

    state parse_rebuilt {
        pkt.extract(hdr.ethernet);
        pkt.extract(hdr.ipv4);
        transition select(hdr.ipv4.protocol) {
            PROTO_TCP: parse_tcp;
            default: parse_udp;
        }
    }

    state parse_tcp { pkt.extract(hdr.tcp); transition accept; }
    state parse_udp { pkt.extract(hdr.udp); transition accept; }

    /* Header copy: mirror header + the first 54 bytes of the original packet. */
    state parse_hdr_copy {
        pkt.extract(hdr.mirror);
        pkt.extract(hdr.ethernet);
        pkt.extract(hdr.ipv4);
        transition select(hdr.ipv4.protocol) {
            PROTO_TCP: parse_tcp;
            default: parse_copy_udp;
        }
    }

    state parse_copy_udp {
        pkt.extract(hdr.udp);
        pkt.extract(hdr.udp_rest);
        transition accept;
    }

    /* Refresh: mirror header + 54 bytes of the data packet; only the mirror header is used. */
    state parse_refresh {
        pkt.extract(hdr.mirror);
        pkt.extract(hdr.ethernet);
        pkt.extract(hdr.copy_rest);
        transition accept;
    }
}

control EgressDeparser(packet_out pkt,
                       inout egress_headers_t hdr,
                       in egress_meta_t meta,
                       in egress_intrinsic_metadata_for_deparser_t eg_dprsr_md) {
    Checksum() ipv4_checksum;

    apply {
        /* Every path through egress changes the IPv4 header (lengths, addresses, ident), and
         * the IPv4 checksum covers only that header, so a full recompute is exact. The L4
         * checksum is left alone, as the model does: the NF updates it incrementally. */
        if (hdr.ipv4.isValid()) {
            hdr.ipv4.checksum = ipv4_checksum.update({
                hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.tos, hdr.ipv4.total_len,
                hdr.ipv4.ident, hdr.ipv4.flags_frag, hdr.ipv4.ttl, hdr.ipv4.protocol,
                hdr.ipv4.src, hdr.ipv4.dst
            });
        }
        pkt.emit(hdr);
    }
}
