//! The XDP side of an `xdp:` port, with raw `bpf(2)` calls and no libbpf: an XSKMAP, a
//! six-instruction program that redirects each frame to the AF_XDP socket of its RX queue
//! (and passes it to the kernel stack when that queue has no socket), attached with a
//! `bpf_link`, so the program goes away with the process even if it is killed.

use std::{
    io,
    os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd},
};

const BPF_MAP_CREATE: libc::c_int = 0;
const BPF_MAP_UPDATE_ELEM: libc::c_int = 2;
const BPF_MAP_DELETE_ELEM: libc::c_int = 3;
const BPF_PROG_LOAD: libc::c_int = 5;
const BPF_LINK_CREATE: libc::c_int = 28;
const BPF_MAP_TYPE_XSKMAP: u32 = 17;
const BPF_PROG_TYPE_XDP: u32 = 6;
const BPF_XDP: u32 = 37;
const BPF_PSEUDO_MAP_FD: u8 = 1;
const BPF_FUNC_REDIRECT_MAP: i32 = 51;
const XDP_PASS: i32 = 2;
/// `offsetof(struct xdp_md, rx_queue_index)`.
const XDP_MD_RX_QUEUE: i16 = 16;
const XDP_FLAGS_SKB_MODE: u32 = 1 << 1;
const XDP_FLAGS_DRV_MODE: u32 = 1 << 2;

/// Where the program runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttachMode {
    /// In the driver (veth and most 10G+ NICs); fastest.
    Native,
    /// Generic (skb) XDP, which every interface supports.
    Generic,
}

/// `union bpf_attr`, as bytes: every command we use fits in the first 128.
struct Attr([u8; 128]);

impl Attr {
    fn new() -> Self {
        Self([0; 128])
    }
    fn u32(mut self, off: usize, v: u32) -> Self {
        self.0[off..off + 4].copy_from_slice(&v.to_ne_bytes());
        self
    }
    fn u64(mut self, off: usize, v: u64) -> Self {
        self.0[off..off + 8].copy_from_slice(&v.to_ne_bytes());
        self
    }
    fn name(mut self, off: usize, name: &str) -> Self {
        let n = name.len().min(15);
        self.0[off..off + n].copy_from_slice(&name.as_bytes()[..n]);
        self
    }
}

fn bpf(cmd: libc::c_int, attr: &mut Attr) -> io::Result<libc::c_int> {
    // SAFETY: `attr` is a zero-initialised bpf_attr prefix of the size we pass; pointers in it
    // (instructions, license, log, key, value) point at live buffers the caller keeps alive.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr.0.as_mut_ptr(),
            attr.0.len() as libc::c_uint,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc as libc::c_int)
    }
}

fn owned(fd: libc::c_int) -> OwnedFd {
    // SAFETY: `fd` was just returned by the kernel for us and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// One `struct bpf_insn` (dst in the low nibble of the register byte).
fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[0] = code;
    b[1] = (src << 4) | (dst & 0xf);
    b[2..4].copy_from_slice(&off.to_ne_bytes());
    b[4..8].copy_from_slice(&imm.to_ne_bytes());
    b
}

/// `return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);`
fn redirect_program(map_fd: RawFd) -> Vec<[u8; 8]> {
    vec![
        insn(0x61, 2, 1, XDP_MD_RX_QUEUE, 0), // r2 = *(u32 *)(r1 + 16)
        insn(0x18, 1, BPF_PSEUDO_MAP_FD, 0, map_fd), // r1 = map (ld_imm64, low half)
        insn(0, 0, 0, 0, 0),                  // (ld_imm64, high half)
        insn(0xb7, 3, 0, 0, XDP_PASS),        // r3 = XDP_PASS (the fallback action)
        insn(0x85, 0, 0, 0, BPF_FUNC_REDIRECT_MAP), // call bpf_redirect_map
        insn(0x95, 0, 0, 0, 0),               // exit
    ]
}

/// The XSKMAP, the program and its link on one interface. Dropping it detaches the program.
#[derive(Debug)]
pub(crate) struct XdpProgram {
    map: OwnedFd,
    _prog: OwnedFd,
    _link: OwnedFd,
    /// The mode the program was attached in.
    pub(crate) mode: AttachMode,
}

