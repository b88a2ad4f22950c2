/* Included as the body of Ingress's apply block: the decision tree of the Rust model
 * (ribosome-switch pipeline.rs, split.rs, reassembly.rs, control.rs), one branch per port
 * role. Every branch sets meta.event; the counters are updated once at the end. */

meta.now = ig_intr_md.ingress_mac_tstamp[41:10] | 1;
meta.stale_before = meta.now - LIVENESS_TIMEOUT_TICKS;
qp_server.apply();

if (ig_prsr_md.parser_err != 0) {
    drop();
    meta.event = EV_P4_PARSER_ERROR;
} else if (meta.ctrl_wrong_port == 1) {
    /* Registration or refresh frame on a client or NF port. */
    drop();
    meta.event = EV_CONTROL_WRONG_PORT;
} else if (meta.role == ROLE_CLIENT) {
    /* ---------------- client packets: blacklist, whole, or split ---------------- */
    if (!hdr.ipv4.isValid() || hdr.ipv4.version != 4 || hdr.ipv4.ihl != 5) {
        whole_to_nf(EV_WHOLE_NOT_IPV4);
    } else if (blacklist.apply().hit) {
        /* bl_send / bl_drop set the event */
    } else if (!hdr.tcp.isValid() && !hdr.udp.isValid()) {
        whole_to_nf(EV_WHOLE_NOT_TCP_UDP);
    } else if (hdr.tcp.isValid() && hdr.tcp.data_offset != 5) {
        whole_to_nf(EV_P4_TCP_OPTIONS);
    } else if (hdr.ipv4.total_len <= SPLIT_THRESHOLD) {
        whole_to_nf(EV_WHOLE_SMALL);
    } else {
        meta.l4_len = meta.l4_len + IPV4_LEN;
        meta.payload_len = hdr.ipv4.total_len - meta.l4_len;
        compute_pad.apply();
        meta.read_len = meta.payload_len + meta.pad;
        meta.read_len = meta.read_len + TAG_LEN;
        if (meta.payload_len == 0) {
            whole_to_nf(EV_WHOLE_NO_PAYLOAD);
        } else if (meta.read_len > MAX_READ) {
            whole_to_nf(EV_WHOLE_TOO_LARGE);
        } else {
            meta.to_split = 1;
            qp_mapping.apply();
            if (meta.to_split == 0) {
                whole_to_nf(EV_WHOLE_NO_MEMBER);
            } else {
                meta.ready = server_ready_get.execute(meta.server_index);
                if (meta.ready != READY_BOTH) {
                    whole_to_nf(EV_WHOLE_SERVER_UNKNOWN);
                } else {
                    meta.enabled = enabled_qp_read.execute(meta.qp_index);
                    if (meta.enabled == 0) {
                        meta.restore = restore_qp_take.execute(meta.qp_index);
                        whole_to_nf(EV_WHOLE_QP_DISABLED);
                        if (meta.restore != 0) {
                            mirror_refresh();
                        }
                    } else if (meta.enabled > 1) {
                        whole_to_nf(EV_WHOLE_QP_COUNTDOWN);
                    } else {
                        meta.qpn = qpn_get.execute(meta.qp_index);
                        if (meta.qpn == 0) {
                            whole_to_nf(EV_WHOLE_QP_DISABLED);
                        } else {
                            meta.slot = hdr_index_next.execute(0);
                            meta.generation = generation_next.execute(0);
                            meta.log_room = PAYLOAD_LOG - (bit<32>)meta.read_len;
                            meta.log_offset = log_offset_alloc.execute(meta.server_index);
                            meta.va_hi = va_hi_get.execute(meta.server_index);
                            meta.va_lo = va_lo_get.execute(meta.server_index);
                            meta.rkey = rkey_get.execute(meta.server_index);
                            meta.mac_hi = mac_hi_get.execute(meta.server_index);
                            meta.mac_lo = mac_lo_get.execute(meta.server_index);
                            meta.server_ip = ip_get.execute(meta.server_index);
                            meta.server_port = port_get.execute(meta.server_index);
                            meta.since = since_touch.execute(meta.server_index);
                            if (meta.since == SERVER_DEAD) {
                                /* The slot, generation and log bytes stay unused. */
                                whole_to_nf(EV_WHOLE_SERVER_UNKNOWN);
                            } else {
                                craft_write();
                                if (meta.pad == 1) { add_pad1(); }
                                else if (meta.pad == 2) { add_pad2(); }
                                else if (meta.pad == 3) { add_pad3(); }
                            }
                        }
                    }
                }
            }
        }
    }
} else if (meta.role == ROLE_NF) {
    if (!hdr.chunk.isValid()) {
        /* ---------------- whole packet back from the NF ---------------- */
        if (hdr.tcp.isValid() || hdr.udp.isValid()) {
            hash_l4();
        }
        meta.to_client = 1;
        meta.event = EV_WHOLE_OUT;
    } else if (!hdr.trailer.isValid() || hdr.trailer.version != TRAILER_VERSION
               || meta.owner != hdr.trailer.server_index
               || hdr.trailer.header_slot >= HEADER_SLOTS) {
        drop();
        meta.event = EV_LOST_BAD_HEADER;
    } else {
        /* ---------------- header back from the NF: store it, READ its payload ---------------- */
        meta.server_index = hdr.trailer.server_index;
        meta.qpn = qpn_get.execute(meta.qp_index);
        meta.enabled = enabled_qp_get.execute(meta.qp_index);
        meta.ready = server_ready_get.execute(meta.server_index);
        if (meta.qpn == 0 || meta.enabled != 1 || (meta.ready & READY_ETH) == 0) {
            drop();
            meta.event = EV_LOST_QP_DISABLED;
        } else {
            meta.since = since_touch.execute(meta.server_index);
            if (meta.since == SERVER_DEAD) {
                drop();
                meta.event = EV_LOST_QP_DISABLED;
            } else {
                meta.read_ok = reads_acquire.execute(meta.qp_index);
                if (meta.read_ok == 0) {
                    drop();
                    meta.event = EV_LOST_READ_DEPTH;
                } else {
                    meta.slot = hdr.trailer.header_slot;
                    meta.generation = hdr.trailer.generation;
                    meta.old_generation = slot_generation_swap.execute(meta.slot);
                    if (meta.old_generation != 0) {
                        meta.side = 1;
                        meta.side_event = SIDE_LOST_SLOT_REUSED;
                    }
                    header_store.apply(hdr, meta.slot, 0);
                    hash_chunk();
                    flow_hash_store.execute(meta.slot);
                    meta.rkey = rkey_get.execute(meta.server_index);
                    meta.mac_hi = mac_hi_get.execute(meta.server_index);
                    meta.mac_lo = mac_lo_get.execute(meta.server_index);
                    meta.server_ip = ip_get.execute(meta.server_index);
                    meta.server_port = port_get.execute(meta.server_index);
                    craft_read();
                }
            }
        }
    }
} else if (meta.role == ROLE_SERVER) {
    if (hdr.info_code.isValid()) {
        /* ---------------- registration (see registration.p4 for what is checked) ---------------- */
        if (hdr.qp_info.isValid()) {
            meta.server_index = meta.owner;
        } else if (hdr.mem_info.isValid()) {
            meta.server_index = hdr.mem_info.server_index;
        } else if (hdr.eth_info.isValid()) {
            meta.server_index = hdr.eth_info.server_index;
        } else {
            meta.server_index = 0xFFFF;  /* unknown info code */
        }
        server_port_check.apply();
        meta.seq_ok = 1;
        if (hdr.auth.isValid() && hdr.auth.server_index != meta.server_index) {
            meta.seq_ok = 0;
        }
#if AUTH_REQUIRED
        if (!hdr.auth.isValid()) {
            meta.seq_ok = 0;
        }
#endif
        if (meta.server_index >= NUMBER_OF_SERVERS || meta.port_ok == 0 || meta.seq_ok == 0) {
            registration_rejected();
        } else {
#if AUTH_REQUIRED
            meta.seq_cmp = seq_hi_cmp.execute(meta.server_index);
            if (meta.seq_cmp == 2) {
                meta.seq_ok = seq_lo_set.execute(meta.server_index);
            } else if (meta.seq_cmp == 1) {
                meta.seq_ok = seq_lo_check.execute(meta.server_index);
            } else {
                meta.seq_ok = 0;
            }
#endif
            if (meta.seq_ok == 0) {
                registration_rejected();
            } else {
                since_revive.execute(meta.server_index);
                if (hdr.qp_info.isValid()) {
                    qpn_set.execute(meta.qp_index);
                    enabled_qp_set.execute(meta.qp_index);
                    restore_qp_clear.execute(meta.qp_index);
                    reads_reset.execute(meta.qp_index);
                    qp_reset_to_egress();
                } else if (hdr.mem_info.isValid()) {
                    va_hi_set.execute(meta.server_index);
                    va_lo_set.execute(meta.server_index);
                    rkey_set.execute(meta.server_index);
                    log_offset_reset.execute(meta.server_index);
                    server_ready_mem.execute(meta.server_index);
                    drop();
                    meta.event = EV_REGISTRATIONS;
                } else {
                    mac_hi_set.execute(meta.server_index);
                    mac_lo_set.execute(meta.server_index);
                    ip_set.execute(meta.server_index);
                    port_set.execute(meta.server_index);
                    server_ready_eth.execute(meta.server_index);
                    drop();
                    meta.event = EV_REGISTRATIONS;
                }
            }
        }
    } else if (meta.refresh_in == 1) {
        /* Refresh frames only travel switch -> server. */
        registration_rejected();
    } else if (!hdr.bth.isValid() || hdr.bth.dest_qp[23:16] != 0 || meta.owner == 0xFFFF) {
        drop();
        meta.event = EV_JUNK;
    } else {
        /* ---------------- RoCE from a payload server ---------------- */
        meta.server_index = meta.owner;
        meta.server_port = port_get.execute(meta.server_index);
        if (meta.server_port != (bit<16>)ig_intr_md.ingress_port) {
            /* Only the port the server registered from may speak for its QPs. */
            drop();
            meta.event = EV_JUNK;
        } else {
            since_answered.execute(meta.server_index);
            if (hdr.bth.opcode == OPCODE_ACK) {
                if (hdr.aeth.syndrome[7:5] == AETH_CLASS_NAK) {
                    on_nak();
                } else if (hdr.aeth.syndrome[7:5] == AETH_CLASS_RNR_NAK) {
                    drop();
                    meta.event = EV_RNR_NAKS;
                } else {
                    drop();
                    meta.event = EV_ACKS;
                }
            } else if (hdr.bth.opcode == OPCODE_READ_RESPONSE_ONLY) {
                reads_release.execute(meta.qp_index);
                if (!hdr.tag.isValid() || hdr.tag.header_slot >= HEADER_SLOTS) {
                    drop();
                    meta.event = EV_STALE_RESPONSES;
                } else {
                    meta.slot = hdr.tag.header_slot;
                    meta.pad = (bit<16>)hdr.tag.pad_count;
                    meta.fetch = slot_generation_fetch.execute(meta.slot);
                    if (meta.fetch == 1) {
                        header_store.apply(hdr, meta.slot, 1);
                        meta.flow_hash = flow_hash_load.execute(meta.slot);
                        rebuild();
                    } else if (meta.fetch == 2) {
                        drop();
                        meta.event = EV_LOST_PAYLOAD_OVERWRITTEN;
                    } else {
                        drop();
                        meta.event = EV_STALE_RESPONSES;
                    }
                }
            } else {
                drop();
                meta.event = EV_UNEXPECTED_ROCE;
            }
        }
    }
} else {
    drop();
    meta.event = EV_JUNK;
}

if (meta.to_client == 1) {
    /* Whole packets skip egress; rebuilt ones need it for lengths and checksum. */
    client_port_map.apply();
    if (!hdr.bridge.isValid()) {
        ig_tm_md.bypass_egress = 1;
    }
}
events.count(meta.event);
if (meta.side == 1) {
    side_events.count(meta.side_event);
}
