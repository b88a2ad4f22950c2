//! Byte sizes as written in `configs/cluster.toml` ("64MiB", "4.5GiB", "4096"), shared by the
//! agent and the switch so both read the same file the same way.

/// A size that is not a number with a known unit, or out of range.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("size {input:?}: {why}")]
pub struct SizeError {
    input: String,
    why: &'static str,
}

/// Parses "64MiB", "4.5GiB", "4096", "1G" into bytes (1 B ..= 1 TiB).
pub fn parse_size(s: &str) -> Result<u64, SizeError> {
    let err = |why| SizeError {
        input: s.to_owned(),
        why,
    };
    let t = s.trim();
    let cut = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(cut);
    let n: f64 = num.parse().map_err(|_| err("not a number"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        _ => return Err(err("unknown unit (use B, KiB, MiB, GiB)")),
    };
    let bytes = n * mult as f64;
    if !(1.0..=(1u64 << 40) as f64).contains(&bytes) {
        return Err(err("out of range (1 B ..= 1 TiB)"));
    }
    Ok(bytes as u64)
}
