//! An AF_XDP socket with its own UMEM and the four rings (fill, completion, RX, TX), on raw
//! system calls. UMEM chunks are split in two fixed halves: RX chunks live in the fill ring
//! or the RX ring and go straight back to the fill ring once copied out; TX chunks cycle
//! through a free list, the TX ring and the completion ring.

use std::{
    io,
    os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd},
    ptr::NonNull,
    sync::atomic::{AtomicU32, Ordering},
};

/// UMEM and ring sizes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct XskGeometry {
    /// Entries per ring (power of two); the UMEM has twice as many chunks.
    pub(crate) ring: u32,
    /// Bytes per UMEM chunk (2048 or 4096).
    pub(crate) chunk: u32,
}

/// How the socket ended up bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Copy {
    /// The driver DMAs straight into the UMEM.
    ZeroCopy,
    /// The kernel copies (every driver, veth included).
    Copy,
}

/// Kernel drop counters of the socket (XDP_STATISTICS). A frame is dropped either as
/// `rx_dropped` (no free chunk: the fill ring was empty, which the kernel also counts in the
/// fill ring's empty-descriptor count, so that one is a cause, not more drops) or as
/// `rx_ring_full` (the RX ring had no room).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct XskStats {
    pub(crate) rx_dropped: u64,
    pub(crate) rx_ring_full: u64,
}

struct Mmap {
    ptr: NonNull<u8>,
    len: usize,
}

