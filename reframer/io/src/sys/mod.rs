//! The only place with `unsafe`: raw Linux system calls (AF_PACKET rings, epoll, timerfd,
//! CPU affinity, the monotonic clock). Each function wraps one concern behind a safe API.
#![allow(unsafe_code)]

pub(crate) mod afpacket;
#[cfg(feature = "dpdk")]
pub(crate) mod dpdk;
pub(crate) mod os;
