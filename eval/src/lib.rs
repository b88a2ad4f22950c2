//! Reframer evaluation suite (issue 4): calibrated synthetic traces, the paper's NF chain,
//! experiments E1-E4, the E5 cluster model and cachegrind counts, written as tidy CSV, SVG/PNG
//! plots and summary.json.
//! The `eval` binary is the command line over these modules; see eval/EVAL.md.

pub mod calib;
pub mod cluster;
pub mod drive;
pub mod exp;
pub mod nf;
pub mod out;
pub mod paper;
pub mod rng;
pub mod summary;
pub mod trace;
