//! Opens each worker's handles on the ports (two, or one for the one-armed NF host).

use reframer_io::{
    afpacket::AfPacketPort,
    xdp::{XdpAttachment, XdpPort},
    Port, PortKind, PortSpec,
};

use crate::{
    error::{PortError, RunError},
    options::LiveOptions,
};

/// A fanout group id per interface, unique to this process (groups are per network namespace).
fn fanout_id(port_index: usize) -> u16 {
    ((std::process::id() as u16) << 1) ^ (port_index as u16)
}

/// Opens `workers` handle sets [A, B] (or [A]). All errors name the port.
pub(crate) fn open_all(opts: &LiveOptions) -> Result<Vec<Vec<Box<dyn Port>>>, RunError> {
    let workers = opts.workers();
    #[cfg(feature = "dpdk")]
    let dpdk = crate::dpdk::prepare(opts)?;
    // One XDP program per xdp: interface, steering queue w to worker w.
    let mut xdp = [None, None];
    for (i, spec) in opts.ports.iter().enumerate() {
        if spec.kind == PortKind::Xdp {
            xdp[i] = Some(
                XdpAttachment::attach(&spec.name, workers as u32, &opts.xdp)
                    .map_err(PortError::Io)?,
            );
        }
    }
    let mut out = Vec::with_capacity(workers);
    for w in 0..workers {
        let open_one = |i: usize, spec: &PortSpec| -> Result<Box<dyn Port>, PortError> {
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
                PortKind::Xdp => {
                    let att = xdp[i].as_ref().expect("attached above");
                    let port = XdpPort::open(att, w as u32, &opts.xdp, opts.frame_bytes)?;
                    if w == 0 {
                        eprintln!(
                            "{spec}: AF_XDP, {} XDP, {} mode",
                            att.mode(),
                            port.copy_mode()
                        );
                        if let Some(q) = att.rx_queues().filter(|&q| q > workers) {
                            eprintln!(
                                "{spec}: warning: {q} RX queues but {workers} worker(s): frames \
                                 on queues {workers}..{q} reach the kernel stack, not Reframer \
                                 (use one worker per queue, or `ethtool -L {} combined \
                                 {workers}`)",
                                spec.name
                            );
                        }
                    }
                    Box::new(port)
                }
                PortKind::Dpdk => {
                    #[cfg(feature = "dpdk")]
                    {
                        dpdk.queue(i, spec, w)?
                    }
                    #[cfg(not(feature = "dpdk"))]
                    {
                        let _ = w;
                        return Err(PortError::NoDpdk(spec.clone()));
                    }
                }
            })
        };
        let ctx = |err: PortError| {
            if w == 0 {
                RunError::Port(err)
            } else {
                RunError::WorkerPort { worker: w, err }
            }
        };
        let handles = opts
            .ports
            .iter()
            .enumerate()
            .map(|(i, spec)| open_one(i, spec).map_err(ctx))
            .collect::<Result<Vec<_>, _>>()?;
        out.push(handles);
    }
    Ok(out)
}
