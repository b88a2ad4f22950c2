/* Included inside control Ingress. The split path: QP choice, header-slot and generation
 * allocation, and the RDMA WRITE crafted in place from the client packet, with an ingress
 * mirror of the original headers to the NF (egress turns it into the header copy). */

/* qp_mapping: a CRC16 hash of the 5-tuple picks one active member; member k is (QP k,
 * server k / MAX_QP_NUM). The control plane toggles member status (overload, dead servers). */
Hash<bit<16>>(HashAlgorithm_t.CRC16) sel_hash;
ActionProfile(TOTAL_QP) qp_mapping_profile;
ActionSelector(qp_mapping_profile, sel_hash, SelectorMode_t.FAIR, TOTAL_QP, 1) qp_mapping_sel;

action to_qp_and_server(qp_index_t qp, server_index_t server) {
    meta.qp_index = qp;
    meta.server_index = server;
}

action no_member() {
    meta.to_split = 0;
}

table qp_mapping {
    key = {
        meta.to_split : exact;
        hdr.ipv4.src : selector;
        hdr.ipv4.dst : selector;
        hdr.ipv4.protocol : selector;
        meta.l4_sport : selector;
        meta.l4_dport : selector;
    }
    actions = { to_qp_and_server; @defaultonly no_member; }
    implementation = qp_mapping_sel;
    size = 2;
    const default_action = no_member();
}

/* Pad bytes after the tag so that tag + pad + payload is a multiple of 4. */
action set_pad(bit<16> pad) {
    meta.pad = pad;
}

table compute_pad {
    key = { meta.payload_len[1:0] : exact; }
    actions = { set_pad; }
    const entries = {
        0 : set_pad(0);
        1 : set_pad(3);
        2 : set_pad(2);
        3 : set_pad(1);
    }
    size = 4;
}

/* hdr_index: the next header slot, wrapping at HEADER_SLOTS. */
Register<bit<16>, bit<1>>(1, 0) hdr_index;
RegisterAction<bit<16>, bit<1>, bit<16>>(hdr_index) hdr_index_next = {
    void apply(inout bit<16> value, out bit<16> rv) {
        rv = value;
        if (value >= HEADER_SLOTS - 1) {
            value = 0;
        } else {
            value = value + 1;
        }
    }
};

/* The split generation: a 32-bit sequence number per split packet, never 0, written into
 * both the payload tag (remote memory) and the trailer (kept with the header). */
Register<bit<32>, bit<1>>(1, 0) split_generation;
RegisterAction<bit<32>, bit<1>, bit<32>>(split_generation) generation_next = {
    void apply(inout bit<32> value, out bit<32> rv) {
        if (value == 0xFFFFFFFF) {
            value = 1;
        } else {
            value = value + 1;
        }
        rv = value;
    }
};

/* The client packet becomes an RDMA WRITE-Only of tag + pad + payload at the log position;
 * the PSN is written in egress (the counter lives there, shared with READs). The ICRC is
 * not computed: lengths include 4 bytes that the MAC must append (see README, ICRC). */
action craft_write() {
    hdr.ethernet.dst = meta.mac_hi ++ meta.mac_lo;
    hdr.ethernet.src = SWITCH_MAC;
    hdr.ipv4.src = SWITCH_IP;
    hdr.ipv4.dst = meta.server_ip;
    hdr.ipv4.ttl = 64;
    hdr.ipv4.flags_frag = 0x4000;
    hdr.ipv4.protocol = PROTO_UDP;
    hdr.ipv4.total_len = meta.read_len + (IPV4_LEN + UDP_LEN + BTH_LEN + RETH_LEN + ICRC_LEN);
    hdr.tcp.setInvalid();
    hdr.udp.setValid();
    hdr.udp.src_port = 0;
    hdr.udp.dst_port = ROCE_V2_PORT;
    hdr.udp.length = meta.read_len + (UDP_LEN + BTH_LEN + RETH_LEN + ICRC_LEN);
    hdr.udp.checksum = 0;
    hdr.bth.setValid();
    hdr.bth.opcode = OPCODE_WRITE_ONLY;
    hdr.bth.solicited = 0;
    hdr.bth.migreq = 1;
    hdr.bth.pad_count = 0;
    hdr.bth.tver = 0;
    hdr.bth.pkey = BTH_PKEY_DEFAULT;
    hdr.bth.fecn = 0;
    hdr.bth.becn = 0;
    hdr.bth.rsvd_b4 = 0;
    hdr.bth.dest_qp = meta.qpn[23:0];
    hdr.bth.ack_req = 1;
    hdr.bth.rsvd_b8 = 0;
    hdr.bth.psn = 0;
    hdr.reth.setValid();
    hdr.reth.va = (meta.va_hi ++ meta.va_lo) + (32w0 ++ meta.log_offset);
    hdr.reth.rkey = meta.rkey;
    hdr.reth.dma_len = (bit<32>)meta.read_len;
    hdr.tag.setValid();
    hdr.tag.version_byte = TAG_VERSIONED_BYTE;
    hdr.tag.pad_count = meta.pad[7:0];
    hdr.tag.header_slot = meta.slot;
    hdr.tag.generation = meta.generation;
    hdr.bridge.setValid();
    hdr.bridge.pkt_kind = PKT_KIND_WRITE;
    hdr.bridge.qp_index = meta.qp_index;
    hdr.bridge.payload_len = 0;
    ig_tm_md.ucast_egress_port = meta.server_port[8:0];
    /* The header copy: ingress mirror of the packet as received, truncated by the session. */
    ig_dprsr_md.mirror_type = MIRROR_TYPE_HDR_COPY;
    meta.mirror_session = NF_MIRROR_SESSION;
    meta.mirror_kind = PKT_KIND_HDR_COPY;
    meta.event = EV_SPLIT;
}

action add_pad1() { hdr.pad1.setValid(); hdr.pad1.zero = 0; }
action add_pad2() { hdr.pad2.setValid(); hdr.pad2.zero = 0; }
action add_pad3() { hdr.pad3.setValid(); hdr.pad3.zero = 0; }

/* A disabled QP with restore_qp set: mirror this packet to the server's refresh session;
 * egress rewrites the copy into a 0x4321 refresh frame. */
action mirror_refresh() {
    ig_dprsr_md.mirror_type = MIRROR_TYPE_REFRESH;
    meta.mirror_session = REFRESH_MIRROR_SESSION_BASE + (MirrorId_t)meta.server_index[9:0];
    meta.mirror_kind = PKT_KIND_REFRESH;
    meta.side = 1;
    meta.side_event = SIDE_REFRESHES;
}
