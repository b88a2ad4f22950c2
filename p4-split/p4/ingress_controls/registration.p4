/* Included inside control Ingress. Registration frames (EtherType 0x1234) from the agents.
 *
 * The agents sign every frame with HMAC-SHA256 (truncated to 128 bits) over the whole frame.
 * A Tofino cannot compute HMAC-SHA256, so this program does NOT verify the MAC. What it does
 * check, in order:
 *   1. the frame came in on a server port (the parser flags control frames on client and NF
 *      ports; they are counted as control_wrong_port and dropped);
 *   2. with AUTH_REQUIRED, an authentication trailer is present (magic 0xA1);
 *   3. the server the body speaks for (MEM/ETH: its server_index; QP: owner of the global QP
 *      index) equals the trailer's server_index, and exists;
 *   4. the frame came in on that server's dev port (server_port_check, from [tofino]);
 *   5. with AUTH_REQUIRED, its 64-bit sequence number is above the last accepted one for that
 *      server (reg_seq_hi/reg_seq_lo), which stops replays of captured frames.
 * So a host on a client or NF port, or on another server's link, cannot register. A device on
 * server i's own link can still forge frames for server i (it can pick any seq, even one that
 * blocks later frames). The full MAC check needs the control plane (punt the frames to the
 * CPU and verify there) and is not implemented here; the software switch (ribosome-switch)
 * verifies it. */

/* 64-bit monotonic check in two stages: the high word decides, the low word breaks ties. */
Register<bit<32>, server_index_t>(NUMBER_OF_SERVERS, 0) reg_seq_hi;
RegisterAction<bit<32>, server_index_t, bit<8>>(reg_seq_hi) seq_hi_cmp = {
    void apply(inout bit<32> value, out bit<8> rv) {
        rv = 0;
        if (hdr.auth.seq[63:32] > value) {
            value = hdr.auth.seq[63:32];
            rv = 2;
        } else if (hdr.auth.seq[63:32] == value) {
            rv = 1;
        }
    }
};
Register<bit<32>, server_index_t>(NUMBER_OF_SERVERS, 0) reg_seq_lo;
RegisterAction<bit<32>, server_index_t, bit<8>>(reg_seq_lo) seq_lo_set = {
    void apply(inout bit<32> value, out bit<8> rv) {
        value = hdr.auth.seq[31:0];
        rv = 1;
    }
};
RegisterAction<bit<32>, server_index_t, bit<8>>(reg_seq_lo) seq_lo_check = {
    void apply(inout bit<32> value, out bit<8> rv) {
        rv = 0;
        if (hdr.auth.seq[31:0] > value) {
            value = hdr.auth.seq[31:0];
            rv = 1;
        }
    }
};

/* QP info was accepted: egress zeroes the QP's PSN counter (it lives in egress), then drops
 * the frame. */
action qp_reset_to_egress() {
    hdr.bridge.setValid();
    hdr.bridge.pkt_kind = PKT_KIND_QP_RESET;
    hdr.bridge.qp_index = meta.qp_index;
    hdr.bridge.payload_len = 0;
    ig_tm_md.ucast_egress_port = ig_intr_md.ingress_port;
    meta.event = EV_REGISTRATIONS;
}

action registration_rejected() {
    drop();
    meta.event = EV_REGISTRATIONS_REJECTED;
}
