//! In-band control frames between payload servers and the switch: registration (EtherType
//! 0x1234 with QP, MEM or ETH info) and QP refresh (0x4321), in the original layouts plus an
//! optional authentication trailer.
//!
//! The original accepted any 0x1234 frame, so any host on a server link could redirect
//! payloads by announcing its own rkey/VA/MAC. Here a frame may carry a 27-byte trailer right
//! after its body: `0xA1, server_index u16, seq u64, tag[16]`, where `tag` is HMAC-SHA256 over
//! a domain string and every frame byte before the tag (Ethernet header included), truncated
//! to 128 bits. HMAC-SHA256 (RustCrypto `hmac` + `sha2`) rather than SipHash: these frames
//! are rare, so speed does not matter, and a standard MAC with a 128-bit tag leaves a forger
//! no realistic guessing margin, where SipHash's 64-bit output is designed for hash-flooding
//! defence, not message authentication. `seq` must grow per server index, which stops
//! replays; senders seed it from the wall clock so it keeps growing across restarts. A legacy
//! switch parser ignores the trailer, so authenticated frames stay wire-compatible.

use crate::bytes::{arr, split, u16_at, u32_at, u64_at, u8_at};
use crate::eth::{EthHdr, MacAddr};
use crate::{Result, WireError};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::fmt;
use std::net::Ipv4Addr;

/// EtherType of registration frames.
pub const ETHERTYPE_RDMA_INFO: u16 = 0x1234;
/// EtherType of QP refresh frames.
pub const ETHERTYPE_QP_REFRESH: u16 = 0x4321;
/// Destination MAC the original agent used for registration frames.
pub const INFO_DST_MAC: MacAddr = MacAddr([0, 0, 0, 0, 0, 2]);
/// Source MAC the original agent used for registration frames (the switch's fake client MAC).
pub const INFO_SRC_MAC: MacAddr = MacAddr([0, 0, 0, 0, 0, 1]);
/// First byte of the authentication trailer.
pub const AUTH_MAGIC: u8 = 0xA1;
/// Length of the authentication trailer.
pub const AUTH_LEN: usize = 27;
/// Length of the truncated HMAC tag.
pub const TAG_LEN: usize = 16;
const DOMAIN: &[u8] = b"ribosome-control-v1";

/// A 256-bit shared key for control-frame MACs. `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthKey([u8; 32]);

impl AuthKey {
    /// Wraps raw key bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Result<Self> {
        let s = s.trim();
        let bad = WireError::Unexpected {
            what: "auth key (want 64 hex digits)",
            value: s.len() as u64,
        };
        if s.len() != 64 || !s.is_ascii() {
            return Err(bad);
        }
        let mut k = [0u8; 32];
        for (i, byte) in k.iter_mut().enumerate() {
            let digits = s.get(2 * i..2 * i + 2).ok_or(bad)?;
            *byte = u8::from_str_radix(digits, 16).map_err(|_| bad)?;
        }
        Ok(Self(k))
    }

    fn mac(&self, signed: &[u8]) -> [u8; TAG_LEN] {
        let full = self.hmac(signed).finalize().into_bytes();
        let mut t = [0u8; TAG_LEN];
        t.copy_from_slice(full.get(..TAG_LEN).unwrap_or(&[0; TAG_LEN]));
        t
    }

    fn hmac(&self, signed: &[u8]) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        m.update(DOMAIN);
        m.update(signed);
        m
    }

    /// Constant-time check of a truncated tag.
    fn verify(&self, signed: &[u8], tag: &[u8; TAG_LEN]) -> bool {
        self.hmac(signed).verify_truncated_left(tag).is_ok()
    }
}

impl fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthKey(<redacted>)")
    }
}

/// The body of a control frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlMsg {
    /// 0x1234 code 0x00: a QP is (re)connected; the switch waits `enable_timer` packets.
    QpInfo {
        /// Packets to skip before using the QP.
        enable_timer: u16,
        /// Switch-side global QP index (`local + qps * server`).
        global_index: u16,
        /// The server's QP number.
        qpn: u32,
    },
    /// 0x1234 code 0x01: the registered payload memory.
    MemInfo {
        /// Server index.
        server_index: u16,
        /// Base virtual address.
        va: u64,
        /// Remote key.
        rkey: u32,
    },
    /// 0x1234 code 0x02: where the server is.
    EthInfo {
        /// Server index.
        server_index: u16,
        /// Server MAC.
        mac: MacAddr,
        /// Server IPv4.
        ip: Ipv4Addr,
    },
    /// 0x4321: reset the QP with this global index.
    QpRefresh {
        /// Switch-side global QP index.
        global_index: u16,
    },
}

