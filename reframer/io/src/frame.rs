//! Owned packet buffers and the per-worker pool that recycles them, so the datapath does not
//! allocate once the pool has grown to the number of packets in flight.

/// Length of the `virtio_net_hdr` an AF_PACKET socket with PACKET_VNET_HDR puts before each
/// frame: GSO type and size, and where a checksum left to offload starts and is stored.
pub const VNET_HDR_LEN: usize = 10;

/// An owned packet buffer of fixed capacity; `as_ref()` is the frame (`len` bytes).
#[derive(Debug)]
pub struct Frame {
    buf: Box<[u8]>,
    len: usize,
    /// The offload header the frame arrived with (all zero: a plain frame with full
    /// checksums), handed to a TX port that understands it.
    pub vnet: [u8; VNET_HDR_LEN],
}

impl Frame {
    /// Capacity in bytes (the largest frame this buffer can hold).
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Length of the frame in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for a zero-length frame.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Replaces the content with `data`; returns false (and leaves the frame empty) if it does
    /// not fit.
    pub fn fill(&mut self, data: &[u8]) -> bool {
        if data.len() > self.buf.len() {
            self.len = 0;
            return false;
        }
        self.buf[..data.len()].copy_from_slice(data);
        self.len = data.len();
        self.vnet = [0; VNET_HDR_LEN];
        true
    }

    /// Sets the length after writing into `buf_mut()`; clamps to the capacity.
    pub fn set_len(&mut self, len: usize) {
        self.len = len.min(self.buf.len());
    }

    /// The whole buffer, for backends that write into it before `set_len`.
    pub fn buf_mut(&mut self) -> &mut [u8] {
        &mut self.buf
    }
}

impl AsRef<[u8]> for Frame {
    fn as_ref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl AsMut<[u8]> for Frame {
    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.buf[..self.len]
    }
}

/// A free list of [`Frame`]s of one capacity. One per worker: no locking.
#[derive(Debug)]
pub struct FramePool {
    free: Vec<Frame>,
    frame_bytes: usize,
    allocated: usize,
}

impl FramePool {
    /// A pool of frames of `frame_bytes` capacity with `prealloc` buffers ready.
    pub fn new(frame_bytes: usize, prealloc: usize) -> Self {
        let mut p = Self {
            free: Vec::with_capacity(prealloc),
            frame_bytes,
            allocated: 0,
        };
        for _ in 0..prealloc {
            let f = p.fresh();
            p.free.push(f);
        }
        p
    }

    fn fresh(&mut self) -> Frame {
        self.allocated += 1;
        Frame {
            buf: vec![0u8; self.frame_bytes].into_boxed_slice(),
            len: 0,
            vnet: [0; VNET_HDR_LEN],
        }
    }

    /// An empty frame, recycled when possible.
    pub fn get(&mut self) -> Frame {
        match self.free.pop() {
            Some(mut f) => {
                f.len = 0;
                f.vnet = [0; VNET_HDR_LEN];
                f
            }
            None => self.fresh(),
        }
    }

    /// Returns a frame to the pool.
    pub fn put(&mut self, f: Frame) {
        if f.capacity() == self.frame_bytes {
            self.free.push(f);
        }
    }

    /// Capacity of the frames of this pool.
    pub fn frame_bytes(&self) -> usize {
        self.frame_bytes
    }

    /// Buffers ever allocated (a steady value means no per-packet allocation).
    pub fn allocated(&self) -> usize {
        self.allocated
    }

    /// Buffers currently free.
    pub fn free(&self) -> usize {
        self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recycles_and_rejects_oversize() {
        let mut p = FramePool::new(64, 2);
        let mut a = p.get();
        assert!(a.fill(&[1, 2, 3]));
        assert_eq!(a.as_ref(), &[1, 2, 3]);
        assert!(!a.fill(&[0; 65]));
        assert!(a.is_empty());
        p.put(a);
        let _b = p.get();
        let _c = p.get();
        assert_eq!(p.allocated(), 2);
        let _d = p.get();
        assert_eq!(p.allocated(), 3);
    }
}
