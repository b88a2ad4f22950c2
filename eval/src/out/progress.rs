//! A one-line progress indicator on stderr, only when stderr is a terminal (CI logs stay clean).

use std::io::{IsTerminal, Write};
use std::time::Instant;

#[derive(Debug)]
pub struct Progress {
    label: String,
    total: usize,
    done: usize,
    tty: bool,
    start: Instant,
}

impl Progress {
    pub fn new(label: &str, total: usize) -> Self {
        let p = Self {
            label: label.into(),
            total,
            done: 0,
            tty: std::io::stderr().is_terminal(),
            start: Instant::now(),
        };
        p.draw("");
        p
    }

    /// Marks one step done, showing what just finished.
    pub fn step(&mut self, what: &str) {
        self.done += 1;
        self.draw(what);
    }

    fn draw(&self, what: &str) {
        if !self.tty {
            return;
        }
        let width = 24;
        let filled = (self.done * width).checked_div(self.total).unwrap_or(width);
        let bar: String = (0..width)
            .map(|i| if i < filled { '#' } else { '.' })
            .collect();
        let mut e = std::io::stderr();
        let _ = write!(
            e,
            "\r\x1b[2K{} [{bar}] {}/{} {:.0}s {what}",
            self.label,
            self.done,
            self.total,
            self.start.elapsed().as_secs_f64()
        );
        let _ = e.flush();
    }

    pub fn finish(self) {
        if self.tty {
            eprintln!();
        }
    }
}