impl XdpProgram {
    /// Loads the redirect program for queues `0..queues` and attaches it to `ifindex` in
    /// `mode`, or native first then generic when `mode` is `None`.
    pub(crate) fn attach(ifindex: u32, queues: u32, mode: Option<AttachMode>) -> io::Result<Self> {
        let mut a = Attr::new()
            .u32(0, BPF_MAP_TYPE_XSKMAP)
            .u32(4, 4)
            .u32(8, 4)
            .u32(12, queues.max(1))
            .name(28, "reframer_xsks");
        let map = owned(bpf(BPF_MAP_CREATE, &mut a).map_err(|e| ctx(e, "creating the XSKMAP"))?);
        let prog = load(map.as_raw_fd())?;
        let modes: &[AttachMode] = match mode {
            Some(AttachMode::Native) => &[AttachMode::Native],
            Some(AttachMode::Generic) => &[AttachMode::Generic],
            None => &[AttachMode::Native, AttachMode::Generic],
        };
        let mut last = None;
        for &m in modes {
            let flags = match m {
                AttachMode::Native => XDP_FLAGS_DRV_MODE,
                AttachMode::Generic => XDP_FLAGS_SKB_MODE,
            };
            let mut a = Attr::new()
                .u32(0, prog.as_raw_fd() as u32)
                .u32(4, ifindex)
                .u32(8, BPF_XDP)
                .u32(12, flags);
            match bpf(BPF_LINK_CREATE, &mut a) {
                Ok(fd) => {
                    return Ok(Self {
                        map,
                        _prog: prog,
                        _link: owned(fd),
                        mode: m,
                    })
                }
                Err(e) => last = Some(e),
            }
        }
        let e = last.unwrap_or_else(|| io::Error::from(io::ErrorKind::Unsupported));
        let what = if matches!(e.raw_os_error(), Some(libc::EBUSY) | Some(libc::EEXIST)) {
            "attaching XDP (the interface already has an XDP program: `ip link set IFACE xdp off`)"
        } else {
            "attaching XDP"
        };
        Err(ctx(e, what))
    }

    /// Steers frames of RX `queue` to the AF_XDP socket `xsk`.
    pub(crate) fn insert(&self, queue: u32, xsk: RawFd) -> io::Result<()> {
        let key = queue;
        let value = xsk as u32;
        let mut a = Attr::new()
            .u32(0, self.map.as_raw_fd() as u32)
            .u64(8, &key as *const u32 as u64)
            .u64(16, &value as *const u32 as u64);
        bpf(BPF_MAP_UPDATE_ELEM, &mut a).map(drop).map_err(|e| {
            ctx(
                e,
                "adding the socket to the XSKMAP (queue id out of range?)",
            )
        })
    }

    /// Stops steering `queue` (its frames go to the kernel stack again).
    pub(crate) fn remove(&self, queue: u32) {
        let key = queue;
        let mut a = Attr::new()
            .u32(0, self.map.as_raw_fd() as u32)
            .u64(8, &key as *const u32 as u64);
        let _ = bpf(BPF_MAP_DELETE_ELEM, &mut a);
    }
}

fn load(map_fd: RawFd) -> io::Result<OwnedFd> {
    let prog = redirect_program(map_fd);
    let license = b"Dual MIT/GPL\0";
    let mut log = vec![0u8; 16 * 1024];
    let attr = |log_level: u32, log: &mut [u8]| {
        Attr::new()
            .u32(0, BPF_PROG_TYPE_XDP)
            .u32(4, prog.len() as u32)
            .u64(8, prog.as_ptr() as u64)
            .u64(16, license.as_ptr() as u64)
            .u32(24, log_level)
            .u32(28, if log_level > 0 { log.len() as u32 } else { 0 })
            .u64(
                32,
                if log_level > 0 {
                    log.as_mut_ptr() as u64
                } else {
                    0
                },
            )
            .name(48, "reframer_xsk")
            .u32(68, BPF_XDP)
    };
    match bpf(BPF_PROG_LOAD, &mut attr(0, &mut log)) {
        Ok(fd) => Ok(owned(fd)),
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => Err(ctx(
            e,
            "loading the XDP program (needs root, or CAP_BPF + CAP_NET_ADMIN)",
        )),
        Err(e) => {
            // Load once more with the verifier log, to say why.
            let _ = bpf(BPF_PROG_LOAD, &mut attr(1, &mut log));
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            let msg = String::from_utf8_lossy(&log[..end]);
            let last = msg
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            Err(ctx(
                e,
                &format!("loading the XDP program (verifier: {last})"),
            ))
        }
    }
}

fn ctx(e: io::Error, what: &str) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_encoding() {
        let p = redirect_program(7);
        assert_eq!(p.len(), 6);
        assert_eq!(p[0], [0x61, 0x12, 16, 0, 0, 0, 0, 0]);
        assert_eq!(p[1], [0x18, 0x11, 0, 0, 7, 0, 0, 0]);
        assert_eq!(p[3], [0xb7, 0x03, 0, 0, 2, 0, 0, 0]);
        assert_eq!(p[4], [0x85, 0, 0, 0, 51, 0, 0, 0]);
        assert_eq!(p[5][0], 0x95);
    }
}
