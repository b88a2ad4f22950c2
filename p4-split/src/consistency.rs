//! Compares the P4 sources with the Rust side: header layouts, constants, register sizes,
//! event names, and the names the generated control plane uses. Each check returns readable
//! findings (empty = consistent), so a test can show every disagreement at once and a
//! mutation test can assert that a specific one is reported.

use crate::deploy::Deployment;
use crate::facts::Fact;
use crate::layouts::Layout;
use crate::p4src::{Kind, Program, SourceFile};
use std::collections::{BTreeMap, BTreeSet};

/// Runs every check that needs no deployment.
pub fn check_sources(p4: &Program) -> Vec<String> {
    let mut out = Vec::new();
    match crate::layouts::all() {
        Ok(layouts) => {
            for (header, layout) in &layouts {
                out.extend(check_header(p4, header, layout));
            }
        }
        Err(e) => out.push(format!("cannot derive the Rust layouts: {e}")),
    }
    match crate::facts::all() {
        Ok(facts) => out.extend(check_facts(p4, &facts)),
        Err(e) => out.push(format!("cannot derive the Rust constants: {e}")),
    }
    out.extend(check_derived_headers(p4));
    out.extend(check_events(p4));
    out
}

/// Runs every check, the deployment-dependent ones against `d`.
pub fn check_all(files: &[SourceFile], d: &Deployment) -> Vec<String> {
    let p4 = match Program::parse(files) {
        Ok(p) => p,
        Err(e) => return vec![format!("cannot read the P4 sources: {e}")],
    };
    let mut out = check_sources(&p4);
    out.extend(check_config(&p4, d));
    out.extend(check_registers(&p4, d));
    out
}

/// A P4 header against a Rust layout: total width, and every field at the same bit offset
/// with the same width; P4 fields unknown to Rust must be `rsvd*` and cover only bits the
/// Rust writer leaves zero.
pub fn check_header(p4: &Program, header: &str, layout: &Layout) -> Vec<String> {
    let mut out = Vec::new();
    let Some(h) = p4.headers.get(header) else {
        return vec![format!(
            "P4 header {header} is missing (Rust layout {})",
            layout.name
        )];
    };
    if h.bits() != layout.bits {
        out.push(format!(
            "{header}: {} bits in P4, {} bits ({} bytes) in Rust",
            h.bits(),
            layout.bits,
            layout.bits / 8
        ));
    }
    let mut off = 0;
    for f in &h.fields {
        match layout.field(&f.name) {
            Some(r) if (r.off, r.width) != (off, f.width) => out.push(format!(
                "{header}.{}: P4 bit<{}> at bit {off}, Rust {} bits at bit {}",
                f.name, f.width, r.width, r.off
            )),
            Some(_) => {}
            None if f.name.starts_with("rsvd") => {
                let end = off + f.width;
                if let Some(r) = layout
                    .fields
                    .iter()
                    .find(|r| r.off < end && off < r.off + r.width)
                {
                    out.push(format!(
                        "{header}.{}: reserved bits {off}..{end} overlap Rust field {}",
                        f.name, r.name
                    ));
                }
            }
            None => out.push(format!(
                "{header}.{}: no such field in Rust layout {} (name reserved bits rsvd_*)",
                f.name, layout.name
            )),
        }
        off += f.width;
    }
    for r in &layout.fields {
        if h.span(r.name).is_none() {
            out.push(format!("{header}: Rust field {} has no P4 field", r.name));
        }
    }
    out
}

/// Constants: same value, and where given, the declared width of the header field.
pub fn check_facts(p4: &Program, facts: &[Fact]) -> Vec<String> {
    let mut out = Vec::new();
    for f in facts {
        match p4.value(f.p4) {
            Ok(v) if v == f.value => {}
            Ok(v) => out.push(format!(
                "{}: P4 value {v:#x}, Rust {:#x} ({})",
                f.p4, f.value, f.from
            )),
            Err(e) => out.push(format!("{} ({}): {e}", f.p4, f.from)),
        }
        if let Some(path) = f.width_of {
            let declared = p4.consts.get(f.p4).and_then(|c| c.width);
            let field = path
                .split_once('.')
                .and_then(|(h, n)| p4.headers.get(h)?.span(n))
                .map(|(_, w)| w);
            if declared.is_none() || declared != field {
                out.push(format!(
                    "{}: declared width {declared:?}, but {path} is {field:?} bits",
                    f.p4
                ));
            }
        }
    }
    out
}

