//! Classic pcap files: reads microsecond and nanosecond captures (either byte order),
//! writes nanosecond captures. Records are read into caller-owned buffers, so a replay
//! recycles its buffers instead of allocating per packet. The one pcap reader and writer of
//! the workspace: over files ([`PcapReader::open`], [`PcapWriter::create`]) or any
//! [`Read`]/[`Write`] ([`PcapReader::from_reader`], [`PcapWriter::from_writer`]).

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::outfile::AtomicFile;

/// Ethernet link type; the only one Reframer classifies.
pub const LINKTYPE_ETHERNET: u32 = 1;
/// Largest record accepted (jumbo frames and TSO-sized captures fit).
pub const MAX_RECORD: u32 = 262_144;

const MAGIC_US: u32 = 0xA1B2_C3D4;
const MAGIC_NS: u32 = 0xA1B2_3C4D;
const MAGIC_PCAPNG: u32 = 0x0A0D_0D0A;

/// A pcap problem, naming the file and where in it.
#[derive(Debug, thiserror::Error)]
pub enum PcapError {
    /// Opening, reading or writing failed. The OS error is part of the message (and not a
    /// `source()`, so an error chain prints it once).
    #[error("cannot {op} {path}: {error}")]
    Io {
        /// What was being done: "open", "read", "create", "write".
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        error: io::Error,
    },
    /// The contents are not a pcap we can read.
    #[error("{path}: {why}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the byte offset when it helps.
        why: String,
    },
}

/// Streaming reader, over a buffered file unless built with [`PcapReader::from_reader`].
#[derive(Debug)]
pub struct PcapReader<R = BufReader<File>> {
    r: R,
    path: PathBuf,
    swapped: bool,
    nanos: bool,
    offset: u64,
    records: u64,
    last_orig_len: u32,
}

impl PcapReader {
    /// Opens and checks the global header.
    pub fn open(path: &Path) -> Result<Self, PcapError> {
        let file = File::open(path).map_err(|error| PcapError::Io {
            op: "open",
            path: path.to_owned(),
            error,
        })?;
        Self::from_reader(BufReader::with_capacity(1 << 20, file), path)
    }
}

impl<R: Read> PcapReader<R> {
    /// Reads a pcap from `r` (buffer it: records are read in small pieces) and checks the
    /// global header; `path` names the source in errors.
    pub fn from_reader(mut r: R, path: &Path) -> Result<Self, PcapError> {
        let mut h = [0u8; 24];
        let fmt = |why: String| PcapError::Format {
            path: path.to_owned(),
            why,
        };
        read_full(&mut r, &mut h)
            .map_err(|e| fmt(format!("not a pcap file (header: {e})")))?
            .then_some(())
            .ok_or_else(|| fmt("empty file, not a pcap".into()))?;
        let magic = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let (swapped, nanos) = match magic {
            MAGIC_US => (false, false),
            MAGIC_NS => (false, true),
            m if m.swap_bytes() == MAGIC_US => (true, false),
            m if m.swap_bytes() == MAGIC_NS => (true, true),
            MAGIC_PCAPNG => {
                return Err(fmt(
                    "pcapng is not supported; convert it with `editcap -F pcap IN OUT`".into(),
                ))
            }
            m => return Err(fmt(format!("bad magic 0x{m:08x}, not a pcap file"))),
        };
        let this = Self {
            r,
            path: path.to_owned(),
            swapped,
            nanos,
            offset: 24,
            records: 0,
            last_orig_len: 0,
        };
        let link = this.u32(&h[20..24]);
        if link & 0xFFFF != LINKTYPE_ETHERNET {
            return Err(fmt(format!(
                "link type {link} is not Ethernet (1); Reframer needs Ethernet frames"
            )));
        }
        Ok(this)
    }

    fn u32(&self, b: &[u8]) -> u32 {
        let v = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        if self.swapped {
            v.swap_bytes()
        } else {
            v
        }
    }

    /// Wire length of the last record read (more than its bytes in a snap-length capture).
    pub fn last_orig_len(&self) -> u32 {
        self.last_orig_len
    }

    /// Bytes of the file consumed so far (global header and every record read); equals the
    /// file size once the last record has been read.
    pub fn bytes_read(&self) -> u64 {
        self.offset
    }

