//! DPDK through `dpdk-sys`: EAL init (once per process), ethdev setup with one RX/TX queue pair
//! per worker, and burst I/O that copies between mbufs and our frames.

use std::{
    ffi::{CStr, CString},
    io,
    os::raw::{c_char, c_int},
    ptr::NonNull,
    sync::{Mutex, OnceLock},
};

use dpdk_sys as rte;

static EAL: OnceLock<Result<(), String>> = OnceLock::new();

fn rte_err(what: &str, code: c_int) -> io::Error {
    let code = code.abs();
    // SAFETY: rte_strerror returns a pointer to a static or thread-local NUL-terminated string.
    let msg = unsafe { CStr::from_ptr(rte::rte_strerror(code)) }
        .to_string_lossy()
        .into_owned();
    io::Error::other(format!("{what}: {msg}"))
}

/// Initialises the EAL with `args` the first time; later calls return the first result (the
/// EAL cannot be initialised twice in one process).
pub(crate) fn eal_init(args: &[String]) -> io::Result<()> {
    EAL.get_or_init(|| {
        let mut owned: Vec<CString> = vec![CString::new("reframer").unwrap()];
        for a in args {
            owned.push(
                CString::new(a.as_str()).map_err(|_| format!("EAL argument {a:?} contains NUL"))?,
            );
        }
        // EAL may keep and permute argv: give it leaked, stable storage.
        let argv: &'static mut [*mut c_char] =
            Vec::leak(owned.into_iter().map(|c| c.into_raw()).collect());
        // SAFETY: argv holds argc valid NUL-terminated strings that live forever.
        let rc = unsafe { rte::rte_eal_init(argv.len() as c_int, argv.as_mut_ptr()) };
        if rc < 0 {
            // SAFETY: reading DPDK's per-thread errno right after the failing call.
            let e = unsafe { rte::shim_rte_errno() };
            return Err(format!(
                "DPDK EAL init failed ({}); EAL arguments were: {}",
                rte_err("rte_eal_init", e),
                args.join(" ")
            ));
        }
        Ok(())
    })
    .clone()
    .map_err(io::Error::other)
}

/// A started ethdev; stopped and closed when the last queue handle is dropped (which also
/// flushes file-backed PMDs such as net_pcap).
#[derive(Debug)]
pub(crate) struct Device {
    pub(crate) port: u16,
    pool: NonNull<rte::rte_mempool>,
    stats_base: Mutex<(u64, u64)>,
}

// SAFETY: the mempool is thread-safe (per-lcore caches aside, which DPDK handles for non-EAL
// threads through its shared ring); each queue is used by one worker only.
unsafe impl Send for Device {}
// SAFETY: as above; shared fields are read-only or behind a Mutex.
unsafe impl Sync for Device {}

/// Finds a port by number or device name (`0`, `net_pcap0`, `0000:01:00.0`).
pub(crate) fn find_port(name: &str) -> io::Result<u16> {
    let id = if let Ok(id) = name.parse::<u16>() {
        id
    } else {
        let c = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        let mut id = 0u16;
        // SAFETY: `c` is NUL-terminated and `id` a valid out-parameter.
        let rc = unsafe { rte::rte_eth_dev_get_port_by_name(c.as_ptr(), &mut id) };
        if rc != 0 {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "no DPDK device of that name (check --vdev / -a in --dpdk-args)",
            ));
        }
        id
    };
    // SAFETY: plain query.
    if unsafe { rte::rte_eth_dev_is_valid_port(id) } == 0 {
        // SAFETY: plain query.
        let n = unsafe { rte::rte_eth_dev_count_avail() };
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no DPDK port {id} ({n} available)"),
        ));
    }
    Ok(id)
}

impl Device {
    /// Configures `queues` RX/TX queue pairs (RSS over IP/TCP/UDP when more than one and the
    /// device supports it), enables promiscuous mode and starts the port.
    pub(crate) fn start(port: u16, queues: u16, mbufs: u32) -> io::Result<Self> {
        // SAFETY: plain query.
        let socket = unsafe { rte::rte_eth_dev_socket_id(port) }.max(-1);
        let pname = CString::new(format!("rfr_pool_{port}")).unwrap();
        // SAFETY: valid name; sizes within DPDK's limits; the pool lives for the process.
        let pool = unsafe {
            rte::rte_pktmbuf_pool_create(
                pname.as_ptr(),
                mbufs,
                256,
                0,
                rte::RTE_MBUF_DEFAULT_BUF_SIZE as u16,
                socket,
            )
        };
        let pool = NonNull::new(pool).ok_or_else(|| {
            // SAFETY: reading DPDK's errno right after the failing call.
            rte_err("creating the mbuf pool (try a larger -m)", unsafe {
                rte::shim_rte_errno()
            })
        })?;
        let mut info = rte::rte_eth_dev_info::default();
        // SAFETY: `info` is a valid out-parameter.
        let rc = unsafe { rte::rte_eth_dev_info_get(port, &mut info) };
        if rc != 0 {
            return Err(rte_err("rte_eth_dev_info_get", rc));
        }
        if queues > info.max_rx_queues || queues > info.max_tx_queues {
            return Err(io::Error::other(format!(
                "{queues} workers need {queues} queues but the device has {} RX / {} TX",
                info.max_rx_queues, info.max_tx_queues
            )));
        }
        let mut conf = rte::rte_eth_conf::default();
        let rss = u64::from(rte::RTE_ETH_RSS_IP | rte::RTE_ETH_RSS_TCP | rte::RTE_ETH_RSS_UDP)
            & info.flow_type_rss_offloads;
        if queues > 1 && rss != 0 {
            conf.rxmode.mq_mode = rte::rte_eth_rx_mq_mode_RTE_ETH_MQ_RX_RSS;
            conf.rx_adv_conf.rss_conf.rss_hf = rss;
        }
        // SAFETY: `conf` is a valid, fully initialised configuration.
        let rc = unsafe { rte::rte_eth_dev_configure(port, queues, queues, &conf) };
        if rc != 0 {
            return Err(rte_err("rte_eth_dev_configure", rc));
        }
        for q in 0..queues {
            // SAFETY: port configured above; null conf selects the driver defaults.
            let rc = unsafe {
                rte::rte_eth_rx_queue_setup(
                    port,
                    q,
                    1024,
                    socket as u32,
                    std::ptr::null(),
                    pool.as_ptr(),
                )
            };
            if rc != 0 {
                return Err(rte_err("rte_eth_rx_queue_setup", rc));
            }
            // SAFETY: as above.
            let rc = unsafe {
                rte::rte_eth_tx_queue_setup(port, q, 1024, socket as u32, std::ptr::null())
            };
            if rc != 0 {
                return Err(rte_err("rte_eth_tx_queue_setup", rc));
            }
        }
        // Not every PMD supports it (net_ring, net_null): best effort.
        // SAFETY: plain call on a configured port.
        let _ = unsafe { rte::rte_eth_promiscuous_enable(port) };
        // SAFETY: plain call on a configured port.
        let rc = unsafe { rte::rte_eth_dev_start(port) };
        if rc != 0 {
            return Err(rte_err("rte_eth_dev_start", rc));
        }
        Ok(Self {
            port,
            pool,
            stats_base: Mutex::new((0, 0)),
        })
    }

