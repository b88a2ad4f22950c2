/* Included inside control Egress. The truncated ingress mirror of a split packet becomes the
 * header copy for the NF: MAC flag and steering bytes, the versioned trailer behind the L4
 * header, and the IPv4 (and UDP) length of the cut frame (the deparser recomputes the IPv4
 * checksum). The UDP payload bytes the truncation kept are dropped, as the model does. */

action header_copy() {
    hdr.ethernet.src[7:0] = SPLIT_FLAG;
    hdr.ethernet.dst[7:0] = hdr.mirror.server_index[7:0];   /* byte DST_MAC_SERVER_BYTE */
    hdr.ethernet.dst[15:8] = hdr.mirror.qp_index[7:0];      /* byte DST_MAC_QP_BYTE */
    hdr.trailer.setValid();
    hdr.trailer.marker = TRAILER_MARKER;
    hdr.trailer.version = TRAILER_VERSION;
    hdr.trailer.rsvd_flags = 0;
    hdr.trailer.header_slot = hdr.mirror.header_slot;
    hdr.trailer.remote_va = hdr.mirror.remote_va;
    hdr.trailer.length = hdr.mirror.length;
    hdr.trailer.qp_index = hdr.mirror.qp_index;
    hdr.trailer.server_index = hdr.mirror.server_index;
    hdr.trailer.pad_count = hdr.mirror.pad_count;
    hdr.trailer.generation = hdr.mirror.generation;
    hdr.udp_rest.setInvalid();
}

action copy_lengths_tcp() {
    hdr.ipv4.total_len = IPV4_LEN + TCP_LEN + TRAILER_LEN;
}

action copy_lengths_udp() {
    hdr.ipv4.total_len = IPV4_LEN + UDP_LEN + TRAILER_LEN;
    hdr.udp.length = UDP_LEN + TRAILER_LEN;
}
