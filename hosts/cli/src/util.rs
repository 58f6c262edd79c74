//! Exit codes and process memory figures.

/// Exit codes of every `haforu` command (documented in README.md).
pub mod exit {
    /// Every job succeeded (for `serve`: a clean shutdown).
    pub const OK: i32 = 0;
    /// The input was processed, but at least one job produced an error result.
    pub const JOB_ERRORS: i32 = 1;
    /// Usage error, or the input (or a font named on the command line) could not be read.
    pub const USAGE: i32 = 2;
    /// The job list as a whole is invalid (bad envelope); its error result was printed.
    pub const ENVELOPE: i32 = 3;
    /// The engine could not be loaded or started (bad module, ABI mismatch, address in use).
    pub const ENGINE: i32 = 4;
    /// Results could not be written (e.g. a closed pipe or a full disk).
    pub const OUTPUT: i32 = 5;
}

fn status_kb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Resident set size now, in bytes (0 where /proc is unavailable).
pub fn rss_bytes() -> u64 {
    status_kb("VmRSS:") * 1024
}

/// Peak resident set size, in bytes (0 where /proc is unavailable).
pub fn peak_rss_bytes() -> u64 {
    status_kb("VmHWM:") * 1024
}
