//! Outputs: tidy CSV, plots (SVG + PNG), progress on a terminal, summary.json.

pub mod csv;
pub mod plot;
pub mod progress;
