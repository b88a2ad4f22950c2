//! Byte layouts of every wire header as the Rust crates write them, derived rather than
//! retyped: each header is built by its ribosome-wire writer once with every field zero and
//! once per field with that field all ones; the bits that change are that field. Constant
//! parts (markers, version bytes, the IPv4 version/IHL byte) are located by searching for
//! their values, and computed parts (IPv4 checksum, HMAC tag) by what changes them.

use ribosome_wire::control::{write_control, Auth, AuthKey, ControlMsg, AUTH_MAGIC};
use ribosome_wire::ib::{Aeth, Bth, Opcode, Reth};
use ribosome_wire::split::{MARKER_VERSIONED, TAG_VERSIONED_BYTE, VERSION};
use ribosome_wire::{EthHdr, Ipv4Hdr, MacAddr, PayloadTag, SplitTrailer, UdpHdr};
use std::net::Ipv4Addr;

/// One field: name, bit offset from the header start (MSB first), width in bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Field name (the Rust struct field, or the name of a constant part).
    pub name: &'static str,
    /// Bit offset.
    pub off: u32,
    /// Width in bits.
    pub width: u32,
}

/// A header layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Layout name (used in messages).
    pub name: &'static str,
    /// Total length in bits.
    pub bits: u32,
    /// Fields sorted by offset; bits not covered are always zero.
    pub fields: Vec<Span>,
}

impl Layout {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<Span> {
        self.fields.iter().copied().find(|f| f.name == name)
    }
}

type Res<T> = Result<T, String>;

/// A field name and how to set that field to all ones.
type Setter<'a, T> = (&'static str, &'a dyn Fn(&mut T));

/// The bits where `a` and `b` differ, skipping bytes in `ignore`, as one contiguous span.
fn changed(name: &'static str, a: &[u8], b: &[u8], ignore: &[usize]) -> Res<Span> {
    if a.len() != b.len() {
        return Err(format!("{name}: writer changed the length"));
    }
    let bits: Vec<u32> = (0..a.len() * 8)
        .filter(|&i| !ignore.contains(&(i / 8)))
        .filter(|&i| (a[i / 8] ^ b[i / 8]) & (0x80 >> (i % 8)) != 0)
        .map(|i| i as u32)
        .collect();
    let (Some(&first), Some(&last)) = (bits.first(), bits.last()) else {
        return Err(format!("{name}: setting the field changed no bit"));
    };
    if last - first + 1 != bits.len() as u32 {
        return Err(format!("{name}: the field's bits are not contiguous"));
    }
    Ok(Span {
        name,
        off: first,
        width: bits.len() as u32,
    })
}

/// The one place `needle` occurs in `hay` (outside `ignore`d bytes).
fn find(name: &'static str, hay: &[u8], needle: &[u8], ignore: &[usize]) -> Res<Span> {
    let hits: Vec<usize> = (0..=hay.len().saturating_sub(needle.len()))
        .filter(|&i| hay.get(i..i + needle.len()) == Some(needle))
        .filter(|&i| !(i..i + needle.len()).any(|k| ignore.contains(&k)))
        .collect();
    match hits[..] {
        [i] => Ok(Span {
            name,
            off: i as u32 * 8,
            width: needle.len() as u32 * 8,
        }),
        _ => Err(format!("{name}: found {} times, want once", hits.len())),
    }
}

fn layout(name: &'static str, len: usize, mut fields: Vec<Span>) -> Layout {
    fields.sort_by_key(|f| f.off);
    Layout {
        name,
        bits: len as u32 * 8,
        fields,
    }
}

