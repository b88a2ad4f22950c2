/* Included inside control Ingress. READ responses: the payload tag names the header slot and
 * the generation; a match rebuilds the packet from the stored header and the payload. Egress
 * restores the IPv4/UDP lengths and the IPv4 checksum. */

/* Payload bytes in a READ-Response-Only: IPv4 total length minus everything that is not the
 * payload (IPv4, UDP, BTH, AETH, tag, ICRC) and the pad. */
action rebuild() {
    hdr.bridge.setValid();
    hdr.bridge.pkt_kind = PKT_KIND_REBUILT;
    hdr.bridge.qp_index = meta.qp_index;
    hdr.bridge.payload_len = hdr.ipv4.total_len
        - (IPV4_LEN + UDP_LEN + BTH_LEN + AETH_LEN + TAG_LEN + ICRC_LEN) - meta.pad;
    hdr.ethernet.setInvalid();
    hdr.ipv4.setInvalid();
    hdr.udp.setInvalid();
    hdr.bth.setInvalid();
    hdr.aeth.setInvalid();
    hdr.tag.setInvalid();
    hdr.pad1.setInvalid();
    hdr.pad2.setInvalid();
    hdr.pad3.setInvalid();
    meta.to_client = 1;
    meta.event = EV_REASSEMBLED;
}

/* A NAK (AETH class 0b011) disables the QP until the restore cycle; READs outstanding on it
 * are lost at the responder, so the count starts again. */
action on_nak() {
    enabled_qp_clear.execute(meta.qp_index);
    reads_reset.execute(meta.qp_index);
    drop();
    meta.event = EV_NAKS;
}
