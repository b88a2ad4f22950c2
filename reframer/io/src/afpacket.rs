//! `afpacket:IFACE`: Linux AF_PACKET with a TPACKET_V3 mmap receive ring, `sendmmsg` transmit,
//! promiscuous, ignore-outgoing, and PACKET_FANOUT (hash) so several workers share a port.

use std::{io, os::fd::RawFd};

use crate::{
    frame::{Frame, FramePool},
    port::{Port, PortCounters, RxPort, TxPort},
    sys::afpacket::{self as raw, PacketSocket, RingGeometry},
};

/// AF_PACKET settings (the `[live.afpacket]` section).
#[derive(Debug, Clone, Copy)]
pub struct AfPacketOptions {
    /// TPACKET_V3 (block ring; default) or TPACKET_V2 (per-frame ring, lowest latency).
    pub tpacket_v3: bool,
    /// Bytes per ring block (power of two, multiple of the page size).
    pub block_bytes: u32,
    /// Blocks in the ring.
    pub blocks: u32,
    /// Longest a partly filled block waits before user space sees it, in ms (>= 1). This bounds
    /// the extra latency at low rates.
    pub block_timeout_ms: u32,
    /// PACKET_VNET_HDR (TPACKET_V3 only): GRO/GSO super-frames and frames whose checksum was
    /// left to offload pass through whole, with their offload header; the kernel segments and
    /// checksums them on the way out.
    pub vnet_hdr: bool,
}

/// Largest RX ring one socket may ask for: the kernel pins it, one per port and worker.
pub const MAX_RING_BYTES: u64 = 1 << 30;

impl AfPacketOptions {
    /// Checks the ring settings; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        if !self.block_bytes.is_power_of_two() || self.block_bytes < 4096 || self.blocks == 0 {
            return Err("block_bytes must be a power of two >= 4096 and blocks >= 1".into());
        }
        let ring = u64::from(self.block_bytes) * u64::from(self.blocks);
        if ring > MAX_RING_BYTES {
            return Err(format!(
                "block_bytes x blocks = {ring} bytes per socket; at most {MAX_RING_BYTES} (1 GiB)"
            ));
        }
        if self.vnet_hdr && (!self.tpacket_v3 || self.block_bytes < 1 << 17) {
            return Err(
                "vnet_hdr needs tpacket_version = 3 and block_bytes >= 131072 \
                        (GRO/GSO super-frames are up to 64 KiB)"
                    .into(),
            );
        }
        Ok(())
    }
}

impl Default for AfPacketOptions {
    fn default() -> Self {
        Self {
            tpacket_v3: true,
            block_bytes: 1 << 16,
            blocks: 256,
            block_timeout_ms: 1,
            vnet_hdr: false,
        }
    }
}

/// One worker's socket on one interface.
pub struct AfPacketPort {
    name: String,
    sock: PacketSocket,
    counters: PortCounters,
    frame_bytes: usize,
}

impl std::fmt::Debug for AfPacketPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AfPacketPort")
            .field("name", &self.name)
            .finish()
    }
}

impl AfPacketPort {
    /// Opens `iface`. `fanout` is the group id shared by all workers of this interface (None
    /// for a single worker). `frame_bytes` is the worker's frame buffer size.
    pub fn open(
        iface: &str,
        opts: &AfPacketOptions,
        frame_bytes: usize,
        fanout: Option<u16>,
    ) -> io::Result<Self> {
        let geo = RingGeometry {
            v3: opts.tpacket_v3,
            block_bytes: opts.block_bytes,
            blocks: opts.blocks,
            frame_bytes: 2048,
            retire_tov_ms: opts.block_timeout_ms.max(1),
            vnet: opts.vnet_hdr,
        };
        opts.validate().map_err(|e| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("afpacket ring: {e}"))
        })?;
        let sock = PacketSocket::open(iface, geo, fanout).map_err(|e| explain(iface, e))?;
        Ok(Self {
            name: format!("afpacket:{iface}"),
            sock,
            counters: PortCounters::default(),
            frame_bytes,
        })
    }
}

fn explain(iface: &str, e: io::Error) -> io::Error {
    crate::port::open_error("afpacket", iface, "CAP_NET_RAW and CAP_NET_ADMIN", e)
}

impl RxPort for AfPacketPort {
    fn rx_burst(
        &mut self,
        pool: &mut FramePool,
        out: &mut Vec<Frame>,
        max: usize,
    ) -> io::Result<usize> {
        let c = &mut self.counters;
        let cap = self.frame_bytes;
        let mut got = 0;
        self.sock.rx(max, &mut |fr| {
            if fr.wire_len as usize > cap || fr.data.len() < fr.wire_len as usize {
                c.rx_oversize += 1;
                return;
            }
            if fr.csum_partial && fr.vnet.is_none() {
                c.rx_csum_partial += 1;
            }
            let mut f = pool.get();
            f.fill(fr.data);
            if let Some(v) = fr.vnet {
                f.vnet = *v;
            }
            c.rx_packets += 1;
            c.rx_bytes += fr.data.len() as u64;
            out.push(f);
            got += 1;
        });
        Ok(got)
    }

    fn rx_fd(&self) -> Option<RawFd> {
        Some(self.sock.raw_fd())
    }
}

impl TxPort for AfPacketPort {
    fn tx_burst(&mut self, frames: &mut Vec<Frame>, pool: &mut FramePool) -> io::Result<usize> {
        let mut total = 0;
        while !frames.is_empty() {
            let want = frames.len().min(256);
            match self.sock.send(&frames[..want]) {
                Ok(0) => break,
                Ok(n) => {
                    for f in frames.drain(..n) {
                        self.counters.tx_packets += 1;
                        self.counters.tx_bytes += f.len() as u64;
                        pool.put(f);
                    }
                    total += n;
                    if n < want {
                        break;
                    }
                }
                Err(e) if raw::is_full(&e) => break,
                Err(e) => {
                    // The first frame can never leave (EMSGSIZE, ...): count it and go on.
                    self.counters.tx_dropped += 1;
                    pool.put(frames.remove(0));
                    if !matches!(e.raw_os_error(), Some(libc::EMSGSIZE) | Some(libc::EINVAL)) {
                        return Err(e);
                    }
                }
            }
        }
        Ok(total)
    }
}

impl Port for AfPacketPort {
    fn name(&self) -> &str {
        &self.name
    }

    fn counters(&mut self) -> PortCounters {
        self.counters.rx_dropped += self.sock.take_kernel_drops();
        self.counters
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_settings_are_bounded_and_named() {
        assert!(AfPacketOptions::default().validate().is_ok());
        let huge = AfPacketOptions {
            blocks: 1 << 20,
            ..AfPacketOptions::default()
        };
        let e = huge.validate().unwrap_err();
        assert!(
            e.contains("block_bytes x blocks") && e.contains("1 GiB"),
            "{e}"
        );
        let odd = AfPacketOptions {
            block_bytes: 5000,
            ..AfPacketOptions::default()
        };
        assert!(odd.validate().unwrap_err().contains("block_bytes"));
    }
}