fn bytes_of(p4: &Program, header: &str) -> Option<u32> {
    p4.headers.get(header).map(|h| h.bits() / 8)
}

fn width(p4: &Program, header: &str, field: &str) -> Option<u32> {
    p4.headers.get(header)?.span(field).map(|(_, w)| w)
}

/// P4-only headers whose sizes follow from the Rust ones: header chunks, discarded copy
/// bytes, pad headers, the mirror and bridge headers.
pub fn check_derived_headers(p4: &Program) -> Vec<String> {
    use ribosome_switch::consts::{ETH_LEN, IPV4_LEN, UDP_LEN};
    let tcp = crate::layouts::tcp_min_header_len();
    let copied = crate::config_header::copied_bytes();
    let mut out = Vec::new();
    let mut want = |h: &str, bytes: usize, why: &str| {
        if bytes_of(p4, h) != Some(bytes as u32) {
            out.push(format!(
                "{h}: {:?} bytes in P4, want {bytes} ({why})",
                bytes_of(p4, h)
            ));
        }
    };
    want(
        "hdr_chunk_h",
        ETH_LEN + IPV4_LEN + UDP_LEN,
        "Eth + IPv4 + UDP",
    );
    want("hdr_chunk_tcp_h", tcp - UDP_LEN, "the rest of a TCP header");
    want(
        "udp_rest_h",
        tcp - UDP_LEN,
        "UDP payload kept by the truncation",
    );
    want(
        "copy_rest_h",
        copied - ETH_LEN,
        "copied bytes after Ethernet",
    );
    want("pad1_h", 1, "pad count 1");
    want("pad2_h", 2, "pad count 2");
    want("pad3_h", 3, "pad count 3");
    // Mirror and bridge fields that carry trailer values have the trailer's widths.
    for h in ["mirror_h", "bridge_h"] {
        let Some(hdr) = p4.headers.get(h) else {
            out.push(format!("P4 header {h} is missing"));
            continue;
        };
        for f in &hdr.fields {
            if let Some(tw) = width(p4, "split_trailer_h", &f.name) {
                if tw != f.width {
                    out.push(format!(
                        "{h}.{}: bit<{}>, but split_trailer_h.{} is bit<{tw}>",
                        f.name, f.width, f.name
                    ));
                }
            }
        }
    }
    if let (Ok(v), Some(m)) = (p4.value("MIRROR_TRUNC_LEN"), bytes_of(p4, "mirror_h")) {
        if v != u128::from(m) + copied as u128 {
            out.push(format!(
                "MIRROR_TRUNC_LEN = {v}, want mirror_h ({m}) + {copied} copied bytes"
            ));
        }
    }
    out
}

/// The model's counter names by P4 prefix: `WHOLE_` (WholeReasons), `LOST_` (Losses),
/// none (Counters); `P4_` names are Tofino-only.
fn model_counter_names() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    ribosome_switch::Counters::default().for_each(|n, _| {
        names.insert(n.to_uppercase());
    });
    ribosome_switch::Losses::default().for_each(|n, _| {
        names.insert(format!("LOST_{}", n.to_uppercase()));
    });
    ribosome_switch::WholeReasons::default().for_each(|n, _| {
        names.insert(format!("WHOLE_{}", n.to_uppercase()));
    });
    names
}

