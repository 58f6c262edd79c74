//! Where job lists come from and results go, the exit code once the input was processed, and
//! the totals of `--stats`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::runtime::{Outcome, Runtime};
use crate::util::{self, exit};

/// The job list: stdin (no path or `-`) or the file.
pub fn open_input(path: &Option<PathBuf>) -> io::Result<Box<dyn Read + Send>> {
    match input_file(path) {
        None => Ok(Box::new(io::stdin())),
        Some(p) => Ok(Box::new(File::open(p)?)),
    }
}

/// The input file, or `None` for stdin.
pub fn input_file(path: &Option<PathBuf>) -> Option<&PathBuf> {
    path.as_ref().filter(|p| p.as_os_str() != "-")
}

/// The job list again, from where it starts, for counting its lines: the file, or stdin when
/// it is a regular file (`< jobs.jsonl`), read from its offset now with `pread` (which moves no
/// offset, so the reading of the jobs is not disturbed). Call before the jobs are read.
pub fn reread_input(path: &Option<PathBuf>) -> Option<Box<dyn Read + Send>> {
    match input_file(path) {
        Some(p) => Some(Box::new(File::open(p).ok()?)),
        None => stdin_file(),
    }
}

#[cfg(unix)]
fn stdin_file() -> Option<Box<dyn Read + Send>> {
    use std::io::Seek;
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileExt;

    struct PRead(File, u64);
    impl Read for PRead {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.read_at(buf, self.1)?;
            self.1 += n as u64;
            Ok(n)
        }
    }
    let mut f = File::from(io::stdin().as_fd().try_clone_to_owned().ok()?);
    if !f.metadata().ok()?.is_file() {
        return None;
    }
    let at = f.stream_position().ok()?;
    Some(Box::new(PRead(f, at)))
}

#[cfg(not(unix))]
fn stdin_file() -> Option<Box<dyn Read + Send>> {
    None
}

/// Where results go: stdout, or the `-o` file (created at start, so an unwritable one fails
/// before any job runs).
pub fn open_output(path: &Option<PathBuf>) -> Result<Box<dyn Write>, i32> {
    match path {
        None => Ok(Box::new(io::stdout().lock())),
        Some(p) if p.as_os_str() == "-" => Ok(Box::new(io::stdout().lock())),
        Some(p) => match File::create(p) {
            Ok(f) => Ok(Box::new(f)),
            Err(e) => {
                eprintln!("haforu: cannot write {}: {e}", p.display());
                Err(exit::OUTPUT)
            }
        },
    }
}

/// The exit code once the input was processed (README.md, *Exit codes*).
pub fn processed(strict: bool, any_error: bool) -> i32 {
    if strict && any_error {
        exit::JOB_ERRORS
    } else {
        exit::OK
    }
}

pub fn display(p: &Option<PathBuf>) -> String {
    p.as_ref()
        .map_or_else(|| "stdin".to_string(), |p| p.display().to_string())
}

/// Totals for `--stats` and the exit code.
#[derive(Default)]
pub struct Totals {
    pub jobs: u64,
    pub ok: u64,
    /// Error results by the engine's name of their kind.
    pub errors: BTreeMap<String, u64>,
}

impl Totals {
    /// Counts one result: success, or an error of kind `code` (named by the engine).
    pub fn count(&mut self, rt: &Runtime, code: u32) {
        self.jobs += 1;
        if code == 0 {
            self.ok += 1;
        } else {
            *self
                .errors
                .entry(rt.kind_name(code).to_string())
                .or_default() += 1;
        }
    }

    pub fn count_outcome(&mut self, rt: &Runtime, o: &Outcome) {
        self.count(rt, o.kind);
    }
}

pub fn print_stats(rt: &Runtime, totals: &Totals, t0: Instant, workers: usize) {
    let wall = t0.elapsed().as_secs_f64();
    let stats = serde_json::json!({
        "jobs": totals.jobs,
        "ok": totals.ok,
        "errors": totals.errors,
        "jobs_per_s": if wall > 0.0 { (totals.jobs as f64 / wall * 10.0).round() / 10.0 } else { 0.0 },
        "wall_s": (wall * 1e4).round() / 1e4,
        "workers": workers,
        "peak_rss_mb": (util::peak_rss_bytes() as f64 / 1048576.0 * 10.0).round() / 10.0,
        "traps": rt.traps.load(Ordering::Relaxed),
        "recycles": rt.recycles.load(Ordering::Relaxed),
    });
    eprintln!("{stats}");
}
