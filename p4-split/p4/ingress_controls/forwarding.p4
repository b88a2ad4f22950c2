/* Included inside control Ingress. Forwarding that is not part of the split: whole packets to
 * the NF, packets from the NF (and rebuilt ones) to a client port, the blacklist, the QP ->
 * server table, the port pinning of registration frames, and the event counters. */

Counter<bit<64>, bit<8>>(EVENT_COUNT, CounterType_t.PACKETS) events;
Counter<bit<64>, bit<8>>(SIDE_EVENT_COUNT, CounterType_t.PACKETS) side_events;

action drop() {
    ig_dprsr_md.drop_ctl = 1;
}

/* A packet goes whole to the NF with the source MAC's last byte cleared ("not split"). */
action whole_to_nf(bit<8> ev) {
    ig_tm_md.ucast_egress_port = NF_PORT;
    ig_tm_md.bypass_egress = 1;
    hdr.ethernet.src[7:0] = WHOLE_FLAG;
    meta.event = ev;
}

/* Output port by flow hash: one port per flow keeps per-flow order. Filled by the control
 * plane with client_ports[h % n]; equal to the model's choice when n divides 256. */
action set_client_port(PortId_t port) {
    ig_tm_md.ucast_egress_port = port;
}

table client_port_map {
    key = { meta.flow_hash[7:0] : exact @name("hash_lo"); }
    actions = { set_client_port; @defaultonly drop; }
    size = CLIENT_MAP_SIZE;
    const default_action = drop();
}

action bl_send(PortId_t port) {
    ig_tm_md.ucast_egress_port = port;
    ig_tm_md.bypass_egress = 1;
    meta.event = EV_BLACKLIST_SEND;
}

action bl_drop() {
    drop();
    meta.event = EV_BLACKLIST_DROP;
}

table blacklist {
    key = { hdr.ipv4.dst : lpm; }
    actions = { bl_send; bl_drop; @defaultonly NoAction; }
    size = BLACKLIST_SIZE;
    const default_action = NoAction();
}

/* Global QP index -> owning server (k / MAX_QP_NUM); a miss means "no such QP". Applied once
 * per packet on meta.qp_index, which the parser takes from QP info, the trailer or the BTH. */
action set_owner(server_index_t server) {
    meta.owner = server;
}

action no_owner() {
    meta.owner = 0xFFFF;
}

table qp_server {
    key = { meta.qp_index : exact; }
    actions = { set_owner; @defaultonly no_owner; }
    size = TOTAL_QP;
    const default_action = no_owner();
}

/* Registration frames for server i are accepted only on server i's dev port. */
action port_ok() {
    meta.port_ok = 1;
}

table server_port_check {
    key = {
        ig_intr_md.ingress_port : exact;
        meta.server_index : exact;
    }
    actions = { port_ok; @defaultonly NoAction; }
    size = NUMBER_OF_SERVERS;
    const default_action = NoAction();
}

Hash<bit<16>>(HashAlgorithm_t.CRC16) flow_hash_l4;

/* The model's FiveTuple::crc16: src, dst, protocol, sport, dport. */
action hash_l4() {
    meta.flow_hash = flow_hash_l4.get({
        hdr.ipv4.src, hdr.ipv4.dst, hdr.ipv4.protocol, meta.l4_sport, meta.l4_dport
    });
}
