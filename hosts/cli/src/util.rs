//! Exit codes, the help text's exit-code table, closed pipes and process memory figures.

/// Exit codes of every `haforu` command (the table is README.md's "Exit codes"; the Python CLI
/// uses the same codes).
pub mod exit {
    /// The input was processed, whatever the jobs' statuses (haforu 2.x); `render` wrote its
    /// output; `serve` shut down cleanly; the reader closed the pipe early (`| head`).
    pub const OK: i32 = 0;
    /// `--strict` and some job gave an error result; `render` failed; `validate` found an
    /// invalid job.
    pub const JOB_ERRORS: i32 = 1;
    /// Usage error, or the input (or a font named on the command line) could not be read.
    pub const USAGE: i32 = 2;
    /// The job list as a whole is invalid (bad envelope); its error result was printed.
    pub const ENVELOPE: i32 = 3;
    /// The engine could not be loaded or started (bad module, ABI mismatch, address in use).
    pub const ENGINE: i32 = 4;
    /// Results could not be written (e.g. a full disk; a closed pipe is [`OK`]).
    pub const OUTPUT: i32 = 5;
}

/// The "Exit codes" table of README.md as plain text for `--help`: a heading and one
/// `  N  meaning` line per row (the Python CLI prints the same text; a test compares them).
pub fn exit_code_help() -> String {
    let readme = include_str!("../README.md");
    let mut out = String::from("Exit codes:");
    let rows = readme
        .lines()
        .skip_while(|l| l.trim_start_matches('#').trim() != "Exit codes" || !l.starts_with('#'))
        .skip(1)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'));
    for row in rows {
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        if let [code, meaning] = cells[..] {
            if code.chars().all(|c| c.is_ascii_digit()) && !code.is_empty() {
                out.push_str(&format!("\n  {code}  {meaning}"));
            }
        }
    }
    out
}

/// True for the error a write gets when the reader has gone (`| head`): stop writing, exit 0.
pub fn is_broken_pipe(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::BrokenPipe
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
