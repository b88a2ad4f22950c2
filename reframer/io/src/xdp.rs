//! `xdp:IFACE`: Linux AF_XDP. One XDP program per interface steers each RX queue to the
//! socket of the worker that owns it (worker `w` owns queue `w`); queues without a socket
//! keep going to the kernel stack. Zero-copy where the driver has it, copy mode otherwise
//! (veth, generic XDP). No libbpf: see `sys::bpf`.

use std::{io, os::fd::RawFd, sync::Arc};

use crate::{
    frame::{Frame, FramePool},
    port::{Port, PortCounters, RxPort, TxPort},
    sys::{
        afpacket::ifindex,
        bpf::{AttachMode, XdpProgram},
        xsk::{Copy, XskGeometry, XskSocket},
    },
};

/// Where the XDP program runs (`[live.xdp] mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum XdpMode {
    /// Native (driver) mode, falling back to generic.
    #[default]
    Auto,
    /// Native only: fail if the driver has no XDP support.
    Native,
    /// Generic (skb) mode: works on every interface, slowest.
    Generic,
}

/// Zero-copy choice (`[live.xdp] zero_copy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ZeroCopy {
    /// Zero-copy when the driver supports it, copy mode otherwise.
    #[default]
    Auto,
    /// Zero-copy or fail.
    On,
    /// Always copy mode.
    Off,
}

/// AF_XDP settings (the `[live.xdp]` section).
#[derive(Debug, Clone, Copy)]
pub struct XdpOptions {
    /// Program attach mode.
    pub mode: XdpMode,
    /// Zero-copy choice.
    pub zero_copy: ZeroCopy,
    /// Entries per ring (power of two, 64..=16384).
    pub ring: u32,
    /// UMEM chunk bytes (2048 or 4096).
    pub chunk: u32,
}

impl XdpOptions {
    /// Checks the sizes; the message names the key (`ring`, `chunk`).
    pub fn validate(&self) -> Result<(), String> {
        if !self.ring.is_power_of_two() || !(64..=16384).contains(&self.ring) {
            return Err(format!(
                "ring must be a power of two in 64..=16384, got {}",
                self.ring
            ));
        }
        if self.chunk != 2048 && self.chunk != 4096 {
            return Err(format!("chunk must be 2048 or 4096, got {}", self.chunk));
        }
        Ok(())
    }
}

impl Default for XdpOptions {
    fn default() -> Self {
        Self {
            mode: XdpMode::Auto,
            zero_copy: ZeroCopy::Auto,
            ring: 4096,
            chunk: 2048,
        }
    }
}

/// The XDP program attached to one interface, shared by that interface's sockets. Dropping
/// the last handle detaches it.
#[derive(Debug)]
pub struct XdpAttachment {
    iface: String,
    ifindex: u32,
    prog: XdpProgram,
}

impl XdpAttachment {
    /// Attaches the redirect program to `iface` for queues `0..queues`.
    pub fn attach(iface: &str, queues: u32, opts: &XdpOptions) -> io::Result<Arc<Self>> {
        let ifindex = ifindex(iface).map_err(|e| explain(iface, e))?;
        let mode = match opts.mode {
            XdpMode::Auto => None,
            XdpMode::Native => Some(AttachMode::Native),
            XdpMode::Generic => Some(AttachMode::Generic),
        };
        let prog = XdpProgram::attach(ifindex, queues, mode).map_err(|e| explain(iface, e))?;
        Ok(Arc::new(Self {
            iface: iface.to_owned(),
            ifindex,
            prog,
        }))
    }

    /// RX queues of the interface (from sysfs), if known. Frames arriving on a queue without
    /// a worker's socket go to the kernel stack, not through Reframer.
    pub fn rx_queues(&self) -> Option<usize> {
        let dir = std::fs::read_dir(format!("/sys/class/net/{}/queues", self.iface)).ok()?;
        Some(
            dir.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with("rx-"))
                .count(),
        )
    }

    /// "native" or "generic".
    pub fn mode(&self) -> &'static str {
        match self.prog.mode {
            AttachMode::Native => "native",
            AttachMode::Generic => "generic",
        }
    }
}

/// One worker's AF_XDP socket on one queue of an interface.
pub struct XdpPort {
    name: String,
    queue: u32,
    sock: XskSocket,
    att: Arc<XdpAttachment>,
    counters: PortCounters,
    frame_bytes: usize,
    chunk: usize,
}

