//! `haforu batch`, `haforu validate` and `haforu stream`.
//!
//! batch/validate: a reader thread streams the input into the shared worker [`Pool`] (each
//! worker with its own Store and instance), and the main thread writes results as they
//! complete (or in input order with `--ordered`). A window of permits bounds the jobs between
//! reading and writing, so memory stays bounded for inputs of any length.

mod io;
mod progress;
mod stream;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, unbounded, RecvTimeoutError};
use haforu_guest::{flags, kind};

use crate::input::{self, Item, Source};
use crate::pool::{Ordered, Pool};
use crate::runtime::{Outcome, Runtime, Worker};
use crate::util::{self, exit};
use io::{display, open_input, open_output, print_stats, processed, reread_input, Totals};
use progress::Progress;
pub use progress::When as ProgressWhen;
pub use stream::{stream, StreamOptions};

/// What to do with each job.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Render and print the result.
    Render,
    /// Check the job (the engine's `VALIDATE_ONLY`, which answers `{"id","valid",..}`).
    Validate,
}

pub struct Options {
    pub input: Option<PathBuf>,
    /// Results go here instead of stdout.
    pub output: Option<PathBuf>,
    pub jobs: usize,
    pub ordered: bool,
    /// Exit 1 when any job gave an error result (without it: 0 once the input was processed).
    pub strict: bool,
    pub stats: bool,
    pub progress: ProgressWhen,
    pub mode: Mode,
}

struct Done {
    seq: u64,
    line: Vec<u8>,
    /// 0 when the job succeeded (validate: is valid), else an error-kind code.
    kind: u32,
}

/// The flags of every job list run (images inline, spliced by the host; no engine handles).
pub const JOB_FLAGS: u32 = flags::NO_HANDLES | flags::SPLICE_DATA;

/// Runs one item of a job list on a worker: the result line (validate: the engine's verdict
/// line) and 0 or the error-kind code.
fn run_item(worker: &mut Worker, mode: Mode, item: Item) -> (Vec<u8>, u32) {
    let flags = match mode {
        Mode::Render => JOB_FLAGS,
        Mode::Validate => flags::VALIDATE_ONLY | flags::NO_HANDLES,
    };
    let o = match item {
        Item::TooLong(n) => line_too_long(worker, n, flags),
        Item::Job(n, text) => worker.run_job(&text, n, flags, None),
    };
    (o.json, o.kind)
}

/// The error result (or verdict) for an input line over the host's line limit (id `line-N`).
pub fn line_too_long(worker: &mut Worker, n: u32, flags: u32) -> Outcome {
    let reason = format!("the line is longer than {} bytes", input::LINE_BYTES_MAX);
    worker.error(
        None,
        n,
        kind::LIMIT_EXCEEDED,
        &reason,
        flags,
        Instant::now(),
    )
}

/// Writes one line; flushes.
fn write_line(out: &mut dyn Write, line: &[u8]) -> std::io::Result<()> {
    out.write_all(line)
        .and_then(|_| out.write_all(b"\n"))
        .and_then(|_| out.flush())
}