/// Builds a header with a writer after `set` changed one field of the all-zero value.
fn variants<T: Clone>(
    zero: &T,
    write: impl Fn(&T) -> Vec<u8>,
    sets: &[Setter<'_, T>],
    ignore: &[usize],
) -> Res<(Vec<u8>, Vec<Span>)> {
    let base = write(zero);
    let mut spans = Vec::new();
    for (name, set) in sets {
        let mut v = zero.clone();
        set(&mut v);
        spans.push(changed(name, &base, &write(&v), ignore)?);
    }
    Ok((base, spans))
}

fn ethernet() -> Res<Layout> {
    let zero = EthHdr {
        dst: MacAddr([0; 6]),
        src: MacAddr([0; 6]),
        ethertype: 0,
    };
    let w = |h: &EthHdr| {
        let mut v = Vec::new();
        h.write_to(&mut v);
        v
    };
    let (base, spans) = variants(
        &zero,
        w,
        &[
            ("dst", &|h| h.dst = MacAddr([0xff; 6])),
            ("src", &|h| h.src = MacAddr([0xff; 6])),
            ("ethertype", &|h| h.ethertype = 0xffff),
        ],
        &[],
    )?;
    Ok(layout("ethernet", base.len(), spans))
}

fn ipv4() -> Res<Layout> {
    let zero = Ipv4Hdr {
        ihl: 5,
        tos: 0,
        total_len: 0,
        ident: 0,
        flags_frag: 0,
        ttl: 0,
        protocol: 0,
        checksum: 0,
        src: Ipv4Addr::UNSPECIFIED,
        dst: Ipv4Addr::UNSPECIFIED,
    };
    let w = |h: &Ipv4Hdr| {
        let mut v = Vec::new();
        h.write_to(&mut v);
        v
    };
    // The checksum: where the parser reads the value the writer computed, in a header whose
    // fields make that value unique.
    let probe = Ipv4Hdr {
        tos: 0x11,
        total_len: 0x2233,
        ident: 0x4455,
        flags_frag: 0x6677,
        ttl: 0x88,
        protocol: 0x99,
        src: Ipv4Addr::new(0xaa, 0xbb, 0xcc, 0xdd),
        dst: Ipv4Addr::new(0xee, 0x12, 0x34, 0x56),
        ..zero
    };
    let mut bytes = w(&probe);
    bytes.resize(0x2233, 0);
    let parsed = Ipv4Hdr::parse(&bytes)
        .map_err(|e| format!("ipv4 probe: {e}"))?
        .0;
    let sum = find(
        "checksum",
        &bytes[..Ipv4Hdr::LEN],
        &parsed.checksum.to_be_bytes(),
        &[],
    )?;
    let ignore: Vec<usize> = (sum.off as usize / 8..(sum.off + sum.width) as usize / 8).collect();
    let (base, mut spans) = variants(
        &zero,
        w,
        &[
            ("tos", &|h| h.tos = 0xff),
            ("total_len", &|h| h.total_len = 0xffff),
            ("ident", &|h| h.ident = 0xffff),
            ("flags_frag", &|h| h.flags_frag = 0xffff),
            ("ttl", &|h| h.ttl = 0xff),
            ("protocol", &|h| h.protocol = 0xff),
            ("src", &|h| h.src = Ipv4Addr::BROADCAST),
            ("dst", &|h| h.dst = Ipv4Addr::BROADCAST),
        ],
        &ignore,
    )?;
    // Version 4 and IHL (header length in words) share the first byte the writer emits.
    let vihl = find(
        "version_ihl",
        &base,
        &[0x40 | (Ipv4Hdr::LEN / 4) as u8],
        &ignore,
    )?;
    spans.push(Span {
        name: "version",
        off: vihl.off,
        width: 4,
    });
    spans.push(Span {
        name: "ihl",
        off: vihl.off + 4,
        width: 4,
    });
    spans.push(sum);
    Ok(layout("ipv4", base.len(), spans))
}

fn udp() -> Res<Layout> {
    let zero = UdpHdr {
        src_port: 0,
        dst_port: 0,
        length: 0,
        checksum: 0,
    };
    let w = |h: &UdpHdr| {
        let mut v = Vec::new();
        h.write_to(&mut v);
        v
    };
    let (base, spans) = variants(
        &zero,
        w,
        &[
            ("src_port", &|h| h.src_port = 0xffff),
            ("dst_port", &|h| h.dst_port = 0xffff),
            ("length", &|h| h.length = 0xffff),
            ("checksum", &|h| h.checksum = 0xffff),
        ],
        &[],
    )?;
    Ok(layout("udp", base.len(), spans))
}

fn bth() -> Res<Layout> {
    let zero = Bth {
        opcode: Opcode(0),
        solicited: false,
        migreq: false,
        pad_count: 0,
        tver: 0,
        pkey: 0,
        fecn: false,
        becn: false,
        dest_qp: 0,
        ack_req: false,
        psn: 0,
    };
    let w = |h: &Bth| {
        let mut v = Vec::new();
        h.write_to(&mut v);
        v
    };
    let (base, spans) = variants(
        &zero,
        w,
        &[
            ("opcode", &|h| h.opcode = Opcode(0xff)),
            ("solicited", &|h| h.solicited = true),
            ("migreq", &|h| h.migreq = true),
            ("pad_count", &|h| h.pad_count = 0xff),
            ("tver", &|h| h.tver = 0xff),
            ("pkey", &|h| h.pkey = 0xffff),
            ("fecn", &|h| h.fecn = true),
            ("becn", &|h| h.becn = true),
            ("dest_qp", &|h| h.dest_qp = u32::MAX),
            ("ack_req", &|h| h.ack_req = true),
            ("psn", &|h| h.psn = u32::MAX),
        ],
        &[],
    )?;
    Ok(layout("bth", base.len(), spans))
}

fn reth() -> Res<Layout> {
    let zero = Reth {
        va: 0,
        rkey: 0,
        dma_len: 0,
    };
    let w = |h: &Reth| {
        let mut v = Vec::new();
        h.write_to(&mut v);
        v
    };
    let (base, spans) = variants(
        &zero,
        w,
        &[
            ("va", &|h| h.va = u64::MAX),
            ("rkey", &|h| h.rkey = u32::MAX),
            ("dma_len", &|h| h.dma_len = u32::MAX),
        ],
        &[],
    )?;
    Ok(layout("reth", base.len(), spans))
}

fn aeth() -> Res<Layout> {
    let zero = Aeth {
        syndrome: 0,
        msn: 0,
    };
    let w = |h: &Aeth| {
        let mut v = Vec::new();
        h.write_to(&mut v);
        v
    };
    let (base, spans) = variants(
        &zero,
        w,
        &[
            ("syndrome", &|h| h.syndrome = 0xff),
            ("msn", &|h| h.msn = u32::MAX),
        ],
        &[],
    )?;
    Ok(layout("aeth", base.len(), spans))
}

fn split_trailer() -> Res<Layout> {
    let zero = SplitTrailer {
        remote_va: 0,
        length: 0,
        qp_index: 0,
        server_index: 0,
        pad_count: 0,
        header_slot: 0,
        generation: Some(0),
    };
    let w = |t: &SplitTrailer| {
        let mut v = Vec::new();
        t.write_to(&mut v);
        v
    };
    let (base, mut spans) = variants(
        &zero,
        w,
        &[
            ("header_slot", &|t| t.header_slot = u16::MAX),
            ("remote_va", &|t| t.remote_va = u64::MAX),
            ("length", &|t| t.length = u16::MAX),
            ("qp_index", &|t| t.qp_index = u16::MAX),
            ("server_index", &|t| t.server_index = u16::MAX),
            ("pad_count", &|t| t.pad_count = u16::MAX),
            ("generation", &|t| t.generation = Some(u32::MAX)),
        ],
        &[],
    )?;
    spans.push(find("marker", &base, &MARKER_VERSIONED.to_be_bytes(), &[])?);
    spans.push(find("version", &base, &[VERSION], &[])?);
    Ok(layout("split_trailer", base.len(), spans))
}

fn payload_tag() -> Res<Layout> {
    let zero = PayloadTag {
        pad_count: 0,
        header_slot: 0,
        generation: Some(0),
    };
    let w = |t: &PayloadTag| {
        let mut v = Vec::new();
        // The versioned tag cannot fail for pad counts that fit a byte (all used here).
        let _ = t.write_to(&mut v);
        v
    };
    let (base, mut spans) = variants(
        &zero,
        w,
        &[
            ("pad_count", &|t| t.pad_count = 0xff),
            ("header_slot", &|t| t.header_slot = u16::MAX),
            ("generation", &|t| t.generation = Some(u32::MAX)),
        ],
        &[],
    )?;
    spans.push(find("version_byte", &base, &[TAG_VERSIONED_BYTE], &[])?);
    Ok(layout("payload_tag", base.len(), spans))
}

/// The body of a control frame (after the Ethernet header), unsigned.
pub fn control_body(msg: &ControlMsg) -> Vec<u8> {
    let mut v = Vec::new();
    write_control(MacAddr([0; 6]), MacAddr([0; 6]), msg, None, &mut v);
    v.get(EthHdr::LEN..).unwrap_or_default().to_vec()
}

fn zero_qp() -> ControlMsg {
    ControlMsg::QpInfo {
        enable_timer: 0,
        global_index: 0,
        qpn: 0,
    }
}

fn zero_mem() -> ControlMsg {
    ControlMsg::MemInfo {
        server_index: 0,
        va: 0,
        rkey: 0,
    }
}

fn zero_eth() -> ControlMsg {
    ControlMsg::EthInfo {
        server_index: 0,
        mac: MacAddr([0; 6]),
        ip: Ipv4Addr::UNSPECIFIED,
    }
}

/// Offset of the info code in a registration body: the one byte where the zeroed QP, MEM and
/// ETH bodies differ.
fn info_code_at() -> Res<usize> {
    let (q, m, e) = (
        control_body(&zero_qp()),
        control_body(&zero_mem()),
        control_body(&zero_eth()),
    );
    let n = q.len().min(m.len()).min(e.len());
    let diff: Vec<usize> = (0..n)
        .filter(|&i| q[i] != m[i] || m[i] != e[i] || q[i] != e[i])
        .collect();
    match diff[..] {
        [i] => Ok(i),
        _ => Err(format!(
            "info code: bodies differ at {diff:?}, want one byte"
        )),
    }
}

/// The info codes of QP, MEM and ETH info, as the writer emits them.
pub fn info_codes() -> Res<[u8; 3]> {
    let at = info_code_at()?;
    let get = |m: &ControlMsg| control_body(m).get(at).copied().ok_or("short body");
    Ok([get(&zero_qp())?, get(&zero_mem())?, get(&zero_eth())?])
}

/// A registration body's layout after the code byte.
fn info_body(name: &'static str, zero: ControlMsg, sets: &[Setter<'_, ControlMsg>]) -> Res<Layout> {
    let at = info_code_at()?;
    if at != 0 {
        return Err(format!("{name}: the code is not the first body byte"));
    }
    let w = |m: &ControlMsg| control_body(m).get(1..).unwrap_or_default().to_vec();
    let (base, spans) = variants(&zero, w, sets, &[])?;
    Ok(layout(name, base.len(), spans))
}