    /// Frames the device dropped (missed + no mbuf) since the last call.
    pub(crate) fn take_drops(&self) -> u64 {
        let mut st = rte::rte_eth_stats::default();
        // SAFETY: `st` is a valid out-parameter.
        if unsafe { rte::rte_eth_stats_get(self.port, &mut st) } != 0 {
            return 0;
        }
        let mut base = self.stats_base.lock().unwrap_or_else(|e| e.into_inner());
        let now = (st.imissed, st.rx_nombuf);
        let d = now.0.saturating_sub(base.0) + now.1.saturating_sub(base.1);
        *base = now;
        d
    }

    /// Receives up to 64 mbufs on queue `q`, calls `f(data, whole)` for each (`whole` false for
    /// a multi-segment mbuf), and frees them.
    pub(crate) fn rx(&self, q: u16, max: usize, f: &mut dyn FnMut(&[u8], bool)) -> usize {
        let mut bufs = [std::ptr::null_mut::<rte::rte_mbuf>(); 64];
        let want = max.min(64) as u16;
        // SAFETY: `bufs` has room for `want` pointers; queue `q` exists and is used by this
        // worker only.
        let n =
            unsafe { rte::shim_rte_eth_rx_burst(self.port, q, bufs.as_mut_ptr(), want) } as usize;
        for &m in &bufs[..n] {
            // SAFETY: `m` is a valid mbuf just received; its first segment holds `data_len`
            // bytes at the data pointer, and we only read it before freeing.
            unsafe {
                let segs = rte::shim_rte_pktmbuf_nb_segs(m);
                let len = (*m).data_len as usize;
                let data =
                    std::slice::from_raw_parts(rte::shim_rte_pktmbuf_data(m) as *const u8, len);
                f(data, segs == 1);
            }
        }
        if n > 0 {
            // SAFETY: the n mbufs are ours and no longer referenced.
            unsafe { rte::shim_rte_pktmbuf_free_bulk(bufs.as_mut_ptr(), n as u32) };
        }
        n
    }

    /// Sends up to 64 frames on queue `q`; returns how many left.
    pub(crate) fn tx<T: AsRef<[u8]>>(&self, q: u16, frames: &[T]) -> io::Result<usize> {
        let n = frames.len().min(64);
        if n == 0 {
            return Ok(0);
        }
        let mut bufs = [std::ptr::null_mut::<rte::rte_mbuf>(); 64];
        // SAFETY: `bufs` has room for n pointers; the pool is valid.
        if unsafe {
            rte::shim_rte_pktmbuf_alloc_bulk(self.pool.as_ptr(), bufs.as_mut_ptr(), n as u32)
        } != 0
        {
            return Ok(0); // Pool empty for now: the driver still holds mbufs; retry later.
        }
        for (i, fr) in frames[..n].iter().enumerate() {
            let d = fr.as_ref();
            // SAFETY: bufs[i] is a fresh mbuf; `d` is a live slice of d.len() bytes.
            let rc =
                unsafe { rte::shim_rte_pktmbuf_fill(bufs[i], d.as_ptr().cast(), d.len() as u16) };
            if rc != 0 {
                // SAFETY: all n mbufs are still ours.
                unsafe { rte::shim_rte_pktmbuf_free_bulk(bufs.as_mut_ptr(), n as u32) };
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "frame larger than an mbuf",
                ));
            }
        }
        // SAFETY: n filled mbufs; the driver takes ownership of those it sends.
        let sent = unsafe { rte::shim_rte_eth_tx_burst(self.port, q, bufs.as_mut_ptr(), n as u16) }
            as usize;
        if sent < n {
            // SAFETY: the unsent mbufs are still ours.
            unsafe {
                rte::shim_rte_pktmbuf_free_bulk(bufs.as_mut_ptr().add(sent), (n - sent) as u32)
            };
        }
        Ok(sent)
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        // SAFETY: no queue handle is left (this is the last owner); stopping and closing a
        // started port is always allowed.
        unsafe {
            rte::rte_eth_dev_stop(self.port);
            rte::rte_eth_dev_close(self.port);
        }
    }
}
