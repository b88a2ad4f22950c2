//! Starts the DPDK ports of a run (feature `dpdk`): EAL init with `--dpdk-args`, then each
//! `dpdk:` port with one queue pair per worker.

use anyhow::Context;
use reframer_io::{
    dpdk::{init_eal, DpdkDevice},
    Port, PortKind, PortSpec,
};

use crate::options::LiveOptions;

/// The started DPDK devices of this run, by port index.
pub(crate) struct Prepared {
    devs: [Option<DpdkDevice>; 2],
    frame_bytes: usize,
}

pub(crate) fn prepare(opts: &LiveOptions) -> anyhow::Result<Prepared> {
    let mut devs = [None, None];
    if opts.ports.iter().any(|p| p.kind == PortKind::Dpdk) {
        init_eal(&opts.dpdk_args)?;
        for (i, spec) in opts.ports.iter().enumerate() {
            if spec.kind == PortKind::Dpdk {
                devs[i] = Some(DpdkDevice::start(&spec.name, opts.workers() as u16)?);
            }
        }
    }
    Ok(Prepared {
        devs,
        frame_bytes: opts.frame_bytes,
    })
}

impl Prepared {
    /// Worker `worker`'s queue on port `index` (0 = A, 1 = B).
    pub(crate) fn queue(
        &self,
        index: usize,
        spec: &PortSpec,
        worker: usize,
    ) -> anyhow::Result<Box<dyn Port>> {
        let dev = self.devs[index]
            .as_ref()
            .with_context(|| format!("{spec}: not started"))?;
        Ok(Box::new(dev.queue(worker as u16, self.frame_bytes)))
    }
}