impl std::fmt::Debug for XdpPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XdpPort")
            .field("name", &self.name)
            .field("queue", &self.queue)
            .finish()
    }
}

impl XdpPort {
    /// Opens a socket on `queue` of the attachment's interface and steers that queue to it.
    pub fn open(
        att: &Arc<XdpAttachment>,
        queue: u32,
        opts: &XdpOptions,
        frame_bytes: usize,
    ) -> io::Result<Self> {
        opts.validate()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("xdp: {e}")))?;
        let geo = XskGeometry {
            ring: opts.ring,
            chunk: opts.chunk,
        };
        let iface = &att.iface;
        let sock = match opts.zero_copy {
            ZeroCopy::On => XskSocket::open(att.ifindex, queue, geo, true),
            ZeroCopy::Off => XskSocket::open(att.ifindex, queue, geo, false),
            ZeroCopy::Auto => XskSocket::open(att.ifindex, queue, geo, true)
                .or_else(|_| XskSocket::open(att.ifindex, queue, geo, false)),
        }
        .map_err(|e| {
            let hint = if e.raw_os_error() == Some(libc::EINVAL) {
                format!(" (does {iface} have an RX queue {queue}? one worker per queue)")
            } else {
                String::new()
            };
            explain(
                iface,
                io::Error::new(
                    e.kind(),
                    format!("AF_XDP socket on queue {queue}: {e}{hint}"),
                ),
            )
        })?;
        att.prog
            .insert(queue, sock.raw_fd())
            .map_err(|e| explain(iface, e))?;
        Ok(Self {
            name: format!("xdp:{iface}"),
            queue,
            sock,
            att: Arc::clone(att),
            counters: PortCounters::default(),
            frame_bytes,
            chunk: opts.chunk as usize,
        })
    }

    /// "zero-copy" or "copy".
    pub fn copy_mode(&self) -> &'static str {
        match self.sock.copy {
            Copy::ZeroCopy => "zero-copy",
            Copy::Copy => "copy",
        }
    }
}

impl Drop for XdpPort {
    fn drop(&mut self) {
        self.att.prog.remove(self.queue);
    }
}

fn explain(iface: &str, e: io::Error) -> io::Error {
    crate::port::open_error("xdp", iface, "CAP_NET_ADMIN, CAP_BPF and CAP_NET_RAW", e)
}

impl RxPort for XdpPort {
    fn rx_burst(
        &mut self,
        pool: &mut FramePool,
        out: &mut Vec<Frame>,
        max: usize,
    ) -> io::Result<usize> {
        if self.sock.tx_busy() {
            self.sock.kick()?;
        }
        let c = &mut self.counters;
        let cap = self.frame_bytes;
        let mut got = 0;
        self.sock.rx(max, &mut |data| match data {
            Some(d) if d.len() <= cap => {
                let mut f = pool.get();
                f.fill(d);
                c.rx_packets += 1;
                c.rx_bytes += d.len() as u64;
                out.push(f);
                got += 1;
            }
            Some(_) => c.rx_oversize += 1,
            None => c.rx_dropped += 1,
        });
        Ok(got)
    }

    fn rx_fd(&self) -> Option<RawFd> {
        Some(self.sock.raw_fd())
    }
}

impl TxPort for XdpPort {
    fn tx_burst(&mut self, frames: &mut Vec<Frame>, pool: &mut FramePool) -> io::Result<usize> {
        // A frame larger than a UMEM chunk can never leave.
        while let Some(i) = frames.iter().position(|f| f.len() > self.chunk) {
            self.counters.tx_dropped += 1;
            pool.put(frames.remove(i));
        }
        if frames.is_empty() {
            if self.sock.tx_busy() {
                self.sock.kick()?;
            }
            return Ok(0);
        }
        let n = self.sock.send(frames)?;
        for f in frames.drain(..n) {
            self.counters.tx_packets += 1;
            self.counters.tx_bytes += f.len() as u64;
            pool.put(f);
        }
        Ok(n)
    }

    fn tx_stalled(&self) -> bool {
        self.sock.tx_busy()
    }
}

impl Port for XdpPort {
    fn name(&self) -> &str {
        &self.name
    }

    fn counters(&mut self) -> PortCounters {
        let st = self.sock.stats();
        let mut c = self.counters;
        c.rx_dropped += st.rx_dropped + st.rx_ring_full;
        c
    }
}
