//! The experiments. Each writes a tidy CSV and plots into the output folder and returns its
//! headline figures for summary.json.

pub mod cachegrind;
pub mod cluster;
pub mod in_chain;
pub mod interference;
pub mod locality;
pub mod nf_cost;
pub mod one_run;
pub mod timing;

use std::path::PathBuf;

/// Settings shared by every experiment.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub out: PathBuf,
    pub quick: bool,
    pub seed: u64,
    /// Repetitions of each timed configuration (medians are reported).
    pub reps: u32,
}

/// A parameter value as it appears in the CSV.
pub fn p<T: std::fmt::Display>(v: T) -> String {
    v.to_string()
}

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