impl Mmap {
    fn new(fd: Option<RawFd>, len: usize, offset: u64) -> io::Result<Self> {
        let (flags, fd) = match fd {
            Some(fd) => (libc::MAP_SHARED | libc::MAP_POPULATE, fd),
            None => (
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
                -1,
            ),
        };
        // SAFETY: a fresh mapping at a kernel-chosen address; checked against MAP_FAILED.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                flags,
                fd,
                offset as libc::off_t,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(p.cast::<u8>()).ok_or_else(io::Error::last_os_error)?;
        Ok(Self { ptr, len })
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `new` mapped; no references into it outlive `self`.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

/// One ring mapping. `T` is the entry: u64 (fill, completion) or xdp_desc (RX, TX).
struct Ring<T> {
    _map: Mmap,
    producer: NonNull<AtomicU32>,
    consumer: NonNull<AtomicU32>,
    flags: NonNull<AtomicU32>,
    entries: NonNull<T>,
    mask: u32,
}

impl<T: std::marker::Copy> Ring<T> {
    fn map(fd: RawFd, off: &libc::xdp_ring_offset, size: u32, pgoff: u64) -> io::Result<Self> {
        let len = off.desc as usize + size as usize * size_of::<T>();
        let map = Mmap::new(Some(fd), len, pgoff)?;
        let at = |o: u64| map.ptr.as_ptr().wrapping_add(o as usize);
        // The kernel guarantees these offsets lie inside the ring it sized and are aligned.
        let ring = Self {
            producer: NonNull::new(at(off.producer).cast()).expect("mmap is non-null"),
            consumer: NonNull::new(at(off.consumer).cast()).expect("mmap is non-null"),
            flags: NonNull::new(at(off.flags).cast()).expect("mmap is non-null"),
            entries: NonNull::new(at(off.desc).cast()).expect("mmap is non-null"),
            mask: size - 1,
            _map: map,
        };
        Ok(ring)
    }

    fn prod(&self) -> &AtomicU32 {
        // SAFETY: points into the live mapping; the kernel shares this word with us.
        unsafe { self.producer.as_ref() }
    }
    fn cons(&self) -> &AtomicU32 {
        // SAFETY: as `prod`.
        unsafe { self.consumer.as_ref() }
    }
    fn needs_wakeup(&self) -> bool {
        // SAFETY: as `prod`.
        unsafe { self.flags.as_ref() }.load(Ordering::Relaxed) & libc::XDP_RING_NEED_WAKEUP != 0
    }
    fn get(&self, i: u32) -> T {
        // SAFETY: index masked into the ring; the entry was published by the producer (the
        // caller read the producer index with Acquire).
        unsafe { self.entries.as_ptr().add((i & self.mask) as usize).read() }
    }
    fn set(&self, i: u32, v: T) {
        // SAFETY: index masked into the ring; the slot is ours until we publish the producer
        // index with Release.
        unsafe { self.entries.as_ptr().add((i & self.mask) as usize).write(v) }
    }
    fn size(&self) -> u32 {
        self.mask + 1
    }
}

// SAFETY: the mappings are owned by the socket alone and only touched through `&mut self`.
unsafe impl<T> Send for Ring<T> {}
// SAFETY: as for `Ring`: the UMEM mapping belongs to one socket, used through `&mut self`.
unsafe impl Send for Mmap {}

/// The socket, UMEM, rings and the TX free list.
pub(crate) struct XskSocket {
    fill: Ring<u64>,
    comp: Ring<u64>,
    rx: Ring<libc::xdp_desc>,
    tx: Ring<libc::xdp_desc>,
    umem: Mmap,
    fd: OwnedFd,
    chunk: u32,
    tx_free: Vec<u64>,
    /// How the socket is bound.
    pub(crate) copy: Copy,
}

fn cvt(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

fn setsockopt<T>(fd: RawFd, name: libc::c_int, val: &T) -> io::Result<()> {
    // SAFETY: `val` points to a live T and we pass its exact size.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_XDP,
            name,
            (val as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    })
    .map(drop)
}

fn getsockopt<T>(fd: RawFd, name: libc::c_int, out: &mut T) -> io::Result<()> {
    let mut len = size_of::<T>() as libc::socklen_t;
    // SAFETY: `out` is a valid, writable T of the size we pass.
    cvt(unsafe { libc::getsockopt(fd, libc::SOL_XDP, name, (out as *mut T).cast(), &mut len) })
        .map(drop)
}

impl XskSocket {
    /// Creates a socket on (`ifindex`, `queue`): zero-copy if `zero_copy` is true, else copy
    /// mode. The caller retries in copy mode when zero-copy is refused.
    pub(crate) fn open(
        ifindex: u32,
        queue: u32,
        geo: XskGeometry,
        zero_copy: bool,
    ) -> io::Result<Self> {
        // Sizes were validated by `XdpOptions::validate`.
        let ring = geo.ring;
        // SAFETY: plain syscall; the fd is checked and then owned.
        let raw =
            cvt(unsafe { libc::socket(libc::AF_XDP, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) })?;
        // SAFETY: `raw` is a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let s = fd.as_raw_fd();
        let chunks = 2 * ring;
        let umem = Mmap::new(None, chunks as usize * geo.chunk as usize, 0)?;
        let reg = libc::xdp_umem_reg {
            addr: umem.ptr.as_ptr() as u64,
            len: umem.len as u64,
            chunk_size: geo.chunk,
            headroom: 0,
            flags: 0,
            tx_metadata_len: 0,
        };
        setsockopt(s, libc::XDP_UMEM_REG, &reg)?;
        setsockopt(s, libc::XDP_UMEM_FILL_RING, &ring)?;
        setsockopt(s, libc::XDP_UMEM_COMPLETION_RING, &ring)?;
        setsockopt(s, libc::XDP_RX_RING, &ring)?;
        setsockopt(s, libc::XDP_TX_RING, &ring)?;
        // SAFETY: plain data; zeroed is valid.
        let mut off: libc::xdp_mmap_offsets = unsafe { std::mem::zeroed() };
        getsockopt(s, libc::XDP_MMAP_OFFSETS, &mut off)?;
        let fill = Ring::map(s, &off.fr, ring, libc::XDP_UMEM_PGOFF_FILL_RING)?;
        let comp = Ring::map(s, &off.cr, ring, libc::XDP_UMEM_PGOFF_COMPLETION_RING)?;
        let rx = Ring::map(s, &off.rx, ring, libc::XDP_PGOFF_RX_RING as u64)?;
        let tx = Ring::map(s, &off.tx, ring, libc::XDP_PGOFF_TX_RING as u64)?;
        // The first half of the chunks receives; hand all of them to the kernel now.
        for i in 0..ring {
            fill.set(i, u64::from(i) * u64::from(geo.chunk));
        }
        fill.prod().store(ring, Ordering::Release);
        let tx_free = (ring..chunks)
            .rev()
            .map(|i| u64::from(i) * u64::from(geo.chunk))
            .collect();
        let mode = if zero_copy {
            libc::XDP_ZEROCOPY
        } else {
            libc::XDP_COPY
        };
        let sxdp = libc::sockaddr_xdp {
            sxdp_family: libc::AF_XDP as u16,
            sxdp_flags: mode | libc::XDP_USE_NEED_WAKEUP,
            sxdp_ifindex: ifindex,
            sxdp_queue_id: queue,
            sxdp_shared_umem_fd: 0,
        };
        // SAFETY: `sxdp` is a valid sockaddr_xdp and we pass its size.
        cvt(unsafe {
            libc::bind(
                s,
                (&sxdp as *const libc::sockaddr_xdp).cast(),
                size_of::<libc::sockaddr_xdp>() as libc::socklen_t,
            )
        })?;
        Ok(Self {
            fill,
            comp,
            rx,
            tx,
            umem,
            fd,
            chunk: geo.chunk,
            tx_free,
            copy: if zero_copy {
                Copy::ZeroCopy
            } else {
                Copy::Copy
            },
        })
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    fn chunk_slice(&self, addr: u64, len: usize) -> Option<&[u8]> {
        let end = (addr as usize).checked_add(len)?;
        if end > self.umem.len {
            return None;
        }
        // SAFETY: [addr, addr+len) is inside the UMEM (checked); the chunk is owned by user
        // space while its descriptor sits between the RX consumer and producer indices.
        Some(unsafe { std::slice::from_raw_parts(self.umem.ptr.as_ptr().add(addr as usize), len) })
    }

    /// Calls `f` with up to `max` received frames; their chunks go back to the fill ring.
    /// Returns how many were seen (including invalid descriptors, which `f` gets as `None`).
    pub(crate) fn rx(&mut self, max: usize, f: &mut dyn FnMut(Option<&[u8]>)) -> usize {
        let cons = self.rx.cons().load(Ordering::Relaxed);
        let prod = self.rx.prod().load(Ordering::Acquire);
        let n = (prod.wrapping_sub(cons) as usize).min(max) as u32;
        if n == 0 {
            if self.fill.needs_wakeup() {
                self.wake_rx();
            }
            return 0;
        }
        // Every RX chunk is in the fill ring or the RX ring, so the fill ring has room for
        // each one we take out of the RX ring.
        let fprod = self.fill.prod().load(Ordering::Relaxed);
        let mask = !u64::from(self.chunk - 1);
        for i in 0..n {
            let d = self.rx.get(cons.wrapping_add(i));
            f(self.chunk_slice(d.addr, d.len as usize));
            self.fill.set(fprod.wrapping_add(i), d.addr & mask);
        }
        self.rx
            .cons()
            .store(cons.wrapping_add(n), Ordering::Release);
        self.fill
            .prod()
            .store(fprod.wrapping_add(n), Ordering::Release);
        if self.fill.needs_wakeup() {
            self.wake_rx();
        }
        n as usize
    }

    fn wake_rx(&self) {
        // SAFETY: a zero-length non-blocking receive only kicks the driver.
        unsafe {
            libc::recvfrom(
                self.raw_fd(),
                std::ptr::null_mut(),
                0,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
    }

    /// Takes back TX chunks the kernel has finished with.
    fn reap(&mut self) {
        let cons = self.comp.cons().load(Ordering::Relaxed);
        let prod = self.comp.prod().load(Ordering::Acquire);
        let n = prod.wrapping_sub(cons);
        let mask = !u64::from(self.chunk - 1);
        for i in 0..n {
            self.tx_free
                .push(self.comp.get(cons.wrapping_add(i)) & mask);
        }
        self.comp.cons().store(prod, Ordering::Release);
    }

    /// Frames the kernel has not yet taken from the TX ring.
    fn tx_pending(&self) -> u32 {
        let prod = self.tx.prod().load(Ordering::Relaxed);
        prod.wrapping_sub(self.tx.cons().load(Ordering::Acquire))
    }

    /// Queues frames from the front of `frames` (each at most one chunk) and kicks the
    /// kernel. Returns how many were queued; the rest met a full ring. Frames longer than a
    /// chunk must be filtered out by the caller.
    pub(crate) fn send<T: AsRef<[u8]>>(&mut self, frames: &[T]) -> io::Result<usize> {
        self.reap();
        let prod = self.tx.prod().load(Ordering::Relaxed);
        let room = self.tx.size() - self.tx_pending();
        let n = frames.len().min(room as usize).min(self.tx_free.len());
        for (i, fr) in frames[..n].iter().enumerate() {
            let fr = fr.as_ref();
            let addr = self.tx_free.pop().expect("n <= tx_free.len()");
            // SAFETY: the chunk at `addr` is free (owned by user space), inside the UMEM, and
            // fr.len() <= chunk (the caller's contract, asserted by the min below).
            let dst = unsafe {
                std::slice::from_raw_parts_mut(
                    self.umem.ptr.as_ptr().add(addr as usize),
                    self.chunk as usize,
                )
            };
            let len = fr.len().min(dst.len());
            dst[..len].copy_from_slice(&fr[..len]);
            self.tx.set(
                prod.wrapping_add(i as u32),
                libc::xdp_desc {
                    addr,
                    len: len as u32,
                    options: 0,
                },
            );
        }
        self.tx
            .prod()
            .store(prod.wrapping_add(n as u32), Ordering::Release);
        self.kick()?;
        Ok(n)
    }

    /// Makes the kernel transmit what is in the TX ring. Copy mode moves a bounded batch per
    /// call, so kick until the ring is empty or the device pushes back.
    pub(crate) fn kick(&mut self) -> io::Result<()> {
        let mut rounds = 0;
        while self.tx_pending() > 0 && rounds < 64 {
            if self.copy == Copy::ZeroCopy && !self.tx.needs_wakeup() {
                break;
            }
            // SAFETY: a zero-length non-blocking send only asks the kernel to process the
            // TX ring of this bound socket.
            let rc = unsafe {
                libc::sendto(
                    self.raw_fd(),
                    std::ptr::null(),
                    0,
                    libc::MSG_DONTWAIT,
                    std::ptr::null(),
                    0,
                )
            };
            if rc < 0 {
                let e = io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::EAGAIN) | Some(libc::EBUSY) | Some(libc::ENOBUFS)
                    | Some(libc::EINTR) => break,
                    // A frame the device refused (e.g. longer than its MTU) is consumed and
                    // completed by the kernel; go on with the rest.
                    Some(libc::EMSGSIZE) | Some(libc::EINVAL) => {}
                    _ => return Err(e),
                }
            }
            rounds += 1;
        }
        self.reap();
        Ok(())
    }

    /// True while transmitted frames are still in the TX ring.
    pub(crate) fn tx_busy(&self) -> bool {
        self.tx_pending() > 0
    }

    /// Kernel drop counters (cumulative).
    pub(crate) fn stats(&self) -> XskStats {
        // SAFETY: plain data; zeroed is valid.
        let mut st: libc::xdp_statistics = unsafe { std::mem::zeroed() };
        if getsockopt(self.raw_fd(), libc::XDP_STATISTICS, &mut st).is_err() {
            return XskStats::default();
        }
        XskStats {
            rx_dropped: st.rx_dropped + st.rx_invalid_descs,
            rx_ring_full: st.rx_ring_full,
        }
    }
}
