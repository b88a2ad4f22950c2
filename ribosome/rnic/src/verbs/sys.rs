//! Thin owning wrappers over the libibverbs calls the verbs backend makes. Every object
//! frees itself on drop; every call's result is checked before use.
#![allow(unsafe_code)]

use rdma_sys::*;
use std::ffi::CStr;
use std::io;
use std::ptr::NonNull;

fn os_err(call: &str) -> io::Error {
    let e = io::Error::last_os_error();
    io::Error::new(e.kind(), format!("{call} failed: {e}"))
}

/// The list returned by `ibv_get_device_list`.
#[derive(Debug)]
pub(crate) struct DeviceList {
    list: NonNull<*mut ibv_device>,
    len: usize,
}

impl DeviceList {
    /// All RDMA devices. NULL (as on kernels without InfiniBand, errno ENOSYS) is an error.
    pub(crate) fn get() -> io::Result<Self> {
        let mut n: libc::c_int = 0;
        // SAFETY: `n` is a valid out-pointer; the returned list is checked for NULL.
        let ptr = unsafe { ibv_get_device_list(&mut n) };
        let list = NonNull::new(ptr).ok_or_else(|| os_err("ibv_get_device_list"))?;
        Ok(Self {
            list,
            len: usize::try_from(n).unwrap_or(0),
        })
    }

    fn device(&self, i: usize) -> Option<*mut ibv_device> {
        if i >= self.len {
            return None;
        }
        // SAFETY: the list holds `len` valid device pointers followed by NULL.
        let d = unsafe { *self.list.as_ptr().add(i) };
        (!d.is_null()).then_some(d)
    }