fn info_code() -> Res<Layout> {
    let at = info_code_at()?;
    Ok(layout(
        "info_code",
        1,
        vec![Span {
            name: "code",
            off: at as u32 * 8,
            width: 8,
        }],
    ))
}

fn qp_info() -> Res<Layout> {
    info_body(
        "qp_info",
        zero_qp(),
        &[
            ("enable_timer", &|m| {
                if let ControlMsg::QpInfo { enable_timer, .. } = m {
                    *enable_timer = u16::MAX;
                }
            }),
            ("global_index", &|m| {
                if let ControlMsg::QpInfo { global_index, .. } = m {
                    *global_index = u16::MAX;
                }
            }),
            ("qpn", &|m| {
                if let ControlMsg::QpInfo { qpn, .. } = m {
                    *qpn = u32::MAX;
                }
            }),
        ],
    )
}

fn mem_info() -> Res<Layout> {
    info_body(
        "mem_info",
        zero_mem(),
        &[
            ("server_index", &|m| {
                if let ControlMsg::MemInfo { server_index, .. } = m {
                    *server_index = u16::MAX;
                }
            }),
            ("va", &|m| {
                if let ControlMsg::MemInfo { va, .. } = m {
                    *va = u64::MAX;
                }
            }),
            ("rkey", &|m| {
                if let ControlMsg::MemInfo { rkey, .. } = m {
                    *rkey = u32::MAX;
                }
            }),
        ],
    )
}

