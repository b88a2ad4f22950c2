/* Included inside control Ingress. Per-QP registers, indexed by the global QP index
 * (local + MAX_QP_NUM * server): the server's QPN, the enable countdown, the restore flag the
 * control plane raises, and the READs outstanding at the responder. */

/* qp[idx]: the server-side QPN, 0 until QP info arrives. */
Register<bit<32>, qp_index_t>(TOTAL_QP, 0) qp_qpn;
RegisterAction<bit<32>, qp_index_t, bit<32>>(qp_qpn) qpn_get = {
    void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
};
RegisterAction<bit<32>, qp_index_t, bit<32>>(qp_qpn) qpn_set = {
    void apply(inout bit<32> value) { value = hdr.qp_info.qpn; }
};

/* enabled_qp: 0 disabled, 1 usable, >1 packets still to skip after a (re)connect. */
Register<bit<16>, qp_index_t>(TOTAL_QP, 0) enabled_qp;
RegisterAction<bit<16>, qp_index_t, bit<16>>(enabled_qp) enabled_qp_read = {
    void apply(inout bit<16> value, out bit<16> rv) {
        rv = value;
        if (value > 1) { value = value - 1; }
    }
};
RegisterAction<bit<16>, qp_index_t, bit<16>>(enabled_qp) enabled_qp_get = {
    void apply(inout bit<16> value, out bit<16> rv) { rv = value; }
};
RegisterAction<bit<16>, qp_index_t, bit<16>>(enabled_qp) enabled_qp_set = {
    void apply(inout bit<16> value) { value = hdr.qp_info.enable_timer; }
};
RegisterAction<bit<16>, qp_index_t, bit<16>>(enabled_qp) enabled_qp_clear = {
    void apply(inout bit<16> value) { value = 0; }
};

/* restore_qp: set by the control plane for disabled QPs; read-and-cleared by the next packet
 * hashed to the QP, which then mirrors a refresh to the server. */
Register<bit<8>, qp_index_t>(TOTAL_QP, 0) restore_qp;
RegisterAction<bit<8>, qp_index_t, bit<8>>(restore_qp) restore_qp_take = {
    void apply(inout bit<8> value, out bit<8> rv) {
        rv = value;
        value = 0;
    }
};
RegisterAction<bit<8>, qp_index_t, bit<8>>(restore_qp) restore_qp_clear = {
    void apply(inout bit<8> value) { value = 0; }
};

/* READs in flight per QP: a returning header finding MAX_OUTSTANDING_READS is lost
 * (read_depth); the model holds such headers in a queue instead, which a switch cannot. */
Register<bit<8>, qp_index_t>(TOTAL_QP, 0) reads_outstanding;
RegisterAction<bit<8>, qp_index_t, bit<8>>(reads_outstanding) reads_acquire = {
    void apply(inout bit<8> value, out bit<8> rv) {
        rv = 0;
        if (value < MAX_OUTSTANDING_READS) {
            value = value + 1;
            rv = 1;
        }
    }
};
RegisterAction<bit<8>, qp_index_t, bit<8>>(reads_outstanding) reads_release = {
    void apply(inout bit<8> value) {
        if (value > 0) { value = value - 1; }
    }
};
RegisterAction<bit<8>, qp_index_t, bit<8>>(reads_outstanding) reads_reset = {
    void apply(inout bit<8> value) { value = 0; }
};
