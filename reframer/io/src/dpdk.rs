//! `dpdk:PORT` (feature `dpdk`): a DPDK ethdev, one RX/TX queue pair per worker, RSS across
//! queues. Frames are copied between mbufs and our [`Frame`]s, so DPDK ports mix freely with
//! AF_PACKET ones; the copy costs less than the scheduler (see the port-layer benchmark).

use std::{io, os::fd::RawFd, sync::Arc};

use crate::{
    frame::{Frame, FramePool},
    port::{Port, PortCounters, RxPort, TxPort},
    sys::dpdk::{self as raw, Device},
};

/// Initialises the EAL once per process with these arguments (as after `--` of a DPDK app).
pub fn init_eal(args: &[String]) -> io::Result<()> {
    raw::eal_init(args)
}

/// A started DPDK port shared by its per-worker queue handles.
#[derive(Debug, Clone)]
pub struct DpdkDevice {
    dev: Arc<Device>,
    name: String,
}

impl DpdkDevice {
    /// Finds `name` (port number or device name such as `net_pcap0`) and starts it with
    /// `queues` queue pairs. Call [`init_eal`] first.
    pub fn start(name: &str, queues: u16) -> io::Result<Self> {
        let wrap = |e: io::Error| io::Error::new(e.kind(), format!("dpdk:{name}: {e}"));
        let port = raw::find_port(name).map_err(wrap)?;
        let dev = Device::start(port, queues, 8191).map_err(wrap)?;
        Ok(Self {
            dev: Arc::new(dev),
            name: format!("dpdk:{name}"),
        })
    }

    /// The handle worker `queue` uses.
    pub fn queue(&self, queue: u16, frame_bytes: usize) -> DpdkPort {
        DpdkPort {
            dev: Arc::clone(&self.dev),
            queue,
            name: self.name.clone(),
            frame_bytes,
            counters: PortCounters::default(),
        }
    }
}

/// One worker's queue pair on a DPDK port.
#[derive(Debug)]
pub struct DpdkPort {
    dev: Arc<Device>,
    queue: u16,
    name: String,
    frame_bytes: usize,
    counters: PortCounters,
}

impl RxPort for DpdkPort {
    fn rx_burst(
        &mut self,
        pool: &mut FramePool,
        out: &mut Vec<Frame>,
        max: usize,
    ) -> io::Result<usize> {
        let c = &mut self.counters;
        let cap = self.frame_bytes;
        let mut got = 0;
        self.dev.rx(self.queue, max, &mut |data, whole| {
            if !whole || data.len() > cap {
                c.rx_oversize += 1;
                return;
            }
            let mut f = pool.get();
            f.fill(data);
            c.rx_packets += 1;
            c.rx_bytes += data.len() as u64;
            out.push(f);
            got += 1;
        });
        Ok(got)
    }

    fn rx_fd(&self) -> Option<RawFd> {
        None
    }
}

impl TxPort for DpdkPort {
    fn tx_burst(&mut self, frames: &mut Vec<Frame>, pool: &mut FramePool) -> io::Result<usize> {
        let mut total = 0;
        while !frames.is_empty() {
            match self.dev.tx(self.queue, frames) {
                Ok(0) => break,
                Ok(n) => {
                    for f in frames.drain(..n) {
                        self.counters.tx_packets += 1;
                        self.counters.tx_bytes += f.len() as u64;
                        pool.put(f);
                    }
                    total += n;
                }
                Err(_) => {
                    // A frame no mbuf can hold: count it and go on with the rest.
                    let big = frames.iter().position(|f| f.len() > 2048).unwrap_or(0);
                    self.counters.tx_dropped += 1;
                    pool.put(frames.remove(big));
                }
            }
        }
        Ok(total)
    }
}

impl Port for DpdkPort {
    fn name(&self) -> &str {
        &self.name
    }

    fn counters(&mut self) -> PortCounters {
        if self.queue == 0 {
            self.counters.rx_dropped += self.dev.take_drops();
        }
        self.counters
    }
}
