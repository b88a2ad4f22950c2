//! DPDK-style core lists: `0-3,8` → [0, 1, 2, 3, 8].

/// Parses a core list; rejects empty items, reversed ranges and duplicates.
pub fn parse_core_list(s: &str) -> Result<Vec<usize>, String> {
    let mut v = Vec::new();
    for item in s.split(',').map(str::trim) {
        let bad = || format!("--cores `{s}`: bad item `{item}` (use a list like 0-3,8)");
        let (a, b) = match item.split_once('-') {
            Some((a, b)) => (a, b),
            None => (item, item),
        };
        let a: usize = a.trim().parse().map_err(|_| bad())?;
        let b: usize = b.trim().parse().map_err(|_| bad())?;
        if a > b || b >= 1024 {
            return Err(bad());
        }
        for c in a..=b {
            if v.contains(&c) {
                return Err(format!("--cores `{s}`: core {c} listed twice"));
            }
            v.push(c);
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists() {
        assert_eq!(parse_core_list("0-3,8").unwrap(), vec![0, 1, 2, 3, 8]);
        assert_eq!(parse_core_list("1").unwrap(), vec![1]);
        assert!(parse_core_list("3-1").is_err());
        assert!(parse_core_list("0,0").unwrap_err().contains("twice"));
        assert!(parse_core_list("").is_err());
        assert!(parse_core_list("a").is_err());
    }
}
