//! [`PortSet`]: a few ports driven by one thread, for the daemons beside the middlebox (the
//! Ribosome switch, its payload-server agent, test peers and probes). One [`FramePool`],
//! batched RX and TX on the same ports and [`Poller`] as the live middlebox, and a bounded TX
//! backlog per port: frames that meet a full TX queue are retried on the next
//! [`PortSet::flush`], and a frame that finds the backlog full is dropped and counted in
//! [`SetCounters::tx_backlog_full`]. Nothing allocates per packet once the pool has grown to
//! the frames in flight.

use std::{collections::VecDeque, io, time::Duration};

use crate::{
    afpacket::{AfPacketOptions, AfPacketPort},
    frame::{Frame, FramePool},
    port::{Port, PortCounters, PortKind, PortSpec},
    xdp::{XdpAttachment, XdpOptions, XdpPort},
    Poller,
};

/// Frame buffer size that holds a 9000-byte-MTU frame with its Ethernet header and a VLAN tag.
pub const JUMBO_FRAME_BYTES: usize = 9216;

/// Frames a port's TX backlog holds before new ones are dropped (counted).
pub const TX_BACKLOG: usize = 4096;

/// How long an idle set with frames waiting for TX room naps before retrying.
const TX_RETRY_NAP: Duration = Duration::from_micros(50);

/// A port's counters plus what the set itself dropped on its way out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetCounters {
    /// The port's own counters (RX/TX, kernel drops, oversize, TX errors).
    pub port: PortCounters,
    /// Frames dropped because the TX queue stayed full until the backlog reached
    /// [`TX_BACKLOG`] (or [`PortSet::drain`] gave up at shutdown).
    pub tx_backlog_full: u64,
    /// Frames handed to [`PortSet::send`] that are larger than the frame buffers.
    pub tx_oversize: u64,
}

/// The sending side of a set, lent to the receive callback of [`PortSet::poll_rx`] so replies
/// can be queued while received frames are borrowed.
#[derive(Debug)]
pub struct Tx<'a> {
    pool: &'a mut FramePool,
    backlog: &'a mut [Vec<Frame>],
    drops: &'a mut [SetCounters],
    no_port: &'a mut u64,
}

impl Tx<'_> {
    /// Queues a copy of `data` for port `port`; false if it was dropped (counted: no such
    /// port, too big, or the backlog is full).
    pub fn send(&mut self, port: usize, data: &[u8]) -> bool {
        let (Some(q), Some(d)) = (self.backlog.get_mut(port), self.drops.get_mut(port)) else {
            *self.no_port += 1;
            return false;
        };
        if data.len() > self.pool.frame_bytes() {
            d.tx_oversize += 1;
            return false;
        }
        if q.len() >= TX_BACKLOG {
            d.tx_backlog_full += 1;
            return false;
        }
        let mut f = self.pool.get();
        f.fill(data);
        q.push(f);
        true
    }
}

/// Ports owned by one thread, with their pool, TX backlogs and poller.
pub struct PortSet {
    ports: Vec<Box<dyn Port>>,
    pool: FramePool,
    poller: Poller,
    pollable: bool,
    rx: Vec<Frame>,
    /// Frames received by [`PortSet::recv_until`] but not yet offered, oldest first.
    stash: VecDeque<(usize, Frame)>,
    backlog: Vec<Vec<Frame>>,
    drops: Vec<SetCounters>,
    no_port: u64,
}

impl std::fmt::Debug for PortSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.ports.iter().map(|p| p.name()).collect();
        f.debug_struct("PortSet").field("ports", &names).finish()
    }
}

/// A daemon's port argument: `KIND:NAME` as [`PortSpec`] parses it, or a bare interface name,
/// which means `afpacket:NAME`.
pub fn port_spec(s: &str) -> Result<PortSpec, String> {
    if s.contains(':') {
        s.parse()
    } else {
        format!("afpacket:{s}").parse()
    }
}

