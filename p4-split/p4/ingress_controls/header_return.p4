/* Included inside control Ingress. The return path: a header copy back from the NF is stored
 * in its slot and the frame itself is rewritten into the RDMA READ request for its payload
 * (no recirculation). Per-slot registers: the generation the slot holds (0 = free) and the
 * flow hash, which picks the output port of the rebuilt packet. */

/* slot_generation: the generation of the header a slot holds, 0 when free.
 * swap: store a new header's generation, returning the old one (non-zero: an older header
 * never got its payload and is lost now, slot_reused).
 * fetch: a READ response with tag generation g for this slot: 1 = the slot holds g (rebuild,
 * slot freed); 2 = the slot holds an older generation, so the log entry was overwritten
 * before the READ (payload_overwritten, slot freed); 3 = the slot moved on (stale). */
Register<bit<32>, slot_index_t>(HEADER_SLOTS, 0) slot_generation;
RegisterAction<bit<32>, slot_index_t, bit<32>>(slot_generation) slot_generation_swap = {
    void apply(inout bit<32> value, out bit<32> rv) {
        rv = value;
        value = meta.generation;
    }
};
RegisterAction<bit<32>, slot_index_t, bit<8>>(slot_generation) slot_generation_fetch = {
    void apply(inout bit<32> value, out bit<8> rv) {
        rv = 3;
        if (value == hdr.tag.generation) {
            value = 0;
            rv = 1;
        } else if (value < hdr.tag.generation) {
            value = 0;
            rv = 2;
        }
    }
};

Register<bit<16>, slot_index_t>(HEADER_SLOTS, 0) slot_flow_hash;
RegisterAction<bit<16>, slot_index_t, bit<16>>(slot_flow_hash) flow_hash_store = {
    void apply(inout bit<16> value) { value = meta.flow_hash; }
};
RegisterAction<bit<16>, slot_index_t, bit<16>>(slot_flow_hash) flow_hash_load = {
    void apply(inout bit<16> value, out bit<16> rv) { rv = value; }
};

/* The 5-tuple of the stored header, read from its words (src = bytes 26..29, dst = 30..33,
 * protocol = 23, ports = 34..37): the same CRC16 input as hash_l4. */
Hash<bit<16>>(HashAlgorithm_t.CRC16) flow_hash_chunk;

action hash_chunk() {
    meta.flow_hash = flow_hash_chunk.get({
        hdr.chunk.w6[15:0], hdr.chunk.w7[31:16],
        hdr.chunk.w7[15:0], hdr.chunk.w8[31:16],
        hdr.chunk.w5[7:0],
        hdr.chunk.w8[15:0],
        hdr.chunk.w9[31:16]
    });
}

/* The header frame becomes a READ Request for trailer.length bytes at trailer.remote_va. */
action craft_read() {
    hdr.ethernet.setValid();
    hdr.ethernet.dst = meta.mac_hi ++ meta.mac_lo;
    hdr.ethernet.src = SWITCH_MAC;
    hdr.ethernet.ethertype = ETHERTYPE_IPV4;
    hdr.ipv4.setValid();
    hdr.ipv4.version = 4;
    hdr.ipv4.ihl = 5;
    hdr.ipv4.tos = 0;
    hdr.ipv4.total_len = IPV4_LEN + UDP_LEN + BTH_LEN + RETH_LEN + ICRC_LEN;
    hdr.ipv4.ident = 0;  /* egress: low 16 bits of the PSN, as the model */
    hdr.ipv4.flags_frag = 0x4000;
    hdr.ipv4.ttl = 64;
    hdr.ipv4.protocol = PROTO_UDP;
    hdr.ipv4.checksum = 0;
    hdr.ipv4.src = SWITCH_IP;
    hdr.ipv4.dst = meta.server_ip;
    hdr.udp.setValid();
    hdr.udp.src_port = 0;
    hdr.udp.dst_port = ROCE_V2_PORT;
    hdr.udp.length = UDP_LEN + BTH_LEN + RETH_LEN + ICRC_LEN;
    hdr.udp.checksum = 0;
    hdr.bth.setValid();
    hdr.bth.opcode = OPCODE_READ_REQUEST;
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
    hdr.reth.va = hdr.trailer.remote_va;
    hdr.reth.rkey = meta.rkey;
    hdr.reth.dma_len = (bit<32>)hdr.trailer.length;
    hdr.bridge.setValid();
    hdr.bridge.pkt_kind = PKT_KIND_READ;
    hdr.bridge.qp_index = meta.qp_index;
    hdr.bridge.payload_len = 0;
    ig_tm_md.ucast_egress_port = meta.server_port[8:0];
    hdr.chunk.setInvalid();
    hdr.chunk_tcp.setInvalid();
    hdr.trailer.setInvalid();
    meta.event = EV_READS;
}
