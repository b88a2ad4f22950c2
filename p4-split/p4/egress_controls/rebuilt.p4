/* Included inside control Egress. A packet rebuilt from a READ response gets the IPv4 (and
 * UDP) length of stored header + payload; the deparser recomputes the IPv4 checksum. */

action rebuilt_lengths_tcp() {
    hdr.ipv4.total_len = hdr.bridge.payload_len + (IPV4_LEN + TCP_LEN);
}

action rebuilt_lengths_udp() {
    hdr.ipv4.total_len = hdr.bridge.payload_len + (IPV4_LEN + UDP_LEN);
    hdr.udp.length = hdr.bridge.payload_len + UDP_LEN;
}