/// Runs `haforu batch` / `haforu validate`; returns the exit code.
pub fn run(rt: Arc<Runtime>, opts: Options) -> i32 {
    let t0 = Instant::now();
    let show_progress = opts.progress.shown();
    // For the progress bar's total: the job list once more, to count its lines if it is JSONL
    // (a file, or stdin redirected from one; not a pipe).
    let recount = if show_progress {
        reread_input(&opts.input)
    } else {
        None
    };
    let reader = match open_input(&opts.input) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("haforu: cannot read {}: {e}", display(&opts.input));
            return exit::USAGE;
        }
    };
    // The engine recognises the envelope (`haforu_envelope_probe`) and splits a batch object
    // (`haforu_split`), in an instance of its own with room for the whole input.
    let cap = |len: usize| {
        (rt.sandbox.memory_mb << 20)
            .max((len as u64).saturating_mul(4) + (64 << 20))
            .min(4 << 30)
    };
    let mut splitter = rt.worker_with_cap(cap(0));
    let opened = input::open(reader, &mut |line| splitter.probe(line).unwrap_or(false));
    let (source, bytes_read) = match opened {
        Ok(s) => s,
        Err(e) => {
            eprintln!("haforu: reading {}: {e}", display(&opts.input));
            return exit::USAGE;
        }
    };
    let mut out = match open_output(&opts.output) {
        Ok(w) => std::io::BufWriter::with_capacity(1 << 20, w),
        Err(rc) => return rc,
    };
    // The number of jobs, for the progress bar: a batch object's, or a JSONL file's job lines
    // (counted in a pass of their own, only when the bar is drawn); unknown from a pipe.
    let total_jobs: Option<u64>;
    let mut items: Box<dyn FnMut() -> std::io::Result<Option<Item>> + Send> = match source {
        Source::Lines(mut lines) => {
            total_jobs = recount.and_then(|r| input::count_job_lines(r).ok());
            Box::new(move || lines.next_item())
        }
        Source::Object(bytes) => {
            let mut splitter = rt.worker_with_cap(cap(bytes.len()));
            match splitter.split(&bytes) {
                Ok(jobs) => {
                    drop(bytes);
                    total_jobs = Some(jobs.len() as u64);
                    let mut it = jobs.into_iter();
                    Box::new(move || Ok(it.next().map(|(n, j)| Item::Job(n, j))))
                }
                Err(o) => {
                    // The job list, not a job: its error result, in `validate` too.
                    let written = write_line(&mut out, &o.json);
                    if opts.stats {
                        let mut totals = Totals::default();
                        totals.count_outcome(&rt, &o);
                        print_stats(&rt, &totals, t0, opts.jobs);
                    }
                    if let Err(e) = written {
                        if !util::is_broken_pipe(&e) {
                            eprintln!("haforu: writing results: {e}");
                            return exit::OUTPUT;
                        }
                    }
                    return exit::ENVELOPE;
                }
            }
        }
    };
    drop(splitter);

    let workers = opts.jobs.max(1);
    let window = (workers * 64).max(1024);
    let pool = Pool::new(&rt, workers, workers * 4);
    let (done_tx, done_rx) = unbounded::<Done>();
    let (permit_tx, permit_rx) = bounded::<()>(window);
    let mode = opts.mode;
    let reader = std::thread::Builder::new()
        .name("haforu-reader".into())
        .spawn(move || -> std::io::Result<u64> {
            let mut seq = 0u64;
            while let Some(item) = items()? {
                if permit_tx.send(()).is_err() {
                    break;
                }
                let tx = done_tx.clone();
                let task = Box::new(move |w: &mut Worker| {
                    let (line, kind) = run_item(w, mode, item);
                    let _ = tx.send(Done { seq, line, kind });
                });
                if !pool.submit_blocking(task) {
                    break;
                }
                seq += 1;
            }
            pool.join();
            Ok(seq)
        })
        .expect("spawn reader");

    let mut totals = Totals::default();
    let mut ordered = Ordered::default();
    let mut progress = Progress::new(show_progress, total_jobs, bytes_read);
    let mut write_failed: Option<std::io::Error> = None;
    loop {
        let d = match done_rx.try_recv() {
            Ok(d) => d,
            Err(_) => {
                if write_failed.is_none() {
                    if let Err(e) = out.flush() {
                        write_failed = Some(e);
                    }
                }
                if write_failed.as_ref().is_some_and(util::is_broken_pipe) {
                    break;
                }
                match done_rx.recv_timeout(Duration::from_millis(100)) {
                    Ok(d) => d,
                    Err(RecvTimeoutError::Timeout) => {
                        progress.draw(&totals, false);
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        };
        let ready = if opts.ordered {
            ordered.push(d.seq, d)
        } else {
            vec![d]
        };
        for d in ready {
            totals.count(&rt, d.kind);
            if write_failed.is_none() {
                if let Err(e) = out.write_all(&d.line).and_then(|_| out.write_all(b"\n")) {
                    write_failed = Some(e);
                }
            }
            let _ = permit_rx.try_recv();
        }
        if write_failed.as_ref().is_some_and(util::is_broken_pipe) {
            // The reader is gone (`| head`): stop reading and rendering, say nothing.
            break;
        }
        progress.draw(&totals, false);
    }
    if write_failed.is_none() {
        if let Err(e) = out.flush() {
            write_failed = Some(e);
        }
    }
    progress.draw(&totals, true);
    if write_failed.as_ref().is_some_and(util::is_broken_pipe) {
        // Dropping the receivers stops the reader at its next hand-off; the process ends
        // without waiting for a job in progress. Nothing more can be written.
        drop(done_rx);
        drop(permit_rx);
        drop(out);
        if opts.stats {
            print_stats(&rt, &totals, t0, workers);
        }
        return exit::OK;
    }
    let read_result = reader.join().unwrap_or(Ok(0));
    if opts.stats {
        print_stats(&rt, &totals, t0, workers);
    }
    if let Some(e) = write_failed {
        eprintln!("haforu: writing results: {e}");
        return exit::OUTPUT;
    }
    if let Err(e) = read_result {
        eprintln!("haforu: reading {}: {e}", display(&opts.input));
        return exit::USAGE;
    }
    processed(opts.strict, !totals.errors.is_empty())
}