    /// True for a nanosecond-resolution capture.
    pub fn is_nanosecond(&self) -> bool {
        self.nanos
    }

    /// Reads the next record into `buf` (replacing its contents). Returns its timestamp in
    /// ns, or `None` at a clean end of file.
    pub fn next_into(&mut self, buf: &mut Vec<u8>) -> Result<Option<u64>, PcapError> {
        let mut h = [0u8; 16];
        let io_err = |path: &Path, error| PcapError::Io {
            op: "read",
            path: path.to_owned(),
            error,
        };
        match read_full(&mut self.r, &mut h) {
            Ok(false) => return Ok(None),
            Ok(true) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(self.format(format!(
                    "record {} truncated in its header at byte {}",
                    self.records + 1,
                    self.offset
                )))
            }
            Err(e) => return Err(io_err(&self.path, e)),
        }
        let secs = u64::from(self.u32(&h[0..4]));
        let frac = u64::from(self.u32(&h[4..8]));
        let caplen = self.u32(&h[8..12]);
        self.last_orig_len = self.u32(&h[12..16]);
        if caplen > MAX_RECORD {
            return Err(self.format(format!(
                "record {} at byte {} claims {caplen} bytes (limit {MAX_RECORD}); file is corrupt",
                self.records + 1,
                self.offset
            )));
        }
        let sub = if self.nanos { frac } else { frac * 1_000 };
        if sub >= 1_000_000_000 {
            return Err(self.format(format!(
                "record {} at byte {} has a sub-second field of {frac}",
                self.records + 1,
                self.offset
            )));
        }
        buf.clear();
        buf.resize(caplen as usize, 0);
        match self.r.read_exact(buf) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(self.format(format!(
                    "record {} at byte {} is cut short (file truncated)",
                    self.records + 1,
                    self.offset
                )))
            }
            Err(e) => return Err(io_err(&self.path, e)),
        }
        self.offset += 16 + u64::from(caplen);
        self.records += 1;
        Ok(Some(secs * 1_000_000_000 + sub))
    }

    fn format(&self, why: String) -> PcapError {
        PcapError::Format {
            path: self.path.clone(),
            why,
        }
    }
}

/// Fills `buf`; `Ok(false)` if the stream ended before the first byte.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Nanosecond pcap writer (Ethernet). A file ([`PcapWriter::create`]) is written under a
/// temporary name and appears under its own only when [`PcapWriter::finish`] succeeds: a
/// writer dropped unfinished (a failed run) leaves no partial file, and an existing file is
/// replaced, never truncated. [`PcapWriter::from_writer`] writes to any [`Write`].
#[derive(Debug)]
pub struct PcapWriter<W: Write = BufWriter<AtomicFile>> {
    w: W,
    path: PathBuf,
}

impl PcapWriter {
    /// Creates the temporary file next to `path` (so an unwritable place fails here, before
    /// any work) and writes the global header.
    pub fn create(path: &Path) -> Result<Self, PcapError> {
        let file = AtomicFile::create(path).map_err(|error| PcapError::Io {
            op: "create",
            path: path.to_owned(),
            error,
        })?;
        Self::from_writer(BufWriter::with_capacity(1 << 20, file), path)
    }

    /// Flushes the records and puts the file in place under its name.
    pub fn finish(self) -> Result<(), PcapError> {
        let path = self.path.clone();
        let file = self.into_inner()?;
        file.into_inner()
            .map_err(|e| e.into_error())
            .and_then(AtomicFile::commit)
            .map_err(|error| PcapError::Io {
                op: "write",
                path,
                error,
            })
    }
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header to `w` (buffer it: records are written in small pieces);
    /// `path` names the destination in errors.
    pub fn from_writer(w: W, path: &Path) -> Result<Self, PcapError> {
        let mut this = Self {
            w,
            path: path.to_owned(),
        };
        let mut h = [0u8; 24];
        h[0..4].copy_from_slice(&MAGIC_NS.to_le_bytes());
        h[4..6].copy_from_slice(&2u16.to_le_bytes());
        h[6..8].copy_from_slice(&4u16.to_le_bytes());
        // Bytes 8..16: time zone offset and timestamp accuracy, both 0.
        h[16..20].copy_from_slice(&MAX_RECORD.to_le_bytes());
        h[20..24].copy_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        this.put(&h)?;
        Ok(this)
    }

