//! `haforu batch`, `haforu validate` and `haforu stream`.
//!
//! batch/validate: a reader thread streams the input into a bounded task queue, `--jobs` worker
//! threads (each with its own Store and instance) run the jobs, and the main thread writes
//! results as they complete (or in input order with `--ordered`). A window of permits bounds the
//! jobs between reading and writing, so memory stays bounded for inputs of any length.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, unbounded, RecvTimeoutError};

use crate::input::{self, Item, LineReader, Source};
use crate::job::{self, ErrorKind, Outcome};
use crate::runtime::{Runtime, Worker};
use crate::util::{self, exit};

/// What to do with each job.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Render and print the result.
    Render,
    /// Check the job (fields, limits, font) without rasterising; print `{"id","valid",..}`.
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
    pub progress: bool,
    pub mode: Mode,
}

struct Task {
    seq: u64,
    line_no: u32,
    text: Vec<u8>,
}

struct Done {
    seq: u64,
    line: Vec<u8>,
    ok: bool,
    kind: Option<String>,
}

/// Totals for `--stats` and the exit code.
#[derive(Default)]
struct Totals {
    jobs: u64,
    ok: u64,
    errors: BTreeMap<String, u64>,
}

fn open_input(path: &Option<PathBuf>) -> io::Result<(Box<dyn Read + Send>, Option<u64>)> {
    match path {
        None => Ok((Box::new(io::stdin()), None)),
        Some(p) if p.as_os_str() == "-" => Ok((Box::new(io::stdin()), None)),
        Some(p) => {
            let f = File::open(p)?;
            let len = f.metadata().ok().map(|m| m.len());
            Ok((Box::new(f), len))
        }
    }
}

