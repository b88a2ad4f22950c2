//! The libibverbs backend (rdma-sys), set up as the original Ribosome agent does: one PD, one
//! CQ that is never polled, one MR with remote READ/WRITE, and RC QPs taken
//! RESET->INIT->RTR->RTS with path MTU 4096, 16 outstanding READs, PSNs 0, and the
//! destination QPN set to the switch-side global index. The switch poses as the RDMA client,
//! so the address vector points at its fake IPv4 (an IPv4-mapped RoCEv2 GID).
//!
//! On machines without an RDMA device `ibv_get_device_list` returns NULL (ENOSYS when the
//! kernel has no InfiniBand support); [`VerbsTransport::open`] turns that into one line:
//! `no RDMA device: ibv_get_device_list failed: Function not implemented (os error 38)`.

mod sys;

use crate::{MemoryInfo, RdmaTransport, TransportError};
use rdma_sys::{ibv_access_flags, ibv_gid, ibv_mtu, ibv_qp_attr_mask as M, ibv_qp_state};
use std::net::Ipv4Addr;

/// How to open the device and connect QPs.
#[derive(Debug, Clone)]
pub struct VerbsConfig {
    /// Device name (e.g. `mlx5_0`); `None` takes the first.
    pub device: Option<String>,
    /// Physical port, 1-based.
    pub port: u8,
    /// Source GID index; `None` looks for the RoCEv2 GID holding `local_ip`.
    pub gid_index: Option<u8>,
    /// The server's IPv4 (to find the GID).
    pub local_ip: Ipv4Addr,
    /// The switch's fake client IPv4 (192.168.40.254 in the original).
    pub switch_ip: Ipv4Addr,
    /// Responder resources for READ (max_dest_rd_atomic) and initiator depth.
    pub max_rd_atomic: u8,
}

/// The verbs backend. Field order is drop order: QPs, CQ, MRs, PD, device.
#[derive(Debug)]
pub struct VerbsTransport {
    qps: Vec<(sys::Qp, u32)>,
    cq: sys::Cq,
    mrs: Vec<sys::Mr>,
    pd: sys::Pd,
    /// Held only so it is closed last.
    _ctx: sys::Context,
    cfg: VerbsConfig,
    gid_index: u8,
    device: String,
}

fn err(e: impl std::fmt::Display) -> TransportError {
    TransportError::Verbs(e.to_string())
}

fn dev_err(e: impl std::fmt::Display) -> TransportError {
    TransportError::Device(e.to_string())
}

impl VerbsTransport {
    /// Opens the device, checks the port is ACTIVE, picks the GID, and allocates PD and CQ.
    pub fn open(cfg: VerbsConfig) -> Result<Self, TransportError> {
        let list = sys::DeviceList::get().map_err(|e| dev_err(format!("no RDMA device: {e}")))?;
        let names = list.names();
        if names.is_empty() {
            return Err(dev_err(
                "no RDMA device: ibv_get_device_list returned no devices",
            ));
        }
        let idx = match &cfg.device {
            None => 0,
            Some(want) => names.iter().position(|n| n == want).ok_or_else(|| {
                dev_err(format!(
                    "RDMA device {want} not found (have: {})",
                    names.join(", ")
                ))
            })?,
        };
        let device = names.get(idx).cloned().unwrap_or_default();
        let ctx = list
            .open(idx)
            .map_err(|e| dev_err(format!("{device}: {e}")))?;
        drop(list);
        let port = ctx
            .query_port(cfg.port)
            .map_err(|e| dev_err(format!("{device} port {}: ibv_query_port: {e}", cfg.port)))?;
        if port.state != rdma_sys::ibv_port_state::IBV_PORT_ACTIVE {
            return Err(dev_err(format!(
                "{device} port {} is not ACTIVE (state {})",
                cfg.port, port.state
            )));
        }
        let gid_index = match cfg.gid_index {
            Some(i) => i,
            None => find_gid(&ctx, &device, cfg.port, port.gid_tbl_len, cfg.local_ip)?,
        };
        let pd = ctx.alloc_pd().map_err(|e| err(format!("{device}: {e}")))?;
        let cq = ctx
            .create_cq(16)
            .map_err(|e| err(format!("{device}: {e}")))?;
        Ok(Self {
            qps: Vec::new(),
            cq,
            mrs: Vec::new(),
            pd,
            _ctx: ctx,
            cfg,
            gid_index,
            device,
        })
    }

    /// The device in use.
    pub fn device(&self) -> &str {
        &self.device
    }

