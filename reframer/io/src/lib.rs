//! Packet I/O for Reframer: the [`Port`] traits every live backend implements, owned recycled
//! [`Frame`] buffers, and the backends: AF_PACKET (TPACKET_V3), AF_XDP, DPDK (feature `dpdk`), and an
//! in-memory port. Also the epoll/timerfd [`Poller`] an idle worker sleeps on, and [`PortSet`],
//! the same ports and poller for a single-threaded daemon.

pub mod afpacket;
pub mod cli;
#[cfg(feature = "dpdk")]
pub mod dpdk;
pub mod frame;
pub mod mem;
pub mod outfile;
pub mod pcap;
pub mod port;
pub mod portset;
mod sys;
pub mod xdp;

pub use frame::{Frame, FramePool};
pub use port::{Port, PortCounters, PortKind, PortSpec, RxPort, TxPort};
pub use portset::{PortSet, SetCounters};
pub use sys::os::{now_ns, pin_current_thread, process_cpu_ns, Poller, TIMER_TOKEN};
