//! Finds the system DPDK with pkg-config, compiles the C shim with the same flags, and runs
//! bindgen over `wrapper.h`. DPDK 22.11 (Debian 12) is the oldest version supported.

use std::{env, path::PathBuf, process::Command};

fn main() {
    println!("cargo:rerun-if-changed=wrapper.h");
    println!("cargo:rerun-if-changed=shim.h");
    println!("cargo:rerun-if-changed=shim.c");
    let lib = pkg_config::Config::new()
        .atleast_version("22.11")
        .probe("libdpdk")
        .unwrap_or_else(|e| {
            panic!("dpdk-sys needs the system DPDK >= 22.11 (Debian: apt-get install libdpdk-dev pkg-config): {e}")
        });
    // `--cflags` carries `-include rte_config.h` and `-march`, which bindgen and cc both need.
    let out = Command::new("pkg-config")
        .args(["--cflags", "libdpdk"])
        .output()
        .expect("running pkg-config --cflags libdpdk");
    let cflags: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect();

    let mut cc = cc::Build::new();
    cc.file("shim.c").include(".").opt_level(3).warnings(false);
    for f in &cflags {
        cc.flag(f);
    }
    cc.compile("reframer_dpdk_shim");

    let bindings = bindgen::Builder::default()
        .header("wrapper.h")
        .clang_arg("-I.")
        .clang_args(&cflags)
        .allowlist_function("(rte|shim)_.*")
        .allowlist_type("(rte|eth)_.*")
        .allowlist_var("(RTE|ETH|rte)_.*")
        // bindgen cannot lay out these packed + aligned structs (rust-bindgen #1538).
        .opaque_type("rte_arp_ipv4|rte_arp_hdr|rte_l2tpv2_combined_msg_hdr|rte_ecpri_.*|rte_gtp_.*")
        .derive_default(true)
        .layout_tests(false)
        .generate_comments(false)
        .clang_macro_fallback()
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .generate()
        .expect("bindgen over the DPDK headers");
    let path = PathBuf::from(env::var("OUT_DIR").unwrap()).join("bindings.rs");
    bindings.write_to_file(path).expect("writing bindings.rs");
    let _ = lib;
}