/// Opens one port for a single-threaded daemon: `afpacket` with the default ring, or `xdp` on
/// queue 0 with the default rings (frames up to the 2048-byte UMEM chunk). DPDK ports belong
/// to the middlebox's workers and are refused here.
pub fn open_port(spec: &PortSpec, frame_bytes: usize) -> io::Result<Box<dyn Port>> {
    match spec.kind {
        PortKind::AfPacket => Ok(Box::new(AfPacketPort::open(
            &spec.name,
            &AfPacketOptions::default(),
            frame_bytes,
            None,
        )?)),
        PortKind::Xdp => {
            let opts = XdpOptions::default();
            let att = XdpAttachment::attach(&spec.name, 1, &opts)?;
            Ok(Box::new(XdpPort::open(&att, 0, &opts, frame_bytes)?))
        }
        PortKind::Dpdk => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("{spec}: dpdk ports are for the reframer middlebox; use afpacket or xdp"),
        )),
    }
}

impl PortSet {
    /// Opens `specs` in order (port `i` of the set is `specs[i]`) with frame buffers of
    /// `frame_bytes`; the error names the port.
    pub fn open(specs: &[PortSpec], frame_bytes: usize) -> io::Result<Self> {
        let ports = specs
            .iter()
            .map(|s| open_port(s, frame_bytes))
            .collect::<io::Result<Vec<_>>>()?;
        Self::new(ports, frame_bytes)
    }

    /// A set over ports already open.
    pub fn new(ports: Vec<Box<dyn Port>>, frame_bytes: usize) -> io::Result<Self> {
        let poller = Poller::new()?;
        let mut pollable = true;
        for (i, p) in ports.iter().enumerate() {
            match p.rx_fd() {
                Some(fd) => poller.add(fd, i as u64)?,
                None => pollable = false,
            }
        }
        let n = ports.len();
        Ok(Self {
            ports,
            pool: FramePool::new(frame_bytes, 256 * n.max(1)),
            poller,
            pollable,
            rx: Vec::with_capacity(256),
            stash: VecDeque::with_capacity(256),
            backlog: (0..n).map(|_| Vec::with_capacity(256)).collect(),
            drops: vec![SetCounters::default(); n],
            no_port: 0,
        })
    }

    /// Number of ports.
    pub fn len(&self) -> usize {
        self.ports.len()
    }

    /// True for a set without ports.
    pub fn is_empty(&self) -> bool {
        self.ports.is_empty()
    }

    /// The name of port `i` (`afpacket:eth0`).
    pub fn name(&self, i: usize) -> Option<&str> {
        self.ports.get(i).map(|p| p.name())
    }

    /// Receives up to `max` frames from each port and hands each to `f` with its port index
    /// and the set's sending side; the frames go back to the pool after the call. Returns how
    /// many were received.
    pub fn poll_rx(
        &mut self,
        max: usize,
        mut f: impl FnMut(usize, &[u8], &mut Tx<'_>),
    ) -> io::Result<usize> {
        let mut total = self.stash.len();
        let mut tx = Tx {
            pool: &mut self.pool,
            backlog: &mut self.backlog,
            drops: &mut self.drops,
            no_port: &mut self.no_port,
        };
        for (i, fr) in self.stash.drain(..) {
            f(i, fr.as_ref(), &mut tx);
            tx.pool.put(fr);
        }
        for (i, port) in self.ports.iter_mut().enumerate() {
            total += port.rx_burst(&mut self.pool, &mut self.rx, max)?;
            let mut tx = Tx {
                pool: &mut self.pool,
                backlog: &mut self.backlog,
                drops: &mut self.drops,
                no_port: &mut self.no_port,
            };
            for fr in self.rx.drain(..) {
                f(i, fr.as_ref(), &mut tx);
                tx.pool.put(fr);
            }
        }
        Ok(total)
    }

    /// The sending side, outside a receive callback.
    pub fn tx(&mut self) -> Tx<'_> {
        Tx {
            pool: &mut self.pool,
            backlog: &mut self.backlog,
            drops: &mut self.drops,
            no_port: &mut self.no_port,
        }
    }

