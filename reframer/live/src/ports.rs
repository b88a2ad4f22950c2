//! Opens each worker's handles on the two ports.

use anyhow::bail;
use reframer_io::{afpacket::AfPacketPort, Port, PortKind, PortSpec};

use crate::options::LiveOptions;

/// A fanout group id per interface, unique to this process (groups are per network namespace).
fn fanout_id(port_index: usize) -> u16 {
    ((std::process::id() as u16) << 1) ^ (port_index as u16)
}

/// Opens `workers` handle pairs [A, B]. All errors name the port.
pub(crate) fn open_all(opts: &LiveOptions) -> anyhow::Result<Vec<[Box<dyn Port>; 2]>> {
    let workers = opts.workers();
    #[cfg(feature = "dpdk")]
    let dpdk = crate::dpdk::prepare(opts)?;
    let mut out = Vec::with_capacity(workers);
    for w in 0..workers {
        let open_one = |i: usize, spec: &PortSpec| -> anyhow::Result<Box<dyn Port>> {
            Ok(match spec.kind {
                PortKind::AfPacket => {
                    let fan = (workers > 1).then(|| fanout_id(i));
                    Box::new(AfPacketPort::open(
                        &spec.name,
                        &opts.afpacket,
                        opts.frame_bytes,
                        fan,
                    )?)
                }
                PortKind::Xdp => bail!(
                    "{spec}: AF_XDP ports are not available in this build yet; use afpacket:{} \
                     (same interface, AF_PACKET) or dpdk with --vdev=net_af_xdp0,iface={}",
                    spec.name,
                    spec.name
                ),
                PortKind::Dpdk => {
                    #[cfg(feature = "dpdk")]
                    {
                        dpdk.queue(i, spec, w)?
                    }
                    #[cfg(not(feature = "dpdk"))]
                    {
                        let _ = w;
                        bail!(
                            "{spec}: this reframer was built without DPDK; rebuild with \
                             `cargo build --release --features dpdk` (needs libdpdk-dev >= 22.11)"
                        )
                    }
                }
            })
        };
        let ctx = |e: anyhow::Error| {
            if w == 0 {
                e
            } else {
                e.context(format!("worker {w}"))
            }
        };
        let a = open_one(0, &opts.ports[0]).map_err(ctx)?;
        let b = open_one(1, &opts.ports[1]).map_err(ctx)?;
        out.push([a, b]);
    }
    Ok(out)
}
