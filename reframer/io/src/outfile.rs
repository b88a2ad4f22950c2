//! Output files that never destroy what is there: written under a temporary name in the same
//! directory and renamed over the final name only when complete ([`AtomicFile::commit`]). A
//! run that fails (or an [`AtomicFile`] dropped uncommitted) leaves no partial file and the
//! old file, if any, untouched. Also [`same_file`], the identity check that refuses to write
//! over an input.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A file being written; it appears under its name on [`AtomicFile::commit`].
#[derive(Debug)]
pub struct AtomicFile {
    file: File,
    /// The temporary name; `None` when writing straight into a device or FIFO.
    tmp: Option<PathBuf>,
    path: PathBuf,
    committed: bool,
}

impl AtomicFile {
    /// Creates the temporary file next to `path` now, so an unwritable location is found
    /// before any work. A symbolic link at `path` is written through (its target is replaced).
    /// An existing device, FIFO or socket (`/dev/null`, `/dev/stdout`, a pipe) is opened and
    /// written directly: it is never replaced. The error is the OS error alone; callers name
    /// the file.
    pub fn create(path: &Path) -> io::Result<Self> {
        let meta = fs::metadata(path).ok();
        if meta.as_ref().is_some_and(fs::Metadata::is_dir) {
            return Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "is a directory",
            ));
        }
        if meta.as_ref().is_some_and(|m| !m.is_file()) {
            return Ok(Self {
                file: OpenOptions::new().write(true).open(path)?,
                tmp: None,
                path: path.to_owned(),
                committed: false,
            });
        }
        let path = match fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => {
                fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
            }
            _ => path.to_owned(),
        };
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".tmp-{}", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        if let Some(m) = meta {
            // Keep the permissions of the file being replaced (best effort).
            let _ = fs::set_permissions(&tmp, m.permissions());
        }
        Ok(Self {
            file,
            tmp: Some(tmp),
            path,
            committed: false,
        })
    }

    /// The final name.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes the data to disk and renames the file to its final name.
    pub fn commit(mut self) -> io::Result<()> {
        self.file.flush()?;
        if let Some(tmp) = &self.tmp {
            self.file.sync_data()?;
            fs::rename(tmp, &self.path)?;
        }
        self.committed = true;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let (false, Some(tmp)) = (self.committed, &self.tmp) {
            let _ = fs::remove_file(tmp);
        }
    }
}

/// True when `a` and `b` are the same existing file (same device and inode), whatever the
/// names: `./x`, a symbolic link and a hard link all count.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("reframer-outfile-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn appears_only_on_commit_and_keeps_the_old_file_otherwise() {
        let d = dir("commit");
        let p = d.join("out.bin");
        fs::write(&p, b"old").unwrap();
        let mut f = AtomicFile::create(&p).unwrap();
        f.write_all(b"new").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"old");
        drop(f);
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(
            fs::read_dir(&d).unwrap().count(),
            1,
            "the temp file is gone"
        );
        let mut f = AtomicFile::create(&p).unwrap();
        f.write_all(b"new").unwrap();
        f.commit().unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        assert_eq!(fs::read_dir(&d).unwrap().count(), 1);
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn unwritable_places_fail_at_create() {
        let d = dir("bad");
        assert!(AtomicFile::create(&d.join("no/such/dir/x")).is_err());
        let e = AtomicFile::create(&d).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::IsADirectory);
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn devices_are_written_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        // A null device of our own (never the system's /dev/null: a bug here would replace it).
        let d = dir("dev");
        let null = d.join("null");
        let made = std::process::Command::new("mknod")
            .arg(&null)
            .args(["c", "1", "3"])
            .status()
            .is_ok_and(|s| s.success());
        if !made {
            eprintln!("skipped: cannot mknod here");
            return;
        }
        for _ in 0..2 {
            let mut f = AtomicFile::create(&null).unwrap();
            f.write_all(b"gone").unwrap();
            f.commit().unwrap();
            let m = fs::metadata(&null).unwrap();
            assert!(m.file_type().is_char_device(), "{m:?}");
        }
        let mut f = AtomicFile::create(&null).unwrap();
        f.write_all(b"gone").unwrap();
        drop(f);
        assert!(fs::metadata(&null).unwrap().file_type().is_char_device());
        assert_eq!(fs::read_dir(&d).unwrap().count(), 1, "no temp file");
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn same_file_sees_through_names() {
        let d = dir("same");
        let a = d.join("a");
        fs::write(&a, b"x").unwrap();
        fs::hard_link(&a, d.join("h")).unwrap();
        std::os::unix::fs::symlink(&a, d.join("s")).unwrap();
        fs::write(d.join("b"), b"x").unwrap();
        assert!(same_file(&a, &d.join("h")));
        assert!(same_file(&a, &d.join("s")));
        assert!(same_file(&a, &d.join(".").join("a")));
        assert!(!same_file(&a, &d.join("b")));
        assert!(!same_file(&a, &d.join("missing")));
        fs::remove_dir_all(d).unwrap();
    }
}
