//! The committed P4 sources agree with the Rust crates, and every kind of disagreement is
//! reported: each mutation test changes one thing on one side and expects a finding.

mod common;

use common::{deployment, mutated};
use p4_split::consistency::{check_all, check_header};
use p4_split::p4src::Program;
use p4_split::sources;

fn findings_for(files: &[p4_split::p4src::SourceFile]) -> Vec<String> {
    check_all(files, &deployment())
}

fn assert_reported(files: &[p4_split::p4src::SourceFile], needle: &str) {
    let f = findings_for(files);
    assert!(
        f.iter().any(|x| x.contains(needle)),
        "no finding mentions {needle:?}; findings: {f:#?}"
    );
}

#[test]
fn committed_p4_sources_match_the_rust_crates_and_the_config() {
    let f = findings_for(&sources::committed());
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn every_p4_file_on_disk_is_embedded_and_checked() {
    let dir = common::root().join("p4-split/p4");
    let mut on_disk = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "p4") {
                on_disk.push(p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    on_disk.sort();
    let mut embedded: Vec<String> = sources::FILES.iter().map(|(p, _)| p.to_string()).collect();
    embedded.sort();
    assert_eq!(on_disk, embedded);
    // Every file the top level or an include names is in the list.
    for (path, text) in sources::FILES {
        for line in text
            .lines()
            .filter(|l| l.trim_start().starts_with("#include \""))
        {
            let inc = line.split('"').nth(1).unwrap();
            assert!(embedded.iter().any(|e| e == inc), "{path} includes {inc}");
        }
    }
}

#[test]
fn a_header_field_width_change_is_reported() {
    let files = mutated("include/headers.p4", "bit<24> psn;", "bit<23> psn;");
    assert_reported(&files, "bth_h");
    assert_reported(&files, "bth_h.psn");
}

#[test]
fn a_field_order_change_is_reported() {
    let files = mutated(
        "include/headers.p4",
        "    bit<16> length;\n    qp_index_t qp_index;\n    server_index_t server_index;\n    bit<16> pad_count;\n    bit<32> generation;\n}\n\n/* The versioned payload tag",
        "    qp_index_t qp_index;\n    bit<16> length;\n    server_index_t server_index;\n    bit<16> pad_count;\n    bit<32> generation;\n}\n\n/* The versioned payload tag",
    );
    assert_reported(&files, "split_trailer_h.length");
}

#[test]
fn an_unknown_or_overlapping_field_is_reported() {
    let files = mutated("include/headers.p4", "bit<6> rsvd_b4;", "bit<6> flags_b4;");
    assert_reported(&files, "bth_h.flags_b4: no such field");
    let files = mutated(
        "include/headers.p4",
        "    bit<16> rsvd_mac;\n    mac_addr_t mac;",
        "    bit<24> rsvd_mac;\n    bit<40> mac;",
    );
    assert_reported(&files, "eth_info_h.mac");
}

#[test]
fn a_typedef_width_change_is_reported_everywhere_it_is_used() {
    let files = mutated(
        "include/types.p4",
        "typedef bit<16> qp_index_t;",
        "typedef bit<8> qp_index_t;",
    );
    assert_reported(&files, "split_trailer_h.qp_index");
    assert_reported(&files, "qp_info_h.global_index");
    assert_reported(&files, "qp_refresh_h.global_index");
    // The mirror header shrank with it, so the truncation length no longer fits.
    assert_reported(&files, "MIRROR_TRUNC_LEN");
}

#[test]
fn a_constant_change_is_reported() {
    for (from, to, name) in [
        (
            "TRAILER_MARKER = 0x55991178",
            "TRAILER_MARKER = 0x55991177",
            "TRAILER_MARKER",
        ),
        ("OPCODE_ACK = 0x11", "OPCODE_ACK = 0x12", "OPCODE_ACK"),
        (
            "ETHERTYPE_RDMA_INFO = 0x1234",
            "ETHERTYPE_RDMA_INFO = 0x1235",
            "ETHERTYPE_RDMA_INFO",
        ),
        ("PSN_MASK = 0x00FFFFFF", "PSN_MASK = 0x007FFFFF", "PSN_MASK"),
        ("PATH_MTU = 4096", "PATH_MTU = 1024", "PATH_MTU"),
        (
            "MAX_OUTSTANDING_READS = 16",
            "MAX_OUTSTANDING_READS = 32",
            "MAX_OUTSTANDING_READS",
        ),
        ("TAG_LEN = 8", "TAG_LEN = 4", "TAG_LEN"),
        ("AETH_CLASS_NAK = 3", "AETH_CLASS_NAK = 2", "AETH_CLASS_NAK"),
        (
            "INFO_CODE_ETH = 0x02",
            "INFO_CODE_ETH = 0x03",
            "INFO_CODE_ETH",
        ),
    ] {
        assert_reported(&mutated("include/types.p4", from, to), name);
    }
}

#[test]
fn a_constant_of_the_wrong_width_is_reported() {
    let files = mutated(
        "include/types.p4",
        "const bit<8> OPCODE_WRITE_ONLY = 0x0A;",
        "const bit<16> OPCODE_WRITE_ONLY = 0x0A;",
    );
    assert_reported(&files, "OPCODE_WRITE_ONLY: declared width");
}

#[test]
fn a_wrong_register_size_or_width_is_reported() {
    let files = mutated(
        "ingress_controls/qp_state.p4",
        "Register<bit<16>, qp_index_t>(TOTAL_QP, 0) enabled_qp;",
        "Register<bit<16>, qp_index_t>(NUMBER_OF_SERVERS, 0) enabled_qp;",
    );
    assert_reported(&files, "register enabled_qp: 4 entries");
    let files = mutated(
        "ingress_controls/header_return.p4",
        "Register<bit<32>, slot_index_t>(HEADER_SLOTS, 0) slot_generation;",
        "Register<bit<16>, slot_index_t>(HEADER_SLOTS, 0) slot_generation;",
    );
    assert_reported(&files, "register slot_generation");
    let files = mutated(
        "ingress_controls/payload_split.p4",
        "ActionProfile(TOTAL_QP) qp_mapping_profile;",
        "ActionProfile(MAX_QP_NUM) qp_mapping_profile;",
    );
    assert_reported(&files, "qp_mapping_profile");
}

#[test]
fn mirror_and_chunk_sizes_are_tied_to_the_copy_length() {
    let files = mutated("include/headers.p4", "    bit<16> length;\n    qp_index_t qp_index;\n    server_index_t server_index;\n    bit<16> pad_count;\n    bit<32> generation;\n}\n\n/* Bridged", "    bit<8> length;\n    qp_index_t qp_index;\n    server_index_t server_index;\n    bit<16> pad_count;\n    bit<32> generation;\n}\n\n/* Bridged");
    assert_reported(&files, "mirror_h.length");
    assert_reported(&files, "MIRROR_TRUNC_LEN");
    let files = mutated("include/headers.p4", "    bit<16> h10;\n", "");
    assert_reported(&files, "hdr_chunk_h");
}

#[test]
fn event_names_must_be_model_counters() {
    let files = mutated("include/types.p4", "#define EV_ACKS 6", "#define EV_ACKZ 6");
    assert_reported(&files, "no counter ACKZ");
    let files = mutated("include/types.p4", "#define EV_NAKS 7", "#define EV_NAKS 6");
    assert_reported(&files, "share index 6");
}

#[test]
fn config_header_values_are_checked_against_the_cluster_file() {
    let files = mutated(
        "include/config.p4",
        "#define HEADER_SLOTS 2000",
        "#define HEADER_SLOTS 1000",
    );
    assert_reported(&files, "HEADER_SLOTS");
    // Registers sized by HEADER_SLOTS no longer match the configured slot count either.
    assert_reported(&files, "register slot_generation: 1000 entries");
}

#[test]
fn a_rust_side_change_is_reported() {
    // The same comparison with the Rust layout changed instead of the P4 source.
    let p4 = Program::parse(&sources::committed()).unwrap();
    let layouts = p4_split::layouts::all().unwrap();
    let (header, layout) = layouts.iter().find(|(h, _)| *h == "payload_tag_h").unwrap();
    assert!(check_header(&p4, header, layout).is_empty());
    let mut changed = layout.clone();
    for f in &mut changed.fields {
        if f.name == "header_slot" {
            f.width = 24;
        }
    }
    changed.bits += 8;
    let found = check_header(&p4, header, &changed);
    assert!(
        found
            .iter()
            .any(|x| x.contains("payload_tag_h.header_slot")),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|x| x.contains("64 bits in P4")),
        "{found:#?}"
    );
}

#[test]
fn unreadable_p4_is_an_error_not_a_pass() {
    let files = mutated(
        "include/headers.p4",
        "    bit<24> msn;",
        "    varbit<24> msn;",
    );
    assert_reported(&files, "cannot read the P4 sources");
}
