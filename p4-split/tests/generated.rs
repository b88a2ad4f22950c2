//! The generated files: config.p4 equals the committed one, the setup script equals its
//! golden copy (UPDATE_GOLDEN=1 rewrites both), uses only names the P4 program declares, and
//! signs refresh frames exactly as ribosome-wire does.

mod common;

use common::{deployment, golden, root};
use hmac::{Hmac, Mac};
use p4_split::consistency::check_script_names;
use p4_split::deploy::Deployment;
use p4_split::p4src::Program;
use p4_split::{config_header, setup_script, sources};
use ribosome_wire::control::{write_control, Auth, AuthKey, ControlMsg};
use ribosome_wire::MacAddr;
use sha2::Sha256;

const CONFIG: &str = "configs/cluster.toml";

fn program() -> Program {
    Program::parse(&sources::committed()).unwrap()
}

#[test]
fn committed_config_header_is_the_generators_output() {
    let text = config_header::render(&deployment(), &program(), CONFIG).unwrap();
    golden(&root().join("p4-split/p4/include/config.p4"), &text);
}

#[test]
fn setup_script_matches_its_golden_copy() {
    let text = setup_script::render(&deployment(), &program(), CONFIG).unwrap();
    golden(&root().join("p4-split/tests/golden/setup.py"), &text);
}

#[test]
fn setup_script_uses_only_names_the_p4_program_declares() {
    let files = sources::committed();
    let p4 = program();
    let script = setup_script::render(&deployment(), &p4, CONFIG).unwrap();
    assert_eq!(
        check_script_names(&script, &files, &p4),
        Vec::<String>::new()
    );
    // The check sees through to the P4 side: a table the program lacks is reported.
    let bad = script.replace("p4.Ingress.qp_server.", "p4.Ingress.qp_servers.");
    let found = check_script_names(&bad, &files, &p4);
    assert_eq!(
        found,
        vec!["the setup script uses Ingress.qp_servers, which the P4 program lacks"]
    );
    let bad = script.replace("add_with_bl_drop", "add_with_blacklist_drop");
    assert!(check_script_names(&bad, &files, &p4)[0].contains("blacklist_drop"));
}

#[test]
fn setup_script_reflects_the_cluster_file() {
    let d = deployment();
    let script = setup_script::render(&d, &program(), CONFIG).unwrap();
    for needle in [
        "ALL_PORTS = [48, 36, 0, 20, 16, 32]",
        "SERVER_PORTS = [0, 20, 16, 32]",
        "NF_PORT = 36",
        "TOTAL_QP = 256",
        "MIRROR_TRUNC_LEN = 77",
        "OVERLOAD = (95000000000, 90000000000)",
        "('224.0.0.0', 16, None)",
        "    26: 'lost_payload_overwritten',",
        "    0: 'lost_slot_reused',",
    ] {
        assert!(script.contains(needle), "{needle}");
    }
    // Another cluster file gives another script.
    let text = std::fs::read_to_string(root().join(CONFIG)).unwrap();
    let other = text
        .replace("overload_high_gbps = 95", "overload_high_gbps = 0")
        .replace(
            "{ prefix = \"224.0.0.0/16\", action = \"drop\" },",
            "{ prefix = \"224.0.0.0/16\", action = \"drop\" },\n    { prefix = \"10.0.0.1\", port = 3 },",
        );
    let d2 = Deployment::parse(&other).unwrap();
    let s2 = setup_script::render(&d2, &program(), CONFIG).unwrap();
    assert!(s2.contains("OVERLOAD = None"));
    assert!(s2.contains("('10.0.0.1', 32, 20)"), "port 3 is dev port 20");
}