    fn connect(&self, qp: &sys::Qp, dest: u32) -> Result<(), TransportError> {
        let mut a = sys::qp_attr();
        a.qp_state = ibv_qp_state::IBV_QPS_RESET;
        qp.modify(&mut a, M::IBV_QP_STATE.0, "RESET").map_err(err)?;

        let mut a = sys::qp_attr();
        a.qp_state = ibv_qp_state::IBV_QPS_INIT;
        a.pkey_index = 0;
        a.port_num = self.cfg.port;
        a.qp_access_flags = ibv_access_flags::IBV_ACCESS_REMOTE_WRITE.0
            | ibv_access_flags::IBV_ACCESS_REMOTE_READ.0;
        let mask = M::IBV_QP_STATE.0
            | M::IBV_QP_PKEY_INDEX.0
            | M::IBV_QP_PORT.0
            | M::IBV_QP_ACCESS_FLAGS.0;
        qp.modify(&mut a, mask, "INIT").map_err(err)?;

        let mut a = sys::qp_attr();
        a.qp_state = ibv_qp_state::IBV_QPS_RTR;
        a.path_mtu = ibv_mtu::IBV_MTU_4096;
        a.dest_qp_num = dest;
        a.rq_psn = 0;
        a.max_dest_rd_atomic = self.cfg.max_rd_atomic;
        a.min_rnr_timer = 0;
        a.ah_attr.is_global = 1;
        a.ah_attr.port_num = self.cfg.port;
        a.ah_attr.grh.dgid = ibv_gid {
            raw: mapped_gid(self.cfg.switch_ip),
        };
        a.ah_attr.grh.sgid_index = self.gid_index;
        a.ah_attr.grh.hop_limit = 64;
        let mask = M::IBV_QP_STATE.0
            | M::IBV_QP_AV.0
            | M::IBV_QP_PATH_MTU.0
            | M::IBV_QP_DEST_QPN.0
            | M::IBV_QP_RQ_PSN.0
            | M::IBV_QP_MAX_DEST_RD_ATOMIC.0
            | M::IBV_QP_MIN_RNR_TIMER.0;
        qp.modify(&mut a, mask, "RTR").map_err(err)?;

        let mut a = sys::qp_attr();
        a.qp_state = ibv_qp_state::IBV_QPS_RTS;
        a.timeout = 0;
        a.retry_cnt = 7;
        a.rnr_retry = 7;
        a.sq_psn = 0;
        a.max_rd_atomic = self.cfg.max_rd_atomic;
        let mask = M::IBV_QP_STATE.0
            | M::IBV_QP_TIMEOUT.0
            | M::IBV_QP_RETRY_CNT.0
            | M::IBV_QP_RNR_RETRY.0
            | M::IBV_QP_SQ_PSN.0
            | M::IBV_QP_MAX_QP_RD_ATOMIC.0;
        qp.modify(&mut a, mask, "RTS").map_err(err)
    }
}

/// `::ffff:a.b.c.d`, the RoCEv2 GID of an IPv4 address.
pub fn mapped_gid(ip: Ipv4Addr) -> [u8; 16] {
    ip.to_ipv6_mapped().octets()
}

/// The RoCEv2 GID index holding `ip` (sysfs tells the GID type).
fn find_gid(
    ctx: &sys::Context,
    device: &str,
    port: u8,
    table_len: i32,
    ip: Ipv4Addr,
) -> Result<u8, TransportError> {
    let want = mapped_gid(ip);
    for i in 0..table_len.clamp(0, 256) {
        let Ok(gid) = ctx.query_gid(port, i) else {
            continue;
        };
        let kind = std::fs::read_to_string(format!(
            "/sys/class/infiniband/{device}/ports/{port}/gid_attrs/types/{i}"
        ))
        .unwrap_or_default();
        if gid == want && kind.trim() == "RoCE v2" {
            return u8::try_from(i).map_err(err);
        }
    }
    Err(dev_err(format!(
        "{device} port {port}: no RoCE v2 GID for {ip}; give --gid-index"
    )))
}

impl RdmaTransport for VerbsTransport {
    fn backend(&self) -> &'static str {
        "verbs"
    }

    fn register_memory(&mut self, len: u64) -> Result<MemoryInfo, TransportError> {
        let n = usize::try_from(len).map_err(|_| TransportError::MemoryTooLarge(len))?;
        let buf = vec![0u8; n].into_boxed_slice();
        let mr = self
            .pd
            .reg_mr(buf)
            .map_err(|e| err(format!("{}: {e}", self.device)))?;
        let (va, rkey, len) = mr.info();
        self.mrs.push(mr);
        Ok(MemoryInfo { va, rkey, len })
    }

    fn create_qp(&mut self, dest_qpn: u32) -> Result<u32, TransportError> {
        let qp = self.pd.create_rc_qp(&self.cq, 256).map_err(err)?;
        self.connect(&qp, dest_qpn)?;
        let qpn = qp.qp_num();
        self.qps.push((qp, dest_qpn));
        Ok(qpn)
    }

    fn reset_qp(&mut self, qpn: u32) -> Result<(), TransportError> {
        let (qp, dest) = self
            .qps
            .iter()
            .find(|(q, _)| q.qp_num() == qpn)
            .ok_or(TransportError::NoSuchQp(qpn))?;
        self.connect(qp, *dest)
    }

    fn on_frame(&mut self, _frame: &[u8], _tx: &mut dyn FnMut(&[u8])) {
        // The NIC serves RoCEv2 itself.
    }
}
