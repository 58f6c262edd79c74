//! The progress line of `batch` on stderr (only when stderr is a terminal).

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::io::Totals;

/// A one-line progress display on stderr (only when stderr is a terminal).
pub struct Progress {
    on: bool,
    total_bytes: Option<u64>,
    bytes_read: Arc<AtomicU64>,
    started: Instant,
    last: Instant,
}

impl Progress {
    pub fn new(on: bool, total_bytes: Option<u64>, bytes_read: Arc<AtomicU64>) -> Progress {
        let now = Instant::now();
        Progress {
            on: on && io::stderr().is_terminal(),
            total_bytes,
            bytes_read,
            started: now,
            last: now,
        }
    }

    pub fn draw(&mut self, totals: &Totals, last: bool) {
        if !self.on {
            return;
        }
        let now = Instant::now();
        if !last && now.duration_since(self.last) < Duration::from_millis(100) {
            return;
        }
        self.last = now;
        let secs = now.duration_since(self.started).as_secs_f64().max(1e-9);
        let errors: u64 = totals.errors.values().sum();
        let bar = match self.total_bytes {
            Some(t) if t > 0 => {
                let f = (self.bytes_read.load(Ordering::Relaxed) as f64 / t as f64).min(1.0);
                let n = (f * 30.0) as usize;
                format!(
                    "[{}{}] {:3.0}% ",
                    "#".repeat(n),
                    " ".repeat(30 - n),
                    f * 100.0
                )
            }
            _ => String::new(),
        };
        let mut err = io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K{bar}{} jobs, {} errors, {:.0} jobs/s",
            totals.jobs,
            errors,
            totals.jobs as f64 / secs
        );
        if last {
            let _ = writeln!(err);
        }
        let _ = err.flush();
    }
}