/// The script's refresh recipe, replayed in Rust, gives the frame and tag that ribosome-wire
/// writes, so agents accept the refresh frames the Tofino emits.
#[test]
fn refresh_signing_recipe_matches_ribosome_wire() {
    let key_bytes = [0x5a; 32];
    let key = AuthKey::new(key_bytes);
    let mac = MacAddr([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
    let switch_mac = MacAddr([0, 0, 0, 0, 0, 1]);
    let (k, s, seq) = (77u16, 1u16, 0x0102_0304_0506_0708u64);
    let mut frame = Vec::new();
    write_control(
        mac,
        switch_mac,
        &ControlMsg::QpRefresh { global_index: k },
        Some((
            &key,
            Auth {
                server_index: s,
                seq,
            },
        )),
        &mut frame,
    );
    // struct.pack('!HI', mac_hi, mac_lo) + SWITCH_MAC + struct.pack('!HH', 0x4321, k)
    //   + struct.pack('!BHQ', AUTH_MAGIC, s, seq)
    let mut signed = Vec::new();
    signed.extend_from_slice(&mac.0);
    signed.extend_from_slice(&switch_mac.0);
    signed.extend_from_slice(&0x4321u16.to_be_bytes());
    signed.extend_from_slice(&k.to_be_bytes());
    signed.push(0xA1);
    signed.extend_from_slice(&s.to_be_bytes());
    signed.extend_from_slice(&seq.to_be_bytes());
    assert_eq!(&frame[..signed.len()], &signed[..]);
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&key_bytes).unwrap();
    m.update(setup_script::AUTH_DOMAIN.as_bytes());
    m.update(&signed);
    let tag = m.finalize().into_bytes();
    assert_eq!(&frame[signed.len()..], &tag[..16]);
    // And the script builds exactly that byte string.
    let script = setup_script::render(&deployment(), &program(), CONFIG).unwrap();
    assert!(script.contains(
        "frame = (struct.pack('!HI', mac_hi, mac_lo) + SWITCH_MAC +\n             struct.pack('!HH', ETHERTYPE_QP_REFRESH, k) + struct.pack('!BHQ', AUTH_MAGIC, s, seq))"
    ));
    assert!(
        script.contains("hmac.new(AUTH_KEY, AUTH_DOMAIN + frame, hashlib.sha256).digest()[:16]")
    );
    assert!(
        script.contains("ETHERTYPE_QP_REFRESH = 0x4321") && script.contains("AUTH_MAGIC = 0xA1")
    );
}

#[test]
fn tofino_only_limits_are_refused_with_the_setting_named() {
    let text = std::fs::read_to_string(root().join(CONFIG)).unwrap();
    for (from, to, needle) in [
        (
            "dev_ports = [48, 36, 0, 20, 16, 32]",
            "dev_ports = [48, 36, 0, 20, 16]",
            "tofino.dev_ports has 5",
        ),
        (
            "dev_ports = [48, 36, 0, 20, 16, 32]",
            "dev_ports = [48, 36, 0, 20, 16, 200]",
            "another pipe",
        ),
        (
            "dev_ports = [48, 36, 0, 20, 16, 32]",
            "dev_ports = [48, 36, 0, 20, 16, 16]",
            "appears twice",
        ),
        (
            "split_threshold = 64",
            "split_threshold = 30",
            "split_threshold >= 40",
        ),
        (
            "payload_log = \"2GiB\"",
            "payload_log = \"3GiB\"",
            "payload_log <= 2GiB",
        ),
        (
            "nf_mirror_session = 100",
            "nf_mirror_session = 201",
            "overlaps",
        ),
        ("speed = \"100G\"", "speed = \"400G\"", "tofino.speed"),
        ("fec = \"rs\"", "fec = \"firecode\"", "tofino.fec"),
        (
            "tm_app_pool_cells = 250000",
            "tm_app_pool_cells = 250000\nbogus = 1",
            "bogus",
        ),
    ] {
        assert_eq!(text.matches(from).count(), 1, "{from}");
        let e = Deployment::parse(&text.replace(from, to)).unwrap_err();
        assert!(format!("{e:#}").contains(needle), "{needle}: {e:#}");
    }
    let start = text.find("[tofino]").unwrap();
    let e = Deployment::parse(&text[..start]).unwrap_err();
    assert!(format!("{e:#}").contains("[tofino]"), "{e:#}");
}

/// The other readers of the cluster file still accept it with [tofino] added.
#[test]
fn the_software_switch_reads_the_file_with_the_tofino_table() {
    let l = ribosome_switch::LoadedSwitch::load(&root().join(CONFIG)).unwrap();
    assert_eq!(l.ports.len(), 6);
}
