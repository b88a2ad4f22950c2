//! The only place with `unsafe`: raw Linux system calls (AF_PACKET rings, AF_XDP sockets and
//! the bpf(2) calls behind them, epoll, timerfd, CPU affinity, the monotonic clock). Each function wraps one concern behind a safe API.
#![allow(unsafe_code)]

pub(crate) mod afpacket;
pub(crate) mod bpf;
#[cfg(feature = "dpdk")]
pub(crate) mod dpdk;
pub(crate) mod os;
pub(crate) mod xsk;
