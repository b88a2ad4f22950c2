/* Included inside control Ingress. Per-server registers, indexed by the server index: what MEM
 * and ETH info taught the switch, the payload-log offset, and liveness. */

/* READY_MEM | READY_ETH once both infos arrived. */
Register<bit<8>, server_index_t>(NUMBER_OF_SERVERS, 0) server_ready;
RegisterAction<bit<8>, server_index_t, bit<8>>(server_ready) server_ready_get = {
    void apply(inout bit<8> value, out bit<8> rv) { rv = value; }
};
RegisterAction<bit<8>, server_index_t, bit<8>>(server_ready) server_ready_mem = {
    void apply(inout bit<8> value) { value = value | READY_MEM; }
};
RegisterAction<bit<8>, server_index_t, bit<8>>(server_ready) server_ready_eth = {
    void apply(inout bit<8> value) { value = value | READY_ETH; }
};

/* Base VA of the payload memory (two halves: registers are at most 32 bits wide) and rkey. */
Register<bit<32>, server_index_t>(NUMBER_OF_SERVERS, 0) server_va_hi;
RegisterAction<bit<32>, server_index_t, bit<32>>(server_va_hi) va_hi_get = {
    void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
};
RegisterAction<bit<32>, server_index_t, bit<32>>(server_va_hi) va_hi_set = {
    void apply(inout bit<32> value) { value = hdr.mem_info.va[63:32]; }
};
Register<bit<32>, server_index_t>(NUMBER_OF_SERVERS, 0) server_va_lo;
RegisterAction<bit<32>, server_index_t, bit<32>>(server_va_lo) va_lo_get = {
    void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
};
RegisterAction<bit<32>, server_index_t, bit<32>>(server_va_lo) va_lo_set = {
    void apply(inout bit<32> value) { value = hdr.mem_info.va[31:0]; }
};
Register<bit<32>, server_index_t>(NUMBER_OF_SERVERS, 0) server_rkey;
RegisterAction<bit<32>, server_index_t, bit<32>>(server_rkey) rkey_get = {
    void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
};
RegisterAction<bit<32>, server_index_t, bit<32>>(server_rkey) rkey_set = {
    void apply(inout bit<32> value) { value = hdr.mem_info.rkey; }
};

/* MAC (two halves), IPv4 and the dev port the ETH info came in on. */
Register<bit<16>, server_index_t>(NUMBER_OF_SERVERS, 0) server_mac_hi;
RegisterAction<bit<16>, server_index_t, bit<16>>(server_mac_hi) mac_hi_get = {
    void apply(inout bit<16> value, out bit<16> rv) { rv = value; }
};
RegisterAction<bit<16>, server_index_t, bit<16>>(server_mac_hi) mac_hi_set = {
    void apply(inout bit<16> value) { value = hdr.eth_info.mac[47:32]; }
};
Register<bit<32>, server_index_t>(NUMBER_OF_SERVERS, 0) server_mac_lo;
RegisterAction<bit<32>, server_index_t, bit<32>>(server_mac_lo) mac_lo_get = {
    void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
};
RegisterAction<bit<32>, server_index_t, bit<32>>(server_mac_lo) mac_lo_set = {
    void apply(inout bit<32> value) { value = hdr.eth_info.mac[31:0]; }
};
Register<bit<32>, server_index_t>(NUMBER_OF_SERVERS, 0) server_ip;
RegisterAction<bit<32>, server_index_t, bit<32>>(server_ip) ip_get = {
    void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
};
RegisterAction<bit<32>, server_index_t, bit<32>>(server_ip) ip_set = {
    void apply(inout bit<32> value) { value = hdr.eth_info.ip; }
};
Register<bit<16>, server_index_t>(NUMBER_OF_SERVERS, 0) server_port;
RegisterAction<bit<16>, server_index_t, bit<16>>(server_port) port_get = {
    void apply(inout bit<16> value, out bit<16> rv) { rv = value; }
};
RegisterAction<bit<16>, server_index_t, bit<16>>(server_port) port_set = {
    void apply(inout bit<16> value) { value = (bit<16>)ig_intr_md.ingress_port; }
};

/* memory_offset: next free byte of the server's circular payload log (pad included, so one
 * register suffices). An entry that would cross PAYLOAD_LOG starts again at 0; log_room is
 * PAYLOAD_LOG - read_len, computed before. Returns the entry's offset. */
Register<bit<32>, server_index_t>(NUMBER_OF_SERVERS, 0) log_offset;
RegisterAction<bit<32>, server_index_t, bit<32>>(log_offset) log_offset_alloc = {
    void apply(inout bit<32> value, out bit<32> rv) {
        if (value > meta.log_room) {
            rv = 0;
            value = (bit<32>)meta.read_len;
        } else {
            rv = value;
            value = value + (bit<32>)meta.read_len;
        }
    }
};
RegisterAction<bit<32>, server_index_t, bit<32>>(log_offset) log_offset_reset = {
    void apply(inout bit<32> value) { value = 0; }
};

/* Liveness. unanswered_since holds the time (ingress timestamp >> 10, ~1 us ticks, never 0)
 * of the oldest request sent since the server last answered, 0 when nothing is pending, or
 * SERVER_DEAD once it stayed unanswered longer than LIVENESS_TIMEOUT_TICKS. Requests to a
 * dead server are not sent (the packet goes whole); the control plane takes its selector
 * members out; any accepted registration from it clears the mark. The 32-bit clock wraps
 * after ~73 min; a request pending across the wrap can be declared dead early. */
Register<bit<32>, server_index_t>(NUMBER_OF_SERVERS, 0) unanswered_since;
RegisterAction<bit<32>, server_index_t, bit<32>>(unanswered_since) since_touch = {
    void apply(inout bit<32> value, out bit<32> rv) {
        if (value == 0) {
            value = meta.now;
        } else if (value < meta.stale_before) {
            value = SERVER_DEAD;
        }
        rv = value;
    }
};
RegisterAction<bit<32>, server_index_t, bit<32>>(unanswered_since) since_answered = {
    void apply(inout bit<32> value) {
        if (value != SERVER_DEAD) { value = 0; }
    }
};
RegisterAction<bit<32>, server_index_t, bit<32>>(unanswered_since) since_revive = {
    void apply(inout bit<32> value) { value = 0; }
};