    /// Queues a copy of `data` for port `port` ([`Tx::send`]); call [`PortSet::flush`] to
    /// send what is queued.
    pub fn send(&mut self, port: usize, data: &[u8]) -> bool {
        self.tx().send(port, data)
    }

    /// Sends what the backlogs hold, in order; frames that meet a full TX queue stay for the
    /// next call.
    pub fn flush(&mut self) -> io::Result<()> {
        for (port, q) in self.ports.iter_mut().zip(&mut self.backlog) {
            if !q.is_empty() {
                port.tx_burst(q, &mut self.pool)?;
            }
        }
        Ok(())
    }

    /// True while frames wait for TX room (or in a ring that moves only when poked).
    pub fn tx_pending(&self) -> bool {
        self.backlog.iter().any(|q| !q.is_empty()) || self.ports.iter().any(|p| p.tx_stalled())
    }

    /// Sleeps until a port has frames, the poller's timer reaches `deadline_ns`
    /// (CLOCK_MONOTONIC, [`crate::now_ns`]) or `timeout` passes; only naps briefly while TX
    /// frames wait for room or a port cannot be polled.
    pub fn wait(&mut self, deadline_ns: Option<u64>, timeout: Duration) -> io::Result<()> {
        if self.tx_pending() || !self.pollable {
            std::thread::sleep(timeout.min(TX_RETRY_NAP));
            return Ok(());
        }
        self.poller.arm(deadline_ns)?;
        let mut ready = [0u64; 8];
        self.poller.wait(&mut ready, timeout)?;
        Ok(())
    }

    /// Receives until a frame for which `f` returns `Some` arrives or `timeout` passes,
    /// flushing queued TX meanwhile; frames `f` refuses are dropped, frames received after the
    /// one it takes stay for the next call. A blocking receive for request/response exchanges
    /// (probes, test peers).
    pub fn recv_until<T>(
        &mut self,
        timeout: Duration,
        mut f: impl FnMut(usize, &[u8]) -> Option<T>,
    ) -> io::Result<Option<T>> {
        let end = crate::now_ns().saturating_add(timeout.as_nanos() as u64);
        loop {
            self.flush()?;
            while let Some((i, fr)) = self.stash.pop_front() {
                let got = f(i, fr.as_ref());
                self.pool.put(fr);
                if got.is_some() {
                    return Ok(got);
                }
            }
            let mut n = 0;
            for (i, port) in self.ports.iter_mut().enumerate() {
                n += port.rx_burst(&mut self.pool, &mut self.rx, 64)?;
                self.stash.extend(self.rx.drain(..).map(|fr| (i, fr)));
            }
            if n > 0 {
                continue;
            }
            let now = crate::now_ns();
            if now >= end {
                return Ok(None);
            }
            self.wait(
                None,
                Duration::from_nanos(end - now).min(Duration::from_millis(10)),
            )?;
        }
    }

    /// Flushes until the backlogs are empty or `limit` passes (shutdown); what is left is
    /// dropped and counted in `tx_backlog_full`.
    pub fn drain(&mut self, limit: Duration) -> io::Result<()> {
        let end = crate::now_ns().saturating_add(limit.as_nanos() as u64);
        loop {
            self.flush()?;
            if !self.tx_pending() || crate::now_ns() >= end {
                break;
            }
            std::thread::sleep(TX_RETRY_NAP);
        }
        for (q, d) in self.backlog.iter_mut().zip(&mut self.drops) {
            d.tx_backlog_full += q.len() as u64;
            for f in q.drain(..) {
                self.pool.put(f);
            }
        }
        Ok(())
    }

    /// Counters of port `i`.
    pub fn counters(&mut self, i: usize) -> Option<SetCounters> {
        let port = self.ports.get_mut(i)?.counters();
        let d = self.drops.get(i)?;
        Some(SetCounters { port, ..*d })
    }

    /// Frames handed to [`Tx::send`] for a port the set does not have.
    pub fn tx_no_port(&self) -> u64 {
        self.no_port
    }