/// `EV_*` and `SIDE_*` defines: names of model counters, unique indices below the size.
pub fn check_events(p4: &Program) -> Vec<String> {
    let names = model_counter_names();
    let mut out = Vec::new();
    for (prefix, count) in [("EV_", "EVENT_COUNT"), ("SIDE_", "SIDE_EVENT_COUNT")] {
        let size = p4.value(count).unwrap_or(0);
        let mut seen: BTreeMap<u128, &str> = BTreeMap::new();
        for name in p4.defines.keys().filter(|k| k.starts_with(prefix)) {
            let short = &name[prefix.len()..];
            if name.ends_with("_COUNT") {
                continue;
            }
            if !short.starts_with("P4_") && !names.contains(short) {
                out.push(format!("{name}: the model has no counter {short}"));
            }
            match p4.value(name) {
                Ok(i) if i >= size => out.push(format!("{name} = {i} is not below {count}")),
                Ok(i) => {
                    if let Some(other) = seen.insert(i, name) {
                        out.push(format!("{name} and {other} share index {i}"));
                    }
                }
                Err(e) => out.push(e),
            }
        }
    }
    out
}

/// The events a counter has: (index, name without prefix), from the P4 defines.
pub fn events(p4: &Program, prefix: &str) -> Vec<(u128, String)> {
    let mut v: Vec<(u128, String)> = p4
        .defines
        .keys()
        .filter(|k| k.starts_with(prefix) && !k.ends_with("_COUNT"))
        .filter_map(|k| Some((p4.value(k).ok()?, k[prefix.len()..].to_lowercase())))
        .collect();
    v.sort();
    v
}

/// config.p4 against the deployment.
pub fn check_config(p4: &Program, d: &Deployment) -> Vec<String> {
    let c = &d.switch.config;
    let want: Vec<(&str, u128)> = vec![
        ("NUMBER_OF_SERVERS", c.servers.into()),
        ("MAX_QP_NUM", c.qps_per_server.into()),
        ("TOTAL_QP", c.total_qps() as u128),
        ("HEADER_SLOTS", c.header_slots.into()),
        (
            "SPLIT_THRESHOLD",
            c.split_threshold.unwrap_or_default().into(),
        ),
        ("PAYLOAD_LOG", c.payload_log.into()),
        ("MAX_READ", c.max_read as u128),
        ("SWITCH_IP", u32::from(c.switch_ip).into()),
        ("SWITCH_MAC", c.switch_mac.to_u64().into()),
        ("AUTH_REQUIRED", u128::from(c.key.is_some())),
        ("NF_PORT", d.nf_port.into()),
        ("NF_MIRROR_SESSION", d.nf_mirror_session().into()),
        (
            "REFRESH_MIRROR_SESSION_BASE",
            d.refresh_mirror_session_base().into(),
        ),
        ("LIVENESS_TIMEOUT_TICKS", d.liveness_ticks().into()),
        (
            "BLACKLIST_SIZE",
            ribosome_switch::lpm::BLACKLIST_CAPACITY as u128,
        ),
    ];
    let mut out = Vec::new();
    for (name, v) in want {
        match p4.value(name) {
            Ok(x) if x == v => {}
            Ok(x) => out.push(format!("{name}: config.p4 says {x}, the cluster file {v}")),
            Err(e) => out.push(e),
        }
    }
    out
}

