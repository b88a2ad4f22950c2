//! AF_PACKET socket with a TPACKET_V3 receive ring (mmap) and `sendmmsg` transmit batches.

use std::{
    ffi::CString,
    io,
    os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd},
    ptr::NonNull,
    sync::atomic::{fence, AtomicU32, Ordering},
};

/// Ring geometry. TPACKET_V3 hands a block to user space when it is full or after
/// `retire_tov_ms`; TPACKET_V2 hands over each frame at once (fixed `frame_bytes` slots).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RingGeometry {
    pub(crate) v3: bool,
    pub(crate) block_bytes: u32,
    pub(crate) blocks: u32,
    pub(crate) frame_bytes: u32,
    pub(crate) retire_tov_ms: u32,
    /// PACKET_VNET_HDR: frames carry a virtio_net_hdr (GRO/GSO super-frames, checksums left
    /// to offload) in both directions.
    pub(crate) vnet: bool,
}

/// `PACKET_VNET_HDR` (linux/if_packet.h; not in the libc crate).
const PACKET_VNET_HDR: libc::c_int = 15;
const VNET_LEN: usize = crate::frame::VNET_HDR_LEN;

/// One received frame as the ring reports it.
pub(crate) struct RxFrame<'a> {
    pub(crate) data: &'a [u8],
    /// Length on the wire (larger than `data` when the ring truncated it).
    pub(crate) wire_len: u32,
    pub(crate) csum_partial: bool,
    /// The virtio_net_hdr before the frame (vnet sockets only).
    pub(crate) vnet: Option<&'a [u8; VNET_LEN]>,
}

/// The socket, its ring mapping, and the read cursor.
pub(crate) struct PacketSocket {
    fd: OwnedFd,
    map: NonNull<u8>,
    map_len: usize,
    geo: RingGeometry,
    block: usize,
    in_block: bool,
    pkt_left: u32,
    pkt_off: usize,
}

// SAFETY: the mapping is owned by this value alone and only touched through `&mut self`.
unsafe impl Send for PacketSocket {}

fn cvt(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

fn setsockopt<T>(fd: RawFd, level: libc::c_int, name: libc::c_int, val: &T) -> io::Result<()> {
    // SAFETY: `val` points to a live T and we pass its exact size.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (val as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// The interface index of `name`, or NotFound.
pub(crate) fn ifindex(name: &str) -> io::Result<u32> {
    let c = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `c` is a valid NUL-terminated string.
    let idx = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if idx == 0 {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            "no such interface in this network namespace",
        ));
    }
    Ok(idx)
}