/// Where results go: stdout, or the `-o` file (created at start, so an unwritable one fails
/// before any job runs).
fn open_output(path: &Option<PathBuf>) -> Result<Box<dyn Write>, i32> {
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
fn processed(strict: bool, any_error: bool) -> i32 {
    if strict && any_error {
        exit::JOB_ERRORS
    } else {
        exit::OK
    }
}

/// Runs `haforu batch` / `haforu validate`; returns the exit code.
pub fn run(rt: Arc<Runtime>, opts: Options) -> i32 {
    let t0 = Instant::now();
    let (reader, total_bytes) = match open_input(&opts.input) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("haforu: cannot read {}: {e}", display(&opts.input));
            return exit::USAGE;
        }
    };
    let (source, bytes_read) = match input::open(reader) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("haforu: reading {}: {e}", display(&opts.input));
            return exit::USAGE;
        }
    };
    let mut out = match open_output(&opts.output) {
        Ok(w) => io::BufWriter::with_capacity(1 << 20, w),
        Err(rc) => return rc,
    };

    // A batch object is split by the engine itself (exact envelope semantics), in an instance of
    // its own with room for the whole input.
    let mut items: Box<dyn FnMut() -> io::Result<Option<Item>> + Send> = match source {
        Source::Lines(mut lines) => Box::new(move || lines.next_item()),
        Source::Object(bytes) => {
            let cap = (rt.sandbox.memory_mb << 20)
                .max((bytes.len() as u64).saturating_mul(4) + (64 << 20))
                .min(4 << 30);
            let mut splitter = rt.worker_with_cap(cap);
            let t_split = Instant::now();
            match splitter.split(&bytes) {
                Ok(Ok(jobs)) => {
                    drop(bytes);
                    let mut it = jobs.into_iter();
                    Box::new(move || Ok(it.next().map(|(n, j)| Item::Job(n, j))))
                }
                Ok(Err(mut json)) => {
                    job::insert_timing(&mut json, t_split);
                    let line = match opts.mode {
                        Mode::Render => json,
                        Mode::Validate => validation_line(&json, false).0,
                    };
                    let written = out
                        .write_all(&line)
                        .and_then(|_| out.write_all(b"\n"))
                        .and_then(|_| out.flush());
                    if opts.stats {
                        let mut totals = Totals::default();
                        let kind = job::error_kind_of(&line).unwrap_or_default();
                        totals.errors.insert(kind, 1);
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
                Err(f) => {
                    eprintln!("haforu: {}", f.message);
                    return exit::ENGINE;
                }
            }
        }
    };

    let workers = opts.jobs.max(1);
    let window = (workers * 64).max(1024);
    let (task_tx, task_rx) = bounded::<Task>(workers * 4);
    let (done_tx, done_rx) = unbounded::<Done>();
    let (permit_tx, permit_rx) = bounded::<()>(window);

    let reader_done_tx = done_tx.clone();
    let reader = std::thread::Builder::new()
        .name("haforu-reader".into())
        .spawn(move || -> io::Result<u64> {
            let mut seq = 0u64;
            while let Some(item) = items()? {
                if permit_tx.send(()).is_err() {
                    break;
                }
                match item {
                    Item::Job(line_no, text) => {
                        if task_tx.send(Task { seq, line_no, text }).is_err() {
                            break;
                        }
                    }
                    Item::TooLong(n) => {
                        let o = line_too_long(n);
                        let _ = reader_done_tx.send(Done {
                            seq,
                            line: o.json,
                            ok: false,
                            kind: o.kind,
                        });
                    }
                }
                seq += 1;
            }
            Ok(seq)
        })
        .expect("spawn reader");

    let mut handles = Vec::new();
    for i in 0..workers {
        let rx = task_rx.clone();
        let tx = done_tx.clone();
        let mut worker = rt.worker();
        let mode = opts.mode;
        handles.push(
            std::thread::Builder::new()
                .name(format!("haforu-worker-{i}"))
                .spawn(move || {
                    for t in rx {
                        let done = run_one(&mut worker, mode, t);
                        if tx.send(done).is_err() {
                            break;
                        }
                    }
                })
                .expect("spawn worker"),
        );
    }
    drop(task_rx);
    drop(done_tx);

    let mut totals = Totals::default();
    let mut pending: BTreeMap<u64, Done> = BTreeMap::new();
    let mut next = 0u64;
    let mut progress = Progress::new(opts.progress, total_bytes, bytes_read);
    let mut write_failed: Option<io::Error> = None;
    'collect: loop {
        let d = match done_rx.try_recv() {
            Ok(d) => d,
            Err(_) => {
                if write_failed.is_none() {
                    if let Err(e) = out.flush() {
                        write_failed = Some(e);
                    }
                }
                if write_failed.as_ref().is_some_and(util::is_broken_pipe) {
                    break 'collect;
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
        let ready: Vec<Done> = if opts.ordered {
            pending.insert(d.seq, d);
            let mut v = Vec::new();
            while let Some(d) = pending.remove(&next) {
                next += 1;
                v.push(d);
            }
            v
        } else {
            vec![d]
        };
        for d in ready {
            totals.jobs += 1;
            if d.ok {
                totals.ok += 1;
            } else {
                *totals
                    .errors
                    .entry(d.kind.unwrap_or_else(|| "internal".into()))
                    .or_default() += 1;
            }
            if write_failed.is_none() {
                if let Err(e) = out.write_all(&d.line).and_then(|_| out.write_all(b"\n")) {
                    write_failed = Some(e);
                }
            }
            let _ = permit_rx.try_recv();
        }
        if write_failed.as_ref().is_some_and(util::is_broken_pipe) {
            // The reader is gone (`| head`): stop reading and rendering, say nothing.
            break 'collect;
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
        // Dropping the receivers stops the reader and the workers at their next hand-off; the
        // process ends without waiting for a job in progress. Nothing more can be written.
        drop(done_rx);
        drop(permit_rx);
        drop(out);
        if opts.stats {
            print_stats(&rt, &totals, t0, workers);
        }
        return exit::OK;
    }
    for h in handles {
        let _ = h.join();
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

fn run_one(worker: &mut Worker, mode: Mode, t: Task) -> Done {
    match mode {
        Mode::Render => {
            let o = worker.run_job(&t.text, t.line_no, 0);
            Done {
                seq: t.seq,
                line: o.json,
                ok: o.ok,
                kind: o.kind,
            }
        }
        Mode::Validate => {
            let text = as_validation(&t.text);
            let o = worker.run_job(&text, t.line_no, 0);
            let (line, ok, kind) = validation_line(&o.json, o.ok);
            Done {
                seq: t.seq,
                line,
                ok,
                kind: o.kind.or(kind),
            }
        }
    }
}

/// The formats the contract knows; a job with one of them is checked as a `glyphs` job (all of
/// its fields, limits and font are checked, nothing is rasterised). A job with `compare` needs
/// a raster, so it is checked as a `metrics` job (which also decodes and compares its target);
/// a `glyphs` job with `compare` stays as it is (and is invalid).
const FORMATS: [&str; 5] = ["pgm", "png", "metrics", "raw", "glyphs"];

fn as_validation(job: &[u8]) -> Vec<u8> {
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(job) else {
        return job.to_vec();
    };
    let compare = v.get("compare").is_some();
    let Some(fmt) = v.pointer_mut("/rendering/format") else {
        return job.to_vec();
    };
    if fmt
        .as_str()
        .is_some_and(|f| FORMATS.contains(&f) && f != "glyphs")
    {
        let check = if compare { "metrics" } else { "glyphs" };
        *fmt = serde_json::Value::String(check.into());
        serde_json::to_vec(&v).unwrap_or_else(|_| job.to_vec())
    } else {
        job.to_vec()
    }
}

/// `{"id":..,"valid":true}` or `{"id":..,"valid":false,"error":..,"error_kind":..}`, followed
/// by the result's `"warnings":[..]` when it has any. A sweep is valid only when every point
/// is: the first failed point gives `error`/`error_kind`; the points' warnings follow the
/// job's, each as `sweep[i]: ...`. Returns the line, whether the job is valid, and the kind.
fn validation_line(result: &[u8], ok: bool) -> (Vec<u8>, bool, Option<String>) {
    let v: serde_json::Value = serde_json::from_slice(result).unwrap_or_default();
    let json = |v: &serde_json::Value| serde_json::to_string(v).unwrap_or_else(|_| "null".into());
    let mut warnings: Vec<serde_json::Value> =
        v["warnings"].as_array().cloned().unwrap_or_default();
    let (mut error, mut kind) = (v["error"].clone(), v["error_kind"].clone());
    let mut valid = ok;
    for (i, p) in v["points"].as_array().into_iter().flatten().enumerate() {
        if valid && p["status"] == "error" {
            valid = false;
            error = p["error"].clone();
            kind = p["error_kind"].clone();
        }
        for w in p["warnings"].as_array().into_iter().flatten() {
            let w = w.as_str().unwrap_or_default();
            warnings.push(serde_json::Value::String(format!("sweep[{i}]: {w}")));
        }
    }
    let mut line = if valid {
        format!("{{\"id\":{},\"valid\":true", json(&v["id"]))
    } else {
        format!(
            "{{\"id\":{},\"valid\":false,\"error\":{},\"error_kind\":{}",
            json(&v["id"]),
            json(&error),
            json(&kind)
        )
    };
    if !warnings.is_empty() {
        line.push_str(&format!(
            ",\"warnings\":{}",
            json(&serde_json::Value::Array(warnings))
        ));
    }
    line.push('}');
    let kind = (!valid).then(|| kind.as_str().unwrap_or("internal").to_string());
    (line.into_bytes(), valid, kind)
}

fn print_stats(rt: &Runtime, totals: &Totals, t0: Instant, workers: usize) {
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

fn display(p: &Option<PathBuf>) -> String {
    p.as_ref()
        .map_or_else(|| "stdin".to_string(), |p| p.display().to_string())
}

/// A one-line progress display on stderr (only when stderr is a terminal).
struct Progress {
    on: bool,
    total_bytes: Option<u64>,
    bytes_read: Arc<AtomicU64>,
    started: Instant,
    last: Instant,
}

impl Progress {
    fn new(on: bool, total_bytes: Option<u64>, bytes_read: Arc<AtomicU64>) -> Progress {
        let now = Instant::now();
        Progress {
            on: on && io::stderr().is_terminal(),
            total_bytes,
            bytes_read,
            started: now,
            last: now,
        }
    }

    fn draw(&mut self, totals: &Totals, last: bool) {
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

pub struct StreamOptions {
    pub input: Option<PathBuf>,
    pub output: Option<PathBuf>,
    pub strict: bool,
    pub stats: bool,
}

/// Runs `haforu stream`: one job per line in, one result per line out, flushed per line, in
/// input order. A bad line gives an error result; only the end of input stops it.
pub fn stream(rt: Arc<Runtime>, opts: StreamOptions) -> i32 {
    let t0 = Instant::now();
    let reader = match open_input(&opts.input) {
        Ok((r, _)) => r,
        Err(e) => {
            eprintln!("haforu: cannot read {}: {e}", display(&opts.input));
            return exit::USAGE;
        }
    };
    let mut lines = LineReader::new(Box::new(io::BufReader::new(reader)));
    let mut out = match open_output(&opts.output) {
        Ok(w) => w,
        Err(rc) => return rc,
    };
    let mut worker = rt.worker();
    let mut totals = Totals::default();
    let rc = loop {
        let item = match lines.next_item() {
            Ok(Some(i)) => i,
            Ok(None) => break processed(opts.strict, !totals.errors.is_empty()),
            Err(e) => {
                eprintln!("haforu: reading {}: {e}", display(&opts.input));
                break exit::USAGE;
            }
        };
        let o = match item {
            Item::Job(n, text) => worker.run_job(&text, n, 0),
            Item::TooLong(n) => line_too_long(n),
        };
        totals.jobs += 1;
        match o.kind {
            None => totals.ok += 1,
            Some(kind) => *totals.errors.entry(kind).or_default() += 1,
        }
        if let Err(e) = out
            .write_all(&o.json)
            .and_then(|_| out.write_all(b"\n"))
            .and_then(|_| out.flush())
        {
            if util::is_broken_pipe(&e) {
                break exit::OK;
            }
            eprintln!("haforu: writing results: {e}");
            break exit::OUTPUT;
        }
    };
    if opts.stats {
        print_stats(&rt, &totals, t0, 1);
    }
    rc
}

/// The error result for an input line over the host's line limit (its id is `line-N`).
fn line_too_long(n: u32) -> Outcome {
    Outcome::error(
        &format!("line-{n}"),
        ErrorKind::LimitExceeded,
        &format!(
            "job line-{n}: the line is longer than {} bytes",
            input::LINE_BYTES_MAX
        ),
        None,
        Instant::now(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_rewrites_known_formats_only() {
        let j = br#"{"id":"a","rendering":{"format":"png","width":3}}"#;
        let v: serde_json::Value = serde_json::from_slice(&as_validation(j)).unwrap();
        assert_eq!(v["rendering"]["format"], "glyphs");
        let j = br#"{"id":"a","rendering":{"format":"png"},"compare":{"target":1}}"#;
        let v: serde_json::Value = serde_json::from_slice(&as_validation(j)).unwrap();
        assert_eq!(v["rendering"]["format"], "metrics");
        let j = br#"{"id":"a","rendering":{"format":"glyphs"},"compare":{"target":1}}"#;
        assert_eq!(as_validation(j), j.to_vec());
        let j = br#"{"id":"a","rendering":{"format":"tiff"}}"#;
        assert_eq!(as_validation(j), j.to_vec());
        assert_eq!(as_validation(b"{bad"), b"{bad".to_vec());
    }

    #[test]
    fn validation_lines() {
        let line = |r: &[u8], ok: bool| validation_line(r, ok).0;
        let l = line(br#"{"id":"a","status":"success"}"#, true);
        assert_eq!(l, br#"{"id":"a","valid":true}"#.to_vec());
        let l = line(
            br#"{"id":"b","status":"error","error":"x","error_kind":"bad_job"}"#,
            false,
        );
        assert_eq!(
            l,
            br#"{"id":"b","valid":false,"error":"x","error_kind":"bad_job"}"#.to_vec()
        );
        let l = line(
            br#"{"id":"c","status":"success","glyphs":[],"warnings":["unknown key `font.variation` ignored"]}"#,
            true,
        );
        assert_eq!(
            l,
            br#"{"id":"c","valid":true,"warnings":["unknown key `font.variation` ignored"]}"#
                .to_vec()
        );
        // A sweep: the first failed point makes it invalid; point warnings are named.
        let (l, ok, kind) = validation_line(
            br#"{"id":"s","status":"success","points":[{"status":"success","warnings":["w0"]},{"status":"error","error":"e1","error_kind":"bad_job"},{"status":"error","error":"e2","error_kind":"limit_exceeded"}],"warnings":["j"]}"#,
            true,
        );
        assert_eq!(
            l,
            br#"{"id":"s","valid":false,"error":"e1","error_kind":"bad_job","warnings":["j","sweep[0]: w0"]}"#
                .to_vec()
        );
        assert!(!ok);
        assert_eq!(kind.as_deref(), Some("bad_job"));
        let (_, ok, kind) = validation_line(
            br#"{"id":"s","status":"success","points":[{"status":"success"}]}"#,
            true,
        );
        assert!(ok && kind.is_none());
    }
}
