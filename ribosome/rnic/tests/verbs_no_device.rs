//! The verbs backend on a machine without RDMA hardware: one clear line, no crash.

use ribosome_rnic::verbs::{VerbsConfig, VerbsTransport};
use std::net::Ipv4Addr;

fn cfg() -> VerbsConfig {
    VerbsConfig {
        device: None,
        port: 1,
        gid_index: None,
        local_ip: Ipv4Addr::new(192, 168, 40, 1),
        switch_ip: Ipv4Addr::new(192, 168, 40, 254),
        max_rd_atomic: 16,
    }
}

fn has_rdma_device() -> bool {
    std::fs::read_dir("/sys/class/infiniband").is_ok_and(|mut d| d.next().is_some())
}

#[test]
fn no_device_fails_with_one_clear_line() {
    if has_rdma_device() {
        eprintln!("SKIPPED: this machine has an RDMA device; the no-device path cannot be shown");
        return;
    }
    let msg = VerbsTransport::open(cfg()).unwrap_err().to_string();
    assert!(!msg.contains('\n'), "{msg}");
    assert!(
        msg.starts_with("no RDMA device: ibv_get_device_list"),
        "{msg}"
    );
    // Kernels without InfiniBand support (ours, CI's) answer ENOSYS.
    if !std::path::Path::new("/sys/class/infiniband").exists() {
        assert_eq!(
            msg,
            "no RDMA device: ibv_get_device_list failed: Function not implemented (os error 38)"
        );
    }
}

#[test]
fn mapped_gid_is_the_ipv4_mapped_ipv6_address() {
    let g = ribosome_rnic::verbs::mapped_gid(Ipv4Addr::new(192, 168, 40, 254));
    assert_eq!(
        g,
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 40, 254]
    );
}
