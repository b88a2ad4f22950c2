//! Tidy CSV: one row per run, metric (and repetition), with the seed and the run's parameters in
//! their own columns, so pandas/R can pivot freely.

use anyhow::{Context, Result};
use std::fmt::Write as _;
use std::path::Path;

/// One measured value.
#[derive(Debug, Clone)]
pub struct Row {
    pub rep: u32,
    /// Parameter values, in the experiment's column order.
    pub params: Vec<String>,
    pub metric: &'static str,
    pub value: f64,
    pub unit: &'static str,
}

/// All rows of one experiment.
#[derive(Debug, Clone)]
pub struct Table {
    pub experiment: &'static str,
    pub seed: u64,
    pub param_names: Vec<&'static str>,
    pub rows: Vec<Row>,
}

impl Table {
    pub fn new(experiment: &'static str, seed: u64, param_names: &[&'static str]) -> Self {
        Self {
            experiment,
            seed,
            param_names: param_names.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn push(
        &mut self,
        rep: u32,
        params: &[String],
        metric: &'static str,
        value: f64,
        unit: &'static str,
    ) {
        debug_assert_eq!(params.len(), self.param_names.len());
        self.rows.push(Row {
            rep,
            params: params.to_vec(),
            metric,
            value,
            unit,
        });
    }

    /// Values of `metric` for the given parameters (all repetitions).
    pub fn values(&self, params: &[String], metric: &str) -> Vec<f64> {
        self.rows
            .iter()
            .filter(|r| r.metric == metric && r.params == params)
            .map(|r| r.value)
            .collect()
    }

    pub fn median(&self, params: &[String], metric: &str) -> Option<f64> {
        median(self.values(params, metric))
    }

    pub fn write(&self, dir: &Path) -> Result<std::path::PathBuf> {
        let mut s = String::from("experiment,seed,rep");
        for p in &self.param_names {
            let _ = write!(s, ",{p}");
        }
        s.push_str(",metric,value,unit\n");
        for r in &self.rows {
            let _ = write!(s, "{},{},{}", self.experiment, self.seed, r.rep);
            for p in &r.params {
                let _ = write!(s, ",{p}");
            }
            let _ = writeln!(s, ",{},{},{}", r.metric, r.value, r.unit);
        }
        let path = dir.join(format!("{}.csv", self.experiment));
        std::fs::write(&path, s).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }
}

pub use reframer_core::stats::median;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_tidy_rows_and_medians() {
        let mut t = Table::new("e9", 7, &["delay_us"]);
        for (rep, v) in [(0, 3.0), (1, 1.0), (2, 2.0)] {
            t.push(rep, &["64".into()], "slf_out", v, "packets");
        }
        assert_eq!(t.median(&["64".into()], "slf_out"), Some(2.0));
        assert_eq!(median(vec![1.0, 4.0]), Some(2.5));
        let dir = std::env::temp_dir().join(format!("eval-csv-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = std::fs::read_to_string(t.write(&dir).unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "experiment,seed,rep,delay_us,metric,value,unit");
        assert_eq!(lines[1], "e9,7,0,64,slf_out,3,packets");
        assert_eq!(lines.len(), 4);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
