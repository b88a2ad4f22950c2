/* Included inside control Egress. The refresh frame (EtherType 0x4321) that asks an agent to
 * reset a QP, built from a truncated mirror of the packet that found the QP disabled with
 * restore_qp set.
 *
 * The agents verify refresh frames with HMAC-SHA256, which the switch cannot compute. So the
 * control plane precomputes, whenever it raises restore_qp for a QP, the whole authenticated
 * frame: destination MAC, sequence number and tag, written into these per-QP registers; the
 * data plane only copies them. If none was written (seq 0), the frame goes out without
 * the authentication trailer (accepted only by agents running without a key). */

Register<bit<16>, qp_index_t>(TOTAL_QP, 0) refresh_mac_hi;
RegisterAction<bit<16>, qp_index_t, bit<16>>(refresh_mac_hi) refresh_mac_hi_get = {
    void apply(inout bit<16> value, out bit<16> rv) { rv = value; }
};
Register<bit<32>, qp_index_t>(TOTAL_QP, 0) refresh_mac_lo;
RegisterAction<bit<32>, qp_index_t, bit<32>>(refresh_mac_lo) refresh_mac_lo_get = {
    void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
};
Register<bit<32>, qp_index_t>(TOTAL_QP, 0) refresh_seq_hi;
RegisterAction<bit<32>, qp_index_t, bit<32>>(refresh_seq_hi) refresh_seq_hi_get = {
    void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
};
Register<bit<32>, qp_index_t>(TOTAL_QP, 0) refresh_seq_lo;
RegisterAction<bit<32>, qp_index_t, bit<32>>(refresh_seq_lo) refresh_seq_lo_get = {
    void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
};
Register<bit<32>, qp_index_t>(TOTAL_QP, 0) refresh_tag_0;
RegisterAction<bit<32>, qp_index_t, bit<32>>(refresh_tag_0) refresh_tag_0_get = {
    void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
};
Register<bit<32>, qp_index_t>(TOTAL_QP, 0) refresh_tag_1;
RegisterAction<bit<32>, qp_index_t, bit<32>>(refresh_tag_1) refresh_tag_1_get = {
    void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
};
Register<bit<32>, qp_index_t>(TOTAL_QP, 0) refresh_tag_2;
RegisterAction<bit<32>, qp_index_t, bit<32>>(refresh_tag_2) refresh_tag_2_get = {
    void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
};
Register<bit<32>, qp_index_t>(TOTAL_QP, 0) refresh_tag_3;
RegisterAction<bit<32>, qp_index_t, bit<32>>(refresh_tag_3) refresh_tag_3_get = {
    void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
};

action refresh_frame() {
    hdr.ethernet.src = SWITCH_MAC;
    hdr.ethernet.ethertype = ETHERTYPE_QP_REFRESH;
    hdr.qp_refresh.setValid();
    hdr.qp_refresh.global_index = hdr.mirror.qp_index;
    hdr.copy_rest.setInvalid();
}

action refresh_auth() {
    hdr.auth.setValid();
    hdr.auth.magic = AUTH_MAGIC;
    hdr.auth.server_index = hdr.mirror.server_index;
}
