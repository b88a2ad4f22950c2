/* The header store: the Eth + IPv4 + L4 header of every split packet, from the moment it
 * returns from the NF until its payload comes back, as 32-bit words in HEADER_SLOTS-entry
 * register arrays (42 bytes for UDP, 54 for TCP: 14 arrays, ~108 KB at 2000 slots). A
 * sub-control so that its 28 register actions stay out of Ingress's namespace. */

control HeaderStore(inout headers_t hdr, in slot_index_t slot, in bit<1> load) {
    Register<bit<32>, slot_index_t>(HEADER_SLOTS, 0) hdr_word_0;
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_word_0) hdr_word_0_store = {
        void apply(inout bit<32> value) { value = hdr.chunk.w0; }
    };
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_word_0) hdr_word_0_load = {
        void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
    };
    Register<bit<32>, slot_index_t>(HEADER_SLOTS, 0) hdr_word_1;
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_word_1) hdr_word_1_store = {
        void apply(inout bit<32> value) { value = hdr.chunk.w1; }
    };
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_word_1) hdr_word_1_load = {
        void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
    };
    Register<bit<32>, slot_index_t>(HEADER_SLOTS, 0) hdr_word_2;
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_word_2) hdr_word_2_store = {
        void apply(inout bit<32> value) { value = hdr.chunk.w2; }
    };
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_word_2) hdr_word_2_load = {
        void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
    };
    Register<bit<32>, slot_index_t>(HEADER_SLOTS, 0) hdr_word_3;
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_word_3) hdr_word_3_store = {
        void apply(inout bit<32> value) { value = hdr.chunk.w3; }
    };
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_word_3) hdr_word_3_load = {
        void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
    };
    Register<bit<32>, slot_index_t>(HEADER_SLOTS, 0) hdr_word_4;
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_word_4) hdr_word_4_store = {
        void apply(inout bit<32> value) { value = hdr.chunk.w4; }
    };
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_word_4) hdr_word_4_load = {
        void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
    };
    Register<bit<32>, slot_index_t>(HEADER_SLOTS, 0) hdr_word_5;
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_word_5) hdr_word_5_store = {
        void apply(inout bit<32> value) { value = hdr.chunk.w5; }
    };
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_word_5) hdr_word_5_load = {
        void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
    };
    Register<bit<32>, slot_index_t>(HEADER_SLOTS, 0) hdr_word_6;
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_word_6) hdr_word_6_store = {
        void apply(inout bit<32> value) { value = hdr.chunk.w6; }
    };
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_word_6) hdr_word_6_load = {
        void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
    };
    Register<bit<32>, slot_index_t>(HEADER_SLOTS, 0) hdr_word_7;
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_word_7) hdr_word_7_store = {
        void apply(inout bit<32> value) { value = hdr.chunk.w7; }
    };
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_word_7) hdr_word_7_load = {
        void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
    };
    Register<bit<32>, slot_index_t>(HEADER_SLOTS, 0) hdr_word_8;
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_word_8) hdr_word_8_store = {
        void apply(inout bit<32> value) { value = hdr.chunk.w8; }
    };
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_word_8) hdr_word_8_load = {
        void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
    };
    Register<bit<32>, slot_index_t>(HEADER_SLOTS, 0) hdr_word_9;
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_word_9) hdr_word_9_store = {
        void apply(inout bit<32> value) { value = hdr.chunk.w9; }
    };
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_word_9) hdr_word_9_load = {
        void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
    };
    Register<bit<16>, slot_index_t>(HEADER_SLOTS, 0) hdr_half_10;
    RegisterAction<bit<16>, slot_index_t, bit<16>>(hdr_half_10) hdr_half_10_store = {
        void apply(inout bit<16> value) { value = hdr.chunk.h10; }
    };
    RegisterAction<bit<16>, slot_index_t, bit<16>>(hdr_half_10) hdr_half_10_load = {
        void apply(inout bit<16> value, out bit<16> rv) { rv = value; }
    };
    Register<bit<32>, slot_index_t>(HEADER_SLOTS, 0) hdr_tcp_0;
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_tcp_0) hdr_tcp_0_store = {
        void apply(inout bit<32> value) { value = hdr.chunk_tcp.w11; }
    };
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_tcp_0) hdr_tcp_0_load = {
        void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
    };
    Register<bit<32>, slot_index_t>(HEADER_SLOTS, 0) hdr_tcp_1;
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_tcp_1) hdr_tcp_1_store = {
        void apply(inout bit<32> value) { value = hdr.chunk_tcp.w12; }
    };
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_tcp_1) hdr_tcp_1_load = {
        void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
    };
    Register<bit<32>, slot_index_t>(HEADER_SLOTS, 0) hdr_tcp_2;
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_tcp_2) hdr_tcp_2_store = {
        void apply(inout bit<32> value) { value = hdr.chunk_tcp.w13; }
    };
    RegisterAction<bit<32>, slot_index_t, bit<32>>(hdr_tcp_2) hdr_tcp_2_load = {
        void apply(inout bit<32> value, out bit<32> rv) { rv = value; }
    };

    apply {
        if (load == 0) {
            hdr_word_0_store.execute(slot);
            hdr_word_1_store.execute(slot);
            hdr_word_2_store.execute(slot);
            hdr_word_3_store.execute(slot);
            hdr_word_4_store.execute(slot);
            hdr_word_5_store.execute(slot);
            hdr_word_6_store.execute(slot);
            hdr_word_7_store.execute(slot);
            hdr_word_8_store.execute(slot);
            hdr_word_9_store.execute(slot);
            hdr_half_10_store.execute(slot);
            if (hdr.chunk_tcp.isValid()) {
                hdr_tcp_0_store.execute(slot);
                hdr_tcp_1_store.execute(slot);
                hdr_tcp_2_store.execute(slot);
            }
        } else {
            hdr.chunk.setValid();
            hdr.chunk.w0 = hdr_word_0_load.execute(slot);
            hdr.chunk.w1 = hdr_word_1_load.execute(slot);
            hdr.chunk.w2 = hdr_word_2_load.execute(slot);
            hdr.chunk.w3 = hdr_word_3_load.execute(slot);
            hdr.chunk.w4 = hdr_word_4_load.execute(slot);
            hdr.chunk.w5 = hdr_word_5_load.execute(slot);
            hdr.chunk.w6 = hdr_word_6_load.execute(slot);
            hdr.chunk.w7 = hdr_word_7_load.execute(slot);
            hdr.chunk.w8 = hdr_word_8_load.execute(slot);
            hdr.chunk.w9 = hdr_word_9_load.execute(slot);
            hdr.chunk.h10 = hdr_half_10_load.execute(slot);
            /* Byte 23 (IPv4 protocol) says whether 12 more TCP bytes were stored. */
            if (hdr.chunk.w5[7:0] == PROTO_TCP) {
                hdr.chunk_tcp.setValid();
                hdr.chunk_tcp.w11 = hdr_tcp_0_load.execute(slot);
                hdr.chunk_tcp.w12 = hdr_tcp_1_load.execute(slot);
                hdr.chunk_tcp.w13 = hdr_tcp_2_load.execute(slot);
            }
        }
    }
}