    /// Device names in list order.
    pub(crate) fn names(&self) -> Vec<String> {
        (0..self.len)
            .filter_map(|i| self.device(i))
            .map(|d| {
                // SAFETY: `d` is a valid device; the name is a NUL-terminated string owned by
                // the list, copied out before the list can be freed.
                unsafe { CStr::from_ptr(ibv_get_device_name(d)) }
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    }

    /// Opens device `i`.
    pub(crate) fn open(&self, i: usize) -> io::Result<Context> {
        let d = self
            .device(i)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such device index"))?;
        // SAFETY: `d` is a valid device from the live list.
        let ctx = unsafe { ibv_open_device(d) };
        NonNull::new(ctx)
            .map(Context)
            .ok_or_else(|| os_err("ibv_open_device"))
    }
}

impl Drop for DeviceList {
    fn drop(&mut self) {
        // SAFETY: the list came from ibv_get_device_list and is freed exactly once; opened
        // contexts stay valid after this (libibverbs keeps devices referenced).
        unsafe { ibv_free_device_list(self.list.as_ptr()) }
    }
}

/// An open device.
#[derive(Debug)]
pub(crate) struct Context(NonNull<ibv_context>);

// SAFETY: libibverbs contexts may be used from any thread (verbs are thread-safe); we never
// share one without `&mut` access anyway.
unsafe impl Send for Context {}

impl Context {
    /// Port attributes.
    pub(crate) fn query_port(&self, port: u8) -> io::Result<ibv_port_attr> {
        // SAFETY: all-zero is a valid ibv_port_attr to be filled in.
        let mut attr: ibv_port_attr = unsafe { std::mem::zeroed() };
        // SAFETY: context and out-pointer are valid.
        let r = unsafe { ibv_query_port(self.0.as_ptr(), port, &mut attr as *mut _ as *mut _) };
        if r != 0 {
            return Err(io::Error::from_raw_os_error(r));
        }
        Ok(attr)
    }

    /// GID `index` of `port`.
    pub(crate) fn query_gid(&self, port: u8, index: i32) -> io::Result<[u8; 16]> {
        let mut gid = ibv_gid { raw: [0; 16] };
        // SAFETY: context and out-pointer are valid.
        let r = unsafe { ibv_query_gid(self.0.as_ptr(), port, index, &mut gid) };
        if r != 0 {
            return Err(os_err("ibv_query_gid"));
        }
        // SAFETY: both union variants are plain bytes.
        Ok(unsafe { gid.raw })
    }

    /// Allocates a protection domain.
    pub(crate) fn alloc_pd(&self) -> io::Result<Pd> {
        // SAFETY: the context is open.
        let pd = unsafe { ibv_alloc_pd(self.0.as_ptr()) };
        NonNull::new(pd)
            .map(Pd)
            .ok_or_else(|| os_err("ibv_alloc_pd"))
    }

    /// Creates a completion queue (never polled: only one-sided operations target us).
    pub(crate) fn create_cq(&self, entries: i32) -> io::Result<Cq> {
        // SAFETY: the context is open; no channel or user context is passed.
        let cq = unsafe {
            ibv_create_cq(
                self.0.as_ptr(),
                entries,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                0,
            )
        };
        NonNull::new(cq)
            .map(Cq)
            .ok_or_else(|| os_err("ibv_create_cq"))
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: every object made from this context is dropped earlier (field order of the
        // owner); the context is closed once.
        unsafe { ibv_close_device(self.0.as_ptr()) };
    }
}

/// A protection domain.
#[derive(Debug)]
pub(crate) struct Pd(NonNull<ibv_pd>);

// SAFETY: see `Context`.
unsafe impl Send for Pd {}

impl Pd {
    /// Registers `buf` (moved in, so it outlives the registration) for local write and
    /// remote read/write.
    pub(crate) fn reg_mr(&self, mut buf: Box<[u8]>) -> io::Result<Mr> {
        let access = ibv_access_flags::IBV_ACCESS_LOCAL_WRITE.0
            | ibv_access_flags::IBV_ACCESS_REMOTE_WRITE.0
            | ibv_access_flags::IBV_ACCESS_REMOTE_READ.0;
        // SAFETY: `buf` is valid for `buf.len()` bytes and lives in the returned Mr, which
        // deregisters before freeing it.
        let mr = unsafe {
            ibv_reg_mr(
                self.0.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                access as libc::c_int,
            )
        };
        let mr = NonNull::new(mr).ok_or_else(|| os_err("ibv_reg_mr"))?;
        Ok(Mr { mr, _buf: buf })
    }

    /// Creates an RC QP on `cq`.
    pub(crate) fn create_rc_qp(&self, cq: &Cq, max_wr: u32) -> io::Result<Qp> {
        // SAFETY: all-zero is a valid starting ibv_qp_init_attr.
        let mut init: ibv_qp_init_attr = unsafe { std::mem::zeroed() };
        init.send_cq = cq.0.as_ptr();
        init.recv_cq = cq.0.as_ptr();
        init.qp_type = ibv_qp_type::IBV_QPT_RC;
        init.cap.max_send_wr = max_wr;
        init.cap.max_recv_wr = max_wr;
        init.cap.max_send_sge = 1;
        init.cap.max_recv_sge = 1;
        // SAFETY: PD and CQ are live; `init` is a valid attribute block.
        let qp = unsafe { ibv_create_qp(self.0.as_ptr(), &mut init) };
        NonNull::new(qp)
            .map(Qp)
            .ok_or_else(|| os_err("ibv_create_qp"))
    }
}

impl Drop for Pd {
    fn drop(&mut self) {
        // SAFETY: QPs and MRs in this PD are dropped first (owner field order).
        unsafe { ibv_dealloc_pd(self.0.as_ptr()) };
    }
}

/// A completion queue.
#[derive(Debug)]
pub(crate) struct Cq(NonNull<ibv_cq>);

// SAFETY: see `Context`.
unsafe impl Send for Cq {}

impl Drop for Cq {
    fn drop(&mut self) {
        // SAFETY: QPs using this CQ are dropped first (owner field order).
        unsafe { ibv_destroy_cq(self.0.as_ptr()) };
    }
}

/// A registered memory region and the buffer it covers.
#[derive(Debug)]
pub(crate) struct Mr {
    mr: NonNull<ibv_mr>,
    _buf: Box<[u8]>,
}

// SAFETY: see `Context`; the buffer is owned.
unsafe impl Send for Mr {}

impl Mr {
    /// (address, rkey, length).
    pub(crate) fn info(&self) -> (u64, u32, u64) {
        // SAFETY: the MR is registered and its fields are plain data.
        let m = unsafe { self.mr.as_ref() };
        (m.addr as u64, m.rkey, m.length as u64)
    }
}

impl Drop for Mr {
    fn drop(&mut self) {
        // SAFETY: deregistered once, before `_buf` is freed (fields drop after this body).
        unsafe { ibv_dereg_mr(self.mr.as_ptr()) };
    }
}

/// An RC queue pair.
#[derive(Debug)]
pub(crate) struct Qp(NonNull<ibv_qp>);

// SAFETY: see `Context`.
unsafe impl Send for Qp {}

impl Qp {
    /// The QP number.
    pub(crate) fn qp_num(&self) -> u32 {
        // SAFETY: the QP is live; qp_num is plain data.
        unsafe { self.0.as_ref().qp_num }
    }

    /// `ibv_modify_qp` with `attr` and `mask`.
    pub(crate) fn modify(&self, attr: &mut ibv_qp_attr, mask: u32, step: &str) -> io::Result<()> {
        // SAFETY: QP and attribute block are valid for the call.
        let r = unsafe { ibv_modify_qp(self.0.as_ptr(), attr, mask as libc::c_int) };
        if r != 0 {
            let e = io::Error::from_raw_os_error(r);
            return Err(io::Error::new(
                e.kind(),
                format!("ibv_modify_qp to {step} failed: {e}"),
            ));
        }
        Ok(())
    }
}

impl Drop for Qp {
    fn drop(&mut self) {
        // SAFETY: destroyed once, before its CQ and PD.
        unsafe { ibv_destroy_qp(self.0.as_ptr()) };
    }
}

/// A zeroed `ibv_qp_attr` to fill in.
pub(crate) fn qp_attr() -> ibv_qp_attr {
    // SAFETY: ibv_qp_attr is plain data; all-zero is its documented starting value.
    unsafe { std::mem::zeroed() }
}
