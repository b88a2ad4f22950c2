/* Included inside control Egress. seq_n: the per-QP 24-bit PSN counter shared by WRITEs and
 * READs (both get their PSN here, so one counter serves both); zeroed by QP info. */

Register<bit<32>, qp_index_t>(TOTAL_QP, 0) seq_n;
RegisterAction<bit<32>, qp_index_t, bit<32>>(seq_n) seq_n_next = {
    void apply(inout bit<32> value, out bit<32> rv) {
        rv = value;
        if (value >= PSN_MASK) {
            value = 0;
        } else {
            value = value + 1;
        }
    }
};
RegisterAction<bit<32>, qp_index_t, bit<32>>(seq_n) seq_n_reset = {
    void apply(inout bit<32> value) { value = 0; }
};

action set_psn() {
    hdr.bth.psn = meta.psn[23:0];
    hdr.bridge.setInvalid();
}

/* READs carry the low PSN bits as IPv4 identification, as the model's. */
action set_read_ident() {
    hdr.ipv4.ident = meta.psn[15:0];
}