fn eth_info() -> Res<Layout> {
    info_body(
        "eth_info",
        zero_eth(),
        &[
            ("server_index", &|m| {
                if let ControlMsg::EthInfo { server_index, .. } = m {
                    *server_index = u16::MAX;
                }
            }),
            ("mac", &|m| {
                if let ControlMsg::EthInfo { mac, .. } = m {
                    *mac = MacAddr([0xff; 6]);
                }
            }),
            ("ip", &|m| {
                if let ControlMsg::EthInfo { ip, .. } = m {
                    *ip = Ipv4Addr::BROADCAST;
                }
            }),
        ],
    )
}

fn qp_refresh() -> Res<Layout> {
    let zero = ControlMsg::QpRefresh { global_index: 0 };
    let w = |m: &ControlMsg| control_body(m);
    let (base, spans) = variants(
        &zero,
        w,
        &[("global_index", &|m| {
            if let ControlMsg::QpRefresh { global_index } = m {
                *global_index = u16::MAX;
            }
        })],
        &[],
    )?;
    Ok(layout("qp_refresh", base.len(), spans))
}

/// The authentication trailer behind a control body.
fn auth() -> Res<Layout> {
    let msg = ControlMsg::QpRefresh { global_index: 0 };
    let body_end = EthHdr::LEN + control_body(&msg).len();
    let signed = |key: u8, a: Auth| {
        let mut v = Vec::new();
        let k = AuthKey::new([key; 32]);
        write_control(
            MacAddr([0; 6]),
            MacAddr([0; 6]),
            &msg,
            Some((&k, a)),
            &mut v,
        );
        v.get(body_end..).unwrap_or_default().to_vec()
    };
    let zero = Auth {
        server_index: 0,
        seq: 0,
    };
    let base = signed(1, zero);
    // The tag: the bytes other keys change (a MAC byte can repeat by chance, so several).
    let mut tag_bytes: Vec<usize> = (2u8..8)
        .flat_map(|k| {
            let other = signed(k, zero);
            (0..base.len())
                .filter(|&i| other.get(i) != base.get(i))
                .collect::<Vec<_>>()
        })
        .collect();
    tag_bytes.sort_unstable();
    tag_bytes.dedup();
    let (Some(&first), Some(&last)) = (tag_bytes.first(), tag_bytes.last()) else {
        return Err("auth tag: no byte depends on the key".into());
    };
    if last + 1 - first != tag_bytes.len() {
        return Err("auth tag: the key-dependent bytes are not contiguous".into());
    }
    let tag = Span {
        name: "tag",
        off: first as u32 * 8,
        width: tag_bytes.len() as u32 * 8,
    };
    let server = changed(
        "server_index",
        &base,
        &signed(
            1,
            Auth {
                server_index: u16::MAX,
                seq: 0,
            },
        ),
        &tag_bytes,
    )?;
    let seq = changed(
        "seq",
        &base,
        &signed(
            1,
            Auth {
                server_index: 0,
                seq: u64::MAX,
            },
        ),
        &tag_bytes,
    )?;
    let magic = find("magic", &base, &[AUTH_MAGIC], &tag_bytes)?;
    Ok(layout("auth", base.len(), vec![magic, server, seq, tag]))
}

