//! The bfrt_python setup script: `setup_template.py` with the deployment's values filled in.
//! Names of tables, registers and actions in the template are checked against the P4
//! sources by a test, and the counter names come from the P4 `EV_*` defines.

use crate::consistency::events;
use crate::deploy::{fec_name, is_python_identifier, speed_name, Deployment};
use crate::error::{Error, Result};
use crate::p4src::Program;
use ribosome_wire::control::{AUTH_MAGIC, ETHERTYPE_QP_REFRESH};

const TEMPLATE: &str = include_str!("setup_template.py");

/// The domain string ribosome-wire's control-frame MAC starts with (private there; a test
/// checks this copy by recomputing a tag `write_control` made).
pub const AUTH_DOMAIN: &str = "ribosome-control-v1";

/// `s` with backslashes, quotes, control characters and line separators escaped, so it can
/// sit inside a single-quoted Python string or a `#` comment and never ends either.
fn py_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '\'' => o.push_str("\\'"),
            '"' => o.push_str("\\\""),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if c.is_control() || c > '\u{7e}' => {
                let n = u32::from(c);
                if n <= 0xff {
                    o.push_str(&format!("\\x{n:02x}"));
                } else if n <= 0xffff {
                    o.push_str(&format!("\\u{n:04x}"));
                } else {
                    o.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => o.push(c),
        }
    }
    o
}

/// `s` as a single-quoted Python string literal.
fn py_str(s: &str) -> String {
    format!("'{}'", py_escape(s))
}

fn py_list(v: &[u16]) -> String {
    let items: Vec<String> = v.iter().map(u16::to_string).collect();
    format!("[{}]", items.join(", "))
}

fn py_dict(v: &[(u128, String)]) -> String {
    let items: Vec<String> = v
        .iter()
        .map(|(i, n)| format!("    {i}: {},\n", py_str(n)))
        .collect();
    format!("{{\n{}}}", items.concat())
}

/// How the script gets the control key: from the file named in the config at run time, or
/// embedded when the config holds it inline (the committed development key).
fn key_line(d: &Deployment) -> Result<String> {
    Ok(match (&d.servers.auth_key_file, &d.servers.auth_key) {
        (Some(f), _) => format!(
            "# Key file named by servers.auth_key_file (read when the script runs).\n\
             AUTH_KEY = bytes.fromhex(open({}).read().strip())",
            py_str(f)
        ),
        (None, Some(k)) => {
            let k = k.trim();
            if k.len() != 64 || !k.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Error::Setting(
                    "servers.auth_key: want 64 hex digits".into(),
                ));
            }
            format!(
                "# servers.auth_key, inline in the cluster file: prefer auth_key_file in production.\n\
                 AUTH_KEY = bytes.fromhex('{k}')"
            )
        }
        (None, None) => {
            "# No control key configured: refresh frames go out unsigned.\nAUTH_KEY = None"
                .to_string()
        }
    })
}

/// The script for `d`; `config_name` is the cluster file as the user named it.
pub fn render(d: &Deployment, p4: &Program, config_name: &str) -> Result<String> {
    let c = &d.switch.config;
    let blacklist: Vec<String> = d
        .blacklist
        .iter()
        .map(|r| {
            let port = r.send_to.map_or("None".to_string(), |p| p.to_string());
            format!("    ('{}', {}, {port}),\n", r.prefix, r.len)
        })
        .collect();
    let overload = match c.overload {
        Some(o) => format!("({}, {})", o.high_bps, o.low_bps),
        None => "None".to_string(),
    };
    if !is_python_identifier(d.program()) {
        return Err(Error::Setting(format!(
            "tofino.program {:?}: must be a P4/Python identifier",
            d.program()
        )));
    }
    let server_dead = p4.value("SERVER_DEAD").map_err(Error::P4)?;
    let subs: Vec<(&str, String)> = vec![
        ("@CONFIG@", py_escape(config_name)),
        ("@PROGRAM@", d.program().to_string()),
        ("@ALL_PORTS@", py_list(&d.all_ports)),
        ("@CLIENT_PORTS@", py_list(&d.client_ports)),
        ("@NF_PORT@", d.nf_port.to_string()),
        ("@SERVER_PORTS@", py_list(&d.server_ports)),
        (
            "@SPEED@",
            speed_name(d.tofino.speed.as_deref())?.to_string(),
        ),
        ("@FEC@", fec_name(d.tofino.fec.as_deref())?.to_string()),
        (
            "@POOL_CELLS@",
            d.tofino.tm_app_pool_cells.unwrap_or(250_000).to_string(),
        ),
        ("@SERVERS@", c.servers.to_string()),
        ("@QPS@", c.qps_per_server.to_string()),
        ("@TOTAL_QP@", c.total_qps().to_string()),
        ("@NF_SESSION@", d.nf_mirror_session().to_string()),
        (
            "@REFRESH_BASE@",
            d.refresh_mirror_session_base().to_string(),
        ),
        (
            "@TRUNC@",
            crate::config_header::mirror_trunc_len(p4)?.to_string(),
        ),
        (
            "@PERIOD@",
            format!("{:.3}", c.control_period_ns as f64 / 1e9),
        ),
        ("@OVERLOAD@", overload),
        ("@SERVER_DEAD@", format!("{server_dead:#X}")),
        ("@SWITCH_MAC@", format!("{:012x}", c.switch_mac.to_u64())),
        (
            "@ETHERTYPE_REFRESH@",
            format!("{ETHERTYPE_QP_REFRESH:#06X}"),
        ),
        ("@AUTH_MAGIC@", format!("{AUTH_MAGIC:#04X}")),
        ("@DOMAIN@", AUTH_DOMAIN.to_string()),
        ("@KEY@", key_line(d)?),
        ("@BLACKLIST@", format!("[\n{}]", blacklist.concat())),
        ("@EVENTS@", py_dict(&events(p4, "EV_"))),
        ("@SIDE_EVENTS@", py_dict(&events(p4, "SIDE_"))),
    ];
    // Fill the template first, then the values, so a value containing a marker-like text
    // (a key-file path with '@') is never taken for one.
    let mut s = TEMPLATE.to_string();
    for (k, _) in &subs {
        if !s.contains(k) {
            return Err(Error::Template(format!("template lacks {k}")));
        }
    }
    if let Some(left) = markers(TEMPLATE).find(|m| !subs.iter().any(|(k, _)| k == m)) {
        return Err(Error::Template(format!(
            "template placeholder {left} has no value"
        )));
    }
    for (k, v) in &subs {
        s = s.replace(k, v);
    }
    Ok(s)
}

/// The `@NAME@` markers in `text`.
fn markers(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices('@').filter_map(move |(i, _)| {
        let rest = &text[i + 1..];
        let end = rest.find(|c: char| !(c.is_ascii_uppercase() || c == '_'))?;
        (end > 0 && rest[end..].starts_with('@')).then(|| &text[i..i + end + 2])
    })
}

/// Reads the committed P4 sources (for names and sizes the script needs).
pub fn committed_program() -> Result<Program> {
    Program::parse(&crate::sources::committed())
        .map_err(|e| Error::P4(format!("reading the embedded P4 sources: {e}")))
}
