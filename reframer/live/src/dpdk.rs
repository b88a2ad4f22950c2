//! Starts the DPDK ports of a run (feature `dpdk`): EAL init with `--dpdk-args`, then each
//! `dpdk:` port with one queue pair per worker.

use reframer_io::{
    dpdk::{init_eal, DpdkDevice},
    Port, PortKind, PortSpec,
};

use crate::{error::PortError, options::LiveOptions};

/// The started DPDK devices of this run, by port index.
pub(crate) struct Prepared {
    devs: [Option<DpdkDevice>; 2],
    frame_bytes: usize,
}

pub(crate) fn prepare(opts: &LiveOptions) -> Result<Prepared, PortError> {
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
    ) -> Result<Box<dyn Port>, PortError> {
        let dev = self.devs[index]
            .as_ref()
            .ok_or_else(|| PortError::NotStarted(spec.clone()))?;
        Ok(Box::new(dev.queue(worker as u16, self.frame_bytes)))
    }
}