impl ControlMsg {
    /// The EtherType that carries this message.
    pub fn ethertype(&self) -> u16 {
        match self {
            Self::QpRefresh { .. } => ETHERTYPE_QP_REFRESH,
            _ => ETHERTYPE_RDMA_INFO,
        }
    }

    fn write_body(&self, out: &mut Vec<u8>) {
        match *self {
            Self::QpInfo {
                enable_timer,
                global_index,
                qpn,
            } => {
                out.push(0x00);
                out.extend_from_slice(&enable_timer.to_be_bytes());
                out.extend_from_slice(&global_index.to_be_bytes());
                out.extend_from_slice(&qpn.to_be_bytes());
            }
            Self::MemInfo {
                server_index,
                va,
                rkey,
            } => {
                out.push(0x01);
                out.extend_from_slice(&server_index.to_be_bytes());
                out.extend_from_slice(&va.to_be_bytes());
                out.extend_from_slice(&rkey.to_be_bytes());
            }
            Self::EthInfo {
                server_index,
                mac,
                ip,
            } => {
                out.push(0x02);
                out.extend_from_slice(&server_index.to_be_bytes());
                out.extend_from_slice(&mac.to_u64().to_be_bytes());
                out.extend_from_slice(&ip.octets());
            }
            Self::QpRefresh { global_index } => {
                out.extend_from_slice(&global_index.to_be_bytes());
            }
        }
    }

    /// Parses a body for `ethertype`; returns it and what follows.
    fn parse_body(ethertype: u16, b: &[u8]) -> Result<(Self, &[u8])> {
        if ethertype == ETHERTYPE_QP_REFRESH {
            let (body, rest) = split(b, 2, "QP refresh body")?;
            return Ok((
                Self::QpRefresh {
                    global_index: u16_at(body, 0, "QP refresh")?,
                },
                rest,
            ));
        }
        if ethertype != ETHERTYPE_RDMA_INFO {
            return Err(WireError::Unexpected {
                what: "control EtherType",
                value: u64::from(ethertype),
            });
        }
        match u8_at(b, 0, "info code")? {
            0x00 => {
                let (body, rest) = split(b, 9, "QP info")?;
                Ok((
                    Self::QpInfo {
                        enable_timer: u16_at(body, 1, "QP info")?,
                        global_index: u16_at(body, 3, "QP info")?,
                        qpn: u32_at(body, 5, "QP info")?,
                    },
                    rest,
                ))
            }
            0x01 => {
                let (body, rest) = split(b, 15, "MEM info")?;
                Ok((
                    Self::MemInfo {
                        server_index: u16_at(body, 1, "MEM info")?,
                        va: u64_at(body, 3, "MEM info")?,
                        rkey: u32_at(body, 11, "MEM info")?,
                    },
                    rest,
                ))
            }
            0x02 => {
                let (body, rest) = split(b, 15, "ETH info")?;
                Ok((
                    Self::EthInfo {
                        server_index: u16_at(body, 1, "ETH info")?,
                        mac: MacAddr::from_u64(u64_at(body, 3, "ETH info")?),
                        ip: Ipv4Addr::from(arr::<4>(body, 11, "ETH info")?),
                    },
                    rest,
                ))
            }
            c => Err(WireError::Unexpected {
                what: "info code",
                value: u64::from(c),
            }),
        }
    }

    /// The server index a message speaks for, where the body names one.
    pub fn server_index(&self) -> Option<u16> {
        match *self {
            Self::MemInfo { server_index, .. } | Self::EthInfo { server_index, .. } => {
                Some(server_index)
            }
            _ => None,
        }
    }
}

/// The authenticated fields of a control frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Auth {
    /// Server this frame is from (registration) or for (refresh).
    pub server_index: u16,
    /// Strictly increasing per server index.
    pub seq: u64,
}

/// Builds a control frame: Ethernet header, body, and the authentication trailer if `auth`
/// is given.
pub fn write_control(
    dst: MacAddr,
    src: MacAddr,
    msg: &ControlMsg,
    auth: Option<(&AuthKey, Auth)>,
    out: &mut Vec<u8>,
) {
    let start = out.len();
    EthHdr {
        dst,
        src,
        ethertype: msg.ethertype(),
    }
    .write_to(out);
    msg.write_body(out);
    if let Some((key, a)) = auth {
        out.push(AUTH_MAGIC);
        out.extend_from_slice(&a.server_index.to_be_bytes());
        out.extend_from_slice(&a.seq.to_be_bytes());
        let tag = key.mac(out.get(start..).unwrap_or_default());
        out.extend_from_slice(&tag);
    }
}

