/* Included as the body of Egress's apply block: one branch per kind of packet (see the
 * first byte, PKT_KIND_*). */

if (hdr.mirror.isValid()) {
    if (hdr.mirror.pkt_kind == PKT_KIND_HDR_COPY) {
        header_copy();
        if (hdr.tcp.isValid()) {
            copy_lengths_tcp();
        } else {
            copy_lengths_udp();
        }
    } else {
        meta.mac_hi = refresh_mac_hi_get.execute(hdr.mirror.qp_index);
        meta.mac_lo = refresh_mac_lo_get.execute(hdr.mirror.qp_index);
        meta.seq_hi = refresh_seq_hi_get.execute(hdr.mirror.qp_index);
        meta.seq_lo = refresh_seq_lo_get.execute(hdr.mirror.qp_index);
        meta.tag_0 = refresh_tag_0_get.execute(hdr.mirror.qp_index);
        meta.tag_1 = refresh_tag_1_get.execute(hdr.mirror.qp_index);
        meta.tag_2 = refresh_tag_2_get.execute(hdr.mirror.qp_index);
        meta.tag_3 = refresh_tag_3_get.execute(hdr.mirror.qp_index);
        hdr.ethernet.dst = meta.mac_hi ++ meta.mac_lo;
        refresh_frame();
        if (meta.seq_hi != 0 || meta.seq_lo != 0) {
            refresh_auth();
            hdr.auth.seq = meta.seq_hi ++ meta.seq_lo;
            hdr.auth.tag = meta.tag_0 ++ meta.tag_1 ++ meta.tag_2 ++ meta.tag_3;
        }
    }
    hdr.mirror.setInvalid();
} else if (hdr.bridge.isValid()) {
    if (hdr.bridge.pkt_kind == PKT_KIND_QP_RESET) {
        seq_n_reset.execute(hdr.bridge.qp_index);
        eg_dprsr_md.drop_ctl = 1;
    } else if (hdr.bridge.pkt_kind == PKT_KIND_REBUILT) {
        if (hdr.tcp.isValid()) {
            rebuilt_lengths_tcp();
        } else {
            rebuilt_lengths_udp();
        }
    } else {
        meta.psn = seq_n_next.execute(hdr.bridge.qp_index);
        set_psn();
        if (hdr.bridge.pkt_kind == PKT_KIND_READ) {
            set_read_ident();
        }
    }
    hdr.bridge.setInvalid();
}