/// Every layout the P4 headers must match, by P4 header type name.
pub fn all() -> Res<Vec<(&'static str, Layout)>> {
    Ok(vec![
        ("ethernet_h", ethernet()?),
        ("ipv4_h", ipv4()?),
        ("udp_h", udp()?),
        ("bth_h", bth()?),
        ("reth_h", reth()?),
        ("aeth_h", aeth()?),
        ("split_trailer_h", split_trailer()?),
        ("payload_tag_h", payload_tag()?),
        ("info_code_h", info_code()?),
        ("qp_info_h", qp_info()?),
        ("mem_info_h", mem_info()?),
        ("eth_info_h", eth_info()?),
        ("qp_refresh_h", qp_refresh()?),
        ("auth_h", auth()?),
    ])
}

/// The TCP header length the model uses for a segment without options: a frame with data
/// offset 5 run through `ribosome_switch::packet::parse` (0 if the model refuses it).
pub fn tcp_min_header_len() -> usize {
    let mut f = Vec::new();
    EthHdr {
        dst: MacAddr([0; 6]),
        src: MacAddr([0; 6]),
        ethertype: ribosome_wire::eth::ETHERTYPE_IPV4,
    }
    .write_to(&mut f);
    Ipv4Hdr {
        ihl: 5,
        tos: 0,
        total_len: 20 + 64,
        ident: 0,
        flags_frag: 0,
        ttl: 64,
        protocol: ribosome_wire::ipv4::PROTO_TCP,
        checksum: 0,
        src: Ipv4Addr::new(10, 0, 0, 1),
        dst: Ipv4Addr::new(10, 0, 0, 2),
    }
    .write_to(&mut f);
    let mut tcp = [0u8; 64];
    tcp[12] = 5 << 4;
    f.extend_from_slice(&tcp);
    match ribosome_switch::packet::parse(&f) {
        ribosome_switch::packet::Parsed::L4(p) => p.l4_hdr_len,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_layouts_have_the_documented_shapes() {
        let all = all().unwrap();
        let get = |n: &str| all.iter().find(|(k, _)| *k == n).unwrap().1.clone();
        let bth = get("bth_h");
        assert_eq!(bth.bits, 96);
        assert_eq!(
            bth.field("dest_qp").map(|s| (s.off, s.width)),
            Some((40, 24))
        );
        assert_eq!(bth.field("psn").map(|s| (s.off, s.width)), Some((72, 24)));
        assert_eq!(
            bth.field("pad_count").map(|s| (s.off, s.width)),
            Some((10, 2))
        );
        let ip = get("ipv4_h");
        assert_eq!(ip.field("checksum").map(|s| s.off), Some(80));
        assert_eq!(ip.field("ihl").map(|s| (s.off, s.width)), Some((4, 4)));
        let t = get("split_trailer_h");
        assert_eq!(t.bits, 28 * 8);
        assert_eq!(
            t.field("generation").map(|s| (s.off, s.width)),
            Some((192, 32))
        );
        let a = get("auth_h");
        assert_eq!(a.bits, 27 * 8);
        assert_eq!(a.field("tag").map(|s| (s.off, s.width)), Some((88, 128)));
        assert_eq!(
            get("eth_info_h").field("mac").map(|s| (s.off, s.width)),
            Some((32, 48))
        );
        assert_eq!(info_codes().unwrap(), [0, 1, 2]);
        assert_eq!(tcp_min_header_len(), 20);
    }
}