impl PacketSocket {
    /// Opens a promiscuous, ignore-outgoing, qdisc-bypassing packet socket on `ifname` with a
    /// TPACKET_V3 RX ring, joined to fanout group `fanout` (hash mode) if given.
    pub(crate) fn open(ifname: &str, geo: RingGeometry, fanout: Option<u16>) -> io::Result<Self> {
        let idx = ifindex(ifname)?;
        // Protocol 0: receive nothing until the ring is set up and we bind.
        // SAFETY: plain syscall; the fd is checked and then owned.
        let raw = cvt(unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                0,
            )
        })?;
        // SAFETY: `raw` is a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let s = fd.as_raw_fd();
        let frames = geo.block_bytes / geo.frame_bytes * geo.blocks;
        if geo.vnet {
            // Must precede the ring setup.
            let one: libc::c_int = 1;
            setsockopt(s, libc::SOL_PACKET, PACKET_VNET_HDR, &one)?;
        }
        if geo.v3 {
            let v = libc::tpacket_versions::TPACKET_V3 as libc::c_int;
            setsockopt(s, libc::SOL_PACKET, libc::PACKET_VERSION, &v)?;
            let req = libc::tpacket_req3 {
                tp_block_size: geo.block_bytes,
                tp_block_nr: geo.blocks,
                tp_frame_size: geo.frame_bytes,
                tp_frame_nr: frames,
                tp_retire_blk_tov: geo.retire_tov_ms,
                tp_sizeof_priv: 0,
                tp_feature_req_word: 0,
            };
            setsockopt(s, libc::SOL_PACKET, libc::PACKET_RX_RING, &req)?;
        } else {
            let v = libc::tpacket_versions::TPACKET_V2 as libc::c_int;
            setsockopt(s, libc::SOL_PACKET, libc::PACKET_VERSION, &v)?;
            let req = libc::tpacket_req {
                tp_block_size: geo.block_bytes,
                tp_block_nr: geo.blocks,
                tp_frame_size: geo.frame_bytes,
                tp_frame_nr: frames,
            };
            setsockopt(s, libc::SOL_PACKET, libc::PACKET_RX_RING, &req)?;
        }
        let map_len = geo.block_bytes as usize * geo.blocks as usize;
        // SAFETY: mapping the ring the kernel just allocated for this socket, shared, at a
        // kernel-chosen address; the result is checked against MAP_FAILED.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_POPULATE,
                s,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let map = NonNull::new(p.cast::<u8>()).ok_or_else(io::Error::last_os_error)?;
        let sock = Self {
            fd,
            map,
            map_len,
            geo,
            block: 0,
            in_block: false,
            pkt_left: 0,
            pkt_off: 0,
        };
        let one: libc::c_int = 1;
        setsockopt(s, libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, &one)?;
        // Bypassing the qdisc is best effort (old kernels lack it).
        let _ = setsockopt(s, libc::SOL_PACKET, libc::PACKET_QDISC_BYPASS, &one);
        let sndbuf: libc::c_int = 4 << 20;
        let _ = setsockopt(s, libc::SOL_SOCKET, libc::SO_SNDBUF, &sndbuf);
        // SAFETY: sockaddr_ll is plain data; zeroed is a valid starting value.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
        sll.sll_ifindex = idx as i32;
        // SAFETY: `sll` is a valid sockaddr_ll and we pass its size.
        cvt(unsafe {
            libc::bind(
                s,
                (&sll as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        })?;
        let mreq = libc::packet_mreq {
            mr_ifindex: idx as i32,
            mr_type: libc::PACKET_MR_PROMISC as u16,
            mr_alen: 0,
            mr_address: [0; 8],
        };
        setsockopt(s, libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &mreq)?;
        if let Some(id) = fanout {
            let arg: libc::c_int = (id as libc::c_int)
                | (((libc::PACKET_FANOUT_HASH | libc::PACKET_FANOUT_FLAG_DEFRAG) as libc::c_int)
                    << 16);
            setsockopt(s, libc::SOL_PACKET, libc::PACKET_FANOUT, &arg)?;
        }
        Ok(sock)
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    fn block_status(&self, b: usize) -> &AtomicU32 {
        let off =
            b * self.geo.block_bytes as usize + std::mem::offset_of!(libc::tpacket_block_desc, hdr);
        // SAFETY: `b` < blocks so the block descriptor lies inside the mapping; block_status is
        // the first u32 of `hdr`, 4-byte aligned (blocks are page aligned); the kernel and we
        // hand the block back and forth through this word, so access it atomically.
        unsafe { AtomicU32::from_ptr(self.map.as_ptr().add(off).cast::<u32>()) }
    }

    /// Calls `f` for up to `max` received frames; returns how many. Ring slots go back to the
    /// kernel as soon as they are read.
    pub(crate) fn rx(&mut self, max: usize, f: &mut dyn FnMut(RxFrame<'_>)) -> usize {
        if self.geo.v3 {
            self.rx_v3(max, f)
        } else {
            self.rx_v2(max, f)
        }
    }

    /// TPACKET_V2: `self.block` is the frame slot index.
    fn rx_v2(&mut self, max: usize, f: &mut dyn FnMut(RxFrame<'_>)) -> usize {
        let fsz = self.geo.frame_bytes as usize;
        let per_block = self.geo.block_bytes as usize / fsz;
        let slots = per_block * self.geo.blocks as usize;
        let mut n = 0;
        while n < max {
            let off = (self.block / per_block) * self.geo.block_bytes as usize
                + (self.block % per_block) * fsz;
            // SAFETY: `off` is the start of slot `self.block` < slots, inside the mapping and
            // 16-byte aligned; tp_status is its first u32, shared with the kernel.
            let status_word = unsafe { AtomicU32::from_ptr(self.map.as_ptr().add(off).cast()) };
            let status = status_word.load(Ordering::Acquire);
            if status & libc::TP_STATUS_USER == 0 {
                break;
            }
            // SAFETY: the slot is user-owned (Acquire above) and holds a tpacket2_hdr.
            let h = unsafe { &*self.map.as_ptr().add(off).cast::<libc::tpacket2_hdr>() };
            let start = h.tp_mac as usize;
            let len = h.tp_snaplen as usize;
            if start + len <= fsz {
                // SAFETY: [off+start, off+start+len) lies inside this user-owned slot (checked).
                let data =
                    unsafe { std::slice::from_raw_parts(self.map.as_ptr().add(off + start), len) };
                f(RxFrame {
                    data,
                    wire_len: h.tp_len,
                    csum_partial: status & libc::TP_STATUS_CSUMNOTREADY != 0,
                    vnet: None,
                });
            }
            status_word.store(libc::TP_STATUS_KERNEL, Ordering::Release);
            self.block = (self.block + 1) % slots;
            n += 1;
        }
        n
    }

    fn rx_v3(&mut self, max: usize, f: &mut dyn FnMut(RxFrame<'_>)) -> usize {
        let bsz = self.geo.block_bytes as usize;
        let mut n = 0;
        while n < max {
            let status = self.block_status(self.block).load(Ordering::Acquire);
            if status & libc::TP_STATUS_USER == 0 {
                break;
            }
            // SAFETY: the block is user-owned (status checked with Acquire) and inside the
            // mapping; its start is a tpacket_block_desc written by the kernel.
            let base = unsafe { self.map.as_ptr().add(self.block * bsz) };
            if !self.in_block {
                // SAFETY: as above; reading the header fields of the block descriptor.
                let bh = unsafe { &(*base.cast::<libc::tpacket_block_desc>()).hdr.bh1 };
                self.pkt_left = bh.num_pkts;
                self.pkt_off = bh.offset_to_first_pkt as usize;
                self.in_block = true;
            }
            while self.pkt_left > 0 && n < max {
                if self.pkt_off + size_of::<libc::tpacket3_hdr>() > bsz {
                    self.pkt_left = 0;
                    break;
                }
                // SAFETY: pkt_off + header size is inside this block (checked above); the
                // kernel aligns packet headers to TPACKET_ALIGNMENT (16).
                let h = unsafe { &*base.add(self.pkt_off).cast::<libc::tpacket3_hdr>() };
                let start = self.pkt_off + h.tp_mac as usize;
                let len = h.tp_snaplen as usize;
                if start + len > bsz {
                    self.pkt_left = 0;
                    break;
                }
                // SAFETY: [start, start+len) lies inside this user-owned block (checked).
                let data = unsafe { std::slice::from_raw_parts(base.add(start), len) };
                // The kernel writes the virtio_net_hdr right before the MAC header.
                let vnet = (self.geo.vnet && h.tp_mac as usize >= VNET_LEN).then(|| {
                    // SAFETY: [start-VNET_LEN, start) lies after this packet's tpacket3_hdr
                    // (tp_mac >= VNET_LEN past it) inside the user-owned block; u8 array.
                    unsafe { &*base.add(start - VNET_LEN).cast::<[u8; VNET_LEN]>() }
                });
                f(RxFrame {
                    data,
                    wire_len: h.tp_len,
                    csum_partial: h.tp_status & libc::TP_STATUS_CSUMNOTREADY != 0,
                    vnet,
                });
                n += 1;
                self.pkt_left -= 1;
                self.pkt_off += h.tp_next_offset as usize;
            }
            if self.pkt_left == 0 {
                fence(Ordering::Release);
                self.block_status(self.block)
                    .store(libc::TP_STATUS_KERNEL, Ordering::Release);
                self.block = (self.block + 1) % self.geo.blocks as usize;
                self.in_block = false;
            }
        }
        n
    }

    /// Sends `frames` with one `sendmmsg` per 64; returns how many the kernel took. `Ok(0)`
    /// when the queue is full; `Err` carries the error of the first frame that failed. On a
    /// vnet socket each frame goes out behind its virtio_net_hdr.
    pub(crate) fn send(&self, frames: &[crate::frame::Frame]) -> io::Result<usize> {
        const CHUNK: usize = 64;
        let mut sent = 0;
        let per = if self.geo.vnet { 2 } else { 1 };
        for chunk in frames.chunks(CHUNK) {
            // SAFETY: iovec and mmsghdr are plain data; zeroed is valid (null name, no control).
            let mut iov: [libc::iovec; 2 * CHUNK] = unsafe { std::mem::zeroed() };
            // SAFETY: as above.
            let mut msgs: [libc::mmsghdr; CHUNK] = unsafe { std::mem::zeroed() };
            for (i, fr) in chunk.iter().enumerate() {
                let v = &mut iov[per * i..per * i + per];
                if self.geo.vnet {
                    v[0].iov_base = fr.vnet.as_ptr() as *mut libc::c_void;
                    v[0].iov_len = VNET_LEN;
                }
                let data = fr.as_ref();
                v[per - 1].iov_base = data.as_ptr() as *mut libc::c_void;
                v[per - 1].iov_len = data.len();
                msgs[i].msg_hdr.msg_iov = v.as_mut_ptr();
                msgs[i].msg_hdr.msg_iovlen = per;
            }
            // SAFETY: `msgs[..len]` point at `iov` entries that point at live frame slices,
            // all outliving the call; the socket is bound, so no address is needed.
            let rc = unsafe {
                libc::sendmmsg(
                    self.fd.as_raw_fd(),
                    msgs.as_mut_ptr(),
                    chunk.len() as libc::c_uint,
                    libc::MSG_DONTWAIT,
                )
            };
            if rc < 0 {
                let e = io::Error::last_os_error();
                // Report the error only when it is about the first frame of the call.
                return if sent > 0 || is_full(&e) {
                    Ok(sent)
                } else {
                    Err(e)
                };
            }
            sent += rc as usize;
            if (rc as usize) < chunk.len() {
                break;
            }
        }
        Ok(sent)
    }

    /// Kernel drop counter since the last call (PACKET_STATISTICS resets on read).
    pub(crate) fn take_kernel_drops(&self) -> u64 {
        // SAFETY: tpacket_stats_v3 is plain data.
        let mut st: libc::tpacket_stats_v3 = unsafe { std::mem::zeroed() };
        let mut len = size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
        // SAFETY: `st`/`len` are valid out-parameters of the right size.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&mut st as *mut libc::tpacket_stats_v3).cast(),
                &mut len,
            )
        };
        if rc < 0 {
            0
        } else {
            u64::from(st.tp_drops)
        }
    }
}

/// The queue was full: retry later rather than drop.
pub(crate) fn is_full(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EAGAIN) | Some(libc::ENOBUFS) | Some(libc::EINTR)
    )
}

impl Drop for PacketSocket {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the region mapped in `open`; nothing borrows it any more
        // (frames handed to callbacks do not outlive `rx`).
        unsafe { libc::munmap(self.map.as_ptr().cast(), self.map_len) };
    }
}
