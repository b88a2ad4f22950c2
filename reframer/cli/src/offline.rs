//! Offline mode: pcap in, pcap out, the input timestamps as the clock. Deterministic: the
//! same input and settings give the same output, byte for byte.

use std::path::Path;
use std::time::Instant;

use reframer_core::{Config, Scheduler, Stats};
use reframer_io::pcap::{PcapReader, PcapWriter};
use ribosome_wire::NfCounts;

use crate::summary::{RunMode, Summary};

/// What the run did, beyond the scheduler's counters.
pub(crate) struct OfflineReport {
    pub(crate) stats: Stats,
    pub(crate) elapsed_s: f64,
    pub(crate) clamped_timestamps: u64,
    /// Ribosome mode: split headers and whole packets returned.
    pub(crate) ribosome: Option<NfCounts>,
}

/// One record of the input: its captured bytes and its wire length, which the output
/// record keeps (a snap-length capture stays one).
#[derive(Debug, Default)]
pub(crate) struct Pkt {
    data: Vec<u8>,
    orig_len: u32,
}

impl AsRef<[u8]> for Pkt {
    fn as_ref(&self) -> &[u8] {
        &self.data
    }
}

impl AsMut<[u8]> for Pkt {
    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }
}

/// The offline lines of the human summary (after the common ones).
pub(crate) fn print_human(r: &OfflineReport) {
    if r.clamped_timestamps > 0 {
        eprintln!(
            "clamped   {} input timestamps went backwards (taken as the latest time seen)",
            r.clamped_timestamps
        );
    }
}

/// Replays `input` through the scheduler into `output`. A snap-length capture (records
/// shorter than their wire length) is detected on its first record and classified on headers.
pub(crate) fn run(
    input: &Path,
    output: &Path,
    cfg: &Config,
    ribosome: bool,
    quiet: bool,
) -> anyhow::Result<OfflineReport> {
    let mut reader = PcapReader::open(input)?;
    let mut progress = crate::progress::Progress::for_input(input, quiet);
    let mut writer = PcapWriter::create(output)?;
    let mut first = Pkt::default();
    let first_ts = reader.next_into(&mut first.data)?;
    first.orig_len = reader.last_orig_len();
    let mut cfg = cfg.clone();
    let snapped = first_ts.is_some() && (first.data.len() as u32) < first.orig_len;
    if snapped && !cfg.snapped_frames {
        eprintln!(
            "note: {} is a snap-length capture (records shorter than their wire length): classifying on headers",
            input.display()
        );
        cfg.snapped_frames = true;
    }
    let mut s: Scheduler<Pkt> = Scheduler::new(cfg.clone())?;
    let mut pool: Vec<Pkt> = Vec::with_capacity(1024);
    let mut batch = Vec::with_capacity(cfg.max_tx_burst);
    let mut now = 0u64;
    let mut clamped = 0u64;
    let started = Instant::now();
    let mut out = Out {
        w: &mut writer,
        pool: &mut pool,
        batch: &mut batch,
        ribosome: ribosome.then(NfCounts::default),
    };
    let mut pending = first_ts.map(|ts| (ts, first));
    loop {
        let (ts, buf) = match pending.take() {
            Some(p) => p,
            None => {
                let mut buf = out.pool.pop().unwrap_or_default();
                match reader.next_into(&mut buf.data)? {
                    Some(ts) => {
                        buf.orig_len = reader.last_orig_len();
                        progress.packet(reader.bytes_read());
                        (ts, buf)
                    }
                    None => break,
                }
            }
        };
        // Capture clocks can step back a little; time never goes backwards here.
        if ts < now {
            clamped += 1;
        } else {
            now = ts;
        }
        out.advance(&mut s, now)?;
        s.push(buf, now);
        out.drain(&mut s, now)?;
    }
    // End of input: the remaining windows run out at their own deadlines.
    out.advance(&mut s, u64::MAX)?;
    s.shutdown(now);
    out.drain(&mut s, now)?;
    let ribosome = out.ribosome;
    writer.finish()?;
    progress.finish();
    Ok(OfflineReport {
        stats: s.stats().clone(),
        elapsed_s: started.elapsed().as_secs_f64(),
        clamped_timestamps: clamped,
        ribosome,
    })
}

/// Where released packets go: the output file, then the buffer pool.
struct Out<'a> {
    w: &'a mut PcapWriter,
    pool: &'a mut Vec<Pkt>,
    batch: &'a mut Vec<Pkt>,
    /// Ribosome mode: (split, whole) frames returned under the NF contract.
    ribosome: Option<NfCounts>,
}

impl Out<'_> {
    /// Writes what `s` releases up to `until`, each window stamped with its own deadline.
    fn advance(&mut self, s: &mut Scheduler<Pkt>, until: u64) -> anyhow::Result<()> {
        let (w, pool, ribosome) = (&mut *self.w, &mut *self.pool, &mut self.ribosome);
        s.advance_to(until, self.batch, |f, at| emit(w, pool, ribosome, f, at))?;
        self.recycle(s);
        Ok(())
    }

    /// Writes what `s` has released, stamped `now`.
    fn drain(&mut self, s: &mut Scheduler<Pkt>, now: u64) -> anyhow::Result<()> {
        let (w, pool, ribosome) = (&mut *self.w, &mut *self.pool, &mut self.ribosome);
        s.hand_out(now, self.batch, |f, at| emit(w, pool, ribosome, f, at))?;
        self.recycle(s);
        Ok(())
    }

    fn recycle(&mut self, s: &mut Scheduler<Pkt>) {
        while let Some(f) = s.pop_discarded() {
            self.pool.push(f);
        }
    }
}

/// One released frame: the NF contract in Ribosome mode, the output file, the buffer pool.
fn emit(
    w: &mut PcapWriter,
    pool: &mut Vec<Pkt>,
    ribosome: &mut Option<NfCounts>,
    mut f: Pkt,
    at: u64,
) -> Result<(), reframer_io::pcap::PcapError> {
    if let Some(nf) = ribosome {
        nf.apply(&mut f.data);
    }
    w.write_snapped(at, &f.data, f.orig_len as usize)?;
    pool.push(f);
    Ok(())
}

/// The run summary of the offline mode.
pub(crate) fn summary(r: &OfflineReport, input: &Path, output: &Path, cfg: &Config) -> Summary {
    let mut s = Summary::new(RunMode::Offline, cfg.delay_ns, &r.stats, r.elapsed_s)
        .with_ribosome(r.ribosome);
    s.input = Some(input.display().to_string());
    s.output = Some(output.display().to_string());
    s.clamped_timestamps = Some(r.clamped_timestamps);
    s
}