    /// Frame buffers ever allocated (steady once the pool covers the frames in flight).
    pub fn buffers_allocated(&self) -> usize {
        self.pool.allocated()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::MemPort;
    use crate::port::{RxPort, TxPort};
    use std::os::fd::RawFd;

    /// A port whose TX queue is always full.
    #[derive(Debug)]
    struct Stuck;
    impl RxPort for Stuck {
        fn rx_burst(
            &mut self,
            _: &mut FramePool,
            _: &mut Vec<Frame>,
            _: usize,
        ) -> io::Result<usize> {
            Ok(0)
        }
        fn rx_fd(&self) -> Option<RawFd> {
            None
        }
    }
    impl TxPort for Stuck {
        fn tx_burst(&mut self, _: &mut Vec<Frame>, _: &mut FramePool) -> io::Result<usize> {
            Ok(0)
        }
    }
    impl Port for Stuck {
        fn name(&self) -> &str {
            "stuck"
        }
        fn counters(&mut self) -> PortCounters {
            PortCounters::default()
        }
    }

    #[test]
    fn a_bare_interface_name_is_afpacket() {
        assert_eq!(port_spec("eth0").unwrap().to_string(), "afpacket:eth0");
        assert_eq!(port_spec("xdp:eth0").unwrap().kind, PortKind::Xdp);
        assert!(port_spec("tap:x").unwrap_err().contains("unknown kind"));
        assert!(port_spec("a/b").is_err());
    }

    #[test]
    fn replies_leave_in_order_without_new_buffers() {
        let frames: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i; 60 + usize::from(i)]).collect();
        let port: Box<dyn Port> = Box::new(MemPort::new("echo", frames.clone(), 1000, 1000));
        let mut set = PortSet::new(vec![port], 128).unwrap();
        let mut seen = 0;
        while seen < 1000 {
            seen += set.poll_rx(32, |i, f, tx| assert!(tx.send(i, f))).unwrap();
            set.flush().unwrap();
        }
        let c = set.counters(0).unwrap();
        assert_eq!((c.port.rx_packets, c.port.tx_packets), (1000, 1000));
        assert_eq!((c.tx_backlog_full, c.tx_oversize), (0, 0));
        // The pool's first buffers were enough: nothing allocated per packet.
        assert_eq!(set.buffers_allocated(), 256);
    }

    #[test]
    fn recv_until_keeps_the_frames_after_the_one_it_takes() {
        let frames: Vec<Vec<u8>> = (1..=5u8).map(|i| vec![i; 60]).collect();
        let port: Box<dyn Port> = Box::new(MemPort::new("rx", frames, 5, 0));
        let mut set = PortSet::new(vec![port], 128).unwrap();
        let t = Duration::from_millis(1);
        let first = |_: usize, f: &[u8]| (f[0] == 2).then_some(2);
        assert_eq!(set.recv_until(t, first).unwrap(), Some(2));
        assert_eq!(set.recv_until(t, |_, f| Some(f[0])).unwrap(), Some(3));
        let mut rest = Vec::new();
        set.poll_rx(8, |_, f, _| rest.push(f[0])).unwrap();
        assert_eq!(rest, [4, 5]);
        assert_eq!(set.recv_until(t, |_, f| Some(f[0])).unwrap(), None);
    }

    #[test]
    fn full_queue_is_retried_then_counted_and_bad_sends_are_counted() {
        let mut set = PortSet::new(vec![Box::new(Stuck)], 64).unwrap();
        for _ in 0..TX_BACKLOG + 3 {
            set.send(0, &[1; 60]);
            set.flush().unwrap();
        }
        assert!(set.tx_pending());
        assert!(!set.send(0, &[1; 65]));
        assert!(!set.send(1, &[1; 60]));
        assert_eq!(set.tx_no_port(), 1);
        let c = set.counters(0).unwrap();
        assert_eq!((c.tx_backlog_full, c.tx_oversize), (3, 1));
        set.drain(Duration::from_millis(1)).unwrap();
        assert!(!set.tx_pending());
        let c = set.counters(0).unwrap();
        assert_eq!(c.tx_backlog_full, TX_BACKLOG as u64 + 3);
    }
}