/// A parsed control frame, not yet verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedControl<'a> {
    /// Ethernet header.
    pub eth: EthHdr,
    /// The message.
    pub msg: ControlMsg,
    /// The authentication fields and tag, if the frame carries a trailer.
    pub auth: Option<(Auth, [u8; TAG_LEN])>,
    signed: &'a [u8],
}

impl<'a> ParsedControl<'a> {
    /// Parses a 0x1234 or 0x4321 frame. Bytes after the body that do not start with
    /// [`AUTH_MAGIC`] (Ethernet padding, a legacy switch's mirror leftovers) are ignored.
    pub fn parse(frame: &'a [u8]) -> Result<Self> {
        let (eth, rest) = EthHdr::parse(frame)?;
        let (msg, after) = ControlMsg::parse_body(eth.ethertype, rest)?;
        let mut auth = None;
        let mut signed: &[u8] = &[];
        if after.first() == Some(&AUTH_MAGIC) && after.len() >= AUTH_LEN {
            let a = Auth {
                server_index: u16_at(after, 1, "auth trailer")?,
                seq: u64_at(after, 3, "auth trailer")?,
            };
            let tag = arr::<TAG_LEN>(after, 11, "auth tag")?;
            auth = Some((a, tag));
            let signed_len = frame.len() - after.len() + (AUTH_LEN - TAG_LEN);
            signed = frame.get(..signed_len).unwrap_or_default();
        }
        Ok(Self {
            eth,
            msg,
            auth,
            signed,
        })
    }
}

/// Why a control frame was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// A key is configured but the frame has no trailer.
    #[error("control frame has no authentication trailer")]
    Missing,
    /// The tag does not match: wrong key or altered frame.
    #[error("control frame MAC mismatch (forged or corrupted)")]
    BadMac,
    /// The sequence number did not grow.
    #[error("replayed control frame: seq {seq} <= last accepted {last} for server {server}")]
    Replay {
        /// Server index.
        server: u16,
        /// Sequence number in the frame.
        seq: u64,
        /// Last accepted.
        last: u64,
    },
    /// The body names a different server than the authenticated trailer.
    #[error("body speaks for server {body}, trailer for server {trailer}")]
    ServerMismatch {
        /// Server index in the body.
        body: u16,
        /// Server index in the trailer.
        trailer: u16,
    },
}

/// Accepts control frames that carry a valid tag and a fresh sequence number. Without a key
/// it runs in the original, unauthenticated compatibility mode and accepts everything.
#[derive(Debug)]
pub struct Verifier {
    key: Option<AuthKey>,
    last_seq: HashMap<u16, u64>,
}

impl Verifier {
    /// A verifier for `key` (`None`: compatibility mode).
    pub fn new(key: Option<AuthKey>) -> Self {
        Self {
            key,
            last_seq: HashMap::new(),
        }
    }

    /// Checks a parsed frame and, if it passes, records its sequence number.
    pub fn check(&mut self, p: &ParsedControl<'_>) -> std::result::Result<ControlMsg, AuthError> {
        let Some(key) = &self.key else {
            return Ok(p.msg);
        };
        let Some((auth, tag)) = p.auth else {
            return Err(AuthError::Missing);
        };
        if !key.verify(p.signed, &tag) {
            return Err(AuthError::BadMac);
        }
        if let Some(body) = p.msg.server_index() {
            if body != auth.server_index {
                return Err(AuthError::ServerMismatch {
                    body,
                    trailer: auth.server_index,
                });
            }
        }
        let last = self.last_seq.entry(auth.server_index).or_insert(0);
        if auth.seq <= *last {
            return Err(AuthError::Replay {
                server: auth.server_index,
                seq: auth.seq,
                last: *last,
            });
        }
        *last = auth.seq;
        Ok(p.msg)
    }
}

/// A per-sender sequence source seeded from the wall clock (ns), so it keeps growing across
/// restarts of the sender.
#[derive(Debug)]
pub struct SeqSource(u64);

impl SeqSource {
    /// Seeds from the current time.
    pub fn from_clock() -> Self {
        let ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Self(ns.max(1))
    }

    /// Starts at `v` (tests).
    pub fn starting_at(v: u64) -> Self {
        Self(v)
    }

    /// The next sequence number.
    pub fn next_seq(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(1).max(1);
        self.0
    }
}
