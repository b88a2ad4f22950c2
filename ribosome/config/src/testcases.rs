//! Bad `[servers]` values every reader of the cluster file must refuse, with the message
//! part every reader must print: (text in `configs/cluster.toml`, its replacement, message).
//! The tests of each binary that reads the file use this one table.

/// (first occurrence to replace in the committed cluster file, replacement, expected message).
pub const BAD_SERVERS: &[(&str, &str, &str)] = &[
    (
        "memory = \"4.5GiB\"",
        "memory = \"lots\"",
        "servers.memory: size \"lots\": not a number",
    ),
    (
        "enable_timer = \"1-1\"",
        "enable_timer = \"5-1\"",
        "servers.enable_timer: range \"5-1\": min above max",
    ),
    (
        "verify_icrc = false",
        "verify_icrc = false\nbogus = 1",
        "[servers]: unknown field `bogus`",
    ),
    (
        "index = 3",
        "index = 2",
        "servers.server.index: 2 appears twice",
    ),
    (
        "index = 3",
        "index = 4",
        "servers.server.index: 4 is out of range",
    ),
    (
        "qps_per_server = 64",
        "qps_per_server = 0",
        "servers.qps_per_server: must be at least 1",
    ),
    (
        "switch_mac = \"00:00:00:00:00:01\"",
        "switch_mac = \"nope\"",
        "servers.switch_mac: \"nope\" is not a MAC address",
    ),
    (
        "qps_per_server = 64",
        "qps_per_server = 20000",
        "servers.qps_per_server: 20000 QPs x 4 servers exceeds the 65536 global QP indices",
    ),
];

/// Bad values readers of `[switch]` (the switch daemon, p4-split) must refuse as well.
pub const BAD_SWITCH: &[(&str, &str, &str)] = &[(
    "control_period_ms = 1000",
    "control_period_ms = 0",
    "switch.control_period_ms: must be at least 1",
)];

/// Every bad case for a reader of both `[servers]` and `[switch]`.
pub fn bad_cluster() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    BAD_SERVERS.iter().chain(BAD_SWITCH)
}
