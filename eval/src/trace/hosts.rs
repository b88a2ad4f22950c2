//! The server address pool shared by the traces and the NF chain's tables, so that router routes
//! and firewall rules name hosts the traffic really goes to (as in the paper, whose rules and
//! routes are /32s of the traced services). Fixed seed: the tables do not change with the trace seed.

use crate::rng::Rng;

/// Number of distinct server addresses traffic is sent to.
pub const SERVERS: usize = 16_384;
/// The firewall's `allow dst /32` rules cover this many servers (the paper's fw-rules: 11,746).
pub const FW_HOST_RULES: usize = 11_700;
/// Specific /32 routes in the router (the paper's router-100.click).
pub const ROUTES: usize = 100;

/// Deterministic public server addresses (never in 10/8, the campus client range).
pub fn server_pool() -> Vec<u32> {
    let mut r = Rng::new(0x5EED_F1EE7, 0);
    let mut seen = std::collections::HashSet::with_capacity(SERVERS);
    let mut out = Vec::with_capacity(SERVERS);
    while out.len() < SERVERS {
        let a = r.next_u32();
        let first = a >> 24;
        if first == 0 || first == 10 || first == 127 || first >= 224 || !seen.insert(a) {
            continue;
        }
        out.push(a);
    }
    out
}

/// A campus client address in 10.0.0.0/8.
pub fn client_addr(r: &mut Rng) -> u32 {
    0x0A00_0000 | (r.next_u32() & 0x00FF_FFFF).max(1)
}
