//! Safe wrappers over epoll, timerfd, `clock_gettime` and `sched_setaffinity`.

use std::{
    io,
    os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd},
    time::Duration,
};

/// CLOCK_MONOTONIC in nanoseconds: the clock the scheduler and the timerfd share.
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Pins the calling thread to one CPU.
pub fn pin_current_thread(cpu: usize) -> io::Result<()> {
    if cpu >= libc::CPU_SETSIZE as usize {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cpu {cpu} out of range"),
        ));
    }
    // SAFETY: cpu_set_t is plain data; zeroed is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `cpu` < CPU_SETSIZE was checked above.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: `set` is a valid cpu_set_t of the size passed; pid 0 is the calling thread.
    let rc = unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// CPU time (user + system) used by the whole process, in nanoseconds.
pub fn process_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn cvt(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// epoll over the ports' descriptors plus a one-shot timerfd armed at the next scheduler
/// deadline: what an idle worker sleeps on.
#[derive(Debug)]
pub struct Poller {
    epoll: OwnedFd,
    timer: OwnedFd,
    armed_at: Option<u64>,
}

/// The token `Poller::wait` reports for the timer.
pub const TIMER_TOKEN: u64 = u64::MAX;

impl Poller {
    /// A new poller with its timer registered.
    pub fn new() -> io::Result<Self> {
        // SAFETY: plain syscall; the returned fd is checked and then owned.
        let ep = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: `ep` is a fresh descriptor we own.
        let epoll = unsafe { OwnedFd::from_raw_fd(ep) };
        // SAFETY: plain syscall; the returned fd is checked and then owned.
        let t = cvt(unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        })?;
        // SAFETY: `t` is a fresh descriptor we own.
        let timer = unsafe { OwnedFd::from_raw_fd(t) };
        let p = Self {
            epoll,
            timer,
            armed_at: None,
        };
        p.add(p.timer.as_raw_fd(), TIMER_TOKEN)?;
        Ok(p)
    }

    /// Watches `fd` for readability, reporting `token`.
    pub fn add(&self, fd: RawFd, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: token,
        };
        // SAFETY: `ev` is a valid epoll_event; the kernel validates both descriptors.
        cvt(unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) })?;
        Ok(())
    }

    /// Arms the timer at absolute CLOCK_MONOTONIC time `at_ns`, or disarms it with `None`.
    pub fn arm(&mut self, at_ns: Option<u64>) -> io::Result<()> {
        if self.armed_at == at_ns {
            return Ok(());
        }
        // A zero it_value disarms; an absolute time in the past fires at once.
        let v = at_ns.map_or(0, |t| t.max(1));
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: (v / 1_000_000_000) as libc::time_t,
                tv_nsec: (v % 1_000_000_000) as libc::c_long,
            },
        };
        // SAFETY: `spec` is a valid itimerspec; the old value pointer may be null.
        cvt(unsafe {
            libc::timerfd_settime(
                self.timer.as_raw_fd(),
                libc::TFD_TIMER_ABSTIME,
                &spec,
                std::ptr::null_mut(),
            )
        })?;
        self.armed_at = at_ns;
        Ok(())
    }

    /// Sleeps until a watched descriptor is readable, the timer fires, or `timeout` passes.
    /// Returns the number of ready tokens written into `ready`.
    pub fn wait(&mut self, ready: &mut [u64], timeout: Duration) -> io::Result<usize> {
        let mut evs = [libc::epoll_event { events: 0, u64: 0 }; 8];
        let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
        // SAFETY: `evs` is a writable array of 8 epoll_events and we pass its length.
        let n = unsafe { libc::epoll_wait(self.epoll.as_raw_fd(), evs.as_mut_ptr(), 8, ms) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted {
                Ok(0)
            } else {
                Err(e)
            };
        }
        let mut k = 0;
        for ev in &evs[..n as usize] {
            let tok = ev.u64;
            if tok == TIMER_TOKEN {
                let mut buf = [0u8; 8];
                // SAFETY: reading 8 bytes into an 8-byte buffer; nonblocking fd.
                unsafe { libc::read(self.timer.as_raw_fd(), buf.as_mut_ptr().cast(), 8) };
                self.armed_at = None;
            }
            if k < ready.len() {
                ready[k] = tok;
                k += 1;
            }
        }
        Ok(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_fires_at_deadline() {
        let mut p = Poller::new().unwrap();
        let t0 = now_ns();
        p.arm(Some(t0 + 2_000_000)).unwrap();
        let mut ready = [0u64; 4];
        let mut got = 0;
        while got == 0 {
            got = p.wait(&mut ready, Duration::from_millis(500)).unwrap();
        }
        let dt = now_ns() - t0;
        assert_eq!(ready[0], TIMER_TOKEN);
        assert!((2_000_000..400_000_000).contains(&dt), "woke after {dt} ns");
        // Disarmed: a short wait now times out with nothing ready.
        assert_eq!(p.wait(&mut ready, Duration::from_millis(5)).unwrap(), 0);
    }
}
