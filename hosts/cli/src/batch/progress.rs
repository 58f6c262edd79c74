//! The progress bar of `batch` on stderr ([`indicatif`]): jobs done / total with rate and ETA
//! when the total is known (a batch object, or a JSONL file whose job lines are counted before
//! the run), else jobs done and bytes read (stdin, pipes). Drawn when stderr is a terminal, or
//! when `--progress` asks for it anyway; then, on a non-terminal, as one plain line per update
//! (at most one a second), so a log file gets readable lines instead of cursor movements.

use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use super::io::Totals;

/// When to draw the progress bar.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum When {
    /// When stderr is a terminal (the default).
    Auto,
    /// Always (`--progress`), also on a non-terminal.
    Always,
    /// Never (`--no-progress`).
    Never,
}

impl When {
    /// Whether the bar is drawn at all.
    pub fn shown(self) -> bool {
        match self {
            When::Auto => io::stderr().is_terminal(),
            When::Always => true,
            When::Never => false,
        }
    }
}

pub struct Progress {
    bar: Option<ProgressBar>,
    /// Bytes of input read so far (shown when the number of jobs is unknown).
    bytes_read: Arc<AtomicU64>,
    jobs_known: bool,
    errors_shown: u64,
    /// On a non-terminal: the lines are written here, not by the draw target.
    plain: Option<Plain>,
}

/// A stderr that is not a terminal gets the bar's latest line at most once a [`PLAIN_INTERVAL`]
/// (indicatif's own limit allows bursts), the first and the last one always.
struct Plain {
    latest: Arc<Mutex<String>>,
    written: String,
    next: Instant,
}

/// The interval between lines on a non-terminal.
const PLAIN_INTERVAL: Duration = Duration::from_secs(1);

/// `{rate}`: jobs per second, whole.
fn rate(s: &ProgressState, w: &mut dyn std::fmt::Write) {
    let _ = write!(w, "{:.0} jobs/s", s.per_sec());
}

/// `{msg}`: the bytes read (when the number of jobs is unknown) and the errors so far.
fn message(bytes_read: Option<&AtomicU64>, errors: u64) -> String {
    let mut msg = String::new();
    if let Some(b) = bytes_read {
        let _ = write!(msg, "  {} read", HumanBytes(b.load(Ordering::Relaxed)));
    }
    if errors > 0 {
        let _ = write!(msg, "  {errors} errors");
    }
    msg
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("progress template")
        .with_key("rate", rate)
        .progress_chars("#>-")
}

const JOBS_RUNNING: &str = "[{bar:30}] {pos}/{len} jobs  {rate}  ETA {eta}{msg}";
const JOBS_DONE: &str = "[{bar:30}] {pos}/{len} jobs  {rate}  in {elapsed}{msg}";
const BYTES_RUNNING: &str = "{spinner} {pos} jobs  {rate}  {elapsed}{msg}";

impl Progress {
    /// A bar for `total` jobs (or, when `None`, a counter of jobs and bytes read); hidden
    /// unless `shown`.
    pub fn new(shown: bool, total: Option<u64>, bytes_read: Arc<AtomicU64>) -> Progress {
        let mut plain = (shown && !io::stderr().is_terminal()).then(|| Plain {
            latest: Arc::default(),
            written: String::new(),
            next: Instant::now(),
        });
        let bar = shown.then(|| {
            let target = match &plain {
                None => ProgressDrawTarget::stderr_with_hz(10),
                Some(p) => ProgressDrawTarget::term_like_with_hz(
                    Box::new(PlainLines {
                        pending: Mutex::default(),
                        latest: Arc::clone(&p.latest),
                    }),
                    20,
                ),
            };
            let bar = match total {
                Some(n) => {
                    ProgressBar::with_draw_target(Some(n), target).with_style(style(JOBS_RUNNING))
                }
                None => ProgressBar::with_draw_target(None, target)
                    .with_style(style(BYTES_RUNNING).tick_chars("|/-\\ "))
                    .with_message(message(Some(bytes_read.as_ref()), 0)),
            };
            bar.tick();
            bar
        });
        if let Some(p) = &mut plain {
            p.write(true);
        }
        Progress {
            bar,
            bytes_read,
            jobs_known: total.is_some(),
            errors_shown: 0,
            plain,
        }
    }

    /// Shows the totals so far (indicatif limits the redraws); `last` draws the final state.
    pub fn draw(&mut self, totals: &Totals, last: bool) {
        let Some(bar) = &self.bar else { return };
        let errors: u64 = totals.errors.values().sum();
        if !self.jobs_known || errors != self.errors_shown || last {
            self.errors_shown = errors;
            let read = (!self.jobs_known).then_some(self.bytes_read.as_ref());
            bar.set_message(message(read, errors));
        }
        if last {
            if self.jobs_known {
                // The count of job lines is exact unless a whitespace-only line overflowed.
                if bar.length().is_some_and(|n| n != totals.jobs) {
                    bar.set_length(totals.jobs);
                }
                bar.set_style(style(JOBS_DONE));
            }
            bar.set_position(totals.jobs);
            bar.finish();
            if self.plain.is_none() {
                // The cursor stays on the bar's line: what follows (`--stats`) starts below.
                let _ = writeln!(io::stderr());
            }
        } else if bar.position() != totals.jobs {
            bar.set_position(totals.jobs);
        } else {
            bar.tick();
        }
        if let Some(p) = &mut self.plain {
            p.write(last);
        }
    }
}

impl Plain {
    /// Writes the bar's latest line if it is new and (unless `now`) the interval has passed.
    fn write(&mut self, now: bool) {
        let t = Instant::now();
        if !now && t < self.next {
            return;
        }
        let line = self
            .latest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if line.is_empty() || line == self.written {
            return;
        }
        let mut err = io::stderr().lock();
        let _ = writeln!(err, "{line}");
        let _ = err.flush();
        self.written = line;
        self.next = t + PLAIN_INTERVAL;
    }
}

/// The draw target for a stderr that is not a terminal: keeps the latest line drawn, without
/// the cursor movements and padding a terminal gets, for [`Plain`] to write.
#[derive(Debug)]
struct PlainLines {
    pending: Mutex<String>,
    latest: Arc<Mutex<String>>,
}

impl indicatif::TermLike for PlainLines {
    fn width(&self) -> u16 {
        100
    }
    fn move_cursor_up(&self, _: usize) -> io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> io::Result<()> {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        p.push_str(s);
        p.push('\n');
        Ok(())
    }
    fn write_str(&self, s: &str) -> io::Result<()> {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        p.push_str(s);
        Ok(())
    }
    fn clear_line(&self) -> io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> io::Result<()> {
        let text = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        if let Some(line) = text.lines().map(str::trim_end).rfind(|l| !l.is_empty()) {
            *self.latest.lock().unwrap_or_else(|e| e.into_inner()) = line.to_string();
        }
        Ok(())
    }
}
