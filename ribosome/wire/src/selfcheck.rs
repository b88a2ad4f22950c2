//! One entry point that runs every parser over arbitrary bytes and checks that whatever
//! parses re-encodes to the same value. Shared by the fuzz target (`fuzz/`) and the stable
//! corpus-replay test, so both exercise exactly the same code.

use crate::control::ParsedControl;
use crate::roce::RoceFrame;
use crate::split::{PayloadTag, SplitTrailer};
use crate::{EthHdr, Ipv4Hdr};

/// Runs all parsers over `data`. Returns a description of the first inconsistency (a value
/// that does not survive write-then-parse); parse errors themselves are fine.
pub fn check_all_parsers(data: &[u8]) -> Result<(), String> {
    let _ = EthHdr::parse(data);
    let _ = Ipv4Hdr::parse(data);
    if let Ok(f) = RoceFrame::parse(data) {
        let _ = f.icrc_valid();
        if f.ip.ihl == 5 {
            let spec = crate::RoceSpec {
                src_mac: f.eth.src,
                dst_mac: f.eth.dst,
                src_ip: f.ip.src,
                dst_ip: f.ip.dst,
                ip_ident: f.ip.ident,
                tos: f.ip.tos,
                ttl: f.ip.ttl,
                udp_src_port: f.udp.src_port,
                bth: f.bth,
                reth: f.reth,
                aeth: f.aeth,
            };
            let rebuilt = spec
                .to_bytes(f.payload, true)
                .map_err(|e| format!("rebuild of a parsed RoCE frame failed: {e}"))?;
            let again = RoceFrame::parse(&rebuilt).map_err(|e| format!("reparse: {e}"))?;
            if (again.bth, again.reth, again.aeth, again.payload)
                != (f.bth, f.reth, f.aeth, f.payload)
                || !again.icrc_valid()
            {
                return Err("RoCE frame changed across rebuild".into());
            }
        }
    }
    if let Ok((t, _)) = SplitTrailer::parse(data) {
        let mut v = Vec::new();
        t.write_to(&mut v);
        if SplitTrailer::parse(&v).map(|(x, _)| x) != Ok(t) || v.len() != t.len() {
            return Err(format!("trailer changed across rebuild: {t:?}"));
        }
    }
    if let Ok((t, _)) = PayloadTag::parse(data) {
        let mut v = Vec::new();
        t.write_to(&mut v)
            .map_err(|e| format!("tag rewrite failed: {e}"))?;
        v.extend_from_slice(&[0; 3][..usize::from(t.pad_count)]);
        if PayloadTag::parse(&v).map(|(x, _)| x) != Ok(t) {
            return Err(format!("tag changed across rebuild: {t:?}"));
        }
    }
    if let Ok(p) = ParsedControl::parse(data) {
        let mut v = Vec::new();
        crate::control::write_control(p.eth.dst, p.eth.src, &p.msg, None, &mut v);
        if ParsedControl::parse(&v).map(|x| x.msg) != Ok(p.msg) {
            return Err(format!("control frame changed across rebuild: {:?}", p.msg));
        }
        let mut verifier =
            crate::control::Verifier::new(Some(crate::control::AuthKey::new([7; 32])));
        let _ = verifier.check(&p);
    }
    Ok(())
}
