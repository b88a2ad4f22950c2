//! Driving a scheduler on a clock that jumps (a capture's timestamps, a trace's virtual
//! time): every window due by a time is released at its own deadline, in order, and handed
//! out with that time. One loop for the offline mode, the demo and the evaluation.

use crate::Scheduler;

impl<P: AsRef<[u8]> + AsMut<[u8]>> Scheduler<P> {
    /// Advances the clock to `until`: each pending deadline `d <= until` is polled at `d`
    /// and what it released is handed to `sink(packet, d)` in output order, through `buf`
    /// (a caller-owned batch buffer, so nothing is allocated here). Packets the scheduler
    /// discarded stay in [`Self::pop_discarded`]. Stops at the first error of `sink`.
    ///
    /// A window that a poll at its deadline did not release is polled again 1 ns later (and
    /// the loop stops there rather than spin), so the call always ends.
    pub fn advance_to<E>(
        &mut self,
        until: u64,
        buf: &mut Vec<P>,
        mut sink: impl FnMut(P, u64) -> Result<(), E>,
    ) -> Result<(), E> {
        while let Some(d) = self.next_deadline().filter(|&d| d <= until) {
            self.poll(d);
            self.hand_out(d, buf, &mut sink)?;
            if self.next_deadline() == Some(d) && d < until {
                self.poll(d + 1);
                self.hand_out(d + 1, buf, &mut sink)?;
            }
            if self.next_deadline() == Some(d) {
                break;
            }
        }
        Ok(())
    }

    /// Hands every packet waiting for TX to `sink(packet, at)`, oldest first, through `buf`
    /// (see [`Self::advance_to`]).
    pub fn hand_out<E>(
        &mut self,
        at: u64,
        buf: &mut Vec<P>,
        mut sink: impl FnMut(P, u64) -> Result<(), E>,
    ) -> Result<(), E> {
        while self.pop_tx_batch(buf) > 0 {
            for p in buf.drain(..) {
                sink(p, at)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::frames::FrameSpec;
    use crate::{Config, Scheduler};
    use std::convert::Infallible;

    fn udp(sport: u16) -> Vec<u8> {
        FrameSpec::udp([10, 0, 0, 1].into(), [10, 0, 0, 2].into(), sport, 53, 10).build()
    }

    /// A sink that records (source port, release time).
    fn record(
        out: &mut Vec<(u16, u64)>,
    ) -> impl FnMut(Vec<u8>, u64) -> Result<(), Infallible> + '_ {
        |p, at| {
            out.push((u16::from_be_bytes([p[34], p[35]]), at));
            Ok(())
        }
    }

    #[test]
    fn windows_leave_at_their_own_deadlines_in_order() {
        let cfg = Config {
            delay_ns: 1_000,
            first_packet_bypass: false,
            ..Config::default()
        };
        let mut s: Scheduler<Vec<u8>> = Scheduler::new(cfg).unwrap();
        let mut buf = Vec::new();
        let mut out: Vec<(u16, u64)> = Vec::new();
        for (t, sport) in [(0, 1), (100, 2), (200, 1), (5_000, 3)] {
            let Ok(()) = s.advance_to(t, &mut buf, record(&mut out));
            s.push(udp(sport), t);
            let Ok(()) = s.hand_out(t, &mut buf, record(&mut out));
        }
        assert_eq!(out, [(1, 1_000), (1, 1_000), (2, 1_100)]);
        let Ok(()) = s.advance_to(u64::MAX, &mut buf, record(&mut out));
        assert_eq!(out.last(), Some(&(3, 6_000)));
        assert_eq!(out.len(), 4);
        assert_eq!(s.next_deadline(), None);
        // Errors stop the hand-out and come back.
        s.push(udp(4), 7_000);
        assert_eq!(
            s.advance_to(u64::MAX, &mut buf, |_, at| Err(at)),
            Err(8_000)
        );
    }
}