    /// Appends one frame stamped `ts_ns`.
    pub fn write(&mut self, ts_ns: u64, frame: &[u8]) -> Result<(), PcapError> {
        self.write_snapped(ts_ns, frame, frame.len())
    }

    /// Appends the first bytes of a frame whose wire length was `orig_len` (snap length).
    pub fn write_snapped(
        &mut self,
        ts_ns: u64,
        frame: &[u8],
        orig_len: usize,
    ) -> Result<(), PcapError> {
        let secs = u32::try_from(ts_ns / 1_000_000_000).unwrap_or(u32::MAX);
        let len = frame.len().min(MAX_RECORD as usize) as u32;
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&secs.to_le_bytes());
        h[4..8].copy_from_slice(&((ts_ns % 1_000_000_000) as u32).to_le_bytes());
        h[8..12].copy_from_slice(&len.to_le_bytes());
        h[12..16].copy_from_slice(&(orig_len.max(frame.len()) as u32).to_le_bytes());
        self.put(&h)?;
        self.put(&frame[..len as usize])
    }

    /// Flushes and returns the destination.
    pub fn into_inner(mut self) -> Result<W, PcapError> {
        self.w.flush().map_err(|error| PcapError::Io {
            op: "write",
            path: self.path.clone(),
            error,
        })?;
        Ok(self.w)
    }

    fn put(&mut self, b: &[u8]) -> Result<(), PcapError> {
        self.w.write_all(b).map_err(|error| PcapError::Io {
            op: "write",
            path: self.path.clone(),
            error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("reframer-pcap-{}-{name}", std::process::id()))
    }

    #[test]
    fn round_trip_nanoseconds() {
        let p = tmp("rt.pcap");
        let mut w = PcapWriter::create(&p).unwrap();
        w.write(1_500_000_123, &[1, 2, 3]).unwrap();
        w.write(2_000_000_000, &[4; 70]).unwrap();
        w.finish().unwrap();
        let mut r = PcapReader::open(&p).unwrap();
        assert!(r.is_nanosecond());
        let mut b = Vec::new();
        assert_eq!(r.next_into(&mut b).unwrap(), Some(1_500_000_123));
        assert_eq!(b, [1, 2, 3]);
        assert_eq!(r.next_into(&mut b).unwrap(), Some(2_000_000_000));
        assert_eq!(b.len(), 70);
        assert_eq!(r.next_into(&mut b).unwrap(), None);
        std::fs::remove_file(p).unwrap();
    }

    #[test]
    fn any_reader_and_writer() {
        let name = Path::new("memory");
        let mut w = PcapWriter::from_writer(Vec::new(), name).unwrap();
        w.write_snapped(3_000_000_007, &[5; 40], 1514).unwrap();
        w.write(3_000_000_008, &[6; 60]).unwrap();
        let bytes = w.into_inner().unwrap();
        assert_eq!(bytes.len(), 24 + 16 + 40 + 16 + 60);
        let mut r = PcapReader::from_reader(io::Cursor::new(&bytes), name).unwrap();
        let mut b = Vec::new();
        assert_eq!(r.next_into(&mut b).unwrap(), Some(3_000_000_007));
        assert_eq!((b.len(), r.last_orig_len()), (40, 1514));
        assert_eq!(r.next_into(&mut b).unwrap(), Some(3_000_000_008));
        assert_eq!(b, [6; 60]);
        assert_eq!(r.next_into(&mut b).unwrap(), None);
        let e = PcapReader::from_reader(&bytes[..10], name).unwrap_err();
        assert!(e.to_string().starts_with("memory: not a pcap"), "{e}");
    }

    #[test]
    fn bytes_read_counts_header_and_records_up_to_the_file_size() {
        let p = tmp("bytes.pcap");
        let mut w = PcapWriter::create(&p).unwrap();
        w.write(1, &[1, 2, 3]).unwrap();
        w.write(2, &[4; 70]).unwrap();
        w.finish().unwrap();
        let mut r = PcapReader::open(&p).unwrap();
        assert_eq!(r.bytes_read(), 24);
        let mut b = Vec::new();
        r.next_into(&mut b).unwrap();
        assert_eq!(r.bytes_read(), 24 + 16 + 3);
        while r.next_into(&mut b).unwrap().is_some() {}
        assert_eq!(r.bytes_read(), std::fs::metadata(&p).unwrap().len());
        std::fs::remove_file(p).unwrap();
    }

    #[test]
    fn reads_big_endian_microseconds() {
        let p = tmp("be.pcap");
        let mut f = Vec::new();
        f.extend_from_slice(&MAGIC_US.to_be_bytes());
        f.extend_from_slice(&[
            0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 1,
        ]);
        f.extend_from_slice(&7u32.to_be_bytes());
        f.extend_from_slice(&250u32.to_be_bytes());
        f.extend_from_slice(&2u32.to_be_bytes());
        f.extend_from_slice(&2u32.to_be_bytes());
        f.extend_from_slice(&[9, 9]);
        std::fs::write(&p, f).unwrap();
        let mut r = PcapReader::open(&p).unwrap();
        let mut b = Vec::new();
        assert_eq!(r.next_into(&mut b).unwrap(), Some(7_000_250_000));
        std::fs::remove_file(p).unwrap();
    }

    #[test]
    fn damaged_files_get_clear_errors() {
        let p = tmp("bad.pcap");
        std::fs::write(&p, b"hello world, not a capture").unwrap();
        let e = PcapReader::open(&p).unwrap_err().to_string();
        assert!(e.contains("bad magic") && e.contains("bad.pcap"), "{e}");
        let mut w = PcapWriter::create(&p).unwrap();
        w.write(1, &[0; 100]).unwrap();
        w.finish().unwrap();
        let full = std::fs::read(&p).unwrap();
        std::fs::write(&p, &full[..full.len() - 10]).unwrap();
        let mut r = PcapReader::open(&p).unwrap();
        let e = r.next_into(&mut Vec::new()).unwrap_err().to_string();
        assert!(e.contains("cut short"), "{e}");
        std::fs::write(&p, &full[..30]).unwrap();
        let mut r = PcapReader::open(&p).unwrap();
        let e = r.next_into(&mut Vec::new()).unwrap_err().to_string();
        assert!(e.contains("truncated in its header"), "{e}");
        assert!(PcapReader::open(&tmp("missing.pcap")).is_err());
        std::fs::remove_file(p).unwrap();
    }

    #[test]
    fn snapped_records_keep_their_wire_length() {
        let p = tmp("snap.pcap");
        let mut w = PcapWriter::create(&p).unwrap();
        w.write_snapped(5, &[7; 64], 1514).unwrap();
        w.write(6, &[8; 60]).unwrap();
        w.finish().unwrap();
        let mut r = PcapReader::open(&p).unwrap();
        let mut b = Vec::new();
        r.next_into(&mut b).unwrap();
        assert_eq!((b.len(), r.last_orig_len()), (64, 1514));
        r.next_into(&mut b).unwrap();
        assert_eq!((b.len(), r.last_orig_len()), (60, 60));
        std::fs::remove_file(p).unwrap();
    }

    #[test]
    fn an_unfinished_writer_leaves_the_old_file_alone() {
        let p = tmp("keep.pcap");
        std::fs::write(&p, b"precious").unwrap();
        let mut w = PcapWriter::create(&p).unwrap();
        w.write(1, &[0; 100]).unwrap();
        drop(w);
        assert_eq!(std::fs::read(&p).unwrap(), b"precious");
        let mut w = PcapWriter::create(&p).unwrap();
        w.write(1, &[0; 100]).unwrap();
        w.finish().unwrap();
        assert_eq!(std::fs::read(&p).unwrap().len(), 24 + 16 + 100);
        std::fs::remove_file(p).unwrap();
    }

    #[test]
    fn os_errors_are_told_once_with_the_file() {
        let p = tmp("absent.pcap");
        let e = PcapReader::open(&p).unwrap_err();
        assert!(std::error::Error::source(&e).is_none());
        let msg = e.to_string();
        assert!(
            msg.starts_with("cannot open ") && msg.contains("absent.pcap"),
            "{msg}"
        );
        assert_eq!(msg.matches("No such file").count(), 1, "{msg}");
        let e = PcapWriter::create(&tmp("no-dir/x.pcap"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("cannot create ") && e.contains("no-dir"),
            "{e}"
        );
    }
}