/// Registers: the size matches what the index type counts (QPs, servers, header slots),
/// and registers holding a header field have that field's width.
pub fn check_registers(p4: &Program, d: &Deployment) -> Vec<String> {
    let c = &d.switch.config;
    let mut out = Vec::new();
    let holds = [
        ("slot_generation", "split_trailer_h", "generation"),
        ("hdr_index", "split_trailer_h", "header_slot"),
        ("qp_qpn", "qp_info_h", "qpn"),
        ("enabled_qp", "qp_info_h", "enable_timer"),
        ("server_rkey", "mem_info_h", "rkey"),
        ("server_ip", "eth_info_h", "ip"),
    ];
    for r in p4.objects_of(Kind::Register) {
        let index = r.type_args.get(1).map(String::as_str).unwrap_or("");
        let want = match index {
            "qp_index_t" => c.total_qps() as u128,
            "server_index_t" => c.servers.into(),
            "slot_index_t" => c.header_slots.into(),
            "bit < 1 >" => 1,
            other => {
                out.push(format!(
                    "register {}: unexpected index type {other:?}",
                    r.name
                ));
                continue;
            }
        };
        match r.args.first().map(|a| p4.eval(a)) {
            Some(Ok(n)) if n == want => {}
            Some(Ok(n)) => out.push(format!(
                "register {}: {n} entries, but its index ({index}) counts {want}",
                r.name
            )),
            Some(Err(e)) => out.push(format!("register {}: {e}", r.name)),
            None => out.push(format!("register {}: no size", r.name)),
        }
        if let Some((_, h, f)) = holds.iter().find(|(n, _, _)| *n == r.name) {
            let value_w = r
                .type_args
                .first()
                .and_then(|t| t.strip_prefix("bit < "))
                .and_then(|t| t.strip_suffix(" >"))
                .and_then(|t| t.parse::<u32>().ok());
            if value_w != width(p4, h, f) {
                out.push(format!(
                    "register {}: values of {value_w:?} bits hold {h}.{f} of {:?} bits",
                    r.name,
                    width(p4, h, f)
                ));
            }
        }
    }
    let psn = width(p4, "bth_h", "psn").unwrap_or(0);
    if let Some(r) = p4.objects_of(Kind::Register).find(|r| r.name == "seq_n") {
        if r.type_args.first().map(String::as_str) != Some("bit < 32 >") || psn > 32 {
            out.push(format!("register seq_n cannot hold a {psn}-bit PSN"));
        }
    } else {
        out.push("register seq_n (per-QP PSN) is missing".into());
    }
    for (kind, name, arg) in [
        (Kind::ActionProfile, "qp_mapping_profile", 0),
        (Kind::ActionSelector, "qp_mapping_sel", 3),
    ] {
        let size = p4
            .objects_of(kind)
            .find(|o| o.name == name)
            .and_then(|o| o.args.get(arg))
            .map(|a| p4.eval(a));
        if size != Some(Ok(c.total_qps() as u128)) {
            out.push(format!(
                "{name}: size {size:?}, want one member per QP ({})",
                c.total_qps()
            ));
        }
    }
    out
}

/// bfrt names `Ingress.x` / `Egress.x` of tables, registers, selectors, profiles, counters,
/// and the actions.
pub fn bfrt_names(files: &[SourceFile], p4: &Program) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut objects = BTreeSet::new();
    let mut actions = BTreeSet::new();
    for o in &p4.objects {
        let Some(ctl) = files
            .iter()
            .find(|f| f.path == o.file)
            .and_then(|f| crate::sources::control_of(&f.path))
        else {
            continue;
        };
        match o.kind {
            Kind::Table
            | Kind::Register
            | Kind::ActionProfile
            | Kind::ActionSelector
            | Kind::Counter => {
                objects.insert(format!("{ctl}.{}", o.name));
            }
            Kind::Action => {
                actions.insert(o.name.clone());
            }
            _ => {}
        }
    }
    (objects, actions)
}

/// Every `p4.Ingress.x` / `p4.Egress.x` and `add_with_<action>` the script uses must exist.
pub fn check_script_names(script: &str, files: &[SourceFile], p4: &Program) -> Vec<String> {
    let (objects, actions) = bfrt_names(files, p4);
    let mut out = Vec::new();
    let word = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in script.match_indices("p4.") {
        let rest = &script[i + 3..];
        let Some((ctl, after)) = rest.split_once('.') else {
            continue;
        };
        if ctl != "Ingress" && ctl != "Egress" {
            continue;
        }
        let name = format!("{ctl}.{}", word(after));
        if !objects.contains(&name) {
            out.push(format!(
                "the setup script uses {name}, which the P4 program lacks"
            ));
        }
    }
    for (i, _) in script.match_indices("add_with_") {
        // Only calls on the program's own tables (`p4.Ingress.t.add_with_a`), not bfrt.mirror.
        let line_start = script[..i].rfind('\n').map_or(0, |n| n + 1);
        if !script[line_start..i].contains("p4.") {
            continue;
        }
        let a = word(&script[i + 9..]);
        if !actions.contains(&a) {
            out.push(format!(
                "the setup script uses action {a}, which the P4 program lacks"
            ));
        }
    }
    out.sort();
    out.dedup();
    out
}
