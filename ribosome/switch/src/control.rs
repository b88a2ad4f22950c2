//! Registration learned in the data path, QP restore, liveness, and the control-plane timer
//! (restore marking and overload hysteresis, `setup.py`'s 1-s timers).

use crate::pipeline::{Out, Switch};
use crate::reassembly::LossKind;
use ribosome_wire::control::{write_control, Auth, ControlMsg, ParsedControl};

impl Switch {
    /// A 0x1234 frame from a server port: authenticated, then written into the registers.
    /// (0x4321 frames travel switch->server only; one arriving here is refused.)
    pub(crate) fn registration(&mut self, port: crate::PortId, frame: &[u8]) {
        let Ok(parsed) = ParsedControl::parse(frame) else {
            self.counters.registrations_rejected += 1;
            return;
        };
        let Ok(msg) = self.verifier.check(&parsed) else {
            self.counters.registrations_rejected += 1;
            return;
        };
        let qps = self.cfg.qps_per_server;
        let signer = parsed.auth.map(|(a, _)| a.server_index);
        let ok = match msg {
            ControlMsg::QpInfo {
                enable_timer,
                global_index,
                qpn,
            } => {
                let idx = usize::from(global_index);
                let server = global_index / qps;
                if idx >= self.qps.len() || signer.is_some_and(|s| s != server) {
                    false
                } else {
                    self.fail_reads(idx, LossKind::QpFailed);
                    let q = &mut self.qps[idx];
                    q.qpn = Some(qpn);
                    q.enabled = enable_timer;
                    q.restore = false;
                    q.psn = 0;
                    true
                }
            }
            ControlMsg::MemInfo {
                server_index,
                va,
                rkey,
            } => match self.servers.get_mut(usize::from(server_index)) {
                Some(s) => {
                    s.base_va = Some(va);
                    s.rkey = rkey;
                    s.log_offset = 0;
                    true
                }
                None => false,
            },
            ControlMsg::EthInfo {
                server_index,
                mac,
                ip,
            } => match self.servers.get_mut(usize::from(server_index)) {
                Some(s) => {
                    s.addr = Some((mac, ip, port));
                    s.unanswered_since = None;
                    if s.dead {
                        s.dead = false;
                        self.counters.servers_revived += 1;
                    }
                    self.refresh_members(usize::from(server_index));
                    true
                }
                None => false,
            },
            ControlMsg::QpRefresh { .. } => false,
        };
        if ok {
            self.counters.registrations += 1;
            // Any authenticated word from a dead server's QP means it is back.
            if let ControlMsg::QpInfo { global_index, .. } = msg {
                let s = usize::from(global_index / qps);
                if self.servers[s].dead && self.servers[s].addr.is_some() {
                    self.servers[s].dead = false;
                    self.servers[s].unanswered_since = None;
                    self.counters.servers_revived += 1;
                    self.refresh_members(s);
                }
            }
        } else {
            self.counters.registrations_rejected += 1;
        }
    }

    /// Member status of server `s` follows "alive and not overloaded".
    pub(crate) fn refresh_members(&mut self, s: usize) {
        let q = usize::from(self.cfg.qps_per_server);
        let st = &self.servers[s];
        let on = !st.dead && !st.overloaded;
        self.selector.set_range(s * q..(s + 1) * q, on);
    }

    /// The QP-restore mirror rewritten into a 0x4321 frame for the server.
    pub(crate) fn send_refresh(&mut self, server_idx: usize, qp_idx: usize, out: &mut Out) {
        let Some((mac, _, port)) = self.servers[server_idx].addr else {
            return;
        };
        let msg = ControlMsg::QpRefresh {
            global_index: qp_idx as u16,
        };
        let auth = Auth {
            server_index: server_idx as u16,
            seq: self.refresh_seq.next_seq(),
        };
        let mut f = out.buffer(80);
        write_control(
            mac,
            self.cfg.switch_mac,
            &msg,
            self.cfg.key.as_ref().map(|k| (k, auth)),
            &mut f,
        );
        self.counters.refreshes += 1;
        out.push((port, f));
    }

    /// Advances time: liveness every call, the control-plane timer every
    /// `control_period_ns`. Call it at least every few milliseconds.
    pub fn tick(&mut self, now: u64, out: &mut Out) {
        for s in 0..self.servers.len() {
            let st = &self.servers[s];
            let stale = st
                .unanswered_since
                .is_some_and(|t| now.saturating_sub(t) > self.cfg.liveness_timeout_ns);
            if stale && !st.dead {
                self.take_out(s);
            }
        }
        let due = *self.next_control_ns.get_or_insert(now);
        if now < due {
            self.flush_ordered(out);
            return;
        }
        self.next_control_ns = Some(now + self.cfg.control_period_ns);
        self.control_period(out);
        self.flush_ordered(out);
    }

    /// Liveness failure: members off, QPs disabled, READs in flight lost.
    fn take_out(&mut self, s: usize) {
        self.servers[s].dead = true;
        self.servers[s].unanswered_since = None;
        self.counters.servers_dead += 1;
        self.refresh_members(s);
        let q = usize::from(self.cfg.qps_per_server);
        for i in s * q..(s + 1) * q {
            self.qps[i].enabled = 0;
            self.fail_reads(i, LossKind::Unanswered);
        }
    }

    fn control_period(&mut self, out: &mut Out) {
        let period = self.cfg.control_period_ns.max(1);
        let q = usize::from(self.cfg.qps_per_server);
        for s in 0..self.servers.len() {
            // set_restore_qp: disabled QPs with a known QPN get a refresh on their next packet.
            for i in s * q..(s + 1) * q {
                let qp = &mut self.qps[i];
                if qp.enabled == 0 && qp.qpn.is_some() {
                    qp.restore = true;
                }
            }
            // A dead server is probed with a refresh of its first QP: a live agent answers
            // with QP info, which revives it.
            if self.servers[s].dead {
                self.send_refresh(s, s * q, out);
            }
            let bytes = std::mem::take(&mut self.servers[s].tx_bytes);
            let Some(o) = self.cfg.overload else { continue };
            let bps = (u128::from(bytes) * 8 * 1_000_000_000 / u128::from(period)) as u64;
            let st = &mut self.servers[s];
            if !st.overloaded && bps > o.high_bps {
                // Keep at least one member alive overall, as setup.py does.
                let others = self.selector.active_count()
                    - (s * q..(s + 1) * q)
                        .filter(|&m| self.selector.is_active(m))
                        .count();
                if others > 0 {
                    st.overloaded = true;
                    self.counters.overload_off += 1;
                    self.refresh_members(s);
                }
            } else if st.overloaded && bps < o.low_bps {
                st.overloaded = false;
                self.counters.overload_on += 1;
                self.refresh_members(s);
            }
        }
    }
}
