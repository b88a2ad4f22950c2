//! Named counters. Every packet that enters from a client port leaves, or is counted once in
//! [`Losses`] or as a blacklist drop; frames that are not packets (RoCE ACKs, stale READ
//! responses, control frames) have their own counters.

macro_rules! named_counters {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name {
            $($(#[$fm])* pub $field: u64,)*
        }

        impl $name {
            /// Sum of all fields.
            pub fn total(&self) -> u64 {
                0 $(+ self.$field)*
            }

            /// Calls `f(name, value)` for every field, in declaration order.
            pub fn for_each(&self, mut f: impl FnMut(&'static str, u64)) {
                $(f(stringify!($field), self.$field);)*
            }
        }
    };
}

named_counters! {
    /// Why a TCP/UDP-or-other packet from a client port went whole to the NF.
    WholeReasons {
        /// IPv4 total length at or below the split threshold.
        small,
        /// Not IPv4 (or IPv4 with options, as in the original's fixed parser).
        not_ipv4,
        /// IPv4 but neither TCP nor UDP, or a fragment.
        not_tcp_udp,
        /// No payload bytes to park.
        no_payload,
        /// The READ would exceed `max_read` (one READ response per payload).
        too_large,
        /// The hashed QP is disabled (after a NAK, or its server is dead).
        qp_disabled,
        /// The hashed QP is counting down after a (re)connect.
        qp_countdown,
        /// The hashed server has not registered its memory and address yet.
        server_unknown,
        /// No selector member is active.
        no_member,
    }
}

named_counters! {
    /// Packets lost, by reason; each lost packet is counted exactly once.
    Losses {
        /// Header came back for a QP that is not enabled: its payload cannot be fetched.
        qp_disabled,
        /// Header came back while its QP already held `max_waiting_reads` headers for READs.
        read_depth,
        /// Header evicted from its slot by a newer header before its payload came back.
        slot_reused,
        /// The READ returned a payload with another generation (the log wrapped over it).
        payload_overwritten,
        /// READ outstanding when its QP NAKed or was re-registered.
        qp_failed,
        /// READ never answered (a later one on the same QP was) or the server died.
        read_unanswered,
        /// Header frame from the NF with a bad trailer or indices.
        bad_header,
    }
}

named_counters! {
    /// Everything else.
    Counters {
        /// Frames received on any port.
        rx_frames,
        /// Packets from client ports.
        rx_client,
        /// Packets split (WRITE + header copy).
        split,
        /// RDMA WRITEs sent.
        writes,
        /// RDMA READ requests sent.
        reads,
        /// Packets rebuilt from a READ response and sent out.
        reassembled,
        /// Whole packets from the NF sent out.
        whole_out,
        /// Packets dropped by the blacklist.
        blacklist_drop,
        /// Packets sent out by a blacklist `send` entry.
        blacklist_send,
        /// RoCE ACKs consumed (liveness only).
        acks,
        /// NAKs received (QP disabled).
        naks,
        /// RNR NAKs (ignored, as in the original).
        rnr_naks,
        /// READ responses for headers already counted lost.
        stale_responses,
        /// Multi-packet READ responses (never requested) and other unexpected RoCE.
        unexpected_roce,
        /// Registration frames accepted.
        registrations,
        /// Registration frames refused (authentication, replay, indices).
        registrations_rejected,
        /// Control frames on a client or NF port.
        control_wrong_port,
        /// QP refresh frames sent.
        refreshes,
        /// Servers taken out for not answering.
        servers_dead,
        /// Servers back after re-registering.
        servers_revived,
        /// Server selector members disabled by overload.
        overload_off,
        /// Server selector members re-enabled after overload.
        overload_on,
        /// Frames let out of flow order because the order buffer was full.
        order_overflow,
        /// Payload-log wraps (all servers).
        log_wraps,
        /// Frames from unexpected ports or undecodable frames that are not packets.
        junk,
    }
}
